use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use crate::model::ports::{PortRef, probe_of, probe_ports};

/// KP305: a probe on a port number that its container does not declare.
pub struct ProbePortUndeclared;

static META: Meta = Meta {
    code: "KP305",
    name: "probe-port-undeclared",
    family: Family::References,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a probe uses a port number that its container does not declare",
    what: "For every `httpGet`, `tcpSocket` and `grpc` probe whose port is a number, checks that the \
           container declares that port — when the container declares any ports at all (Kubernetes does \
           not require declarations, so a container declaring none is not reported).",
    why: "The kubelet probes the number whether or not it is declared; but a container that lists its ports \
          and probes another one usually has a wrong number (a copy-pasted probe, a changed listen port), and \
          the probe then fails on every attempt: never ready, or restarted in a loop.",
    fix: "Probe the port by its declared name (`port: http`), or declare the probed port in the container's \
          `ports`.",
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
          livenessProbe:
            httpGet: { path: /healthz, port: 8000 }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          readinessProbe:
            tcpSocket: { port: 15021 }
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
            httpGet: { path: /healthz, port: 8080 }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          readinessProbe:
            tcpSocket: { port: 15021 }
"#,
};

impl Check for ProbePortUndeclared {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                let declared: Vec<(i64, Option<&str>)> = c.ports().map(|(n, name, _)| (n, name)).collect();
                if declared.is_empty() {
                    continue;
                }
                for (ptr, port, _) in probe_ports(&c) {
                    let PortRef::Number(n) = port else { continue };
                    if declared.iter().any(|(d, _)| *d == n) {
                        continue;
                    }
                    let list = declared
                        .iter()
                        .map(|(d, name)| name.map_or_else(|| d.to_string(), |s| format!("{s} ({d})")))
                        .collect::<Vec<_>>()
                        .join(", ");
                    out.report(
                        pod.object,
                        &ptr,
                        format!(
                            "the {} of container {} uses port {n}, which the container does not declare",
                            probe_of(&ptr),
                            c.name()
                        ),
                    )
                    .help(format!(
                        "container {} declares {list}; probe one of these (by name), or declare port {n} if the container listens on it",
                        c.name()
                    ));
                }
            }
        }
    }
}
