use crate::model::At;
use std::collections::HashSet;

use crate::model::Value;

use super::{canonical, destinations, service_namespaces, service_of};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP501: a VirtualService routes to a host that is no Service.
pub struct DestinationNotFound;

static META: Meta = Meta {
    code: "KP501",
    name: "virtualservice-destination-not-found",
    family: Family::Mesh,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a VirtualService routes to a Kubernetes Service that does not exist",
    what: "For every route destination (and mirror) of a VirtualService whose host names a Kubernetes \
           Service — `name` (in the VirtualService's namespace), `name.namespace` or \
           `name.namespace.svc.cluster.local` — looks for that Service. Hosts declared by a ServiceEntry and \
           outside names are skipped, and so are namespaces without any Service in the checked set (the \
           Service may be defined elsewhere).",
    why: "Istio accepts the route, but requests matching it fail with 503 (no route or no healthy upstream): \
          a typo in a host, or a Service renamed without its routes, takes the path down silently.",
    fix: "Write the host of an existing Service (the full `name.namespace.svc.cluster.local` form avoids \
          ambiguity), create the Service, or declare an outside host with a ServiceEntry.",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - match: [{ uri: { prefix: /v2 } }]
      route:
        - destination: { host: review.shop.svc.cluster.local }
    - route:
        - destination: { host: reviews }
      mirror: { host: reviews.shop }
    - route:
        - destination: { host: api.payments.example }
---
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: shop }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: payments, namespace: shop }
spec:
  hosts: [api.payments.example]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 443, name: tls, protocol: TLS }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: review, namespace: billing }
spec:
  selector: { app: review }
  ports: [{ name: http, port: 9080 }]
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - match: [{ uri: { prefix: /v2 } }]
      route:
        - destination: { host: reviews.shop.svc.cluster.local }
    - route:
        - destination: { host: reviews }
      mirror: { host: reviews.shop }
    - route:
        - destination: { host: api.payments.example }
---
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: shop }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: payments, namespace: shop }
spec:
  hosts: [api.payments.example]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{ number: 443, name: tls, protocol: TLS }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: review, namespace: billing }
spec:
  selector: { app: review }
  ports: [{ name: http, port: 9080 }]
"#,
};

/// Hosts declared by ServiceEntries, as Istio compares them.
pub fn entry_hosts(cx: &Context, service_ns: &HashSet<&str>) -> HashSet<String> {
    let mut out = HashSet::new();
    for &i in cx.index.of_kind("ServiceEntry") {
        let o = &cx.objects[i];
        for h in o.value.at("/spec/hosts").and_then(Value::as_array).into_iter().flatten() {
            if let Some(h) = h.as_str() {
                out.insert(canonical(h, o.ns(), service_ns));
            }
        }
    }
    out
}

impl Check for DestinationNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let service_ns = service_namespaces(cx);
        let entries = entry_hosts(cx, &service_ns);
        for &i in cx.index.of_kind("VirtualService") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            for d in destinations(&o.value) {
                let Some((name, ns)) = service_of(d.host, o.ns(), &service_ns) else { continue };
                if !service_ns.contains(ns)
                    || cx.index.get("Service", ns, name).is_some()
                    || entries.contains(&canonical(d.host, o.ns(), &service_ns))
                {
                    continue;
                }
                let known: Vec<&str> = cx
                    .index
                    .of_kind("Service")
                    .iter()
                    .map(|&s| &cx.objects[s])
                    .filter(|s| s.ns() == ns)
                    .map(|s| s.name.as_str())
                    .collect();
                let help = match crate::diag::did_you_mean(name, known.iter().copied()) {
                    Some(s) => format!("did you mean `{s}.{ns}.svc.cluster.local`?"),
                    None => format!(
                        "create the Service `{name}` in namespace {ns}, or route to one of its Services: {}",
                        known.join(", ")
                    ),
                };
                out.report(
                    i,
                    format!("{}/host", d.pointer),
                    format!("routes to `{}`, but there is no Service `{name}` in namespace {ns}", d.host),
                )
                .help(help);
            }
        }
    }
}
