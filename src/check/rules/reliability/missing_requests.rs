use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use crate::model::resources::{LimitDefaults, has_request};

/// KP201: a container without a CPU or memory request.
pub struct MissingRequests;

static META: Meta = Meta {
    code: "KP201",
    name: "missing-requests",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a container has no CPU or memory request",
    what: "Reports every container and init container of a pod template that ends up without \
           `resources.requests.cpu` or `resources.requests.memory`. A request is not missing when \
           the container sets a limit for that resource (Kubernetes then uses the limit as the \
           request), when a LimitRange of its namespace in the checked set gives a default, or \
           when the pod sets pod-level `spec.resources` for it.",
    why: "The scheduler places pods by their requests: a container without requests is packed \
          onto nodes that cannot actually run it, starves its neighbours under load, and is the \
          first evicted when the node runs short of memory (BestEffort pods go first). \
          Autoscalers based on utilization cannot work without requests either.",
    fix: "Set `resources.requests.cpu` and `resources.requests.memory` to what the container uses \
          under normal load (measure it, e.g. with `kubectl top pod`), for example `cpu: 100m` and \
          `memory: 256Mi`.",
    fail: r#"
# In another namespace: it gives shop no default.
apiVersion: v1
kind: LimitRange
metadata: { name: defaults, namespace: tools }
spec:
  limits:
    - type: Container
      defaultRequest: { cpu: 50m, memory: 64Mi }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/api:1.4.2
          resources:
            limits: { cpu: 500m, memory: 256Mi }
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { memory: 256Mi }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
---
apiVersion: batch/v1
kind: Job
metadata: { name: report, namespace: tools }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: report
          image: ghcr.io/acme/report:0.3.0
"#,
    pass: r#"
# In another namespace: it gives shop no default.
apiVersion: v1
kind: LimitRange
metadata: { name: defaults, namespace: tools }
spec:
  limits:
    - type: Container
      defaultRequest: { cpu: 50m, memory: 64Mi }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      initContainers:
        - name: migrate
          image: ghcr.io/acme/api:1.4.2
          resources:
            limits: { cpu: 500m, memory: 256Mi }
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 250m, memory: 256Mi }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          resources:
            requests: { cpu: 50m, memory: 64Mi }
---
apiVersion: batch/v1
kind: Job
metadata: { name: report, namespace: tools }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: report
          image: ghcr.io/acme/report:0.3.0
"#,
};

impl Check for MissingRequests {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let defaults = LimitDefaults::build(cx);
        for pod in cx.pods() {
            let ns = cx.objects[pod.object].ns();
            for c in pod.containers().filter(|c| c.value.is_object()) {
                let missing: Vec<&str> =
                    ["cpu", "memory"].into_iter().filter(|r| !has_request(&pod, &c, r, ns, &defaults)).collect();
                if missing.is_empty() {
                    continue;
                }
                let pointer = if c.get("/resources/requests").is_some() {
                    c.field("/resources/requests")
                } else if c.get("/resources").is_some() {
                    c.field("/resources")
                } else {
                    c.field("/name")
                };
                let what = if c.init { "init container" } else { "container" };
                let example = missing
                    .iter()
                    .map(|r| if *r == "cpu" { "cpu: 100m" } else { "memory: 256Mi" })
                    .collect::<Vec<_>>()
                    .join(", ");
                out.report(
                    pod.object,
                    pointer,
                    format!("{what} `{}` has no {} request", c.name(), missing.join(" or ")),
                )
                .help(format!(
                    "add to resources.requests what it uses under normal load (measure it), e.g. `{example}`"
                ));
            }
        }
    }
}
