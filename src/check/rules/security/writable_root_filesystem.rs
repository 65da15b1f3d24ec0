use crate::model::Value;

use super::common::{anchor, label, linux};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP112: a container's root filesystem is writable.
pub struct WritableRootFilesystem;

static META: Meta = Meta {
    code: "KP112",
    name: "writable-root-filesystem",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a container's root filesystem is writable (`readOnlyRootFilesystem` is not true)",
    what: "Reports Linux containers and init containers whose `securityContext.readOnlyRootFilesystem` is \
           `false` or not set.",
    why: "A writable image filesystem lets an intruder drop tools, replace binaries or libraries the app \
          loads later, and persist until the container restarts; it also hides where the app really \
          writes, so data ends up in the container layer (lost on restart, counted against the node's \
          disk) instead of a declared volume.",
    fix: "Set `readOnlyRootFilesystem: true` and mount an `emptyDir` where the process writes (/tmp, cache \
          or run directories); give it a `sizeLimit`.",
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
      containers:
        - name: web
          image: ghcr.io/example/web:2.3.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: false
            capabilities: { drop: [ALL] }
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
        - name: log-tailer
          image: ghcr.io/example/log-tailer:0.4.0
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: { drop: [ALL] }
      volumes:
        - name: tmp
          emptyDir: { sizeLimit: 256Mi }
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
      containers:
        - name: web
          image: ghcr.io/example/web:2.3.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          volumeMounts:
            - { name: tmp, mountPath: /tmp }
        - name: log-tailer
          image: ghcr.io/example/log-tailer:0.4.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
      volumes:
        - name: tmp
          emptyDir: { sizeLimit: 256Mi }
"#,
};

impl Check for WritableRootFilesystem {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods().filter(|p| linux(p)) {
            for c in pod.containers() {
                match c.get("/securityContext/readOnlyRootFilesystem") {
                    Some(Value::Bool(true)) => {}
                    Some(Value::Bool(false)) => {
                        out.report(
                            pod.object,
                            c.field("/securityContext/readOnlyRootFilesystem"),
                            format!("{} can write to its image's filesystem", label(&c)),
                        )
                        .help("set `readOnlyRootFilesystem: true` and mount an emptyDir where it writes (e.g. /tmp)");
                    }
                    None | Some(Value::Null) => {
                        out.report(
                            pod.object,
                            anchor(&c),
                            format!(
                                "{} can write to its image's filesystem: `readOnlyRootFilesystem: true` is not set",
                                label(&c)
                            ),
                        )
                        .help("set `readOnlyRootFilesystem: true` and mount an emptyDir where it writes (e.g. /tmp)");
                    }
                    _ => {}
                }
            }
        }
    }
}
