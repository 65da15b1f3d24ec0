use crate::model::Value;

use super::common::label;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP108: a container port is bound on the node (`hostPort`).
pub struct HostPort;

static META: Meta = Meta {
    code: "KP108",
    name: "host-port",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a container port is published on the node's address (`hostPort`)",
    what: "Reports container ports (init containers included) with a non-zero `hostPort`. Pods with \
           `hostNetwork: true` are left to KP105, since every port of theirs is on the node.",
    why: "A hostPort opens the port on the node's own IP address: it bypasses the Service and, with many \
          CNI plugins, NetworkPolicy, so anything that can reach the node reaches the pod. It also pins \
          one pod per node per port, so rolling updates and rescheduling stall when the port is taken. \
          The Pod Security `baseline` level forbids host ports.",
    fix: "Remove `hostPort` and reach the pod through a Service (ClusterIP, or NodePort/LoadBalancer for \
          traffic from outside the cluster).",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: ingress, namespace: edge }
spec:
  selector: { matchLabels: { app: ingress } }
  template:
    metadata: { labels: { app: ingress } }
    spec:
      serviceAccountName: ingress
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: proxy
          image: docker.io/library/nginx:1.27.2
          ports:
            - { name: http, containerPort: 8080, hostPort: 80 }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: ingress, namespace: edge }
spec:
  selector: { matchLabels: { app: ingress } }
  template:
    metadata: { labels: { app: ingress } }
    spec:
      serviceAccountName: ingress
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: proxy
          image: docker.io/library/nginx:1.27.2
          ports:
            - { name: http, containerPort: 8080 }
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
apiVersion: v1
kind: Service
metadata: { name: ingress, namespace: edge }
spec:
  type: LoadBalancer
  selector: { app: ingress }
  ports: [{ name: http, port: 80, targetPort: http }]
"#,
};

impl Check for HostPort {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            if pod.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            for c in pod.containers() {
                let ports = c.value.get("ports").and_then(Value::as_array).unwrap_or_default();
                for (i, p) in ports.iter().enumerate() {
                    let Some(host) = p.get("hostPort").and_then(Value::as_i64).filter(|h| *h > 0) else { continue };
                    let port =
                        p.get("containerPort").and_then(Value::as_i64).map_or(String::new(), |n| format!(" {n}"));
                    out.report(
                        pod.object,
                        c.field(&format!("/ports/{i}/hostPort")),
                        format!("{} publishes port{port} on port {host} of the node", label(&c)),
                    )
                    .help("remove `hostPort` and expose the port through a Service");
                }
            }
        }
    }
}
