use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::At;

use super::support::{hpa_target, scalable, text};

/// KP214: a workload that sets spec.replicas while an autoscaler scales it.
pub struct HpaFightsReplicas;

static META: Meta = Meta {
    code: "KP214",
    name: "replicas-with-autoscaler",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a workload sets spec.replicas although a HorizontalPodAutoscaler scales it",
    what: "Reports Deployments, StatefulSets, ReplicaSets and ReplicationControllers that set \
           `spec.replicas` while a HorizontalPodAutoscaler of the checked set targets them \
           (`scaleTargetRef` kind and name, in the autoscaler's namespace).",
    why: "The autoscaler owns the replica count. Every `kubectl apply` or GitOps sync writes the \
          manifest's `spec.replicas` back: a Deployment scaled to 12 under load drops to the \
          written 2 until the autoscaler notices and scales up again, killing pods that were \
          serving traffic; and GitOps tools show the workload as permanently out of sync.",
    fix: "Delete `spec.replicas` from the manifest and let the autoscaler's `minReplicas` decide; \
          when migrating a live object, remove the field from the last-applied configuration \
          too (`kubectl apply edit-last-applied`) so that the next apply does not reset it.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 2
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
# Of the same name, in another namespace, without an autoscaler.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: billing }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
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
  minReplicas: 2
  maxReplicas: 10
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec:
      containers:
        - name: worker
          image: ghcr.io/acme/worker:1.4.2
---
# Of the same name, in another namespace, without an autoscaler.
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: billing }
spec:
  replicas: 2
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
"#,
};

impl Check for HpaFightsReplicas {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &h in cx.index.of_kind("HorizontalPodAutoscaler") {
            let Some(t) = hpa_target(cx, h) else { continue };
            let o = &cx.objects[t];
            if !scalable(&o.kind) {
                continue;
            }
            let Some(replicas) = o.value.at("/spec/replicas").filter(|r| r.is_i64()) else { continue };
            let hpa = &cx.objects[h];
            out.report(
                t,
                "/spec/replicas",
                format!(
                    "sets replicas: {} although HorizontalPodAutoscaler {} scales it: every apply resets the count",
                    text(replicas),
                    hpa.name
                ),
            )
            .help(format!(
                "delete spec.replicas and let the autoscaler decide (it is at {}:{})",
                cx.source_name(hpa.source),
                hpa.pos("/spec/scaleTargetRef").line
            ));
        }
    }
}
