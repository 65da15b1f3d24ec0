use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use crate::model::resources::{LimitDefaults, has_memory_limit};

/// KP202: a container without a memory limit.
pub struct MissingMemoryLimit;

static META: Meta = Meta {
    code: "KP202",
    name: "missing-memory-limit",
    family: Family::Reliability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a container has no memory limit",
    what: "Reports every container and init container of a pod template without \
           `resources.limits.memory`, unless a LimitRange of its namespace in the checked set \
           gives a default memory limit or the pod sets a pod-level memory limit. CPU limits are not required: they only throttle.",
    why: "Memory cannot be throttled. A container without a memory limit that leaks or spikes \
          takes memory from every other pod on the node until the kernel's OOM killer or the \
          kubelet's eviction picks victims, often not the culprit. With a limit, only the \
          offending container is restarted.",
    fix: "Set `resources.limits.memory`, commonly equal to `resources.requests.memory` (the pod \
          is then never evicted for memory use within its request), e.g. `limits: { memory: 512Mi }`.",
    fail: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: cache, namespace: shop }
spec:
  serviceName: cache
  selector: { matchLabels: { app: cache } }
  template:
    metadata: { labels: { app: cache } }
    spec:
      containers:
        - name: redis
          image: redis:7.4.1
          resources:
            requests: { cpu: 100m, memory: 256Mi }
            limits: { cpu: "1" }
---
# A LimitRange of another namespace gives this one no default.
apiVersion: v1
kind: LimitRange
metadata: { name: defaults, namespace: tools }
spec:
  limits:
    - type: Container
      default: { memory: 128Mi }
"#,
    pass: r#"
apiVersion: v1
kind: LimitRange
metadata: { name: defaults, namespace: tools }
spec:
  limits:
    - type: Container
      default: { memory: 128Mi }
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: cleanup, namespace: tools }
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: cleanup
              image: ghcr.io/acme/cleanup:1.0.0
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: cache, namespace: shop }
spec:
  serviceName: cache
  selector: { matchLabels: { app: cache } }
  template:
    metadata: { labels: { app: cache } }
    spec:
      containers:
        - name: redis
          image: redis:7.4.1
          resources:
            requests: { cpu: 100m, memory: 256Mi }
            limits: { memory: 256Mi }
"#,
};

impl Check for MissingMemoryLimit {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let defaults = LimitDefaults::build(cx);
        for pod in cx.pods() {
            let ns = cx.objects[pod.object].ns();
            for c in pod.containers().filter(|c| c.value.is_object()) {
                if has_memory_limit(&pod, &c, ns, &defaults) {
                    continue;
                }
                let pointer = if c.get("/resources/limits").is_some() {
                    c.field("/resources/limits")
                } else if c.get("/resources").is_some() {
                    c.field("/resources")
                } else {
                    c.field("/name")
                };
                let what = if c.init { "init container" } else { "container" };
                let suggestion = match c.get("/resources/requests/memory") {
                    Some(m) => format!("e.g. equal to its request: `memory: {}`", super::support::text(m)),
                    None => "e.g. `memory: 512Mi`".to_string(),
                };
                out.report(pod.object, pointer, format!("{what} `{}` has no memory limit", c.name()))
                    .help(format!("set resources.limits.memory, {suggestion}"));
            }
        }
    }
}
