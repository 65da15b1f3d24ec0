//! `kubeproof reach FROM TO [PORT] -f PATH...`: whether the NetworkPolicies
//! let one workload connect to another, and which policies decide it.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input::{Input, MemoryBudget};
use crate::Error;

#[derive(clap::Args)]
pub struct ReachArgs {
    /// The client: NAME, NAMESPACE/NAME, KIND/NAME or NAMESPACE/KIND/NAME.
    pub from: String,
    /// The server, written the same way (a Service name stands for the workload it selects).
    pub to: String,
    /// A port of the server: 5432, 53/UDP, or a container port name; without it, every declared port.
    pub port: Option<String>,
    /// Manifests (files, folders, `-` for stdin), or one platform description;
    /// one path per `-f`, repeatable (so `-f` may come before FROM and TO).
    #[arg(short = 'f', long = "file", required = true, action = clap::ArgAction::Append)]
    pub files: Vec<PathBuf>,
    /// With a description: the environment to generate (default: the base).
    #[arg(long)]
    pub env: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReachFormat,
    #[command(flatten)]
    pub memory_budget: MemoryBudget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReachFormat {
    Text,
    Json,
}

/// Exit 0 allowed, 1 blocked; errors: 2 bad input.
pub fn reach(args: &ReachArgs) -> Result<ExitCode, Error> {
    let loaded = match Input::read(&args.files, args.env.as_deref(), args.memory_budget)? {
        Input::Description(d) => d.generate(args.env.as_deref())?.loaded,
        Input::Manifests(loaded) => *loaded,
    };
    let answer = crate::reach::query(&loaded, &args.from, &args.to, args.port.as_deref()).map_err(Error::Usage)?;
    let text = match args.format {
        ReachFormat::Text => answer.text(),
        ReachFormat::Json => format!("{:#}\n", answer.json()),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if answer.allowed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
