use crate::model::At;
use crate::model::selector::Selector;
use std::collections::HashSet;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP211: a PodDisruptionBudget that protects no pod.
pub struct PdbSelectsNothing;

static META: Meta = Meta {
    code: "KP211",
    name: "pdb-selects-nothing",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a PodDisruptionBudget selects no pod",
    what: "Reports PodDisruptionBudgets without a `spec.selector` (a null selector selects no \
           pod), and those whose non-empty selector (`matchLabels` and `matchExpressions`) \
           matches no pod template of the checked set in their namespace. An empty selector \
           (`{}`) selects every pod of the namespace and is not reported; nor is a budget in a \
           namespace where the checked set defines no pods at all (they are managed elsewhere).",
    why: "A budget that selects nothing protects nothing: drains and autoscaler scale-downs \
          evict the pods it was written for all at once. It usually comes from a label renamed \
          in the workload but not in the budget, or a budget copied from another service.",
    fix: "Make the selector match the labels of the pod template it should protect (for a \
          Deployment, the same labels as its `spec.selector`). If the pods are created by an \
          operator or defined elsewhere, ignore the finding with that reason.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.0
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { app: api, tier: frontend }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: backend, namespace: shop }
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { app: web }
    matchExpressions: [{ key: tier, operator: NotIn, values: [frontend] }]
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
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.0
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { app: api, tier: backend }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: backend, namespace: shop }
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { app: web }
    matchExpressions: [{ key: tier, operator: In, values: [frontend] }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: everything, namespace: shop }
spec:
  maxUnavailable: 1
  selector: {}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: cluster-pods, namespace: databases }
spec:
  maxUnavailable: 1
  selector: { matchLabels: { cnpg.io/cluster: main } }
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

impl Check for PdbSelectsNothing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let with_pods: HashSet<&str> = cx.index.templates.iter().map(|t| cx.objects[t.object].ns()).collect();
        for &p in cx.index.of_kind("PodDisruptionBudget") {
            let o = &cx.objects[p];
            let selector = o.value.at("/spec/selector");
            let Some(selector) = selector.filter(|s| !s.is_null()) else {
                out.report(p, "/spec", "has no selector: a missing selector selects no pod")
                    .help("add spec.selector with the labels of the pods it should protect");
                continue;
            };
            let Some(map) = selector.as_object() else { continue };
            let labels = map.get("matchLabels").filter(|v| !v.is_null());
            let exprs = map.get("matchExpressions").filter(|v| !v.is_null());
            let well_formed = labels.is_none_or(Value::is_object)
                && exprs.is_none_or(|e| e.as_array().is_some_and(|a| a.iter().all(Value::is_object)));
            let empty = labels.is_none_or(|l| l.as_object().is_some_and(|m| m.is_empty()))
                && exprs.is_none_or(|e| e.as_array().is_some_and(|a| a.is_empty()));
            if !well_formed || empty {
                continue;
            }
            if !with_pods.contains(o.ns()) || !cx.index.selected(o.ns(), &Selector::of(selector)).is_empty() {
                continue;
            }
            let wanted = map
                .get("matchLabels")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(k, v)| format!("{k}: {}", v.as_str().unwrap_or("?")))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!("selects no pod in namespace {}", o.ns());
            let help = if wanted.is_empty() {
                "make the selector match the labels of the pods it should protect; if they are created by an operator or defined elsewhere, ignore this with that reason".to_string()
            } else {
                format!(
                    "no pod template in namespace {} has the labels {{ {wanted} }}; fix the selector, or if the pods are created by an operator or defined elsewhere, ignore this with that reason",
                    o.ns()
                )
            };
            out.report(p, "/spec/selector", message).help(help);
        }
    }
}
