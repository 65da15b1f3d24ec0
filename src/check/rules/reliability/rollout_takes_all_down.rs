use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::support::{Amount, Autoscalers, Replicas, text};

/// KP215: a rollout strategy that stops every replica at once.
pub struct RolloutTakesAllDown;

static META: Meta = Meta {
    code: "KP215",
    name: "rollout-takes-all-down",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a multi-replica Deployment's rollout strategy can stop every replica at once",
    what: "Reports Deployments that run more than one replica (`spec.replicas`, or an \
           autoscaler's range) and either use `strategy.type: Recreate` or a rolling update \
           whose `maxUnavailable` (a count, or a percentage rounded down as the controller \
           does) reaches the replica count (the autoscaler's `minReplicas` when one scales \
           it). Single-replica Deployments are left alone: Recreate is what a single writer \
           of a ReadWriteOnce volume needs.",
    why: "Every rollout — a new image, a changed ConfigMap hash, a label edit — then stops all \
          pods before new ones are ready: a full outage of the service for the length of a \
          start-up, on every deploy, although the replicas could have been replaced one at a \
          time.",
    fix: "Use `strategy: { type: RollingUpdate, rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } }` \
          (or a `maxUnavailable` below the replica count). Keep Recreate only if two versions \
          can truly not run side by side, and ignore the finding with that reason.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  strategy: { type: Recreate }
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 4
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: "100%", maxSurge: 0 }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:3.0.0
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: "50%", maxSurge: 1 }
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: grafana, namespace: monitoring }
spec:
  replicas: 1
  strategy: { type: Recreate }
  selector: { matchLabels: { app: grafana } }
  template:
    metadata: { labels: { app: grafana } }
    spec:
      containers:
        - name: grafana
          image: grafana/grafana:11.3.0
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: 4
  strategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: "25%", maxSurge: 0 }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:3.0.0
"#,
};

impl Check for RolloutTakesAllDown {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let hpas = Autoscalers::build(cx);
        for &d in cx.index.of_kind("Deployment") {
            let o = &cx.objects[d];
            let Some(r) = Replicas::of(cx, &hpas, d) else { continue };
            let strategy = o.value.at("/spec/strategy/type").and_then(Value::as_str).unwrap_or("RollingUpdate");
            if strategy == "Recreate" {
                if r.max <= 1 {
                    continue;
                }
                let count = match r.hpa {
                    Some(_) => format!("up to {} replicas", r.max),
                    None => format!("{} replicas", r.max),
                };
                out.report(
                    d,
                    "/spec/strategy/type",
                    format!("runs {count} with the Recreate strategy: every rollout stops all of them"),
                )
                .help("use a RollingUpdate with maxUnavailable: 0 and maxSurge: 1 to replace pods one at a time");
                continue;
            }
            if r.min <= 1 {
                continue;
            }
            let Some(written) = o.value.at("/spec/strategy/rollingUpdate/maxUnavailable") else { continue };
            let Some(amount) = Amount::of(written) else { continue };
            let unavailable = amount.scaled(r.min, false);
            if unavailable < r.min {
                continue;
            }
            out.report(
                d,
                "/spec/strategy/rollingUpdate/maxUnavailable",
                format!(
                    "maxUnavailable {} lets a rollout stop all pods at once ({})",
                    text(written),
                    r.describe_min(cx)
                ),
            )
            .help(format!("set maxUnavailable below {} (0 with maxSurge: 1 keeps full capacity)", r.min));
        }
    }
}
