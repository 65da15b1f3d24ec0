use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pods::Pod;

use super::support::hpa_target;

use crate::model::resources::{LimitDefaults, has_request};

/// KP210: utilization autoscaling over containers without requests.
pub struct HpaWithoutRequests;

static META: Meta = Meta {
    code: "KP210",
    name: "hpa-utilization-without-requests",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a HorizontalPodAutoscaler scales on CPU or memory utilization but containers of its target have no request",
    what: "For every HorizontalPodAutoscaler whose target is in the checked set, reads its \
           utilization metrics — `Resource` metrics with `target.type: Utilization`, \
           `ContainerResource` ones (for their container only), `targetCPUUtilizationPercentage` \
           of autoscaling/v1, and the implicit 80% CPU utilization of an autoscaler without \
           metrics — and reports containers of the target's pod template without a request for \
           that resource (a limit, which becomes the request, or a LimitRange default counts).",
    why: "Utilization is usage divided by request: with a container missing the request, the \
          autoscaler cannot compute it, reports `failed to get cpu utilization: missing request \
          for cpu` in its events, and does not scale at all, neither up under load nor down.",
    fix: "Set `resources.requests` for the resource on every container of the target's pod \
          template, or scale on an absolute `AverageValue` target instead of `Utilization`.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 250m, memory: 256Mi }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          resources:
            limits: { memory: 64Mi }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: { type: Utilization, averageUtilization: 70 }
    - type: Resource
      resource:
        name: memory
        target: { type: AverageValue, averageValue: 200Mi }
---
# Of the same name in another namespace, with every request: not the target.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: billing }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 250m, memory: 256Mi }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 250m, memory: 256Mi }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          resources:
            limits: { cpu: 100m, memory: 64Mi }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 2
  maxReplicas: 10
  metrics:
    - type: Resource
      resource:
        name: cpu
        target: { type: Utilization, averageUtilization: 70 }
    - type: Resource
      resource:
        name: memory
        target: { type: AverageValue, averageValue: 200Mi }
---
# Of the same name in another namespace, with every request: not the target.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: billing }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 250m, memory: 256Mi }
"#,
};

/// One utilization metric: resource, the container it is limited to, and
/// where it is written.
struct Metric {
    resource: String,
    container: Option<String>,
    pointer: String,
}

fn utilization_metrics(hpa: &Value) -> Vec<Metric> {
    let cpu = |pointer: &str| Metric { resource: "cpu".into(), container: None, pointer: pointer.into() };
    if hpa.at("/spec/targetCPUUtilizationPercentage").is_some() {
        return vec![cpu("/spec/targetCPUUtilizationPercentage")];
    }
    let Some(metrics) = hpa.at("/spec/metrics").and_then(Value::as_array).filter(|m| !m.is_empty()) else {
        // Without metrics the autoscaler targets 80% CPU utilization.
        return vec![cpu("/spec/scaleTargetRef")];
    };
    let mut out = Vec::new();
    for (i, m) in metrics.iter().enumerate() {
        let (field, container) = match m.get("type").and_then(Value::as_str) {
            Some("Resource") => ("resource", None),
            Some("ContainerResource") => {
                ("containerResource", m.at("/containerResource/container").and_then(Value::as_str))
            }
            _ => continue,
        };
        let Some(source) = m.get(field) else { continue };
        let utilization = source.at("/target/type").and_then(Value::as_str) == Some("Utilization")
            || source.get("targetAverageUtilization").is_some();
        let Some(resource) = source.get("name").and_then(Value::as_str) else { continue };
        if utilization {
            out.push(Metric {
                resource: resource.to_string(),
                container: container.map(str::to_string),
                pointer: format!("/spec/metrics/{i}/{field}/name"),
            });
        }
    }
    out
}

impl Check for HpaWithoutRequests {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let defaults = LimitDefaults::build(cx);
        for &h in cx.index.of_kind("HorizontalPodAutoscaler") {
            let Some(t) = hpa_target(cx, h) else { continue };
            let Some(pod) = Pod::of(cx.objects, t) else { continue };
            let target = &cx.objects[t];
            for m in utilization_metrics(&cx.objects[h].value) {
                let lacking: Vec<_> = pod
                    .containers()
                    .filter(|c| !c.init && c.value.is_object())
                    .filter(|c| m.container.as_deref().is_none_or(|n| n == c.name()))
                    .filter(|c| !has_request(&pod, c, &m.resource, target.ns(), &defaults))
                    .collect();
                let Some(first) = lacking.first() else { continue };
                let names = lacking.iter().map(|c| format!("`{}`", c.name())).collect::<Vec<_>>().join(", ");
                let plural = if lacking.len() == 1 { "container" } else { "containers" };
                out.report(
                    h,
                    &m.pointer,
                    format!(
                        "scales on {} utilization but {plural} {names} of {} {} no {} request: the autoscaler cannot compute utilization and never scales",
                        m.resource,
                        target.id(),
                        if lacking.len() == 1 { "has" } else { "have" },
                        m.resource
                    ),
                )
                .help(format!(
                    "set resources.requests.{} on {names} ({}:{}), or use an AverageValue target",
                    m.resource,
                    cx.source_name(target.source),
                    target.pos(&first.field("/name")).line
                ));
            }
        }
    }
}
