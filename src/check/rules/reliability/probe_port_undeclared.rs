use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP217: a probe or hook on a named port the container does not declare.
pub struct ProbePortUndeclared;

static META: Meta = Meta {
    code: "KP217",
    name: "probe-port-undeclared",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a probe or lifecycle hook uses a port name the container does not declare",
    what: "Reads the `httpGet` and `tcpSocket` handlers of every container's liveness, readiness \
           and startup probes and postStart / preStop hooks, and reports named ports (`port: \
           http`) that are not the `name` of one of the container's own `ports`. Numeric ports \
           need no declaration and are not reported.",
    why: "The kubelet resolves a named port only among the container's own ports: when the \
          name is missing (renamed, a typo, or declared on another container) the probe fails \
          every time. A liveness or startup probe then restarts the container forever \
          (CrashLoopBackOff), a readiness probe keeps the pod out of every Service, and a \
          failing postStart hook kills the container.",
    fix: "Declare the port on the container (`ports: [{ name: http, containerPort: 8080 }]`), \
          or use the port number in the probe.",
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
          ports: [{ name: web, containerPort: 8080 }]
          livenessProbe:
            httpGet: { path: /healthz, port: http }
          readinessProbe:
            tcpSocket: { port: 9090 }
          startupProbe:
            httpGet: { path: /healthz, port: "8080" }
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
          livenessProbe:
            httpGet: { path: /healthz, port: http }
          readinessProbe:
            tcpSocket: { port: 9090 }
          startupProbe:
            httpGet: { path: /healthz, port: "8080" }
"#,
};

impl Check for ProbePortUndeclared {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                for (handler, what) in [
                    ("/livenessProbe", "liveness probe"),
                    ("/readinessProbe", "readiness probe"),
                    ("/startupProbe", "startup probe"),
                    ("/lifecycle/postStart", "postStart hook"),
                    ("/lifecycle/preStop", "preStop hook"),
                ] {
                    for kind in ["httpGet", "tcpSocket"] {
                        let pointer = format!("{handler}/{kind}/port");
                        let Some(name) = c.get(&pointer).and_then(Value::as_str) else { continue };
                        if name.parse::<u16>().is_ok() || c.ports().any(|(_, n, _)| n == Some(name)) {
                            continue;
                        }
                        let declared: Vec<&str> = c.ports().filter_map(|(_, n, _)| n).collect();
                        let help = if declared.is_empty() {
                            format!(
                                "declare it: `ports: [{{ name: {name}, containerPort: ... }}]`, or use the port number"
                            )
                        } else {
                            format!(
                                "the container declares {}; declare `{name}` or use one of those or a port number",
                                declared.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                            )
                        };
                        out.report(
                            pod.object,
                            c.field(&pointer),
                            format!(
                                "the {what} of container `{}` uses port `{name}`, which the container does not declare: it always fails",
                                c.name()
                            ),
                        )
                        .help(help);
                    }
                }
            }
        }
    }
}
