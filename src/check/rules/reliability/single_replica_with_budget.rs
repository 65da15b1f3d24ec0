use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::At;

use super::support::{Autoscalers, Disruption, Replicas, budgets, disruption};

/// KP207: a workload with a disruption budget that runs a single replica.
pub struct SingleReplicaWithBudget;

static META: Meta = Meta {
    code: "KP207",
    name: "single-replica-with-budget",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Info,
    summary: "a workload covered by a PodDisruptionBudget runs a single replica",
    what: "Reports Deployments, StatefulSets, ReplicaSets and ReplicationControllers selected by \
           a PodDisruptionBudget (which declares that they should stay available through \
           disruptions) that run one replica: `spec.replicas: 1`, no `spec.replicas` and no \
           autoscaler, or a HorizontalPodAutoscaler with `minReplicas: 1`. When the budget \
           then blocks evictions altogether, KP212 reports it instead.",
    why: "One replica cannot be both evicted and available: the budget lets the only pod go \
          (every node drain, upgrade or autoscaler scale-down is an outage until the pod is \
          rescheduled and ready), or it forbids it and drains block (KP212). A node failure \
          is an outage either way. An autoscaler at `minReplicas: 1` is in this state whenever \
          the load is low.",
    fix: "Run at least two replicas (`spec.replicas: 2`, or `minReplicas: 2` on the \
          autoscaler) with pod anti-affinity or topology spread; if one replica is intended \
          (a development environment, a singleton), drop the budget or ignore the finding \
          with that reason.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
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
  minReplicas: 1
  maxReplicas: 5
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  maxUnavailable: 1
  selector: { matchLabels: { app: api, tier: backend } }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
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
  maxReplicas: 5
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  maxUnavailable: 1
  selector: { matchLabels: { app: api, tier: backend } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: shop }
spec:
  replicas: 1
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker, tier: backend } }
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:1.4.2
---
# Shares app: api, not tier: backend: the budget does not cover it.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api-batch, namespace: shop }
spec:
  replicas: 1
  selector: { matchLabels: { app: api, tier: batch } }
  template:
    metadata: { labels: { app: api, tier: batch } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
"#,
};

impl Check for SingleReplicaWithBudget {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let hpas = Autoscalers::build(cx);
        let budgets = budgets(cx);
        let mut workloads: Vec<(&usize, &Vec<usize>)> = budgets.iter().collect();
        workloads.sort_unstable();
        for (&w, pdbs) in workloads {
            let o = &cx.objects[w];
            if o.kind == "Pod" {
                continue;
            }
            let Some(r) = Replicas::of(cx, &hpas, w) else { continue };
            if r.min != 1 {
                continue;
            }
            // A budget that blocks is reported by KP212.
            if pdbs.iter().any(|&p| matches!(disruption(cx, &hpas, p), Disruption::Blocked { .. })) {
                continue;
            }
            let pdb = &cx.objects[pdbs[0]].name;
            let (object, pointer, message) = match r.hpa {
                Some(h) => (
                    h,
                    if cx.objects[h].value.at("/spec/minReplicas").is_some() { "/spec/minReplicas" } else { "/spec" },
                    format!(
                        "scales {} down to 1 replica although PodDisruptionBudget {pdb} covers it: at low load every drain of its node is an outage",
                        o.id()
                    ),
                ),
                None => (
                    w,
                    if o.value.at("/spec/replicas").is_some() { "/spec/replicas" } else { "/spec" },
                    format!(
                        "runs 1 replica although PodDisruptionBudget {pdb} covers it: every drain of its node is an outage"
                    ),
                ),
            };
            let help = match r.hpa {
                Some(_) => "set minReplicas: 2 (or more) so that one pod can be evicted while another serves",
                None => {
                    "run at least 2 replicas so that one pod can be evicted while another serves; if one is intended, drop the budget"
                }
            };
            out.report(object, pointer, message).help(help);
        }
    }
}
