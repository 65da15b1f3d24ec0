use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP106: a pod shares the node's process namespace.
pub struct HostPid;

static META: Meta = Meta {
    code: "KP106",
    name: "host-pid",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a pod uses the node's process namespace (`hostPID: true`)",
    what: "Reports pod templates with `hostPID: true`.",
    why: "The pod sees every process on the node, with their command lines and environment (where \
          other pods' secrets often are), can signal them, and with ptrace-like access or a root user \
          can enter their namespaces through /proc — a direct path out of the container. The Pod \
          Security `baseline` level forbids it.",
    fix: "Remove `hostPID: true`. To share processes between the containers of one pod, use \
          `shareProcessNamespace: true` instead; only node-level debugging or monitoring agents need the \
          node's PIDs, and those belong in a namespace reserved for them, with an ignore and its reason.",
    fail: r#"
apiVersion: v1
kind: Pod
metadata: { name: profiler, namespace: perf }
spec:
  serviceAccountName: profiler
  automountServiceAccountToken: false
  hostPID: true
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: app
      image: ghcr.io/example/app:1.8.0
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
    - name: profiler
      image: ghcr.io/example/profiler:0.3.0
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: v1
kind: Pod
metadata: { name: profiler, namespace: perf }
spec:
  serviceAccountName: profiler
  automountServiceAccountToken: false
  shareProcessNamespace: true
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: app
      image: ghcr.io/example/app:1.8.0
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
    - name: profiler
      image: ghcr.io/example/profiler:0.3.0
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
"#,
};

impl Check for HostPid {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            if pod.get("hostPID").and_then(Value::as_bool) == Some(true) {
                out.report(
                    pod.object,
                    pod.field("hostPID"),
                    "the pod shares the node's processes: it sees and can signal every process on the node",
                )
                .help("remove `hostPID: true` (use `shareProcessNamespace: true` to share processes within the pod)");
            }
        }
    }
}
