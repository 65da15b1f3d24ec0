use crate::model::At;
use crate::model::Value;

use super::targets;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pods::Pod;
use crate::model::ports::{pod_ports, service_ports};
use crate::model::scope::custom_resources;

/// KP607: a monitor endpoint names a port that no selected Service (pod) has.
pub struct MonitorPortNotFound;

static META: Meta = Meta {
    code: "KP607",
    name: "monitor-port-not-found",
    family: Family::Observability,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a ServiceMonitor endpoint names a port no selected Service has (a PodMonitor one no selected pod has)",
    what: "For every ServiceMonitor whose selector matches Services of the checked set, checks that each \
           `spec.endpoints[].port` is the name of a port (`spec.ports[].name`) of at least one of them; for \
           every PodMonitor, that each `spec.podMetricsEndpoints[].port` names a container port of a \
           selected pod template. Numeric `targetPort`/`portNumber` endpoints are not judged, nor monitors \
           that select nothing (KP606).",
    why: "The operator keeps only the endpoints whose port name matches: a port the Services do not have \
          gives no target, silently. The metrics of the service are gone, and so are its alerts. Naming \
          the container port (`http-metrics`) instead of the Service port (`metrics`) is the usual cause.",
    fix: "Use the name of a port of the Service (`spec.ports[].name`; of the container for a PodMonitor), \
          or name the port in the Service.",
    fail: r#"
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api, namespace: shop }
spec:
  selector:
    matchLabels: { app: api }
    matchExpressions: [{ key: tier, operator: In, values: [backend] }]
  endpoints:
    - port: http-metrics
      interval: 30s
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  labels: { app: api, tier: backend }
spec:
  selector: { app: api }
  ports:
    - { name: http, port: 80, targetPort: 8080 }
    - { name: metrics, port: 9090 }
---
# Not selected (tier admin): its port does not count.
apiVersion: v1
kind: Service
metadata:
  name: api-admin
  namespace: shop
  labels: { app: api, tier: admin }
spec:
  selector: { app: api }
  ports: [{ name: http-metrics, port: 9091 }]
---
# Labelled as selected, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: billing
  labels: { app: api, tier: backend }
spec:
  selector: { app: api }
  ports: [{ name: http-metrics, port: 9091 }]
"#,
    pass: r#"
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api, namespace: shop }
spec:
  selector:
    matchLabels: { app: api }
    matchExpressions: [{ key: tier, operator: In, values: [backend] }]
  endpoints:
    - port: metrics
      interval: 30s
    - targetPort: 9090
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  labels: { app: api, tier: backend }
spec:
  selector: { app: api }
  ports:
    - { name: http, port: 80, targetPort: 8080 }
    - { name: metrics, port: 9090 }
---
# Not selected (tier admin): its port does not count.
apiVersion: v1
kind: Service
metadata:
  name: api-admin
  namespace: shop
  labels: { app: api, tier: admin }
spec:
  selector: { app: api }
  ports: [{ name: http-metrics, port: 9091 }]
---
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: { name: worker, namespace: shop }
spec:
  selector: { matchLabels: { app: worker } }
  podMetricsEndpoints: [{ port: metrics }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: shop }
spec:
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:2.0.1
          ports: [{ name: metrics, containerPort: 9102 }]
---
# Labelled as selected, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: billing
  labels: { app: api, tier: backend }
spec:
  selector: { app: api }
  ports: [{ name: http-metrics, port: 9091 }]
"#,
};

impl Check for MonitorPortNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let crs = custom_resources(cx);
        for kind in ["ServiceMonitor", "PodMonitor"] {
            let field = if kind == "ServiceMonitor" { "endpoints" } else { "podMetricsEndpoints" };
            for &i in cx.index.of_kind(kind) {
                let o = &cx.objects[i];
                let Some(t) = targets(cx, &crs, i) else { continue };
                if t.selected.is_empty() {
                    continue;
                }
                let mut names: Vec<&str> = Vec::new();
                for &s in &t.selected {
                    if kind == "ServiceMonitor" {
                        names.extend(service_ports(&cx.objects[s].value).iter().filter_map(|p| p.name));
                    } else if let Some(pod) = Pod::of(cx.objects, s) {
                        names.extend(pod_ports(&pod).iter().filter_map(|p| p.name));
                    }
                }
                names.sort_unstable();
                names.dedup();
                let endpoints = o.value.at(&format!("/spec/{field}")).and_then(Value::as_array);
                for (n, e) in endpoints.into_iter().flatten().enumerate() {
                    let Some(port) = e.get("port").and_then(Value::as_str).filter(|p| !p.is_empty()) else { continue };
                    if names.contains(&port) {
                        continue;
                    }
                    let mut selected: Vec<&str> = t.selected.iter().map(|&s| cx.objects[s].name.as_str()).collect();
                    selected.sort_unstable();
                    selected.dedup();
                    let owner = if kind == "ServiceMonitor" { "Service" } else { "pod template" };
                    let mut help = if names.is_empty() {
                        format!("the selected {owner}s have no named port: name the metrics port and use that name")
                    } else {
                        let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
                        format!("use one of the port names {}", list.join(", "))
                    };
                    if let Some(s) = names.iter().find(|n| strsim::osa_distance(port, n) <= 2) {
                        help = format!("did you mean `{s}`? ({help})");
                    }
                    out.report(
                        i,
                        format!("/spec/{field}/{n}/port"),
                        format!(
                            "endpoint port `{port}` is not a port name of the selected {owner}(s) {}: Prometheus gets no target from it",
                            selected.join(", ")
                        ),
                    )
                    .help(help);
                }
            }
        }
    }
}
