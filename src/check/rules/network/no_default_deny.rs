use std::collections::HashSet;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use crate::model::netpol::Policy;

/// KP402: a namespace with workloads and no default-deny ingress policy.
pub struct NoDefaultDeny;

static META: Meta = Meta {
    code: "KP402",
    name: "namespace-without-default-deny",
    family: Family::Network,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a namespace runs workloads but has no default-deny ingress NetworkPolicy",
    what: "For every namespace with at least one pod template in the checked set, looks for a NetworkPolicy \
           of that namespace that denies all ingress by default: an empty `podSelector`, `Ingress` among its \
           policy types (or no `policyTypes`), and no ingress rules. Reported once per namespace, at its \
           Namespace object when the set has one, otherwise at its first workload.",
    why: "Without a default deny, every pod accepts connections from every other pod of the cluster: one \
          compromised workload can reach every database and internal API. Allow rules written per workload \
          only restrict the pods they select; a default deny makes every new workload closed until its \
          traffic is allowed on purpose.",
    fix: "Add a policy `{podSelector: {}, policyTypes: [Ingress]}` to the namespace, with allow policies for \
          the traffic each workload needs (from the ingress controller, from its clients, from monitoring).",
    fail: r#"
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ingress-nginx } } }]
---
# Another namespace's default deny does not isolate shop.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: billing }
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
"#,
    pass: r#"
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ingress-nginx } } }]
"#,
};

impl Check for NoDefaultDeny {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let denied: HashSet<&str> = cx
            .index
            .of_kind("NetworkPolicy")
            .iter()
            .filter_map(|&i| Policy::read(cx, i))
            .filter(|p| p.ingress && p.ingress_rules.is_empty() && p.selector.is_empty())
            .map(|p| p.ns)
            .collect();
        let mut seen = HashSet::new();
        for t in &cx.index.templates {
            let w = &cx.objects[t.object];
            let ns = w.ns();
            if denied.contains(ns) || !seen.insert(ns) {
                continue;
            }
            let (object, pointer) = match cx.index.get("Namespace", "", ns) {
                Some(n) => (n, "/metadata/name"),
                None => (t.object, "/metadata/namespace"),
            };
            out.report(object, pointer, format!("namespace {ns} has no default-deny ingress NetworkPolicy"))
                .help(format!(
                    "every pod of {ns} accepts connections from anywhere in the cluster; add a NetworkPolicy \
                     `{{podSelector: {{}}, policyTypes: [Ingress]}}` in {ns} and allow each workload's clients explicitly"
                ));
        }
    }
}
