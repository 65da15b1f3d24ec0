use crate::model::At;
use std::collections::{HashMap, HashSet};

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::resources::{LimitDefaults, has_request};

/// KP701: a workload without requests in a namespace without a LimitRange.
pub struct RequestsWithoutLimitRange;

static META: Meta = Meta {
    code: "KP701",
    name: "requests-without-limit-range",
    family: Family::Budget,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a workload has containers without requests in a namespace without a LimitRange",
    what: "Reports each workload with a container that ends up without a CPU or memory request \
           (none written, no limit to default from, no pod-level resources) in a namespace that \
           the checked objects define (a Namespace or a ResourceQuota of it is among them) but \
           that has no LimitRange. Namespaces the input does not define are left alone: their \
           LimitRange may live elsewhere.",
    why: "Such pods are invisible to the namespace's budget: the scheduler packs them anywhere \
          and they are evicted first. Under a ResourceQuota on requests they are worse: \
          Kubernetes rejects them outright (\"must specify requests.cpu\"), so the rollout \
          silently stalls. A LimitRange with `defaultRequest` gives every container a request.",
    fix: "Set `resources.requests` on the container, or add a LimitRange to the namespace with \
          `type: Container` and `defaultRequest: { cpu: 100m, memory: 128Mi }` (`kubeproof gen` \
          writes one per namespace).",
    fail: r#"
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
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
# A LimitRange of another namespace gives shop no default.
apiVersion: v1
kind: LimitRange
metadata: { name: container-defaults, namespace: billing }
spec:
  limits:
    - type: Container
      defaultRequest: { cpu: 100m, memory: 128Mi }
"#,
    pass: r#"
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: v1
kind: LimitRange
metadata: { name: container-defaults, namespace: shop }
spec:
  limits:
    - type: Container
      defaultRequest: { cpu: 100m, memory: 128Mi }
---
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
apiVersion: v1
kind: Namespace
metadata: { name: billing }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: invoices, namespace: billing }
spec:
  selector: { matchLabels: { app: invoices } }
  template:
    metadata: { labels: { app: invoices } }
    spec:
      containers:
        - name: invoices
          image: ghcr.io/acme/invoices:2.0.0
          resources:
            requests: { cpu: 200m, memory: 256Mi }
"#,
};

impl Check for RequestsWithoutLimitRange {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut defined: HashSet<&str> =
            cx.index.of_kind("Namespace").iter().map(|&i| cx.objects[i].name.as_str()).collect();
        // Quotas on requests, by namespace: they make a missing request fatal.
        let mut quotas: HashMap<&str, &str> = HashMap::new();
        for &q in cx.index.of_kind("ResourceQuota") {
            let o = &cx.objects[q];
            defined.insert(o.ns());
            let hard = o.value.at("/spec/hard").and_then(Value::as_object);
            if hard
                .is_some_and(|h| ["requests.cpu", "cpu", "requests.memory", "memory"].iter().any(|k| h.contains_key(k)))
            {
                quotas.entry(o.ns()).or_insert(o.name.as_str());
            }
        }
        if defined.is_empty() {
            return;
        }
        let ranged: HashSet<&str> = cx.index.of_kind("LimitRange").iter().map(|&i| cx.objects[i].ns()).collect();
        let defaults = LimitDefaults::build(cx);
        for pod in cx.pods() {
            let o = &cx.objects[pod.object];
            let ns = o.ns();
            if !defined.contains(ns) || ranged.contains(ns) {
                continue;
            }
            let Some((c, missing)) = pod.containers().filter(|c| c.value.is_object()).find_map(|c| {
                let missing: Vec<&str> =
                    ["cpu", "memory"].into_iter().filter(|r| !has_request(&pod, &c, r, ns, &defaults)).collect();
                (!missing.is_empty()).then_some((c, missing))
            }) else {
                continue;
            };
            let pointer = if c.get("/resources").is_some() { c.field("/resources") } else { c.field("/name") };
            let consequence = match quotas.get(ns) {
                Some(q) => format!("; the ResourceQuota `{q}` will reject its pods"),
                None => "; its pods are left out of the namespace's budget and evicted first".to_string(),
            };
            out.report(
                pod.object,
                pointer,
                format!(
                    "container `{}` has no {} request and namespace `{ns}` has no LimitRange to default it{consequence}",
                    c.name(),
                    missing.join(" or ")
                ),
            )
            .help(format!(
                "set resources.requests on `{}`, or add a LimitRange to `{ns}` with `type: Container` and \
                 `defaultRequest: {{ cpu: 100m, memory: 128Mi }}`",
                c.name()
            ));
        }
    }
}
