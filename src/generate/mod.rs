//! From a resolved description to Kubernetes objects, one module per area.
//!
//! Generators build typed k8s-openapi objects and turn them into [`Object`]s
//! (JSON values with their identity), which the emitters write. Secrets are
//! never objects here: they are [`SecretSource`]s, which the kustomize emitter
//! turns into generators reading git-ignored env files.

pub mod backup;
pub mod connections;
pub mod dashboards;
pub mod datastores;
pub mod delivery;
pub mod jobs;
pub mod mesh;
pub mod monitoring;
pub mod network;
pub mod observability;
pub mod patches;
pub mod placement;
pub mod quotas;
pub mod secrets;
pub mod telemetry;
pub mod test_targets;
pub mod workloads;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::{Metadata, Resource};
use serde_json::Value;

use crate::description::resolve::{LimitsR, Requests, Resolved};

/// A generated Kubernetes object.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub value: Value,
}

impl Object {
    /// The object as [`crate::model::resources`] counts it, its value
    /// `checked` (see [`Object::checked_value`]).
    pub fn item<'a>(&'a self, checked: &'a crate::model::Value) -> crate::model::resources::Item<'a> {
        crate::model::resources::Item {
            kind: &self.kind,
            namespace: self.namespace.as_deref().unwrap_or("default"),
            name: &self.name,
            value: checked,
        }
    }

    /// The value as the model reads checked objects (what
    /// [`crate::model::resources`] and [`crate::model::features`] take).
    pub fn checked_value(&self) -> crate::model::Value {
        (&self.value).into()
    }

    /// Serializes a typed object; k8s-openapi writes `apiVersion` and `kind`.
    pub fn from_typed<T>(obj: &T) -> Object
    where
        T: Resource + Metadata<Ty = ObjectMeta> + serde::Serialize,
    {
        let meta = obj.metadata();
        Object {
            api_version: T::API_VERSION.to_string(),
            kind: T::KIND.to_string(),
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone(),
            // Serializing these plain data types cannot fail; Null would make
            // the schema check fail loudly rather than pass silently.
            value: serde_json::to_value(obj).unwrap_or(Value::Null),
        }
    }

    /// `Kind/namespace/name`, for messages and patch file names.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    /// Sort key: namespaces first, then by kind order, namespace and name.
    pub fn sort_key(&self) -> (usize, String, String, String) {
        (kind_rank(&self.kind), self.namespace.clone().unwrap_or_default(), self.kind.clone(), self.name.clone())
    }
}

/// Order in which kinds appear in output (dependencies first).
fn kind_rank(kind: &str) -> usize {
    const ORDER: [&str; 13] = [
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "PersistentVolumeClaim",
        "Service",
        "Deployment",
        "StatefulSet",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "NetworkPolicy",
    ];
    ORDER.iter().position(|k| *k == kind).unwrap_or(ORDER.len())
}

/// A Secret that the output references but never contains: kustomize builds
/// it from `secrets/<file>` (git-ignored); `secrets/<file>.example` lists the keys.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SecretSource {
    pub name: String,
    pub namespace: String,
    /// File name under `secrets/`, shared by every namespace that needs the secret.
    pub file: String,
    pub keys: Vec<String>,
}

/// Everything generated for one environment.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    pub objects: Vec<Object>,
    pub secrets: Vec<SecretSource>,
    /// Plain monitoring files (rules, their tests, scrape and Alertmanager configuration).
    pub monitoring: Option<monitoring::Monitoring>,
    /// Sections of `RUNBOOK.md`, in order; several generators add to it.
    pub runbook: Vec<RunbookSection>,
    /// Grafana dashboards (also ConfigMaps among `objects`).
    pub dashboards: Vec<dashboards::Dashboard>,
    /// OpenTelemetry Collector and log shipping files, by path under `monitoring/`.
    pub telemetry: telemetry::Files,
    /// The Jobs run once per release and the Deployments that wait for them.
    pub release: jobs::Release,
    /// The `uses` edges to datastores, which the Helm chart's tests check.
    pub datastore_uses: Vec<test_targets::DatastoreUse>,
    /// Where the values of `secrets` come from: env files (a secretGenerator
    /// each), ExternalSecrets (among `objects`) or SealedSecrets.
    pub secrets_mode: crate::description::delivery::SecretsMode,
    /// Whether the objects carry Argo CD sync waves ([`delivery::sync_waves`]).
    pub sync_waves: bool,
}

/// One `## title` section of the generated runbook (`DIR/RUNBOOK.md`); links
/// point at its GitHub anchor ([`monitoring::anchor`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunbookSection {
    pub title: String,
    /// Markdown, without the heading.
    pub body: String,
}

impl Stack {
    /// The objects [`Budget::of`](crate::model::resources::Budget::of)
    /// reads ([`budgeted`](crate::model::resources::budgeted)), each with
    /// its value as the model reads it, for their [`Object::item`]s.
    pub fn budgeted(&self) -> Vec<(&Object, crate::model::Value)> {
        self.objects
            .iter()
            .filter(|o| crate::model::resources::budgeted(&o.kind))
            .map(|o| (o, o.checked_value()))
            .collect()
    }

    pub fn push<T>(&mut self, obj: &T)
    where
        T: Resource + Metadata<Ty = ObjectMeta> + serde::Serialize,
    {
        self.objects.push(Object::from_typed(obj));
    }

    /// A Role with `rules` and its RoleBinding (same metadata) granting it to
    /// the ServiceAccount `account` of namespace `account_ns`.
    pub fn push_role(
        &mut self,
        meta: ObjectMeta,
        rules: Vec<k8s_openapi::api::rbac::v1::PolicyRule>,
        account: &str,
        account_ns: &str,
    ) {
        use k8s_openapi::api::rbac::v1 as rbac;
        let role_ref = rbac::RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: meta.name.clone().unwrap_or_default(),
        };
        let subject = rbac::Subject {
            kind: "ServiceAccount".into(),
            name: account.into(),
            namespace: Some(account_ns.into()),
            ..Default::default()
        };
        self.push(&rbac::Role { metadata: meta.clone(), rules: Some(rules) });
        self.push(&rbac::RoleBinding { metadata: meta, role_ref, subjects: Some(vec![subject]) });
    }

    /// Objects per kind, for the summary.
    pub fn count_by_kind(&self) -> BTreeMap<&str, usize> {
        let mut m = BTreeMap::new();
        for o in &self.objects {
            *m.entry(o.kind.as_str()).or_default() += 1;
        }
        m
    }
}

/// Generates every object of a resolved platform, in a stable order.
pub fn generate(r: &Resolved) -> Stack {
    generate_showing(r, &|_| {})
}

/// [`generate`], showing `early` the stack once its workloads, datastores
/// and backups are in: the kinds whose schemas take longest to compile
/// (pod templates), which `gen` compiles on a second core while the rest
/// (monitoring, dashboards: most of the time) is generated. Shown the whole
/// stack only, that core waited about 4 ms of kailash's 60 for them.
pub fn generate_showing(r: &Resolved, early: &dyn Fn(&Stack)) -> Stack {
    let mut stack = Stack::default();
    workloads::namespaces(r, &mut stack);
    for svc in &r.services {
        workloads::service(r, svc, &mut stack);
    }
    for store in &r.datastores {
        datastores::datastore(r, store, &mut stack);
    }
    backup::backups(r, &mut stack);
    early(&stack);
    // Before the mesh: a canary's Deployment is a copy of the stable one.
    placement::placement(r, &mut stack);
    if r.mesh == crate::description::Mesh::Istio {
        // The Istio ingress gateway replaces the Ingress.
        mesh::mesh(r, &mut stack);
    } else {
        network::ingresses(r, &mut stack);
    }
    network::public_services(r, &mut stack);
    network::http_routes(r, &mut stack);
    // After every Deployment (a canary's too): those that wait for a job are marked.
    jobs::jobs(r, &mut stack);
    network::network_policies(r, &mut stack);
    quotas::quotas(r, &mut stack);
    // Last: backup alerts follow the CronJobs generated above.
    monitoring::monitoring(r, &mut stack);
    dashboards::dashboards(r, &mut stack);
    telemetry::telemetry(r, &mut stack);
    // Last: mounts the files generated above into the platform's own stack.
    observability::observability(r, &mut stack);
    stack.secrets.sort();
    stack.secrets.dedup();
    // After every generator that adds a Secret.
    secrets::external_secrets(r, &mut stack);
    delivery::sync_waves(r, &mut stack);
    stack.objects.sort_by_key(|o| o.sort_key());
    stack.secrets_mode = r.secrets.clone();
    stack.datastore_uses = test_targets::datastore_uses(r, &stack);
    stack
}

// ---- shared pieces -------------------------------------------------------

pub const MANAGED_BY: &str = "kubeproof";

/// The labels every object of a component carries.
pub fn labels(platform: &str, name: &str, component: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), name.to_string()),
        ("app.kubernetes.io/component".to_string(), component.to_string()),
        ("app.kubernetes.io/part-of".to_string(), platform.to_string()),
        ("app.kubernetes.io/managed-by".to_string(), MANAGED_BY.to_string()),
    ])
}

/// The stable subset of labels used in selectors (selectors are immutable).
pub fn selector_labels(platform: &str, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("app.kubernetes.io/name".to_string(), name.to_string()),
        ("app.kubernetes.io/part-of".to_string(), platform.to_string()),
    ])
}

pub fn selector(platform: &str, name: &str) -> LabelSelector {
    LabelSelector { match_labels: Some(selector_labels(platform, name)), ..Default::default() }
}

pub fn meta(name: &str, namespace: &str, labels: &BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(namespace.to_string()),
        labels: Some(labels.clone()),
        ..Default::default()
    }
}

pub fn quantity(s: impl ToString) -> k8s_openapi::apimachinery::pkg::api::resource::Quantity {
    k8s_openapi::apimachinery::pkg::api::resource::Quantity(s.to_string())
}

pub fn resources(req: &Requests, lim: &LimitsR) -> core::ResourceRequirements {
    let mut limits = BTreeMap::from([("memory".to_string(), quantity(lim.memory))]);
    if let Some(cpu) = lim.cpu {
        limits.insert("cpu".to_string(), quantity(cpu));
    }
    core::ResourceRequirements {
        requests: Some(BTreeMap::from([
            ("cpu".to_string(), quantity(req.cpu)),
            ("memory".to_string(), quantity(req.memory)),
        ])),
        limits: Some(limits),
        ..Default::default()
    }
}

/// Pod-level security: non-root, a fixed UID/GID, seccomp RuntimeDefault —
/// what Pod Security "restricted" requires, and no more.
pub fn pod_security(uid: u32) -> core::PodSecurityContext {
    core::PodSecurityContext {
        run_as_non_root: Some(true),
        run_as_user: Some(uid.into()),
        run_as_group: Some(uid.into()),
        fs_group: Some(uid.into()),
        fs_group_change_policy: Some("OnRootMismatch".into()),
        seccomp_profile: Some(core::SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
        ..Default::default()
    }
}

/// Container-level security: read-only root, no privilege escalation, no
/// capabilities.
pub fn container_security() -> core::SecurityContext {
    core::SecurityContext {
        allow_privilege_escalation: Some(false),
        read_only_root_filesystem: Some(true),
        run_as_non_root: Some(true),
        capabilities: Some(core::Capabilities { drop: Some(vec!["ALL".into()]), ..Default::default() }),
        seccomp_profile: Some(core::SeccompProfile { type_: "RuntimeDefault".into(), ..Default::default() }),
        ..Default::default()
    }
}

/// An emptyDir volume and its mount (for /tmp and other scratch paths).
pub fn scratch(name: &str, path: &str) -> (core::Volume, core::VolumeMount) {
    (
        core::Volume {
            name: name.into(),
            empty_dir: Some(core::EmptyDirVolumeSource::default()),
            ..Default::default()
        },
        core::VolumeMount { name: name.into(), mount_path: path.into(), ..Default::default() },
    )
}

pub fn env_secret(name: &str, secret: &str, key: &str) -> core::EnvVar {
    core::EnvVar {
        name: name.into(),
        value_from: Some(core::EnvVarSource {
            secret_key_ref: Some(core::SecretKeySelector {
                name: secret.into(),
                key: key.into(),
                optional: Some(false),
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

pub fn env_value(name: &str, value: &str) -> core::EnvVar {
    core::EnvVar { name: name.into(), value: Some(value.into()), ..Default::default() }
}

pub use crate::description::wiring::env_prefix;
pub use crate::model::hosts::fqdn;

/// A short content hash for pod-template annotations: pods roll when the
/// configuration they read changes.
pub fn short_hash<T: serde::Serialize>(v: &T) -> String {
    let bytes = serde_json::to_vec(v).unwrap_or_default();
    not_a_number(&crate::model::digest::sha256_hex(&bytes))
}

/// The first 16 hex digits of `hex` that YAML cannot read as a number:
/// kustomize writes `89536e4359532653` unquoted (a string to its YAML 1.1
/// and to kubectl), which any YAML 1.2 reader takes for an infinite float.
fn not_a_number(hex: &str) -> String {
    let numeric = |h: &&str| h.bytes().all(|b| b.is_ascii_digit() || b == b'e');
    let chunks = (0..hex.len() / 16).map(|i| &hex[i * 16..(i + 1) * 16]);
    chunks.clone().find(|h| !numeric(h)).map_or_else(|| format!("h{}", &hex[..15.min(hex.len())]), str::to_string)
}

#[cfg(test)]
mod hash_tests {
    use super::*;

    #[test]
    fn a_hash_never_reads_as_a_number() {
        let float_like = "89536e4359532653";
        assert_eq!(not_a_number(&format!("{float_like}0123456789abcdef")), "0123456789abcdef");
        assert_eq!(not_a_number("601bbc9557bec51c0000000000000000"), "601bbc9557bec51c", "unchanged when safe");
        assert_eq!(not_a_number(&"1".repeat(32)), "h111111111111111");
        assert_eq!(short_hash(&"x").len(), 16);
    }
}
