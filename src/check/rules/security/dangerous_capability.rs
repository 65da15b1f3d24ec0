use super::common::{added_capabilities, label, linux};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP104: a container adds a capability that breaks container isolation.
pub struct DangerousCapability;

/// Capabilities that are a known way out of the container or into the node's
/// network, and what each allows.
pub(super) const DANGEROUS: &[(&str, &str)] = &[
    ("ALL", "every capability there is"),
    ("SYS_ADMIN", "mount filesystems and most of root's powers: the classic container escape"),
    ("NET_ADMIN", "reconfigure interfaces, routes and iptables of the pod network"),
    ("SYS_PTRACE", "trace and inject code into the processes it can see"),
    ("SYS_MODULE", "load modules into the node's kernel"),
    ("SYS_RAWIO", "raw I/O to devices and kernel memory"),
    ("SYS_BOOT", "reboot the node"),
    ("DAC_READ_SEARCH", "open files by handle, outside the container's filesystem"),
    ("BPF", "load eBPF programs into the node's kernel"),
    ("PERFMON", "watch every process of the node through perf and eBPF"),
    ("MAC_ADMIN", "change the node's AppArmor or SELinux policy"),
    ("MAC_OVERRIDE", "bypass AppArmor or SELinux policy"),
    ("SYSLOG", "read the node's kernel log and kernel addresses"),
];

static META: Meta = Meta {
    code: "KP104",
    name: "dangerous-capability",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a container adds a capability that breaks container isolation (SYS_ADMIN, NET_ADMIN, ALL…)",
    what: "Reports entries of `securityContext.capabilities.add` that hand the container power over the \
           node or its network: ALL, SYS_ADMIN, NET_ADMIN, SYS_PTRACE, SYS_MODULE, SYS_RAWIO, SYS_BOOT, \
           DAC_READ_SEARCH, BPF, PERFMON, MAC_ADMIN, MAC_OVERRIDE, SYSLOG (with or without the CAP_ prefix). \
           Harmless additions such as NET_BIND_SERVICE are not reported.",
    why: "These capabilities are the documented building blocks of container escapes: SYS_ADMIN can mount \
          the host's filesystems and cgroups, SYS_MODULE and BPF put code in the node's kernel, SYS_PTRACE \
          and DAC_READ_SEARCH read other processes and files, NET_ADMIN rewrites the network the pod \
          shares. A compromise of such a container is close to a compromise of the node. The Pod Security \
          `baseline` level forbids all of them.",
    fix: "Remove the capability. Most needs have a narrower answer: NET_BIND_SERVICE (or a port above \
          1024) instead of NET_ADMIN for low ports, a CSI driver instead of SYS_ADMIN for mounts; a node \
          agent that truly needs one belongs in a namespace reserved for it, with an ignore and its reason.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: proxy, namespace: edge }
spec:
  selector: { matchLabels: { app: proxy } }
  template:
    metadata: { labels: { app: proxy } }
    spec:
      serviceAccountName: proxy
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: proxy
          image: docker.io/library/nginx:1.27.2
          ports: [{ containerPort: 80 }]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE, NET_ADMIN, CAP_SYS_ADMIN]
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: proxy, namespace: edge }
spec:
  selector: { matchLabels: { app: proxy } }
  template:
    metadata: { labels: { app: proxy } }
    spec:
      serviceAccountName: proxy
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 101
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: proxy
          image: docker.io/library/nginx:1.27.2
          ports: [{ containerPort: 80 }]
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE]
"#,
};

impl Check for DangerousCapability {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods().filter(|p| linux(p)) {
            for c in pod.containers() {
                for (cap, pointer) in added_capabilities(&c) {
                    let Some((_, power)) = DANGEROUS.iter().find(|(name, _)| *name == cap) else { continue };
                    out.report(pod.object, pointer, format!("{} adds capability {cap} ({power})", label(&c))).help(
                        format!(
                            "remove {cap} from `capabilities.add`; keep `drop: [ALL]` and add only what the \
                             process needs"
                        ),
                    );
                }
            }
        }
    }
}
