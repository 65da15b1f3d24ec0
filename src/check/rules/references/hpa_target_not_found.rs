use crate::model::At;
use std::collections::HashMap;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP313: a HorizontalPodAutoscaler scales an object the set does not define.
pub struct HpaTargetNotFound;

static META: Meta = Meta {
    code: "KP313",
    name: "hpa-target-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a HorizontalPodAutoscaler's scaleTargetRef names no object in the checked set",
    what: "Reads `spec.scaleTargetRef` (kind and name) of every HorizontalPodAutoscaler and reports targets \
           that no object of that kind has in the autoscaler's namespace.",
    why: "An autoscaler whose target does not exist does nothing but report `FailedGetScale`: the workload \
          it was meant for stays at its fixed replica count under load. Usually the workload was renamed \
          and the autoscaler was not. The target may be defined elsewhere, so this is a warning.",
    fix: "Point `scaleTargetRef` at the workload's kind and name (in the same namespace), or delete the \
          autoscaler.",
    fail: r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api-server }
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api-server, namespace: billing }
spec:
  selector: { matchLabels: { app: api-server } }
  template:
    metadata: { labels: { app: api-server } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
"#,
    pass: r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource: { name: cpu, target: { type: Utilization, averageUtilization: 70 } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api-server, namespace: billing }
spec:
  selector: { matchLabels: { app: api-server } }
  template:
    metadata: { labels: { app: api-server } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
"#,
};

impl Check for HpaTargetNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut known: HashMap<&str, HashMap<&str, Vec<&str>>> = HashMap::new();
        for &i in cx.index.of_kind("HorizontalPodAutoscaler") {
            let o = &cx.objects[i];
            let Some(target) = o.value.at("/spec/scaleTargetRef") else { continue };
            let (Some(kind), Some(name)) =
                (target.get("kind").and_then(Value::as_str), target.get("name").and_then(Value::as_str))
            else {
                continue;
            };
            if cx.index.get(kind, o.ns(), name).is_some() {
                continue;
            }
            let names = known.entry(kind).or_insert_with(|| super::names_by_ns(cx, kind));
            let help = match crate::diag::did_you_mean(name, names.get(o.ns()).into_iter().flatten().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!(
                    "unless it is created outside these manifests, the autoscaler scales nothing; point it at a {kind} of namespace {}",
                    o.ns()
                ),
            };
            out.report(
                i,
                "/spec/scaleTargetRef/name",
                format!("{kind} `{name}` is not in the checked set; it may be defined elsewhere"),
            )
            .help(help);
        }
    }
}
