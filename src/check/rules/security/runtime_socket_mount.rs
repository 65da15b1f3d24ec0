use crate::model::Value;

use super::common::{effective, host_paths, label, mounted_by, runtime_socket};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pods::{Container, Pod};

/// KP110: a pod mounts the container runtime's socket.
pub struct RuntimeSocketMount;

static META: Meta = Meta {
    code: "KP110",
    name: "runtime-socket-mount",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a pod mounts the container runtime socket (docker.sock, containerd.sock, crio.sock)",
    what: "Reports `hostPath` volumes that are a container runtime socket (docker.sock, containerd.sock, \
           crio.sock, cri-dockerd.sock, podman.sock, wherever they live) or a directory that contains one at \
           its usual place (`/var/run`, `/run/containerd`, `/`…), read-only or not: a read-only mount of a \
           socket still lets the pod connect to it. A directory mounted read-only by containers that can \
           neither be nor become root (non-zero user and groups, `drop: [ALL]` with nothing added, \
           `allowPrivilegeEscalation: false`) is a warning instead: the root-owned socket stays closed to \
           them, but they read every file of the node their user may read.",
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
            - { name: docker, mountPath: /var/run/docker.sock, readOnly: true }
      volumes:
        - name: docker
          hostPath: { path: /var/run/docker.sock, type: Socket }
        - name: registry-auth
          secret: { secretName: registry-auth, items: [{ key: .dockerconfigjson, path: config.json }] }
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
                let mounts = mounted_by(&pod, name);
                let users: Vec<String> = mounts.iter().map(|(c, _)| label(c)).collect();
                let by = if users.is_empty() { String::new() } else { format!(" to {}", users.join(", ")) };
                if socket == path.trim().trim_end_matches('/') {
                    out.report(
                        pod.object,
                        pointer,
                        format!(
                            "volume `{name}` hands the container runtime socket `{socket}`{by}: that is root on \
                             the node"
                        ),
                    )
                    .help(HELP);
                    continue;
                }
                // A directory holding the socket, read-only, by containers that can neither be nor become root:
                // the socket (owned by root) stays closed to them, the node's readable files do not.
                let confined = !mounts.is_empty() && mounts.iter().all(|(c, ro)| *ro && unprivileged(&pod, c));
                let message = if confined {
                    format!(
                        "volume `{name}` mounts the node's `{path}` read-only{by}, which runs as non-root with every \
                         capability dropped and no privilege escalation: it reads every file of the node its user may \
                         read (the runtime socket `{socket}` only if the user or its groups may write it)"
                    )
                } else {
                    format!(
                        "volume `{name}` mounts the node's `{path}`{by}, where the container runtime socket lives \
                         (`{socket}`…): that is root on the node"
                    )
                };
                let f = out.report(pod.object, pointer, message);
                if confined {
                    f.severity = Severity::Warning;
                    f.help("mount only the directories the container reads (e.g. `/proc`, `/sys`), read-only");
                } else {
                    f.help(HELP);
                }
            }
        }
    }
}

const HELP: &str = "remove the volume; build images with a daemonless builder (BuildKit rootless, Kaniko) instead of \
                    the node's runtime";

/// Whether a container can neither be root nor become root: a non-zero user and group (the runtime
/// socket belongs to root), no supplemental group 0, every capability dropped and none added, not
/// privileged, and no privilege escalation (a setuid binary of the mounted node would give it root).
fn unprivileged(pod: &Pod, c: &Container) -> bool {
    let int = |path: &str| effective(pod, c, path).and_then(|s| s.value.as_i64());
    let non_root = match int("/runAsUser") {
        Some(uid) => uid != 0,
        None => effective(pod, c, "/runAsNonRoot").and_then(|s| s.value.as_bool()) == Some(true),
    };
    let groups = pod.get("securityContext").and_then(|s| s.get("supplementalGroups")).and_then(Value::as_array);
    let root_group = int("/runAsGroup") == Some(0)
        || pod.spec.pointer("/securityContext/fsGroup").and_then(Value::as_i64) == Some(0)
        || groups.into_iter().flatten().any(|g| g.as_i64() == Some(0));
    let strings = |path: &str| -> Vec<&str> {
        c.get(path).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
    };
    let drops_all = strings("/securityContext/capabilities/drop").iter().any(|d| d.eq_ignore_ascii_case("ALL"));
    let adds = !strings("/securityContext/capabilities/add").is_empty();
    let no_escalation = effective(pod, c, "/allowPrivilegeEscalation").and_then(|s| s.value.as_bool()) == Some(false);
    non_root && !root_group && drops_all && !adds && !super::common::privileged(c) && no_escalation
}

#[cfg(test)]
mod tests {
    use crate::check::check_text;
    use crate::check::config::Config;
    use crate::diag::Severity;

    /// (severity, line, message) of the KP110 findings.
    fn found(text: &str) -> Vec<(Severity, u32, String)> {
        let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        outcome
            .findings
            .iter()
            .filter(|f| f.code == "KP110")
            .map(|f| (f.severity, loaded.objects[f.object].pos(&f.pointer).line, f.message.clone()))
            .collect()
    }

    /// A node exporter mounting the node's `/` with `mount` (the volumeMount's extra fields)
    /// and `security` (the container's securityContext).
    fn exporter(mount: &str, security: &str) -> String {
        format!(
            r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: {{ name: node-exporter, namespace: monitoring }}
spec:
  selector: {{ matchLabels: {{ app: node-exporter }} }}
  template:
    metadata: {{ labels: {{ app: node-exporter }} }}
    spec:
      containers:
        - name: exporter
          image: quay.io/prometheus/node-exporter:v1.8.2
          securityContext: {security}
          volumeMounts:
            - {{ name: root, mountPath: /host/root{mount} }}
      volumes:
        - name: root
          hostPath: {{ path: / }}
"#
        )
    }

    const HARDENED: &str =
        "{ runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false, capabilities: { drop: [ALL] } }";

    #[test]
    fn a_read_only_root_mount_by_a_non_root_container_without_capabilities_is_not_root_on_the_node() {
        let found = found(&exporter(", readOnly: true", HARDENED));
        let [(severity, line, message)] = &found[..] else { panic!("{found:?}") };
        assert_eq!((*severity, *line), (Severity::Warning, 18));
        assert!(!message.contains("root on the node"), "{message}");
        assert!(message.contains("reads every file of the node its user may read"), "{message}");
        assert!(message.contains("container `exporter`"), "{message}");
    }

    #[test]
    fn a_root_mount_stays_root_on_the_node_when_writable_run_as_root_or_with_capabilities() {
        for (mount, security) in [
            ("", HARDENED),
            (", readOnly: true", "{ runAsUser: 0, capabilities: { drop: [ALL] } }"),
            (", readOnly: true", "{ runAsNonRoot: true, runAsUser: 65534, allowPrivilegeEscalation: false }"),
            (", readOnly: true", "{ runAsNonRoot: true, runAsUser: 65534, capabilities: { drop: [ALL] } }"),
            (
                ", readOnly: true",
                "{ runAsUser: 65534, allowPrivilegeEscalation: false, capabilities: { drop: [ALL], add: [DAC_OVERRIDE] } }",
            ),
        ] {
            let found = found(&exporter(mount, security));
            let [(severity, 18, message)] = &found[..] else { panic!("{mount} {security}: {found:?}") };
            assert_eq!(*severity, Severity::Error, "{mount} {security}");
            assert!(message.ends_with("that is root on the node"), "{message}");
        }
    }
}
