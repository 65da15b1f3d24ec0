use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP107: a pod shares the node's IPC namespace.
pub struct HostIpc;

static META: Meta = Meta {
    code: "KP107",
    name: "host-ipc",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a pod uses the node's IPC namespace (`hostIPC: true`)",
    what: "Reports pod templates with `hostIPC: true`.",
    why: "The pod shares System V shared memory, semaphores and message queues with every process on \
          the node: it can read and corrupt the shared memory of other workloads and node daemons. The \
          Pod Security `baseline` level forbids it.",
    fix: "Remove `hostIPC: true`; containers of the same pod already share an IPC namespace, and a \
          memory-backed `emptyDir` (`medium: Memory`) mounted at /dev/shm covers shared-memory needs.",
    fail: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: cache, namespace: data }
spec:
  serviceName: cache
  selector: { matchLabels: { app: cache } }
  template:
    metadata: { labels: { app: cache } }
    spec:
      serviceAccountName: cache
      automountServiceAccountToken: false
      hostIPC: true
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: cache
          image: ghcr.io/example/shm-cache:2.0.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          volumeMounts: [{ name: shm, mountPath: /dev/shm }]
      volumes:
        - name: shm
          emptyDir: { medium: Memory, sizeLimit: 256Mi }
"#,
    pass: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: cache, namespace: data }
spec:
  serviceName: cache
  selector: { matchLabels: { app: cache } }
  template:
    metadata: { labels: { app: cache } }
    spec:
      serviceAccountName: cache
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: cache
          image: ghcr.io/example/shm-cache:2.0.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          volumeMounts: [{ name: shm, mountPath: /dev/shm }]
      volumes:
        - name: shm
          emptyDir: { medium: Memory, sizeLimit: 256Mi }
"#,
};

impl Check for HostIpc {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            if pod.get("hostIPC").and_then(Value::as_bool) == Some(true) {
                out.report(
                    pod.object,
                    pod.field("hostIPC"),
                    "the pod shares the node's IPC namespace: it can read the shared memory of every process on the \
                     node",
                )
                .help("remove `hostIPC: true`; mount a memory-backed emptyDir at /dev/shm if it needs shared memory");
            }
        }
    }
}
