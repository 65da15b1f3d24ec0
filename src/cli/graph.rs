//! `kubeproof graph platform.yaml [--env ENV] [-o FILE] [--format svg|dot]`
//! or `kubeproof graph -f PATH...`: the platform as a picture.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input::{Input, MemoryBudget};
use crate::Error;

#[derive(clap::Args)]
pub struct GraphArgs {
    /// One platform description, or manifests (files, folders, `-` for stdin).
    pub paths: Vec<PathBuf>,
    /// Manifests (files, folders, `-` for stdin), as with `reach`.
    #[arg(short = 'f', long = "file", num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// With a description: the environment to generate (default: the base).
    #[arg(long)]
    pub env: Option<String>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "svg")]
    pub format: GraphFormat,
    /// The namespace of the ingress controller, whose traffic the ingress
    /// edges are evaluated for (default: the description's, else
    /// ingress-nginx; istio-system for Istio gateways).
    #[arg(long)]
    pub ingress_namespace: Option<String>,
    #[command(flatten)]
    pub memory_budget: MemoryBudget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Svg,
    Dot,
}

/// Exit 0 written; errors: 1 the output could not be written, 2 bad input.
pub fn graph(args: &GraphArgs) -> Result<ExitCode, Error> {
    let mut inputs = args.paths.clone();
    inputs.extend(args.files.iter().cloned());
    if inputs.is_empty() {
        return Err(Error::Usage("give a platform description or manifests (files, folders, `-` for stdin)".into()));
    }
    let (loaded, mut declared, title) = match Input::read(&inputs, args.env.as_deref(), args.memory_budget)? {
        Input::Description(d) => {
            let g = d.generate(args.env.as_deref())?;
            (g.loaded, g.resolved.as_ref().map(crate::graph::Declared::of).unwrap_or_default(), g.title)
        }
        Input::Manifests(loaded) => (*loaded, crate::graph::Declared::default(), title(&inputs)),
    };
    if let Some(ns) = &args.ingress_namespace {
        declared.ingress_namespace = Some(ns.clone());
    }
    let g = crate::graph::graph(&loaded, &declared, &title);
    let text = match args.format {
        GraphFormat::Svg => crate::graph::svg::render(&g),
        GraphFormat::Dot => crate::graph::dot::render(&g),
    };
    match &args.output {
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
        Some(path) => super::write_one(path, text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The manifest paths, stdin by name.
fn title(inputs: &[PathBuf]) -> String {
    let names: Vec<String> = inputs
        .iter()
        .map(|f| if f.as_os_str() == "-" { "standard input".into() } else { f.display().to_string() })
        .collect();
    names.join(" ")
}
