//! The `gen` pipeline: resolve the description for the base and every
//! environment, generate each, lay them out as kustomize, all in memory —
//! nothing touches the disk until everything has succeeded.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;
use crate::description::Platform;
use crate::description::resolve::patches::patches;
use crate::description::resolve::resolve;
use crate::emit::files::Tree;
use crate::generate::{self, Stack};

pub mod connections;

/// Name of the single overlay written when a description has no environments.
pub const DEFAULT_ENV: &str = "default";

/// What `gen` produced: the files, and each environment's stack for the summary.
pub struct Built {
    pub tree: Tree,
    pub base: Stack,
    pub envs: Vec<(String, Stack)>,
    /// Metrics the services declare in any environment (KP608 knows them).
    pub metrics: std::collections::BTreeSet<String>,
    /// Per environment, the intended connections, each proven open.
    pub connections: Vec<(String, Vec<connections::Proven>)>,
}

impl Built {
    /// Objects per kind per environment.
    pub fn summary(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        self.envs
            .iter()
            .map(|(env, s)| (env.clone(), s.count_by_kind().into_iter().map(|(k, n)| (k.to_string(), n)).collect()))
            .collect()
    }
}

/// Builds the whole output tree for a loaded description read from `file`.
pub fn build(p: &Platform, file: &Path) -> Result<Built, Error> {
    let resolved_base = resolve(p, None, file).map_err(Error::Description)?;
    // The base files are written as generated, their patches listed in the
    // base kustomization; everything else (overlays, proofs) sees them applied.
    let raw_base = generate::generate(&resolved_base);
    let mut base = raw_base.clone();
    let (base_patches, _) = patches(p, None, file).map_err(Error::Description)?;
    let applied = generate::patches::apply(&mut base, &base_patches, file).map_err(Error::Description)?;
    let mut metrics = generate::monitoring::declared_metrics(&resolved_base);
    let mut envs = Vec::new();
    // Per environment, its stack before its own patches (when it has some)
    // and those patches: the overlay lists them after its computed diffs.
    let mut own_patches: Vec<(Option<Stack>, Vec<generate::patches::Applied>)> = Vec::new();
    let mut proven = Vec::new();
    if p.environments.is_empty() {
        proven.push((DEFAULT_ENV.to_string(), prove_connections(DEFAULT_ENV, &base, &resolved_base)?));
        envs.push((DEFAULT_ENV.to_string(), base.clone()));
        own_patches.push((None, Vec::new()));
    }
    for name in p.environments.keys() {
        let r = resolve(p, Some(name.as_str()), file).map_err(Error::Description)?;
        metrics.extend(generate::monitoring::declared_metrics(&r));
        let mut stack = generate::generate(&r);
        let (workloads, own) = patches(p, Some(name.as_str()), file).map_err(Error::Description)?;
        generate::patches::apply(&mut stack, &workloads, file).map_err(Error::Description)?;
        let before = (!own.is_empty()).then(|| stack.clone());
        let applied = generate::patches::apply(&mut stack, &own, file).map_err(Error::Description)?;
        own_patches.push((before, applied));
        proven.push((name.to_string(), prove_connections(name, &stack, &r)?));
        envs.push((name.to_string(), stack));
    }
    let source = file.file_name().map_or_else(|| "the description".to_string(), |f| f.to_string_lossy().into_owned());
    let mut tree = Tree::new();
    let overlays: Vec<crate::emit::kustomize::Overlay> = envs
        .iter()
        .zip(&own_patches)
        .map(|((name, stack), (before, applied))| crate::emit::kustomize::Overlay {
            name,
            stack: before.as_ref().unwrap_or(stack),
            applied,
        })
        .collect();
    crate::emit::kustomize::emit(
        &crate::emit::kustomize::Base { raw: &raw_base, applied: &applied, patched: &base },
        &overlays,
        &source,
        &mut tree,
    )?;
    crate::emit::helm::emit(
        &crate::emit::helm::Chart {
            name: p.name.as_str(),
            kube: p.cluster.kubernetes.value,
            base: &base,
            envs: &envs,
            source: &source,
        },
        &mut tree,
    )?;
    tree.insert("README.md", crate::emit::readme::readme(p.name.as_str(), &source, p.cluster.kubernetes.value, &envs));
    crate::emit::monitoring::emit(&base, &envs, &source, &mut tree)?;
    crate::emit::dashboards::emit(&base, &resolved_base.monitoring_namespace, &source, &mut tree)?;
    let env_names: Vec<String> = p.environments.keys().map(|e| e.to_string()).collect();
    let stacks: Vec<&Stack> = std::iter::once(&base).chain(envs.iter().map(|(_, s)| s)).collect();
    if let Some(text) = crate::emit::runbook::runbook(&resolved_base, &source, &env_names, &stacks) {
        tree.insert("RUNBOOK.md", text);
    }
    let mut built = Built { tree, base, envs, metrics, connections: proven };
    let config = check_config_file(&check_config(&built, p), &source);
    built.tree.insert(".kubeproof.yaml", config);
    Ok(built)
}

/// Every connection environment `env` intends, proven open on its stack
/// before anything is written ([`connections`]).
fn prove_connections(
    env: &str,
    stack: &Stack,
    r: &crate::description::resolve::Resolved,
) -> Result<Vec<connections::Proven>, Error> {
    connections::prove(&format!("kustomize/overlays/{env}"), stack, &generate::connections::intended(r))
}

/// The configuration `gen` checks its output with: the cluster's Kubernetes
/// version, and the metrics the services declare (rules and dashboards on
/// them are not "unknown", KP608).
pub fn check_config(built: &Built, p: &Platform) -> crate::check::config::Config {
    let k = &p.cluster.kubernetes.value;
    crate::check::config::Config {
        kubernetes: Some(format!("{}.{}", k.major, k.minor)),
        metrics: built.metrics.iter().cloned().collect(),
        ..Default::default()
    }
}

/// [`check_config`] as the `.kubeproof.yaml` written beside the stack, so
/// that `kubeproof check` run there judges the built overlays as `gen` did.
fn check_config_file(config: &crate::check::config::Config, source: &str) -> String {
    let mut out = format!(
        "# Generated by kubeproof from {source}: what `gen` checked this stack with. `kubeproof check`\n\
         # run in this folder reads it, e.g. `kubectl kustomize kustomize/overlays/ENV | kubeproof check -`.\n"
    );
    if let Some(k) = &config.kubernetes {
        out += &format!("kubernetes: \"{k}\"\n");
    }
    if config.metrics.is_empty() {
        out += "metrics: []\n";
    } else {
        out += "# The metrics the services declare.\nmetrics:\n";
        for m in &config.metrics {
            // A JSON string is a YAML string.
            out += &format!("  - {}\n", serde_json::Value::from(m.as_str()));
        }
    }
    out
}

/// What kubeproof's own checks say about each environment's stack (rung 1 of
/// the proof ladder): one source per object, named after its file in the
/// overlay, plus a stand-in for every Secret the secretGenerator builds
/// (keys without values) so that references to them are checked too.
pub fn prove(built: &Built, p: &Platform) -> Result<Vec<(String, crate::model::Loaded, crate::check::Outcome)>, Error> {
    let config = check_config(built, p);
    let mut out = Vec::new();
    for (env, stack) in &built.envs {
        let loaded = stack_sources(&format!("kustomize/overlays/{env}"), stack)?;
        let outcome = crate::check::run(&loaded, &config);
        out.push((env.clone(), loaded, outcome));
    }
    Ok(out)
}

/// A stack as checkable sources: one per object, named after its file under
/// `dir` (`kustomize/overlays/ENV`), plus a stand-in for every Secret the
/// secretGenerator builds (keys without values).
pub fn stack_sources(dir: &str, stack: &Stack) -> Result<crate::model::Loaded, Error> {
    let mut loaded = crate::model::Loaded::default();
    for o in &stack.objects {
        let name = format!("{dir}/{}", crate::emit::kustomize::object_path(o));
        let text = crate::emit::to_yaml(&o.value)?;
        crate::model::load::add_source(&mut loaded, crate::model::Source { name: name.into(), text });
    }
    for s in &stack.secrets {
        let data: BTreeMap<&str, &str> = s.keys.iter().map(|k| (k.as_str(), "")).collect();
        let secret = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": s.name, "namespace": s.namespace },
            "data": data,
        });
        let name = format!("{dir}/secrets/{} (secretGenerator)", s.file);
        let text = crate::emit::to_yaml(&secret)?;
        crate::model::load::add_source(&mut loaded, crate::model::Source { name: name.into(), text });
    }
    if !loaded.errors.is_empty() {
        return Err(Error::Internal(format!("generated YAML does not load: {:?}", loaded.errors)));
    }
    Ok(loaded)
}
