use crate::model::At;
use crate::model::Value;

use super::common::subject;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP123: something is made cluster-admin.
pub struct ClusterAdminBinding;

static META: Meta = Meta {
    code: "KP123",
    name: "cluster-admin-binding",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a ClusterRoleBinding grants `cluster-admin`",
    what: "Reports ClusterRoleBindings whose `roleRef` is the `cluster-admin` ClusterRole, naming the \
           subjects. The built-in binding to the `system:masters` group is not reported.",
    why: "`cluster-admin` can do anything to any object in any namespace: read every Secret, run \
          privileged pods on any node, change RBAC and admission webhooks. Binding it to a \
          ServiceAccount makes every pod running as that account — and everyone who can exec into or \
          create pods in its namespace — an administrator of the cluster.",
    fix: "Write a ClusterRole with the API groups, resources and verbs the subject needs, and bind that; \
          if it only acts in some namespaces, use RoleBindings there instead of a ClusterRoleBinding.",
    fail: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ci-deployer }
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
  - kind: ServiceAccount
    name: deployer
    namespace: ci
"#,
    pass: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: deployer }
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get, list, watch, patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ci-deployer }
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: deployer
subjects:
  - kind: ServiceAccount
    name: deployer
    namespace: ci
"#,
};

impl Check for ClusterAdminBinding {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("ClusterRoleBinding") {
            let o = &cx.objects[i];
            if o.value.at("/roleRef/name").and_then(Value::as_str) != Some("cluster-admin")
                || o.value.at("/roleRef/kind").and_then(Value::as_str) != Some("ClusterRole")
            {
                continue;
            }
            let subjects: Vec<String> = o
                .value
                .get("subjects")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|s| {
                    !(s.get("kind").and_then(Value::as_str) == Some("Group")
                        && s.get("name").and_then(Value::as_str) == Some("system:masters"))
                })
                .map(subject)
                .collect();
            if subjects.is_empty() {
                continue;
            }
            out.report(
                i,
                "/roleRef/name",
                format!("makes {} administrator of the whole cluster (`cluster-admin`)", subjects.join(", ")),
            )
            .help("bind a ClusterRole with only the access needed, or RoleBindings in the namespaces it works in");
        }
    }
}
