//! What resolving yields: plain structs with every default filled in, which
//! the generators read.

use std::collections::{BTreeMap, BTreeSet};

use crate::description::alerts::{Alerting, SvcAlerts};
use crate::description::placement::VpaBound;
use crate::description::telemetry::Telemetry;
use crate::description::{
    AccessMode, Affinity, Bytes, Component, Cpu, Engine, ExposeKind, ExternalProtocol, KubeVersion, LogLevel, Mesh,
    Protocol, Seconds, TlsVersion, Toleration, Traffic, VpaMode,
};

/// A platform resolved for one environment (`env: None` is the base).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub platform: String,
    pub env: Option<String>,
    pub kube: KubeVersion,
    /// `cluster.capacity`'s figures (empty when not declared): no generated
    /// quota asks more.
    pub capacity: crate::model::resources::Capacity,
    pub mesh: Mesh,
    pub ingress_class: String,
    pub ingress_namespace: String,
    /// The Gateway API Gateway (`namespace`, `name`) routes attach to.
    pub gateway: Option<(String, String)>,
    pub monitoring_namespace: String,
    pub issuer: String,
    pub storage_class: Option<String>,
    /// TLS versions accepted at the Istio ingress Gateway.
    pub tls_min: TlsVersion,
    pub tls_max: Option<TlsVersion>,
    /// The platform's default namespace (monitoring objects of the platform go here).
    pub namespace: String,
    /// ServiceMonitors and PrometheusRule in the kustomize output.
    pub prometheus_operator: bool,
    /// Labels the Operator selects its monitors and rules by.
    pub monitoring_selector: BTreeMap<String, String>,
    pub alerting: Alerting,
    /// Tracing and log shipping, when the description asks for them.
    pub telemetry: Telemetry,
    pub services: Vec<Svc>,
    pub datastores: Vec<Store>,
    /// Labels and annotations of each Namespace, by name, as described.
    pub namespace_meta: BTreeMap<String, NamespaceMeta>,
    pub external: Vec<Ext>,
    /// Jobs run once per release, and cronjobs.
    pub jobs: Vec<JobR>,
    pub cronjobs: Vec<CronR>,
    /// The backup target and Velero schedules, when the description has `backup`.
    pub backup: Option<BackupTarget>,
    /// Where Secret values come from.
    pub secrets: crate::description::delivery::SecretsMode,
    /// The GitOps controller syncing the overlays, if any.
    pub delivery: Option<crate::description::delivery::DeliveryR>,
}

impl Resolved {
    /// Every namespace that holds something, sorted.
    pub fn namespaces(&self) -> BTreeSet<&str> {
        self.services
            .iter()
            .map(|s| s.namespace.as_str())
            .chain(self.datastores.iter().map(|d| d.namespace.as_str()))
            .chain(self.batch().map(|j| j.namespace.as_str()))
            .collect()
    }

    /// The pods of every job and cronjob.
    pub fn batch(&self) -> impl Iterator<Item = &JobR> {
        self.jobs.iter().chain(self.cronjobs.iter().map(|c| &c.job))
    }

    pub fn datastore(&self, name: &str) -> Option<&Store> {
        self.datastores.iter().find(|d| d.name == name)
    }

    pub fn service(&self, name: &str) -> Option<&Svc> {
        self.services.iter().find(|s| s.name == name)
    }

    pub fn external(&self, name: &str) -> Option<&Ext> {
        self.external.iter().find(|e| e.name == name)
    }

    /// The first service that is the component named `name` (`prometheus`).
    pub fn component(&self, name: &str) -> Option<&Svc> {
        self.services.iter().find(|s| s.component.is_some_and(|c| c.name() == name))
    }
}

#[derive(Debug, Clone)]
pub struct Svc {
    pub name: String,
    pub namespace: String,
    pub image: String,
    /// The off-the-shelf component it is: written, or recognised from the image.
    pub component: Option<Component>,
    /// The ports it serves, and a `metrics` port of its own when declared.
    pub ports: Vec<Port>,
    /// No port written: a queue consumer or load generator. It has no
    /// Service, and nothing connects to it (only Prometheus, to `metrics`).
    pub worker: bool,
    /// The published ports (`internal` ones are not listed: nothing is published).
    pub exposures: Vec<Exposure>,
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub autoscale: Scaling,
    pub requests: Requests,
    pub limits: LimitsR,
    /// Probes; `None`: none (a worker's unwritten probe, or `probes: {}`).
    pub live: Option<ProbeR>,
    pub ready: Option<ProbeR>,
    pub startup: Option<ProbeR>,
    pub metrics: Option<MetricsR>,
    pub uses: Vec<String>,
    /// The jobs that complete before this release of the service rolls out.
    pub after: Vec<String>,
    /// Plain `env` values (the ConfigMap's).
    pub env: BTreeMap<String, String>,
    /// `env` values naming targets (`${db.url}`) or variables (`$(VAR)`).
    pub templates: Vec<crate::description::template::EnvTemplate>,
    pub secrets: Vec<String>,
    pub volumes: Vec<Vol>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub init_containers: Vec<ExtraR>,
    pub sidecars: Vec<ExtraR>,
    pub log_level: LogLevel,
    pub run_as_user: u32,
    pub pdb: PdbR,
    pub drain_seconds: u32,
    pub grace_seconds: u32,
    pub read_own_config: bool,
    pub alerts: SvcAlerts,
    /// Mesh traffic settings as written (defaults are the generator's).
    pub traffic: Traffic,
    /// The canary release, when one is configured with an image.
    pub canary: Option<CanaryR>,
    /// Node selection, tolerations, affinity, priority, VPA, labels and annotations.
    pub placement: Placement,
}

/// What the description adds to a Namespace.
#[derive(Debug, Clone, Default)]
pub struct NamespaceMeta {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// Where a workload's pods run and what is added to them (see
/// [`crate::description::placement`]).
#[derive(Debug, Clone, Default)]
pub struct Placement {
    pub node_selector: BTreeMap<String, String>,
    pub tolerations: Vec<Toleration>,
    pub affinity: Option<Affinity>,
    pub priority_class: Option<String>,
    pub vpa: Option<VpaR>,
    /// On the workload and its pod template, beside kubeproof's own.
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// A VerticalPodAutoscaler, checked.
#[derive(Debug, Clone, Copy)]
pub struct VpaR {
    pub mode: VpaMode,
    pub min: VpaBound,
    pub max: VpaBound,
}

/// An init container or sidecar, resolved.
#[derive(Debug, Clone)]
pub struct ExtraR {
    pub name: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    /// Keys of the service's Secret it reads.
    pub secrets: Vec<String>,
    pub requests: Requests,
    pub limits: LimitsR,
    /// Names of the service's volumes it mounts.
    pub volumes: Vec<String>,
    /// Sidecars' ports; none for init containers.
    pub ports: Vec<Port>,
}

#[derive(Debug, Clone)]
pub struct CanaryR {
    pub image: String,
    /// Percent of the traffic the canary receives at the current step.
    pub weight: u8,
    pub replicas: u32,
}

impl Svc {
    pub fn autoscaled(&self) -> bool {
        self.min_replicas < self.max_replicas
    }

    /// The ports clients connect to: none for a worker (its only port, if
    /// any, is Prometheus').
    pub fn served_ports(&self) -> &[Port] {
        if self.worker { &[] } else { &self.ports }
    }

    /// The exposures of `kind`, each with the name of its edge objects: the
    /// service's own for the first, `NAME-PORT` for the others.
    pub fn exposed(&self, kind: ExposeKind) -> Vec<(String, &Exposure)> {
        self.exposures
            .iter()
            .filter(|e| e.kind == kind)
            .enumerate()
            .map(|(i, e)| (if i == 0 { self.name.clone() } else { format!("{}-{}", self.name, e.port_name) }, e))
            .collect()
    }

    /// The port an exposure publishes.
    pub fn exposed_port(&self, e: &Exposure) -> Option<&Port> {
        self.ports.iter().find(|p| p.name == e.port_name)
    }

    pub fn has_protocol(&self, p: Protocol) -> bool {
        self.ports.iter().any(|x| x.protocol == p)
    }

    /// The series a custom metric of the autoscaler is served from (by
    /// prometheus-adapter): `X_per_second` is the rate of the counter
    /// `X_total` the service exports as its request counter, any other name
    /// a gauge it declares. `None`: nothing it exports can serve it.
    pub fn served_from(&self, metric: &str) -> Option<Served> {
        self.metrics.as_ref()?.served_from(metric)
    }
}

impl MetricsR {
    /// See [`Svc::served_from`].
    pub fn served_from(&self, metric: &str) -> Option<Served> {
        let m = self;
        if let Some(base) = metric.strip_suffix("_per_second") {
            let counter = format!("{base}_total");
            return (m.http && m.requests == counter).then_some(Served::Rate(counter));
        }
        m.gauges.iter().any(|g| g == metric).then(|| Served::Gauge(metric.to_string()))
    }
}

/// Where a custom metric's value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    /// The per-second rate of a counter.
    Rate(String),
    /// A gauge, averaged per pod as it is.
    Gauge(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub port: u16,
    pub service_port: u16,
    pub protocol: Protocol,
}

#[derive(Debug, Clone)]
pub struct Exposure {
    pub kind: ExposeKind,
    /// Public host name (ingress and gateway; empty otherwise).
    pub host: String,
    pub path: String,
    /// The Service port name to route to.
    pub port_name: String,
    pub rate_limit: Option<u32>,
    pub timeout_seconds: u32,
}

#[derive(Debug, Clone, Default)]
pub struct Scaling {
    pub cpu: Option<u8>,
    pub memory: Option<u8>,
    pub metrics: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy)]
pub struct Requests {
    pub cpu: Cpu,
    pub memory: Bytes,
}

#[derive(Debug, Clone, Copy)]
pub struct LimitsR {
    pub cpu: Option<Cpu>,
    pub memory: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    Http { path: String, port: String },
    Grpc { port: u16 },
    Tcp { port: String },
    Exec(Vec<String>),
}

#[derive(Debug, Clone)]
pub struct ProbeR {
    pub handler: Handler,
    pub initial_delay: u32,
    pub period: u32,
    pub timeout: u32,
    pub failure_threshold: u32,
}

#[derive(Debug, Clone)]
pub struct MetricsR {
    pub path: String,
    pub port_name: String,
    pub interval: u32,
    /// Request counter, its status label, request duration histogram, more histograms.
    pub requests: String,
    pub status_label: String,
    pub duration: String,
    /// The bucket boundaries of `duration`, in seconds; empty when unknown.
    pub buckets: Vec<f64>,
    pub histograms: Vec<String>,
    pub endpoint_label: String,
    pub gauges: Vec<String>,
    /// Whether the target exports `requests` and `duration` at all: an
    /// off-the-shelf component may not (its request alerts are left out).
    pub http: bool,
    /// The value (regex) of `status_label` meaning a server error; `None`
    /// when the requests carry no status (no error ratio, no SLO alerts).
    pub errors: Option<String>,
    /// Units of `duration` per second: 1, or 1000 for milliseconds (Envoy).
    pub per_second: u32,
    /// A matcher keeping only served traffic in `requests` and `duration`
    /// (Envoy: not its admin listener's).
    pub served: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Vol {
    pub name: String,
    pub path: String,
    pub kind: VolKind,
    pub read_only: bool,
}

#[derive(Debug, Clone)]
pub enum VolKind {
    Claim { size: Bytes, access_mode: AccessMode, storage_class: Option<String> },
    Empty { size_limit: Option<Bytes> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdbR {
    MinAvailable(u32),
    MaxUnavailable(u32),
}

#[derive(Debug, Clone)]
pub struct Store {
    pub name: String,
    pub namespace: String,
    pub engine: Engine,
    pub image: String,
    /// The volume per replica; `None`: `ephemeral`, an emptyDir.
    pub storage: Option<Bytes>,
    pub storage_class: Option<String>,
    pub replicas: u32,
    pub requests: Requests,
    pub limits: LimitsR,
    pub database: String,
    pub backup: Option<StoreBackup>,
    /// Prometheus metrics (`metrics: true`): an exporter sidecar or the
    /// engine's own endpoint, scraped by a PodMonitor.
    pub metrics: bool,
    /// Its data may be evicted when memory is full (`role: cache`).
    pub cache: bool,
    /// Clients authenticate with the credentials Secret (`auth: password`,
    /// the default); otherwise there is no such Secret.
    pub auth: bool,
    /// The engine settings given, checked: (name, canonical value).
    pub settings: Vec<(String, String)>,
    /// Node selection, tolerations, affinity, priority, VPA, labels and annotations.
    pub placement: Placement,
}

/// A datastore's backup schedule, checked: `cron` is what `every` means.
#[derive(Debug, Clone)]
pub struct StoreBackup {
    pub every: Seconds,
    pub keep: Seconds,
    pub cron: String,
}

/// Where backups go.
#[derive(Debug, Clone)]
pub struct BackupTarget {
    /// The bucket name, without `s3://`.
    pub bucket: String,
    /// The key prefix inside the bucket (may be empty), without slashes at the ends.
    pub prefix: String,
    pub endpoint: String,
    /// The Secret with the bucket's credentials.
    pub credentials: String,
    pub velero_namespace: String,
    /// Velero schedules: (name, cron, ttl in seconds).
    pub velero: Vec<(String, String, Seconds)>,
}

#[derive(Debug, Clone)]
pub struct Ext {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub protocol: ExternalProtocol,
}

/// A job (or a cronjob's pod), resolved.
#[derive(Debug, Clone)]
pub struct JobR {
    pub name: String,
    pub namespace: String,
    pub image: String,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    pub env: BTreeMap<String, String>,
    pub secrets: Vec<String>,
    pub uses: Vec<String>,
    /// `env` values with `${target.field}` or `$(VAR)`, as a service's.
    pub templates: Vec<crate::description::template::EnvTemplate>,
    pub requests: Requests,
    pub limits: LimitsR,
    pub run_as_user: u32,
    pub backoff_limit: u32,
    /// Seconds.
    pub active_deadline: u32,
    /// Seconds a finished Job is kept (a cronjob's runs: its history limits instead).
    pub ttl_after_finished: u32,
}

/// A cronjob, resolved: its pod, and when and how it runs.
#[derive(Debug, Clone)]
pub struct CronR {
    pub job: JobR,
    pub schedule: String,
    pub time_zone: Option<String>,
    pub concurrency_policy: crate::description::ConcurrencyPolicy,
    pub successful_history: u32,
    pub failed_history: u32,
    /// Seconds.
    pub starting_deadline: u32,
    pub suspend: bool,
}
