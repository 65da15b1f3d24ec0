//! The command line: parse arguments, call the library, print.
//!
//! Every subcommand returns `Result<ExitCode, Error>`: the code of its answer
//! (reach's 1 = blocked, budget's 1 = does not fit, check's 1 = findings), or
//! an error that `report` alone prints and maps to an exit code: 0 success,
//! 1 refused or failed, 2 bad input or usage. Colour is decided once, in
//! `color::Style::decide`, and passed down.

use std::borrow::Cow;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

mod budget;
mod check;
mod color;
mod diff;
mod generate;
mod graph;
mod input;
mod reach;

use crate::{Error, Invalid};
use color::{ColorChoice, Style};

#[derive(Parser)]
#[command(
    name = "kubeproof",
    version,
    about = "Generate a production Kubernetes stack from one platform description, and prove it"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to colour output (auto: on a terminal, unless NO_COLOR is set).
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value = "auto")]
    color: ColorChoice,
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
        /// Write even when an environment at its release peak exceeds `cluster.capacity`.
        #[arg(long)]
        over_capacity: bool,
        /// Write even when applying over the earlier generation is refused by the API server or
        /// loses data (gen then lists the objects to delete first).
        #[arg(long)]
        allow_replace: bool,
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
    /// What applying NEW over OLD does, object by object and field by field: refused by the API server (immutable fields), loses data, recreates pods, affects connections.
    Diff(diff::DiffArgs),
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

/// What a command does with the memory it frees, for the binary's
/// allocator (see [`main_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freed {
    /// Handed back to the system after a while (the allocator's default):
    /// `check` keeps its peak within a budget.
    Returned,
    /// Kept for the command to allocate again: `gen` runs for some tens of
    /// milliseconds in a few dozen MiB, and handing freed pages back only
    /// to fault them in (zeroed) again moments later cost it system time.
    Kept,
}

pub fn main() -> ExitCode {
    main_with(|_| {})
}

/// [`main`], telling `allocator` what the parsed command does with the
/// memory it frees, before it allocates much.
pub fn main_with(allocator: impl FnOnce(Freed)) -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    let cli = match parse(&args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(2) } else { ExitCode::SUCCESS };
        }
    };
    huge_pages(&cli.command);
    allocator(if matches!(cli.command, Command::Gen { .. }) { Freed::Kept } else { Freed::Returned });
    let style = Style::decide(cli.color);
    run(cli.command, style).unwrap_or_else(|e| report(e, style))
}

/// mimalloc asks for transparent huge pages on its arenas: a 2 MiB page is
/// resident once one byte of it is touched. `check` on 100,000 objects
/// peaked at 206 MiB with them, 164 MiB without, in the same time, so every
/// command but `gen` goes without; `gen`, a few dozen MiB, took 8,000–10,000
/// page faults without them and about 500 with, and a sixth less wall time
/// (BENCHMARKS.md). Before anything large is allocated; best effort.
fn huge_pages(cmd: &Command) {
    #[cfg(target_os = "linux")]
    if !matches!(cmd, Command::Gen { .. }) {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cmd;
}

/// Parses the arguments; clap's own help and errors follow `--color` too.
fn parse(args: &[OsString]) -> Result<Cli, clap::Error> {
    let mut cmd = Cli::command().color(ColorChoice::among(args).clap());
    let matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

/// A command's data, left to the process's exit: the command is done and
/// the process ends next, handing its memory back to the system whole.
/// Freeing it first, one allocation at a time, took about a twentieth of
/// `gen`'s wall time (BENCHMARKS.md).
fn left_to_exit<T>(data: T) {
    std::mem::forget(data);
}

/// Runs one subcommand: the exit code of its answer, or the error that ended it.
fn run(cmd: Command, style: Style) -> Result<ExitCode, Error> {
    match cmd {
        Command::Gen { description, output, force, over_capacity, allow_replace } => {
            let options = generate::Options { force, over_capacity, allow_replace };
            generate::gen_cmd(&description, &output, options, style)
        }
        Command::Init { path, example, force } => generate::init(&path, example.as_deref(), force),
        Command::Schema => generate::schema(),
        Command::Check(args) => check::check(&args, style),
        Command::Reach(args) => reach::reach(&args),
        Command::Budget(args) => budget::budget(&args),
        Command::Graph(args) => graph::graph(&args),
        Command::Diff(args) => diff::diff(&args),
        Command::Rules => check::list(),
        Command::Explain { code } => check::explain(&code),
    }
}

/// Writes one file atomically, without `gen`'s manifest bookkeeping.
fn write_one(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    if path.file_name().is_none() {
        return Err(Error::Usage(format!("{} is not a file path", path.display())));
    }
    Ok(crate::emit::files::write_file(path, bytes)?)
}

/// The one place that prints an error, the way a person can act on it, and
/// picks its exit code.
fn report(e: Error, style: Style) -> ExitCode {
    let mut err = std::io::stderr().lock();
    match e {
        Error::Description(diags) => {
            let file = diags.first().map_or_else(|| "the description".into(), |d| d.file.display().to_string());
            let summary = format!("{file} has {} error(s)", diags.len());
            let _ = write!(err, "{}", shown(&Invalid::new(diags).summary(summary), style.stderr));
            ExitCode::from(2)
        }
        Error::Input(invalid) => {
            let _ = write!(err, "{}", shown(&invalid, style.stderr));
            ExitCode::from(2)
        }
        Error::Usage(m) => {
            let _ = writeln!(err, "error: {m}");
            ExitCode::from(2)
        }
        Error::Write(_)
        | Error::Findings { .. }
        | Error::Blocked(_)
        | Error::OverCapacity(_)
        | Error::Replace(_)
        | Error::Internal(_) => {
            let _ = writeln!(err, "error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Diagnostics with their source snippets, between the heading and the summary.
fn shown(invalid: &Invalid, color: bool) -> String {
    let sources = |p: &Path| match invalid.sources.iter().find(|(name, _)| name == p) {
        Some((_, text)) => Some(Cow::Borrowed(text.as_str())),
        // A regular file the loader did not refuse (a device or a FIFO may
        // never end; reading one again would read other bytes).
        None => std::fs::metadata(p)
            .is_ok_and(|m| m.is_file())
            .then(|| crate::model::load::read_file(p).ok())
            .flatten()
            .and_then(|b| String::from_utf8(b).ok())
            .map(Cow::Owned),
    };
    let mut out = String::new();
    if let Some(h) = &invalid.heading {
        out.push_str(&format!("error: {h}:\n"));
    }
    out.push_str(&crate::diag::render::render_all(&invalid.diagnostics, &sources, color));
    out.push('\n');
    if let Some(s) = &invalid.summary {
        out.push_str(&format!("\nerror: {s}\n"));
    }
    out
}
