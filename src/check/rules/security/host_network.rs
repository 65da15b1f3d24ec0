use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP105: a pod shares the node's network namespace.
pub struct HostNetwork;

static META: Meta = Meta {
    code: "KP105",
    name: "host-network",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a pod uses the node's network namespace (`hostNetwork: true`)",
    what: "Reports pod templates with `hostNetwork: true`.",
    why: "The pod sees and binds the node's interfaces: it can reach services listening on the node's \
          localhost (the kubelet's read-only port, cloud metadata proxies, other agents), sniff traffic \
          of every pod on the node, and it is not subject to NetworkPolicy, which selects pod IPs. Its \
          ports also collide with anything else on the node. The Pod Security `baseline` level forbids it.",
    fix: "Remove `hostNetwork: true` and expose the pod through a Service. Only node agents (CNI, \
          kube-proxy replacements, node exporters) need it; run those in a namespace reserved for them and \
          ignore the finding there with the reason.",
    fail: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: log-shipper, namespace: logging }
spec:
  selector: { matchLabels: { app: log-shipper } }
  template:
    metadata: { labels: { app: log-shipper } }
    spec:
      serviceAccountName: log-shipper
      automountServiceAccountToken: false
      hostNetwork: true
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: shipper
          image: docker.io/fluent/fluent-bit:3.1.9
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: log-shipper, namespace: logging }
spec:
  selector: { matchLabels: { app: log-shipper } }
  template:
    metadata: { labels: { app: log-shipper } }
    spec:
      serviceAccountName: log-shipper
      automountServiceAccountToken: false
      hostNetwork: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: shipper
          image: docker.io/fluent/fluent-bit:3.1.9
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

impl Check for HostNetwork {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            if pod.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
                out.report(
                    pod.object,
                    pod.field("hostNetwork"),
                    "the pod shares the node's network: it reaches the node's localhost, sees all node traffic and \
                     escapes NetworkPolicy",
                )
                .help("remove `hostNetwork: true` and expose the pod through a Service");
            }
        }
    }
}
