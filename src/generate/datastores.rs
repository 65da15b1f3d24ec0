//! Datastores: a StatefulSet with persistent volumes, a headless Service for
//! stable pod identities, a client Service, a ServiceAccount and the
//! credentials Secret reference — for PostgreSQL, Redis, Neo4j, MinIO and
//! RabbitMQ, each with the probes and writable paths its image needs.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::description::resolve::{LimitsR, Requests, Resolved, Store};
use crate::description::{Bytes, Cpu, Engine};

/// What kubeproof knows about each engine's official image.
struct EngineInfo {
    image: &'static str,
    version: &'static str,
    /// The UID the image's server runs as.
    uid: u32,
    /// (name, port); the first is what clients connect to.
    ports: &'static [(&'static str, u16)],
    data_path: &'static str,
    /// Paths the server writes besides its data (emptyDirs, as the root
    /// filesystem is read-only).
    scratch: &'static [&'static str],
    /// Secret keys; the env file lists them.
    keys: &'static [&'static str],
}

fn info(engine: Engine) -> EngineInfo {
    match engine {
        Engine::Postgres => EngineInfo {
            image: "docker.io/library/postgres",
            version: "16.4",
            uid: 999,
            ports: &[("postgres", 5432)],
            data_path: "/var/lib/postgresql/data",
            scratch: &["/var/run/postgresql", "/tmp"],
            keys: &["POSTGRES_USER", "POSTGRES_PASSWORD"],
        },
        Engine::Redis => EngineInfo {
            image: "docker.io/library/redis",
            version: "7.4.1",
            uid: 999,
            ports: &[("redis", 6379)],
            data_path: "/data",
            scratch: &["/tmp"],
            keys: &["REDIS_PASSWORD"],
        },
        Engine::Neo4j => EngineInfo {
            image: "docker.io/library/neo4j",
            version: "5.24.1",
            uid: 7474,
            ports: &[("bolt", 7687), ("http", 7474)],
            data_path: "/data",
            scratch: &["/logs", "/var/lib/neo4j/run", "/tmp"],
            keys: &["NEO4J_PASSWORD"],
        },
        Engine::Minio => EngineInfo {
            image: "quay.io/minio/minio",
            version: "RELEASE.2024-10-13T13-34-11Z",
            uid: 1000,
            ports: &[("s3", 9000), ("console", 9001)],
            data_path: "/data",
            scratch: &["/tmp"],
            keys: &["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"],
        },
        Engine::Rabbitmq => EngineInfo {
            image: "docker.io/library/rabbitmq",
            version: "3.13.7-management",
            uid: 999,
            ports: &[("amqp", 5672), ("management", 15672), ("prometheus", 15692)],
            data_path: "/var/lib/rabbitmq",
            scratch: &["/tmp"],
            keys: &["RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS"],
        },
    }
}

/// Where Prometheus scrapes a datastore with `metrics: true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scrape {
    /// The pod (and Service) port's name.
    pub port_name: &'static str,
    pub port: u16,
    pub path: &'static str,
}

/// An exporter sidecar that reads the engine over localhost.
struct Exporter {
    name: &'static str,
    image: &'static str,
    /// Path that answers without querying the datastore (liveness).
    health: &'static str,
}

/// The metrics endpoint of an engine: an exporter sidecar's port (postgres,
/// redis) or the server's own (minio, rabbitmq). Neo4j Community has none.
pub fn scrape(engine: Engine) -> Option<Scrape> {
    match engine {
        Engine::Postgres => Some(Scrape { port_name: "metrics", port: 9187, path: "/metrics" }),
        Engine::Redis => Some(Scrape { port_name: "metrics", port: 9121, path: "/metrics" }),
        // Public (no bearer token) with MINIO_PROMETHEUS_AUTH_TYPE=public.
        Engine::Minio => Some(Scrape { port_name: "s3", port: 9000, path: "/minio/v2/metrics/cluster" }),
        // The rabbitmq_prometheus plugin, enabled in the official image.
        Engine::Rabbitmq => Some(Scrape { port_name: "prometheus", port: 15692, path: "/metrics" }),
        Engine::Neo4j => None,
    }
}

/// The scrape endpoint of `store` when it has `metrics: true`.
pub fn store_scrape(store: &Store) -> Option<Scrape> {
    if store.metrics { scrape(store.engine) } else { None }
}

fn exporter(engine: Engine) -> Option<Exporter> {
    match engine {
        Engine::Postgres => Some(Exporter {
            name: "postgres-exporter",
            image: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
            health: "/",
        }),
        Engine::Redis => Some(Exporter {
            name: "redis-exporter",
            image: "docker.io/oliver006/redis_exporter:v1.66.0",
            health: "/health",
        }),
        _ => None,
    }
}

/// The exporter sidecar of `store`, if its engine needs one: credentials from
/// the datastore's Secret, the engine on localhost, the same security
/// context as every container.
fn exporter_container(store: &Store, secret: &str) -> Option<core::Container> {
    let scrape = store_scrape(store)?;
    let x = exporter(store.engine)?;
    let keys = info(store.engine).keys;
    let env = match store.engine {
        Engine::Postgres => vec![
            env_value("DATA_SOURCE_URI", &format!("localhost:5432/{}?sslmode=disable", store.database)),
            env_secret("DATA_SOURCE_USER", secret, keys[0]),
            env_secret("DATA_SOURCE_PASS", secret, keys[1]),
        ],
        _ => vec![env_value("REDIS_ADDR", "redis://localhost:6379"), env_secret("REDIS_PASSWORD", secret, keys[0])],
    };
    let port = IntOrString::String(scrape.port_name.into());
    const MI: u64 = 1024 * 1024;
    Some(core::Container {
        name: x.name.into(),
        image: Some(x.image.into()),
        image_pull_policy: Some("IfNotPresent".into()),
        ports: Some(vec![core::ContainerPort {
            name: Some(scrape.port_name.into()),
            container_port: scrape.port.into(),
            protocol: Some("TCP".into()),
            ..Default::default()
        }]),
        env: Some(env),
        resources: Some(resources(
            &Requests { cpu: Cpu::from_millis(50), memory: Bytes(64 * MI) },
            &LimitsR { cpu: None, memory: Bytes(128 * MI) },
        )),
        // Liveness only: a readiness probe would take the datastore out of
        // its Service whenever the exporter is unwell (a pod is Ready only
        // when all its containers are). KP204 leaves metrics-only sidecars alone.
        liveness_probe: Some(core::Probe {
            http_get: Some(core::HTTPGetAction {
                path: Some(x.health.into()),
                port,
                scheme: Some("HTTP".into()),
                ..Default::default()
            }),
            period_seconds: Some(20),
            timeout_seconds: Some(3),
            failure_threshold: Some(3),
            success_threshold: Some(1),
            ..Default::default()
        }),
        security_context: Some(container_security()),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    })
}

/// Requests when the description gives none.
pub fn default_requests(engine: Engine) -> (Cpu, Bytes) {
    const MI: u64 = 1024 * 1024;
    match engine {
        Engine::Postgres => (Cpu::from_millis(250), Bytes(512 * MI)),
        Engine::Redis => (Cpu::from_millis(100), Bytes(256 * MI)),
        Engine::Neo4j => (Cpu::from_millis(500), Bytes(2048 * MI)),
        Engine::Minio => (Cpu::from_millis(250), Bytes(512 * MI)),
        Engine::Rabbitmq => (Cpu::from_millis(250), Bytes(512 * MI)),
    }
}

/// The image for an engine and an optional version.
pub fn image(engine: Engine, version: Option<&str>) -> String {
    let i = info(engine);
    format!("{}:{}", i.image, version.unwrap_or(i.version))
}

/// The UID the engine's image runs as.
pub fn uid(engine: Engine) -> u32 {
    info(engine).uid
}

/// Writable scratch paths the engine's image needs (emptyDirs under a
/// read-only root).
pub fn scratch_paths(engine: Engine) -> &'static [&'static str] {
    info(engine).scratch
}

/// Where the engine keeps its data (the volume's mount path).
pub fn data_path(engine: Engine) -> &'static str {
    info(engine).data_path
}

pub fn client_port(engine: Engine) -> u16 {
    info(engine).ports[0].1
}

pub fn credential_keys(engine: Engine) -> &'static [&'static str] {
    info(engine).keys
}

/// The credentials Secret of `store`, in `namespace` (its own, or a client's).
pub fn credentials(store: &Store, namespace: &str) -> SecretSource {
    SecretSource {
        name: format!("{}-credentials", store.name),
        namespace: namespace.to_string(),
        file: format!("{}.env", store.name),
        keys: info(store.engine).keys.iter().map(|k| k.to_string()).collect(),
    }
}

pub fn datastore(r: &Resolved, store: &Store, stack: &mut Stack) {
    let info = info(store.engine);
    let labels = labels(&r.platform, &store.name, "datastore");
    let ns = store.namespace.as_str();
    let secret = format!("{}-credentials", store.name);
    let headless = format!("{}-headless", store.name);
    stack.secrets.push(credentials(store, ns));

    stack.push(&core::ServiceAccount {
        metadata: meta(&store.name, ns, &labels),
        automount_service_account_token: Some(false),
        ..Default::default()
    });

    // The exporter sidecar's port joins the engine's (minio and rabbitmq
    // serve metrics on a port they already have).
    let sidecar = exporter_container(store, &secret);
    let mut ports: Vec<(&str, u16)> = info.ports.to_vec();
    if sidecar.is_some()
        && let Some(s) = store_scrape(store)
    {
        ports.push((s.port_name, s.port));
    }
    let service_ports = || -> Vec<core::ServicePort> {
        ports
            .iter()
            .map(|(name, port)| core::ServicePort {
                name: Some((*name).into()),
                port: (*port).into(),
                target_port: Some(IntOrString::String((*name).into())),
                protocol: Some("TCP".into()),
                app_protocol: matches!(*name, "http" | "s3" | "console" | "management" | "prometheus" | "metrics")
                    .then(|| "http".into()),
                ..Default::default()
            })
            .collect()
    };
    // Headless: stable per-pod DNS names; published before readiness so
    // peers can find each other while starting.
    stack.push(&core::Service {
        metadata: meta(&headless, ns, &labels),
        spec: Some(core::ServiceSpec {
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(selector_labels(&r.platform, &store.name)),
            ports: Some(service_ports()),
            ..Default::default()
        }),
        ..Default::default()
    });
    stack.push(&core::Service {
        metadata: meta(&store.name, ns, &labels),
        spec: Some(core::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(&r.platform, &store.name)),
            ports: Some(service_ports()),
            ..Default::default()
        }),
        ..Default::default()
    });

    let mut volumes = Vec::new();
    let mut mounts =
        vec![core::VolumeMount { name: "data".into(), mount_path: info.data_path.into(), ..Default::default() }];
    for (i, path) in info.scratch.iter().enumerate() {
        let (v, m) = scratch(&format!("scratch-{i}"), path);
        volumes.push(v);
        mounts.push(m);
    }

    let (mut env, command, args, live, ready) = engine_runtime(store, &secret);
    if store.metrics && store.engine == Engine::Minio {
        // Prometheus scrapes without a bearer token (the NetworkPolicy admits
        // only the monitoring namespace to it besides the clients).
        env.push(env_value("MINIO_PROMETHEUS_AUTH_TYPE", "public"));
    }
    let container = core::Container {
        name: store.engine.as_str().into(),
        image: Some(store.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command,
        args,
        ports: Some(
            info.ports
                .iter()
                .map(|(name, port)| core::ContainerPort {
                    name: Some((*name).into()),
                    container_port: (*port).into(),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                })
                .collect(),
        ),
        env: Some(env),
        resources: Some(resources(&store.requests, &store.limits)),
        // Datastores may take long to recover after a crash: the startup
        // probe gives them five minutes before liveness applies.
        startup_probe: Some(core::Probe { period_seconds: Some(10), failure_threshold: Some(30), ..ready.clone() }),
        liveness_probe: Some(live),
        readiness_probe: Some(ready),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    };

    stack.push(&apps::StatefulSet {
        metadata: meta(&store.name, ns, &labels),
        spec: Some(apps::StatefulSetSpec {
            replicas: Some(store.replicas as i32),
            service_name: Some(headless),
            selector: selector(&r.platform, &store.name),
            pod_management_policy: Some("OrderedReady".into()),
            update_strategy: Some(apps::StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                ..Default::default()
            }),
            // Data outlives the StatefulSet: deleting or scaling it keeps the volumes.
            persistent_volume_claim_retention_policy: Some(apps::StatefulSetPersistentVolumeClaimRetentionPolicy {
                when_deleted: Some("Retain".into()),
                when_scaled: Some("Retain".into()),
            }),
            template: core::PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels.clone()), ..Default::default() }),
                spec: Some(core::PodSpec {
                    service_account_name: Some(store.name.clone()),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(info.uid)),
                    termination_grace_period_seconds: Some(60),
                    affinity: Some(super::workloads::anti_affinity(&r.platform, &store.name)),
                    containers: std::iter::once(container).chain(sidecar).collect(),
                    volumes: Some(volumes),
                    enable_service_links: Some(false),
                    ..Default::default()
                }),
            },
            volume_claim_templates: Some(vec![core::PersistentVolumeClaim {
                metadata: ObjectMeta { name: Some("data".into()), labels: Some(labels.clone()), ..Default::default() },
                spec: Some(core::PersistentVolumeClaimSpec {
                    access_modes: Some(vec!["ReadWriteOnce".into()]),
                    storage_class_name: store.storage_class.clone().or_else(|| r.storage_class.clone()),
                    resources: Some(core::VolumeResourceRequirements {
                        requests: Some(BTreeMap::from([("storage".into(), quantity(store.storage))])),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    });
}

type Runtime = (Vec<core::EnvVar>, Option<Vec<String>>, Option<Vec<String>>, core::Probe, core::Probe);

/// Environment, command and probes per engine. Probe commands run without
/// Kubernetes' `$(VAR)` expansion, so they use a shell where they need a
/// variable.
fn engine_runtime(store: &Store, secret: &str) -> Runtime {
    let exec = |cmd: &str, period: i32, timeout: i32| core::Probe {
        exec: Some(core::ExecAction { command: Some(vec!["sh".into(), "-c".into(), cmd.into()]) }),
        period_seconds: Some(period),
        timeout_seconds: Some(timeout),
        failure_threshold: Some(3),
        success_threshold: Some(1),
        ..Default::default()
    };
    let tcp = |port: &str, period: i32| core::Probe {
        tcp_socket: Some(core::TCPSocketAction { port: IntOrString::String(port.into()), host: None }),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(3),
        success_threshold: Some(1),
        ..Default::default()
    };
    let http = |path: &str, port: &str, period: i32| core::Probe {
        http_get: Some(core::HTTPGetAction {
            path: Some(path.into()),
            port: IntOrString::String(port.into()),
            scheme: Some("HTTP".into()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(3),
        success_threshold: Some(1),
        ..Default::default()
    };
    let keys = info(store.engine).keys;
    let from_secret = |name: &str, key: &str| env_secret(name, secret, key);
    match store.engine {
        Engine::Postgres => {
            let ready = "pg_isready -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"";
            (
                vec![
                    from_secret("POSTGRES_USER", keys[0]),
                    from_secret("POSTGRES_PASSWORD", keys[1]),
                    env_value("POSTGRES_DB", &store.database),
                    // A subdirectory: the volume root may hold lost+found.
                    env_value("PGDATA", "/var/lib/postgresql/data/pgdata"),
                ],
                None,
                None,
                exec(ready, 10, 5),
                exec(ready, 5, 3),
            )
        }
        Engine::Redis => (
            vec![from_secret("REDIS_PASSWORD", keys[0]), from_secret("REDISCLI_AUTH", keys[0])],
            Some(vec!["redis-server".into()]),
            Some(vec![
                "--requirepass".into(),
                "$(REDIS_PASSWORD)".into(),
                "--appendonly".into(),
                "yes".into(),
                "--dir".into(),
                "/data".into(),
            ]),
            tcp("redis", 10),
            exec("redis-cli -h 127.0.0.1 ping | grep -q PONG", 5, 3),
        ),
        Engine::Neo4j => (
            vec![
                from_secret("NEO4J_PASSWORD", keys[0]),
                env_value("NEO4J_AUTH", "neo4j/$(NEO4J_PASSWORD)"),
                env_value("NEO4J_server_directories_logs", "/logs"),
            ],
            None,
            None,
            tcp("bolt", 10),
            http("/", "http", 5),
        ),
        Engine::Minio => (
            vec![from_secret("MINIO_ROOT_USER", keys[0]), from_secret("MINIO_ROOT_PASSWORD", keys[1])],
            Some(vec!["minio".into()]),
            Some(vec!["server".into(), "/data".into(), "--console-address".into(), ":9001".into()]),
            http("/minio/health/live", "s3", 10),
            http("/minio/health/ready", "s3", 5),
        ),
        Engine::Rabbitmq => (
            vec![from_secret("RABBITMQ_DEFAULT_USER", keys[0]), from_secret("RABBITMQ_DEFAULT_PASS", keys[1])],
            None,
            None,
            exec("rabbitmq-diagnostics -q ping", 30, 15),
            tcp("amqp", 10),
        ),
    }
}
