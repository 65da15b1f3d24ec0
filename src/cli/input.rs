//! What `reach`, `graph` and `budget` read: one platform description, or
//! manifests.
//!
//! The rule, in one place ([`is_description`]): the input is a description
//! when it is exactly one file or `-` (stdin), its text is UTF-8, and its
//! first document's own top-level `apiVersion` is `kubeproof.dev/…` (not text
//! held in a value: a ConfigMap may embed a description). Anything else is
//! manifests, read as `check` reads them. The one input is read once (it may
//! be a FIFO or stdin), with the loader's bound ([`read_file`]); a
//! description is then held to its own, smaller one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::description::load::{MAX_DESCRIPTION_BYTES, is_description};
use crate::diag::{Diagnostic, Pos};
use crate::model::Loaded;
use crate::model::load::{MAX_HEAP, MAX_INPUT_BYTES, add_bytes_within, read_file};
use crate::model::quantity::Bytes;
use crate::{Error, Invalid};

/// The name stdin goes by in messages and findings.
const STDIN: &str = "<stdin>";

/// `--memory-budget`, for every command that reads manifests.
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct MemoryBudget {
    /// What the objects read may take in memory (e.g. `2Gi`): an input that
    /// would take more is refused at the line where the budget ran out (none
    /// of its objects is used), and once it is spent no further input is
    /// read; in `check`, findings across objects that would pass it are
    /// refused together, in one error. What is counted is what is allocated,
    /// within a few percent; the run's peak is about the budget and the
    /// program's own 25 MiB, a tenth more when reading fills it
    /// (BENCHMARKS.md). The default holds a million typical objects.
    #[arg(long = "memory-budget", value_name = "SIZE", default_value_t = Bytes(MAX_HEAP as u64))]
    pub size: Bytes,
}

/// The smallest `--memory-budget`: below it, any input of a few objects is refused.
const MIN_BUDGET: Bytes = Bytes(1 << 20);

impl MemoryBudget {
    /// The budget in bytes; a usage error under [`MIN_BUDGET`].
    pub fn bytes(self) -> Result<usize, Error> {
        if self.size < MIN_BUDGET {
            return Err(Error::Usage(format!("--memory-budget: {} is less than {MIN_BUDGET}", self.size)));
        }
        Ok(usize::try_from(self.size.0).unwrap_or(usize::MAX))
    }
}

pub(super) enum Input {
    Description(Description),
    /// Manifests, all loaded without error.
    Manifests(Box<Loaded>),
}

/// A description's text, not parsed yet.
pub(super) struct Description {
    /// The file, or `<stdin>`.
    pub file: PathBuf,
    pub text: String,
}

impl Input {
    /// Reads `paths`. `env` applies to a description only: with manifests it
    /// is a usage error. Manifests are read within `budget`; those that do
    /// not load are refused with their diagnostics.
    pub fn read(paths: &[PathBuf], env: Option<&str>, budget: MemoryBudget) -> Result<Input, Error> {
        let budget = budget.bytes()?;
        let single = match paths {
            [one] if one == Path::new("-") => Some((PathBuf::from(STDIN), read_stdin()?)),
            [one] if !one.is_dir() => Some((one.clone(), read_file(one).map_err(refused)?)),
            _ => None,
        };
        let loaded = match single {
            Some((file, bytes)) => match String::from_utf8(bytes) {
                Ok(text) if is_description(&text) => return description(file, text),
                Ok(text) => manifests(env, || one_input(file, text.into_bytes(), budget))?,
                Err(e) => manifests(env, || one_input(file, e.into_bytes(), budget))?,
            },
            None => manifests(env, || crate::model::load::load_within(paths, budget))?,
        };
        print_notes(&loaded.notes);
        if loaded.errors.is_empty() {
            return Ok(Input::Manifests(Box::new(loaded)));
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

/// An input that could not be read, refused as the loader would.
fn refused(d: Diagnostic) -> Error {
    Invalid::new(vec![d]).summary("the input has 1 error(s)".to_string()).into()
}

/// A description, within its own bound.
fn description(file: PathBuf, text: String) -> Result<Input, Error> {
    if text.len() as u64 > MAX_DESCRIPTION_BYTES {
        let d = Diagnostic::error(
            &file,
            Pos::UNKNOWN,
            format!("larger than {} MiB: not read", MAX_DESCRIPTION_BYTES >> 20),
        )
        .with_help("a description is a few KB; is this the right file?");
        return Err(refused(d));
    }
    Ok(Input::Description(Description { file, text }))
}

/// What the loader left out on purpose (a FIFO in a folder), on stderr.
pub(super) fn print_notes(notes: &[Diagnostic]) {
    let mut err = std::io::stderr().lock();
    for n in notes {
        let help = n.help.as_deref().map_or_else(String::new, |h| format!(" ({h})"));
        let _ = writeln!(err, "note: {}: {}{help}", n.file.display(), n.message);
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
fn one_input(name: PathBuf, bytes: Vec<u8>, budget: usize) -> Loaded {
    let mut loaded = Loaded::default();
    add_bytes_within(&mut loaded, name, bytes, budget);
    loaded
}

fn read_stdin() -> Result<Vec<u8>, Error> {
    use crate::model::load::{ReadError, read_bounded};
    read_bounded(std::io::stdin().lock(), None, MAX_INPUT_BYTES).map_err(|e| match e {
        ReadError::Io(e) => Error::Usage(format!("cannot read stdin: {e}")),
        ReadError::TooLarge => Error::Usage(format!("stdin: larger than {} MiB: not read", MAX_INPUT_BYTES >> 20)),
    })
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
    use crate::description::load::is_description;

    #[test]
    fn a_description_has_kubeproofs_api_version_at_the_top_level() {
        assert!(is_description("apiVersion: kubeproof.dev/v1alpha1\nname: x\n"));
        assert!(is_description("# a comment\n---\napiVersion: \"kubeproof.dev/v1alpha1\"\n"));
        assert!(is_description("name: x\napiVersion: 'kubeproof.dev/v2'\n"));
        assert!(is_description("{\"apiVersion\": \"kubeproof.dev/v1alpha1\", \"name\": \"x\"}"));
        assert!(is_description("services: {a: {port: 1}}\napiVersion: kubeproof.dev/v1alpha1\n"));
        // Not a key in YAML (no space after the colon): one plain scalar.
        assert!(!is_description("apiVersion:kubeproof.dev/v1alpha1\n"));
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
        // Laid out so that a line of the embedded text starts at column 0.
        assert!(!is_description(
            "apiVersion: v1\nkind: ConfigMap\ndata:\n  p: \"\napiVersion: kubeproof.dev/v1alpha1\n\"\n"
        ));
        assert!(!is_description(
            "{\"apiVersion\": \"v1\",\n\"data\": {\"p\": \"x\",\n\"apiVersion\": \"kubeproof.dev/v1\"}}"
        ));
        assert!(!is_description("- apiVersion: kubeproof.dev/v1alpha1\n"));
        assert!(!is_description("apiVersion: v1\n---\napiVersion: kubeproof.dev/v1alpha1\n"));
    }
}
