use crate::model::At;
use crate::model::Value;

use super::common::{ByField, effective, linux};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pods;

/// KP115: a container runs without AppArmor confinement on purpose.
pub struct ApparmorUnconfined;

const ANNOTATION: &str = "container.apparmor.security.beta.kubernetes.io/";

static META: Meta = Meta {
    code: "KP115",
    name: "apparmor-unconfined",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a container's AppArmor profile is `Unconfined`",
    what: "Reports Linux containers and init containers whose AppArmor profile is `Unconfined`: \
           `appArmorProfile.type` on the container or, where unset, the pod, and the older \
           `container.apparmor.security.beta.kubernetes.io/<container>: unconfined` annotation on the \
           pod template.",
    why: "On nodes with AppArmor (Ubuntu, Debian, COS, Bottlerocket) the runtime's default profile denies \
          mounts, writes to /proc and /sys and other known escape routes; `Unconfined` removes that layer \
          on purpose. The Pod Security `baseline` level forbids it.",
    fix: "Remove the setting (the runtime default applies) or use `appArmorProfile: { type: RuntimeDefault }`; \
          for a specific need, load a `Localhost` profile on the nodes.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: sandbox, namespace: labs }
spec:
  selector: { matchLabels: { app: sandbox } }
  template:
    metadata:
      labels: { app: sandbox }
      annotations:
        container.apparmor.security.beta.kubernetes.io/agent: unconfined
    spec:
      serviceAccountName: sandbox
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
        appArmorProfile: { type: RuntimeDefault }
      containers:
        - name: runner
          image: ghcr.io/example/code-runner:0.7.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
            appArmorProfile: { type: Unconfined }
        - name: agent
          image: ghcr.io/example/runner-agent:0.7.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: sandbox, namespace: labs }
spec:
  selector: { matchLabels: { app: sandbox } }
  template:
    metadata:
      labels: { app: sandbox }
    spec:
      serviceAccountName: sandbox
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
        appArmorProfile: { type: RuntimeDefault }
      containers:
        - name: runner
          image: ghcr.io/example/code-runner:0.7.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
            appArmorProfile: { type: Localhost, localhostProfile: k8s-code-runner }
        - name: agent
          image: ghcr.io/example/runner-agent:0.7.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

impl Check for ApparmorUnconfined {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut found = ByField::default();
        for pod in cx.pods().filter(|p| linux(p)) {
            let o = &cx.objects[pod.object];
            let annotations =
                pods::template_pointers(&o.kind).map(|(_, labels)| labels.replace("/labels", "/annotations"));
            for c in pod.containers() {
                if let Some(s) = effective(&pod, &c, "/appArmorProfile/type")
                    && s.value.as_str() == Some("Unconfined")
                {
                    let message = if s.from_pod {
                        "the pod's AppArmor profile `Unconfined` turns AppArmor off for {who}"
                    } else {
                        "AppArmor profile `Unconfined` turns AppArmor off for {who}"
                    };
                    found.add(
                        pod.object,
                        s.pointer,
                        &c,
                        message,
                        "remove it, or use `appArmorProfile: { type: RuntimeDefault }`",
                    );
                }
                let Some(annotations) = &annotations else { continue };
                let key = format!("{ANNOTATION}{}", c.name());
                let pointer = format!("{annotations}/{}", crate::model::pointer::escape(&key));
                if o.value.at(&pointer).and_then(Value::as_str) == Some("unconfined") {
                    found.add(
                        pod.object,
                        pointer,
                        &c,
                        "annotation `unconfined` turns AppArmor off for {who}",
                        "remove the annotation (the runtime's default profile then applies)",
                    );
                }
            }
        }
        found.report(out);
    }
}
