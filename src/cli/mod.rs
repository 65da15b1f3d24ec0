//! The command line: parse arguments, call the library, print, pick the exit
//! code (0 success, 1 refused or failed, 2 bad input or usage).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod budget;
mod check;
mod graph;
mod reach;

use crate::Error;
use crate::diag::Diagnostic;
use crate::emit::files::{self, WriteError};

#[derive(Parser)]
#[command(
    name = "kubeproof",
    version,
    about = "Generate a production Kubernetes stack from one platform description, and prove it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate the stack: a kustomize base and one overlay per environment.
    Gen {
        /// The platform description (platform.yaml).
        description: PathBuf,
        /// Output directory.
        #[arg(short, long, default_value = "deploy")]
        output: PathBuf,
        /// Overwrite generated files that were edited by hand.
        #[arg(long)]
        force: bool,
    },
    /// Write a commented starter description.
    Init {
        /// Where to write it.
        #[arg(default_value = "platform.yaml")]
        path: PathBuf,
        /// Start from a bundled example instead (see `--example list`).
        #[arg(long)]
        example: Option<String>,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the JSON Schema of the description format.
    Schema,
    /// Check manifests: schema, security, reliability and cross-object references.
    Check(check::CheckArgs),
    /// Whether the NetworkPolicies let FROM connect to TO, port by port, and which policies decide it.
    Reach(reach::ReachArgs),
    /// CPU, memory and storage per environment and namespace, at minimum and maximum scale, against capacity.
    Budget(budget::BudgetArgs),
    /// The platform as a picture (SVG or DOT): ingress, workloads, datastores, external hosts, and whether the network policies allow each connection.
    Graph(graph::GraphArgs),
    /// List every check with its code, severity and summary.
    Rules,
    /// Explain a check: what it finds, why it matters, an example and the fix.
    Explain {
        /// A check code (KP101) or name.
        code: String,
    },
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    match &cli.command {
        Command::Check(args) => return check::check(args),
        Command::Reach(args) => return reach::reach(args),
        Command::Budget(args) => return budget::budget(args),
        Command::Graph(args) => return graph::graph(args),
        Command::Rules => return check::list(),
        Command::Explain { code } => return check::explain(code),
        _ => {}
    }
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => report(&e),
    }
}

fn run(cmd: Command) -> Result<(), Error> {
    match cmd {
        Command::Gen { description, output, force } => gen_cmd(&description, &output, force),
        Command::Init { path, example, force } => init(&path, example.as_deref(), force),
        Command::Schema => {
            let schema = schemars::schema_for!(crate::description::Platform);
            let text = serde_json::to_string_pretty(&schema).map_err(|e| Error::Internal(e.to_string()))?;
            println!("{text}");
            Ok(())
        }
        Command::Check(_)
        | Command::Reach(_)
        | Command::Budget(_)
        | Command::Graph(_)
        | Command::Rules
        | Command::Explain { .. } => Ok(()),
    }
}

fn gen_cmd(description: &Path, output: &Path, force: bool) -> Result<(), Error> {
    let platform = crate::description::load(description).map_err(Error::Description)?;
    let built = crate::build::build(&platform, description)?;
    let (report, errors) = proof_report(&crate::build::prove(&built, &platform)?);
    if errors > 0 {
        return Err(Error::Findings { report, errors });
    }
    if !report.is_empty() {
        let _ = write!(std::io::stderr(), "{report}");
    }
    let report = files::write_tree(output, &built.tree, force)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "kubeproof: {} → {} ({} files: {} written, {} unchanged{}{})",
        description.display(),
        output.display(),
        built.tree.len(),
        report.written.len() + report.overwritten_edits.len(),
        report.unchanged.len(),
        if report.removed.is_empty() { String::new() } else { format!(", {} stale removed", report.removed.len()) },
        if report.overwritten_edits.is_empty() {
            String::new()
        } else {
            format!(", {} edited files overwritten (--force)", report.overwritten_edits.len())
        },
    );
    for p in &report.kept_edited_stale {
        let _ = writeln!(out, "  kept (edited, no longer generated): {}", p.display());
    }
    let _ = write!(out, "{}", summary_table(&built.summary()));
    Ok(())
}

/// The findings of kubeproof's checks on each environment (warnings and
/// errors; info is left out), and the number of errors.
fn proof_report(proof: &[(String, crate::model::Loaded, crate::check::Outcome)]) -> (String, usize) {
    let color = std::io::stderr().is_terminal();
    let mut text = String::new();
    let mut errors = 0;
    for (env, loaded, outcome) in proof {
        let shown: Vec<_> =
            outcome.findings.iter().filter(|f| f.severity > crate::diag::Severity::Info).cloned().collect();
        if shown.is_empty() {
            continue;
        }
        errors += shown.iter().filter(|f| f.severity == crate::diag::Severity::Error).count();
        let only = crate::check::Outcome { findings: shown, objects: outcome.objects };
        text.push_str(&format!("kubeproof check, environment {env}:\n"));
        text.push_str(&crate::check::report::render(crate::check::report::Format::Text, loaded, &only, color));
    }
    (text, errors)
}

/// Objects per kind (rows) per environment (columns).
fn summary_table(s: &std::collections::BTreeMap<String, std::collections::BTreeMap<String, usize>>) -> String {
    let envs: Vec<&String> = s.keys().collect();
    let mut kinds: Vec<&String> = s.values().flat_map(|m| m.keys()).collect();
    kinds.sort();
    kinds.dedup();
    let width = kinds.iter().map(|k| k.len()).max().unwrap_or(4).max(5);
    let mut t = format!("{:width$}", "kind");
    for e in &envs {
        t.push_str(&format!("  {e:>10}"));
    }
    t.push('\n');
    for k in kinds {
        t.push_str(&format!("{k:width$}"));
        for e in &envs {
            let n = s.get(*e).and_then(|m| m.get(k)).copied().unwrap_or(0);
            t.push_str(&format!("  {n:>10}"));
        }
        t.push('\n');
    }
    t.push_str(&format!("{:width$}", "total"));
    for e in &envs {
        let n: usize = s.get(*e).map_or(0, |m| m.values().sum());
        t.push_str(&format!("  {n:>10}"));
    }
    t.push('\n');
    t
}

fn init(path: &Path, example: Option<&str>, force: bool) -> Result<(), Error> {
    let text = match example {
        // What `--help` promises: the bundled examples, one a line; nothing is written.
        Some("list") => {
            for (name, _) in crate::description::starter::EXAMPLES {
                println!("{name}");
            }
            return Ok(());
        }
        None => crate::description::starter::STARTER,
        Some(name) => match crate::description::starter::example(name) {
            Some(t) => t,
            None => {
                return Err(Error::Usage(format!(
                    "no bundled example `{name}`; the examples are: {}",
                    crate::description::starter::EXAMPLES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )));
            }
        },
    };
    if path.exists() && !force {
        return Err(Error::Usage(format!("{} exists already; use --force to overwrite it", path.display())));
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::Usage(format!("{} is not a file path", path.display())))?;
    // `init` writes one file a person will edit: no manifest bookkeeping.
    write_one(dir, name.as_ref(), text.as_bytes())?;
    println!("kubeproof: wrote {}; next: kubeproof gen {} -o deploy", path.display(), path.display());
    Ok(())
}

fn write_one(dir: &Path, name: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |e: std::io::Error| Error::Write(WriteError::Io { path: dir.join(name), source: e });
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.persist(dir.join(name)).map_err(|e| io(e.error))?;
    Ok(())
}

/// Prints an error the way a person can act on it; returns the exit code.
fn report(e: &Error) -> ExitCode {
    let color = std::io::stderr().is_terminal();
    let mut err = std::io::stderr().lock();
    match e {
        Error::Description(diags) => {
            let text = crate::render::render_all(diags, &|p: &Path| std::fs::read_to_string(p).ok(), color);
            let _ = writeln!(err, "{text}\n");
            let _ = writeln!(err, "error: {} has {} error(s); nothing was written", file_of(diags), diags.len());
            ExitCode::from(2)
        }
        Error::Usage(m) => {
            let _ = writeln!(err, "error: {m}");
            ExitCode::from(2)
        }
        Error::Write(w @ WriteError::Edited { .. }) => {
            let _ = writeln!(err, "error: {w}");
            ExitCode::from(1)
        }
        other => {
            let _ = writeln!(err, "error: {other}");
            ExitCode::from(1)
        }
    }
}

fn file_of(diags: &[Diagnostic]) -> String {
    diags.first().map_or_else(|| "the description".into(), |d| d.file.display().to_string())
}
