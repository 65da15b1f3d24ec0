use crate::model::Value;

use super::common::{added_capabilities, anchor, label, linux, privileged};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP102: `allowPrivilegeEscalation` is not `false`.
pub struct PrivilegeEscalationAllowed;

static META: Meta = Meta {
    code: "KP102",
    name: "privilege-escalation-allowed",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a container does not set `allowPrivilegeEscalation: false`",
    what: "Reports Linux containers and init containers whose `securityContext.allowPrivilegeEscalation` is \
           `true` or not set (Kubernetes then allows escalation). Privileged containers and containers adding \
           SYS_ADMIN (or ALL) are left to KP101 and KP104: escalation is always allowed for them, whatever \
           this field says.",
    why: "Without `no_new_privs`, a process in the container can gain privileges through setuid/setgid \
          binaries or file capabilities shipped in the image (`su`, `sudo`, `ping`, `mount`…): an attacker \
          with a foothold as the app user becomes root in the container, one step closer to the node. \
          The Pod Security `restricted` level requires it to be false.",
    fix: "Set `allowPrivilegeEscalation: false` in every container's `securityContext`; nothing an ordinary \
          application does needs it.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      initContainers:
        - name: migrate
          image: ghcr.io/example/web:2.3.1
          securityContext:
            allowPrivilegeEscalation: true
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
      containers:
        - name: web
          image: ghcr.io/example/web:2.3.1
          securityContext:
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      initContainers:
        - name: migrate
          image: ghcr.io/example/web:2.3.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
      containers:
        - name: web
          image: ghcr.io/example/web:2.3.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

impl Check for PrivilegeEscalationAllowed {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods().filter(|p| linux(p)) {
            for c in pod.containers() {
                if privileged(&c) || added_capabilities(&c).any(|(cap, _)| cap == "SYS_ADMIN" || cap == "ALL") {
                    continue;
                }
                match c.get("/securityContext/allowPrivilegeEscalation") {
                    Some(Value::Bool(true)) => {
                        out.report(
                            pod.object,
                            c.field("/securityContext/allowPrivilegeEscalation"),
                            format!("{} allows privilege escalation", label(&c)),
                        )
                        .help("set `allowPrivilegeEscalation: false`");
                    }
                    None | Some(Value::Null) => {
                        out.report(
                            pod.object,
                            anchor(&c),
                            format!(
                                "{} does not set `allowPrivilegeEscalation: false`, so setuid binaries can gain \
                                 privileges",
                                label(&c)
                            ),
                        )
                        .help("add `allowPrivilegeEscalation: false` to its `securityContext`");
                    }
                    _ => {}
                }
            }
        }
    }
}
