use crate::model::At;
use std::collections::HashMap;

use crate::model::Value;

use super::{canonical, destinations, service_namespaces};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP502: a VirtualService routes to a subset no DestinationRule defines.
pub struct SubsetNotDefined;

static META: Meta = Meta {
    code: "KP502",
    name: "virtualservice-subset-not-defined",
    family: Family::Mesh,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a VirtualService routes to a subset that no DestinationRule of its host defines",
    what: "For every route destination with a `subset`, looks up the DestinationRules of the same host (hosts \
           compared as Istio does: short names expanded in each object's namespace) and their `subsets`. \
           When the checked set has no DestinationRule for the host at all, the finding is a warning: it may be \
           defined elsewhere.",
    why: "Envoy has no cluster for an undefined subset: every request the route takes fails with 503 \
          (`NR`/`NC`). It typically happens during a canary release, when the VirtualService is applied \
          before the DestinationRule or a subset was renamed.",
    fix: "Add the subset (with the pod labels of that version) to the host's DestinationRule, or route to a \
          subset it defines.",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: stable }
          weight: 90
        - destination: { host: reviews, subset: canary }
          weight: 10
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews.shop.svc.cluster.local
  subsets:
    - { name: stable, labels: { track: stable } }
    - { name: cannary, labels: { track: canary } }
---
# Of that name, but in another namespace: it does not count.
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: billing }
spec:
  host: reviews
  subsets:
    - { name: canary, labels: { track: canary } }
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: stable }
          weight: 90
        - destination: { host: reviews, subset: canary }
          weight: 10
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews.shop.svc.cluster.local
  subsets:
    - { name: stable, labels: { track: stable } }
    - { name: canary, labels: { track: canary } }
---
# Of that name, but in another namespace: it does not count.
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: billing }
spec:
  host: reviews
  subsets:
    - { name: canary, labels: { track: canary } }
"#,
};

impl Check for SubsetNotDefined {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let service_ns = service_namespaces(cx);
        // Host → the subsets its DestinationRules define.
        let mut subsets: HashMap<String, Vec<&str>> = HashMap::new();
        for &i in cx.index.of_kind("DestinationRule") {
            let o = &cx.objects[i];
            let Some(host) = o.value.at("/spec/host").and_then(Value::as_str) else { continue };
            let list = subsets.entry(canonical(host, o.ns(), &service_ns)).or_default();
            for s in o.value.at("/spec/subsets").and_then(Value::as_array).into_iter().flatten() {
                if let Some(n) = s.get("name").and_then(Value::as_str) {
                    list.push(n);
                }
            }
        }
        for &i in cx.index.of_kind("VirtualService") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            for d in destinations(&o.value) {
                let Some(subset) = d.subset else { continue };
                let host = canonical(d.host, o.ns(), &service_ns);
                match subsets.get(&host) {
                    Some(defined) if defined.contains(&subset) => {}
                    Some(defined) => {
                        let help = match crate::diag::did_you_mean(subset, defined.iter().copied()) {
                            Some(s) => {
                                format!("did you mean `{s}`? Or add the subset `{subset}` to the DestinationRule")
                            }
                            None if defined.is_empty() => format!(
                                "the DestinationRule of {host} defines no subsets: add `subsets: [{{ name: {subset}, labels: {{…}} }}]`"
                            ),
                            None => format!(
                                "the DestinationRule of {host} defines {}; add `{subset}` with the labels of its pods",
                                defined.join(", ")
                            ),
                        };
                        out.report(
                            i,
                            format!("{}/subset", d.pointer),
                            format!("routes to subset `{subset}` of {host}, which no DestinationRule defines"),
                        )
                        .help(help);
                    }
                    None => {
                        let f = out.report(
                            i,
                            format!("{}/subset", d.pointer),
                            format!(
                                "routes to subset `{subset}` of {host}, but no DestinationRule for that host is in the \
                                 checked files (it may be defined elsewhere)"
                            ),
                        );
                        f.severity = Severity::Warning;
                        f.help(format!("define a DestinationRule for {host} with the subset `{subset}`"));
                    }
                }
            }
        }
    }
}
