use super::common::{ByField, anchor, effective, label, linux, user_namespaced};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP103: a container runs (or may run) as root.
pub struct RunsAsRoot;

static META: Meta = Meta {
    code: "KP103",
    name: "runs-as-root",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a container runs as root, or nothing stops it from doing so",
    what: "Works out each container's user from its own `securityContext` and, where unset, the pod's \
           (container settings win). Reports `runAsUser: 0`, `runAsNonRoot: false`, and containers with \
           neither `runAsNonRoot: true` nor a non-zero `runAsUser` (the image's USER then decides, and for \
           most images that is root). Pods with their own user namespace (`hostUsers: false`) and Windows \
           pods are skipped.",
    why: "Root in a container is root on the node's kernel, held back only by capabilities, seccomp and \
          the runtime: every container escape bug is worse from UID 0, and root can write anywhere in \
          mounted volumes. `runAsNonRoot: true` makes the kubelet refuse to start an image that would run \
          as root, so a base-image change cannot silently bring root back. The Pod Security `restricted` \
          level requires it.",
    fix: "Set `runAsNonRoot: true` and a non-zero `runAsUser` (and `runAsGroup`/`fsGroup`) in the pod's \
          `securityContext`, and build the image with a numeric non-root USER.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: jobs }
spec:
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec:
      serviceAccountName: worker
      automountServiceAccountToken: false
      securityContext:
        runAsUser: 0
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: worker
          image: ghcr.io/example/worker:3.0.2
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
        - name: metrics
          image: ghcr.io/example/metrics-sidecar:1.1.0
          securityContext:
            runAsUser: 65534
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
apiVersion: v1
kind: Pod
metadata: { name: debug, namespace: jobs }
spec:
  serviceAccountName: debug
  automountServiceAccountToken: false
  securityContext:
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: shell
      image: docker.io/library/busybox:1.36
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: jobs }
spec:
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec:
      serviceAccountName: worker
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        runAsGroup: 10001
        fsGroup: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: worker
          image: ghcr.io/example/worker:3.0.2
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
        - name: metrics
          image: ghcr.io/example/metrics-sidecar:1.1.0
          securityContext:
            runAsUser: 65534
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
apiVersion: v1
kind: Pod
metadata: { name: debug, namespace: jobs }
spec:
  serviceAccountName: debug
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: 65534
    seccompProfile: { type: RuntimeDefault }
  containers:
    - name: shell
      image: docker.io/library/busybox:1.36
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        capabilities: { drop: [ALL] }
"#,
};

impl Check for RunsAsRoot {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut found = ByField::default();
        for pod in cx.pods().filter(|p| linux(p) && !user_namespaced(p)) {
            for c in pod.containers() {
                let user = effective(&pod, &c, "/runAsUser");
                let non_root = effective(&pod, &c, "/runAsNonRoot");
                match user.as_ref().and_then(|u| u.value.as_i64()) {
                    Some(0) => {
                        let Some(user) = user else { continue };
                        let refused = non_root.as_ref().and_then(|n| n.value.as_bool()) == Some(true);
                        let message = if refused {
                            "`runAsUser: 0` runs {who} as root, and `runAsNonRoot: true` makes the kubelet refuse \
                             to start it"
                        } else {
                            "`runAsUser: 0` runs {who} as root"
                        };
                        found.add(
                            pod.object,
                            user.pointer,
                            &c,
                            message,
                            "set a non-zero `runAsUser` and `runAsNonRoot: true`",
                        );
                        continue;
                    }
                    Some(_) => continue,
                    None => {}
                }
                match non_root.as_ref().and_then(|n| n.value.as_bool()) {
                    Some(true) => {}
                    Some(false) => {
                        let Some(non_root) = non_root else { continue };
                        found.add(
                            pod.object,
                            non_root.pointer,
                            &c,
                            "`runAsNonRoot: false` lets {who} run as root (the image's user decides)",
                            "set `runAsNonRoot: true` and a non-zero `runAsUser`",
                        );
                    }
                    None => {
                        out.report(
                            pod.object,
                            anchor(&c),
                            format!(
                                "{} may run as root: neither `runAsNonRoot: true` nor a non-zero `runAsUser` is \
                                 set, so the image's user decides",
                                label(&c)
                            ),
                        )
                        .help("set `runAsNonRoot: true` and a non-zero `runAsUser` in the pod's `securityContext`");
                    }
                }
            }
        }
        found.report(out);
    }
}
