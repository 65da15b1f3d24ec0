use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::scope::{custom_resources, names_custom_resource, namespaces_with_pods};

use super::describe_selector;

use crate::model::netpol::Policy;
use crate::model::selector::selector_hint;

/// KP401: a NetworkPolicy whose podSelector selects no pod.
pub struct PolicySelectsNothing;

static META: Meta = Meta {
    code: "KP401",
    name: "network-policy-selects-nothing",
    family: Family::Network,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a NetworkPolicy's podSelector selects no pod template in its namespace",
    what: "For every NetworkPolicy with a non-empty `podSelector`, looks for a pod template of its namespace \
           that the selector selects. An empty selector selects every pod of the namespace and is never \
           reported; namespaces without pod templates in the checked set are skipped, and so are selectors naming a \
           custom resource of the namespace (an operator makes those pods).",
    why: "A policy that selects no pod protects nothing: the pods it was written for keep accepting (or \
          sending) everything, and a review of the policies suggests they are locked down. A label that \
          changed on the workload but not in the policy is the usual cause.",
    fix: "Make `spec.podSelector` match the pod template labels of the workload to protect, or delete the \
          policy.",
    fail: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api, tier: frontend } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web } } }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-metrics, namespace: shop }
spec:
  podSelector:
    matchLabels: { app: api }
    matchExpressions: [{ key: tier, operator: NotIn, values: [backend] }]
  policyTypes: [Ingress]
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: monitoring } } }]
      ports: [{ port: 9090 }]
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
metadata: { name: api, namespace: billing }
spec:
  selector: { matchLabels: { app: api, tier: frontend } }
  template:
    metadata: { labels: { app: api, tier: frontend } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
"#,
    pass: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api, tier: backend } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web } } }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-metrics, namespace: shop }
spec:
  podSelector:
    matchLabels: { app: api }
    matchExpressions: [{ key: tier, operator: In, values: [backend] }]
  policyTypes: [Ingress]
  ingress:
    - from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: monitoring } } }]
      ports: [{ port: 9090 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Ingress]
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
metadata: { name: api, namespace: billing }
spec:
  selector: { matchLabels: { app: api, tier: frontend } }
  template:
    metadata: { labels: { app: api, tier: frontend } }
    spec:
      containers: [{ name: api, image: "ghcr.io/acme/api:1.4.2" }]
"#,
};

impl Check for PolicySelectsNothing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let with_pods = namespaces_with_pods(cx);
        let crs = custom_resources(cx);
        for &i in cx.index.of_kind("NetworkPolicy") {
            let Some(p) = Policy::read(cx, i) else { continue };
            if p.selector.is_empty() || !with_pods.contains(p.ns) {
                continue;
            }
            if !cx.index.selected(p.ns, &p.selector).is_empty() || names_custom_resource(&crs, p.ns, &p.selector) {
                continue;
            }
            out.report(
                i,
                "/spec/podSelector",
                format!(
                    "the podSelector {} selects no pod template in namespace {}",
                    describe_selector(&p.selector),
                    p.ns
                ),
            )
            .help(selector_hint(cx, p.ns, &p.selector));
        }
    }
}
