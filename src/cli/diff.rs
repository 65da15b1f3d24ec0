//! `kubeproof diff OLD NEW`: a thin layer over [`crate::diff`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input::{Input, MemoryBudget};
use crate::Error;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The applied set: manifests (a file, a folder, `-` for stdin) or a description.
    pub old: PathBuf,
    /// The set to apply over it, likewise.
    pub new: PathBuf,
    /// With descriptions: the environment to generate on both sides (default: the base).
    #[arg(long)]
    pub env: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Each side's, as with `check`.
    #[command(flatten)]
    pub memory_budget: MemoryBudget,
}

/// Exit 0 when the new set applies over the old one without a refused change
/// or a loss of data, 1 when it does not; errors: 2 unusable input or usage.
pub fn diff(args: &DiffArgs) -> Result<ExitCode, Error> {
    if args.old == args.new && args.old.as_os_str() == "-" {
        return Err(Error::Usage("only one side can be `-` (stdin)".into()));
    }
    let old = side(&args.old, args.env.as_deref(), args.memory_budget)?;
    let new = side(&args.new, args.env.as_deref(), args.memory_budget)?;
    let d = crate::diff::Diff::of(&old, &new);
    let text = match args.format {
        DiffFormat::Text => crate::diff::render::text(&d),
        DiffFormat::Json => crate::diff::render::json(&d),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if d.unsafe_to_apply() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// One side: manifests as loaded, or a description's stack generated for
/// `env` (its objects named after the files `gen` would write).
fn side(path: &std::path::Path, env: Option<&str>, budget: MemoryBudget) -> Result<crate::model::Loaded, Error> {
    match Input::read(&[path.to_path_buf()], env, budget)? {
        Input::Description(d) => Ok(d.generate(env)?.loaded),
        Input::Manifests(loaded) => Ok(*loaded),
    }
}
