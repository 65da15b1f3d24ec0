//! kubeproof: one platform description in, a proven Kubernetes stack out;
//! and checks for stacks it did not write.
//!
//! The modules, lowest layer first (a module uses only modules listed before
//! it; `tests/layering.rs` enforces it):
//!
//! - [`diag`]: diagnostics at file:line:column, their rendering, YAML errors.
//! - [`model`]: Kubernetes objects with positions, the loader, index, pods, selectors, schemas, NetworkPolicy and Istio authorization evaluation.
//! - [`engines`]: the datastore engines as data (image, ports, paths, probes, wiring, metrics, backup), one file each, and their registry.
//! - [`components`]: off-the-shelf components a platform runs (Prometheus, Alertmanager, Grafana, Loki, Jaeger, collectors) as data.
//! - [`description`]: the platform description (`platform.yaml`), typed, with positions, resolved per environment.
//! - [`generate`]: the objects of a stack, one module per area (workloads, datastores, network, mesh, monitoring, backup).
//! - [`emit`]: files: the kustomize layout, YAML, dashboards, runbook, atomic writes that keep a person's edits.
//! - [`check`]: `kubeproof check`: the checks (one file each, by family), their registry, configuration and reports.
//! - [`build`]: the `gen` pipeline: describe → generate → emit, proven by the checks and by the intended connections.
//! - [`reach`]: `kubeproof reach`: whether NetworkPolicies let one workload connect to another.
//! - [`diff`]: `kubeproof diff`: what applying one manifest set over another does (refused, data lost, pods recreated).
//! - [`graph`]: `kubeproof graph`: the platform as a picture (SVG, DOT).
//! - [`budget`]: `kubeproof budget`: requests, limits and storage against the cluster's capacity.
//! - [`cli`]: the command line, a thin layer over the above: one `run`, one place for errors and colour.

pub mod budget;
pub mod build;
pub mod check;
pub mod cli;
pub mod components;
pub mod description;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod engines;
pub mod generate;
pub mod graph;
pub mod model;
pub mod reach;

/// Errors that end a command. Input errors carry diagnostics with positions.
/// The CLI prints every one of them in one place (`cli::report`), which also
/// maps them to exit codes.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The description has errors; their files are read back to show them.
    #[error("the description has {} error(s)", .0.len())]
    Description(Vec<diag::Diagnostic>),
    /// Input that cannot be used, with the text its diagnostics point into.
    #[error("{0}")]
    Input(Box<Invalid>),
    #[error(transparent)]
    Write(#[from] emit::files::WriteError),
    /// Bad input or usage.
    #[error("{0}")]
    Usage(String),
    /// kubeproof's own checks found errors in what `gen` was about to write.
    #[error("{report}\nthe generated stack has {errors} error-level finding(s); nothing was written")]
    Findings { report: String, errors: usize },
    /// A generated environment does not fit the declared cluster capacity.
    #[error("{0}nothing was written")]
    OverCapacity(String),
    /// A connection the stack intends is blocked by its own policies.
    #[error("{0}nothing was written")]
    Blocked(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// The diagnostics of an input that cannot be used, and what is said around
/// them when they are shown.
#[derive(Debug, Default)]
pub struct Invalid {
    pub diagnostics: Vec<diag::Diagnostic>,
    /// Texts by name, for inputs that cannot be read back (stdin) or were
    /// read already; any other file is read from disk when shown.
    pub sources: Vec<(std::path::PathBuf, String)>,
    /// Said before the diagnostics (`X is not a valid description`).
    pub heading: Option<String>,
    /// Said after them (`X has 2 error(s)`).
    pub summary: Option<String>,
}

impl Invalid {
    pub fn new(diagnostics: Vec<diag::Diagnostic>) -> Invalid {
        Invalid { diagnostics, ..Invalid::default() }
    }

    pub fn source(mut self, name: impl Into<std::path::PathBuf>, text: String) -> Invalid {
        self.sources.push((name.into(), text));
        self
    }

    pub fn heading(mut self, heading: String) -> Invalid {
        self.heading = Some(heading);
        self
    }

    pub fn summary(mut self, summary: String) -> Invalid {
        self.summary = Some(summary);
        self
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.heading, &self.summary) {
            (_, Some(s)) | (Some(s), None) => f.write_str(s),
            (None, None) => write!(f, "the input has {} error(s)", self.diagnostics.len()),
        }
    }
}

impl From<Invalid> for Error {
    fn from(i: Invalid) -> Error {
        Error::Input(Box::new(i))
    }
}
