use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::support::text;

use crate::model::pointer::escape;

use crate::model::quantity::nanos;

/// KP203: a request above the limit of the same resource.
pub struct RequestsExceedLimits;

static META: Meta = Meta {
    code: "KP203",
    name: "requests-exceed-limits",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a container requests more of a resource than its limit allows",
    what: "Compares every `resources.requests` entry of every container with the \
           `resources.limits` entry of the same resource (cpu, memory, ephemeral-storage, \
           extended resources), as quantities: `1Gi` is more than `1000Mi`, `1.5` more than `1200m`.",
    why: "The API server rejects the pod (`must be less than or equal to ... limit`): for a \
          Deployment the rollout stalls with no new pods and the error is only visible in the \
          ReplicaSet's events. A request above the limit is usually a typo in the unit.",
    fix: "Lower the request to at most the limit, or raise the limit; check the units \
          (`Mi` vs `Gi`, `m` for millicores).",
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
            requests: { cpu: 500m, memory: 1Gi }
            limits: { cpu: "1", memory: 512Mi }
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
            requests: { cpu: 1000m, memory: 1000Mi }
            limits: { cpu: 1, memory: 1Gi }
"#,
};

impl Check for RequestsExceedLimits {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                let Some(requests) = c.get("/resources/requests").and_then(Value::as_object) else { continue };
                let Some(limits) = c.get("/resources/limits").and_then(Value::as_object) else { continue };
                for (resource, request) in requests {
                    let Some(limit) = limits.get(resource) else { continue };
                    let (Some(r), Some(l)) = (nanos(request), nanos(limit)) else { continue };
                    if r <= l {
                        continue;
                    }
                    out.report(
                        pod.object,
                        c.field(&format!("/resources/requests/{}", escape(resource))),
                        format!(
                            "container `{}` requests {resource} {} above its limit {}",
                            c.name(),
                            text(request),
                            text(limit)
                        ),
                    )
                    .help(format!(
                        "the API server rejects the pod: lower the request to at most {} or raise the limit",
                        text(limit)
                    ));
                }
            }
        }
    }
}
