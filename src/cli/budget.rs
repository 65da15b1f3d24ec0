//! `kubeproof budget`: a thin layer over [`crate::budget`].

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::budget::{self, Budget, Capacity, Item, render};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BudgetFormat {
    Table,
    Json,
}

#[derive(clap::Args)]
pub struct BudgetArgs {
    /// A platform description (platform.yaml), or manifests: files, folders, `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Only this environment of the description.
    #[arg(long)]
    pub env: Option<String>,
    /// Cluster capacity, over the description's: `cpu=4,memory=24Gi,storage=200Gi,nodes=3` (any of them).
    #[arg(long, value_name = "LIST")]
    pub capacity: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: BudgetFormat,
}

/// Exit 0 when the requests at minimum scale fit (or no capacity is known),
/// 1 when they exceed the capacity, 2 on unusable input or usage.
pub fn budget(args: &BudgetArgs) -> ExitCode {
    let capacity = match args.capacity.as_deref().map(Capacity::parse).transpose() {
        Ok(c) => c,
        Err(e) => return usage(&format!("--capacity: {e}")),
    };
    // A description is one file (or stdin) whose apiVersion is kubeproof's.
    let stdin = args.paths.len() == 1 && args.paths[0] == Path::new("-");
    let mut stdin_bytes = None;
    if stdin {
        let mut bytes = Vec::new();
        let max = crate::model::load::MAX_INPUT_BYTES;
        match std::io::stdin().lock().take(max + 1).read_to_end(&mut bytes) {
            Err(e) => return usage(&format!("cannot read stdin: {e}")),
            Ok(n) if n as u64 > max => return usage(&format!("stdin: larger than {} MiB: not read", max >> 20)),
            Ok(_) => {}
        }
        stdin_bytes = Some(bytes);
    }
    let description = match (&stdin_bytes, args.paths.as_slice()) {
        (Some(b), _) => is_description(&String::from_utf8_lossy(b)).then(|| String::from_utf8_lossy(b).into_owned()),
        (None, [p]) if p.is_file() => std::fs::read_to_string(p).ok().filter(|t| is_description(t)),
        _ => None,
    };
    if let Some(text) = description {
        let file = if stdin { PathBuf::from("<stdin>") } else { args.paths[0].clone() };
        return from_description(&text, &file, args, capacity.as_ref());
    }
    if args.env.is_some() {
        return usage("--env applies to a platform description, not to manifests");
    }
    let loaded = match stdin_bytes {
        Some(bytes) => {
            let mut l = crate::model::Loaded::default();
            crate::model::load::add_bytes(&mut l, PathBuf::from("<stdin>"), bytes);
            l
        }
        None => crate::model::load::load(&args.paths),
    };
    if !loaded.errors.is_empty() {
        let sources = |p: &Path| loaded.sources.iter().find(|s| s.name == p).map(|s| s.text.clone());
        let text = crate::render::render_all(&loaded.errors, &sources, color());
        let _ = writeln!(std::io::stderr(), "{text}\n\nerror: the input has {} error(s)", loaded.errors.len());
        return ExitCode::from(2);
    }
    let capacity = capacity.unwrap_or_default();
    let items: Vec<Item> = loaded.objects.iter().map(Item::of_checked).collect();
    let b = Budget::of(&items, capacity.nodes);
    let text = match args.format {
        BudgetFormat::Table => render::manifests_text(&b, &capacity),
        BudgetFormat::Json => render::manifests_json(&b, &capacity),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    if b.fits(&capacity) { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn from_description(text: &str, file: &Path, args: &BudgetArgs, capacity: Option<&Capacity>) -> ExitCode {
    let result = crate::description::parse(text, file)
        .map_err(crate::Error::Description)
        .and_then(|p| budget::of_description(&p, file, args.env.as_deref(), capacity));
    let envs = match result {
        Ok(e) => e,
        Err(crate::Error::Description(diags)) => {
            let owned = text.to_string();
            let sources = move |p: &Path| (p == file).then(|| owned.clone());
            let rendered = crate::render::render_all(&diags, &sources, color());
            let _ = writeln!(std::io::stderr(), "{rendered}\n\nerror: {} has {} error(s)", file.display(), diags.len());
            return ExitCode::from(2);
        }
        Err(e) => return super::report(&e),
    };
    let out = match args.format {
        BudgetFormat::Table => render::environments_text(&envs),
        BudgetFormat::Json => render::environments_json(&envs),
    };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    if envs.iter().all(|e| e.budget.fits(&e.capacity)) { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// Whether a text is a platform description (`apiVersion: kubeproof.dev/…`).
fn is_description(text: &str) -> bool {
    text.lines().any(|l| {
        l.strip_prefix("apiVersion:")
            .map(|v| v.trim().trim_matches(['"', '\'']))
            .is_some_and(|v| v.starts_with("kubeproof.dev/"))
    })
}

fn usage(m: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {m}");
    ExitCode::from(2)
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}
