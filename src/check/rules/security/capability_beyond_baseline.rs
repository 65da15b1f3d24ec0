use super::common::{added_capabilities, label, linux};
use super::dangerous_capability::DANGEROUS;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP127: a container adds a capability the Pod Security `baseline` level does not allow.
pub struct CapabilityBeyondBaseline;

/// The capabilities Pod Security `baseline` lets a container add.
pub const BASELINE: &[&str] = &[
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// What some capabilities outside the baseline allow, for the message.
const POWERS: &[(&str, &str)] = &[
    ("SYS_TIME", "set the node's clock, which is not namespaced: certificates, tokens and logs of every pod"),
    ("NET_RAW", "forge packets and answer ARP and DNS for other pods on the node's network"),
    ("SYS_NICE", "raise its priority and pin CPUs over the node's other pods"),
    ("SYS_RESOURCE", "override resource limits of the node's kernel"),
    ("IPC_LOCK", "lock memory the node cannot reclaim"),
    ("LINUX_IMMUTABLE", "set immutable and append-only flags on files"),
    ("SYS_PACCT", "turn process accounting of the node on and off"),
    ("AUDIT_CONTROL", "change the node's kernel audit rules"),
    ("WAKE_ALARM", "set alarms that wake the node"),
    ("BLOCK_SUSPEND", "prevent the node from suspending"),
    ("CHECKPOINT_RESTORE", "checkpoint and restore processes"),
];

static META: Meta = Meta {
    code: "KP127",
    name: "capability-beyond-baseline",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a container adds a capability outside the Pod Security baseline allow-list (SYS_TIME, NET_RAW…)",
    what: "Reports entries of `securityContext.capabilities.add` outside the Pod Security `baseline` \
           allow-list (AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, \
           SETFCAP, SETGID, SETPCAP, SETUID, SYS_CHROOT), with or without the CAP_ prefix. The capabilities \
           that break isolation outright (ALL, SYS_ADMIN, NET_ADMIN…) are KP104's errors and are not \
           reported again here.",
    why: "A namespace that enforces the `baseline` level rejects the pod, so it does not start where the \
          cluster is hardened. Where it starts, the capability reaches state that the node shares with \
          every pod: SYS_TIME sets the node's clock (not namespaced), NET_RAW forges packets on the pod \
          network, SYS_NICE and SYS_RESOURCE take CPU and memory from the other pods. A warning, not an \
          error: none of them alone is a known way out of the container.",
    fix: "Remove the capability; if the process really needs it (an NTP daemon needs SYS_TIME), run it as a \
          node agent in a namespace labelled for the `privileged` level, with an ignore and its reason.",
    fail: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: chrony, namespace: ops }
spec:
  selector: { matchLabels: { app: chrony } }
  template:
    metadata: { labels: { app: chrony } }
    spec:
      serviceAccountName: chrony
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: chrony
          image: ghcr.io/example/chrony:4.5.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE, SYS_TIME]
"#,
    pass: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: chrony, namespace: ops }
spec:
  selector: { matchLabels: { app: chrony } }
  template:
    metadata: { labels: { app: chrony } }
    spec:
      serviceAccountName: chrony
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: chrony
          image: ghcr.io/example/chrony:4.5.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: files, namespace: ops }
spec:
  selector: { matchLabels: { app: files } }
  template:
    metadata: { labels: { app: files } }
    spec:
      serviceAccountName: files
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: files
          image: ghcr.io/example/files:2.0.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [CAP_CHOWN, NET_BIND_SERVICE]
"#,
};

impl Check for CapabilityBeyondBaseline {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods().filter(|p| linux(p)) {
            for c in pod.containers() {
                for (cap, pointer) in added_capabilities(&c) {
                    if cap.is_empty() || BASELINE.contains(&cap.as_str()) || DANGEROUS.iter().any(|(d, _)| *d == cap) {
                        continue;
                    }
                    let power = POWERS
                        .iter()
                        .find(|(name, _)| *name == cap)
                        .map_or_else(String::new, |(_, p)| format!(": it can {p}"));
                    out.report(
                        pod.object,
                        pointer,
                        format!(
                            "{} adds capability {cap}, which Pod Security `baseline` does not allow{power}",
                            label(&c)
                        ),
                    )
                    .help(format!(
                        "remove {cap} from `capabilities.add`; a namespace enforcing `baseline` rejects the pod"
                    ));
                }
            }
        }
    }
}
