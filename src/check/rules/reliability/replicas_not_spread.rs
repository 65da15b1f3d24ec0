use crate::model::At;
use std::collections::BTreeMap;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pods::{Pod, template_pointers};
use crate::model::selector::Selector;

use super::support::{Autoscalers, Replicas, scalable};

/// KP208: several replicas with nothing spreading them over nodes or zones.
pub struct ReplicasNotSpread;

static META: Meta = Meta {
    code: "KP208",
    name: "replicas-not-spread",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a workload with several replicas has no pod anti-affinity or topology spread over its own pods",
    what: "Reports Deployments, StatefulSets, ReplicaSets and ReplicationControllers that can run \
           more than one replica (`spec.replicas` above 1, or a HorizontalPodAutoscaler with \
           `maxReplicas` above 1) whose pod template has neither a `podAntiAffinity` term nor a \
           `topologySpreadConstraints` entry selecting the workload's own pods. Terms whose \
           label selector does not match the template's labels spread nothing and do not count.",
    why: "Without a spreading rule the scheduler may put every replica on the same node or zone \
          (its default spreading is only a soft preference that allows a skew of 3 pods per \
          node): one node failure, drain or zone outage then takes all replicas down together, \
          and the replicas buy no availability.",
    fix: "Add `topologySpreadConstraints` over `kubernetes.io/hostname` (and \
          `topology.kubernetes.io/zone`) with a `labelSelector` matching the pod's labels, or a \
          preferred `podAntiAffinity` term on the same labels.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector: { matchLabels: { app: web, tier: backend } }
      containers:
        - name: web
          image: ghcr.io/acme/web:3.0.0
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchExpressions: [{ key: app, operator: In, values: [api] }]
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector: { matchLabels: { app: web, tier: frontend } }
      containers:
        - name: web
          image: ghcr.io/acme/web:3.0.0
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: singleton, namespace: shop }
spec:
  replicas: 1
  selector: { matchLabels: { app: singleton } }
  template:
    metadata: { labels: { app: singleton } }
    spec:
      containers:
        - name: singleton
          image: ghcr.io/acme/singleton:1.0.0
"#,
};

/// Whether a term's `labelSelector` (with `matchLabelKeys`, which copy the
/// pod's own labels) selects pods with `labels`.
fn selects_own(term: &Value, labels: &BTreeMap<String, String>) -> bool {
    let keys = term.get("matchLabelKeys").and_then(Value::as_array).is_some_and(|k| !k.is_empty());
    let Some(selector) = term.get("labelSelector").filter(|s| s.is_object()) else { return keys };
    Selector::of(selector).matches(labels)
}

/// The anti-affinity and spread terms of a pod spec.
fn terms<'a>(pod: &Pod<'a>) -> Vec<&'a Value> {
    let mut terms = Vec::new();
    if let Some(anti) = pod.spec.at("/affinity/podAntiAffinity") {
        let required = anti.get("requiredDuringSchedulingIgnoredDuringExecution").and_then(Value::as_array);
        terms.extend(required.into_iter().flatten());
        let preferred = anti.get("preferredDuringSchedulingIgnoredDuringExecution").and_then(Value::as_array);
        terms.extend(preferred.into_iter().flatten().filter_map(|p| p.get("podAffinityTerm")));
    }
    let spread = pod.get("topologySpreadConstraints").and_then(Value::as_array);
    terms.extend(spread.into_iter().flatten());
    terms
}

impl Check for ReplicasNotSpread {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let hpas = Autoscalers::build(cx);
        for (i, o) in cx.objects.iter().enumerate() {
            if !scalable(&o.kind) {
                continue;
            }
            let Some(pod) = Pod::of(cx.objects, i) else { continue };
            let Some(r) = Replicas::of(cx, &hpas, i) else { continue };
            if r.max <= 1 {
                continue;
            }
            let labels_ptr = template_pointers(&o.kind).map_or("", |(_, l)| l);
            let labels: BTreeMap<String, String> = o
                .value
                .at(labels_ptr)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                .collect();
            let terms = terms(&pod);
            if terms.iter().any(|t| selects_own(t, &labels)) {
                continue;
            }
            let count = match r.hpa {
                Some(h) => format!("up to {} replicas (HorizontalPodAutoscaler {})", r.max, cx.objects[h].name),
                None => format!("{} replicas", r.max),
            };
            let (pointer, message) = if terms.is_empty() {
                (
                    if o.value.at("/spec/replicas").is_some() && r.hpa.is_none() {
                        "/spec/replicas".to_string()
                    } else {
                        pod.ptr.to_string()
                    },
                    format!("runs {count} with no pod anti-affinity or topology spread: they may all land on one node"),
                )
            } else {
                let ptr = if pod.get("topologySpreadConstraints").is_some() {
                    pod.field("topologySpreadConstraints")
                } else {
                    format!("{}/affinity/podAntiAffinity", pod.ptr)
                };
                (
                    ptr,
                    format!(
                        "runs {count} but its anti-affinity and spread constraints do not select its own pods: they may all land on one node"
                    ),
                )
            };
            let own = labels.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", ");
            out.report(i, pointer, message).help(format!(
                "add a topologySpreadConstraints entry over kubernetes.io/hostname whose labelSelector matches the pod labels {{ {own} }}"
            ));
        }
    }
}
