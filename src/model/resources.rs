//! What a set of Kubernetes objects asks of the cluster — CPU and memory
//! requests and limits, pods and persistent storage — per namespace, at
//! minimum and at maximum scale (`kubeproof budget`, the KP7xx checks and
//! the quotas `gen` writes all count this way); and LimitRange defaults.
//!
//! How objects count:
//! - Deployments, StatefulSets, ReplicaSets, ReplicationControllers:
//!   `spec.replicas` (default 1), or the `minReplicas`/`maxReplicas` of the
//!   HorizontalPodAutoscaler that scales them. DaemonSets: one pod per node
//!   (the capacity's `nodes`, else 1). Pods: one.
//! - Objects with `ownerReferences` are left out: their owner is counted.
//! - Jobs and CronJobs run to completion: one run of each (its
//!   `parallelism`) is counted apart, as `batch`, and not added to the
//!   minimum and maximum (they come and go); quotas leave room for them.
//! - A pod's request is the sum of its long-running containers (with
//!   sidecar init containers), or its largest init container if that is
//!   more. A container without a request gets its limit, else its
//!   namespace's LimitRange default, else nothing (counted in
//!   `containersWithoutRequests`).
//! - An Istio sidecar is added to every pod that gets one injected (the
//!   namespace's `istio-injection: enabled` or `istio.io/rev` label, or the
//!   pod's `sidecar.istio.io/inject` label or annotation): 100m/128Mi
//!   requests and 2000m/1Gi limits, Istio's defaults, or the pod's
//!   `sidecar.istio.io/proxyCPU`, `proxyMemory`, `proxyCPULimit` and
//!   `proxyMemoryLimit` annotations.
//! - Storage: every PersistentVolumeClaim once (a ReadWriteMany claim shared
//!   by many pods too), plus each StatefulSet's `volumeClaimTemplates` times
//!   its replicas. emptyDirs are node disk, not counted.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::Value;
use serde::Serialize;

use super::pods::{Container, Pod, template_pointers};
use super::quantity::{Bytes, Cpu, nanos};
use super::{At, Manifests};

/// Istio's default sidecar (istio-proxy) resources.
pub mod istio {
    pub const CPU_REQUEST_MILLIS: u64 = 100;
    pub const MEMORY_REQUEST: u64 = 128 << 20;
    pub const CPU_LIMIT_MILLIS: u64 = 2000;
    pub const MEMORY_LIMIT: u64 = 1 << 30;
}

/// One object to budget: what both inputs (generated objects and loaded
/// manifests) are turned into.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub kind: &'a str,
    /// The effective namespace (`default` when none is written).
    pub namespace: &'a str,
    pub name: &'a str,
    pub value: &'a Value,
}

impl<'a> Item<'a> {
    pub fn of_checked(o: &'a crate::model::Object) -> Item<'a> {
        Item { kind: &o.kind, namespace: o.ns(), name: &o.name, value: &o.value }
    }
}

/// Resources of one pod, of a workload, of a namespace or of everything.
/// CPU in millicores, memory and storage in bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Amounts {
    pub pods: u64,
    pub cpu_requests_millis: u64,
    /// A lower bound when `containersWithoutCpuLimit` is not zero.
    pub cpu_limits_millis: u64,
    pub memory_requests_bytes: u64,
    /// A lower bound when `containersWithoutMemoryLimit` is not zero.
    pub memory_limits_bytes: u64,
    pub storage_bytes: u64,
    pub containers_without_cpu_limit: u64,
    pub containers_without_memory_limit: u64,
    pub containers_without_requests: u64,
}

impl Amounts {
    pub fn times(&self, n: u64) -> Amounts {
        Amounts {
            pods: self.pods.saturating_mul(n),
            cpu_requests_millis: self.cpu_requests_millis.saturating_mul(n),
            cpu_limits_millis: self.cpu_limits_millis.saturating_mul(n),
            memory_requests_bytes: self.memory_requests_bytes.saturating_mul(n),
            memory_limits_bytes: self.memory_limits_bytes.saturating_mul(n),
            storage_bytes: self.storage_bytes.saturating_mul(n),
            containers_without_cpu_limit: self.containers_without_cpu_limit.saturating_mul(n),
            containers_without_memory_limit: self.containers_without_memory_limit.saturating_mul(n),
            containers_without_requests: self.containers_without_requests.saturating_mul(n),
        }
    }

    pub fn add(&mut self, o: &Amounts) {
        self.pods = self.pods.saturating_add(o.pods);
        self.cpu_requests_millis = self.cpu_requests_millis.saturating_add(o.cpu_requests_millis);
        self.cpu_limits_millis = self.cpu_limits_millis.saturating_add(o.cpu_limits_millis);
        self.memory_requests_bytes = self.memory_requests_bytes.saturating_add(o.memory_requests_bytes);
        self.memory_limits_bytes = self.memory_limits_bytes.saturating_add(o.memory_limits_bytes);
        self.storage_bytes = self.storage_bytes.saturating_add(o.storage_bytes);
        self.containers_without_cpu_limit =
            self.containers_without_cpu_limit.saturating_add(o.containers_without_cpu_limit);
        self.containers_without_memory_limit =
            self.containers_without_memory_limit.saturating_add(o.containers_without_memory_limit);
        self.containers_without_requests =
            self.containers_without_requests.saturating_add(o.containers_without_requests);
    }

    pub fn get(&self, r: Resource) -> u64 {
        match r {
            Resource::Cpu => self.cpu_requests_millis,
            Resource::Memory => self.memory_requests_bytes,
            Resource::Storage => self.storage_bytes,
        }
    }
}

/// A workload's pods: how many, and what each asks.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub min_replicas: u64,
    pub max_replicas: u64,
    /// One pod, the sidecar included (`storageBytes`: its volumeClaimTemplates).
    pub pod: Amounts,
    pub istio_sidecar: bool,
    /// A Job or CronJob: counted apart, one run.
    pub batch: bool,
}

impl Workload {
    pub fn at(&self, scale: Scale) -> Amounts {
        self.pod.times(match scale {
            Scale::Min => self.min_replicas,
            Scale::Max => self.max_replicas,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scale {
    Min,
    Max,
}

impl Scale {
    pub fn as_str(&self) -> &'static str {
        match self {
            Scale::Min => "minimum",
            Scale::Max => "maximum",
        }
    }
}

/// The resources compared with capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Resource {
    Cpu,
    Memory,
    Storage,
}

impl Resource {
    pub const ALL: [Resource; 3] = [Resource::Cpu, Resource::Memory, Resource::Storage];

    pub fn as_str(&self) -> &'static str {
        match self {
            Resource::Cpu => "CPU requests",
            Resource::Memory => "memory requests",
            Resource::Storage => "storage",
        }
    }

    /// A value of this resource for people: `4550m`, `9856Mi`, `231Gi`.
    pub fn show(&self, v: u64) -> String {
        match self {
            Resource::Cpu => cpu_text(v),
            _ => bytes_text(v),
        }
    }
}

/// What one namespace (or everything) asks at both scales, and its batch runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Usage {
    pub min: Amounts,
    pub max: Amounts,
    pub batch: Amounts,
}

impl Usage {
    pub fn at(&self, s: Scale) -> &Amounts {
        match s {
            Scale::Min => &self.min,
            Scale::Max => &self.max,
        }
    }

    fn add(&mut self, o: &Usage) {
        self.min.add(&o.min);
        self.max.add(&o.max);
        self.batch.add(&o.batch);
    }
}

/// What applying a generation asks at its peak: every workload at its
/// maximum, each Deployment's rolling-update surge on top (a new generation
/// rolls them all at once) and one run of every Job and CronJob (release
/// Jobs run then). `items` are what `b` was computed from.
pub fn release_peak(items: &[Item], b: &Budget) -> Amounts {
    let mut peak = b.total.max;
    peak.add(&b.total.batch);
    for s in surges(items, b).values() {
        peak.add(s);
    }
    peak
}

/// Whether [`Budget::of`] and [`surges`] read objects of `kind` (workloads,
/// autoscalers, namespaces, LimitRanges, claims): others may be left out
/// of their items. Converting every object of a stack for them, its
/// dashboards and rules too, was 2 % of `gen`'s CPU time on kailash.
pub fn budgeted(kind: &str) -> bool {
    matches!(kind, "Namespace" | "HorizontalPodAutoscaler" | "LimitRange" | "PersistentVolumeClaim")
        || template_pointers(kind).is_some()
}

/// The pods each Deployment's rolling update adds above its maximum, by
/// namespace (no storage: a Deployment's surge pod claims none of its own).
pub fn surges(items: &[Item], b: &Budget) -> BTreeMap<String, Amounts> {
    let deployments: HashMap<(&str, &str), &Value> =
        items.iter().filter(|i| i.kind == "Deployment").map(|i| ((i.namespace, i.name), i.value)).collect();
    let mut out: BTreeMap<String, Amounts> = BTreeMap::new();
    for w in b.workloads.iter().filter(|w| w.kind == "Deployment") {
        if let Some(d) = deployments.get(&(w.namespace.as_str(), w.name.as_str())) {
            let mut pods = w.pod.times(surge_pods(d, w.max_replicas));
            pods.storage_bytes = 0;
            out.entry(w.namespace.clone()).or_default().add(&pods);
        }
    }
    out
}

/// The pods a rolling update adds above `replicas`: `maxSurge` as a number,
/// or a percentage rounded up (25% when unset); none for `Recreate`.
fn surge_pods(deployment: &Value, replicas: u64) -> u64 {
    let strategy = deployment.pointer("/spec/strategy");
    if strategy.and_then(|s| s.get("type")).and_then(Value::as_str) == Some("Recreate") {
        return 0;
    }
    let percent = |p: u64| (replicas.saturating_mul(p)).div_ceil(100);
    match strategy.and_then(|s| s.pointer("/rollingUpdate/maxSurge")) {
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        Some(Value::String(s)) => s.strip_suffix('%').and_then(|p| p.parse().ok()).map_or(0, percent),
        _ => percent(25),
    }
}

/// What the cluster can hold. Missing figures are not compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capacity {
    pub cpu_millis: Option<u64>,
    pub memory_bytes: Option<u64>,
    pub storage_bytes: Option<u64>,
    pub nodes: Option<u64>,
}

impl Capacity {
    pub fn get(&self, r: Resource) -> Option<u64> {
        match r {
            Resource::Cpu => self.cpu_millis,
            Resource::Memory => self.memory_bytes,
            Resource::Storage => self.storage_bytes,
        }
    }

    /// Figures of `over` replace these: `--capacity` over the description's.
    pub fn overridden(self, over: &Capacity) -> Capacity {
        Capacity {
            cpu_millis: over.cpu_millis.or(self.cpu_millis),
            memory_bytes: over.memory_bytes.or(self.memory_bytes),
            storage_bytes: over.storage_bytes.or(self.storage_bytes),
            nodes: over.nodes.or(self.nodes),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.cpu_millis.is_none() && self.memory_bytes.is_none() && self.storage_bytes.is_none()
    }

    /// `cpu=4,memory=24Gi,storage=200Gi,nodes=3` (any subset).
    pub fn parse(s: &str) -> Result<Capacity, String> {
        let mut c = Capacity::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!("`{part}` is not KEY=VALUE (e.g. cpu=4,memory=24Gi,storage=200Gi)"));
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "cpu" => c.cpu_millis = Some(Cpu::parse(value)?.millis()),
                "memory" => c.memory_bytes = Some(Bytes::parse(value)?.get()),
                "storage" => c.storage_bytes = Some(Bytes::parse(value)?.get()),
                "nodes" => {
                    c.nodes = Some(value.parse().map_err(|_| format!("nodes: `{value}` is not a whole number"))?)
                }
                other => return Err(format!("unknown capacity `{other}`; use cpu, memory, storage and nodes")),
            }
        }
        if c.is_empty() && c.nodes.is_none() {
            return Err("no capacity given (e.g. cpu=4,memory=24Gi,storage=200Gi)".into());
        }
        Ok(c)
    }
}

/// Requests beyond capacity at one scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Excess {
    pub resource: Resource,
    pub scale: Scale,
    pub requested: u64,
    pub capacity: u64,
}

impl Excess {
    pub fn over(&self) -> u64 {
        self.requested.saturating_sub(self.capacity)
    }
}

/// The budget of a set of objects.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    pub namespaces: BTreeMap<String, Usage>,
    pub total: Usage,
    pub workloads: Vec<Workload>,
}

/// What the objects say about the workloads of their namespace: Namespace
/// labels (sidecar injection), autoscaler bounds, LimitRange defaults, and
/// the storage of standalone claims.
#[derive(Default)]
struct Facts<'a> {
    namespace_labels: HashMap<&'a str, &'a Value>,
    /// (kind, namespace, name) of the scaled object → (min, max).
    hpas: HashMap<(&'a str, &'a str, &'a str), (u64, u64)>,
    defaults: HashMap<&'a str, Defaults>,
    claims: BTreeMap<&'a str, u64>,
}

impl<'a> Facts<'a> {
    fn of(items: &[Item<'a>]) -> Facts<'a> {
        let mut f = Facts::default();
        for it in items {
            match it.kind {
                "Namespace" => {
                    if let Some(l) = it.value.at("/metadata/labels") {
                        f.namespace_labels.insert(it.name, l);
                    }
                }
                "HorizontalPodAutoscaler" => {
                    let r = it.value.at("/spec/scaleTargetRef");
                    let kind = r.and_then(|r| r.get("kind")).and_then(Value::as_str);
                    let name = r.and_then(|r| r.get("name")).and_then(Value::as_str);
                    let min = match it.value.at("/spec/minReplicas") {
                        None | Some(Value::Null) => Some(1),
                        Some(v) => v.as_u64(),
                    };
                    let max = it.value.at("/spec/maxReplicas").and_then(Value::as_u64);
                    if let (Some(kind), Some(name), Some(min), Some(max)) = (kind, name, min, max) {
                        f.hpas.entry((kind, it.namespace, name)).or_insert((min, max.max(min)));
                    }
                }
                "LimitRange" => f.defaults.entry(it.namespace).or_default().read(it.value),
                "PersistentVolumeClaim" if !owned(it.value) => {
                    *f.claims.entry(it.namespace).or_default() += storage_of(it.value.at("/spec"));
                }
                _ => {}
            }
        }
        f
    }

    /// The workload an object runs, if it has pods of its own.
    fn workload(&self, it: &Item, nodes: Option<u64>) -> Option<Workload> {
        let (spec_ptr, labels_ptr) = template_pointers(it.kind)?;
        if owned(it.value) {
            return None;
        }
        let spec = it.value.at(spec_ptr).filter(|s| s.is_object())?;
        let (min, max) = self.replicas(it, nodes);
        let template_meta = labels_ptr.strip_suffix("/labels").unwrap_or("/metadata");
        let meta = it.value.at(template_meta);
        let sidecar = injected(meta, spec, self.namespace_labels.get(it.namespace).copied());
        let mut pod = pod_amounts(spec, self.defaults.get(it.namespace));
        if sidecar {
            pod.add(&proxy(meta));
        }
        if it.kind == "StatefulSet" {
            pod.storage_bytes = it
                .value
                .at("/spec/volumeClaimTemplates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| storage_of(t.get("spec")))
                .fold(0u64, u64::saturating_add);
        }
        Some(Workload {
            kind: it.kind.to_string(),
            namespace: it.namespace.to_string(),
            name: it.name.to_string(),
            min_replicas: min,
            max_replicas: max,
            pod,
            istio_sidecar: sidecar,
            batch: matches!(it.kind, "Job" | "CronJob"),
        })
    }

    /// Pods at minimum and maximum scale: the autoscaler's bounds, else the
    /// count the kind implies.
    fn replicas(&self, it: &Item, nodes: Option<u64>) -> (u64, u64) {
        if let Some(&(min, max)) = self.hpas.get(&(it.kind, it.namespace, it.name)) {
            return (min, max);
        }
        let n = match it.kind {
            "Pod" => 1,
            "DaemonSet" => nodes.unwrap_or(1),
            "Job" => count(it.value.at("/spec/parallelism")),
            "CronJob" => count(it.value.at("/spec/jobTemplate/spec/parallelism")),
            _ => count(it.value.at("/spec/replicas")),
        };
        (n, n)
    }
}

impl Budget {
    /// Budgets `items`; DaemonSets run on `nodes` nodes (1 when unknown).
    pub fn of(items: &[Item], nodes: Option<u64>) -> Budget {
        let facts = Facts::of(items);
        let workloads = items.iter().filter_map(|it| facts.workload(it, nodes)).collect();
        let mut b = Budget { workloads, ..Budget::default() };
        for w in &b.workloads {
            let u = b.namespaces.entry(w.namespace.clone()).or_default();
            if w.batch {
                u.batch.add(&w.at(Scale::Max));
            } else {
                u.min.add(&w.at(Scale::Min));
                u.max.add(&w.at(Scale::Max));
            }
        }
        for (ns, bytes) in &facts.claims {
            let u = b.namespaces.entry(ns.to_string()).or_default();
            u.min.storage_bytes = u.min.storage_bytes.saturating_add(*bytes);
            u.max.storage_bytes = u.max.storage_bytes.saturating_add(*bytes);
        }
        let mut total = Usage::default();
        for u in b.namespaces.values() {
            total.add(u);
        }
        b.total = total;
        b
    }

    /// Requests beyond `capacity`, minimum scale first.
    pub fn excesses(&self, capacity: &Capacity) -> Vec<Excess> {
        let mut out = Vec::new();
        for scale in [Scale::Min, Scale::Max] {
            for r in Resource::ALL {
                let Some(have) = capacity.get(r) else { continue };
                let need = self.total.at(scale).get(r);
                if need > have {
                    out.push(Excess { resource: r, scale, requested: need, capacity: have });
                }
            }
        }
        out
    }

    /// Whether the requests at minimum scale fit (what the exit code says).
    pub fn fits(&self, capacity: &Capacity) -> bool {
        self.excesses(capacity).iter().all(|e| e.scale != Scale::Min)
    }

    /// The workload with the largest share of a sum that saturated (its
    /// own figure may fit: 100 replicas of 10^15 cores do not): the one to
    /// name when the sums cannot be shown. `None` when no workload's share
    /// stands out (a claim's storage) or nothing saturated.
    pub fn largest_in_saturated(&self) -> Option<&Workload> {
        let fields: [fn(&Amounts) -> u64; 6] = [
            |a| a.cpu_requests_millis,
            |a| a.cpu_limits_millis,
            |a| a.memory_requests_bytes,
            |a| a.memory_limits_bytes,
            |a| a.storage_bytes,
            |a| a.pods,
        ];
        let totals = [&self.total.min, &self.total.max, &self.total.batch];
        let field = fields.iter().find(|f| totals.iter().any(|t| f(t) == u64::MAX))?;
        self.workloads.iter().filter(|w| field(&w.at(Scale::Max)) > 0).max_by_key(|w| field(&w.at(Scale::Max)))
    }

    /// Whether a sum reached the largest figure: the sums saturate there,
    /// so any figure shown would be wrong.
    pub fn saturated(&self) -> bool {
        [&self.total.min, &self.total.max, &self.total.batch].iter().any(|a| {
            [
                a.cpu_requests_millis,
                a.cpu_limits_millis,
                a.memory_requests_bytes,
                a.memory_limits_bytes,
                a.storage_bytes,
                a.pods,
            ]
            .contains(&u64::MAX)
        })
    }
}

/// A replica count as written (default 1; malformed counts as 1).
fn count(v: Option<&Value>) -> u64 {
    match v {
        None | Some(Value::Null) => 1,
        Some(v) => v.as_u64().unwrap_or(1),
    }
}

fn owned(v: &Value) -> bool {
    v.at("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|a| !a.is_empty())
}

/// `resources.requests.storage` of a PVC spec, in bytes.
fn storage_of(spec: Option<&Value>) -> u64 {
    spec.and_then(|s| s.at("/resources/requests/storage")).and_then(bytes).unwrap_or(0)
}

/// A quantity in millicores, rounded up.
pub fn millis(v: &Value) -> Option<u64> {
    let n = nanos(v)?;
    u64::try_from((n + 999_999).div_euclid(1_000_000)).ok()
}

/// A quantity in bytes, rounded up.
pub fn bytes(v: &Value) -> Option<u64> {
    let n = nanos(v)?;
    u64::try_from((n + 999_999_999).div_euclid(1_000_000_000)).ok()
}

/// A namespace's LimitRange defaults for containers.
#[derive(Debug, Default, Clone, Copy)]
struct Defaults {
    cpu_request: Option<u64>,
    memory_request: Option<u64>,
    cpu_limit: Option<u64>,
    memory_limit: Option<u64>,
}

impl Defaults {
    fn read(&mut self, lr: &Value) {
        for item in lr.at("/spec/limits").and_then(Value::as_array).into_iter().flatten() {
            if item.get("type").and_then(Value::as_str) != Some("Container") {
                continue;
            }
            let get = |field: &str, r: &str| item.get(field).and_then(|m| m.get(r));
            self.cpu_limit = self.cpu_limit.or(get("default", "cpu").and_then(millis));
            self.memory_limit = self.memory_limit.or(get("default", "memory").and_then(bytes));
            // Without defaultRequest, Kubernetes uses the default limit.
            self.cpu_request = self.cpu_request.or(get("defaultRequest", "cpu").and_then(millis)).or(self.cpu_limit);
            self.memory_request =
                self.memory_request.or(get("defaultRequest", "memory").and_then(bytes)).or(self.memory_limit);
        }
    }
}

/// One container's figures, with the defaults Kubernetes applies.
fn container(c: &Value, d: Option<&Defaults>) -> Amounts {
    let d = d.copied().unwrap_or_default();
    let get = |side: &str, r: &str| c.at(&format!("/resources/{side}/{r}")).filter(|v| !v.is_null());
    let cpu_limit = get("limits", "cpu").and_then(millis).or(d.cpu_limit);
    let memory_limit = get("limits", "memory").and_then(bytes).or(d.memory_limit);
    let cpu_request =
        get("requests", "cpu").and_then(millis).or(get("limits", "cpu").and_then(millis)).or(d.cpu_request);
    let memory_request =
        get("requests", "memory").and_then(bytes).or(get("limits", "memory").and_then(bytes)).or(d.memory_request);
    Amounts {
        pods: 0,
        cpu_requests_millis: cpu_request.unwrap_or(0),
        cpu_limits_millis: cpu_limit.unwrap_or(0),
        memory_requests_bytes: memory_request.unwrap_or(0),
        memory_limits_bytes: memory_limit.unwrap_or(0),
        storage_bytes: 0,
        containers_without_cpu_limit: u64::from(cpu_limit.is_none()),
        containers_without_memory_limit: u64::from(memory_limit.is_none()),
        containers_without_requests: u64::from(cpu_request.is_none() && memory_request.is_none()),
    }
}

/// One pod: its long-running containers, or its largest init container
/// when that asks for more (init containers run one at a time, before).
fn pod_amounts(spec: &Value, d: Option<&Defaults>) -> Amounts {
    let list = |f: &str| spec.get(f).and_then(Value::as_array).unwrap_or_default();
    let mut app = Amounts { pods: 1, ..Amounts::default() };
    let mut init = Amounts::default();
    for c in list("containers").iter().filter(|c| c.is_object()) {
        app.add(&container(c, d));
    }
    for c in list("initContainers").iter().filter(|c| c.is_object()) {
        let a = container(c, d);
        if c.get("restartPolicy").and_then(Value::as_str) == Some("Always") {
            app.add(&a);
        } else {
            init.cpu_requests_millis = init.cpu_requests_millis.max(a.cpu_requests_millis);
            init.cpu_limits_millis = init.cpu_limits_millis.max(a.cpu_limits_millis);
            init.memory_requests_bytes = init.memory_requests_bytes.max(a.memory_requests_bytes);
            init.memory_limits_bytes = init.memory_limits_bytes.max(a.memory_limits_bytes);
        }
    }
    app.cpu_requests_millis = app.cpu_requests_millis.max(init.cpu_requests_millis);
    app.cpu_limits_millis = app.cpu_limits_millis.max(init.cpu_limits_millis);
    app.memory_requests_bytes = app.memory_requests_bytes.max(init.memory_requests_bytes);
    app.memory_limits_bytes = app.memory_limits_bytes.max(init.memory_limits_bytes);
    // Pod-level resources (Kubernetes 1.32+) replace the containers' sums.
    if let Some(v) = spec.at("/resources/requests/cpu").and_then(millis) {
        app.cpu_requests_millis = v;
    }
    if let Some(v) = spec.at("/resources/requests/memory").and_then(bytes) {
        app.memory_requests_bytes = v;
    }
    app
}

/// Whether Istio injects a sidecar into pods of this template.
fn injected(meta: Option<&Value>, spec: &Value, ns_labels: Option<&Value>) -> bool {
    let has_proxy = spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .chain(spec.get("initContainers").and_then(Value::as_array))
        .flatten()
        .any(|c| c.get("name").and_then(Value::as_str) == Some("istio-proxy"));
    if has_proxy || spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        return false;
    }
    let pod_says = ["labels", "annotations"].iter().find_map(|f| {
        meta.and_then(|m| m.get(*f)).and_then(|m| m.get("sidecar.istio.io/inject")).and_then(Value::as_str)
    });
    match pod_says {
        Some("false") => false,
        Some("true") => true,
        _ => {
            let label = |k: &str| ns_labels.and_then(|l| l.get(k)).and_then(Value::as_str);
            label("istio-injection") == Some("enabled")
                || (label("istio-injection") != Some("disabled") && label("istio.io/rev").is_some())
        }
    }
}

/// The istio-proxy container of a pod: Istio's defaults or the pod's annotations.
fn proxy(meta: Option<&Value>) -> Amounts {
    let annotation = |k: &str| {
        meta.and_then(|m| m.at("/annotations"))
            .and_then(|a| a.get(format!("sidecar.istio.io/{k}")))
            .filter(|v| v.is_string())
    };
    Amounts {
        pods: 0,
        cpu_requests_millis: annotation("proxyCPU").and_then(millis).unwrap_or(istio::CPU_REQUEST_MILLIS),
        cpu_limits_millis: annotation("proxyCPULimit").and_then(millis).unwrap_or(istio::CPU_LIMIT_MILLIS),
        memory_requests_bytes: annotation("proxyMemory").and_then(bytes).unwrap_or(istio::MEMORY_REQUEST),
        memory_limits_bytes: annotation("proxyMemoryLimit").and_then(bytes).unwrap_or(istio::MEMORY_LIMIT),
        ..Amounts::default()
    }
}

const MI: u64 = 1 << 20;
const GI: u64 = 1 << 30;

/// Millicores as written in manifests: `4550m`.
pub fn cpu_text(m: u64) -> String {
    format!("{m}m")
}

/// Bytes, short: `9856Mi`, `231Gi`, `1.5Gi`, `512Ki`.
pub fn bytes_text(b: u64) -> String {
    if b == 0 {
        return "0".into();
    }
    if b.is_multiple_of(GI) {
        return format!("{}Gi", b / GI);
    }
    // Quarters of a Gi read better as Gi: 2.5Gi, 1.25Gi.
    if b >= GI && b.saturating_mul(4).is_multiple_of(GI) {
        return format!("{}Gi", b as f64 / GI as f64);
    }
    if b.is_multiple_of(MI) {
        return format!("{}Mi", b / MI);
    }
    if b >= MI {
        return format!("{:.1}Mi", b as f64 / MI as f64);
    }
    format!("{b}")
}

/// A request or a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Request,
    Limit,
}

/// Namespaces whose LimitRanges give containers a default request or limit,
/// by (namespace, resource, side).
pub struct LimitDefaults {
    set: HashSet<(String, String, Side)>,
}

impl LimitDefaults {
    pub fn build(cx: &Manifests) -> LimitDefaults {
        let mut set = HashSet::new();
        for &l in cx.index.of_kind("LimitRange") {
            let o = &cx.objects[l];
            for item in o.value.at("/spec/limits").and_then(Value::as_array).into_iter().flatten() {
                if item.get("type").and_then(Value::as_str) != Some("Container") {
                    continue;
                }
                // A default limit comes from `default`, else `max`; a default
                // request from `defaultRequest`, else the default limit.
                for (field, sides) in [
                    ("defaultRequest", &[Side::Request][..]),
                    ("default", &[Side::Request, Side::Limit][..]),
                    ("max", &[Side::Request, Side::Limit][..]),
                ] {
                    for resource in item.get(field).and_then(Value::as_object).into_iter().flat_map(|m| m.keys()) {
                        for &side in sides {
                            set.insert((o.ns().to_string(), resource.to_string(), side));
                        }
                    }
                }
            }
        }
        LimitDefaults { set }
    }

    pub fn covers(&self, ns: &str, resource: &str, side: Side) -> bool {
        self.set.contains(&(ns.to_string(), resource.to_string(), side))
    }
}

/// Whether a container ends up with a request for `resource`: written, or
/// defaulted from its limit, or from a LimitRange of its namespace, or set
/// for the whole pod (pod-level `spec.resources`).
pub fn has_request(pod: &Pod, c: &Container, resource: &str, ns: &str, defaults: &LimitDefaults) -> bool {
    let written = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    ["requests", "limits"].iter().any(|side| {
        written(c.get(&format!("/resources/{side}/{resource}")))
            || written(pod.spec.at(&format!("/resources/{side}/{resource}")))
    }) || defaults.covers(ns, resource, Side::Request)
}

/// Whether a container ends up with a memory limit: its own, a LimitRange
/// default, or a pod-level limit.
pub fn has_memory_limit(pod: &Pod, c: &Container, ns: &str, defaults: &LimitDefaults) -> bool {
    let written = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    written(c.get("/resources/limits/memory"))
        || written(pod.spec.at("/resources/limits/memory"))
        || defaults.covers(ns, "memory", Side::Limit)
}

#[cfg(test)]
mod tests {
    use crate::model::value::value as json;

    use super::*;

    fn budget(values: &[Value]) -> Budget {
        let items: Vec<Item> = values
            .iter()
            .map(|v| Item {
                kind: v["kind"].as_str().unwrap_or(""),
                namespace: v.at("/metadata/namespace").and_then(Value::as_str).unwrap_or("default"),
                name: v.at("/metadata/name").and_then(Value::as_str).unwrap_or(""),
                value: v,
            })
            .collect();
        Budget::of(&items, Some(3))
    }

    fn deployment(ns: &str, replicas: Option<u64>, resources: Value) -> Value {
        json!({"kind": "Deployment", "metadata": {"name": "api", "namespace": ns},
               "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "api", "resources": resources}]}}}})
    }

    #[test]
    fn hpa_sets_min_and_max_and_limits_default_requests() {
        let b = budget(&[
            deployment("a", None, json!({"limits": {"cpu": "1", "memory": "1Gi"}})),
            json!({"kind": "HorizontalPodAutoscaler", "metadata": {"name": "api", "namespace": "a"},
                   "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "api"}, "minReplicas": 2, "maxReplicas": 5}}),
        ]);
        let u = &b.namespaces["a"];
        assert_eq!((u.min.pods, u.min.cpu_requests_millis, u.max.cpu_requests_millis), (2, 2000, 5000));
        assert_eq!(u.max.memory_requests_bytes, 5 << 30);
    }

    #[test]
    fn istio_sidecar_is_added_where_injected() {
        let b = budget(&[
            json!({"kind": "Namespace", "metadata": {"name": "m", "labels": {"istio-injection": "enabled"}}}),
            deployment("m", Some(2), json!({"requests": {"cpu": "250m", "memory": "256Mi"}})),
            deployment("n", Some(1), json!({"requests": {"cpu": "250m", "memory": "256Mi"}})),
        ]);
        let m = &b.namespaces["m"].min;
        assert_eq!((m.cpu_requests_millis, m.memory_requests_bytes), (2 * 350, 2 * (384 << 20)));
        assert_eq!((m.cpu_limits_millis, m.containers_without_cpu_limit), (2 * 2000, 2));
        assert_eq!(b.namespaces["n"].min.cpu_requests_millis, 250);
    }

    #[test]
    fn statefulset_claims_times_replicas_and_pvcs_once() {
        let b = budget(&[
            json!({"kind": "StatefulSet", "metadata": {"name": "db", "namespace": "d"},
                   "spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "db"}]}},
                            "volumeClaimTemplates": [{"spec": {"resources": {"requests": {"storage": "10Gi"}}}}]}}),
            json!({"kind": "PersistentVolumeClaim", "metadata": {"name": "x", "namespace": "d"},
                   "spec": {"resources": {"requests": {"storage": "1Gi"}}}}),
            json!({"kind": "CronJob", "metadata": {"name": "backup", "namespace": "d"},
                   "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [
                       {"name": "b", "resources": {"requests": {"cpu": "100m"}}}]}}}}}}),
        ]);
        let u = &b.namespaces["d"];
        assert_eq!(u.min.storage_bytes, 31 << 30);
        assert_eq!(u.min.containers_without_requests, 3);
        assert_eq!((u.min.cpu_requests_millis, u.batch.cpu_requests_millis), (0, 100));
    }

    #[test]
    fn capacity_flag_parses_and_rejects() {
        let c = Capacity::parse("cpu=4, memory=24Gi,storage=200Gi,nodes=3").unwrap_or_default();
        assert_eq!((c.cpu_millis, c.memory_bytes, c.nodes), (Some(4000), Some(24 << 30), Some(3)));
        assert!(Capacity::parse("cpu=4,disk=1Gi").is_err());
        assert!(Capacity::parse("cpu").is_err());
        assert!(Capacity::parse("memory=24GB").is_err());
    }
}
