use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::support::long_running;

/// KP205: a long-running container without a liveness probe.
pub struct MissingLivenessProbe;

static META: Meta = Meta {
    code: "KP205",
    name: "missing-liveness-probe",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Info,
    summary: "a long-running container has no liveness probe",
    what: "Reports containers of long-running pods (Deployments, StatefulSets, DaemonSets, \
           ReplicaSets and restarting Pods, not Jobs or CronJobs) without a `livenessProbe`. \
           Init containers and sidecars are not reported.",
    why: "A process that deadlocks or wedges without exiting keeps its container running: \
          nothing restarts it, and if it has no readiness probe either it keeps receiving \
          traffic. A liveness probe lets the kubelet restart it. This is an info only: a process \
          that exits on fatal errors does not need one, and a careless liveness probe (one that \
          checks dependencies) causes restarts instead of preventing outages.",
    fix: "Add a `livenessProbe` that checks only the process itself (an endpoint that does not \
          call databases or other services), with a generous `failureThreshold`; or ignore the \
          finding with the reason the process needs none.",
    fail: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: node-agent, namespace: monitoring }
spec:
  selector: { matchLabels: { app: node-agent } }
  template:
    metadata: { labels: { app: node-agent } }
    spec:
      initContainers:
        - name: setup
          image: ghcr.io/acme/node-agent:2.3.0
      containers:
        - name: agent
          image: ghcr.io/acme/node-agent:2.3.0
---
apiVersion: batch/v1
kind: Job
metadata: { name: backfill, namespace: monitoring }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: backfill
          image: ghcr.io/acme/backfill:1.0.0
"#,
    pass: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: node-agent, namespace: monitoring }
spec:
  selector: { matchLabels: { app: node-agent } }
  template:
    metadata: { labels: { app: node-agent } }
    spec:
      initContainers:
        - name: setup
          image: ghcr.io/acme/node-agent:2.3.0
      containers:
        - name: agent
          image: ghcr.io/acme/node-agent:2.3.0
          livenessProbe:
            exec: { command: [/bin/agent, healthcheck] }
---
apiVersion: batch/v1
kind: Job
metadata: { name: backfill, namespace: monitoring }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: backfill
          image: ghcr.io/acme/backfill:1.0.0
"#,
};

impl Check for MissingLivenessProbe {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            if !long_running(cx, &pod) {
                continue;
            }
            for c in pod.containers().filter(|c| !c.init && c.value.is_object()) {
                if c.get("/livenessProbe").is_some_and(|p| !p.is_null()) {
                    continue;
                }
                out.report(pod.object, c.field("/name"), format!("container `{}` has no liveness probe", c.name()))
                    .help("if the process can hang without exiting, add a livenessProbe that checks only the process itself");
            }
        }
    }
}
