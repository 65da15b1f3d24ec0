//! Datastores: a StatefulSet with persistent volumes, a headless Service for
//! stable pod identities, a client Service, a ServiceAccount and the
//! credentials Secret reference. What each engine needs — image, ports,
//! paths, probes, exporter — comes from [`crate::engines`].

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::description::resolve::{LimitsR, Requests, Resolved, Store};
use crate::description::{Bytes, Cpu};
use crate::engines::{self, Check, Env, Port, Scrape};

/// The scrape endpoint of `store` when it has `metrics: true`.
pub fn store_scrape(store: &Store) -> Option<Scrape> {
    if store.metrics { store.engine.metrics().ok().map(|m| m.scrape) } else { None }
}

/// An engine's environment variable; secret keys are read from `secret`.
pub fn env_var(e: &Env, secret: &str) -> core::EnvVar {
    match e {
        Env::Value { name, value } => env_value(name, value),
        Env::Secret { name, key } => env_secret(name, secret, key),
    }
}

fn env_vars(env: &[Env], secret: &str) -> Vec<core::EnvVar> {
    env.iter().map(|e| env_var(e, secret)).collect()
}

/// The credentials Secret of `store`, in `namespace` (its own, or a client's),
/// with the percent-encoded keys the URLs of `env` templates read.
pub fn credentials(r: &Resolved, store: &Store, namespace: &str) -> SecretSource {
    let mut keys: Vec<String> = store.engine.credential_keys().iter().map(|k| k.to_string()).collect();
    // The encoded keys the engine's default URL reads, then those templates read.
    for e in store.engine.wiring("P", &store.instance()).env {
        if let Env::Secret { key, .. } = e
            && !keys.iter().any(|k| k == key)
        {
            keys.push(key.to_string());
        }
    }
    for key in crate::description::template::encoded_keys(r, store) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    SecretSource {
        name: format!("{}-credentials", store.name),
        namespace: namespace.to_string(),
        file: format!("{}.env", store.name),
        keys,
    }
}

pub fn datastore(r: &Resolved, store: &Store, stack: &mut Stack) {
    let labels = labels(&r.platform, &store.name, "datastore");
    let ns = store.namespace.as_str();
    let secret = format!("{}-credentials", store.name);
    if store.auth {
        stack.secrets.push(credentials(r, store, ns));
    }

    stack.push(&core::ServiceAccount {
        metadata: meta(&store.name, ns, &labels),
        automount_service_account_token: Some(false),
        ..Default::default()
    });

    let sidecar = exporter_container(store, &secret);
    services(r, store, sidecar.is_some(), &labels, stack);
    let (server, volumes) = server_container(store, &secret);
    let init = seed_containers(store, &server);
    let containers = std::iter::once(server).chain(sidecar).collect();
    let mut set = stateful_set(r, store, &labels, containers, volumes);
    if let Some(pod) = set.spec.as_mut().and_then(|s| s.template.spec.as_mut())
        && !init.is_empty()
    {
        pod.init_containers = Some(init);
    }
    stack.push(&set);
}

/// The headless and the client Service. The exporter sidecar's port joins
/// the engine's (minio and rabbitmq serve metrics on a port they already have).
fn services(r: &Resolved, store: &Store, sidecar: bool, labels: &BTreeMap<String, String>, stack: &mut Stack) {
    let ns = store.namespace.as_str();
    let mut ports: Vec<Port> = store.engine.ports().to_vec();
    if sidecar && let Some(s) = store_scrape(store) {
        ports.push(Port::http(s.port_name, s.port));
    }
    let service_ports = || -> Vec<core::ServicePort> {
        ports
            .iter()
            .map(|p| core::ServicePort {
                name: Some(p.name.into()),
                port: p.number.into(),
                target_port: Some(IntOrString::String(p.name.into())),
                protocol: Some("TCP".into()),
                app_protocol: p.http.then(|| "http".into()),
                ..Default::default()
            })
            .collect()
    };
    // Headless: stable per-pod DNS names; published before readiness so
    // peers can find each other while starting.
    stack.push(&core::Service {
        metadata: meta(&format!("{}-headless", store.name), ns, labels),
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
        metadata: meta(&store.name, ns, labels),
        spec: Some(core::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(&r.platform, &store.name)),
            ports: Some(service_ports()),
            ..Default::default()
        }),
        ..Default::default()
    });
}

/// The engine's own container and its scratch volumes (the data volume is
/// the StatefulSet's claim).
fn server_container(store: &Store, secret: &str) -> (core::Container, Vec<core::Volume>) {
    let engine = store.engine;
    let mut volumes = Vec::new();
    if store.storage.is_none() {
        // `storage: ephemeral`: the data volume is an emptyDir, not a claim.
        volumes.push(scratch("data", engine.data_path()).0);
    }
    let mut mounts =
        vec![core::VolumeMount { name: "data".into(), mount_path: engine.data_path().into(), ..Default::default() }];
    for (i, path) in engine.scratch_paths().iter().enumerate() {
        let (v, m) = scratch(&format!("scratch-{i}"), path);
        volumes.push(v);
        mounts.push(m);
    }
    if let Some((path, size)) = engine.memory_path(store.limits.memory.get()) {
        let (mut v, m) = scratch("memory", path);
        v.empty_dir =
            Some(core::EmptyDirVolumeSource { medium: Some("Memory".into()), size_limit: Some(quantity(Bytes(size))) });
        volumes.push(v);
        mounts.push(m);
    }
    let server = engine.server(&store.instance());
    let mut env = env_vars(&server.env, secret);
    if store.metrics
        && let Ok(m) = engine.metrics()
    {
        env.extend(m.server_env.iter().map(|(name, value)| env_value(name, value)));
    }
    let strings = |s: Option<&[&str]>| s.map(|s| s.iter().map(|a| a.to_string()).collect());
    let ready = probe(&server.readiness);
    let container = core::Container {
        name: engine.name().into(),
        image: Some(store.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: strings(server.command),
        args: server.args,
        ports: Some(
            engine
                .ports()
                .iter()
                .map(|p| core::ContainerPort {
                    name: Some(p.name.into()),
                    container_port: p.number.into(),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                })
                .collect(),
        ),
        env: (!env.is_empty()).then_some(env),
        resources: Some(resources(&store.requests, &store.limits)),
        // Datastores may take long to recover after a crash: the startup
        // probe gives them five minutes before liveness applies.
        startup_probe: Some(core::Probe { period_seconds: Some(10), failure_threshold: Some(30), ..ready.clone() }),
        liveness_probe: Some(probe(&server.liveness)),
        readiness_probe: Some(ready),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    };
    (container, volumes)
}

/// Init containers copying the image's files into the seeded scratch
/// paths (their emptyDir hides them): the server's image, user and security
/// context, the emptyDir mounted at `/seed`.
fn seed_containers(store: &Store, server: &core::Container) -> Vec<core::Container> {
    let mounts = server.volume_mounts.as_deref().unwrap_or_default();
    let seeded = store.engine.seeded_paths();
    mounts
        .iter()
        .filter(|m| seeded.contains(&m.mount_path.as_str()))
        .map(|m| core::Container {
            name: format!("seed-{}", m.name),
            image: server.image.clone(),
            image_pull_policy: server.image_pull_policy.clone(),
            command: Some(vec!["cp".into(), "-R".into(), format!("{}/.", m.mount_path), "/seed/".into()]),
            resources: server.resources.clone(),
            security_context: Some(container_security()),
            volume_mounts: Some(vec![core::VolumeMount {
                name: m.name.clone(),
                mount_path: "/seed".into(),
                ..Default::default()
            }]),
            termination_message_policy: Some("FallbackToLogsOnError".into()),
            ..Default::default()
        })
        .collect()
}

/// An engine's probe. Exec probes run without Kubernetes' `$(VAR)`
/// expansion, so they run in a shell, which expands `$VAR`.
fn probe(p: &engines::Probe) -> core::Probe {
    let port = |name: &str| IntOrString::String(name.into());
    let mut out = core::Probe {
        period_seconds: Some(p.period),
        timeout_seconds: Some(p.timeout),
        failure_threshold: Some(3),
        success_threshold: Some(1),
        ..Default::default()
    };
    match p.check {
        Check::Exec(cmd) => {
            out.exec = Some(core::ExecAction { command: Some(vec!["sh".into(), "-c".into(), cmd.into()]) });
        }
        Check::Tcp(name) => out.tcp_socket = Some(core::TCPSocketAction { port: port(name), host: None }),
        Check::Http { path, port: name } => {
            out.http_get = Some(core::HTTPGetAction {
                path: Some(path.into()),
                port: port(name),
                scheme: Some("HTTP".into()),
                ..Default::default()
            });
        }
    }
    out
}

fn stateful_set(
    r: &Resolved,
    store: &Store,
    labels: &BTreeMap<String, String>,
    containers: Vec<core::Container>,
    volumes: Vec<core::Volume>,
) -> apps::StatefulSet {
    apps::StatefulSet {
        metadata: meta(&store.name, &store.namespace, labels),
        spec: Some(apps::StatefulSetSpec {
            replicas: Some(store.replicas as i32),
            service_name: Some(format!("{}-headless", store.name)),
            selector: selector(&r.platform, &store.name),
            pod_management_policy: Some("OrderedReady".into()),
            update_strategy: Some(apps::StatefulSetUpdateStrategy {
                type_: Some("RollingUpdate".into()),
                ..Default::default()
            }),
            // Data outlives the StatefulSet: deleting or scaling it keeps the volumes.
            persistent_volume_claim_retention_policy: store.storage.map(|_| {
                apps::StatefulSetPersistentVolumeClaimRetentionPolicy {
                    when_deleted: Some("Retain".into()),
                    when_scaled: Some("Retain".into()),
                }
            }),
            template: core::PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels.clone()), ..Default::default() }),
                spec: Some(core::PodSpec {
                    service_account_name: Some(store.name.clone()),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(store.engine.user())),
                    termination_grace_period_seconds: Some(60),
                    affinity: Some(super::workloads::anti_affinity(&r.platform, &store.name)),
                    containers,
                    volumes: Some(volumes),
                    enable_service_links: Some(false),
                    ..Default::default()
                }),
            },
            volume_claim_templates: store.storage.map(|size| {
                vec![core::PersistentVolumeClaim {
                    metadata: ObjectMeta {
                        name: Some("data".into()),
                        labels: Some(labels.clone()),
                        ..Default::default()
                    },
                    spec: Some(core::PersistentVolumeClaimSpec {
                        access_modes: Some(vec!["ReadWriteOnce".into()]),
                        storage_class_name: store.storage_class.clone().or_else(|| r.storage_class.clone()),
                        resources: Some(core::VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([("storage".into(), quantity(size))])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The exporter sidecar of `store`, if it has `metrics: true` and its engine
/// needs one: credentials from the datastore's Secret, the engine on
/// localhost, the same security context as every container.
fn exporter_container(store: &Store, secret: &str) -> Option<core::Container> {
    let scrape = store_scrape(store)?;
    let x = store.engine.metrics().ok()?.exporter?;
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
        env: Some(env_vars(&(x.env)(&store.instance()), secret)),
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
