use std::collections::BTreeMap;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::support::budgets;

/// KP219: pods selected by more than one PodDisruptionBudget.
pub struct PodsInSeveralBudgets;

static META: Meta = Meta {
    code: "KP219",
    name: "pods-in-several-budgets",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "the pods of a workload are selected by more than one PodDisruptionBudget",
    what: "Reports PodDisruptionBudgets that select the pod template of a workload which \
           another budget of the checked set already selects (an empty selector `{}` selects \
           every pod of the namespace, so it overlaps with every other budget there).",
    why: "The eviction API refuses to evict a pod covered by more than one budget (`This pod \
          has more than one PodDisruptionBudget, which the eviction subresource does not \
          support`): `kubectl drain`, cluster-autoscaler and node upgrades cannot move these \
          pods at all, whatever the budgets allow.",
    fix: "Keep exactly one budget per set of pods: narrow the selectors so that they do not \
          overlap, or delete the duplicate budget.",
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
metadata: { name: worker, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker, tier: backend } }
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:1.4.2
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { tier: backend }
    matchExpressions: [{ key: app, operator: In, values: [api] }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: worker, namespace: shop }
spec:
  minAvailable: "50%"
  selector: { matchLabels: { app: api, tier: backend } }
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
metadata: { name: worker, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker, tier: backend } }
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:1.4.2
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  maxUnavailable: 1
  selector:
    matchLabels: { tier: backend }
    matchExpressions: [{ key: app, operator: In, values: [api] }]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: worker, namespace: shop }
spec:
  minAvailable: "50%"
  selector: { matchLabels: { app: worker, tier: backend } }
"#,
};

impl Check for PodsInSeveralBudgets {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        // Each budget after the first on some workload: (workload, first budget).
        let mut overlaps: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
        for (w, mut pdbs) in budgets(cx) {
            pdbs.sort_unstable();
            pdbs.dedup();
            let Some((&first, rest)) = pdbs.split_first() else { continue };
            for &p in rest {
                overlaps.entry(p).or_default().push((w, first));
            }
        }
        for (p, mut shared) in overlaps {
            shared.sort_unstable();
            let (w, first) = shared[0];
            let more = match shared.len() {
                1 => String::new(),
                n => format!(" (and {} other workload{})", n - 1, if n == 2 { "" } else { "s" }),
            };
            out.report(
                p,
                "/spec/selector",
                format!(
                    "selects the pods of {}{more}, which PodDisruptionBudget {} also selects: the eviction API refuses to evict them",
                    cx.objects[w].id(),
                    cx.objects[first].name
                ),
            )
            .help("keep one budget per set of pods: narrow the selectors so that they do not overlap, or delete one budget");
        }
    }
}
