use super::common::{ByField, effective, label, privileged};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP101: a privileged container, or a Windows HostProcess container.
pub struct PrivilegedContainer;

static META: Meta = Meta {
    code: "KP101",
    name: "privileged-container",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a container runs privileged (or as a Windows HostProcess container)",
    what: "Reports containers and init containers with `securityContext.privileged: true`, and containers \
           that run as Windows HostProcess containers (`windowsOptions.hostProcess: true` on the container \
           or the pod).",
    why: "A privileged container gets every capability, every device of the node and no seccomp or AppArmor \
          confinement: whoever gets code execution in it (a vulnerable dependency, a leaked debug endpoint) \
          owns the node, and with it every pod and secret scheduled there. The Pod Security `baseline` \
          level forbids it.",
    fix: "Remove `privileged: true`. If the process needs one specific power, add only that capability \
          (`capabilities.add`), or move the work to a node-level agent that runs in a namespace reserved \
          for it and ignore the finding there with the reason.",
    fail: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: node-tuner, namespace: ops }
spec:
  selector: { matchLabels: { app: node-tuner } }
  template:
    metadata: { labels: { app: node-tuner } }
    spec:
      serviceAccountName: node-tuner
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: tuner
          image: ghcr.io/example/node-tuner:1.4.0
          securityContext:
            privileged: true
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: node-tuner, namespace: ops }
spec:
  selector: { matchLabels: { app: node-tuner } }
  template:
    metadata: { labels: { app: node-tuner } }
    spec:
      serviceAccountName: node-tuner
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: tuner
          image: ghcr.io/example/node-tuner:1.4.0
          securityContext:
            privileged: false
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

impl Check for PrivilegedContainer {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut host_process = ByField::default();
        for pod in cx.pods() {
            for c in pod.containers() {
                if privileged(&c) {
                    out.report(
                        pod.object,
                        c.field("/securityContext/privileged"),
                        format!("{} runs privileged", label(&c)),
                    )
                    .help("remove `privileged: true`; add only the capability it needs to `capabilities.add`");
                }
                if let Some(s) = effective(&pod, &c, "/windowsOptions/hostProcess")
                    && s.value.as_bool() == Some(true)
                {
                    host_process.add(
                        pod.object,
                        s.pointer,
                        &c,
                        "{who} runs as a Windows HostProcess container, with full access to the node",
                        "remove `hostProcess: true` unless this is a node agent in a namespace reserved for it",
                    );
                }
            }
        }
        host_process.report(out);
    }
}
