use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP125: an RBAC binding to every user, anonymous users or every ServiceAccount.
pub struct RbacGrantsEveryone;

static META: Meta = Meta {
    code: "KP125",
    name: "rbac-grants-everyone",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a RoleBinding or ClusterRoleBinding grants a role to anonymous users, every user or every ServiceAccount",
    what: "Reports RoleBinding and ClusterRoleBinding subjects `system:anonymous`, `system:unauthenticated`, \
           `system:authenticated` and `system:serviceaccounts` (every ServiceAccount of the cluster). \
           Bindings to the built-in `system:` roles (discovery, public info, OIDC discovery) are not \
           reported.",
    why: "`system:unauthenticated` and `system:anonymous` are anyone who can reach the API server, \
          `system:authenticated` is every user and every ServiceAccount token of every namespace, and \
          `system:serviceaccounts` is every pod that mounts a token: whatever the role allows, an intruder \
          in any pod (or on the network) gets it.",
    fix: "Bind the role to the specific users, groups or ServiceAccounts that need it.",
    fail: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: dashboard-viewers }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:authenticated" }
"#,
    pass: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: dashboard-viewers }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: Group, name: "sre@example.com" }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: oidc-discovery }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:service-account-issuer-discovery" }
subjects:
  - { apiGroup: rbac.authorization.k8s.io, kind: Group, name: "system:unauthenticated" }
"#,
};

impl Check for RbacGrantsEveryone {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for kind in ["RoleBinding", "ClusterRoleBinding"] {
            for &i in cx.index.of_kind(kind) {
                let o = &cx.objects[i];
                let role = o.value.at("/roleRef/name").and_then(Value::as_str).unwrap_or("?");
                if role.starts_with("system:") {
                    continue;
                }
                let subjects = o.value.get("subjects").and_then(Value::as_array).unwrap_or_default();
                for (j, s) in subjects.iter().enumerate() {
                    let name = s.get("name").and_then(Value::as_str).unwrap_or("");
                    let who = match (s.get("kind").and_then(Value::as_str), name) {
                        (Some("User"), "system:anonymous") | (Some("Group"), "system:unauthenticated") => {
                            "anyone who can reach the API server, without credentials"
                        }
                        (Some("Group"), "system:authenticated") => "every user and every ServiceAccount of the cluster",
                        (Some("Group"), "system:serviceaccounts") => "every ServiceAccount of every namespace",
                        _ => continue,
                    };
                    let scope =
                        if kind == "RoleBinding" { format!(" in namespace `{}`", o.ns()) } else { String::new() };
                    out.report(
                        i,
                        format!("/subjects/{j}/name"),
                        format!("grants role `{role}`{scope} to `{name}`: {who}"),
                    )
                    .help("bind the role to the specific users, groups or ServiceAccounts that need it");
                }
            }
        }
    }
}
