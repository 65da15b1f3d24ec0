//! The platform description (`platform.yaml`): typed, with source positions.
//!
//! Every field a person can write is declared here, so that unknown fields are
//! rejected (`deny_unknown_fields`) and `kubeproof schema` can print the JSON
//! Schema. Fields that an environment may override are `Option`s: the same
//! struct serves as a service and as an environment's patch to it (see
//! [`merge`]). Defaults are applied later, in [`resolve`].

pub mod alerts;
mod credential;
pub mod delivery;
mod extensions;
pub mod jobs;
pub(crate) mod load;
pub mod merge;
pub mod placement;
pub mod resolve;
pub mod starter;
pub mod telemetry;
pub mod template;
pub mod traffic;
mod validate;
mod value;
pub mod wiring;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

pub use crate::components::Component;
pub use crate::engines::Engine;
pub use crate::model::duration::{Millis, Seconds};
pub use crate::model::quantity::{Bytes, Cpu};
pub use alerts::{PlatformAlerts, Receiver, ServiceAlerts, Slo};
pub use extensions::json_schema;
pub use jobs::{ConcurrencyPolicy, CronJob, Job};
pub use load::{load, parse};
pub use placement::{Affinity, NamespaceMeta, Toleration, Vpa, VpaMode};
pub use traffic::{EdgeTls, LoadBalancer, TlsVersion, Traffic};
pub use value::{EnvValue, Factor, KubeVersion, Name, PortRef, Replicas, Storage, Version};

/// Name of the single overlay written when a description has no environments.
pub const DEFAULT_ENV: &str = "default";

/// The only `apiVersion` this release reads.
pub const API_VERSION: &str = "kubeproof.dev/v1alpha1";

/// A platform: the services, datastores and external dependencies of one
/// product, the cluster it runs on, and its environments.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(title = "kubeproof platform description")]
pub struct Platform {
    /// Must be `kubeproof.dev/v1alpha1`.
    #[schemars(with = "String")]
    pub api_version: Spanned<String>,
    /// The platform's name (a DNS label); also the default namespace.
    pub name: Name,
    /// The platform's release, a semantic version (`1.4.0`): the Helm
    /// chart's `version` and `appVersion` (default `0.1.0`).
    #[schemars(with = "Option<String>")]
    pub version: Option<Spanned<String>>,
    /// The platform's public domain, for documentation and defaults.
    pub domain: Option<String>,
    /// The namespace for services and datastores that do not name one
    /// (default: the platform's name).
    pub namespace: Option<Name>,
    /// The cluster the platform runs on.
    pub cluster: Cluster,
    /// Environments, each written as a kustomize overlay.
    #[serde(default)]
    pub environments: BTreeMap<Name, Environment>,
    /// Stateless services, each a Deployment.
    #[serde(default)]
    pub services: BTreeMap<Name, Service>,
    /// Stateful datastores, each a StatefulSet with persistent volumes.
    #[serde(default)]
    pub datastores: BTreeMap<Name, Datastore>,
    /// Hosts outside the cluster that services call.
    #[serde(default)]
    pub external: BTreeMap<Name, External>,
    /// Tasks run once per release (e.g. a database migration), before the
    /// services that declare `after:` on them.
    #[serde(default)]
    pub jobs: BTreeMap<Name, Job>,
    /// Tasks run on a schedule.
    #[serde(default)]
    pub cronjobs: BTreeMap<Name, CronJob>,
    /// Labels and annotations of the Namespaces kubeproof writes, by name
    /// (e.g. a team or cost-centre label); kubeproof's own labels (Pod
    /// Security, mesh injection) cannot be overridden.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, NamespaceMeta>")]
    pub namespaces: BTreeMap<Name, NamespaceMeta>,
    /// Alert routing by severity (`critical: [pagerduty, slack]`), runbook
    /// link, and platform-wide alerts (volumes, nodes, backups).
    pub alerts: Option<PlatformAlerts>,
    /// Alertmanager receivers named by `alerts`; credentials come from files.
    #[serde(default)]
    pub receivers: BTreeMap<Name, Receiver>,
    /// Traces: OpenTelemetry Collector exporter (`jaeger` or `otlp`), endpoint
    /// and sampling (`"10%"`); writes `monitoring/otel-collector.yaml`.
    pub tracing: Option<telemetry::Tracing>,
    /// Container logs: backend (`loki` or `elasticsearch`), endpoint and
    /// retention (`7d`); writes `monitoring/fluent-bit.yaml` and the retention settings.
    pub logs: Option<telemetry::Logs>,
    /// Where datastore backups go, and Velero schedules for the whole platform.
    pub backup: Option<Backup>,
}

/// The platform's backup target: an S3-compatible bucket for the datastore
/// dumps (each datastore's `backup` sets how often and how long), and Velero
/// schedules that back up every namespace of the platform with volume snapshots.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Backup {
    /// `s3://BUCKET` or `s3://BUCKET/PREFIX`; objects go to
    /// `PREFIX/PLATFORM[/ENV]/DATASTORE/TIMESTAMP.EXT`.
    #[schemars(with = "String")]
    pub bucket: Spanned<String>,
    /// S3 endpoint URL (default `https://s3.amazonaws.com`; e.g. a MinIO or
    /// Ceph address for other S3-compatible stores).
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// Name of the Secret with `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`
    /// for the bucket (default `backup-credentials`); its values come from a
    /// git-ignored env file, never from the description.
    pub credentials: Option<Name>,
    /// Velero schedules (the Velero server and its storage location are
    /// installed separately).
    pub velero: Option<Velero>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Velero {
    /// Namespace of the Velero server (default `velero`).
    pub namespace: Option<Name>,
    /// A daily backup: `{ at: "02:00", keep: 30d }` (UTC).
    pub daily: Option<VeleroSchedule>,
    /// An hourly backup: `{ at: ":30", keep: 7d }` (minute past each hour).
    pub hourly: Option<VeleroSchedule>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VeleroSchedule {
    /// When, in UTC: `"HH:MM"` for daily (default `"02:00"`), `":MM"` for
    /// hourly (default `":30"`).
    #[schemars(with = "Option<String>")]
    pub at: Option<Spanned<String>>,
    /// How long each backup is kept (Velero's TTL), e.g. `30d`.
    #[schemars(with = "Seconds")]
    pub keep: Spanned<Seconds>,
}

/// A datastore's backups: a dump every `every`, each kept for `keep`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DatastoreBackup {
    /// How often: minutes that divide an hour (`15m`, `30m`), hours that
    /// divide a day (`1h`, `4h`, `12h`) or `1d`.
    #[schemars(with = "Seconds")]
    pub every: Spanned<Seconds>,
    /// How long each dump is kept in the bucket; older ones are deleted after
    /// each successful backup. Longer than `every`.
    #[schemars(with = "Seconds")]
    pub keep: Spanned<Seconds>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Cluster {
    /// Kubernetes minor version, as a string: `"1.30"`.
    #[schemars(with = "KubeVersion")]
    pub kubernetes: Spanned<KubeVersion>,
    /// What the cluster can hold, for budgets.
    pub capacity: Option<Capacity>,
    /// Service mesh: `none` (default) or `istio`.
    pub mesh: Option<Mesh>,
    /// IngressClass for exposed services (default `nginx`).
    pub ingress_class: Option<String>,
    /// The Gateway API Gateway that `expose: { type: gateway }` routes attach
    /// to (installed apart; its listeners hold the TLS certificates).
    pub gateway: Option<GatewayRef>,
    /// cert-manager ClusterIssuer for TLS certificates (default `letsencrypt-prod`).
    pub issuer: Option<String>,
    /// StorageClass for volumes (default: the cluster's default class).
    #[schemars(with = "Option<String>")]
    pub storage_class: Option<Spanned<String>>,
    /// The storage classes volumes may name, each with the access modes it
    /// offers: a claim asking a mode its class does not offer is an error
    /// (ReadWriteMany needs file storage: NFS, CephFS, EFS, Azure Files…;
    /// block storage offers ReadWriteOnce). A ReadWriteMany claim needs a
    /// class declared here that offers it.
    pub storage_classes: Option<BTreeMap<String, StorageClass>>,
    /// Namespace of the ingress controller, allowed in by network policy
    /// (default `ingress-nginx`; `istio-system` when the mesh is `istio`).
    pub ingress_namespace: Option<String>,
    /// Namespace of Prometheus, allowed to scrape metrics ports (default `monitoring`).
    pub monitoring_namespace: Option<String>,
    /// TLS versions the Istio ingress Gateway accepts (default: 1.2 and up).
    pub tls: Option<EdgeTls>,
    /// Whether the Prometheus Operator runs in the cluster: ServiceMonitors,
    /// PodMonitors and a PrometheusRule go into the kustomize base; otherwise
    /// only the plain files under `monitoring/`. Default: true, unless the
    /// platform runs its own Prometheus (a service with `component:
    /// prometheus` or its image), which loads the generated files instead.
    pub prometheus_operator: Option<bool>,
    /// Labels the Operator's Prometheus selects its ServiceMonitors,
    /// PodMonitors and PrometheusRules by (`serviceMonitorSelector`,
    /// `podMonitorSelector`, `ruleSelector`); added to their metadata.
    /// kube-prometheus-stack selects `release: <its Helm release name>`:
    /// `monitoringSelector: { release: kube-prometheus-stack }`.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub monitoring_selector: Option<BTreeMap<Name, Spanned<String>>>,
    /// Where Secret values come from: `{ provider: env }` (default: git-ignored
    /// env files), `{ provider: external-secrets, store: vault }` (an
    /// ExternalSecret per Secret) or `{ provider: sealed-secrets }`.
    pub secrets: Option<delivery::Secrets>,
    /// The GitOps controller that syncs each environment from git:
    /// `{ argocd: { repo: https://…, path: deploy } }` (an Application per
    /// environment under `delivery/argocd/`, sync waves on the objects) or
    /// `{ flux: { … } }` (a GitRepository and Kustomizations under `delivery/flux/`).
    #[schemars(with = "Option<delivery::Delivery>")]
    pub delivery: Option<Spanned<delivery::Delivery>>,
}

/// A storage class of the cluster, as volumes may use it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StorageClass {
    /// The access modes its volumes offer, e.g. `[ReadWriteOnce]` for block
    /// storage, `[ReadWriteOnce, ReadWriteMany]` for file storage.
    pub access_modes: Vec<AccessMode>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Capacity {
    pub nodes: Option<u32>,
    /// Allocatable CPU of all nodes together.
    pub cpu: Cpu,
    /// Allocatable memory of all nodes together.
    pub memory: Bytes,
    /// Block storage available for volumes.
    pub storage: Option<Bytes>,
}

impl Capacity {
    /// The figures budgets are compared with.
    pub fn figures(&self) -> crate::model::resources::Capacity {
        crate::model::resources::Capacity {
            cpu_millis: Some(self.cpu.millis()),
            memory_bytes: Some(self.memory.get()),
            storage_bytes: self.storage.map(|s| s.get()),
            nodes: self.nodes.map(u64::from),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mesh {
    None,
    Istio,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(&self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

/// An environment: a scale factor, a log level and overrides of any field of
/// any service or datastore.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Environment {
    /// Multiplies service replicas and all requests and limits (e.g. 0.5).
    #[schemars(with = "Option<Factor>")]
    pub scale: Option<Spanned<Factor>>,
    /// Log level of every service in this environment.
    pub log_level: Option<LogLevel>,
    /// Mesh override for this environment (e.g. `none` in dev).
    pub mesh: Option<Mesh>,
    /// Per-service overrides: any service field.
    #[serde(default)]
    pub services: BTreeMap<Name, Service>,
    /// Per-datastore overrides: any datastore field.
    #[serde(default)]
    pub datastores: BTreeMap<Name, Datastore>,
    /// Per-job overrides: any job field.
    #[serde(default)]
    pub jobs: BTreeMap<Name, Job>,
    /// Per-cronjob overrides: any cronjob field.
    #[serde(default)]
    pub cronjobs: BTreeMap<Name, CronJob>,
    /// Changes to any generated object of this environment, each naming
    /// its `target`: the escape hatch for what the description cannot say.
    pub patches: Option<Vec<Patch>>,
}

/// A change to a generated object, applied in memory (and checked there
/// like everything else) and written into the kustomization: `ops`, JSON
/// Patch (RFC 6902) operations, or `merge`, a partial object merged as
/// Kubernetes' strategic merge does (maps key by key; lists of containers,
/// init containers, env, volumes, volume mounts, ports and image pull
/// secrets item by item by their key; other lists replaced; `null`
/// removes). `$patch` directives are not supported.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Patch {
    /// The object changed; default: the workload of the service or
    /// datastore the patch is under. Required under an environment.
    pub target: Option<PatchTarget>,
    /// JSON Patch operations: `[{ op: add, path: /metadata/annotations/x, value: y }]`.
    #[schemars(with = "Option<Vec<serde_json::Value>>")]
    pub ops: Option<Spanned<Vec<serde_json::Value>>>,
    /// A partial object, merged into the target.
    #[schemars(with = "Option<serde_json::Map<String, serde_json::Value>>")]
    pub merge: Option<Spanned<serde_json::Value>>,
}

/// The generated object a patch changes.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PatchTarget {
    /// `Deployment`, `Service`, `ConfigMap`…
    #[schemars(with = "String")]
    pub kind: Spanned<String>,
    pub name: String,
    /// Default: the namespace of the service or datastore, else the platform's.
    pub namespace: Option<String>,
}

/// The protocol a port speaks; decides probes, Service appProtocol and
/// ingress settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Http,
    Grpc,
    Websocket,
    Tcp,
}

/// A stateless service. Every field is optional here because the same type is
/// an environment's override; required fields are checked after merging.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Service {
    /// Container image with a pinned tag or digest.
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    /// The off-the-shelf component this service is (`prometheus`,
    /// `alertmanager`, `grafana`, `loki`, `jaeger`, `envoy`, …), wired as
    /// such, its alerts on the metrics it really exports; default:
    /// recognised from the image.
    pub component: Option<Component>,
    /// Namespace (default: the platform's namespace).
    pub namespace: Option<Name>,
    /// Shorthand for a single port: the container port.
    #[schemars(with = "Option<u16>")]
    pub port: Option<Spanned<u16>>,
    /// Shorthand: the Service port in front of `port` (default: the same).
    pub service_port: Option<u16>,
    /// Shorthand: the protocol of `port` (default `http`).
    pub protocol: Option<Protocol>,
    /// Several ports; use instead of `port`. No `port` and no `ports` (or
    /// `ports: []`) makes the service a worker (a queue consumer, a load
    /// generator): no Service, no mesh routing, no traffic allowed in
    /// except Prometheus on `metrics.port`; nothing may `uses` it, and its
    /// probes are only those declared.
    pub ports: Option<Vec<PortSpec>>,
    /// Publish the service through the ingress controller.
    pub expose: Option<Expose>,
    /// Replica count, or `{min, max}` for autoscaling.
    #[schemars(with = "Option<Replicas>")]
    pub replicas: Option<Spanned<Replicas>>,
    /// HorizontalPodAutoscaler targets (used when min < max).
    pub autoscale: Option<Autoscale>,
    /// Requests (`cpu`, `memory`) and `limits`.
    pub resources: Option<Resources>,
    /// Liveness, readiness and startup probes. Unwritten, a service with
    /// ports gets a TCP (gRPC on a grpc port) probe of its first port for
    /// each, and a worker none; a written probe replaces its default; an
    /// explicitly empty `probes: {}` means no probes at all.
    pub probes: Option<Probes>,
    /// Where the service exports Prometheus metrics.
    #[serde(default, deserialize_with = "value::path_or_map")]
    #[schemars(with = "Option<value::PathOr<Metrics>>")]
    pub metrics: Option<Metrics>,
    /// Datastores, services and external hosts this service calls. Each
    /// sets `X_HOST`, `X_PORT` and, where it has them, `X_URL`, credentials
    /// and database (`X` the name in upper case), unless an `env` template
    /// names it (`${x.url}`): then only the variables written there.
    #[schemars(with = "Option<Vec<String>>")]
    pub uses: Option<Vec<Name>>,
    /// Jobs (of `jobs`) that must have completed before this release of
    /// the service rolls out (e.g. its database migration).
    #[schemars(with = "Option<Vec<String>>")]
    pub after: Option<Vec<Name>>,
    /// Environment variables. A value may name what `uses` connects to:
    /// `"${cart.host}:${cart.port}"`, `"${db.url}"` (fields: services `host`,
    /// `port`, `port.NAME`, `url`, `url.NAME`; datastores `host`, `port`,
    /// `url` and, per engine, `database`, `user`, `password`; external hosts
    /// `host`, `port`, `url`). A target named here gets only these variables,
    /// not its default `X_HOST`, `X_PORT`, `X_URL`. Values with a secret part
    /// (a password, a URL with one; URLs carry it percent-encoded) or a
    /// `$(VAR)` reference are set in the container, composed by the kubelet,
    /// never written to the ConfigMap.
    #[schemars(with = "Option<BTreeMap<String, EnvValue>>")]
    pub env: Option<BTreeMap<String, Spanned<EnvValue>>>,
    /// Names of secret environment variables; values come from a git-ignored file.
    #[schemars(with = "Option<Vec<String>>")]
    pub secrets: Option<Vec<Spanned<String>>>,
    /// Volumes: with `size` a PersistentVolumeClaim, otherwise an emptyDir.
    pub volumes: Option<Vec<Volume>>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// Containers run to completion, in order, before the service's own
    /// (e.g. waiting for a schema, fetching assets).
    pub init_containers: Option<Vec<ExtraContainer>>,
    /// Containers running beside the service's own for the pod's lifetime
    /// (a proxy, a log shipper): native sidecars (init containers with
    /// `restartPolicy: Always`, started first and stopped last) from
    /// Kubernetes 1.29, plain containers before.
    pub sidecars: Option<Vec<ExtraContainer>>,
    /// Log level (default: the environment's, else `info`).
    pub log_level: Option<LogLevel>,
    /// UID the container runs as (default 10001).
    pub run_as_user: Option<u32>,
    /// PodDisruptionBudget (default: maxUnavailable 1).
    #[schemars(with = "Option<Pdb>")]
    pub pdb: Option<Spanned<Pdb>>,
    /// Graceful shutdown: how long to drain before SIGTERM, and the grace period.
    pub shutdown: Option<Shutdown>,
    /// Kubernetes API access the service needs.
    pub rbac: Option<Rbac>,
    /// Mesh traffic policy: timeout, retries, canary, circuit breaking, load
    /// balancing, fault injection, JWT (applied when the mesh is `istio`).
    pub traffic: Option<Traffic>,
    /// Service-level objective: `{ availability: "99.9", latency: { p99: 500ms } }`.
    pub slo: Option<Slo>,
    /// Alert thresholds (standard alerts are on by default) and custom alerts.
    pub alerts: Option<ServiceAlerts>,
    /// Node labels the pods must run on (`nodeSelector`).
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub node_selector: Option<BTreeMap<Name, String>>,
    /// Taints the pods tolerate.
    pub tolerations: Option<Vec<Toleration>>,
    /// Node and pod affinity, as Kubernetes writes it; added to kubeproof's
    /// anti-affinity that spreads replicas over nodes.
    pub affinity: Option<Affinity>,
    /// PriorityClass of the pods (the class is created apart).
    pub priority_class: Option<Name>,
    /// A VerticalPodAutoscaler: `{ mode: off | initial | auto, minAllowed, maxAllowed }`.
    pub vpa: Option<Vpa>,
    /// Labels added to the workload and its pods (never kubeproof's own,
    /// which its selectors and policies rely on).
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub labels: Option<BTreeMap<Name, String>>,
    /// Annotations added to the workload and its pods.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub annotations: Option<BTreeMap<Name, String>>,
    /// Changes to its generated objects (default target: its Deployment)
    /// that the description cannot say; see [`Patch`].
    pub patches: Option<Vec<Patch>>,
}

/// An init container or sidecar of a service: its image pinned like the
/// service's, hardened with the same security context, with its own `env`
/// (not the service's ConfigMap: a proxy needs none of the app's settings)
/// and the secrets it names from the service's Secret.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExtraContainer {
    /// Container name, unique in the pod (a DNS label).
    pub name: Name,
    /// Container image with a pinned tag or digest.
    #[schemars(with = "String")]
    pub image: Spanned<String>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// Plain environment variables of this container only (written in the
    /// pod spec: a credential goes in `secrets`).
    pub env: Option<BTreeMap<String, EnvValue>>,
    /// Names among the service's `secrets` this container reads.
    #[schemars(with = "Option<Vec<String>>")]
    pub secrets: Option<Vec<Spanned<String>>>,
    /// Requests and limits (default: 50m CPU, 64Mi memory).
    pub resources: Option<Resources>,
    /// The service's volumes this container mounts, by name (at the
    /// volume's path); `/tmp` is always writable.
    #[schemars(with = "Option<Vec<String>>")]
    pub volumes: Option<Vec<Name>>,
    /// Ports (sidecars only), named, e.g. a proxy's or an exporter's.
    pub ports: Option<Vec<PortSpec>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PortSpec {
    /// Port name (default: from the protocol, e.g. `http`, `grpc`).
    pub name: Option<String>,
    #[schemars(with = "u16")]
    pub port: Spanned<u16>,
    pub service_port: Option<u16>,
    pub protocol: Option<Protocol>,
    /// Publish this port (several ports may be published, each its own way).
    pub expose: Option<Expose>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Expose {
    /// How: `ingress` (default; the Istio ingress gateway under the mesh),
    /// `loadBalancer` or `nodePort` (a `NAME-public` or `NAME-nodeport`
    /// Service of that type), `gateway` (an HTTPRoute on `cluster.gateway`)
    /// or `internal` (in-cluster only: nothing at the edge).
    #[serde(rename = "type")]
    #[schemars(with = "Option<ExposeKind>")]
    pub kind: Option<Spanned<ExposeKind>>,
    /// Public host name (ingress and gateway).
    #[schemars(with = "Option<String>")]
    pub host: Option<Spanned<String>>,
    /// Path prefix (default `/`).
    pub path: Option<String>,
    /// Which port to publish, by name or number (default: the first port).
    pub port: Option<PortRef>,
    /// Requests per second: per client IP at the NGINX ingress; with the
    /// `istio` mesh, per ingress gateway pod for all clients (Envoy's local
    /// rate limit). Bursts of 5 × the rate pass.
    pub rate_limit: Option<u32>,
    /// Proxy read/send timeout at the ingress (default 60s; 1h for websockets).
    pub timeout: Option<Seconds>,
}

/// How a port is published (see [`Expose::kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ExposeKind {
    Ingress,
    LoadBalancer,
    NodePort,
    Gateway,
    Internal,
}

impl ExposeKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ExposeKind::Ingress => "ingress",
            ExposeKind::LoadBalancer => "loadBalancer",
            ExposeKind::NodePort => "nodePort",
            ExposeKind::Gateway => "gateway",
            ExposeKind::Internal => "internal",
        }
    }
}

/// A Gateway API Gateway installed apart, that HTTPRoutes attach to.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GatewayRef {
    pub name: Name,
    pub namespace: Name,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Autoscale {
    /// Target average CPU utilisation in percent of requests (default 70).
    pub cpu: Option<u8>,
    /// Target average memory utilisation in percent of requests.
    pub memory: Option<u8>,
    /// Custom per-pod metrics, served by prometheus-adapter from the rules
    /// `gen` writes: `X_per_second` is the rate of the service's request
    /// counter `X_total`, any other name a gauge it declares in
    /// `metrics.gauges`.
    pub metrics: Option<Vec<CustomMetric>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomMetric {
    /// Metric name as served by the custom metrics API.
    pub name: String,
    /// Target average value per pod, a quantity string (e.g. "100").
    pub average_value: EnvValue,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Resources {
    /// CPU request.
    pub cpu: Option<Cpu>,
    /// Memory request.
    pub memory: Option<Bytes>,
    pub limits: Option<Limits>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// CPU limit (default: none, to avoid throttling).
    pub cpu: Option<Cpu>,
    /// Memory limit (default: the memory request).
    pub memory: Option<Bytes>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probes {
    #[serde(default, deserialize_with = "value::path_or_map")]
    #[schemars(with = "Option<value::PathOr<Probe>>")]
    pub live: Option<Probe>,
    #[serde(default, deserialize_with = "value::path_or_map")]
    #[schemars(with = "Option<value::PathOr<Probe>>")]
    pub ready: Option<Probe>,
    #[serde(default, deserialize_with = "value::path_or_map")]
    #[schemars(with = "Option<value::PathOr<Probe>>")]
    pub startup: Option<Probe>,
}

/// A probe: a path (`/health/live`) or the full form with timings.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Probe {
    /// HTTP path; without it the probe is gRPC (grpc ports) or TCP.
    pub path: Option<String>,
    /// Port by name or number (default: the first port).
    pub port: Option<PortRef>,
    /// A command to run instead of an HTTP/gRPC/TCP check.
    pub exec: Option<Vec<String>>,
    /// `true`: a gRPC health check of `port`, whatever its protocol.
    pub grpc: Option<bool>,
    /// `true`: a TCP connect to `port`, whatever its protocol.
    pub tcp: Option<bool>,
    pub initial_delay: Option<Seconds>,
    pub period: Option<Seconds>,
    pub timeout: Option<Seconds>,
    pub failure_threshold: Option<u32>,
}

/// Prometheus metrics: a path (`/metrics`) or the full form.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Metrics {
    pub path: Option<String>,
    /// A separate metrics port (default: the first port).
    pub port: Option<u16>,
    /// Scrape interval (default 30s).
    pub interval: Option<Seconds>,
    /// Counter of handled requests, labelled with the status code (default
    /// `http_requests_total`; a `component`'s own, e.g.
    /// `prometheus_http_requests_total`).
    pub requests: Option<String>,
    /// Label of `requests` holding the HTTP status code, 5xx being server
    /// errors (default `status`; a `component`'s own, e.g. `code`).
    pub status_label: Option<String>,
    /// Histogram of request durations in seconds, base name (default
    /// `http_request_duration_seconds`; a `component`'s own).
    pub duration: Option<String>,
    /// The bucket boundaries (`le`, in seconds) of `duration`, for a latency
    /// objective (default: the Prometheus client libraries' 0.005, 0.01,
    /// 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5 and 10; a `component` has none).
    pub buckets: Option<Vec<f64>>,
    /// More histograms (base names, seconds) whose P50, P95 and P99 are recorded.
    pub histograms: Option<Vec<String>>,
    /// Label of `requests` naming the endpoint, for the dashboards' request
    /// rate by endpoint (default `handler`).
    pub endpoint_label: Option<String>,
    /// Gauges the service exports (e.g. `model_accuracy`), each a dashboard panel.
    pub gauges: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Volume {
    pub name: Name,
    /// Mount path in the container.
    pub path: String,
    /// With a size the volume is a PersistentVolumeClaim; without, an emptyDir.
    pub size: Option<Bytes>,
    /// PVC access mode (default ReadWriteOnce).
    pub access_mode: Option<AccessMode>,
    pub storage_class: Option<String>,
    /// Size limit of an emptyDir.
    pub size_limit: Option<Bytes>,
    pub read_only: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum AccessMode {
    ReadWriteOnce,
    ReadWriteMany,
    ReadOnlyMany,
    ReadWriteOncePod,
}

impl AccessMode {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteMany => "ReadWriteMany",
            AccessMode::ReadOnlyMany => "ReadOnlyMany",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        }
    }
}

/// A PodDisruptionBudget: one of the two fields.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Pdb {
    pub min_available: Option<u32>,
    pub max_unavailable: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Shutdown {
    /// How long the pod keeps serving after it is removed from endpoints
    /// (preStop), so in-flight requests and connections drain.
    pub drain: Option<Seconds>,
    /// terminationGracePeriodSeconds: drain plus the app's own shutdown.
    pub grace: Option<Seconds>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rbac {
    /// Read access to the service's own ConfigMap and Secret, and nothing else.
    pub read_own_config: Option<bool>,
}

/// A datastore. Optional fields for the same reason as [`Service`].
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Datastore {
    #[schemars(with = "Option<Engine>")]
    pub engine: Option<Spanned<Engine>>,
    /// Engine version (image tag), quoted: `"16.10"`; default: a pinned recent release.
    pub version: Option<Version>,
    /// Full image reference, overriding engine and version.
    pub image: Option<String>,
    /// Persistent volume size per replica (`10Gi`), or `ephemeral`: an
    /// emptyDir, lost with the pod (a cache); no claim, no backup.
    pub storage: Option<Storage>,
    pub storage_class: Option<String>,
    pub replicas: Option<u32>,
    pub namespace: Option<Name>,
    pub resources: Option<Resources>,
    /// Database name (postgres; default: the datastore's name).
    pub database: Option<String>,
    /// Scheduled dumps to the platform's `backup.bucket`, with a restore Job
    /// (postgres, redis, minio).
    pub backup: Option<DatastoreBackup>,
    /// `true`: Prometheus metrics, a PodMonitor and a down alert — an exporter
    /// sidecar for postgres and redis, the server's own endpoint for minio and
    /// rabbitmq (neo4j Community has none).
    #[schemars(with = "Option<bool>")]
    pub metrics: Option<Spanned<bool>>,
    /// What the data is, for an engine that can evict it when memory is
    /// full (redis): `cache` evicts the least recently used keys; `store`
    /// (default), `queue` and `session` refuse writes instead of losing data.
    #[schemars(with = "Option<DatastoreRole>")]
    pub role: Option<Spanned<DatastoreRole>>,
    /// `password` (default): a credentials Secret clients read; `none`: no
    /// credentials at all, for an engine that can run so (redis), reached
    /// only by the clients its network policy admits.
    #[schemars(with = "Option<Auth>")]
    pub auth: Option<Spanned<Auth>>,
    /// Engine settings, checked per engine: redis `maxmemory-policy`
    /// (overrides the `role` default); postgres `max_connections`,
    /// `shared_buffers` (default: a quarter of the memory limit).
    #[schemars(with = "Option<BTreeMap<String, EnvValue>>")]
    pub settings: Option<BTreeMap<Name, Spanned<EnvValue>>>,
    /// Node labels the pods must run on (`nodeSelector`).
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub node_selector: Option<BTreeMap<Name, String>>,
    /// Taints the pods tolerate.
    pub tolerations: Option<Vec<Toleration>>,
    /// Node and pod affinity, as Kubernetes writes it; added to kubeproof's
    /// anti-affinity that spreads replicas over nodes.
    pub affinity: Option<Affinity>,
    /// PriorityClass of the pods (the class is created apart).
    pub priority_class: Option<Name>,
    /// A VerticalPodAutoscaler: `{ mode: off | initial | auto, minAllowed, maxAllowed }`.
    pub vpa: Option<Vpa>,
    /// Labels added to the workload and its pods (never kubeproof's own,
    /// which its selectors and policies rely on).
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub labels: Option<BTreeMap<Name, String>>,
    /// Annotations added to the workload and its pods.
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    pub annotations: Option<BTreeMap<Name, String>>,
    /// Changes to its generated objects (default target: its StatefulSet);
    /// see [`Patch`].
    pub patches: Option<Vec<Patch>>,
}

/// Whether clients of a datastore authenticate (see [`Datastore::auth`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Auth {
    /// No credentials: the network policy is the only gate.
    None,
    /// A generated user and password from a git-ignored env file.
    Password,
}

/// What a datastore's data is (see [`Datastore::role`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DatastoreRole {
    /// Data that can be recomputed: evicted when memory is full.
    Cache,
    /// Data kept until deleted.
    Store,
    /// Messages waiting for a consumer.
    Queue,
    /// User sessions: evicting one logs its user out.
    Session,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct External {
    #[schemars(with = "String")]
    pub host: Spanned<String>,
    /// Default 443.
    pub port: Option<u16>,
    /// `https` (default) or `tcp`.
    pub protocol: Option<ExternalProtocol>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExternalProtocol {
    Https,
    Tcp,
}

impl value::FromPath for Probe {
    fn from_path(path: String) -> Self {
        Probe { path: Some(path), ..Probe::default() }
    }
}

impl value::FromPath for Metrics {
    fn from_path(path: String) -> Self {
        Metrics { path: Some(path), ..Metrics::default() }
    }
}
