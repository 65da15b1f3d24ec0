//! Objects every Kubernetes cluster has before anything is applied: a
//! reference to one of them is never "missing" from a checked set.
//!
//! The RBAC defaults are the API server's bootstrap policy
//! (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy`): the user-facing
//! ClusterRoles, the `system:` ones, and the few namespaced Roles it creates
//! in `kube-system` and `kube-public`.

/// Roles the API server creates in a namespace at start-up, as
/// (namespace, name).
const ROLES: &[(&str, &str)] = &[
    ("kube-system", "extension-apiserver-authentication-reader"),
    ("kube-system", "system::leader-locking-kube-controller-manager"),
    ("kube-system", "system::leader-locking-kube-scheduler"),
    ("kube-system", "system:controller:bootstrap-signer"),
    ("kube-system", "system:controller:cloud-provider"),
    ("kube-system", "system:controller:token-cleaner"),
    ("kube-public", "system:controller:bootstrap-signer"),
];

/// The namespaces every cluster has.
pub const NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Whether an object of `kind` named `name` in `ns` (`""` for cluster-scoped
/// kinds) exists in every cluster.
pub fn exists(kind: &str, ns: &str, name: &str) -> bool {
    match kind {
        "ClusterRole" | "ClusterRoleBinding" => {
            matches!(name, "cluster-admin" | "admin" | "edit" | "view") || name.starts_with("system:")
        }
        "Role" => ROLES.contains(&(ns, name)),
        "Namespace" => NAMESPACES.contains(&name),
        // Every namespace gets its `default` account and the cluster's CA bundle.
        "ServiceAccount" => name == "default",
        "ConfigMap" => name == "kube-root-ca.crt",
        "Service" => ns == "default" && name == "kubernetes",
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::exists;

    #[test]
    fn the_bootstrap_policy_is_known_and_nothing_else() {
        assert!(exists("Role", "kube-system", "extension-apiserver-authentication-reader"));
        assert!(exists("ClusterRole", "", "system:auth-delegator"));
        assert!(exists("ClusterRole", "", "view"));
        assert!(exists("ConfigMap", "shop", "kube-root-ca.crt"));
        // The same name elsewhere, or a look-alike, is not built in.
        assert!(!exists("Role", "monitoring", "extension-apiserver-authentication-reader"));
        assert!(!exists("Role", "kube-system", "extension-apiserver-authentication-writer"));
        assert!(!exists("ClusterRole", "", "viewer"));
        assert!(!exists("Service", "shop", "kubernetes"));
    }
}
