use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP126: a Namespace without Pod Security admission enforcement.
pub struct NamespaceWithoutPodSecurity;

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";

static META: Meta = Meta {
    code: "KP126",
    name: "namespace-without-pod-security",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Info,
    summary: "a Namespace has no `pod-security.kubernetes.io/enforce` label",
    what: "Reports Namespace objects without the `pod-security.kubernetes.io/enforce` label, and with a \
           value that is not a Pod Security level (`privileged`, `baseline`, `restricted`). The \
           `kube-system`, `kube-public` and `kube-node-lease` namespaces are skipped. It is info, not a \
           warning, because many clusters enforce pod security another way this check cannot see — a \
           cluster-wide AdmissionConfiguration default, Kyverno or Gatekeeper policies.",
    why: "The checks of this family look at the manifests in front of them; the Pod Security admission \
          label makes the API server refuse, in this namespace, any later pod that breaks the level — \
          from a hotfix `kubectl run`, a chart upgrade or a compromised CI token. Without it (and without \
          a cluster default) the namespace accepts privileged pods.",
    fix: "Label the namespace `pod-security.kubernetes.io/enforce: restricted` (or `baseline` for \
          workloads that cannot meet restricted yet), with `enforce-version` pinned to your cluster's \
          minor version and the same level in `warn` and `audit`.",
    fail: r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    team: checkout
"#,
    pass: r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    team: checkout
    pod-security.kubernetes.io/enforce: restricted
    pod-security.kubernetes.io/enforce-version: v1.30
    pod-security.kubernetes.io/warn: restricted
    pod-security.kubernetes.io/audit: restricted
"#,
};

impl Check for NamespaceWithoutPodSecurity {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("Namespace") {
            let o = &cx.objects[i];
            if matches!(o.name.as_str(), "kube-system" | "kube-public" | "kube-node-lease") {
                continue;
            }
            match o.labels().and_then(|l| l.get(ENFORCE)).map(|v| v.as_str()) {
                Some(Some("privileged" | "baseline" | "restricted")) => {}
                Some(value) => {
                    let pointer = format!("/metadata/labels/{}", crate::model::pointer::escape(ENFORCE));
                    out.report(
                        i,
                        pointer,
                        format!("`{ENFORCE}: {}` is not a Pod Security level", value.unwrap_or("?")),
                    )
                    .help("use `restricted`, `baseline` or `privileged`");
                }
                None => {
                    let pointer = if o.labels().is_some() { "/metadata/labels" } else { "/metadata/name" };
                    out.report(
                        i,
                        pointer,
                        "no Pod Security level is enforced by label: unless the cluster sets a \
                         default, the namespace admits privileged pods",
                    )
                    .help(format!("add the label `{ENFORCE}: restricted` (or `baseline`)"));
                }
            }
        }
    }
}
