use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::scope::{custom_resources, names_custom_resource, namespaces_with_pods};

use super::describe_selector;

use crate::model::netpol::Policy;
use crate::model::selector::Selector;
use crate::model::selector::selector_hint;

/// KP404: a NetworkPolicy peer podSelector (same namespace) that selects no pod.
pub struct PeerSelectsNothing;

static META: Meta = Meta {
    code: "KP404",
    name: "network-policy-peer-selects-nothing",
    family: Family::Network,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a NetworkPolicy rule allows traffic from or to a podSelector that selects no pod",
    what: "For every `from` and `to` peer that has a non-empty `podSelector` and no `namespaceSelector` (so it \
           means pods of the policy's own namespace), looks for a pod template of that namespace that the \
           selector selects. Namespaces without pod templates in the checked set are skipped, and so are selectors naming a \
           custom resource of the namespace (an operator makes those pods).",
    why: "A peer that selects nothing allows nothing: the traffic the rule was written for is dropped, \
          usually because a label was renamed on the workload. The connection then times out with no hint \
          that a policy is the cause.",
    fix: "Make the peer's `podSelector` match the pod template labels of the workload it means; for pods of \
          another namespace, add a `namespaceSelector` to the same peer.",
    fail: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web, tier: backend } } }]
      ports: [{ port: 8080 }]
    - from:
        - podSelector:
            matchLabels: { app: web }
            matchExpressions: [{ key: tier, operator: DoesNotExist }]
      ports: [{ port: 8443 }]
    - from:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: monitoring } }
          podSelector: { matchLabels: { app: prometheus } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers: [{ name: web, image: "ghcr.io/acme/web:2.0.0" }]
---
# Labelled as selected, but in another namespace: it does not count.
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: billing }
spec:
  selector: { matchLabels: { app: web, tier: backend } }
  template:
    metadata: { labels: { app: web, tier: backend } }
    spec:
      containers: [{ name: web, image: "ghcr.io/acme/web:2.0.0" }]
"#,
    pass: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web, tier: frontend } } }]
      ports: [{ port: 8080 }]
    - from:
        - podSelector:
            matchLabels: { app: web }
            matchExpressions: [{ key: tier, operator: Exists }]
      ports: [{ port: 8443 }]
    - from:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: monitoring } }
          podSelector: { matchLabels: { app: prometheus } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers: [{ name: web, image: "ghcr.io/acme/web:2.0.0" }]
---
# Labelled as selected, but in another namespace: it does not count.
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: billing }
spec:
  selector: { matchLabels: { app: web, tier: backend } }
  template:
    metadata: { labels: { app: web, tier: backend } }
    spec:
      containers: [{ name: web, image: "ghcr.io/acme/web:2.0.0" }]
"#,
};

impl Check for PeerSelectsNothing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let with_pods = namespaces_with_pods(cx);
        let crs = custom_resources(cx);
        for &i in cx.index.of_kind("NetworkPolicy") {
            let Some(p) = Policy::read(cx, i) else { continue };
            if !with_pods.contains(p.ns) {
                continue;
            }
            for (field, peers_field, rules) in [("ingress", "from", p.ingress_rules), ("egress", "to", p.egress_rules)]
            {
                for (r, rule) in rules.iter().enumerate() {
                    let peers = rule.get(peers_field).and_then(Value::as_array);
                    for (j, peer) in peers.into_iter().flatten().enumerate() {
                        let Some(sel) = peer.get("podSelector").map(Selector::of) else { continue };
                        if peer.get("namespaceSelector").is_some() || sel.is_empty() {
                            continue;
                        }
                        if !cx.index.selected(p.ns, &sel).is_empty() || names_custom_resource(&crs, p.ns, &sel) {
                            continue;
                        }
                        out.report(
                            i,
                            format!("/spec/{field}/{r}/{peers_field}/{j}/podSelector"),
                            format!(
                                "this {field} rule's podSelector {} selects no pod template in namespace {}, so it allows nothing",
                                describe_selector(&sel),
                                p.ns
                            ),
                        )
                        .help(selector_hint(cx, p.ns, &sel));
                    }
                }
            }
        }
    }
}
