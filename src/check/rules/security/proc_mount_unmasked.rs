use super::common::{label, linux, user_namespaced};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP117: a container sees the node's /proc unmasked.
pub struct ProcMountUnmasked;

static META: Meta = Meta {
    code: "KP117",
    name: "proc-mount-unmasked",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a container mounts /proc unmasked (`procMount: Unmasked`) without a user namespace",
    what: "Reports Linux containers and init containers with `securityContext.procMount: Unmasked` in pods \
           that share the node's user namespace (`hostUsers` not false). In a pod with its own user \
           namespace the unmasked /proc belongs to that namespace, and Pod Security allows it.",
    why: "The runtime masks and makes read-only parts of /proc and /sys (/proc/kcore, /proc/sysrq-trigger, \
          /proc/sys…) because they expose or change the node's kernel. Unmasked, a container can read \
          kernel memory and write kernel settings of the node. The Pod Security `baseline` level forbids \
          it outside user namespaces.",
    fix: "Remove `procMount: Unmasked` (the default masks /proc). Nested container builds that need it \
          should run in a pod with `hostUsers: false`.",
    fail: r#"
apiVersion: v1
kind: Pod
metadata: { name: builder, namespace: ci }
spec:
  serviceAccountName: builder
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: buildah
      image: quay.io/buildah/stable:v1.37.3
      securityContext:
        procMount: Unmasked
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: v1
kind: Pod
metadata: { name: builder, namespace: ci }
spec:
  hostUsers: false
  serviceAccountName: builder
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 1000
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: buildah
      image: quay.io/buildah/stable:v1.37.3
      securityContext:
        procMount: Unmasked
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
"#,
};

impl Check for ProcMountUnmasked {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods().filter(|p| linux(p) && !user_namespaced(p)) {
            for c in pod.containers() {
                if c.get("/securityContext/procMount").and_then(crate::model::Value::as_str) == Some("Unmasked") {
                    out.report(
                        pod.object,
                        c.field("/securityContext/procMount"),
                        format!("{} sees the node's /proc and /sys unmasked", label(&c)),
                    )
                    .help(
                        "remove `procMount: Unmasked`, or give the pod its own user namespace with `hostUsers: false`",
                    );
                }
            }
        }
    }
}
