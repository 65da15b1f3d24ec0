use crate::model::value::{Map, Value};

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pods::Container;

use super::support::port_number;

/// KP206: a liveness probe identical to the readiness probe.
pub struct IdenticalProbes;

static META: Meta = Meta {
    code: "KP206",
    name: "identical-liveness-readiness",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a container's liveness probe is the same as its readiness probe",
    what: "Compares each container's `livenessProbe` with its `readinessProbe` after filling in \
           the defaults (`periodSeconds: 10`, `timeoutSeconds: 1`, `failureThreshold: 3`, \
           `successThreshold: 1`, `initialDelaySeconds: 0`, `scheme: HTTP`, `path: /`) and \
           resolving named ports, and reports them when they are identical: same handler, same \
           timings and thresholds. Probes that differ in any of these are not reported.",
    why: "The two probes answer different questions: readiness \"should this pod get traffic now\", \
          liveness \"is the process beyond repair\". When they are identical, every time the pod \
          is briefly unready (overloaded, a dependency down, a long GC pause) the kubelet also \
          restarts it at the same moment, so a transient problem becomes a restart storm across \
          every replica at once, instead of the pod being taken out of load balancing until it \
          recovers.",
    fix: "Point the liveness probe at an endpoint that checks only that the process responds \
          (not its dependencies), or at least make it more tolerant than readiness: a higher \
          `failureThreshold` or `periodSeconds`.",
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
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe:
            httpGet: { path: /health, port: http }
            periodSeconds: 10
          livenessProbe:
            httpGet: { path: /health, port: 8080, scheme: HTTP }
        - name: worker
          image: ghcr.io/acme/worker:1.4.2
          readinessProbe:
            exec: { command: [cat, /tmp/ready] }
          livenessProbe:
            exec: { command: [cat, /tmp/alive] }
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
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe:
            httpGet: { path: /health, port: http }
            periodSeconds: 10
          livenessProbe:
            httpGet: { path: /health, port: 8080, scheme: HTTP }
            failureThreshold: 6
        - name: worker
          image: ghcr.io/acme/worker:1.4.2
          readinessProbe:
            exec: { command: [cat, /tmp/ready] }
          livenessProbe:
            exec: { command: [cat, /tmp/alive] }
"#,
};

/// A probe with its defaults filled in and its ports as numbers.
fn normalized(c: &Container, probe: &Value) -> Option<Value> {
    let mut p: Map = probe.as_object()?.clone();
    // Liveness-only: does not change when the probe fails.
    p.remove("terminationGracePeriodSeconds");
    for (field, default) in [
        ("initialDelaySeconds", 0),
        ("periodSeconds", 10),
        ("timeoutSeconds", 1),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ] {
        if p.get(field).is_none_or(Value::is_null) {
            p.insert(field.to_string(), Value::from(default));
        }
    }
    for handler in ["httpGet", "tcpSocket", "grpc"] {
        let Some(h) = p.get_mut(handler).and_then(Value::as_object_mut) else { continue };
        if let Some(port) = h.get("port") {
            let n = port_number(c, port);
            h.insert("port", n);
        }
        if handler == "httpGet" {
            for (k, default) in [("scheme", "HTTP"), ("path", "/")] {
                if !h.contains_key(k) {
                    h.insert(k, Value::from(default));
                }
            }
        }
    }
    Some(Value::Object(p))
}

impl Check for IdenticalProbes {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                let (Some(live), Some(ready)) = (c.get("/livenessProbe"), c.get("/readinessProbe")) else { continue };
                let (Some(live), Some(ready)) = (normalized(&c, live), normalized(&c, ready)) else { continue };
                if live != ready {
                    continue;
                }
                out.report(
                    pod.object,
                    c.field("/livenessProbe"),
                    format!("container `{}` has a liveness probe identical to its readiness probe", c.name()),
                )
                .help(
                    "whenever the pod is briefly unready it is also restarted: make the liveness probe check only \
                     the process (another endpoint), or give it a higher failureThreshold than readiness",
                );
            }
        }
    }
}
