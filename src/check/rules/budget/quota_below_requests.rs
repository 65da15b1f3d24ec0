use crate::model::At;
use std::collections::BTreeMap;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pointer::escape;
use crate::model::resources::{Amounts, Budget, Item, Scale, bytes, millis};

/// KP702: a ResourceQuota smaller than what its namespace's workloads request.
pub struct QuotaBelowRequests;

static META: Meta = Meta {
    code: "KP702",
    name: "quota-below-requests",
    family: Family::Budget,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a ResourceQuota is smaller than what its namespace's workloads request at minimum scale",
    what: "Adds up what the workloads of the quota's namespace request at their minimum scale \
           (replicas, or HPA minReplicas; Istio sidecars included; the same figures as \
           `kubeproof budget`) and reports every `spec.hard` entry below it: `requests.cpu` \
           (`cpu`), `requests.memory` (`memory`), `limits.cpu`, `limits.memory`, \
           `requests.storage` and `pods`. Quotas with `scopes` or a `scopeSelector` are skipped.",
    why: "A quota that cannot hold the pods it was written for makes Kubernetes refuse some of \
          them (\"exceeded quota\"): the Deployment stays short of replicas, a StatefulSet stops \
          at the first pod it cannot create, and nothing fails loudly at apply time.",
    fix: "Raise the quota to at least the namespace's requests at its maximum scale, with room \
          for rollout surge pods, or lower the workloads' requests or replicas.",
    fail: r#"
apiVersion: v1
kind: ResourceQuota
metadata: { name: compute, namespace: shop }
spec:
  hard:
    requests.cpu: "1"
    requests.memory: 2Gi
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 500m, memory: 256Mi }
---
# Another namespace's quota does not apply to shop.
apiVersion: v1
kind: ResourceQuota
metadata: { name: compute, namespace: billing }
spec:
  hard:
    requests.cpu: "20"
    requests.memory: 40Gi
"#,
    pass: r#"
apiVersion: v1
kind: ResourceQuota
metadata: { name: compute, namespace: shop }
spec:
  hard:
    requests.cpu: "2"
    requests.memory: 2Gi
    pods: "10"
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 500m, memory: 256Mi }
---
# Another namespace's quota does not apply to shop.
apiVersion: v1
kind: ResourceQuota
metadata: { name: compute, namespace: billing }
spec:
  hard:
    requests.cpu: "20"
    requests.memory: 40Gi
"#,
};

/// What a quota key caps in [`Amounts`], how to read its value, how to show one.
type Measure = (fn(&Amounts) -> u64, fn(&Value) -> Option<u64>, fn(u64) -> String);

fn measure(key: &str) -> Option<Measure> {
    Some(match key {
        "requests.cpu" | "cpu" => (|a| a.cpu_requests_millis, millis, crate::model::resources::cpu_text),
        "requests.memory" | "memory" => (|a| a.memory_requests_bytes, bytes, crate::model::resources::bytes_text),
        "limits.cpu" => (|a| a.cpu_limits_millis, millis, crate::model::resources::cpu_text),
        "limits.memory" => (|a| a.memory_limits_bytes, bytes, crate::model::resources::bytes_text),
        "requests.storage" => (|a| a.storage_bytes, bytes, crate::model::resources::bytes_text),
        "pods" => (|a| a.pods, bytes, |n| n.to_string()),
        _ => return None,
    })
}

impl Check for QuotaBelowRequests {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let quotas = cx.index.of_kind("ResourceQuota");
        if quotas.is_empty() {
            return;
        }
        let items: Vec<Item> = cx.objects.iter().map(Item::of_checked).collect();
        let budget = Budget::of(&items, None);
        let mut by_ns: BTreeMap<&str, Vec<&crate::model::resources::Workload>> = BTreeMap::new();
        for w in budget.workloads.iter().filter(|w| !w.batch && w.min_replicas > 0) {
            by_ns.entry(w.namespace.as_str()).or_default().push(w);
        }
        for &q in quotas {
            let o = &cx.objects[q];
            let scoped = o.value.at("/spec/scopes").is_some_and(|s| !s.is_null())
                || o.value.at("/spec/scopeSelector").is_some_and(|s| !s.is_null());
            let Some(usage) = budget.namespaces.get(o.ns()) else { continue };
            let Some(hard) = o.value.at("/spec/hard").and_then(Value::as_object) else { continue };
            if scoped {
                continue;
            }
            for (key, value) in hard {
                let Some((get, read, show)) = measure(key) else { continue };
                let Some(cap) = read(value) else { continue };
                let need = get(usage.at(Scale::Min));
                if need <= cap {
                    continue;
                }
                let mut parts: Vec<(u64, String)> = by_ns
                    .get(o.ns())
                    .into_iter()
                    .flatten()
                    .map(|w| {
                        let each = get(&w.pod);
                        (each * w.min_replicas, format!("{} {} × {}", w.name, w.min_replicas, show(each)))
                    })
                    .filter(|(n, _)| *n > 0)
                    .collect();
                parts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                let more = parts.len().saturating_sub(3);
                let mut list: Vec<String> = parts.into_iter().take(3).map(|(_, s)| s).collect();
                if more > 0 {
                    list.push(format!("{more} more"));
                }
                let shown = match value {
                    Value::String(s) => s.to_string(),
                    other => other.to_string(),
                };
                out.report(
                    q,
                    format!("/spec/hard/{}", escape(key)),
                    format!(
                        "{key} {shown} is less than the {} that the workloads of namespace `{}` need at minimum scale ({})",
                        show(need),
                        o.ns(),
                        list.join(", ")
                    ),
                )
                .help(format!(
                    "raise {key} to at least {} plus room for scaling and rollouts (`kubeproof budget` shows \
                     the namespace's figures at minimum and maximum scale), or lower the workloads' requests",
                    show(need)
                ));
            }
        }
    }
}
