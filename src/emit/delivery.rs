//! The GitOps objects of `cluster.delivery`, under `delivery/`: per
//! environment, an Argo CD Application syncing its overlay
//! (`delivery/argocd/ENV.yaml`), applied to Argo CD's namespace once; Argo
//! CD then follows the git repository, in the sync waves of the objects
//! ([`crate::generate::delivery`]).

use serde_json::{Value, json};

use super::files::Tree;
use super::{header, to_yaml};
use crate::description::delivery::DeliveryR;
use crate::generate::Stack;

pub const ARGOCD_API: &str = "argoproj.io/v1alpha1";

/// Writes `delivery/` for every environment of `envs`.
pub fn emit(
    d: &DeliveryR,
    platform: &str,
    envs: &[(String, Stack)],
    source: &str,
    tree: &mut Tree,
) -> Result<(), crate::Error> {
    for (env, _) in envs {
        let app = application(d, platform, env);
        tree.insert(format!("delivery/argocd/{env}.yaml"), format!("{}{}", header(source), to_yaml(&app)?));
    }
    Ok(())
}

/// A path of the output folder as the controller sees it in the repository.
fn repo_path(d: &DeliveryR, rel: &str) -> String {
    if d.path == "." { rel.to_string() } else { format!("{}/{rel}", d.path) }
}

fn labels(platform: &str) -> Value {
    json!({ "app.kubernetes.io/part-of": platform, "app.kubernetes.io/managed-by": crate::generate::MANAGED_BY })
}

/// The Application of one environment: the overlay, synced automatically,
/// pruned and healed, retried with a backoff. Objects keep their own
/// namespaces (the destination names none).
fn application(d: &DeliveryR, platform: &str, env: &str) -> Value {
    json!({
        "apiVersion": ARGOCD_API,
        "kind": "Application",
        "metadata": {
            "name": format!("{platform}-{env}"),
            "namespace": d.namespace,
            "labels": labels(platform),
            // Deleting the Application deletes what it synced.
            "finalizers": ["resources-finalizer.argocd.argoproj.io"],
        },
        "spec": {
            "project": "default",
            "source": {
                "repoURL": d.repo,
                "targetRevision": d.revision,
                "path": repo_path(d, &format!("kustomize/overlays/{env}")),
            },
            "destination": { "server": "https://kubernetes.default.svc" },
            "syncPolicy": {
                "automated": { "prune": true, "selfHeal": true },
                // Pruned objects go after the new ones are healthy.
                "syncOptions": ["PruneLast=true"],
                "retry": { "limit": 5, "backoff": { "duration": "10s", "factor": 2, "maxDuration": "3m" } },
            },
        },
    })
}
