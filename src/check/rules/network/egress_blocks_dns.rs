use crate::model::At;
use crate::model::selector::Selector;
use std::collections::{BTreeMap, HashMap};

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use crate::model::netpol::{Endpoint, Target, Tri, peer_matches, ports_allow};

/// KP403: pods isolated for egress without a way to reach DNS.
pub struct EgressBlocksDns;

static META: Meta = Meta {
    code: "KP403",
    name: "egress-blocks-dns",
    family: Family::Network,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a NetworkPolicy isolates pods for egress and no policy lets them reach DNS",
    what: "For every pod template that some NetworkPolicy isolates for egress (`Egress` in its policy \
           types), looks through the egress rules of all the policies selecting it for one that allows UDP \
           port 53 towards the cluster DNS: a rule opening UDP 53 (or the port named `dns`) to any peer, or \
           a rule without port restriction whose peers include the `k8s-app: kube-dns` pods of kube-system \
           (an empty `to`, a namespaceSelector that may select kube-system, an ipBlock that may hold pod \
           addresses, or selectors naming DNS pods their own way, such as `coredns` or `openshift-dns`). Reported at the first policy isolating the pods.",
    why: "Once a pod is isolated for egress, everything not allowed is dropped — DNS included. Every \
          connection by name then fails with a resolution timeout (`Temporary failure in name resolution`, \
          `i/o timeout`), even to destinations the policy allows, which makes the cause hard to see.",
    fix: "Add an egress rule allowing DNS to the policy (or a separate policy selecting the same pods): \
          `to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}, podSelector: \
          {matchLabels: {k8s-app: kube-dns}}}]` with `ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: \
          53}]`.",
    fail: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-egress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Egress]
  egress:
    - to: [{ podSelector: { matchLabels: { app: postgres } } }]
      ports: [{ protocol: TCP, port: 5432 }]
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
# Allowing DNS in another namespace does not help shop's pods.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: allow-dns, namespace: billing }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }
          podSelector: { matchLabels: { k8s-app: kube-dns } }
      ports: [{ protocol: UDP, port: 53 }, { protocol: TCP, port: 53 }]
"#,
    pass: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-egress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Egress]
  egress:
    - to: [{ podSelector: { matchLabels: { app: postgres } } }]
      ports: [{ protocol: TCP, port: 5432 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: allow-dns, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }
          podSelector: { matchLabels: { k8s-app: kube-dns } }
      ports: [{ protocol: UDP, port: 53 }, { protocol: TCP, port: 53 }]
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
"#,
};

/// Whether one egress rule of a policy in `policy_ns` lets pods query DNS.
fn rule_allows_dns(cx: &Context, rule: &Value, policy_ns: &str, kube_dns: Endpoint) -> bool {
    let ports = rule.get("ports");
    if !ports_allow(ports, Target { number: 53, protocol: "UDP", name: Some("dns") }) {
        return false;
    }
    let explicit = ports.and_then(Value::as_array).is_some_and(|l| !l.is_empty());
    match rule.get("to").and_then(Value::as_array) {
        None => true,
        Some([]) => true,
        // A rule that opens port 53 by name or number means DNS, whatever its
        // peers (a node-local cache, a custom resolver): trust it.
        Some(_) if explicit => true,
        Some(peers) => peers.iter().any(|p| peer_matches(cx, p, policy_ns, kube_dns) != Tri::No || names_dns(p)),
    }
}

/// Whether a peer's selectors name DNS pods or a DNS namespace in their own
/// way (`k8s-app: coredns`, `openshift-dns`): distributions differ.
fn names_dns(peer: &Value) -> bool {
    ["namespaceSelector", "podSelector"].iter().filter_map(|f| peer.get(*f)).any(|sel| {
        let sel = Selector::of(sel);
        let labels = sel.pairs().iter().filter_map(|(_, v)| *v);
        let values = sel.requirements().iter().flat_map(|r| r.values.iter().copied());
        labels.chain(values).any(|v| v.to_ascii_lowercase().contains("dns"))
    })
}

impl Check for EgressBlocksDns {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let policies = cx.policies();
        let labels = BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())]);
        let kube_dns = Endpoint { ns: "kube-system", labels: &labels };
        // First isolating policy → the workloads it leaves without DNS.
        let mut blocked: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        // Whether a class of policies (one content) lets pods reach DNS: the
        // same for every pod, so evaluated once (many workloads × many
        // policies would otherwise be evaluated pair by pair).
        let mut allows: HashMap<usize, bool> = HashMap::new();
        for t in &cx.index.templates {
            let mut isolating = policies.egress(t.object).peekable();
            let Some(first) = isolating.peek().map(|p| p.object) else { continue };
            let dns = isolating.any(|p| {
                *allows
                    .entry(p.class)
                    .or_insert_with(|| p.egress_rules.iter().any(|r| rule_allows_dns(cx, r, p.ns, kube_dns)))
            });
            if !dns {
                blocked.entry(first).or_default().push(t.object);
            }
        }
        for (policy, workloads) in blocked {
            let o = &cx.objects[policy];
            let ptr = if o.value.at("/spec/policyTypes").is_some() { "/spec/policyTypes" } else { "/spec/egress" };
            let names: Vec<String> =
                workloads.iter().map(|&w| format!("{} {}", cx.objects[w].kind, cx.objects[w].name)).collect();
            out.report(
                policy,
                ptr,
                format!(
                    "isolates the pods of {} for egress, and no NetworkPolicy of {} lets them reach DNS (UDP 53)",
                    names.join(", "),
                    o.ns()
                ),
            )
            .help(
                "every lookup by name will time out; add an egress rule `to: [{namespaceSelector: {matchLabels: \
                 {kubernetes.io/metadata.name: kube-system}}, podSelector: {matchLabels: {k8s-app: kube-dns}}}]` \
                 with `ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]`",
            );
        }
    }
}
