//! The GitOps objects of `cluster.delivery`, under `delivery/`: per
//! environment, an Argo CD Application syncing its overlay
//! (`delivery/argocd/ENV.yaml`), or a Flux GitRepository and Kustomizations
//! (`delivery/flux/ENV.yaml`), applied to the controller's namespace once;
//! the controller then follows the git repository.
//!
//! Order: Argo CD applies the sync waves of the objects
//! ([`crate::generate::delivery`]). Flux applies a Kustomization in one go
//! (CRDs and Namespaces first), so the overlay is split in two stages:
//! `delivery/flux/ENV/foundation` (what has an early wave: namespaces,
//! ExternalSecrets or SealedSecrets, datastores) and
//! `delivery/flux/ENV/services` (the rest), each a kustomization of the
//! overlay that deletes the other's objects. The services' Kustomization
//! depends on the foundation's, which waits for its objects to be healthy.

use serde_json::{Value, json};

use super::files::Tree;
use super::{header, to_yaml};
use crate::description::delivery::{DeliveryR, SecretsMode, Tool};
use crate::generate::Stack;

pub const ARGOCD_API: &str = "argoproj.io/v1alpha1";
pub const FLUX_KUSTOMIZE_API: &str = "kustomize.toolkit.fluxcd.io/v1";
pub const FLUX_SOURCE_API: &str = "source.toolkit.fluxcd.io/v1";

/// Writes `delivery/` for every environment of `envs`.
pub fn emit(
    d: &DeliveryR,
    platform: &str,
    envs: &[(String, Stack)],
    source: &str,
    tree: &mut Tree,
) -> Result<(), crate::Error> {
    for (env, stack) in envs {
        if d.tool == Tool::ArgoCd {
            let app = application(d, platform, env);
            tree.insert(format!("delivery/argocd/{env}.yaml"), format!("{}{}", header(source), to_yaml(&app)?));
            continue;
        }
        let docs = [git_repository(d, platform, env), foundation(d, platform, env), services(d, platform, env)];
        let mut text = header(source);
        for (i, doc) in docs.iter().enumerate() {
            if i > 0 {
                text += "---\n";
            }
            text += &to_yaml(doc)?;
        }
        tree.insert(format!("delivery/flux/{env}.yaml"), text);
        for (stage, keep) in [("foundation", true), ("services", false)] {
            let k = stage_kustomization(env, stack, keep)?;
            tree.insert(format!("delivery/flux/{env}/{stage}/kustomization.yaml"), format!("{}{k}", header(source)));
        }
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

fn git_repository(d: &DeliveryR, platform: &str, env: &str) -> Value {
    json!({
        "apiVersion": FLUX_SOURCE_API,
        "kind": "GitRepository",
        "metadata": { "name": format!("{platform}-{env}"), "namespace": d.namespace, "labels": labels(platform) },
        "spec": { "interval": "1m", "url": d.repo, "ref": git_ref(&d.revision) },
    })
}

/// A revision as Flux's `ref`: a full reference (`refs/tags/v1`), a commit
/// (40 hex digits) or a branch.
fn git_ref(revision: &str) -> Value {
    if revision.starts_with("refs/") {
        json!({ "name": revision })
    } else if revision.len() == 40 && revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        json!({ "commit": revision })
    } else {
        json!({ "branch": revision })
    }
}

fn kustomization(d: &DeliveryR, platform: &str, env: &str, name: &str, stage: &str) -> Value {
    json!({
        "apiVersion": FLUX_KUSTOMIZE_API,
        "kind": "Kustomization",
        "metadata": { "name": name, "namespace": d.namespace, "labels": labels(platform) },
        "spec": {
            "interval": "10m",
            "retryInterval": "1m",
            "timeout": "10m",
            "sourceRef": { "kind": "GitRepository", "name": format!("{platform}-{env}") },
            "path": format!("./{}", repo_path(d, &format!("delivery/flux/{env}/{stage}"))),
            "prune": true,
            // Ready only once every object it applied is healthy: the health check.
            "wait": true,
        },
    })
}

/// Namespaces, Secrets and datastores, waited for.
fn foundation(d: &DeliveryR, platform: &str, env: &str) -> Value {
    kustomization(d, platform, env, &format!("{platform}-{env}-foundation"), "foundation")
}

/// The rest, once the foundation is healthy.
fn services(d: &DeliveryR, platform: &str, env: &str) -> Value {
    let mut k = kustomization(d, platform, env, &format!("{platform}-{env}"), "services");
    k["spec"]["dependsOn"] = json!([{ "name": format!("{platform}-{env}-foundation") }]);
    k
}

/// One stage: the overlay, less the other stage's objects.
fn stage_kustomization(env: &str, stack: &Stack, foundation: bool) -> Result<String, crate::Error> {
    let mut patches = Vec::new();
    let mut delete = |api_version: &str, kind: &str, name: &str, namespace: Option<&str>| -> Result<(), crate::Error> {
        let (group, version) = crate::model::gvk::split(api_version);
        let mut meta = json!({ "name": name });
        let mut target = json!({ "version": version, "kind": kind, "name": name });
        if !group.is_empty() {
            target["group"] = json!(group);
        }
        if let Some(ns) = namespace {
            meta["namespace"] = json!(ns);
            target["namespace"] = json!(ns);
        }
        let patch = json!({ "$patch": "delete", "apiVersion": api_version, "kind": kind, "metadata": meta });
        patches.push(json!({ "patch": to_yaml(&patch)?, "target": target }));
        Ok(())
    };
    let early = |o: &crate::generate::Object| crate::generate::delivery::early_wave(o).is_some();
    for o in stack.objects.iter().filter(|o| early(o) != foundation) {
        delete(&o.api_version, &o.kind, &o.name, o.namespace.as_deref())?;
    }
    // The SealedSecrets the overlay lists belong to the foundation.
    if !foundation && stack.secrets_mode == SecretsMode::Sealed {
        for s in &stack.secrets {
            delete("bitnami.com/v1alpha1", "SealedSecret", &s.name, Some(&s.namespace))?;
        }
    }
    let mut k = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [format!("../../../../kustomize/overlays/{env}")],
    });
    if !patches.is_empty() {
        k["patches"] = Value::Array(patches);
    }
    to_yaml(&k)
}
