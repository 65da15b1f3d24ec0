use crate::model::At;
use std::collections::HashMap;

use crate::model::Value;

use super::{canonical, gateway_of, service_namespaces};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP507: two VirtualServices claim the same host on the same gateway.
pub struct HostClaimedTwice;

static META: Meta = Meta {
    code: "KP507",
    name: "virtualservice-host-claimed-twice",
    family: Family::Mesh,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "two VirtualServices claim the same host on the same gateway",
    what: "Indexes the hosts of every VirtualService by the gateways it is bound to (`spec.gateways`; none \
           means the sidecars, `mesh`), hosts compared as Istio does, and reports each VirtualService that \
           claims a host another one already claims on the same gateway. Two copies of one VirtualService \
           (same namespace and name) are KP003's duplicate, not reported here.",
    why: "For sidecars Istio keeps one VirtualService per host and silently ignores the other; on a gateway it \
          merges them in creation order, so a catch-all route in the older one hides the newer one's routes. \
          Either way the traffic follows an order nobody wrote down.",
    fix: "Keep the routes of one host in one VirtualService (or split them with `delegate`), or bind the two \
          to different gateways.",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: shop }
spec:
  hosts: [shop.example.com, web]
  gateways: [istio-system/public, mesh]
  http:
    - route:
        - destination: { host: web }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web-beta, namespace: shop }
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/public]
  http:
    - match: [{ headers: { x-beta: { exact: "1" } } }]
      route:
        - destination: { host: web-beta }
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: shop }
spec:
  hosts: [shop.example.com, web]
  gateways: [istio-system/public, mesh]
  http:
    - route:
        - destination: { host: web }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web-beta, namespace: shop }
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/internal]
  http:
    - match: [{ headers: { x-beta: { exact: "1" } } }]
      route:
        - destination: { host: web-beta }
"#,
};

impl Check for HostClaimedTwice {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let service_ns = service_namespaces(cx);
        // (gateway, host) → the first VirtualService claiming it.
        let mut claimed: HashMap<(String, String), usize> = HashMap::new();
        for &i in cx.index.of_kind("VirtualService") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            let listed: Vec<&str> = o
                .value
                .at("/spec/gateways")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let gateways: Vec<String> = if listed.is_empty() {
                vec!["mesh".into()]
            } else {
                listed
                    .iter()
                    .map(|g| gateway_of(g, o.ns()).map_or_else(|| "mesh".to_string(), |(n, g)| format!("{n}/{g}")))
                    .collect()
            };
            let hosts = o.value.at("/spec/hosts").and_then(Value::as_array);
            for (j, h) in hosts.into_iter().flatten().enumerate() {
                let Some(h) = h.as_str() else { continue };
                let host = canonical(h, o.ns(), &service_ns);
                for g in &gateways {
                    // A host on `mesh` is the sidecars' business in the VirtualService's own scope.
                    let key = (g.clone(), host.clone());
                    match claimed.get(&key) {
                        None => {
                            claimed.insert(key, i);
                        }
                        Some(&first) if first == i => {}
                        // Another copy of this very object (alternatives in one folder): KP003 reports the duplicate.
                        Some(&first) if cx.objects[first].ns() == o.ns() && cx.objects[first].name == o.name => {}
                        Some(&first) => {
                            let f = &cx.objects[first];
                            let on = if g == "mesh" {
                                "for the sidecars (mesh): Istio applies only one of them".to_string()
                            } else {
                                format!("on gateway {g}: Istio merges them in creation order")
                            };
                            out.report(
                                i,
                                format!("/spec/hosts/{j}"),
                                format!("claims {host}, which VirtualService {}/{} claims too, {on}", f.ns(), f.name),
                            )
                            .help(format!(
                                "move these routes into VirtualService {}/{} (at {}:{}), or bind them to another gateway",
                                f.ns(),
                                f.name,
                                cx.source_name(f.source),
                                f.pos("/metadata/name").line
                            ));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::check_text;
    use crate::check::config::Config;

    fn found(text: &str) -> Vec<String> {
        let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        outcome.findings.iter().filter(|f| f.code == "KP507").map(|f| f.message.clone()).collect()
    }

    const WEB: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web, namespace: shop }
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/public]
  http:
    - route:
        - destination: { host: web }
"#;

    #[test]
    fn two_copies_of_one_virtual_service_are_not_told_to_merge_into_themselves() {
        // Alternatives of the same object in one folder: the duplicate is KP003's.
        let copies = format!("{WEB}---{}", WEB.replace("host: web }", "host: web-v2 }"));
        assert_eq!(found(&copies), Vec::<String>::new());
        // Another VirtualService claiming the same host still is reported.
        let other = format!("{copies}---{}", WEB.replace("name: web,", "name: web-beta,"));
        let messages = found(&other);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].contains("which VirtualService shop/web claims too"), "{messages:?}");
    }
}
