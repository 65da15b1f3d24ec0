use crate::model::At;
use crate::model::selector::Selector;
use serde_json::Value;

use super::{service_namespaces, service_of};
use crate::check::{Check, Context, Family, Meta, Severity, Sink};

/// KP508: a DestinationRule subset whose labels select no pod of its Service.
pub struct SubsetSelectsNothing;

static META: Meta = Meta {
    code: "KP508",
    name: "destinationrule-subset-selects-nothing",
    family: Family::Mesh,
    severity: Severity::Warning,
    summary: "a DestinationRule subset selects no pod of its Service",
    what: "For every subset of a DestinationRule whose host is a Service of the checked set, looks for a pod \
           template of the Service's namespace whose labels include both the Service's selector and the \
           subset's `labels`. Namespaces without pod templates in the checked set are skipped, and so are \
           Services without a selector.",
    why: "A subset without pods has no endpoints: the share of traffic a VirtualService sends to it (a canary \
          at 10%) fails with 503 `no healthy upstream`. A version label mistyped in the subset or missing from \
          the canary Deployment's pod template is the usual cause.",
    fix: "Make the subset's labels match the pod template labels of the Deployment serving that version (for \
          example `track: canary`), or remove the subset and the routes to it.",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  subsets:
    - { name: stable, labels: { track: stable } }
    - { name: canary, labels: { track: canary } }
---
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: shop }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, track: stable } }
  template:
    metadata: { labels: { app: reviews, track: stable } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.4.2 }]
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  subsets:
    - { name: stable, labels: { track: stable } }
    - { name: canary, labels: { track: canary } }
---
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: shop }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, track: stable } }
  template:
    metadata: { labels: { app: reviews, track: stable } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.4.2 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-canary, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, track: canary } }
  template:
    metadata: { labels: { app: reviews, track: canary } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.5.0 }]
"#,
};

impl Check for SubsetSelectsNothing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let service_ns = service_namespaces(cx);
        let with_pods = crate::model::scope::namespaces_with_pods(cx);
        for &i in cx.index.of_kind("DestinationRule") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            let Some(host) = o.value.at("/spec/host").and_then(Value::as_str) else { continue };
            let Some((name, ns)) = service_of(host, o.ns(), &service_ns) else { continue };
            let Some(svc) = cx.index.get("Service", ns, name) else { continue };
            let Some(selector) = cx.objects[svc].value.at("/spec/selector").and_then(Value::as_object) else {
                continue;
            };
            if selector.is_empty() || !with_pods.contains(ns) {
                continue;
            }
            let subsets = o.value.at("/spec/subsets").and_then(Value::as_array);
            for (j, s) in subsets.into_iter().flatten().enumerate() {
                let Some(labels) = s.get("labels").and_then(Value::as_object) else { continue };
                let mut wanted = selector.clone();
                wanted.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                let typed = Selector::of_labels(&wanted);
                if !cx.index.selected(ns, &typed).is_empty() {
                    continue;
                }
                let subset = s.get("name").and_then(Value::as_str).unwrap_or("?");
                let pairs: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?"))).collect();
                let hint = crate::model::selector::selector_hint(cx, ns, &typed);
                out.report(
                    i,
                    format!("/spec/subsets/{j}/labels"),
                    format!(
                        "subset `{subset}` ({}) selects no pod of Service {ns}/{name}: traffic routed to it fails",
                        pairs.join(",")
                    ),
                )
                .help(hint);
            }
        }
    }
}
