use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use crate::model::ports::{PortRef, probe_of, probe_ports};

/// KP304: a probe on a named port that its container does not declare.
pub struct ProbePortUnknownName;

static META: Meta = Meta {
    code: "KP304",
    name: "probe-port-unknown-name",
    family: Family::References,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a probe names a port that its container does not declare",
    what: "For every `httpGet`, `tcpSocket` and `grpc` liveness, readiness and startup probe whose port is a \
           name, checks that the same container declares a port with that name.",
    why: "The kubelet resolves a probe's named port in the probed container only. When the name is \
          missing, the probe fails on every attempt: a readiness probe keeps the pod out of its Services \
          forever, a liveness probe restarts it in a loop.",
    fix: "Use the name the container gives the port in `ports[].name` (or the port number), or name the \
          container port as the probe says.",
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
            httpGet: { path: /readyz, port: htp }
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
            httpGet: { path: /readyz, port: http }
          livenessProbe:
            tcpSocket: { port: 8080 }
"#,
};

impl Check for ProbePortUnknownName {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                for (ptr, port, _) in probe_ports(&c) {
                    let PortRef::Name(name) = port else { continue };
                    if c.ports().any(|(_, n, _)| n == Some(name)) {
                        continue;
                    }
                    let names: Vec<&str> = c.ports().filter_map(|(_, n, _)| n).collect();
                    let help = match crate::diag::did_you_mean(name, names.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if names.is_empty() => format!(
                            "container {} declares no named port; use the port number, or add `ports: [{{name: {name}, containerPort: ...}}]`",
                            c.name()
                        ),
                        None => format!("container {} names its ports {}", c.name(), names.join(", ")),
                    };
                    out.report(
                        pod.object,
                        &ptr,
                        format!(
                            "the {} of container {} uses port `{name}`, which the container does not declare",
                            probe_of(&ptr),
                            c.name()
                        ),
                    )
                    .help(help);
                }
            }
        }
    }
}
