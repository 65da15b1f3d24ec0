use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::At;
use crate::model::pods::Pod;
use crate::model::selector::Selector;

use super::kind_name;

use crate::model::ports::{PortRef, describe_ports, pod_ports, service_ports};

/// KP302: a named Service targetPort that a selected pod does not declare.
pub struct ServiceTargetPortUnknownName;

static META: Meta = Meta {
    code: "KP302",
    name: "service-target-port-unknown-name",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a Service's named targetPort is not a container port name of the pods it selects",
    what: "For every Service port whose `targetPort` is a name, checks that each pod template the Service \
           selects declares a container port with that name and the Service port's protocol.",
    why: "Kubernetes resolves a named targetPort per pod: a pod without a port of that name is left out of \
          the Service's endpoints. If no pod has it, the Service has no endpoints at all and every \
          connection fails, while the pods themselves look healthy.",
    fix: "Name the container port (`ports[].name`) as the Service's targetPort says, or change the \
          targetPort to the name (or number) the container declares.",
    fail: r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api }
  ports: [{ name: http, port: 80, targetPort: htpp }]
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
  ports:
    - { name: http, port: 80, targetPort: http }
    - { name: metrics, port: 9090, targetPort: 9090 }
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
};

impl Check for ServiceTargetPortUnknownName {
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
            if !ports.iter().any(|p| matches!(p.target, PortRef::Name(_))) {
                continue;
            }
            for t in cx.index.selected(o.ns(), &Selector::of_labels(selector)) {
                let Some(pod) = Pod::of(cx.objects, t.object) else { continue };
                let declared = pod_ports(&pod);
                for p in &ports {
                    let PortRef::Name(name) = p.target else { continue };
                    if declared.iter().any(|d| d.name == Some(name) && d.protocol == p.protocol) {
                        continue;
                    }
                    let owner = kind_name(cx, t.object);
                    let other_protocol = declared.iter().find(|d| d.name == Some(name));
                    let (message, help) = match other_protocol {
                        Some(d) => (
                            format!(
                                "targetPort `{name}` is {} in {owner}, but this Service port is {}",
                                d.protocol, p.protocol
                            ),
                            format!("set `protocol: {}` on the Service port, or fix the container port", d.protocol),
                        ),
                        None => {
                            let names = declared.iter().filter_map(|d| d.name);
                            let help = match crate::diag::did_you_mean(name, names) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None if declared.is_empty() => format!(
                                    "{owner} declares no container ports; add `ports: [{{name: {name}, containerPort: ...}}]` to the container that serves it"
                                ),
                                None => format!(
                                    "{owner} declares {}; use one of these names, or name the port `{name}`",
                                    describe_ports(&declared)
                                ),
                            };
                            (format!("targetPort `{name}` is not the name of a container port of {owner}"), help)
                        }
                    };
                    out.report(i, &p.target_ptr, message).help(help);
                }
            }
        }
    }
}
