//! What the reliability checks share: replica counts, and the
//! objects that point at a workload (the HPA that scales it, the PDBs and
//! Services that select its pods), each looked up through the index.

use crate::model::At;
use crate::model::selector::Selector;
use std::collections::HashMap;

use crate::model::Value;

use crate::check::Context;
use crate::model::pods::{Container, Pod};

/// Kinds whose replica count is `spec.replicas` and that an HPA can scale.
pub fn scalable(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "ReplicaSet" | "ReplicationController")
}

/// Kinds whose pods run to completion.
pub fn batch(kind: &str) -> bool {
    matches!(kind, "Job" | "CronJob")
}

/// A quantity as written, for messages.
pub fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// An `IntOrString` of a PDB or rollout: a count or a percentage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Amount {
    Count(i64),
    Percent(f64),
}

impl Amount {
    pub fn of(v: &Value) -> Option<Amount> {
        if let Some(n) = v.as_i64() {
            return Some(Amount::Count(n));
        }
        let p: f64 = v.as_str()?.trim().strip_suffix('%')?.trim().parse().ok()?;
        Some(Amount::Percent(p))
    }

    /// The count this amount means for `total` pods, rounding up (PDBs and
    /// `maxSurge`) or down (`maxUnavailable` of a rollout).
    pub fn scaled(self, total: i64, round_up: bool) -> i64 {
        match self {
            Amount::Count(n) => n,
            Amount::Percent(p) => {
                let exact = p * total as f64 / 100.0;
                (if round_up { exact.ceil() } else { exact.floor() }) as i64
            }
        }
    }
}

/// HorizontalPodAutoscalers by the object they scale. Targets missing from
/// the checked set are left out (another check reports them).
pub struct Autoscalers {
    by_target: HashMap<usize, usize>,
}

impl Autoscalers {
    pub fn build(cx: &Context) -> Autoscalers {
        let mut by_target = HashMap::new();
        for &h in cx.index.of_kind("HorizontalPodAutoscaler") {
            if let Some(t) = hpa_target(cx, h) {
                by_target.entry(t).or_insert(h);
            }
        }
        Autoscalers { by_target }
    }

    /// The HPA scaling `object`, if any.
    pub fn of(&self, object: usize) -> Option<usize> {
        self.by_target.get(&object).copied()
    }
}

/// The object an HPA's `scaleTargetRef` names, looked up in its namespace.
pub fn hpa_target(cx: &Context, hpa: usize) -> Option<usize> {
    let o = &cx.objects[hpa];
    let r = o.value.at("/spec/scaleTargetRef")?;
    let kind = r.get("kind")?.as_str()?;
    let name = r.get("name")?.as_str()?;
    cx.index.get(kind, o.ns(), name)
}

/// An HPA's `minReplicas` (default 1) and `maxReplicas`.
pub fn hpa_bounds(hpa: &Value) -> Option<(i64, i64)> {
    let min = match hpa.at("/spec/minReplicas") {
        None | Some(Value::Null) => 1,
        Some(v) => v.as_i64()?,
    };
    let max = hpa.at("/spec/maxReplicas")?.as_i64()?;
    Some((min, max))
}

/// How many replicas a workload runs.
#[derive(Debug, Clone, Copy)]
pub struct Replicas {
    /// The fewest it runs: `spec.replicas` (default 1), or the HPA's `minReplicas`.
    pub min: i64,
    /// The most: `spec.replicas`, or the HPA's `maxReplicas`.
    pub max: i64,
    /// The HPA scaling it.
    pub hpa: Option<usize>,
}

impl Replicas {
    /// For Deployments, StatefulSets, ReplicaSets and ReplicationControllers
    /// (1 for a Pod); `None` for other kinds and malformed counts.
    pub fn of(cx: &Context, hpas: &Autoscalers, object: usize) -> Option<Replicas> {
        let o = &cx.objects[object];
        if o.kind == "Pod" {
            return Some(Replicas { min: 1, max: 1, hpa: None });
        }
        if !scalable(&o.kind) {
            return None;
        }
        if let Some(h) = hpas.of(object) {
            let (min, max) = hpa_bounds(&cx.objects[h].value)?;
            return Some(Replicas { min, max: max.max(min), hpa: Some(h) });
        }
        let n = match o.value.at("/spec/replicas") {
            None | Some(Value::Null) => 1,
            Some(v) => v.as_i64()?,
        };
        Some(Replicas { min: n, max: n, hpa: None })
    }

    /// "3 replicas", or "HPA minReplicas 2" when an HPA decides.
    pub fn describe_min(&self, cx: &Context) -> String {
        match self.hpa {
            Some(h) => format!("HorizontalPodAutoscaler {} scales it down to {}", cx.objects[h].name, self.min),
            None => format!("it runs {} replica{}", self.min, if self.min == 1 { "" } else { "s" }),
        }
    }
}

/// PodDisruptionBudgets by the objects whose pod templates they select.
pub fn budgets(cx: &Context) -> HashMap<usize, Vec<usize>> {
    let mut by_object: HashMap<usize, Vec<usize>> = HashMap::new();
    for &p in cx.index.of_kind("PodDisruptionBudget") {
        let o = &cx.objects[p];
        // A missing (null) selector selects no pods.
        let Some(selector) = o.value.at("/spec/selector").filter(|s| s.is_object()) else { continue };
        for t in cx.index.selected(o.ns(), &Selector::of(selector)) {
            by_object.entry(t.object).or_default().push(p);
        }
    }
    by_object
}

/// Objects whose pods some Service sends traffic to, each with the target
/// ports of those Services (`targetPort`, else `port`: a number or a
/// container port name). Services that publish not-ready addresses do not
/// count: readiness does not gate them.
pub fn served(cx: &Context) -> HashMap<usize, Vec<Value>> {
    let mut served: HashMap<usize, Vec<Value>> = HashMap::new();
    for &s in cx.index.of_kind("Service") {
        let o = &cx.objects[s];
        if o.value.at("/spec/publishNotReadyAddresses").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let Some(selector) = o.value.at("/spec/selector").and_then(Value::as_object) else { continue };
        if selector.is_empty() {
            continue;
        }
        let ports = o.value.at("/spec/ports").and_then(Value::as_array).into_iter().flatten();
        let targets: Vec<Value> =
            ports.filter_map(|p| p.get("targetPort").or_else(|| p.get("port")).cloned()).collect();
        for t in cx.index.selected(o.ns(), &Selector::of_labels(selector)) {
            served.entry(t.object).or_default().extend(targets.iter().cloned());
        }
    }
    served
}

/// Whether container `c` holds one of the `targets` (numbers or port names).
pub fn holds_target(c: &Container, targets: &[Value]) -> bool {
    targets.iter().any(|t| match t {
        Value::String(name) => c.ports().any(|(_, n, _)| n == Some(name.as_str())),
        other => other.as_i64().is_some_and(|n| c.ports().any(|(p, _, _)| p == n)),
    })
}

/// The number a container port name stands for, or the port as written.
pub fn port_number(c: &Container, port: &Value) -> Value {
    match port.as_str() {
        Some(name) => c.ports().find(|(_, n, _)| *n == Some(name)).map_or(port.clone(), |(n, _, _)| Value::from(n)),
        None => port.clone(),
    }
}

/// Seconds a preStop hook sleeps: the `sleep` action, or an exec of `sleep N`
/// (directly or through a shell running only that).
pub fn prestop_sleep(c: &Container) -> Option<(i64, String)> {
    let hook = c.get("/lifecycle/preStop")?;
    if let Some(s) = hook.at("/sleep/seconds").and_then(Value::as_i64) {
        return Some((s, "/lifecycle/preStop/sleep/seconds".into()));
    }
    let cmd: Vec<&str> = hook.at("/exec/command")?.as_array()?.iter().filter_map(Value::as_str).collect();
    let words: Vec<&str> = match cmd.as_slice() {
        [shell, "-c", script] if shell.ends_with("sh") => script.split_whitespace().collect(),
        other => other.to_vec(),
    };
    match words.as_slice() {
        [sleep, n] if *sleep == "sleep" || sleep.ends_with("/sleep") => {
            let n = n.strip_suffix('s').unwrap_or(n);
            Some((n.parse().ok()?, "/lifecycle/preStop/exec/command".into()))
        }
        _ => None,
    }
}

/// Whether the pod runs until deleted (not a Job's pod, not a Pod that
/// never restarts).
pub fn long_running(cx: &Context, pod: &Pod) -> bool {
    let o = &cx.objects[pod.object];
    if batch(&o.kind) {
        return false;
    }
    o.kind != "Pod" || matches!(pod.get("restartPolicy").and_then(Value::as_str), None | Some("Always"))
}

/// What a PodDisruptionBudget lets the eviction API do to the pods it selects.
#[derive(Debug)]
pub enum Disruption {
    /// No pod can ever be evicted: the offending field and why.
    Blocked { pointer: &'static str, reason: String },
    /// At least one pod can be evicted.
    Allowed,
    /// Not known: no selector, selects nothing in the set, or pods whose
    /// count depends on the cluster (DaemonSets, Jobs).
    Unknown,
}

/// Evaluates a PDB the way the disruption controller does, for the pods
/// of the workloads it selects at their lowest replica counts.
pub fn disruption(cx: &Context, hpas: &Autoscalers, pdb: usize) -> Disruption {
    let o = &cx.objects[pdb];
    let Some(selector) = o.value.at("/spec/selector").filter(|s| s.is_object()) else {
        return Disruption::Unknown;
    };
    let max_unavailable = o.value.at("/spec/maxUnavailable").and_then(Amount::of);
    let min_available = o.value.at("/spec/minAvailable").and_then(Amount::of);
    // These block whatever they select, in the checked set or not.
    match (max_unavailable, min_available) {
        (Some(a @ (Amount::Count(0) | Amount::Percent(0.0))), _) => {
            let shown = if a == Amount::Count(0) { "0" } else { "\"0%\"" };
            return Disruption::Blocked {
                pointer: "/spec/maxUnavailable",
                reason: format!("maxUnavailable {shown} allows no eviction at all"),
            };
        }
        (Some(_), _) => return Disruption::Allowed,
        (None, Some(Amount::Percent(p))) if p >= 100.0 => {
            return Disruption::Blocked {
                pointer: "/spec/minAvailable",
                reason: "minAvailable \"100%\" allows no eviction at all".to_string(),
            };
        }
        (None, Some(_)) => {}
        (None, None) => return Disruption::Unknown,
    }
    let Some(min) = min_available else { return Disruption::Unknown };
    let mut objects: Vec<usize> =
        cx.index.selected(o.ns(), &Selector::of(selector)).into_iter().map(|t| t.object).collect();
    objects.sort_unstable();
    objects.dedup();
    if objects.is_empty() {
        return Disruption::Unknown;
    }
    let mut total = 0;
    let mut scales = Vec::new();
    for &w in &objects {
        let Some(r) = Replicas::of(cx, hpas, w) else { return Disruption::Unknown };
        total += r.min;
        scales.push((w, r));
    }
    let required = min.scaled(total, true);
    if total == 0 || required < total {
        return Disruption::Allowed;
    }
    let shown = match min {
        Amount::Count(n) => n.to_string(),
        Amount::Percent(p) => format!("\"{p}%\" ({required} of {total})"),
    };
    let pods = match scales.as_slice() {
        [(w, r)] => format!("{} ({})", cx.objects[*w].id(), r.describe_min(cx)),
        many => format!(
            "the {total} pods of {}",
            many.iter().map(|(w, r)| format!("{} ({})", cx.objects[*w].id(), r.min)).collect::<Vec<_>>().join(", ")
        ),
    };
    Disruption::Blocked {
        pointer: "/spec/minAvailable",
        reason: format!("minAvailable {shown} leaves no pod to evict for {pods}"),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::value::value as json;

    use super::*;

    #[test]
    fn amounts_round_like_the_controllers() {
        assert_eq!(Amount::of(&json!("67%")).map(|a| a.scaled(3, true)), Some(3));
        assert_eq!(Amount::of(&json!("66%")).map(|a| a.scaled(3, true)), Some(2));
        assert_eq!(Amount::of(&json!("25%")).map(|a| a.scaled(3, false)), Some(0));
        assert_eq!(Amount::of(&json!(2)).map(|a| a.scaled(3, false)), Some(2));
        assert_eq!(Amount::of(&json!("x%")), None);
        assert_eq!(Amount::of(&json!("2")), None);
    }
}
