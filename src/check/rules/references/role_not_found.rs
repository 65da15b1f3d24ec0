use std::collections::HashMap;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP315: a binding grants a Role or ClusterRole the set does not define.
pub struct RoleNotFound;

static META: Meta = Meta {
    code: "KP315",
    name: "role-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a RoleBinding or ClusterRoleBinding names a Role or ClusterRole that is not in the checked set",
    what: "Reads `roleRef` of every RoleBinding and ClusterRoleBinding and looks for the Role (in the \
           binding's namespace) or ClusterRole it names. The roles every cluster has (the \
           ClusterRoles `cluster-admin`, `admin`, `edit`, `view` and `system:*`, and the Roles the API server \
           creates in `kube-system` and `kube-public`, such as `extension-apiserver-authentication-reader`) \
           are never reported.",
    why: "A binding to a role that does not exist grants nothing: the workload gets 403 Forbidden from the \
          API server at run time. A Role of another namespace cannot be bound, so a binding in the wrong \
          namespace fails the same way. The role may be defined elsewhere, so this is a warning.",
    fix: "Correct `roleRef.name` or `roleRef.kind`, or add the Role (in the binding's namespace) or \
          ClusterRole to the manifests.",
    fail: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: api, namespace: shop }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: api-reader }
subjects: [{ kind: ServiceAccount, name: api, namespace: shop }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: api-read, namespace: shop }
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
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: api-read }
subjects: [{ kind: ServiceAccount, name: api, namespace: shop }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: api-view, namespace: shop }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects: [{ kind: ServiceAccount, name: api, namespace: shop }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: api-read, namespace: shop }
rules: [{ apiGroups: [""], resources: [configmaps], verbs: [get] }]
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: api, namespace: shop }
"#,
};

impl Check for RoleNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let roles = super::names_by_ns(cx, "Role");
        let mut role_ns: HashMap<&str, Vec<&str>> = HashMap::new();
        for (ns, names) in &roles {
            for name in names {
                role_ns.entry(name).or_default().push(ns);
            }
        }
        let cluster_roles: Vec<&str> =
            cx.index.of_kind("ClusterRole").iter().map(|&j| cx.objects[j].name.as_str()).collect();
        for binding in ["RoleBinding", "ClusterRoleBinding"] {
            for &i in cx.index.of_kind(binding) {
                let o = &cx.objects[i];
                let Some(r) = o.value.get("roleRef") else { continue };
                let (Some(kind), Some(name)) =
                    (r.get("kind").and_then(Value::as_str), r.get("name").and_then(Value::as_str))
                else {
                    continue;
                };
                let ns = if kind == "Role" { o.ns() } else { "" };
                if !matches!(kind, "Role" | "ClusterRole") || crate::model::builtin::exists(kind, ns, name) {
                    continue;
                }
                if cx.index.get(kind, o.ns(), name).is_some() {
                    continue;
                }
                let elsewhere = role_ns.get(name).map_or(&[][..], Vec::as_slice);
                let names: &[&str] =
                    if kind == "Role" { roles.get(o.ns()).map_or(&[][..], Vec::as_slice) } else { &cluster_roles };
                let help = if kind == "Role" && !elsewhere.is_empty() {
                    format!(
                        "a RoleBinding can only bind a Role of its own namespace ({}); Role {name} is in {}",
                        o.ns(),
                        elsewhere.join(", ")
                    )
                } else if let Some(s) = crate::diag::did_you_mean(name, names.iter().copied()) {
                    format!("did you mean `{s}`?")
                } else if kind == "Role" {
                    format!(
                        "unless it is created outside these manifests, the binding grants nothing; add Role {name} to namespace {}",
                        o.ns()
                    )
                } else {
                    format!(
                        "unless it is created outside these manifests, the binding grants nothing; add ClusterRole {name}"
                    )
                };
                let place = if kind == "Role" { format!(" of namespace {}", o.ns()) } else { String::new() };
                out.report(
                    i,
                    "/roleRef/name",
                    format!("{kind} `{name}`{place} is not in the checked set; it may be defined elsewhere"),
                )
                .help(help);
            }
        }
    }
}
