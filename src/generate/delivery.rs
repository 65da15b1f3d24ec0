//! Argo CD's order of a sync: with `cluster.delivery: { argocd }`, objects
//! that others need come in earlier sync waves, and Argo CD waits for each
//! wave to be healthy before it applies the next.

use serde_json::Value;

use super::Stack;
use super::jobs::{SYNC_WAVE, annotate};
use crate::description::resolve::Resolved;

/// Namespaces, and the ExternalSecrets whose Secrets every pod reads.
pub const FIRST_WAVE: &str = "-2";
/// Datastores, before the services that use them (wave 0, unannotated) and
/// the release's Jobs (wave 1).
pub const DATASTORE_WAVE: &str = "-1";

/// Sets the sync wave of namespaces, secrets and datastores (the rest stays
/// in wave 0, the Jobs and the Deployments waiting for them later).
pub fn sync_waves(r: &Resolved, stack: &mut Stack) {
    if r.delivery.is_none() {
        return;
    }
    stack.sync_waves = true;
    for o in &mut stack.objects {
        let component = o.value.pointer("/metadata/labels/app.kubernetes.io~1component").and_then(Value::as_str);
        let wave = match (o.kind.as_str(), component) {
            ("Namespace" | "ExternalSecret", _) => FIRST_WAVE,
            // Its StatefulSet, Services, ConfigMaps, policies: all of the datastore.
            (_, Some("datastore")) => DATASTORE_WAVE,
            _ => continue,
        };
        annotate(&mut o.value, SYNC_WAVE, wave);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\n\
        cluster:\n  kubernetes: \"1.30\"\n  secrets: { provider: sealed-secrets }\n  \
        delivery: { argocd: { repo: https://git.example.com/shop.git, path: deploy } }\n\
        services:\n  api: { image: ghcr.io/example/api:1.0.0, port: 8080, uses: [db] }\n\
        datastores:\n  db: { engine: postgres, version: \"16\", storage: 1Gi }\n";

    fn wave(stack: &Stack, kind: &str, name: &str) -> Option<String> {
        let o = stack.objects.iter().find(|o| o.kind == kind && o.name == name).expect("generated");
        o.value
            .pointer("/metadata/annotations/argocd.argoproj.io~1sync-wave")
            .and_then(Value::as_str)
            .map(str::to_string)
    }

    #[test]
    fn namespaces_then_datastores_then_services() {
        let stack = crate::generate::generate(&crate::generate::monitoring::resolved(TEXT));
        assert_eq!(wave(&stack, "Namespace", "shop").as_deref(), Some(FIRST_WAVE));
        assert_eq!(wave(&stack, "StatefulSet", "db").as_deref(), Some(DATASTORE_WAVE));
        assert_eq!(wave(&stack, "Deployment", "api"), None);
    }

    #[test]
    fn no_waves_without_argo_cd() {
        let text =
            TEXT.replace("  delivery: { argocd: { repo: https://git.example.com/shop.git, path: deploy } }\n", "");
        let stack = crate::generate::generate(&crate::generate::monitoring::resolved(&text));
        assert_eq!(wave(&stack, "Namespace", "shop"), None);
        assert_eq!(wave(&stack, "StatefulSet", "db"), None);
    }
}
