use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::At;
use crate::model::pods::Pod;
use crate::model::selector::Selector;

use super::kind_name;

use crate::model::ports::{PortRef, describe_ports, pod_ports, service_ports};

/// KP303: a numeric Service targetPort that a selected pod does not declare.
pub struct ServiceTargetPortUndeclared;

static META: Meta = Meta {
    code: "KP303",
    name: "service-target-port-undeclared",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a Service's numeric targetPort is not among the container ports its pods declare",
    what: "For every Service port whose `targetPort` is a number (or is omitted, so equals `port`), checks \
           that each selected pod template that declares container ports declares this one (with the same \
           protocol). Pod templates that declare no ports at all are skipped: Kubernetes does not require \
           declarations, so there is nothing to compare with.",
    why: "Traffic goes to the number whether or not it is declared, so this is not always broken — but when \
          the pod declares its ports and this one is not among them, the usual cause is a wrong number \
          (8080 against 8000, or the Service port repeated as targetPort), and then every connection is \
          refused.",
    fix: "Set targetPort to the port the container listens on — preferably by its name — or declare the \
          port in the container's `ports`.",
    fail: r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api }
  ports: [{ name: http, port: 80 }]
---
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
"#,
    pass: r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
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
---
apiVersion: v1
kind: Service
metadata: { name: cache, namespace: shop }
spec:
  selector: { app: cache }
  ports: [{ port: 6379 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: cache, namespace: shop }
spec:
  serviceName: cache
  selector: { matchLabels: { app: cache } }
  template:
    metadata: { labels: { app: cache } }
    spec:
      containers:
        - name: redis
          image: docker.io/library/redis:7.4
"#,
};

impl Check for ServiceTargetPortUndeclared {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("Service") {
            let o = &cx.objects[i];
            let Some(selector) = o.value.at("/spec/selector").and_then(crate::model::Value::as_object) else {
                continue;
            };
            if selector.is_empty() {
                continue;
            }
            let ports = service_ports(&o.value);
            for t in cx.index.selected(o.ns(), &Selector::of_labels(selector)) {
                let Some(pod) = Pod::of(cx.objects, t.object) else { continue };
                let declared = pod_ports(&pod);
                if declared.is_empty() {
                    continue;
                }
                for p in &ports {
                    let PortRef::Number(n) = p.target else { continue };
                    if declared.iter().any(|d| d.number == n && d.protocol == p.protocol) {
                        continue;
                    }
                    let owner = kind_name(cx, t.object);
                    let what = if p.target_ptr.ends_with("/port") { "port (used as targetPort)" } else { "targetPort" };
                    let mut help = format!("{owner} declares {}", describe_ports(&declared));
                    if let [only] = declared.as_slice() {
                        let by = only.name.map_or_else(|| only.number.to_string(), str::to_string);
                        help = format!("{help}; did you mean `targetPort: {by}`?");
                    } else {
                        help.push_str("; set targetPort to the port the container listens on, preferably by name");
                    }
                    out.report(
                        i,
                        &p.target_ptr,
                        format!("{what} {n}/{} is not a container port of {owner}", p.protocol),
                    )
                    .help(help);
                }
            }
        }
    }
}
