//! The checks, one per file, grouped by family; [`registry`] maps stable
//! codes to them. Codes never change meaning: a retired check keeps its code
//! unused.

use std::sync::LazyLock;

use super::Check;

mod budget;
mod mesh;
mod network;
mod observability;
pub(crate) use observability::{DashboardMemo, PromqlMemo, RuleFileMemo, shared_memos};
mod reference;
mod references;
pub use references::secret_value_unfilled::STAND_IN as SECRET_STAND_IN;
mod reliability;
mod schema;
mod security;

pub use reference::{REGENERATE, reference_markdown};

static REGISTRY: LazyLock<Vec<&'static dyn Check>> = LazyLock::new(|| {
    let mut all: Vec<&'static dyn Check> = Vec::new();
    all.extend_from_slice(schema::CHECKS);
    all.extend_from_slice(security::CHECKS);
    all.extend_from_slice(reliability::CHECKS);
    all.extend_from_slice(references::CHECKS);
    all.extend_from_slice(network::CHECKS);
    all.extend_from_slice(budget::CHECKS);
    all.extend_from_slice(mesh::CHECKS);
    all.extend_from_slice(observability::CHECKS);
    all.sort_by_key(|c| c.meta().code);
    all
});

/// Every check, by code.
pub fn registry() -> &'static [&'static dyn Check] {
    &REGISTRY
}

/// The check with this code (case-insensitive), or with this name.
pub fn find(code_or_name: &str) -> Option<&'static dyn Check> {
    registry()
        .iter()
        .copied()
        .find(|c| c.meta().code.eq_ignore_ascii_case(code_or_name) || c.meta().name == code_or_name)
}
