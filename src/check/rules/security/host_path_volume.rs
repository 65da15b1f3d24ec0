use super::common::{host_paths, label, mounted_by, runtime_socket};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP109: a pod mounts a directory or file of the node.
pub struct HostPathVolume;

static META: Meta = Meta {
    code: "KP109",
    name: "host-path-volume",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a pod mounts a path of the node (`hostPath` volume)",
    what: "Reports `hostPath` volumes, saying which containers mount them and whether read-only. Mounts of \
           a container runtime socket (or a directory holding one) are reported by KP110 instead, as errors.",
    why: "A hostPath volume reaches outside the container onto the node's filesystem: a writable one lets \
          the pod plant files the node or other pods will run or trust (/etc, kubelet directories, other \
          pods' volumes), and even a read-only one can leak other pods' logs, secrets and tokens. Data \
          written there is also tied to one node and lost on rescheduling. The Pod Security `baseline` \
          level forbids hostPath volumes.",
    fix: "Use an `emptyDir` for scratch space, a PersistentVolumeClaim for data, a ConfigMap or Secret for \
          files. Node agents that must read the node (log shippers reading /var/log) should mount exactly \
          that path with `readOnly: true`, run in a namespace reserved for them, and carry an ignore with \
          the reason.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: uploads, namespace: shop }
spec:
  selector: { matchLabels: { app: uploads } }
  template:
    metadata: { labels: { app: uploads } }
    spec:
      serviceAccountName: uploads
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: uploads
          image: ghcr.io/example/uploads:1.2.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          volumeMounts:
            - { name: data, mountPath: /data }
            - { name: tmp, mountPath: /tmp }
      volumes:
        - name: data
          hostPath: { path: /srv/uploads, type: DirectoryOrCreate }
        - name: tmp
          emptyDir: { sizeLimit: 1Gi }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: uploads, namespace: shop }
spec:
  selector: { matchLabels: { app: uploads } }
  template:
    metadata: { labels: { app: uploads } }
    spec:
      serviceAccountName: uploads
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        fsGroup: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: uploads
          image: ghcr.io/example/uploads:1.2.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          volumeMounts:
            - { name: data, mountPath: /data }
            - { name: tmp, mountPath: /tmp }
      volumes:
        - name: data
          persistentVolumeClaim: { claimName: uploads }
        - name: tmp
          emptyDir: { sizeLimit: 1Gi }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: uploads, namespace: shop }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 10Gi } }
"#,
};

impl Check for HostPathVolume {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for (pointer, name, path) in host_paths(&pod) {
                if runtime_socket(path).is_some() {
                    continue;
                }
                let users = mounted_by(&pod, name);
                let writable: Vec<String> = users.iter().filter(|(_, ro)| !ro).map(|(c, _)| label(c)).collect();
                let how = if users.is_empty() {
                    "(not mounted by any container)".to_string()
                } else if writable.is_empty() {
                    "(read-only)".to_string()
                } else {
                    format!("(writable by {})", writable.join(", "))
                };
                let help = if writable.is_empty() {
                    "use an emptyDir, a PersistentVolumeClaim or a ConfigMap instead of a path of the node"
                } else {
                    "use an emptyDir, a PersistentVolumeClaim or a ConfigMap instead; if the node's files are \
                     really needed, mount them `readOnly: true`"
                };
                out.report(pod.object, pointer, format!("volume `{name}` mounts the node's `{path}` {how}")).help(help);
            }
        }
    }
}
