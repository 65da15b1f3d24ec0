//! The kustomize layout: `base/` holds the description as written (no
//! environment applied); `overlays/ENV/` holds, per environment, exactly the
//! differences: RFC 6902 patches computed from the base object to the
//! environment's object, resources that exist only there, deletions, and the
//! secret generators. Computing patches (rather than writing them by hand)
//! makes each overlay build to precisely what the generator produced for it.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::files::Tree;
use super::{header, object_file, to_yaml};
use crate::generate::patches::Applied;
use crate::generate::{Object, SecretSource, Stack};

const ROOT: &str = "kustomize";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Kustomization {
    api_version: &'static str,
    kind: &'static str,
    resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    secret_generator: Vec<SecretGenerator>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    patches: Vec<PatchRef>,
}

impl Kustomization {
    fn new(resources: Vec<String>) -> Self {
        Kustomization {
            api_version: "kustomize.config.k8s.io/v1beta1",
            kind: "Kustomization",
            resources,
            secret_generator: Vec::new(),
            patches: Vec::new(),
        }
    }
}

#[derive(Serialize)]
struct SecretGenerator {
    name: String,
    namespace: String,
    envs: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    options: Option<GeneratorOptions>,
}

/// A generator's options: the Secrets a Job reads keep their name (see
/// [`crate::generate::jobs`]).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeneratorOptions {
    disable_name_suffix_hash: bool,
}

#[derive(Serialize)]
struct PatchRef {
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    target: Target,
}

#[derive(Serialize)]
struct Target {
    #[serde(skip_serializing_if = "String::is_empty")]
    group: String,
    version: String,
    kind: String,
    /// Empty: every object of the kind.
    #[serde(skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
}

impl Target {
    fn of(o: &Object) -> Target {
        let (group, version) = crate::model::gvk::split(&o.api_version);
        Target {
            group: group.to_string(),
            version: version.to_string(),
            kind: o.kind.clone(),
            name: o.name.clone(),
            namespace: o.namespace.clone(),
        }
    }
}

/// File name of an object: `NAMESPACE/KIND-NAME.yaml` (cluster objects at the top).
pub fn object_path(o: &Object) -> String {
    let file = format!("{}-{}.yaml", o.kind.to_ascii_lowercase(), o.name);
    match &o.namespace {
        Some(ns) => format!("{ns}/{file}"),
        None => file,
    }
}

/// The base: its objects as generated, the description's patches of them
/// (listed in the base kustomization), and the objects patched (what the
/// overlays build on).
pub struct Base<'a> {
    pub raw: &'a Stack,
    /// The YAML of `raw`'s objects.
    pub renders: &'a super::Renders<'a>,
    pub applied: &'a [Applied],
    pub patched: &'a Stack,
}

/// An environment's overlay: the stack its computed diffs reach from the
/// patched base, then the environment's own patches, listed as written.
pub struct Overlay<'a> {
    pub name: &'a str,
    pub stack: &'a Stack,
    pub applied: &'a [Applied],
}

/// Writes base and overlays into `tree` under `kustomize/`.
pub fn emit(base: &Base, envs: &[Overlay], source: &str, tree: &mut Tree) -> Result<(), crate::Error> {
    let mut resources = Vec::new();
    for (i, o) in base.raw.objects.iter().enumerate() {
        let path = object_path(o);
        tree.insert(format!("{ROOT}/base/{path}"), format!("{}{}", header(source), base.renders.of(i)?));
        resources.push(path);
    }
    let mut k = Kustomization::new(resources);
    listed(base.applied, &mut k)?;
    tree.insert(format!("{ROOT}/base/kustomization.yaml"), format!("{}{}", header(source), to_yaml(&k)?));
    let base = base.patched;

    let by_id: BTreeMap<String, &Object> = base.objects.iter().map(|o| (o.id(), o)).collect();
    for Overlay { name: env, stack, applied } in envs {
        let dir = format!("{ROOT}/overlays/{env}");
        let mut k = Kustomization::new(vec!["../../base".into()]);
        let env_ids: BTreeMap<String, &Object> = stack.objects.iter().map(|o| (o.id(), o)).collect();
        for o in &stack.objects {
            match by_id.get(&o.id()) {
                None => {
                    let path = format!("resources/{}", object_path(o));
                    tree.insert(format!("{dir}/{path}"), object_file(o, source)?);
                    k.resources.push(path);
                }
                Some(b) if b.value != o.value => {
                    let patch = json_patch::diff(&b.value, &o.value);
                    let path = format!("patches/{}", object_path(o));
                    tree.insert(format!("{dir}/{path}"), format!("{}{}", header(source), to_yaml(&patch)?));
                    k.patches.push(PatchRef { path: Some(path), patch: None, target: Target::of(o) });
                }
                Some(_) => {}
            }
        }
        for b in &base.objects {
            if !env_ids.contains_key(&b.id()) {
                let mut del = serde_json::Map::new();
                del.insert("$patch".into(), Value::from("delete"));
                del.insert("apiVersion".into(), Value::from(b.api_version.clone()));
                del.insert("kind".into(), Value::from(b.kind.clone()));
                let mut m = serde_json::Map::new();
                m.insert("name".into(), Value::from(b.name.clone()));
                if let Some(ns) = &b.namespace {
                    m.insert("namespace".into(), Value::from(ns.clone()));
                }
                del.insert("metadata".into(), Value::Object(m));
                k.patches.push(PatchRef {
                    path: None,
                    patch: Some(to_yaml(&Value::Object(del))?),
                    target: Target::of(b),
                });
            }
        }
        listed(applied, &mut k)?;
        secrets(stack, &dir, source, &mut k, tree);
        tree.insert(format!("{dir}/kustomization.yaml"), format!("{}{}", header(source), to_yaml(&k)?));
        pre_deploy(env, stack, source, tree)?;
    }
    Ok(())
}

/// `pre-deploy/ENV`: the overlay without the Deployments that wait for a
/// job, for plain `kubectl apply` (Argo CD and Helm order the Jobs by their
/// annotations): applied first, it starts the Jobs and everything they need
/// (namespaces, datastores, Secrets, policies) and leaves the waiting
/// Deployments as they are; once the Jobs completed, the overlay rolls them.
/// None without jobs.
fn pre_deploy(env: &str, stack: &Stack, source: &str, tree: &mut Tree) -> Result<(), crate::Error> {
    if stack.release.jobs.is_empty() {
        return Ok(());
    }
    let mut k = Kustomization::new(vec![format!("../../overlays/{env}")]);
    for (ns, name) in &stack.release.waiting {
        let del = serde_json::json!({
            "$patch": "delete",
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": { "name": name, "namespace": ns },
        });
        let target = Target {
            group: "apps".into(),
            version: "v1".into(),
            kind: "Deployment".into(),
            name: name.clone(),
            namespace: Some(ns.clone()),
        };
        k.patches.push(PatchRef { path: None, patch: Some(to_yaml(&del)?), target });
    }
    tree.insert(format!("{ROOT}/pre-deploy/{env}/kustomization.yaml"), format!("{}{}", header(source), to_yaml(&k)?));
    Ok(())
}

/// The description's patches, inline, each with its target, in order.
fn listed(applied: &[Applied], k: &mut Kustomization) -> Result<(), crate::Error> {
    for a in applied {
        let (group, version) = crate::model::gvk::split(&a.api_version);
        let target = Target {
            group: group.to_string(),
            version: version.to_string(),
            kind: a.kind.clone(),
            name: a.name.clone(),
            namespace: a.namespace.clone(),
        };
        k.patches.push(PatchRef { path: None, patch: Some(to_yaml(&a.document)?), target });
    }
    Ok(())
}

/// Secret generators read `secrets/NAME.env`, which a `.gitignore` keeps out
/// of version control; `NAME.env.example` lists the keys to fill in.
///
/// ExternalSecrets are objects of the stack: nothing here. SealedSecrets are
/// sealed by the user from the same env files: the overlay lists each at
/// [`sealed_path`], and `sealed-secrets/README.md` says how to make it.
fn secrets(stack: &Stack, dir: &str, source: &str, k: &mut Kustomization, tree: &mut Tree) {
    use crate::description::delivery::SecretsMode;
    let list: &[SecretSource] = &stack.secrets;
    if list.is_empty() || matches!(stack.secrets_mode, SecretsMode::External { .. }) {
        return;
    }
    let sealed = stack.secrets_mode == SecretsMode::Sealed;
    tree.insert(
        format!("{dir}/secrets/.gitignore"),
        "# Secret values never go into version control.\n*.env\n".to_string(),
    );
    for s in list {
        let mut example = format!(
            "# Keys of the Secret `{}`. Copy to {} (git-ignored) and fill in the values.\n# Generated by kubeproof from {source}.\n",
            s.name, s.file
        );
        for key in &s.keys {
            // The kubelet cannot encode: a URL built from a secret reads its
            // encoded form, which the same file holds.
            if let Some(raw) = key.strip_suffix(crate::description::template::URL_ENCODED) {
                example.push_str(&format!("# {raw}, percent-encoded for URLs: jq -rn --arg v \"${raw}\" '$v|@uri'\n"));
            }
            example.push_str(key);
            example.push_str("=\n");
        }
        // One file may feed several Secrets (a Job's copy of a datastore's
        // credentials): its example names the first.
        let path = format!("{dir}/secrets/{}.example", s.file);
        if tree.get(Path::new(&path)).is_none() {
            tree.insert(path, example);
        }
        if sealed {
            k.resources.push(sealed_path(s));
            continue;
        }
        k.secret_generator.push(SecretGenerator {
            name: s.name.clone(),
            namespace: s.namespace.clone(),
            envs: vec![format!("secrets/{}", s.file)],
            options: stack
                .release
                .stable_secrets
                .iter()
                .any(|(ns, name)| *ns == s.namespace && *name == s.name)
                .then_some(GeneratorOptions { disable_name_suffix_hash: true }),
        });
    }
    if sealed {
        tree.insert(format!("{dir}/sealed-secrets/README.md"), sealed_readme(list, dir, source));
        if stack.sync_waves {
            k.patches.push(sealed_wave());
        }
    }
}

/// The SealedSecrets come from kubeseal without annotations: the overlay puts
/// them in the first sync wave, with the namespaces, before the datastores
/// and services whose pods read their Secrets.
fn sealed_wave() -> PatchRef {
    let patch = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: any\n  annotations:\n    \
         {}: \"{}\"\n",
        crate::generate::jobs::SYNC_WAVE,
        crate::generate::delivery::FIRST_WAVE
    );
    let target = Target {
        group: "bitnami.com".into(),
        version: "v1alpha1".into(),
        kind: "SealedSecret".into(),
        name: String::new(),
        namespace: None,
    };
    PatchRef { path: None, patch: Some(patch), target }
}

/// Where an overlay's SealedSecret for `s` goes, relative to the overlay: one
/// per Secret and namespace (a SealedSecret is sealed for its name and namespace).
pub fn sealed_path(s: &SecretSource) -> String {
    format!("sealed-secrets/{}-{}.yaml", s.namespace, s.name)
}

/// The command that seals `s` from its env file; `dir` is the overlay's
/// folder as the command names it.
pub fn seal_command(s: &SecretSource, dir: &str) -> String {
    format!(
        "kubectl create secret generic {} -n {} --from-env-file={dir}/secrets/{} --dry-run=client -o yaml \\\n  \
         | kubeseal --format yaml > {dir}/{}",
        s.name,
        s.namespace,
        s.file,
        sealed_path(s)
    )
}

fn sealed_readme(list: &[SecretSource], dir: &str, source: &str) -> String {
    let mut text = format!(
        "# Sealed Secrets\n\nGenerated by kubeproof from {source}. The overlay lists one SealedSecret per Secret below; \
         it does not build until each file exists. Fill `secrets/FILE` from its `.example` (git-ignored), seal it \
         with the cluster's sealed-secrets certificate, and commit the sealed file (it is safe in git). Run the \
         commands in the folder `gen` wrote:\n\n"
    );
    for s in list {
        text += &format!(
            "## {}/{}\n\nKeys: {}\n\n```sh\n{}\n```\n\n",
            s.namespace,
            s.name,
            s.keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
            seal_command(s, dir)
        );
    }
    text
}
