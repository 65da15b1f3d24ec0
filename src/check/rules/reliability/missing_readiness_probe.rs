use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::support::{holds_target, long_running, served};

/// KP204: a serving container without a readiness probe.
pub struct MissingReadinessProbe;

static META: Meta = Meta {
    code: "KP204",
    name: "missing-readiness-probe",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a container that serves traffic has no readiness probe",
    what: "Reports containers of long-running pods (not Jobs or CronJobs) without a \
           `readinessProbe`. A warning when a Service of the checked set selects the pod, for \
           the container holding a port the Service targets (or the only container); an info \
           for other containers that declare ports. Containers without ports next to \
           others are taken for sidecars and left alone, and so are metrics exporters next to \
           others (every port named `metrics` or `*-metrics`): their readiness would make the \
           pod's depend on the exporter. Services with `publishNotReadyAddresses` select no \
           pod here.",
    why: "Without a readiness probe a pod is Ready as soon as its containers start: Services send \
          it requests before the application listens (errors on every rollout and scale-up), \
          and keep sending while it is overloaded or lost its dependencies. Rolling updates \
          also proceed without waiting for the new pods to work.",
    fix: "Add a `readinessProbe` that answers only when the container can serve, e.g. \
          `httpGet: { path: /ready, port: http }` with `periodSeconds: 5`.",
    fail: r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api, tier: backend }
  ports: [{ port: 80, targetPort: http }]
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
          ports: [{ name: http, containerPort: 8080 }]
        - name: log-shipper
          image: fluent/fluent-bit:3.1.9
        - name: statsd-exporter
          image: quay.io/prometheus/statsd-exporter:v0.27.1
          ports: [{ name: metrics, containerPort: 9102 }]
"#,
    pass: r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api, tier: backend }
  ports: [{ port: 80, targetPort: http }]
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
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe:
            httpGet: { path: /ready, port: http }
        - name: log-shipper
          image: fluent/fluent-bit:3.1.9
        - name: statsd-exporter
          image: quay.io/prometheus/statsd-exporter:v0.27.1
          ports: [{ name: metrics, containerPort: 9102 }]
---
apiVersion: batch/v1
kind: Job
metadata: { name: migrate, namespace: shop }
spec:
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      restartPolicy: Never
      containers:
        - name: migrate
          image: ghcr.io/acme/api:1.4.2
          ports: [{ name: http, containerPort: 8080 }]
---
# worker and api-admin each share one label of the Service's selector, not both: not behind it.
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: shop }
spec:
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker, tier: backend } }
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api-admin, namespace: shop }
spec:
  selector: { matchLabels: { app: api, tier: admin } }
  template:
    metadata: { labels: { app: api, tier: admin } }
    spec:
      containers:
        - name: admin
          image: ghcr.io/acme/api-admin:1.4.2
"#,
};

impl Check for MissingReadinessProbe {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let served = served(cx);
        for pod in cx.pods() {
            if !long_running(cx, &pod) {
                continue;
            }
            let targets = served.get(&pod.object);
            let containers = pod.get("containers").and_then(Value::as_array).map_or(0, <[Value]>::len);
            for c in pod.containers().filter(|c| !c.init && c.value.is_object()) {
                if c.get("/readinessProbe").is_some_and(|p| !p.is_null()) {
                    continue;
                }
                // Next to others, a container gets the Service's traffic
                // only on a port the Service targets.
                let selected = targets.is_some_and(|t| containers == 1 || holds_target(&c, t));
                let has_ports = c.ports().next().is_some();
                if !(has_ports || selected && containers == 1) {
                    continue;
                }
                if containers > 1 && has_ports && c.ports().all(|(_, name, _)| metrics_port(name)) {
                    continue;
                }
                let f = out.report(
                    pod.object,
                    c.field("/name"),
                    format!("container `{}` has no readiness probe", c.name()),
                );
                if selected {
                    f.help("a Service sends it traffic as soon as it starts: add a readinessProbe, e.g. `httpGet: { path: /ready, port: http }`");
                } else {
                    f.severity = Severity::Info;
                    f.help("it declares ports: if anything sends it traffic, add a readinessProbe so that it only gets requests once it can serve");
                }
            }
        }
    }
}

/// A port by which Prometheus scrapes, not one that serves requests.
fn metrics_port(name: Option<&str>) -> bool {
    name.is_some_and(|n| n == "metrics" || n.ends_with("-metrics"))
}
