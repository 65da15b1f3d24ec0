//! What `reach`, `graph` and `budget` read: one platform description, or
//! manifests.
//!
//! The rule, in one place ([`is_description`]): the input is a description
//! when it is exactly one file or `-` (stdin), its text is UTF-8, and one of
//! its lines starts, at column 0, with `apiVersion: kubeproof.dev/` (the value
//! may be quoted). Anything else is manifests, read as `check` reads them.
//! Stdin is read once, and no more than the loader's `MAX_INPUT_BYTES`.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::model::Loaded;
use crate::model::load::{MAX_INPUT_BYTES, add_bytes};
use crate::{Error, Invalid};

/// The name stdin goes by in messages and findings.
const STDIN: &str = "<stdin>";

pub(super) enum Input {
    Description(Description),
    /// Manifests, all loaded without error.
    Manifests(Loaded),
}

/// A description's text, not parsed yet.
pub(super) struct Description {
    /// The file, or `<stdin>`.
    pub file: PathBuf,
    pub text: String,
}

impl Input {
    /// Reads `paths`. `env` applies to a description only: with manifests it
    /// is a usage error. Manifests that do not load are refused with their
    /// diagnostics.
    pub fn read(paths: &[PathBuf], env: Option<&str>) -> Result<Input, Error> {
        let single = match paths {
            [one] if one == Path::new("-") => Some((PathBuf::from(STDIN), read_stdin()?)),
            // A file that cannot be read is left to the loader, which says why.
            [one] => read_file(one).map(|bytes| (one.clone(), bytes)),
            _ => None,
        };
        let loaded = match single {
            Some((file, bytes)) => match String::from_utf8(bytes) {
                Ok(text) if is_description(&text) => return Ok(Input::Description(Description { file, text })),
                Ok(text) => manifests(env, || one_input(file, text.into_bytes()))?,
                Err(e) => manifests(env, || one_input(file, e.into_bytes()))?,
            },
            None => manifests(env, || crate::model::load::load(paths))?,
        };
        if loaded.errors.is_empty() {
            return Ok(Input::Manifests(loaded));
        }
        let count = loaded.errors.len();
        let Loaded { errors, sources, .. } = loaded;
        let mut invalid = Invalid::new(errors).summary(format!("the input has {count} error(s)"));
        for s in sources {
            if invalid.diagnostics.iter().any(|d| d.file == s.name) {
                invalid = invalid.source(s.name, s.text);
            }
        }
        Err(invalid.into())
    }
}

/// Loads manifests, unless `--env` was given (it needs a description).
fn manifests(env: Option<&str>, load: impl FnOnce() -> Loaded) -> Result<Loaded, Error> {
    match env {
        Some(_) => Err(Error::Usage("--env applies to a platform description, not to manifests".into())),
        None => Ok(load()),
    }
}

/// One input already read: what [`crate::model::load::load`] makes of it.
fn one_input(name: PathBuf, bytes: Vec<u8>) -> Loaded {
    let mut loaded = Loaded::default();
    add_bytes(&mut loaded, name, bytes);
    loaded
}

/// Whether a text is a platform description: see the module's documentation.
fn is_description(text: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("apiVersion:")
            .map(|v| v.trim().trim_matches(['"', '\'']))
            .is_some_and(|v| v.starts_with("kubeproof.dev/"))
    })
}

fn read_stdin() -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    match std::io::stdin().lock().take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes) {
        Err(e) => Err(Error::Usage(format!("cannot read stdin: {e}"))),
        Ok(n) if n as u64 > MAX_INPUT_BYTES => {
            Err(Error::Usage(format!("stdin: larger than {} MiB: not read", MAX_INPUT_BYTES >> 20)))
        }
        Ok(_) => Ok(bytes),
    }
}

/// The bytes of a regular file within the size limit; `None` otherwise.
fn read_file(path: &Path) -> Option<Vec<u8>> {
    let file = std::fs::File::open(path).ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_INPUT_BYTES {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= MAX_INPUT_BYTES).then_some(bytes)
}

/// The stack a description generates for `reach` and `graph`.
pub(super) struct Generated {
    pub loaded: Loaded,
    /// The description resolved for the environment (`None` when it names no
    /// environment of the description, as the base of one without any).
    pub resolved: Option<crate::description::resolve::Resolved>,
    /// `NAME (environment ENV)`.
    pub title: String,
}

impl Description {
    /// The description's errors, shown with its text.
    fn invalid(&self, diagnostics: Vec<crate::diag::Diagnostic>) -> Invalid {
        Invalid::new(diagnostics).source(self.file.clone(), self.text.clone())
    }

    /// Refused as `X is not a valid description:` and the diagnostics.
    fn not_valid(&self, diagnostics: Vec<crate::diag::Diagnostic>) -> Error {
        self.invalid(diagnostics).heading(format!("{} is not a valid description", self.file.display())).into()
    }

    /// Refused as the diagnostics and `X has N error(s)`.
    pub fn has_errors(&self, diagnostics: Vec<crate::diag::Diagnostic>) -> Error {
        let summary = format!("{} has {} error(s)", self.file.display(), diagnostics.len());
        self.invalid(diagnostics).summary(summary).into()
    }

    pub fn parse(&self) -> Result<crate::description::Platform, Vec<crate::diag::Diagnostic>> {
        crate::description::parse(&self.text, &self.file)
    }

    /// Generates the stack of `env` (the base when `None`) in memory, as
    /// loaded manifests.
    pub fn generate(&self, env: Option<&str>) -> Result<Generated, Error> {
        let platform = self.parse().map_err(|d| self.not_valid(d))?;
        let built = crate::build::build(&platform, &self.file).map_err(|e| match e {
            Error::Description(d) => self.not_valid(d),
            other => Error::Usage(other.to_string()),
        })?;
        let (dir, stack) = match env {
            None => ("kustomize/base".to_string(), &built.base),
            Some(env) => match built.envs.iter().find(|(n, _)| n == env) {
                Some((n, s)) => (format!("kustomize/overlays/{n}"), s),
                None => {
                    let names: Vec<&str> = built.envs.iter().map(|(n, _)| n.as_str()).collect();
                    return Err(Error::Usage(format!(
                        "no environment `{env}` in {}; it has: {}",
                        self.file.display(),
                        names.join(", ")
                    )));
                }
            },
        };
        let loaded = crate::build::stack_sources(&dir, stack).map_err(|e| Error::Usage(e.to_string()))?;
        let named = env.filter(|e| platform.environments.keys().any(|k| k.to_string() == *e));
        let resolved = crate::description::resolve::resolve(&platform, named, &self.file).ok();
        let title = match env {
            Some(e) => format!("{} (environment {e})", platform.name.as_str()),
            None => platform.name.as_str().to_string(),
        };
        Ok(Generated { loaded, resolved, title })
    }
}

#[cfg(test)]
mod tests {
    use super::is_description;

    #[test]
    fn a_description_has_kubeproofs_api_version_at_the_top_level() {
        assert!(is_description("apiVersion: kubeproof.dev/v1alpha1\nname: x\n"));
        assert!(is_description("# a comment\n---\napiVersion: \"kubeproof.dev/v1alpha1\"\n"));
        assert!(is_description("name: x\napiVersion: 'kubeproof.dev/v2'\n"));
        assert!(is_description("apiVersion:kubeproof.dev/v1alpha1\n"));
    }

    #[test]
    fn manifests_are_not_descriptions_even_when_they_embed_one() {
        assert!(!is_description("apiVersion: v1\nkind: ConfigMap\n"));
        // A description held in a ConfigMap: indented, so not the file's own.
        assert!(!is_description(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  platform.yaml: |\n    apiVersion: kubeproof.dev/v1alpha1\n"
        ));
        assert!(!is_description("apiVersion: example.com/v1 # kubeproof.dev/v1alpha1\n"));
        assert!(!is_description("kind: X\nmetadata: { annotations: { apiVersion: kubeproof.dev/x } }\n"));
    }
}
