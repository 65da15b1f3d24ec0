use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::At;

use super::ingress_backends;

use crate::model::ports::{PortRef, service_ports};

/// KP312: an Ingress routes to a port that its Service does not have.
pub struct IngressPortNotFound;

static META: Meta = Meta {
    code: "KP312",
    name: "ingress-port-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "an Ingress backend port is not a port of its Service",
    what: "For every Ingress backend whose Service is in the checked set, checks that the backend's \
           `port.number` is one of the Service's `port`s, or its `port.name` one of the Service's port \
           names. (It is the Service port that counts, not the container's targetPort.) ExternalName \
           Services are skipped.",
    why: "An Ingress controller that cannot find the backend port has no upstream for that path: requests \
          get 503. Pointing the Ingress at the container port (8080) instead of the Service port (80) is a \
          classic mistake that passes every schema check.",
    fix: "Use a port number or name that the Service declares in `spec.ports`.",
    fail: r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop, namespace: shop }
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: { name: storefront, port: { number: 8080 } }
          - path: /api
            pathType: Prefix
            backend:
              service: { name: storefront, port: { name: http } }
---
apiVersion: v1
kind: Service
metadata: { name: storefront, namespace: shop }
spec:
  selector: { app: storefront }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: storefront, namespace: billing }
spec:
  selector: { app: storefront }
  ports: [{ name: http, port: 8080 }]
"#,
    pass: r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop, namespace: shop }
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: { name: storefront, port: { number: 80 } }
          - path: /api
            pathType: Prefix
            backend:
              service: { name: storefront, port: { name: http } }
---
apiVersion: v1
kind: Service
metadata: { name: storefront, namespace: shop }
spec:
  selector: { app: storefront }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: storefront, namespace: billing }
spec:
  selector: { app: storefront }
  ports: [{ name: http, port: 8080 }]
"#,
};

impl Check for IngressPortNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("Ingress") {
            let o = &cx.objects[i];
            for b in ingress_backends(&o.value) {
                let Some(port) = b.port else { continue };
                let Some(s) = cx.index.get("Service", o.ns(), b.service) else { continue };
                let svc = &cx.objects[s].value;
                if svc.at("/spec/type").and_then(crate::model::Value::as_str) == Some("ExternalName") {
                    continue;
                }
                let ports = service_ports(svc);
                let found = ports.iter().any(|p| match port {
                    PortRef::Number(n) => p.port == n,
                    PortRef::Name(name) => p.name == Some(name),
                });
                if found {
                    continue;
                }
                let list = ports
                    .iter()
                    .map(|p| p.name.map_or_else(|| p.port.to_string(), |n| format!("{n} ({})", p.port)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let help = match port {
                    PortRef::Number(n) => match ports.iter().find(|p| p.target == PortRef::Number(n)) {
                        Some(p) => format!(
                            "{n} is the targetPort of Service port {}; an Ingress names the Service port: use `number: {}`{}",
                            p.port,
                            p.port,
                            p.name.map(|x| format!(" or `name: {x}`")).unwrap_or_default()
                        ),
                        None => format!("Service {} has the ports {list}", b.service),
                    },
                    PortRef::Name(name) => match crate::diag::did_you_mean(name, ports.iter().filter_map(|p| p.name)) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => format!("Service {} has the ports {list}", b.service),
                    },
                };
                out.report(i, &b.port_ptr, format!("Service {} has no port {port}", b.service)).help(help);
            }
        }
    }
}
