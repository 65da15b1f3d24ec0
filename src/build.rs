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
    let base = generate::generate(&resolve(p, None, file).map_err(Error::Description)?);
    let mut envs = Vec::new();
    if p.environments.is_empty() {
        envs.push((DEFAULT_ENV.to_string(), base.clone()));
    }
    for name in p.environments.keys() {
        let r = resolve(p, Some(name.as_str()), file).map_err(Error::Description)?;
        envs.push((name.to_string(), generate::generate(&r)));
    }
    let source = file.file_name().map_or_else(|| "the description".to_string(), |f| f.to_string_lossy().into_owned());
    let mut tree = Tree::new();
    crate::emit::kustomize::emit(&base, &envs, &source, &mut tree)?;
    tree.insert("README.md", crate::emit::readme::readme(p.name.as_str(), &source, &envs));
    Ok(Built { tree, base, envs })
}
