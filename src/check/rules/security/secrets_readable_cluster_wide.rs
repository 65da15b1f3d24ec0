use crate::model::At;
use crate::model::Value;

use super::common::{rules, strings, subject};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP124: a ClusterRoleBinding lets its subjects read every Secret.
pub struct SecretsReadableClusterWide;

static META: Meta = Meta {
    code: "KP124",
    name: "secrets-readable-cluster-wide",
    family: Family::Security,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a ClusterRoleBinding lets its subjects read Secrets in every namespace",
    what: "Follows each ClusterRoleBinding to its ClusterRole (in the checked manifests, including the \
           ClusterRoles an aggregated one selects; or the built-in `admin` and `edit`) and reports it when a \
           rule allows `get`, `list` or `watch` (or `*`) on `secrets` (or `*`) in the core group, without \
           `resourceNames`. Bindings to `cluster-admin` are KP123's.",
    why: "Secrets hold database passwords, TLS keys, cloud credentials and, in older clusters, \
          ServiceAccount tokens of every namespace: whoever can list them cluster-wide can become almost \
          anyone. `list` and `watch` return the values, not just the names. Controllers that need this \
          (cert-manager, external-secrets) are exactly the pods to keep this visible for.",
    fix: "Bind the ClusterRole with RoleBindings in the namespaces that hold the Secrets the subject needs, \
          or restrict the rule with `resourceNames`; if cluster-wide access is really the job (a secrets \
          operator), ignore the finding on the binding with that reason.",
    fail: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: config-sync }
rules:
  - apiGroups: [""]
    resources: [configmaps, secrets]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: config-sync }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: config-sync }
subjects:
  - { kind: ServiceAccount, name: config-sync, namespace: platform }
"#,
    pass: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: config-sync }
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [secrets]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: config-sync, namespace: shop }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: config-sync }
subjects:
  - { kind: ServiceAccount, name: config-sync, namespace: platform }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: config-watch }
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [config-sync-token]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: config-watch }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: config-watch }
subjects:
  - { kind: ServiceAccount, name: config-sync, namespace: platform }
"#,
};

/// Whether a rule lets its holder read Secret values.
fn reads_secrets(rule: &Value) -> bool {
    let groups = strings(rule, "apiGroups");
    let resources = strings(rule, "resources");
    let verbs = strings(rule, "verbs");
    let names = strings(rule, "resourceNames");
    groups.iter().any(|g| g.is_empty() || *g == "*")
        && resources.iter().any(|r| *r == "secrets" || *r == "*")
        && verbs.iter().any(|v| matches!(*v, "get" | "list" | "watch" | "*"))
        && names.is_empty()
}

impl Check for SecretsReadableClusterWide {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("ClusterRoleBinding") {
            let o = &cx.objects[i];
            if o.value.at("/roleRef/kind").and_then(Value::as_str) != Some("ClusterRole") {
                continue;
            }
            let Some(role) = o.value.at("/roleRef/name").and_then(Value::as_str) else { continue };
            let subjects: Vec<String> =
                o.value.get("subjects").and_then(Value::as_array).into_iter().flatten().map(subject).collect();
            if subjects.is_empty() || role == "cluster-admin" {
                continue;
            }
            let rule_at = match cx.index.get("ClusterRole", "", role) {
                Some(r) => match rules(cx, r).into_iter().find(|(_, _, rule)| reads_secrets(rule)) {
                    Some((obj, pointer, _)) => {
                        let ro = &cx.objects[obj];
                        format!("the rule is at {}:{}", cx.source_name(ro.source), ro.pos(&pointer).line)
                    }
                    None => continue,
                },
                None if role == "admin" || role == "edit" => format!("the built-in `{role}` role reads Secrets"),
                None => continue,
            };
            out.report(
                i,
                "/roleRef/name",
                format!("lets {} read Secrets in every namespace through ClusterRole `{role}`", subjects.join(", ")),
            )
            .help(format!(
                "{rule_at}; bind it with RoleBindings in the namespaces that need it, or restrict the rule with \
                 `resourceNames`"
            ));
        }
    }
}
