//! Reports of a run: text like rustc, JSON, SARIF 2.1.0 and JUnit XML.
//! Every format carries the same findings; input errors (files that could
//! not be read) are reported alongside, as errors without a code.

pub mod junit;
pub mod sarif;

use serde::Serialize;

use super::{Finding, Loaded, Outcome, Severity, diagnostic};
use crate::diag::Diagnostic;

/// The output formats of `kubeproof check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style, with source snippets.
    Text,
    /// One JSON document with every finding and input error.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and SARIF viewers.
    Sarif,
    /// JUnit XML, for the test tabs of GitLab, Jenkins and others.
    Junit,
}

/// Renders a run in `format`.
pub fn render(format: Format, loaded: &Loaded, outcome: &Outcome, color: bool) -> String {
    match format {
        Format::Text => text(loaded, outcome, color),
        Format::Json => json(loaded, outcome),
        Format::Sarif => sarif::render(loaded, outcome),
        Format::Junit => junit::render(loaded, outcome),
    }
}

/// Counts by severity: (errors, warnings, infos), input errors included.
pub fn counts(loaded: &Loaded, findings: &[Finding]) -> (usize, usize, usize) {
    let by = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    (by(Severity::Error) + loaded.errors.len(), by(Severity::Warning), by(Severity::Info))
}

fn text(loaded: &Loaded, outcome: &Outcome, color: bool) -> String {
    let mut diags: Vec<Diagnostic> = loaded.errors.clone();
    diags.extend(outcome.findings.iter().map(|f| diagnostic(f, loaded)));
    // One lookup per file shown (the first source of a name, as `find` would).
    let mut by_name = std::collections::HashMap::new();
    for s in &loaded.sources {
        by_name.entry(s.name.as_path()).or_insert(s.text.as_str());
    }
    let sources = |p: &std::path::Path| by_name.get(p).map(|t| std::borrow::Cow::Borrowed(*t));
    let mut out = crate::diag::render::render_all(&diags, &sources, color);
    let (e, w, i) = counts(loaded, &outcome.findings);
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "{} object(s) in {} file(s): {e} error(s), {w} warning(s), {i} info\n",
        outcome.objects,
        loaded.sources.len()
    ));
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    objects: usize,
    files: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    findings: Vec<JsonFinding<'a>>,
    /// Inputs that could not be read or parsed.
    input_errors: &'a [Diagnostic],
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    name: &'a str,
    severity: Severity,
    file: String,
    line: u32,
    column: u32,
    api_version: &'a str,
    kind: &'a str,
    namespace: Option<&'a str>,
    object: &'a str,
    pointer: &'a str,
    message: &'a str,
    help: Option<&'a str>,
}

fn json(loaded: &Loaded, outcome: &Outcome) -> String {
    let (errors, warnings, infos) = counts(loaded, &outcome.findings);
    let findings = outcome
        .findings
        .iter()
        .map(|f| {
            let o = &loaded.objects[f.object];
            let pos = o.pos(&f.pointer);
            JsonFinding {
                code: f.code,
                name: super::rules::find(f.code).map_or("", |c| c.meta().name),
                severity: f.severity,
                file: loaded.sources[o.source].name.display().to_string(),
                line: pos.line,
                column: pos.column,
                api_version: &o.api_version,
                kind: &o.kind,
                namespace: (!crate::model::gvk::cluster_scoped(&o.kind)).then(|| o.ns()),
                object: &o.name,
                pointer: &f.pointer,
                message: &f.message,
                help: f.help.as_deref(),
            }
        })
        .collect();
    let report = JsonReport {
        objects: outcome.objects,
        files: loaded.sources.len(),
        errors,
        warnings,
        infos,
        findings,
        input_errors: &loaded.errors,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default() + "\n"
}
