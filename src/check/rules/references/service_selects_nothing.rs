use crate::model::At;
use crate::model::Value;
use crate::model::selector::Selector;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP301: a Service whose selector matches no pod template of its namespace.
pub struct ServiceSelectsNothing;

static META: Meta = Meta {
    code: "KP301",
    name: "service-selects-nothing",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a Service selector matches no pod template in its namespace",
    what: "For every Service with a selector (not ExternalName), looks for a Deployment, StatefulSet, \
           DaemonSet, ReplicaSet, Job, CronJob or Pod of the same namespace whose pod labels include every \
           pair of the selector. Namespaces without any pod template in the checked set are skipped, and so \
           are Services without a selector (their endpoints are managed by hand).",
    why: "A Service that selects no pod has no endpoints: clients get connection refused or time out, and \
          an Ingress in front of it answers 503. A mistyped label value is the usual cause, and nothing \
          in Kubernetes reports it.",
    fix: "Make the selector match the pod template labels (`spec.template.metadata.labels`) of the workload \
          that serves it, or delete the Service.",
    fail: r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api, tier: frontend }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          ports: [{ containerPort: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.1
          ports: [{ containerPort: 8080 }]
---
# Labelled as selected, but in another namespace: it does not count.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: billing }
spec:
  selector: { matchLabels: { app: api, tier: frontend } }
  template:
    metadata: { labels: { app: api, tier: frontend } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
"#,
    pass: r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api, tier: backend }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          ports: [{ containerPort: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.1
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: legacy-db, namespace: shop }
spec:
  ports: [{ port: 5432 }]
---
apiVersion: v1
kind: Service
metadata: { name: payments, namespace: shop }
spec:
  type: ExternalName
  externalName: payments.example.net
---
# Labelled as selected, but in another namespace: it does not count.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: billing }
spec:
  selector: { matchLabels: { app: api, tier: frontend } }
  template:
    metadata: { labels: { app: api, tier: frontend } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
"#,
};

impl Check for ServiceSelectsNothing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let with_pods = crate::model::scope::namespaces_with_pods(cx);
        let crs = crate::model::scope::custom_resources(cx);
        for &i in cx.index.of_kind("Service") {
            let o = &cx.objects[i];
            let Some(selector) = o.value.at("/spec/selector").and_then(Value::as_object) else { continue };
            if selector.is_empty() || o.value.at("/spec/type").and_then(Value::as_str) == Some("ExternalName") {
                continue;
            }
            let typed = Selector::of_labels(selector);
            if !with_pods.contains(o.ns())
                || !cx.index.selected(o.ns(), &typed).is_empty()
                || crate::model::scope::names_custom_resource(&crs, o.ns(), &typed)
            {
                continue;
            }
            let help = crate::model::selector::selector_hint(cx, o.ns(), &typed);
            let wanted = selector.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?"))).collect::<Vec<_>>();
            out.report(
                i,
                "/spec/selector",
                format!("the selector {} matches no pod template in namespace {}", wanted.join(","), o.ns()),
            )
            .help(help);
        }
    }
}
