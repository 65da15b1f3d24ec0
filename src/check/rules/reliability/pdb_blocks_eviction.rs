use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::support::{Autoscalers, Disruption, disruption};

/// KP212: a PodDisruptionBudget that never allows an eviction.
pub struct PdbBlocksEviction;

static META: Meta = Meta {
    code: "KP212",
    name: "pdb-blocks-eviction",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a PodDisruptionBudget allows no pod to be evicted, so node drains block",
    what: "Evaluates every PodDisruptionBudget the way the disruption controller does, against \
           the workloads it selects in the checked set: `maxUnavailable: 0` or `\"0%\"` and \
           `minAvailable: \"100%\"` block always (whatever they select, in the checked set or \
           not); an integer or percentage `minAvailable` blocks \
           when it is at least the number of pods at the workloads' lowest scale (`spec.replicas`, \
           default 1, or the HorizontalPodAutoscaler's `minReplicas` when one scales the workload; \
           percentages are rounded up as the controller does, so 67% of 3 is 3).",
    why: "With zero allowed disruptions, `kubectl drain`, cluster-autoscaler scale-down and \
          managed node upgrades wait forever on these pods (or force them after a timeout, \
          e.g. one hour on GKE): node maintenance stalls, and the operators end up deleting the \
          budget by hand at the worst moment.",
    fix: "Run more replicas than `minAvailable` (raise `spec.replicas` or the HPA's \
          `minReplicas`), or express the budget as `maxUnavailable: 1`, which always lets one \
          pod go at a time.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 2
  maxReplicas: 10
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  minAvailable: 2
  selector: { matchLabels: { app: api } }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: everything, namespace: shop }
spec:
  maxUnavailable: "0%"
  selector: {}
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 3
  maxReplicas: 10
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  minAvailable: 2
  selector: { matchLabels: { app: api } }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: everything, namespace: shop }
spec:
  maxUnavailable: 1
  selector: {}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: shop }
spec:
  replicas: 1
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers:
        - name: postgres
          image: postgres:17.2
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: db, namespace: shop }
spec:
  maxUnavailable: 1
  selector: { matchLabels: { app: db } }
"#,
};

impl Check for PdbBlocksEviction {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let hpas = Autoscalers::build(cx);
        for &p in cx.index.of_kind("PodDisruptionBudget") {
            if let Disruption::Blocked { pointer, reason } = disruption(cx, &hpas, p) {
                let help = if pointer.ends_with("minAvailable") && !reason.contains("100%") {
                    "run more replicas than minAvailable, or use `maxUnavailable: 1` to let one pod go at a time"
                } else {
                    "use `maxUnavailable: 1` to let one pod go at a time; a budget that forbids every eviction \
                     only moves the disruption to whoever force-drains the node"
                };
                out.report(p, pointer, format!("{reason}: draining a node that runs them blocks")).help(help);
            }
        }
    }
}
