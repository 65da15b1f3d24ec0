use super::common::{ByField, effective, linux};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP114: a container runs with seccomp explicitly disabled.
pub struct SeccompUnconfined;

static META: Meta = Meta {
    code: "KP114",
    name: "seccomp-unconfined",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a container's seccomp profile is `Unconfined`",
    what: "Reports Linux containers and init containers whose seccomp profile — their own, or else the \
           pod's — is `Unconfined`. A pod-level setting is reported once, naming the containers it \
           applies to; a container that sets its own profile is not affected by the pod's.",
    why: "`Unconfined` switches syscall filtering off on purpose, even on clusters whose kubelet would \
          apply RuntimeDefault by default: the whole kernel attack surface (keyctl, unshare, bpf, \
          userfaultfd…) becomes reachable, which is how most container escapes through kernel bugs work. \
          The Pod Security `baseline` level forbids it.",
    fix: "Use `seccompProfile: { type: RuntimeDefault }`; if a specific system call is blocked, write a \
          `Localhost` profile that allows just that one.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: Unconfined }
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
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
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

impl Check for SeccompUnconfined {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut found = ByField::default();
        for pod in cx.pods().filter(|p| linux(p)) {
            for c in pod.containers() {
                let Some(s) = effective(&pod, &c, "/seccompProfile/type") else { continue };
                if s.value.as_str() != Some("Unconfined") {
                    continue;
                }
                let message = if s.from_pod {
                    "the pod's seccomp profile `Unconfined` turns syscall filtering off for {who}"
                } else {
                    "seccomp profile `Unconfined` turns syscall filtering off for {who}"
                };
                found.add(pod.object, s.pointer, &c, message, "use `seccompProfile: { type: RuntimeDefault }`");
            }
        }
        found.report(out);
    }
}
