//! Argo CD's order of a sync: with `cluster.delivery: { argocd }`, objects
//! that others need come in earlier sync waves, and Argo CD waits for each
//! wave to be healthy before it applies the next.

use serde_json::Value;

use super::jobs::{SYNC_WAVE, annotate};
use super::{Object, Stack};
use crate::description::delivery::Tool;
use crate::description::resolve::Resolved;

/// Namespaces, and the ExternalSecrets whose Secrets every pod reads.
pub const FIRST_WAVE: &str = "-2";
/// Datastores, before the services that use them (wave 0, unannotated) and
/// the release's Jobs (wave 1).
pub const DATASTORE_WAVE: &str = "-1";

/// Sets the sync wave of namespaces, secrets and datastores (the rest stays
/// in wave 0, the Jobs and the Deployments waiting for them later).
pub fn sync_waves(r: &Resolved, stack: &mut Stack) {
    if r.delivery.as_ref().is_none_or(|d| d.tool != Tool::ArgoCd) {
        return;
    }
    stack.sync_waves = true;
    for o in &mut stack.objects {
        if let Some(wave) = early_wave(o) {
            annotate(&mut o.value, SYNC_WAVE, wave);
        }
    }
}

/// The wave of what others need before they start: namespaces and
/// ExternalSecrets, then the datastores (all of a datastore: its
/// StatefulSet, Services, ConfigMaps, policies); `None` for the rest. Flux's
/// foundation stage (written by the emitter) is the objects with one.
pub fn early_wave(o: &Object) -> Option<&'static str> {
    let component = o.value.pointer("/metadata/labels/app.kubernetes.io~1component").and_then(Value::as_str);
    match (o.kind.as_str(), component) {
        ("Namespace" | "ExternalSecret", _) => Some(FIRST_WAVE),
        (_, Some("datastore")) => Some(DATASTORE_WAVE),
        _ => None,
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
        // Flux orders by its two stages, not by annotations.
        let flux = TEXT.replace("argocd:", "flux:");
        let stack = crate::generate::generate(&crate::generate::monitoring::resolved(&flux));
        assert!(!stack.sync_waves);
        assert_eq!(wave(&stack, "StatefulSet", "db"), None);
    }
}
