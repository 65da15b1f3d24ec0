use super::common::{anchor, effective, label, linux};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP113: no seccomp profile applies to a container.
pub struct SeccompProfileMissing;

static META: Meta = Meta {
    code: "KP113",
    name: "seccomp-profile-missing",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "no seccomp profile applies to a container (neither it nor its pod sets one)",
    what: "Reports Linux containers and init containers for which neither their own \
           `securityContext.seccompProfile` nor the pod's is set. An explicit `Unconfined` is reported by \
           KP114 instead.",
    why: "Unless the kubelet runs with `--seccomp-default` (off by default), a container without a profile \
          runs Unconfined: every system call of the node's kernel is reachable, including the rarely used \
          ones where most kernel privilege-escalation bugs are found. `RuntimeDefault` blocks those and \
          almost never breaks an application. The Pod Security `restricted` level requires it.",
    fix: "Set `seccompProfile: { type: RuntimeDefault }` in the pod's `securityContext` (or `Localhost` \
          with a profile installed on the nodes).",
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
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
        - name: audited
          image: ghcr.io/example/audited-worker:1.0.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
            seccompProfile: { type: Localhost, localhostProfile: profiles/audited-worker.json }
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
        - name: audited
          image: ghcr.io/example/audited-worker:1.0.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
            seccompProfile: { type: Localhost, localhostProfile: profiles/audited-worker.json }
"#,
};

impl Check for SeccompProfileMissing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods().filter(|p| linux(p)) {
            for c in pod.containers() {
                if effective(&pod, &c, "/seccompProfile/type").is_some() {
                    continue;
                }
                out.report(
                    pod.object,
                    anchor(&c),
                    format!(
                        "no seccomp profile applies to {}: unless the kubelet enforces a default, its system calls \
                         are not filtered",
                        label(&c)
                    ),
                )
                .help(
                    "set `seccompProfile: { type: RuntimeDefault }` in the pod's `securityContext` (it applies to \
                     every container)",
                );
            }
        }
    }
}
