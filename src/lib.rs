//! kubeproof: one platform description in, a proven Kubernetes stack out.
//!
//! - [`description`]: the platform description (`platform.yaml`), typed, with positions.
//! - [`generate`]: objects per area (workloads, datastores, network).
//! - [`emit`]: kustomize layout, YAML, atomic files on disk.
//! - [`build`]: the `gen` pipeline tying them together.
//! - [`budget`]: requests, limits and storage against the cluster's capacity.
//! - [`cli`]: the command line, a thin layer over the above.

pub mod budget;
pub mod build;
pub mod check;
pub mod cli;
pub mod description;
pub mod diag;
pub mod emit;
pub mod generate;
pub mod graph;
pub mod model;
pub mod reach;
pub mod render;

/// Errors that end a command. Input errors carry diagnostics with positions.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("the description has {} error(s)", .0.len())]
    Description(Vec<diag::Diagnostic>),
    #[error(transparent)]
    Write(#[from] emit::files::WriteError),
    #[error("{0}")]
    Usage(String),
    /// kubeproof's own checks found errors in what `gen` was about to write.
    #[error("{report}\nthe generated stack has {errors} error-level finding(s); nothing was written")]
    Findings { report: String, errors: usize },
    #[error("internal error: {0}")]
    Internal(String),
}
