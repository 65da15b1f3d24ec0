use std::collections::HashMap;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP316: a binding grants a role to a ServiceAccount the set does not define.
pub struct BindingSubjectNotFound;

static META: Meta = Meta {
    code: "KP316",
    name: "binding-subject-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a RoleBinding or ClusterRoleBinding grants a role to a ServiceAccount that is not in the checked set",
    what: "Reads the `ServiceAccount` subjects of every RoleBinding and ClusterRoleBinding and looks for the \
           ServiceAccount in the subject's namespace (the binding's namespace when a RoleBinding's subject \
           gives none). `default` exists in every namespace and is never reported.",
    why: "A binding to an account that does not exist grants nothing to the pods that need it — they get \
          403 Forbidden — and it silently grants the role to whoever later creates an account with that \
          name. A subject in the wrong namespace is the usual cause. The account may be defined elsewhere, \
          so this is a warning.",
    fix: "Correct the subject's name and namespace to the ServiceAccount the pods run as \
          (`serviceAccountName`), or add that ServiceAccount to the manifests.",
    fail: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: api, namespace: shop }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: api }
subjects:
  - { kind: ServiceAccount, name: api, namespace: default }
  - { kind: ServiceAccount, name: default }
  - { kind: Group, apiGroup: rbac.authorization.k8s.io, name: "oidc:shop-admins" }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: api, namespace: shop }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get] }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: api, namespace: shop }
"#,
    pass: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: api, namespace: shop }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: api }
subjects:
  - { kind: ServiceAccount, name: api, namespace: shop }
  - { kind: ServiceAccount, name: default }
  - { kind: Group, apiGroup: rbac.authorization.k8s.io, name: "oidc:shop-admins" }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: api, namespace: shop }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get] }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: api, namespace: shop }
"#,
};

impl Check for BindingSubjectNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut account_ns: HashMap<&str, Vec<&str>> = HashMap::new();
        for &k in cx.index.of_kind("ServiceAccount") {
            account_ns.entry(cx.objects[k].name.as_str()).or_default().push(cx.objects[k].ns());
        }
        for binding in ["RoleBinding", "ClusterRoleBinding"] {
            for &i in cx.index.of_kind(binding) {
                let o = &cx.objects[i];
                let subjects = o.value.get("subjects").and_then(Value::as_array);
                for (j, s) in subjects.into_iter().flatten().enumerate() {
                    if s.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
                        continue;
                    }
                    let Some(name) = s.get("name").and_then(Value::as_str) else { continue };
                    let ns = match s.get("namespace").and_then(Value::as_str) {
                        Some(ns) if !ns.is_empty() => ns,
                        _ if binding == "RoleBinding" => o.ns(),
                        _ => continue,
                    };
                    if name == "default" || cx.index.get("ServiceAccount", ns, name).is_some() {
                        continue;
                    }
                    let elsewhere = account_ns.get(name).map_or(&[][..], Vec::as_slice);
                    let help = if elsewhere.is_empty() {
                        format!(
                            "unless it is created outside these manifests, the binding grants nothing; add ServiceAccount {name} to namespace {ns}"
                        )
                    } else {
                        format!(
                            "ServiceAccount {name} is in namespace {}; did you mean that namespace?",
                            elsewhere.join(", ")
                        )
                    };
                    let ptr = if s.get("namespace").is_some() {
                        format!("/subjects/{j}/namespace")
                    } else {
                        format!("/subjects/{j}/name")
                    };
                    out.report(
                        i,
                        ptr,
                        format!(
                            "ServiceAccount `{name}` of namespace {ns} is not in the checked set; it may be defined elsewhere"
                        ),
                    )
                    .help(help);
                }
            }
        }
    }
}
