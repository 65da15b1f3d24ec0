//! Group, version and kind: what `apiVersion` and `kind` name, split once
//! here rather than by hand wherever an object's API group matters.

/// An object's group, version and kind (`apps`, `v1`, `Deployment`); the
/// core group is `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Gvk<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
}

impl<'a> Gvk<'a> {
    /// Splits `apiVersion` (`apps/v1`, or `v1` for the core group).
    pub fn new(api_version: &'a str, kind: &'a str) -> Gvk<'a> {
        let (group, version) = split(api_version);
        Gvk { group, version, kind }
    }

    /// Whether the object is of the core group (`apiVersion: v1`).
    pub fn is_core(&self) -> bool {
        self.group.is_empty()
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (`""`, `v1`).
pub fn split(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// Kinds that have no namespace.
pub fn cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "StorageClass"
            | "CustomResourceDefinition"
            | "PriorityClass"
            | "IngressClass"
            | "RuntimeClass"
            | "CSIDriver"
            | "VolumeSnapshotClass"
            | "ValidatingWebhookConfiguration"
            | "MutatingWebhookConfiguration"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
            | "APIService"
            | "PodSecurityPolicy"
            | "ClusterIssuer"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_group_and_version() {
        assert_eq!(Gvk::new("apps/v1", "Deployment"), Gvk { group: "apps", version: "v1", kind: "Deployment" });
        assert_eq!(Gvk::new("v1", "Service"), Gvk { group: "", version: "v1", kind: "Service" });
        assert!(Gvk::new("v1", "Service").is_core());
        assert_eq!(split("networking.istio.io/v1beta1"), ("networking.istio.io", "v1beta1"));
        assert_eq!(split(""), ("", ""));
    }

    #[test]
    fn namespaces_and_cluster_kinds() {
        assert!(cluster_scoped("ClusterRole"));
        assert!(!cluster_scoped("Role"));
    }
}
