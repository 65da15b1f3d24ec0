//! How the stack reaches a cluster: where Secret values come from
//! (`cluster.secrets`) and which GitOps controller syncs the overlays
//! (`cluster.delivery`).

use std::path::Path;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::Name;
use super::value::pos_of;
use crate::diag::Diagnostic;

/// Where the values of the Secrets the stack references come from.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secrets {
    /// `env` (default): each overlay's secretGenerator reads git-ignored
    /// `secrets/*.env` files. `external-secrets`: an ExternalSecret per
    /// Secret reads the values from `store`. `sealed-secrets`: each overlay
    /// lists a SealedSecret per Secret under `sealed-secrets/`, sealed with
    /// `kubeseal` from the same env files.
    #[schemars(with = "SecretsProvider")]
    pub provider: Spanned<SecretsProvider>,
    /// external-secrets: the name of the store the ExternalSecrets read from
    /// (installed apart, with the credentials of the secret manager).
    pub store: Option<Name>,
    /// external-secrets: `ClusterSecretStore` (default) or `SecretStore` (one
    /// of that name in every namespace that holds Secrets).
    pub store_kind: Option<StoreKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SecretsProvider {
    Env,
    ExternalSecrets,
    SealedSecrets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum StoreKind {
    ClusterSecretStore,
    SecretStore,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::ClusterSecretStore => "ClusterSecretStore",
            StoreKind::SecretStore => "SecretStore",
        }
    }
}

/// The GitOps controller that syncs each environment's overlay from git:
/// exactly one of `argocd` and `flux`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Delivery {
    /// One Argo CD Application per environment, written to `delivery/argocd/ENV.yaml`.
    pub argocd: Option<GitOps>,
    /// A Flux GitRepository and two Kustomizations per environment (the
    /// foundation, then the services), written to `delivery/flux/ENV.yaml`.
    pub flux: Option<GitOps>,
}

/// Where the generated stack is in git, and where the controller runs.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GitOps {
    /// The git repository holding the output of `gen` (an `https://` or `ssh://` URL).
    #[schemars(with = "String")]
    pub repo: Spanned<String>,
    /// The branch, tag or commit synced (default `main`).
    pub revision: Option<String>,
    /// The folder `gen` writes to, relative to the repository's root (e.g. `deploy`).
    #[schemars(with = "String")]
    pub path: Spanned<String>,
    /// The controller's namespace, where its objects go (default `argocd`
    /// for Argo CD, `flux-system` for Flux).
    pub namespace: Option<Name>,
}

/// The secrets provider as the generators read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretsMode {
    #[default]
    Env,
    External {
        store: String,
        kind: StoreKind,
    },
    Sealed,
}

/// The GitOps controller as the generators and emitters read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryR {
    pub tool: Tool,
    pub repo: String,
    pub revision: String,
    /// The output folder in the repository, without leading `./` or trailing `/`.
    pub path: String,
    pub namespace: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    ArgoCd,
    Flux,
}

/// `cluster.secrets` resolved (checked by `check` first).
pub fn secrets_mode(s: Option<&Secrets>) -> SecretsMode {
    match s {
        None => SecretsMode::Env,
        Some(s) => match s.provider.value {
            SecretsProvider::Env => SecretsMode::Env,
            SecretsProvider::SealedSecrets => SecretsMode::Sealed,
            SecretsProvider::ExternalSecrets => SecretsMode::External {
                store: s.store.as_ref().map(|n| n.to_string()).unwrap_or_default(),
                kind: s.store_kind.unwrap_or(StoreKind::ClusterSecretStore),
            },
        },
    }
}

/// `cluster.delivery` resolved (checked by `check` first).
pub fn delivery(d: Option<&Spanned<Delivery>>) -> Option<DeliveryR> {
    let d = &d?.value;
    let (tool, g, ns) = match (&d.argocd, &d.flux) {
        (Some(g), _) => (Tool::ArgoCd, g, "argocd"),
        (None, Some(g)) => (Tool::Flux, g, "flux-system"),
        (None, None) => return None,
    };
    Some(DeliveryR {
        tool,
        repo: g.repo.value.clone(),
        revision: g.revision.clone().unwrap_or_else(|| "main".into()),
        path: clean_path(&g.path.value),
        namespace: g.namespace.as_ref().map_or_else(|| ns.to_string(), |n| n.to_string()),
    })
}

fn clean_path(p: &str) -> String {
    let p = p.trim_start_matches("./").trim_matches('/');
    if p.is_empty() { ".".into() } else { p.into() }
}

/// Errors in `cluster.secrets` and `cluster.delivery`, each at its place.
pub(super) fn check(secrets: Option<&Secrets>, delivery: Option<&Spanned<Delivery>>, file: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let provider = secrets.map(|s| s.provider.value);
    if let Some(s) = secrets {
        let at = pos_of(&s.provider.referenced);
        match (s.provider.value, &s.store) {
            (SecretsProvider::ExternalSecrets, None) => {
                out.push(Diagnostic::error(file, at, "`provider: external-secrets` needs `store`").with_help(
                    "name the ClusterSecretStore (or SecretStore, with `storeKind`) the ExternalSecrets read from",
                ))
            }
            (SecretsProvider::ExternalSecrets, Some(store)) if !crate::model::is_label(store) => {
                out.push(Diagnostic::error(file, store.pos(), format!("invalid store name `{store}`")).with_help(
                    "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
                ))
            }
            (SecretsProvider::ExternalSecrets, Some(_)) => {}
            (_, Some(store)) => out.push(
                Diagnostic::error(file, store.pos(), "`store` is read only with `provider: external-secrets`")
                    .with_help("remove it, or write `provider: external-secrets`"),
            ),
            (_, None) if s.store_kind.is_some() => out.push(
                Diagnostic::error(file, at, "`storeKind` is read only with `provider: external-secrets`")
                    .with_help("remove it, or write `provider: external-secrets`"),
            ),
            (_, None) => {}
        }
    }
    let Some(spanned) = delivery else { return out };
    let d = &spanned.value;
    let gitops = match (&d.argocd, &d.flux) {
        (Some(_), Some(f)) => {
            out.push(
                Diagnostic::error(file, pos_of(&f.repo.referenced), "`delivery` names both `argocd` and `flux`")
                    .with_help("one controller syncs the stack: keep one of them"),
            );
            return out;
        }
        (Some(g), None) | (None, Some(g)) => g,
        (None, None) => {
            out.push(
                Diagnostic::error(file, pos_of(&spanned.referenced), "`delivery` names no controller")
                    .with_help("write `delivery: { argocd: { repo: …, path: … } }` or `{ flux: { … } }`"),
            );
            return out;
        }
    };
    let repo = &gitops.repo.value;
    if d.flux.is_some() && repo.starts_with("git@") {
        // Flux's GitRepository takes URLs only.
        out.push(
            Diagnostic::error(file, pos_of(&gitops.repo.referenced), format!("Flux reads `repo: {repo}` as no URL"))
                .with_help("write it as `ssh://git@HOST/PATH`"),
        );
    } else if !["https://", "http://", "ssh://", "git@"].iter().any(|p| repo.starts_with(p)) {
        out.push(
            Diagnostic::error(file, pos_of(&gitops.repo.referenced), format!("`repo: {repo}` is not a git URL"))
                .with_help("write the repository's `https://…` or `ssh://…` address"),
        );
    }
    let path = &gitops.path.value;
    if path.starts_with('/') || path.split('/').any(|s| s == "..") {
        out.push(
            Diagnostic::error(
                file,
                pos_of(&gitops.path.referenced),
                format!("`path: {path}` is not inside the repository"),
            )
            .with_help("write the folder `gen` writes to, relative to the repository's root, e.g. `deploy`"),
        );
    }
    if let Some(ns) = &gitops.namespace
        && !crate::model::is_label(ns)
    {
        out.push(Diagnostic::error(file, ns.pos(), format!("invalid namespace `{ns}`")).with_help(
            "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
        ));
    }
    // The controller builds each overlay from git, where the env files are not.
    if matches!(provider, None | Some(SecretsProvider::Env)) {
        let at = secrets.map_or(pos_of(&gitops.repo.referenced), |s| pos_of(&s.provider.referenced));
        out.push(
            Diagnostic::error(
                file,
                at,
                "a GitOps controller cannot build overlays whose Secrets come from git-ignored env files",
            )
            .with_help(
                "set `cluster.secrets: { provider: external-secrets, store: … }` or `{ provider: sealed-secrets }`",
            ),
        );
    }
    out
}
