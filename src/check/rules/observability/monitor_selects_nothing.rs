use crate::model::At;
use crate::model::Value;

use super::{describe_selector, targets};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::scope::custom_resources;

/// KP606: a ServiceMonitor or PodMonitor that selects nothing.
pub struct MonitorSelectsNothing;

static META: Meta = Meta {
    code: "KP606",
    name: "monitor-selects-nothing",
    family: Family::Observability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a ServiceMonitor selects no Service (a PodMonitor no pod template) in the namespaces it looks in",
    what: "For every ServiceMonitor, looks for a Service whose own labels (`metadata.labels`) match \
           `spec.selector` (`matchLabels` and `matchExpressions`) in the namespaces of \
           `spec.namespaceSelector` (`matchNames`, `any: true`, or by default the ServiceMonitor's own \
           namespace); for every PodMonitor, for a pod template whose pod labels match. Namespaces without \
           any Service (pod template) in the checked set are not judged, nor selectors naming a custom \
           resource whose operator makes the Services.",
    why: "A monitor that selects nothing produces no scrape target and no error: the service's metrics \
          are missing, its alerts never fire, and its dashboards stay empty. Selecting on the pod labels \
          (the Service's `spec.selector`) instead of the Service's own labels is the usual cause.",
    fix: "Make `spec.selector` match the labels of the Service itself (`metadata.labels`, add them there if \
          needed), or point `spec.namespaceSelector` at the Service's namespace.",
    fail: r#"
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api, namespace: monitoring }
spec:
  namespaceSelector: { matchNames: [shop] }
  selector: { matchLabels: { app.kubernetes.io/name: api } }
  endpoints: [{ port: metrics, interval: 30s }]
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app.kubernetes.io/name: api }
  ports: [{ name: metrics, port: 9090 }]
---
# Labelled as selected, but in a namespace the monitor does not watch.
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: billing
  labels: { app.kubernetes.io/name: api }
spec:
  selector: { app.kubernetes.io/name: api }
  ports: [{ name: metrics, port: 9090 }]
"#,
    pass: r#"
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api, namespace: monitoring }
spec:
  namespaceSelector: { matchNames: [shop] }
  selector: { matchLabels: { app.kubernetes.io/name: api } }
  endpoints: [{ port: metrics, interval: 30s }]
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  labels: { app.kubernetes.io/name: api }
spec:
  selector: { app.kubernetes.io/name: api }
  ports: [{ name: metrics, port: 9090 }]
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
# Labelled as selected, but in a namespace the monitor does not watch.
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: billing
  labels: { app.kubernetes.io/name: api }
spec:
  selector: { app.kubernetes.io/name: api }
  ports: [{ name: metrics, port: 9090 }]
"#,
};

impl Check for MonitorSelectsNothing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let crs = custom_resources(cx);
        for kind in ["ServiceMonitor", "PodMonitor"] {
            for &i in cx.index.of_kind(kind) {
                let Some(t) = targets(cx, &crs, i) else { continue };
                if !t.selected.is_empty() || !t.judged || t.operator_made {
                    continue;
                }
                let selector = cx.objects[i].value.at("/spec/selector").unwrap_or(&Value::Null);
                let mut help = format!(
                    "Prometheus gets no target from this {kind}: make `spec.selector` match the labels of a {} \
                     or set `spec.namespaceSelector`",
                    if kind == "ServiceMonitor" { "Service (its metadata.labels)" } else { "pod template" }
                );
                if kind == "ServiceMonitor"
                    && let Some(s) = selects_pods_like(cx, selector, &t.in_ns)
                {
                    help = format!(
                        "Service `{s}` selects pods with these labels, but a ServiceMonitor matches a Service's \
                         own labels: add them to the Service's metadata.labels"
                    );
                }
                out.report(
                    i,
                    "/spec/selector",
                    format!("the selector {} matches no {} in {}", describe_selector(selector), t.what, t.namespaces),
                )
                .help(help);
            }
        }
    }
}

/// A Service whose pod selector has every `matchLabels` pair of `selector`:
/// the monitor was written against the pod labels.
fn selects_pods_like<'a>(cx: &'a Context, selector: &Value, in_ns: &[String]) -> Option<&'a str> {
    let wanted = selector.get("matchLabels").and_then(Value::as_object).filter(|m| !m.is_empty())?;
    let services = cx.index.services.iter().map(|s| &cx.objects[s.object]);
    services.filter(|o| in_ns.is_empty() || in_ns.iter().any(|n| n == o.ns())).find_map(|o| {
        let pods = o.value.at("/spec/selector").and_then(Value::as_object)?;
        wanted.iter().all(|(k, v)| pods.get(k) == Some(v)).then_some(o.name.as_str())
    })
}

#[cfg(test)]
mod tests {
    use crate::check::check_text;
    use crate::check::config::Config;

    fn findings(text: &str) -> Vec<String> {
        let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        outcome.findings.iter().filter(|f| f.code == "KP606").map(|f| f.message.to_string()).collect()
    }

    fn helps(text: &str) -> Vec<String> {
        let (_, outcome) = check_text("t.yaml", text, &Config::default());
        outcome
            .findings
            .iter()
            .filter(|f| f.code == "KP606")
            .filter_map(|f| f.help.as_deref().map(str::to_string))
            .collect()
    }

    /// A ServiceMonitor in `monitoring` watching `shop` with `selector`, and
    /// two Services there, each with one of the labels the wrong selectors ask for.
    fn monitor(selector: &str) -> String {
        format!(
            r#"
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {{ name: api, namespace: monitoring }}
spec:
  namespaceSelector: {{ matchNames: [shop] }}
  selector: {selector}
  endpoints: [{{ port: metrics }}]
---
apiVersion: v1
kind: Service
metadata: {{ name: api, namespace: shop, labels: {{ app: api, component: server }} }}
spec: {{ selector: {{ app: api }}, ports: [{{ name: metrics, port: 9090 }}] }}
---
apiVersion: v1
kind: Service
metadata: {{ name: worker, namespace: shop, labels: {{ app: worker, component: metrics }} }}
spec: {{ selector: {{ app: worker }}, ports: [{{ name: metrics, port: 9102 }}] }}
"#
        )
    }

    /// Near misses: one of two labels off, or the expression off, selects nothing.
    #[test]
    fn every_label_and_expression_of_the_selector_must_hold() {
        assert!(findings(&monitor("{ matchLabels: { app: api, component: server } }")).is_empty());
        assert_eq!(findings(&monitor("{ matchLabels: { app: api, component: metrics } }")).len(), 1);
        // No Service selects pods with both labels either: the hint does not say one does.
        let help = helps(&monitor("{ matchLabels: { app: api, component: metrics } }"));
        assert!(help.iter().all(|h| !h.contains("selects pods with these labels")), "{help:?}");
        let expr = |op: &str| {
            format!(
                "{{ matchLabels: {{ app: api }}, matchExpressions: [{{ key: component, operator: {op}, values: [server] }}] }}"
            )
        };
        assert!(findings(&monitor(&expr("In"))).is_empty());
        assert_eq!(findings(&monitor(&expr("NotIn"))).len(), 1);
    }
}
