//! What the API server refuses to change in place, and what loses data when
//! it disappears: the rules behind `kubectl apply` and `helm upgrade` of a
//! new generation over an old one.
//!
//! - [`refused`]: the changes between the old and new manifest of one object
//!   that the API server rejects on update (immutable fields), each with its
//!   JSON pointer, both values and the [`Rule`].
//! - [`lost`]: what loses data between the old and new manifest of one
//!   object (a volume claim template dropped), or when it is removed
//!   ([`lost_with`]: a StatefulSet, PersistentVolumeClaim or Namespace).
//! - [`compare`]: both, over two sets of objects matched by group, kind,
//!   namespace and name.
//!
//! The manifests are compared as written, not as the server stores them:
//! `kubectl apply` and `helm upgrade` send the difference between the
//! manifests, and a field the server fills in (a Job's generated selector,
//! a Service's allocated clusterIP) is only refused when the new manifest
//! sets it.

use std::collections::BTreeMap;

use serde_json::Value;

use super::pointer::escape;
use super::quantity::Bytes;

/// Why the API server refuses a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// `spec.selector` of a Deployment, ReplicaSet, DaemonSet, StatefulSet or Job.
    Selector,
    /// A StatefulSet field other than `replicas`, `ordinals`, `template`,
    /// `updateStrategy`, `persistentVolumeClaimRetentionPolicy` and
    /// `minReadySeconds` (`serviceName`, `volumeClaimTemplates`,
    /// `podManagementPolicy`, `revisionHistoryLimit`…).
    StatefulSetSpec,
    /// A Job's pod template. (A suspended Job that never ran may change its
    /// template's scheduling fields, labels and annotations; that exception
    /// is not modelled: any change is reported.)
    JobTemplate,
    /// A Service's `clusterIP` set to another address (or to/from `None`).
    ClusterIp,
    /// A headless Service (`clusterIP: None`) turned NodePort or
    /// LoadBalancer, which need an allocated address.
    TypeNeedsClusterIp,
    /// A PersistentVolumeClaim's storage request made smaller.
    StorageShrink,
    /// A PersistentVolumeClaim's `storageClassName` changed or removed.
    StorageClass,
    /// Another field of a PersistentVolumeClaim's spec (access modes,
    /// volume mode, selector, data source…).
    ClaimSpec,
    /// The data of a ConfigMap or Secret marked `immutable: true`, or the mark removed.
    ImmutableData,
    /// A Secret's `type`.
    SecretType,
}

impl Rule {
    /// What the API server says, in words.
    pub fn says(self) -> &'static str {
        match self {
            Rule::Selector => "a workload's selector is immutable",
            Rule::StatefulSetSpec => {
                "a StatefulSet may only change replicas, ordinals, template, updateStrategy, \
                 persistentVolumeClaimRetentionPolicy and minReadySeconds"
            }
            Rule::JobTemplate => "a Job's pod template is immutable",
            Rule::ClusterIp => "a Service's clusterIP is immutable",
            Rule::TypeNeedsClusterIp => "a headless Service cannot become NodePort or LoadBalancer",
            Rule::StorageShrink => "a PersistentVolumeClaim's storage request cannot shrink",
            Rule::StorageClass => "a PersistentVolumeClaim's storageClassName is immutable",
            Rule::ClaimSpec => "a PersistentVolumeClaim's spec is immutable except its requests",
            Rule::ImmutableData => "the data of an immutable ConfigMap or Secret cannot change",
            Rule::SecretType => "a Secret's type is immutable",
        }
    }
}

/// One change the API server refuses.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    /// JSON pointer of the field inside the object.
    pub pointer: String,
    /// `None`: the field is absent on that side.
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub rule: Rule,
}

/// What holds data that goes with an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loss {
    /// A StatefulSet removed: its pods and, by its retention policy or a
    /// later cleanup, its claims.
    StatefulSet,
    /// A PersistentVolumeClaim removed: its volume, under the usual
    /// `Delete` reclaim policy.
    Claim,
    /// A volume claim template dropped from a StatefulSet: new pods no
    /// longer mount the data.
    ClaimTemplate,
    /// A Namespace removed: everything in it.
    Namespace,
}

/// One loss of data.
#[derive(Debug, Clone, PartialEq)]
pub struct Lost {
    /// JSON pointer inside the old object; empty for the whole object.
    pub pointer: String,
    pub loss: Loss,
}

/// The changes from `old` to `new` (two manifests of the same object) that
/// the API server refuses, in pointer order.
pub fn refused(old: &Value, new: &Value) -> Vec<Refused> {
    let mut out = Vec::new();
    match kind(new) {
        "Deployment" | "ReplicaSet" | "DaemonSet" => field(old, new, "/spec/selector", Rule::Selector, &mut out),
        "StatefulSet" => stateful_set(old, new, &mut out),
        "Job" => {
            field(old, new, "/spec/selector", Rule::Selector, &mut out);
            field(old, new, "/spec/template", Rule::JobTemplate, &mut out);
        }
        "Service" => service(old, new, &mut out),
        "PersistentVolumeClaim" => claim(old, new, &mut out),
        "ConfigMap" | "Secret" => data(old, new, &mut out),
        _ => {}
    }
    out.sort_by(|a, b| a.pointer.cmp(&b.pointer));
    out
}

/// What `new` loses of `old`'s data while both exist: volume claim
/// templates a StatefulSet no longer has.
pub fn lost(old: &Value, new: &Value) -> Vec<Lost> {
    if kind(old) != "StatefulSet" {
        return Vec::new();
    }
    let names = |v: &Value| -> Vec<String> {
        let templates = v.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array);
        templates
            .into_iter()
            .flatten()
            .filter_map(|t| t.pointer("/metadata/name")?.as_str().map(String::from))
            .collect()
    };
    let kept = names(new);
    let mut out = Vec::new();
    for (i, name) in names(old).iter().enumerate() {
        if !kept.contains(name) {
            out.push(Lost { pointer: format!("/spec/volumeClaimTemplates/{i}"), loss: Loss::ClaimTemplate });
        }
    }
    out
}

/// The data that goes when `old` is removed, if it holds any.
pub fn lost_with(old: &Value) -> Option<Loss> {
    match kind(old) {
        "StatefulSet" => Some(Loss::StatefulSet),
        "PersistentVolumeClaim" => Some(Loss::Claim),
        "Namespace" => Some(Loss::Namespace),
        _ => None,
    }
}

/// An object's identity across generations: its API group (not version:
/// `autoscaling/v2` and `autoscaling/v1` are the same object), kind,
/// namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl Key {
    pub fn of(v: &Value) -> Key {
        let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let text = |p: &str| v.pointer(p).and_then(Value::as_str);
        Key {
            group: api.rsplit_once('/').map_or("", |(g, _)| g).to_string(),
            kind: kind(v).to_string(),
            namespace: text("/metadata/namespace").map(String::from),
            name: text("/metadata/name").unwrap_or("").to_string(),
        }
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{ns}/{}", self.kind, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// What [`compare`] finds for one object.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    Refused(Key, Refused),
    Lost(Key, Lost),
}

/// Refused changes and losses from the `old` set of objects to the `new`
/// one, objects matched by [`Key`], in key order.
pub fn compare(old: &[Value], new: &[Value]) -> Vec<Finding> {
    let new: BTreeMap<Key, &Value> = new.iter().map(|v| (Key::of(v), v)).collect();
    let old: BTreeMap<Key, &Value> = old.iter().map(|v| (Key::of(v), v)).collect();
    let mut out = Vec::new();
    for (key, o) in old {
        match new.get(&key) {
            Some(n) => {
                out.extend(refused(o, n).into_iter().map(|r| Finding::Refused(key.clone(), r)));
                out.extend(lost(o, n).into_iter().map(|l| Finding::Lost(key.clone(), l)));
            }
            None => {
                if let Some(loss) = lost_with(o) {
                    out.push(Finding::Lost(key, Lost { pointer: String::new(), loss }));
                }
            }
        }
    }
    out
}

fn kind(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// `pointer` refused under `rule` when its value differs.
fn field(old: &Value, new: &Value, pointer: &str, rule: Rule, out: &mut Vec<Refused>) {
    let (o, n) = (old.pointer(pointer), new.pointer(pointer));
    if o != n {
        out.push(Refused { pointer: pointer.to_string(), old: o.cloned(), new: n.cloned(), rule });
    }
}

/// The StatefulSet fields an update may change (the API server's message
/// lists them: "updates to statefulset spec for fields other than …").
const STATEFUL_SET_UPDATABLE: [&str; 6] =
    ["replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

/// Every other spec field, with the server's defaults for the two that
/// manifests usually leave out (absent and the default are no change).
fn stateful_set(old: &Value, new: &Value, out: &mut Vec<Refused>) {
    let defaults = [("podManagementPolicy", Value::from("OrderedReady")), ("revisionHistoryLimit", Value::from(10))];
    let spec = |v: &Value| -> BTreeMap<String, Value> {
        let mut m = spec_fields(v);
        m.retain(|k, _| !STATEFUL_SET_UPDATABLE.contains(&k.as_str()));
        for (k, d) in &defaults {
            m.entry((*k).to_string()).or_insert_with(|| d.clone());
        }
        m
    };
    let (o, n) = (spec(old), spec(new));
    for k in differing(&o, &n) {
        let rule = if k == "selector" { Rule::Selector } else { Rule::StatefulSetSpec };
        let pointer = format!("/spec/{}", escape(k));
        out.push(Refused { pointer, old: o.get(k).cloned(), new: n.get(k).cloned(), rule });
    }
}

/// The fields of an object's `spec`, by name.
fn spec_fields(v: &Value) -> BTreeMap<String, Value> {
    let fields = v.get("spec").and_then(Value::as_object);
    fields.into_iter().flatten().map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The keys whose values differ between two maps (absent on one side included).
fn differing<'a>(o: &'a BTreeMap<String, Value>, n: &'a BTreeMap<String, Value>) -> Vec<&'a String> {
    let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    keys.into_iter().filter(|k| o.get(*k) != n.get(*k)).collect()
}

/// `clusterIP` is kept when a manifest leaves it out (the server copies the
/// allocated one), refused when it names another; ExternalName Services
/// have none, so a change to or from that type is allowed.
fn service(old: &Value, new: &Value, out: &mut Vec<Refused>) {
    let ty = |v: &Value| v.pointer("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP").to_string();
    let ip =
        |v: &Value| v.pointer("/spec/clusterIP").and_then(Value::as_str).filter(|s| !s.is_empty()).map(String::from);
    let (old_ty, new_ty) = (ty(old), ty(new));
    if old_ty == "ExternalName" || new_ty == "ExternalName" {
        return;
    }
    match (ip(old), ip(new)) {
        // Absent on the old side: the server allocated an address, which the new one cannot name.
        (o, Some(n)) if o.as_deref() != Some(n.as_str()) => out.push(Refused {
            pointer: "/spec/clusterIP".into(),
            old: o.map(Value::from),
            new: Some(Value::from(n)),
            rule: Rule::ClusterIp,
        }),
        // Left out, `None` is kept, and NodePort or LoadBalancer refuse it.
        (Some(o), None) if o == "None" && matches!(new_ty.as_str(), "NodePort" | "LoadBalancer") => out.push(Refused {
            pointer: "/spec/type".into(),
            old: Some(Value::from(old_ty)),
            new: Some(Value::from(new_ty)),
            rule: Rule::TypeNeedsClusterIp,
        }),
        _ => {}
    }
}

/// A claim's requests may grow (when its StorageClass allows expansion,
/// which only the cluster knows), its `storageClassName` may be set where
/// it was absent, and `volumeName` once bound; nothing else changes.
fn claim(old: &Value, new: &Value, out: &mut Vec<Refused>) {
    let size = |v: &Value| v.pointer("/spec/resources/requests/storage").and_then(Value::as_str).map(Bytes::parse);
    if let (Some(Ok(o)), Some(Ok(n))) = (size(old), size(new))
        && n.0 < o.0
    {
        field(old, new, "/spec/resources/requests/storage", Rule::StorageShrink, out);
    }
    if old.pointer("/spec/storageClassName").is_some() {
        field(old, new, "/spec/storageClassName", Rule::StorageClass, out);
    }
    let rest = |v: &Value| -> BTreeMap<String, Value> {
        let mut m = spec_fields(v);
        for k in ["storageClassName", "volumeAttributesClassName", "volumeName"] {
            m.remove(k);
        }
        if let Some(Value::Object(r)) = m.get_mut("resources") {
            r.remove("requests");
            if r.is_empty() {
                m.remove("resources");
            }
        }
        m
    };
    let (o, n) = (rest(old), rest(new));
    for k in differing(&o, &n) {
        field(old, new, &format!("/spec/{}", escape(k)), Rule::ClaimSpec, out);
    }
    if old.pointer("/spec/volumeName").is_some() {
        field(old, new, "/spec/volumeName", Rule::ClaimSpec, out);
    }
}

/// An immutable ConfigMap or Secret keeps its data and its mark; a
/// Secret keeps its type (`Opaque` when absent).
fn data(old: &Value, new: &Value, out: &mut Vec<Refused>) {
    if kind(new) == "Secret" {
        let ty = |v: &Value| v.pointer("/type").cloned().unwrap_or_else(|| Value::from("Opaque"));
        if ty(old) != ty(new) {
            out.push(Refused {
                pointer: "/type".into(),
                old: Some(ty(old)),
                new: Some(ty(new)),
                rule: Rule::SecretType,
            });
        }
    }
    if old.get("immutable") != Some(&Value::Bool(true)) {
        return;
    }
    for p in ["/data", "/binaryData", "/stringData", "/immutable"] {
        field(old, new, p, Rule::ImmutableData, out);
    }
}

#[cfg(test)]
mod tests;
