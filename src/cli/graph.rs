//! `kubeproof graph platform.yaml [--env ENV] [-o FILE] [--format svg|dot]`
//! or `kubeproof graph -f PATH...`: the platform as a picture.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Svg,
    Dot,
}

/// Exit 0 written, 1 the output could not be written, 2 bad input.
pub fn graph(args: &GraphArgs) -> ExitCode {
    let mut inputs = args.paths.clone();
    inputs.extend(args.files.iter().cloned());
    if inputs.is_empty() {
        return bad("give a platform description or manifests (files, folders, `-` for stdin)");
    }
    let input = match super::reach::load_input(&inputs, args.env.as_deref()) {
        Ok(i) => i,
        Err(e) => return bad(&e),
    };
    let mut declared = input.resolved.as_ref().map(crate::graph::Declared::of).unwrap_or_default();
    if let Some(ns) = &args.ingress_namespace {
        declared.ingress_namespace = Some(ns.clone());
    }
    let g = crate::graph::graph(&input.loaded, &declared, &input.title);
    let text = match args.format {
        GraphFormat::Svg => crate::graph::svg::render(&g),
        GraphFormat::Dot => crate::graph::dot::render(&g),
    };
    match &args.output {
        None => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            ExitCode::SUCCESS
        }
        Some(path) => {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let Some(name) = path.file_name() else { return bad(&format!("{} is not a file path", path.display())) };
            match super::write_one(dir, name.as_ref(), text.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let _ = writeln!(std::io::stderr(), "error: {e}");
                    ExitCode::from(1)
                }
            }
        }
    }
}

fn bad(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::from(2)
}
