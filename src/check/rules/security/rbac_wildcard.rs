use crate::model::Value;

use super::common::strings;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP122: an RBAC rule with `*` verbs, resources or API groups.
pub struct RbacWildcard;

static META: Meta = Meta {
    code: "KP122",
    name: "rbac-wildcard",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a Role or ClusterRole rule uses `*` for verbs, resources or API groups",
    what: "Reports rules of Roles and ClusterRoles whose `verbs`, `resources` or `apiGroups` contain `*`, \
           once per rule at its first wildcard, listing them all. Aggregated ClusterRoles \
           (`aggregationRule`) are skipped: their rules are filled in by the control plane.",
    why: "A wildcard grants everything that exists now and everything added later: `verbs: [\"*\"]` includes \
          `escalate`, `bind` and `impersonate`, `resources: [\"*\"]` includes secrets, pods/exec and the \
          RBAC objects themselves, and `apiGroups: [\"*\"]` includes every CRD installed in the future. A \
          rule with all three is full admin of its namespace (Role) or of the cluster (ClusterRole).",
    fix: "List the API groups, resources and verbs the workload uses (`kubectl auth can-i --list --as \
          system:serviceaccount:NS:NAME` and the audit log show what it calls).",
    fail: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: deployer }
rules:
  - apiGroups: ["*"]
    resources: ["*"]
    verbs: ["*"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: config-reader, namespace: shop }
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: ["*"]
"#,
    pass: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: deployer }
rules:
  - apiGroups: [apps]
    resources: [deployments, statefulsets]
    verbs: [get, list, watch, create, update, patch]
  - apiGroups: [""]
    resources: [services, configmaps]
    verbs: [get, list, watch, create, update, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: monitoring }
aggregationRule:
  clusterRoleSelectors:
    - matchLabels: { rbac.example.com/aggregate-to-monitoring: "true" }
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: config-reader, namespace: shop }
rules:
  - apiGroups: [""]
    resources: [configmaps]
    verbs: [get, list, watch]
"#,
};

impl Check for RbacWildcard {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for kind in ["Role", "ClusterRole"] {
            for &i in cx.index.of_kind(kind) {
                let o = &cx.objects[i];
                if o.value.get("aggregationRule").is_some_and(|a| !a.is_null()) {
                    continue;
                }
                let rules = o.value.get("rules").and_then(Value::as_array).unwrap_or_default();
                for (r, rule) in rules.iter().enumerate() {
                    let mut wild = Vec::new();
                    let mut first = None;
                    for (field, what) in
                        [("verbs", "every verb"), ("resources", "every resource"), ("apiGroups", "every API group")]
                    {
                        if let Some(j) = strings(rule, field).iter().position(|v| *v == "*") {
                            wild.push(what);
                            first.get_or_insert(format!("/rules/{r}/{field}/{j}"));
                        }
                    }
                    let Some(pointer) = first else { continue };
                    let scope = if kind == "Role" { "its namespace" } else { "the cluster" };
                    let message = if wild.len() == 3 {
                        format!("rule {} grants every verb on every resource: full admin of {scope}", r + 1)
                    } else {
                        format!(
                            "rule {} uses a wildcard: it grants {}, including ones added later",
                            r + 1,
                            wild.join(" and ")
                        )
                    };
                    out.report(i, pointer, message).help("list the API groups, resources and verbs the workload uses");
                }
            }
        }
    }
}
