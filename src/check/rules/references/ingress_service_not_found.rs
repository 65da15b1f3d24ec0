use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::ingress_backends;

/// KP311: an Ingress routes to a Service that the set does not define.
pub struct IngressServiceNotFound;

static META: Meta = Meta {
    code: "KP311",
    name: "ingress-service-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "an Ingress backend names a Service that is not in its namespace",
    what: "Reads the default backend and the backend of every rule path of every Ingress and reports \
           Service names that no Service of the Ingress's namespace has.",
    why: "An Ingress can only route to Services of its own namespace. A backend whose Service does not \
          exist answers 503 (ingress-nginx) or 404 for every request on that host and path, while the \
          Ingress itself is accepted without a warning.",
    fix: "Correct the Service name, or add the Service to the Ingress's namespace (move the Ingress if the \
          Service lives in another namespace).",
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
              service: { name: storefrnt, port: { name: http } }
---
apiVersion: v1
kind: Service
metadata: { name: storefront, namespace: shop }
spec:
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: storefrnt, namespace: billing }
spec:
  ports: [{ name: http, port: 80, targetPort: 8080 }]
"#,
    pass: r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop, namespace: shop }
spec:
  ingressClassName: nginx
  defaultBackend:
    service: { name: storefront, port: { number: 80 } }
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: { name: storefront, port: { name: http } }
---
apiVersion: v1
kind: Service
metadata: { name: storefront, namespace: shop }
spec:
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: storefrnt, namespace: billing }
spec:
  ports: [{ name: http, port: 80, targetPort: 8080 }]
"#,
};

impl Check for IngressServiceNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let known = super::names_by_ns(cx, "Service");
        for &i in cx.index.of_kind("Ingress") {
            let o = &cx.objects[i];
            for b in ingress_backends(&o.value) {
                if cx.index.get("Service", o.ns(), b.service).is_some() {
                    continue;
                }
                let help = match crate::diag::did_you_mean(b.service, known.get(o.ns()).into_iter().flatten().copied())
                {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => {
                        format!("add the Service to namespace {}: an Ingress cannot route to another namespace", o.ns())
                    }
                };
                out.report(i, &b.service_ptr, format!("Service `{}` is not in namespace {}", b.service, o.ns()))
                    .help(help);
            }
        }
    }
}
