use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::At;

/// KP319: a Gateway API route sends traffic to a Service or port the set does not have.
pub struct RouteBackendNotFound;

static META: Meta = Meta {
    code: "KP319",
    name: "route-backend-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a Gateway API route's backend names a Service, or a port of it, that is not in the set",
    what: "Reads the `backendRefs` of every rule of every HTTPRoute, GRPCRoute, TCPRoute, TLSRoute and \
           UDPRoute (`gateway.networking.k8s.io`) that point at a Service of the route's own namespace (no \
           `group` or `kind`, or `kind: Service`, and no other `namespace`), and reports a Service that no \
           Service of that namespace is, and a `port` that is not one of the Service's ports.",
    why: "The Gateway accepts the route and answers 500 for every request the rule matches: the backend is \
          unresolved (`ResolvedRefs: False` on the route's status, which nobody reads until a user reports \
          it). Service names and ports are the usual typos, and a renamed Service leaves its routes behind.",
    fix: "Correct the Service name or the port (the Service's `port`, not the container's), or add the \
          Service to the route's namespace.",
    fail: r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: shop }
spec:
  parentRefs: [{ name: public, namespace: gateway }]
  hostnames: [shop.example.com]
  rules:
    - backendRefs: [{ name: storefrnt, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /admin } }]
      backendRefs: [{ name: storefront, port: 8080 }]
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
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop, namespace: shop }
spec:
  parentRefs: [{ name: public, namespace: gateway }]
  hostnames: [shop.example.com]
  rules:
    - backendRefs: [{ name: storefront, port: 80 }]
    - backendRefs: [{ name: images, namespace: media, port: 80 }]
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

const ROUTES: [&str; 5] = ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "UDPRoute"];

impl Check for RouteBackendNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let known = super::names_by_ns(cx, "Service");
        for kind in ROUTES {
            for &i in cx.index.of_kind(kind) {
                let o = &cx.objects[i];
                if !o.api_version.starts_with("gateway.networking.k8s.io/") {
                    continue;
                }
                let rules = o.value.at("/spec/rules").and_then(Value::as_array).into_iter().flatten();
                for (r, rule) in rules.enumerate() {
                    let refs = rule.get("backendRefs").and_then(Value::as_array).into_iter().flatten();
                    for (b, backend) in refs.enumerate() {
                        let ptr = format!("/spec/rules/{r}/backendRefs/{b}");
                        let Some(name) = local_service(backend, o.ns()) else { continue };
                        let Some(svc) = cx.index.get("Service", o.ns(), name) else {
                            let names = known.get(o.ns()).into_iter().flatten().copied();
                            let help = match crate::diag::did_you_mean(name, names) {
                                Some(s) => format!("did you mean `{s}`?"),
                                None => format!("add the Service to namespace {}", o.ns()),
                            };
                            let m = format!("Service `{name}` is not in namespace {}", o.ns());
                            out.report(i, format!("{ptr}/name"), m).help(help);
                            continue;
                        };
                        let Some(port) = backend.get("port").and_then(Value::as_i64) else { continue };
                        let ports: Vec<i64> = cx.objects[svc]
                            .value
                            .at("/spec/ports")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|p| p.get("port").and_then(Value::as_i64))
                            .collect();
                        if !ports.contains(&port) {
                            let list: Vec<String> = ports.iter().map(i64::to_string).collect();
                            let help = format!("the Service's ports are {}: name one of them", list.join(", "));
                            let m = format!("Service `{name}` has no port {port}");
                            out.report(i, format!("{ptr}/port"), m).help(help);
                        }
                    }
                }
            }
        }
    }
}

/// The Service a backend names in the route's namespace `ns`, if it names one there.
fn local_service<'a>(backend: &'a Value, ns: &str) -> Option<&'a str> {
    let text = |k: &str| backend.get(k).and_then(Value::as_str);
    let service = text("group").is_none_or(str::is_empty) && text("kind").is_none_or(|k| k == "Service");
    let local = text("namespace").is_none_or(|n| n == ns);
    (service && local).then(|| text("name")).flatten()
}
