use std::collections::HashSet;

use super::{gateway_of, gateway_refs};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP503: a VirtualService is bound to a Gateway that does not exist.
pub struct GatewayNotFound;

static META: Meta = Meta {
    code: "KP503",
    name: "virtualservice-gateway-not-found",
    family: Family::Mesh,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a VirtualService names a Gateway that does not exist",
    what: "For every entry of a VirtualService's `gateways` (and of its matches' `gateways`) other than the \
           reserved `mesh`, looks for the Gateway: `namespace/name`, or `name` in the VirtualService's \
           namespace. A missing Gateway in another namespace without any Gateway in the checked set is a \
           warning: shared gateways often live in `istio-system`, outside the application's files.",
    why: "Routes bound to a missing Gateway are never programmed into any ingress gateway: the public host \
          answers 404 (or the TLS handshake fails), although every object applied without an error.",
    fix: "Create the Gateway, or fix the reference (`namespace/name` for a Gateway of another namespace).",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: shop }
spec:
  hosts: [shop.example.com, web]
  gateways: [web, shop/web-gateway, mesh]
  http:
    - match: [{ gateways: [mesh] }]
      route:
        - destination: { host: web }
    - route:
        - destination: { host: web }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web, namespace: shop }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 443, name: https, protocol: HTTPS }
      hosts: [shop.example.com]
      tls: { mode: SIMPLE, credentialName: shop-tls }
---
# Of that name, but in another namespace: it does not count.
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web-gateway, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 443, name: https, protocol: HTTPS }
      hosts: [shop.example.com]
      tls: { mode: SIMPLE, credentialName: shop-tls }
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: shop }
spec:
  hosts: [shop.example.com, web]
  gateways: [web, shop/web, mesh]
  http:
    - match: [{ gateways: [mesh] }]
      route:
        - destination: { host: web }
    - route:
        - destination: { host: web }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web, namespace: shop }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 443, name: https, protocol: HTTPS }
      hosts: [shop.example.com]
      tls: { mode: SIMPLE, credentialName: shop-tls }
---
# Of that name, but in another namespace: it does not count.
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: web-gateway, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers:
    - port: { number: 443, name: https, protocol: HTTPS }
      hosts: [shop.example.com]
      tls: { mode: SIMPLE, credentialName: shop-tls }
"#,
};

impl Check for GatewayNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let gateway_ns: HashSet<&str> = cx.index.of_kind("Gateway").iter().map(|&g| cx.objects[g].ns()).collect();
        for &i in cx.index.of_kind("VirtualService") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            for (pointer, reference) in gateway_refs(&o.value) {
                let Some((ns, name)) = gateway_of(reference, o.ns()) else { continue };
                if cx.index.get("Gateway", ns, name).is_some() {
                    continue;
                }
                let here: Vec<&str> = cx
                    .index
                    .of_kind("Gateway")
                    .iter()
                    .map(|&g| &cx.objects[g])
                    .filter(|g| g.ns() == ns)
                    .map(|g| g.name.as_str())
                    .collect();
                let help = match crate::diag::did_you_mean(name, here.iter().copied()) {
                    Some(s) if ns == o.ns() => format!("did you mean `{s}`?"),
                    Some(s) => format!("did you mean `{ns}/{s}`?"),
                    None => format!("create the Gateway `{name}` in namespace {ns}, or name an existing one"),
                };
                let f = out.report(i, pointer, format!("is bound to Gateway {ns}/{name}, which does not exist"));
                if ns != o.ns() && !gateway_ns.contains(ns) {
                    f.severity = Severity::Warning;
                    f.message = format!(
                        "is bound to Gateway {ns}/{name}, which is not in the checked files (it may be defined elsewhere)"
                    );
                }
                f.help(help);
            }
        }
    }
}
