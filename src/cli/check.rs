//! `kubeproof check`, `rules` and `explain`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use super::color::Style;
use super::input::MemoryBudget;
use crate::check::config::Config;
use crate::check::report::{self, Format};
use crate::check::rules;
use crate::model::schema::parse_minor;
use crate::{Error, Invalid};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Files or folders (searched for *.yaml, *.yml, *.json); `-` reads stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Target Kubernetes version (default: the config's, else the newest vendored).
    #[arg(long, value_name = "VERSION")]
    pub kubernetes: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Configuration file (default: the `.kubeproof.yaml` nearest to the first path, in its folder or a parent).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The namespace the manifests are applied to (`kubectl apply -n`):
    /// objects written without one are there. Without it they are in
    /// `default`, and a reference from another namespace may mean them.
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub memory_budget: MemoryBudget,
}

/// Exit 0 clean, 1 error-level findings, 2 unusable input (its errors are in
/// the report); errors: 2 bad configuration or usage.
pub fn check(args: &CheckArgs, style: Style) -> Result<ExitCode, Error> {
    let mut config = load_config(args.config.as_deref(), &args.paths).map_err(Invalid::new)?;
    if let Some(v) = &args.kubernetes {
        parse_minor(v).map_err(|e| Error::Usage(format!("--kubernetes: {e}")))?;
        config.kubernetes = Some(v.clone());
    }
    if let Some(ns) = &args.namespace
        && !crate::model::is_label(ns)
    {
        return Err(Error::Usage(format!("--namespace: `{ns}` is not a namespace name (a DNS label: a-z, 0-9, `-`)")));
    }
    let budget = args.memory_budget.bytes()?;
    let (loaded, outcome) = crate::check::run_inputs(&args.paths, &config, args.namespace.as_deref(), budget);
    super::input::print_notes(&loaded.notes);
    warn_if_nothing_read(&loaded);
    let color = args.format == Format::Text && style.stdout;
    // Streamed: the report of a million findings is never held whole. A
    // closed stdout (`| head`) only ends the report early.
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let _ = report::write(args.format, &loaded, &outcome, color, &mut out).and_then(|()| out.flush());
    let (errors, _, _) = report::counts(&loaded, &outcome.findings);
    let code = if !loaded.errors.is_empty() {
        ExitCode::from(2)
    } else if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    super::left_to_exit((loaded, outcome));
    Ok(code)
}

/// An empty stream (a `kubectl kustomize` that printed nothing) or a folder
/// of other files passes silently otherwise: say that nothing was checked.
fn warn_if_nothing_read(loaded: &crate::model::Loaded) {
    let manifests = loaded.objects.iter().filter(|o| o.api_version != crate::model::load::files::FILE_API).count();
    if manifests == 0 && loaded.errors.is_empty() {
        eprintln!("warning: no Kubernetes object was read: nothing was checked");
    }
}

/// The run's configuration: `--config`, else the `.kubeproof.yaml` nearest
/// to the first checked path (in its folder or a parent, as git and ruff
/// look; the current folder for `-`), else the defaults.
///
/// One configuration serves the whole run: the checks relate objects across
/// files (a Service in one, its Deployment in another), and a target version
/// or a severity that changed from file to file would make those findings
/// depend on which file holds which object. Paths whose nearest
/// configurations differ get a warning naming both, so the choice is seen.
fn load_config(path: Option<&Path>, paths: &[PathBuf]) -> Result<Config, Vec<crate::diag::Diagnostic>> {
    if let Some(p) = path {
        return Config::read(p);
    }
    let found: Vec<Option<PathBuf>> = paths.iter().map(|p| nearest_config(p)).collect();
    let Some(first) = found.first().cloned().flatten() else {
        return Ok(Config::default());
    };
    if let Some(other) = found.iter().flatten().find(|c| **c != first) {
        eprintln!(
            "warning: the checked paths have different configurations: {} (used) and {}; \
             check them in separate runs, or choose one with --config",
            first.display(),
            other.display()
        );
    }
    Config::read(&first)
}

/// The `.kubeproof.yaml` in the folder of `path` (itself, when a folder) or
/// its nearest parent, shown relative to the current folder when under it.
fn nearest_config(path: &Path) -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let start = if path == Path::new("-") {
        cwd.clone()
    } else {
        let abs = cwd.join(path);
        if abs.is_dir() { abs } else { abs.parent()?.to_path_buf() }
    };
    let found = start.ancestors().map(|dir| dir.join(".kubeproof.yaml")).find(|c| c.is_file())?;
    Some(match found.strip_prefix(&cwd) {
        Ok(rel) => rel.to_path_buf(),
        Err(_) => found,
    })
}

/// `kubeproof rules`: one line per check.
pub fn list() -> Result<ExitCode, Error> {
    let mut out = std::io::stdout().lock();
    for c in rules::registry() {
        let m = c.meta();
        let _ = writeln!(out, "{}  {:<7}  {:<36}  {}", m.code, m.severity.to_string(), m.name, m.summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// `kubeproof explain CODE`: the check's documentation and its fixtures.
pub fn explain(code: &str) -> Result<ExitCode, Error> {
    let Some(c) = rules::find(code) else {
        let codes = rules::registry().iter().map(|c| c.meta().code);
        let hint = crate::diag::did_you_mean(&code.to_ascii_uppercase(), codes)
            .map_or_else(|| " (see `kubeproof rules`)".to_string(), |s| format!("; did you mean {s}?"));
        return Err(Error::Usage(format!("no check `{code}`{hint}")));
    };
    let _ = std::io::stdout().lock().write_all(explanation(c.meta()).as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// The documentation of a check as Markdown.
pub fn explanation(m: &crate::check::Meta) -> String {
    format!(
        "# {} {}\n\nSeverity: {} · family: {}\n\n## What it does\n{}\n\n## Why it matters\n{}\n\n\
         ## Example that fails\n```yaml\n{}\n```\n\n## Fix\n{}\n\n## Example that passes\n```yaml\n{}\n```\n",
        m.code,
        m.name,
        m.severity,
        format!("{:?}", m.family).to_lowercase(),
        m.what,
        m.why,
        m.fail.trim(),
        m.fix,
        m.pass.trim()
    )
}
