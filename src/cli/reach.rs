//! `kubeproof reach FROM TO [PORT] -f PATH...`: whether the NetworkPolicies
//! let one workload connect to another, and which policies decide it.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::model::Loaded;

#[derive(clap::Args)]
pub struct ReachArgs {
    /// The client: NAME, NAMESPACE/NAME, KIND/NAME or NAMESPACE/KIND/NAME.
    pub from: String,
    /// The server, written the same way (a Service name stands for the workload it selects).
    pub to: String,
    /// A port of the server: 5432, 53/UDP, or a container port name; without it, every declared port.
    pub port: Option<String>,
    /// Manifests (files, folders, `-` for stdin), or one platform description.
    #[arg(short = 'f', long = "file", required = true, num_args = 1..)]
    pub files: Vec<PathBuf>,
    /// With a description: the environment to generate (default: the base).
    #[arg(long)]
    pub env: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReachFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReachFormat {
    Text,
    Json,
}

/// Exit 0 allowed, 1 blocked, 2 bad input.
pub fn reach(args: &ReachArgs) -> ExitCode {
    let loaded = match load(args) {
        Ok(l) => l,
        Err(e) => return bad(&e),
    };
    match crate::reach::query(&loaded, &args.from, &args.to, args.port.as_deref()) {
        Ok(answer) => {
            let text = match args.format {
                ReachFormat::Text => answer.text(),
                ReachFormat::Json => format!("{:#}\n", answer.json()),
            };
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
            if answer.allowed() { ExitCode::SUCCESS } else { ExitCode::from(1) }
        }
        Err(e) => bad(&e),
    }
}

fn bad(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {message}");
    ExitCode::from(2)
}

/// Whether a file is a platform description rather than manifests.
fn is_description(path: &Path) -> bool {
    path.is_file()
        && std::fs::read_to_string(path)
            .is_ok_and(|t| t.lines().any(|l| l.trim_start().starts_with("apiVersion:") && l.contains("kubeproof.dev/")))
}

fn load(args: &ReachArgs) -> Result<Loaded, String> {
    load_input(&args.files, args.env.as_deref()).map(|i| i.loaded)
}

/// What `reach` and `graph` read: manifests, or the stack one description
/// generates (in memory) for an environment.
pub(super) struct Input {
    pub loaded: Loaded,
    /// The description resolved for the environment, when the input is one.
    pub resolved: Option<crate::description::resolve::Resolved>,
    /// `NAME (environment ENV)` or the manifest paths.
    pub title: String,
}

pub(super) fn load_input(files: &[PathBuf], env: Option<&str>) -> Result<Input, String> {
    if let [one] = files
        && is_description(one)
    {
        let platform = crate::description::load(one).map_err(|diags| {
            let color = std::io::stderr().is_terminal();
            let text = crate::render::render_all(&diags, &|p: &Path| std::fs::read_to_string(p).ok(), color);
            format!("{} is not a valid description:\n{text}", one.display())
        })?;
        let built = crate::build::build(&platform, one).map_err(|e| e.to_string())?;
        let (dir, stack) = match env {
            None => ("kustomize/base".to_string(), &built.base),
            Some(env) => match built.envs.iter().find(|(n, _)| n == env) {
                Some((n, s)) => (format!("kustomize/overlays/{n}"), s),
                None => {
                    let names: Vec<&str> = built.envs.iter().map(|(n, _)| n.as_str()).collect();
                    return Err(format!("no environment `{env}` in {}; it has: {}", one.display(), names.join(", ")));
                }
            },
        };
        let loaded = crate::build::stack_sources(&dir, stack).map_err(|e| e.to_string())?;
        let named = env.filter(|e| platform.environments.keys().any(|k| k.to_string() == *e));
        let resolved = crate::description::resolve::resolve(&platform, named, one).ok();
        let title = match env {
            Some(e) => format!("{} (environment {e})", platform.name.as_str()),
            None => platform.name.as_str().to_string(),
        };
        return Ok(Input { loaded, resolved, title });
    }
    if env.is_some() {
        return Err("--env applies to a platform description, not to manifests".into());
    }
    let loaded = crate::model::load::load(files);
    if let Some(e) = loaded.errors.first() {
        return Err(format!("{}:{}: {}", e.file.display(), e.pos.line, e.message));
    }
    let names: Vec<String> = files
        .iter()
        .map(|f| if f.as_os_str() == "-" { "standard input".into() } else { f.display().to_string() })
        .collect();
    Ok(Input { loaded, resolved: None, title: names.join(" ") })
}
