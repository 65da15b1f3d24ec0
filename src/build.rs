//! The `gen` pipeline: resolve the description for the base and every
//! environment, generate each, lay them out as kustomize, all in memory —
//! nothing touches the disk until everything has succeeded.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;
use crate::emit::files::Tree;
use crate::generate::{self, Stack};
use crate::spec::Platform;
use crate::spec::resolve::resolve;

/// Name of the single overlay written when a description has no environments.
pub const DEFAULT_ENV: &str = "default";

/// What `gen` produced: the files, and each environment's stack for the summary.
pub struct Built {
    pub tree: Tree,
    pub base: Stack,
    pub envs: Vec<(String, Stack)>,
    /// Metrics the services declare in any environment (KP608 knows them).
    pub metrics: std::collections::BTreeSet<String>,
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
    let base = generate::generate(&resolved_base);
    let mut metrics = generate::monitoring::declared_metrics(&resolved_base);
    let mut envs = Vec::new();
    if p.environments.is_empty() {
        envs.push((DEFAULT_ENV.to_string(), base.clone()));
    }
    for name in p.environments.keys() {
        let r = resolve(p, Some(name.as_str()), file).map_err(Error::Description)?;
        metrics.extend(generate::monitoring::declared_metrics(&r));
        envs.push((name.to_string(), generate::generate(&r)));
    }
    let source = file.file_name().map_or_else(|| "the description".to_string(), |f| f.to_string_lossy().into_owned());
    let mut tree = Tree::new();
    crate::emit::kustomize::emit(&base, &envs, &source, &mut tree)?;
    tree.insert("README.md", crate::emit::readme::readme(p.name.as_str(), &source, &envs));
    crate::emit::monitoring::emit(&base, &envs, &source, &mut tree)?;
    let monitoring_ns =
        p.cluster.monitoring_namespace.as_deref().unwrap_or(crate::spec::resolve::defaults::MONITORING_NAMESPACE);
    crate::emit::dashboards::emit(&base, monitoring_ns, &source, &mut tree)?;
    let env_names: Vec<String> = p.environments.keys().map(|e| e.to_string()).collect();
    let stacks: Vec<&Stack> = std::iter::once(&base).chain(envs.iter().map(|(_, s)| s)).collect();
    if let Some(text) = crate::emit::runbook::runbook(&resolved_base, &source, &env_names, &stacks) {
        tree.insert("RUNBOOK.md", text);
    }
    Ok(Built { tree, base, envs, metrics })
}

/// What kubeproof's own checks say about each environment's stack (rung 1 of
/// the proof ladder): one source per object, named after its file in the
/// overlay, plus a stand-in for every Secret the secretGenerator builds
/// (keys without values) so that references to them are checked too.
pub fn prove(built: &Built, p: &Platform) -> Result<Vec<(String, crate::check::Loaded, crate::check::Outcome)>, Error> {
    let mut config = crate::check::config::Config::default();
    let k = &p.cluster.kubernetes.value;
    config.kubernetes = Some(format!("{}.{}", k.major, k.minor));
    // What the services export is known from the description: rules and
    // dashboards on those metrics are not "unknown" (KP608).
    config.metrics = built.metrics.iter().cloned().collect();
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
pub fn stack_sources(dir: &str, stack: &Stack) -> Result<crate::check::Loaded, Error> {
    let mut loaded = crate::check::Loaded::default();
    for o in &stack.objects {
        let name = format!("{dir}/{}", crate::emit::kustomize::object_path(o));
        let text = crate::emit::to_yaml(&o.value)?;
        crate::check::load::add_source(&mut loaded, crate::check::Source { name: name.into(), text });
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
        crate::check::load::add_source(&mut loaded, crate::check::Source { name: name.into(), text });
    }
    if !loaded.errors.is_empty() {
        return Err(Error::Internal(format!("generated YAML does not load: {:?}", loaded.errors)));
    }
    Ok(loaded)
}
