//! Namespaces and services: Deployment, Service, ServiceAccount, ConfigMap,
//! HorizontalPodAutoscaler, PodDisruptionBudget, PVCs and RBAC.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1 as apps;
use k8s_openapi::api::autoscaling::v2 as hpa;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::policy::v1 as policy;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::*;
use crate::description::resolve::{ExtraR, Handler, JobR, PdbR, Port, ProbeR, Resolved, Svc, VolKind};
use crate::description::wiring::Var;
use crate::description::{AccessMode, Mesh, Protocol};
use crate::model::{features, histogram};

/// One Namespace per namespace in use, enforcing Pod Security "restricted".
pub fn namespaces(r: &Resolved, stack: &mut Stack) {
    let version = format!("v{}", r.kube);
    for ns in r.namespaces() {
        let mut labels = BTreeMap::from([
            ("app.kubernetes.io/part-of".to_string(), r.platform.clone()),
            ("app.kubernetes.io/managed-by".to_string(), MANAGED_BY.to_string()),
        ]);
        for mode in ["enforce", "audit", "warn"] {
            labels.insert(format!("pod-security.kubernetes.io/{mode}"), "restricted".into());
            labels.insert(format!("pod-security.kubernetes.io/{mode}-version"), version.clone());
        }
        if r.mesh == Mesh::Istio {
            labels.insert("istio-injection".into(), "enabled".into());
        }
        stack.push(&core::Namespace {
            metadata: ObjectMeta { name: Some(ns.to_string()), labels: Some(labels), ..Default::default() },
            ..Default::default()
        });
    }
}

/// Everything for one service.
pub fn service(r: &Resolved, svc: &Svc, stack: &mut Stack) {
    let labels = labels(&r.platform, &svc.name, "service");
    let config_name = format!("{}-config", svc.name);
    let secret_name = format!("{}-secrets", svc.name);

    let (config_hash, env) = config_and_env(r, svc, &labels, &config_name, &secret_name, stack);
    stack.push(&core::ServiceAccount {
        metadata: meta(&svc.name, &svc.namespace, &labels),
        automount_service_account_token: Some(svc.read_own_config),
        ..Default::default()
    });
    if svc.read_own_config {
        rbac_read_own(svc, &labels, &config_name, (!svc.secrets.is_empty()).then_some(secret_name.as_str()), stack);
    }
    let (volumes, mounts) = volumes(r, svc, &labels, stack);
    let helpers = helpers(r, svc, &secret_name, &mounts);
    let pod = pod_spec(r, svc, container(r, svc, &config_name, env, mounts), helpers, volumes);
    stack.push(&deployment(r, svc, &labels, config_hash, pod));
    // A worker serves nothing: a Service would select pods no one calls.
    if !svc.worker {
        stack.push(&cluster_ip_service(r, svc, &labels));
    }
    if svc.autoscaled() {
        stack.push(&autoscaler(svc, &labels));
    }
    stack.push(&disruption_budget(r, svc, &labels));
}

/// Pushes the ConfigMap (log level, connection settings, `env`) and the
/// Secret sources the service reads; returns the ConfigMap's hash (a change
/// rolls the pods) and the container's environment: its own secrets and
/// the wired credentials.
fn config_and_env(
    r: &Resolved,
    svc: &Svc,
    labels: &BTreeMap<String, String>,
    config_name: &str,
    secret_name: &str,
    stack: &mut Stack,
) -> (String, Vec<core::EnvVar>) {
    let ns = svc.namespace.as_str();
    // Non-secret settings live in a ConfigMap; secret ones are references.
    let Wiring { config: wired_config, env: wired_env, secrets: wired_secrets, values, templated } = wiring(r, svc);
    stack.secrets.extend(wired_secrets);
    let mut data = BTreeMap::from([("LOG_LEVEL".to_string(), svc.log_level.as_str().to_string())]);
    data.extend(wired_config);
    // Where traces go; what the description's `env` says wins.
    data.extend(super::telemetry::otel_env(r, svc));
    data.extend(svc.env.clone());
    data.extend(values);
    let config_hash = short_hash(&data);
    stack.push(&core::ConfigMap { metadata: meta(config_name, ns, labels), data: Some(data), ..Default::default() });

    let mut env: Vec<core::EnvVar> = Vec::new();
    if !svc.secrets.is_empty() {
        stack.secrets.push(SecretSource {
            name: secret_name.to_string(),
            namespace: ns.to_string(),
            file: format!("{}.env", svc.name),
            keys: svc.secrets.clone(),
        });
        env.extend(svc.secrets.iter().map(|k| env_secret(k, secret_name, k)));
    }
    env.extend(wired_env);
    env.extend(templated);
    (config_hash, env)
}

/// The pod's volumes and the container's mounts; pushes a claim per
/// persistent volume. /tmp is always writable scratch, as the root
/// filesystem is not.
fn volumes(
    r: &Resolved,
    svc: &Svc,
    labels: &BTreeMap<String, String>,
    stack: &mut Stack,
) -> (Vec<core::Volume>, Vec<core::VolumeMount>) {
    let (tmp, tmp_mount) = scratch("tmp", "/tmp");
    let mut volumes = vec![tmp];
    let mut mounts = vec![tmp_mount];
    for v in &svc.volumes {
        let source = match &v.kind {
            VolKind::Claim { size, access_mode, storage_class } => {
                let claim = format!("{}-{}", svc.name, v.name);
                stack.push(&core::PersistentVolumeClaim {
                    metadata: meta(&claim, &svc.namespace, labels),
                    spec: Some(core::PersistentVolumeClaimSpec {
                        access_modes: Some(vec![access_mode.as_str().into()]),
                        storage_class_name: storage_class.clone().or_else(|| r.storage_class.clone()),
                        resources: Some(core::VolumeResourceRequirements {
                            requests: Some(BTreeMap::from([("storage".into(), quantity(size))])),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                core::Volume {
                    name: v.name.clone(),
                    persistent_volume_claim: Some(core::PersistentVolumeClaimVolumeSource {
                        claim_name: claim,
                        read_only: None,
                    }),
                    ..Default::default()
                }
            }
            VolKind::Empty { size_limit } => core::Volume {
                name: v.name.clone(),
                empty_dir: Some(core::EmptyDirVolumeSource {
                    size_limit: size_limit.map(quantity),
                    ..Default::default()
                }),
                ..Default::default()
            },
        };
        volumes.push(source);
        mounts.push(core::VolumeMount {
            name: v.name.clone(),
            mount_path: v.path.clone(),
            read_only: v.read_only.then_some(true),
            ..Default::default()
        });
    }
    (volumes, mounts)
}

/// The service's container: image, ports, settings from the ConfigMap and
/// `env`, resources, probes, drain on stop, hardened security context.
fn container(
    r: &Resolved,
    svc: &Svc,
    config_name: &str,
    env: Vec<core::EnvVar>,
    mounts: Vec<core::VolumeMount>,
) -> core::Container {
    core::Container {
        command: svc.command.clone(),
        args: svc.args.clone(),
        ports: container_ports(&svc.ports),
        env_from: Some(vec![core::EnvFromSource {
            config_map_ref: Some(core::ConfigMapEnvSource { name: config_name.to_string(), optional: Some(false) }),
            ..Default::default()
        }]),
        env: (!env.is_empty()).then_some(env),
        resources: Some(resources(&svc.requests, &svc.limits)),
        liveness_probe: svc.live.as_ref().map(probe),
        readiness_probe: svc.ready.as_ref().map(probe),
        startup_probe: svc.startup.as_ref().map(probe),
        lifecycle: pre_stop_drain(r, svc.drain_seconds),
        volume_mounts: Some(mounts),
        ..hardened_container(&svc.name, &svc.image)
    }
}

/// The container every workload of the platform runs its image in (a
/// service's, a job's): hardened security context, the last log lines as
/// the termination message.
pub fn hardened_container(name: &str, image: &str) -> core::Container {
    core::Container {
        name: name.into(),
        image: Some(image.into()),
        image_pull_policy: Some("IfNotPresent".into()),
        security_context: Some(container_security()),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}

/// Named TCP container ports; none written is no `ports` field.
fn container_ports(ports: &[Port]) -> Option<Vec<core::ContainerPort>> {
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|p| core::ContainerPort {
                name: Some(p.name.clone()),
                container_port: p.port.into(),
                protocol: Some("TCP".into()),
                ..Default::default()
            })
            .collect()
    })
}

/// The pod's other containers: (init containers, plain sidecars). Sidecars
/// are native (init containers that restart, started before the service's
/// container and stopped after it) where the cluster has them, so a proxy
/// is up before the app calls through it and a log shipper sees its last
/// lines.
struct Helpers {
    init: Vec<core::Container>,
    plain: Vec<core::Container>,
}

fn helpers(r: &Resolved, svc: &Svc, secret_name: &str, mounts: &[core::VolumeMount]) -> Helpers {
    let native = features::SIDECARS.available(r.kube.minor);
    let mut init: Vec<core::Container> = svc.init_containers.iter().map(|c| helper(c, secret_name, mounts)).collect();
    let mut plain = Vec::new();
    for c in &svc.sidecars {
        let mut container = helper(c, secret_name, mounts);
        if native {
            container.restart_policy = Some("Always".into());
            init.push(container);
        } else {
            plain.push(container);
        }
    }
    Helpers { init, plain }
}

/// An init container or sidecar: hardened like the service's own, with its
/// own env, the service's secrets it names, `/tmp` and the volumes it names.
fn helper(c: &ExtraR, secret_name: &str, mounts: &[core::VolumeMount]) -> core::Container {
    let mut env: Vec<core::EnvVar> = c
        .env
        .iter()
        .map(|(k, v)| core::EnvVar { name: k.clone(), value: Some(v.clone()), ..Default::default() })
        .collect();
    env.extend(c.secrets.iter().map(|k| env_secret(k, secret_name, k)));
    let mounts: Vec<core::VolumeMount> =
        mounts.iter().filter(|m| m.name == "tmp" || c.volumes.contains(&m.name)).cloned().collect();
    core::Container {
        command: c.command.clone(),
        args: c.args.clone(),
        ports: container_ports(&c.ports),
        env: (!env.is_empty()).then_some(env),
        resources: Some(resources(&c.requests, &c.limits)),
        volume_mounts: Some(mounts),
        ..hardened_container(&c.name, &c.image)
    }
}

/// The pod every workload of the platform runs in: its own ServiceAccount
/// (a token only when it reads the API), Pod Security `restricted`, no
/// service links (variables of every Service in the namespace).
pub fn hardened_pod(account: &str, uid: u32, token: bool, containers: Vec<core::Container>) -> core::PodSpec {
    core::PodSpec {
        service_account_name: Some(account.into()),
        automount_service_account_token: Some(token),
        security_context: Some(pod_security(uid)),
        containers,
        enable_service_links: Some(false),
        ..Default::default()
    }
}

/// The pod: its own ServiceAccount, spread over zones and nodes, no service links.
fn pod_spec(
    r: &Resolved,
    svc: &Svc,
    container: core::Container,
    helpers: Helpers,
    volumes: Vec<core::Volume>,
) -> core::PodSpec {
    let mut containers = vec![container];
    containers.extend(helpers.plain);
    core::PodSpec {
        init_containers: (!helpers.init.is_empty()).then_some(helpers.init),
        termination_grace_period_seconds: Some(svc.grace_seconds.into()),
        topology_spread_constraints: Some(spread(&r.platform, &svc.name)),
        affinity: Some(anti_affinity(&r.platform, &svc.name)),
        volumes: Some(volumes),
        ..hardened_pod(&svc.name, svc.run_as_user, svc.read_own_config, containers)
    }
}

/// The Deployment; its pod template carries the ConfigMap's hash. Its pods
/// and selector carry `track: stable` whether or not a canary runs: a
/// selector is immutable, so adding or removing a canary (`track: canary`,
/// see `mesh::canary`) must not change it.
fn deployment(
    r: &Resolved,
    svc: &Svc,
    labels: &BTreeMap<String, String>,
    config_hash: String,
    pod: core::PodSpec,
) -> apps::Deployment {
    let mut annotations = BTreeMap::from([("kubeproof.dev/config-hash".to_string(), config_hash)]);
    // Under Istio a classic proxy starts after the init containers and
    // native sidecars, whose traffic it already intercepts: they could not
    // reach the network. A native one starts before them.
    let helpers = pod.init_containers.as_ref().is_some_and(|i| !i.is_empty());
    if helpers && r.mesh == crate::description::Mesh::Istio && features::SIDECARS.available(r.kube.minor) {
        annotations.insert("sidecar.istio.io/nativeSidecar".into(), "true".into());
    }
    apps::Deployment {
        metadata: meta(&svc.name, &svc.namespace, labels),
        spec: Some(apps::DeploymentSpec {
            // With an HPA the Deployment must not set replicas: every apply
            // would reset the autoscaler's choice back to this number.
            replicas: (!svc.autoscaled()).then_some(svc.min_replicas as i32),
            revision_history_limit: Some(5),
            selector: LabelSelector {
                match_labels: Some(tracked(selector_labels(&r.platform, &svc.name))),
                ..Default::default()
            },
            strategy: Some(strategy(svc)),
            template: core::PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(tracked(labels.clone())),
                    annotations: Some(annotations),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `labels` and `track: stable`.
fn tracked(mut labels: BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels.insert(super::mesh::TRACK.into(), super::mesh::STABLE.into());
    labels
}

/// The ClusterIP Service in front of the pods, a port per declared port.
fn cluster_ip_service(r: &Resolved, svc: &Svc, labels: &BTreeMap<String, String>) -> core::Service {
    let websocket = svc.has_protocol(Protocol::Websocket);
    let mut metadata = meta(&svc.name, &svc.namespace, labels);
    // The request-duration buckets the service exports, for `check` to hold
    // latency objectives' thresholds against (model::histogram).
    if let Some(m) = svc.metrics.as_ref().filter(|m| m.http && !m.buckets.is_empty()) {
        let unit = f64::from(m.per_second);
        let declared = histogram::Declared::from([(m.duration.clone(), m.buckets.iter().map(|b| b * unit).collect())]);
        metadata.annotations =
            Some(BTreeMap::from([(histogram::ANNOTATION.to_string(), histogram::annotation(&declared))]));
    }
    core::Service {
        metadata,
        spec: Some(core::ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(&r.platform, &svc.name)),
            ports: Some(svc.ports.iter().map(service_port).collect()),
            // Websocket clients reconnect to the pod that holds their session.
            session_affinity: Some(if websocket { "ClientIP" } else { "None" }.into()),
            session_affinity_config: websocket.then_some(core::SessionAffinityConfig {
                client_ip: Some(core::ClientIPConfig { timeout_seconds: Some(10800) }),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A Service port in front of a named container port.
pub fn service_port(p: &Port) -> core::ServicePort {
    core::ServicePort {
        name: Some(p.name.clone()),
        port: p.service_port.into(),
        target_port: Some(IntOrString::String(p.name.clone())),
        protocol: Some("TCP".into()),
        app_protocol: app_protocol(p.protocol).map(str::to_string),
        ..Default::default()
    }
}

/// Rolling updates never drop below the desired count (maxUnavailable 0).
/// A ReadWriteOnce claim cannot be mounted by a surge pod on another node
/// (and two processes must not share one data directory), so such a
/// single-replica service is replaced instead.
fn strategy(svc: &Svc) -> apps::DeploymentStrategy {
    let exclusive = svc.volumes.iter().any(|v| {
        matches!(v.kind, VolKind::Claim { access_mode: AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod, .. })
    });
    if exclusive {
        return apps::DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None };
    }
    apps::DeploymentStrategy {
        type_: Some("RollingUpdate".into()),
        rolling_update: Some(apps::RollingUpdateDeployment {
            max_unavailable: Some(IntOrString::Int(0)),
            max_surge: Some(IntOrString::Int(1)),
        }),
    }
}

fn app_protocol(p: Protocol) -> Option<&'static str> {
    match p {
        Protocol::Http => Some("http"),
        Protocol::Grpc => Some("grpc"),
        Protocol::Websocket => Some("kubernetes.io/ws"),
        Protocol::Tcp => None,
    }
}

/// [`crate::description::wiring`] as Kubernetes writes it: host and port in the ConfigMap,
/// credentials as secret references, URLs composed from both by Kubernetes'
/// `$(VAR)` expansion so the password is never written down.
pub struct Wiring {
    /// Non-secret settings (hosts, ports, database names) for the ConfigMap.
    pub config: BTreeMap<String, String>,
    /// Secret references and URLs composed from them.
    pub env: Vec<core::EnvVar>,
    /// The datastore credentials the client's namespace needs a copy of.
    pub secrets: Vec<SecretSource>,
    /// `env` templates resolved to text, for the ConfigMap.
    pub values: BTreeMap<String, String>,
    /// `env` templates set in the container (after `env`), with the Secret
    /// keys they read.
    pub templated: Vec<core::EnvVar>,
}

pub fn wiring(r: &Resolved, svc: &Svc) -> Wiring {
    written(r, crate::description::wiring::wiring(r, svc.client()), &svc.namespace)
}

/// [`wiring`] of a job or a cronjob's job, in its namespace.
pub fn job_wiring(r: &Resolved, j: &JobR) -> Wiring {
    written(r, crate::description::wiring::wiring(r, j.client()), &j.namespace)
}

/// The variables and Secrets a client in namespace `ns` gets for `w`.
fn written(r: &Resolved, w: crate::description::wiring::Wiring, ns: &str) -> Wiring {
    Wiring {
        env: w.env.iter().map(|(e, secret)| super::datastores::env_var(e, secret)).collect(),
        secrets: w
            .credentials
            .iter()
            .filter_map(|d| r.datastore(d))
            .map(|store| super::datastores::credentials(r, store, ns))
            .collect(),
        config: w.config,
        values: w.values,
        templated: w
            .templated
            .iter()
            .map(|v| match v {
                Var::Value { name, value } => env_value(name, value),
                Var::Secret { name, secret, key } => env_secret(name, secret, key),
            })
            .collect(),
    }
}

pub fn probe(p: &ProbeR) -> core::Probe {
    let mut out = core::Probe {
        initial_delay_seconds: (p.initial_delay > 0).then_some(p.initial_delay as i32),
        period_seconds: Some(p.period as i32),
        timeout_seconds: Some(p.timeout as i32),
        failure_threshold: Some(p.failure_threshold as i32),
        success_threshold: Some(1),
        ..Default::default()
    };
    match &p.handler {
        Handler::Http { path, port } => {
            out.http_get = Some(core::HTTPGetAction {
                path: Some(path.clone()),
                port: IntOrString::String(port.clone()),
                scheme: Some("HTTP".into()),
                ..Default::default()
            })
        }
        Handler::Grpc { port } => out.grpc = Some(core::GRPCAction { port: (*port).into(), service: None }),
        Handler::Tcp { port } => {
            out.tcp_socket = Some(core::TCPSocketAction { port: IntOrString::String(port.clone()), host: None })
        }
        Handler::Exec(cmd) => out.exec = Some(core::ExecAction { command: Some(cmd.clone()) }),
    }
    out
}

/// Keep serving while endpoints are removed (load balancers and kube-proxy
/// lag behind), then let the app stop. The `sleep` action needs no shell or
/// binary in the image; before it is on by default (1.30) an `exec` of
/// `sleep` stands in, which drains wherever the image has `sleep` and
/// otherwise fails the hook, and the kubelet then stops the container as if
/// there were none. No drain is no hook: a zero `sleep` does nothing, and
/// Kubernetes rejects it before 1.33 (KP007).
pub fn pre_stop_drain(r: &Resolved, seconds: u32) -> Option<core::Lifecycle> {
    if seconds == 0 {
        return None;
    }
    let handler = if features::SLEEP_ACTION.available(r.kube.minor) {
        core::LifecycleHandler { sleep: Some(core::SleepAction { seconds: seconds.into() }), ..Default::default() }
    } else {
        core::LifecycleHandler {
            exec: Some(core::ExecAction { command: Some(vec!["sleep".into(), seconds.to_string()]) }),
            ..Default::default()
        }
    };
    Some(core::Lifecycle { pre_stop: Some(handler), ..Default::default() })
}

/// Spread replicas across zones and nodes. `ScheduleAnyway` so that small or
/// single-zone clusters still schedule; `pod-template-hash` so a rollout's new
/// pods are spread among themselves.
pub fn spread(platform: &str, name: &str) -> Vec<core::TopologySpreadConstraint> {
    ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
        .into_iter()
        .map(|key| core::TopologySpreadConstraint {
            max_skew: 1,
            topology_key: key.into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(selector(platform, name)),
            match_label_keys: Some(vec!["pod-template-hash".into()]),
            ..Default::default()
        })
        .collect()
}

/// Prefer nodes that run no other replica of the same workload.
pub fn anti_affinity(platform: &str, name: &str) -> core::Affinity {
    core::Affinity {
        pod_anti_affinity: Some(core::PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![core::WeightedPodAffinityTerm {
                weight: 100,
                pod_affinity_term: core::PodAffinityTerm {
                    label_selector: Some(selector(platform, name)),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..Default::default()
                },
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn autoscaler(svc: &Svc, labels: &BTreeMap<String, String>) -> hpa::HorizontalPodAutoscaler {
    let resource = |name: &str, pct: u8| hpa::MetricSpec {
        type_: "Resource".into(),
        resource: Some(hpa::ResourceMetricSource {
            name: name.into(),
            target: hpa::MetricTarget {
                type_: "Utilization".into(),
                average_utilization: Some(pct.into()),
                ..Default::default()
            },
        }),
        ..Default::default()
    };
    let mut metrics = Vec::new();
    if let Some(c) = svc.autoscale.cpu {
        metrics.push(resource("cpu", c));
    }
    if let Some(m) = svc.autoscale.memory {
        metrics.push(resource("memory", m));
    }
    for (name, value) in &svc.autoscale.metrics {
        metrics.push(hpa::MetricSpec {
            type_: "Pods".into(),
            pods: Some(hpa::PodsMetricSource {
                metric: hpa::MetricIdentifier { name: name.clone(), selector: None },
                target: hpa::MetricTarget {
                    type_: "AverageValue".into(),
                    average_value: Some(quantity(value)),
                    ..Default::default()
                },
            }),
            ..Default::default()
        });
    }
    let policy = |type_: &str, value: i32, period: i32| hpa::HPAScalingPolicy {
        type_: type_.into(),
        value,
        period_seconds: period,
    };
    hpa::HorizontalPodAutoscaler {
        metadata: meta(&svc.name, &svc.namespace, labels),
        spec: Some(hpa::HorizontalPodAutoscalerSpec {
            scale_target_ref: hpa::CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: svc.name.clone(),
            },
            min_replicas: Some(svc.min_replicas as i32),
            max_replicas: svc.max_replicas as i32,
            metrics: Some(metrics),
            // React to load within 15–30s; shed capacity slowly.
            behavior: Some(hpa::HorizontalPodAutoscalerBehavior {
                scale_up: Some(hpa::HPAScalingRules {
                    stabilization_window_seconds: Some(0),
                    select_policy: Some("Max".into()),
                    policies: Some(vec![policy("Percent", 100, 15), policy("Pods", 4, 15)]),
                    ..Default::default()
                }),
                scale_down: Some(hpa::HPAScalingRules {
                    stabilization_window_seconds: Some(300),
                    select_policy: Some("Max".into()),
                    policies: Some(vec![policy("Percent", 10, 60)]),
                    ..Default::default()
                }),
            }),
        }),
        ..Default::default()
    }
}

fn disruption_budget(r: &Resolved, svc: &Svc, labels: &BTreeMap<String, String>) -> policy::PodDisruptionBudget {
    let (min_available, max_unavailable) = match svc.pdb {
        PdbR::MinAvailable(n) => (Some(IntOrString::Int(n as i32)), None),
        PdbR::MaxUnavailable(n) => (None, Some(IntOrString::Int(n as i32))),
    };
    policy::PodDisruptionBudget {
        metadata: meta(&svc.name, &svc.namespace, labels),
        spec: Some(policy::PodDisruptionBudgetSpec {
            selector: Some(selector(&r.platform, &svc.name)),
            min_available,
            max_unavailable,
            // Pods that are not ready anyway must not block a node drain.
            unhealthy_pod_eviction_policy: Some("AlwaysAllow".into()),
        }),
        ..Default::default()
    }
}

/// Read access to the service's own ConfigMap (and Secret), nothing else.
fn rbac_read_own(svc: &Svc, labels: &BTreeMap<String, String>, config: &str, secret: Option<&str>, stack: &mut Stack) {
    let mut rules = vec![rbac::PolicyRule {
        api_groups: Some(vec![String::new()]),
        resources: Some(vec!["configmaps".into()]),
        resource_names: Some(vec![config.into()]),
        verbs: vec!["get".into(), "watch".into()],
        ..Default::default()
    }];
    if let Some(secret) = secret {
        rules.push(rbac::PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["secrets".into()]),
            resource_names: Some(vec![secret.into()]),
            verbs: vec!["get".into()],
            ..Default::default()
        });
    }
    stack.push_role(meta(&svc.name, &svc.namespace, labels), rules, &svc.name, &svc.namespace);
}
