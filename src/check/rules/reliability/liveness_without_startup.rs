use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP218: a tight liveness probe with no startup probe to cover start-up.
pub struct LivenessWithoutStartup;

/// The start-up time a liveness probe with default settings allows.
const DEFAULT_WINDOW: i64 = 30;

static META: Meta = Meta {
    code: "KP218",
    name: "liveness-without-startup-probe",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Info,
    summary: "a liveness probe tighter than the defaults leaves little start-up time and there is no startup probe",
    what: "For containers with a `livenessProbe` and no `startupProbe`, computes the time the \
           container has to start before the kubelet kills it: `initialDelaySeconds + \
           failureThreshold × periodSeconds` (defaults 0, 3 and 10: 30 s), and reports probes \
           that allow less than the default 30 s.",
    why: "Start-up is slowest exactly when it matters: on a busy node, after a node failure \
          when many pods start at once, with cold caches or a pending migration. A container \
          that needs longer than the window is killed before it ever serves, restarted, killed \
          again, and ends in CrashLoopBackOff, turning a slow recovery into an outage.",
    fix: "Add a `startupProbe` on the same endpoint with a generous `failureThreshold × \
          periodSeconds` (e.g. 30 × 5 s): liveness checks only start once it succeeds, so the \
          liveness probe can stay tight.",
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
          livenessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 5
            failureThreshold: 2
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          livenessProbe:
            tcpSocket: { port: 15000 }
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
          livenessProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 5
            failureThreshold: 2
          startupProbe:
            httpGet: { path: /healthz, port: 8080 }
            periodSeconds: 5
            failureThreshold: 30
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          livenessProbe:
            tcpSocket: { port: 15000 }
"#,
};

impl Check for LivenessWithoutStartup {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                let Some(live) = c.get("/livenessProbe").filter(|p| p.is_object()) else { continue };
                if c.get("/startupProbe").is_some_and(|p| !p.is_null()) {
                    continue;
                }
                let field = |name: &str, default: i64| match live.get(name) {
                    None | Some(Value::Null) => Some(default),
                    Some(v) => v.as_i64(),
                };
                let (Some(delay), Some(period), Some(failures)) =
                    (field("initialDelaySeconds", 0), field("periodSeconds", 10), field("failureThreshold", 3))
                else {
                    continue;
                };
                let window = delay + period * failures;
                if window >= DEFAULT_WINDOW {
                    continue;
                }
                out.report(
                    pod.object,
                    c.field("/livenessProbe"),
                    format!(
                        "container `{}` is killed unless it starts within {window} s ({delay} + {failures} × {period} s) and has no startup probe",
                        c.name()
                    ),
                )
                .help(format!(
                    "add a startupProbe on the same endpoint with failureThreshold × periodSeconds well above the slowest start (e.g. {} × {period} s)",
                    (120 / period.max(1)).max(failures)
                ));
            }
        }
    }
}
