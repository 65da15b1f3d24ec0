use crate::model::Value;

use super::common::{anchor, label, linux, privileged};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP111: a container keeps the runtime's default capabilities.
pub struct CapabilitiesNotDropped;

static META: Meta = Meta {
    code: "KP111",
    name: "capabilities-not-dropped",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a container does not drop ALL capabilities",
    what: "Reports Linux containers and init containers whose `securityContext.capabilities.drop` does not \
           contain `ALL`. Privileged containers are left to KP101 (dropping changes nothing for them).",
    why: "Without `drop: [ALL]` the container keeps the runtime's default set — CHOWN, DAC_OVERRIDE, \
          FOWNER, SETUID, SETGID, NET_RAW, KILL, MKNOD and more. NET_RAW alone allows ARP and DNS spoofing \
          of neighbouring pods; the others turn any root foothold into write access to every file in the \
          container and its volumes. Applications rarely need any of them. The Pod Security `restricted` \
          level requires dropping ALL.",
    fix: "Add `capabilities: { drop: [ALL] }` to each container's `securityContext`, and add back only what \
          the process needs (usually nothing, sometimes NET_BIND_SERVICE).",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [NET_RAW] }
        - name: proxy
          image: docker.io/envoyproxy/envoy:v1.31.2
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              add: [NET_BIND_SERVICE]
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
        - name: proxy
          image: docker.io/envoyproxy/envoy:v1.31.2
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: [ALL]
              add: [NET_BIND_SERVICE]
"#,
};

impl Check for CapabilitiesNotDropped {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods().filter(|p| linux(p)) {
            for c in pod.containers() {
                if privileged(&c) {
                    continue;
                }
                let drop = c.get("/securityContext/capabilities/drop");
                let drops_all = drop
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .any(|d| d.trim().eq_ignore_ascii_case("ALL") || d.trim().eq_ignore_ascii_case("CAP_ALL"));
                if drops_all {
                    continue;
                }
                let pointer = if drop.is_some() {
                    c.field("/securityContext/capabilities/drop")
                } else if c.get("/securityContext/capabilities").is_some() {
                    c.field("/securityContext/capabilities")
                } else {
                    anchor(&c)
                };
                out.report(
                    pod.object,
                    pointer,
                    format!(
                        "{} keeps the runtime's default capabilities (NET_RAW, SETUID, CHOWN…): it does not drop ALL",
                        label(&c)
                    ),
                )
                .help("set `capabilities: { drop: [ALL] }` and add back only what the process needs");
            }
        }
    }
}
