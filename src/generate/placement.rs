//! Placement, vertical scaling and metadata of the workloads (see
//! [`crate::description::placement`]), written onto the Deployments and
//! StatefulSets the other modules generate: their pod's node selector,
//! tolerations, affinity and priority class, the description's labels and
//! annotations; a VerticalPodAutoscaler per workload that asks for one;
//! the Namespaces' own labels and annotations.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::*;
use crate::description::resolve::{Placement, Resolved, VpaR};

/// The VPA's group and version.
pub const VPA_API: &str = "autoscaling.k8s.io/v1";

pub fn placement(r: &Resolved, stack: &mut Stack) {
    for s in &r.services {
        workload(r, stack, "Deployment", &s.name, &s.namespace, &s.placement);
    }
    for d in &r.datastores {
        workload(r, stack, "StatefulSet", &d.name, &d.namespace, &d.placement);
    }
    for o in stack.objects.iter_mut().filter(|o| o.kind == "Namespace") {
        if let Some(m) = r.namespace_meta.get(&o.name) {
            add(&mut o.value["metadata"], "labels", &m.labels);
            add(&mut o.value["metadata"], "annotations", &m.annotations);
        }
    }
}

/// Writes `p` onto the workload `kind` `ns/name`, and pushes its VPA.
fn workload(r: &Resolved, stack: &mut Stack, kind: &str, name: &str, ns: &str, p: &Placement) {
    let Some(o) =
        stack.objects.iter_mut().find(|o| o.kind == kind && o.name == name && o.namespace.as_deref() == Some(ns))
    else {
        return;
    };
    let v = &mut o.value;
    for meta in ["/metadata", "/spec/template/metadata"] {
        if let Some(m) = v.pointer_mut(meta) {
            add(m, "labels", &p.labels);
            add(m, "annotations", &p.annotations);
        }
    }
    let container = v.pointer("/spec/template/spec/containers/0/name").and_then(Value::as_str).map(str::to_string);
    if let Some(pod) = v.pointer_mut("/spec/template/spec").and_then(Value::as_object_mut) {
        pod_spec(pod, p);
    }
    if let (Some(vpa), Some(container)) = (&p.vpa, container) {
        let labels = labels(&r.platform, name, "autoscaler");
        stack.objects.push(autoscaler(kind, name, ns, &container, vpa, &labels));
    }
}

/// Adds `extra` to the map `field` of `meta` (kubeproof's keys were refused
/// when the description was resolved, so nothing of its own is replaced).
fn add(meta: &mut Value, field: &str, extra: &BTreeMap<String, String>) {
    if extra.is_empty() || !meta.is_object() {
        return;
    }
    if !meta[field].is_object() {
        meta[field] = Value::Object(Map::new());
    }
    if let Some(m) = meta[field].as_object_mut() {
        for (k, v) in extra {
            m.entry(k.clone()).or_insert_with(|| Value::from(v.clone()));
        }
    }
}

/// Node selector, tolerations, priority class; the affinity's terms added
/// to those kubeproof writes (its anti-affinity spreads replicas).
fn pod_spec(pod: &mut Map<String, Value>, p: &Placement) {
    if !p.node_selector.is_empty() {
        pod.insert("nodeSelector".into(), json!(p.node_selector));
    }
    if !p.tolerations.is_empty() {
        pod.insert("tolerations".into(), json!(p.tolerations));
    }
    if let Some(c) = &p.priority_class {
        pod.insert("priorityClassName".into(), Value::from(c.clone()));
    }
    let Some(Value::Object(written)) = p.affinity.as_ref().map(|a| json!(a)) else { return };
    let affinity = pod.entry("affinity").or_insert_with(|| json!({}));
    for (kind, terms) in written {
        let mine = &mut affinity[&kind];
        let Value::Object(terms) = terms else { continue };
        for (when, list) in terms {
            match (&mut mine[&when], list) {
                (Value::Array(have), Value::Array(more)) => have.extend(more),
                (slot, value) => *slot = value,
            }
        }
    }
}

/// The VerticalPodAutoscaler of the workload's main container; other
/// containers (exporters, the mesh's sidecar) are left as they are.
fn autoscaler(
    kind: &str,
    name: &str,
    ns: &str,
    container: &str,
    v: &VpaR,
    labels: &BTreeMap<String, String>,
) -> Object {
    let mut policy = json!({ "containerName": container, "controlledResources": ["cpu", "memory"] });
    for (field, b) in [("minAllowed", v.min), ("maxAllowed", v.max)] {
        let mut m = Map::new();
        if let Some(c) = b.cpu {
            m.insert("cpu".into(), Value::from(c.to_string()));
        }
        if let Some(mem) = b.memory {
            m.insert("memory".into(), Value::from(mem.to_string()));
        }
        if !m.is_empty() {
            policy[field] = Value::Object(m);
        }
    }
    let value = json!({
        "apiVersion": VPA_API,
        "kind": "VerticalPodAutoscaler",
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": {
            "targetRef": { "apiVersion": "apps/v1", "kind": kind, "name": name },
            "updatePolicy": { "updateMode": v.mode.update_mode() },
            "resourcePolicy": { "containerPolicies": [policy, { "containerName": "*", "mode": "Off" }] },
        },
    });
    Object {
        api_version: VPA_API.into(),
        kind: "VerticalPodAutoscaler".into(),
        name: name.into(),
        namespace: Some(ns.into()),
        value,
    }
}
