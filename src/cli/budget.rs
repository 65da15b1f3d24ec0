//! `kubeproof budget`: a thin layer over [`crate::budget`].

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::input::{Description, Input, MemoryBudget};
use crate::Error;
use crate::budget::{self, render};
use crate::model::resources::{Budget, Capacity, Item};

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
    #[command(flatten)]
    pub memory_budget: MemoryBudget,
}

/// Exit 0 when the requests at minimum scale fit (or no capacity is known),
/// 1 when they exceed the capacity; errors: 2 unusable input or usage.
pub fn budget(args: &BudgetArgs) -> Result<ExitCode, Error> {
    let capacity = args
        .capacity
        .as_deref()
        .map(Capacity::parse)
        .transpose()
        .map_err(|e| Error::Usage(format!("--capacity: {e}")))?;
    let loaded = match Input::read(&args.paths, args.env.as_deref(), args.memory_budget)? {
        Input::Description(d) => return from_description(&d, args, capacity.as_ref()),
        Input::Manifests(loaded) => *loaded,
    };
    let uncountable = budget::uncountable(&loaded);
    if !uncountable.is_empty() {
        let count = uncountable.len();
        let mut invalid = crate::Invalid::new(uncountable).summary(format!("the input has {count} error(s)"));
        for s in loaded.sources {
            if invalid.diagnostics.iter().any(|d| d.file == s.name) {
                invalid = invalid.source(s.name, s.text);
            }
        }
        return Err(invalid.into());
    }
    let capacity = capacity.unwrap_or_default();
    let items: Vec<Item> = loaded.objects.iter().map(Item::of_checked).collect();
    let b = Budget::of(&items, capacity.nodes);
    if b.saturated() {
        return Err(saturated(&loaded, &b));
    }
    let text = match args.format {
        BudgetFormat::Table => render::manifests_text(&b, &capacity),
        BudgetFormat::Json => render::manifests_json(&b, &capacity),
    };
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(if b.fits(&capacity) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn from_description(d: &Description, args: &BudgetArgs, capacity: Option<&Capacity>) -> Result<ExitCode, Error> {
    let platform = d.parse().map_err(|diags| d.has_errors(diags))?;
    let envs = budget::of_description(&platform, &d.file, args.env.as_deref(), capacity).map_err(|e| match e {
        Error::Description(diags) => d.has_errors(diags),
        other => other,
    })?;
    let out = match args.format {
        BudgetFormat::Table => render::environments_text(&envs),
        BudgetFormat::Json => render::environments_json(&envs),
    };
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    Ok(if envs.iter().all(|e| e.budget.fits(&e.capacity)) { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The sums saturated: the error names the workload with the largest share,
/// at its replicas (or the object), so that the figure to fix can be found.
fn saturated(loaded: &crate::model::Loaded, b: &Budget) -> Error {
    const WHY: &str = "the sums are too large to count (past 18 million million cores or 16 EiB): \
                       a quantity or a replica count is far out of range";
    let found = b.largest_in_saturated().and_then(|w| {
        let o = loaded.objects.iter().find(|o| {
            o.kind == w.kind && o.name == w.name && o.namespace.as_deref().unwrap_or("default") == w.namespace
        })?;
        let source = loaded.sources.get(o.source)?;
        let at = if o.value.pointer("/spec/replicas").is_some() { "/spec/replicas" } else { "" };
        Some((w, o, source, at))
    });
    let Some((w, o, source, at)) = found else { return Error::Usage(WHY.into()) };
    let d = crate::diag::Diagnostic::error(&source.name, o.pos(at), WHY.to_string()).with_help(format!(
        "{} `{}/{}` has the largest share: {} replicas at most",
        w.kind, w.namespace, w.name, w.max_replicas
    ));
    crate::Invalid::new(vec![d]).source(source.name.clone(), source.text.clone()).into()
}
