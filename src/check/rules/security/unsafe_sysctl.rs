use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP116: a pod sets a sysctl outside the kubelet's safe set.
pub struct UnsafeSysctl;

/// The kubelet's safe sysctls, with the Kubernetes minor version that made each safe.
const SAFE: &[(&str, u32)] = &[
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
];

static META: Meta = Meta {
    code: "KP116",
    name: "unsafe-sysctl",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a pod sets a sysctl outside the kubelet's safe set",
    what: "Reports entries of the pod's `securityContext.sysctls` that are not in the kubelet's safe set for \
           the target Kubernetes version (kernel.shm_rmid_forced, net.ipv4.ip_local_port_range, \
           net.ipv4.tcp_syncookies, net.ipv4.ping_group_range, net.ipv4.ip_unprivileged_port_start; \
           net.ipv4.ip_local_reserved_ports from 1.27; net.ipv4.tcp_keepalive_time, tcp_keepalive_intvl, \
           tcp_keepalive_probes and tcp_fin_timeout from 1.29; net.ipv4.tcp_rmem and tcp_wmem from 1.32). \
           Names written with slashes are read as the kubelet reads them.",
    why: "An unsafe sysctl is either not isolated per pod — it changes the kernel for every pod on the node \
          (vm.*, kernel.* memory and limits) — or it weakens isolation. The kubelet rejects such pods \
          (SysctlForbidden) unless the node was started with `--allowed-unsafe-sysctls`, so the pod either \
          never starts or only runs on nodes someone loosened on purpose. The Pod Security `baseline` \
          level forbids them.",
    fix: "Remove the sysctl, or set it on dedicated nodes (node configuration or a tuned DaemonSet owned \
          by the platform team) and schedule the pod there with a nodeSelector and toleration.",
    fail: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: gateway, namespace: edge }
spec:
  serviceName: gateway
  selector: { matchLabels: { app: gateway } }
  template:
    metadata: { labels: { app: gateway } }
    spec:
      serviceAccountName: gateway
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
        sysctls:
          - { name: net.ipv4.ip_unprivileged_port_start, value: "80" }
          - { name: net/ipv4/tcp_keepalive_time, value: "300" }
          - { name: vm.max_map_count, value: "262144" }
      containers:
        - name: gateway
          image: ghcr.io/example/gateway:5.2.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: gateway, namespace: edge }
spec:
  serviceName: gateway
  selector: { matchLabels: { app: gateway } }
  template:
    metadata: { labels: { app: gateway } }
    spec:
      serviceAccountName: gateway
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
        sysctls:
          - { name: net.ipv4.ip_unprivileged_port_start, value: "80" }
          - { name: net/ipv4/tcp_keepalive_time, value: "300" }
      containers:
        - name: gateway
          image: ghcr.io/example/gateway:5.2.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

/// `net/ipv4/conf/eth0.100/rp_filter` → `net.ipv4.conf.eth0/100.rp_filter`, as the kubelet does.
fn normalize(name: &str) -> String {
    if !name.contains('/') {
        return name.to_string();
    }
    name.chars()
        .map(|c| match c {
            '/' => '.',
            '.' => '/',
            c => c,
        })
        .collect()
}

impl Check for UnsafeSysctl {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            let sysctls = pod.spec.at("/securityContext/sysctls").and_then(Value::as_array);
            for (i, s) in sysctls.into_iter().flatten().enumerate() {
                let Some(name) = s.get("name").and_then(Value::as_str) else { continue };
                let pointer = format!("{}/securityContext/sysctls/{i}/name", pod.ptr);
                match SAFE.iter().find(|(safe, _)| *safe == normalize(name)) {
                    Some((_, since)) if *since <= cx.minor => {}
                    Some((_, since)) => {
                        out.report(
                            pod.object,
                            pointer,
                            format!(
                                "sysctl `{name}` is only safe from Kubernetes 1.{since}: on 1.{} the kubelet \
                                 rejects the pod",
                                cx.minor
                            ),
                        )
                        .help(format!("remove it, or target Kubernetes 1.{since} or later"));
                    }
                    None => {
                        out.report(
                            pod.object,
                            pointer,
                            format!(
                                "sysctl `{name}` is not in the kubelet's safe set: the pod is rejected unless \
                                 the node allows it, and it may change the kernel for every pod there"
                            ),
                        )
                        .help("remove it, or set it on dedicated nodes and schedule the pod there");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_slashes_as_the_kubelet() {
        assert_eq!(super::normalize("net/ipv4/tcp_syncookies"), "net.ipv4.tcp_syncookies");
        assert_eq!(super::normalize("net/ipv4/conf/eth0.100/rp_filter"), "net.ipv4.conf.eth0/100.rp_filter");
        assert_eq!(super::normalize("kernel.shm_rmid_forced"), "kernel.shm_rmid_forced");
    }
}
