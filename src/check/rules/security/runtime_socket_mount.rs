use super::common::{host_paths, label, mounted_by, runtime_socket};
use crate::check::{Check, Context, Family, Meta, Severity, Sink};

/// KP110: a pod mounts the container runtime's socket.
pub struct RuntimeSocketMount;

static META: Meta = Meta {
    code: "KP110",
    name: "runtime-socket-mount",
    family: Family::Security,
    severity: Severity::Error,
    summary: "a pod mounts the container runtime socket (docker.sock, containerd.sock, crio.sock)",
    what: "Reports `hostPath` volumes that are a container runtime socket (docker.sock, containerd.sock, \
           crio.sock, cri-dockerd.sock, podman.sock, wherever they live) or a directory that contains one at \
           its usual place (`/var/run`, `/run/containerd`, `/`…), read-only or not: a read-only mount of a \
           socket still lets the pod connect to it.",
    why: "Whoever can talk to the runtime socket can start a privileged container with the node's root \
          filesystem mounted, read every container's environment and exec into any of them: it is root on \
          the node, with no admission control or audit log in the way. Build tools that \"just need \
          docker\" are the usual source of this.",
    fix: "Remove the volume. Build images with a daemonless builder (BuildKit rootless, Kaniko, Buildah) \
          and read container metadata from the Kubernetes API; a node agent that truly needs the runtime \
          belongs in a namespace reserved for it, with an ignore and its reason.",
    fail: r#"
apiVersion: batch/v1
kind: Job
metadata: { name: build-image, namespace: ci }
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: build
          image: docker.io/library/docker:27.3.1-cli
          volumeMounts:
            - { name: docker, mountPath: /var/run/docker.sock, readOnly: true }
      volumes:
        - name: docker
          hostPath: { path: /var/run/docker.sock, type: Socket }
"#,
    pass: r#"
apiVersion: batch/v1
kind: Job
metadata: { name: promote-image, namespace: ci }
spec:
  template:
    spec:
      restartPolicy: Never
      serviceAccountName: image-promoter
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: crane
          image: gcr.io/go-containerregistry/crane:v0.20.2
          args: [copy, "ghcr.io/example/web:2.3.1", "registry.example.com/web:2.3.1"]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          volumeMounts:
            - { name: registry-auth, mountPath: /home/nonroot/.docker, readOnly: true }
      volumes:
        - name: registry-auth
          secret: { secretName: registry-auth, items: [{ key: .dockerconfigjson, path: config.json }] }
"#,
};

impl Check for RuntimeSocketMount {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for (pointer, name, path) in host_paths(&pod) {
                let Some(socket) = runtime_socket(path) else { continue };
                let users: Vec<String> = mounted_by(&pod, name).iter().map(|(c, _)| label(c)).collect();
                let by = if users.is_empty() { String::new() } else { format!(" to {}", users.join(", ")) };
                let what = if socket == path.trim().trim_end_matches('/') {
                    format!("volume `{name}` hands the container runtime socket `{socket}`{by}")
                } else {
                    format!(
                        "volume `{name}` mounts the node's `{path}`{by}, where the container runtime socket lives \
                         (`{socket}`…)"
                    )
                };
                out.report(pod.object, pointer, format!("{what}: that is root on the node")).help(
                    "remove the volume; build images with a daemonless builder (BuildKit rootless, Kaniko) \
                     instead of the node's runtime",
                );
            }
        }
    }
}
