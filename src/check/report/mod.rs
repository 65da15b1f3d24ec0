//! Reports of a run: text like rustc, JSON, SARIF 2.1.0 and JUnit XML.
//! Every format carries the same findings; input errors (files that could
//! not be read) are reported alongside, as errors without a code.

pub mod junit;
pub mod sarif;

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::{Finding, Loaded, Outcome, Severity, diagnostic};
use crate::diag::render::Snippets;
use crate::diag::{Diagnostic, MESSAGE_MAX, clip, clip_at};
use crate::model::load::Shown;

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

/// Renders a run in `format` (for tests and `gen`, whose reports are small;
/// `kubeproof check` streams with [`write()`]).
pub fn render(format: Format, loaded: &Loaded, outcome: &Outcome, color: bool) -> String {
    let mut out = Vec::new();
    // Writing to memory fails only on a serializer error, which leaves the report cut.
    let _ = write(format, loaded, outcome, color, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Writes a run in `format` to `out` finding by finding, as each is
/// rendered: 40,000 Deployments gave 1.5 GB of text and peaked at 1.5 GB
/// (1.7 GB as SARIF) when the report was built whole before being written.
pub fn write(format: Format, loaded: &Loaded, outcome: &Outcome, color: bool, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text(loaded, outcome, color, out),
        Format::Json => json(loaded, outcome, out),
        Format::Sarif => sarif::write(loaded, outcome, out),
        Format::Junit => junit::write(loaded, outcome, out),
    }
}

/// A sequence serialized as it is iterated (`F` makes the iterator): the
/// findings of a report are never all held as JSON at once.
pub(crate) struct Stream<F>(pub F);

impl<F, I> Serialize for Stream<F>
where
    F: Fn() -> I,
    I: Iterator,
    I::Item: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq((self.0)())
    }
}

/// Counts by severity: (errors, warnings, infos), input errors included.
pub fn counts(loaded: &Loaded, findings: &[Finding]) -> (usize, usize, usize) {
    let by = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    (by(Severity::Error) + loaded.errors.len(), by(Severity::Warning), by(Severity::Info))
}

/// The findings whose lines are read from a file at a time: a few hundred
/// kilobytes of lines, however large the file (fewer in tests, which
/// cross batches with a few hundred objects).
const LINES_BATCH: usize = if cfg!(test) { 256 } else { 4096 };

/// The lines shown for diagnostics at `lines`, as [`Snippets`] shows them.
fn wanted(lines: impl IntoIterator<Item = u32>) -> Vec<usize> {
    crate::diag::render::shown_lines(lines.into_iter().map(|n| n as usize))
}

fn text(loaded: &Loaded, outcome: &Outcome, color: bool, out: &mut dyn Write) -> io::Result<()> {
    // One lookup per file shown (the first source of a name, as `find`
    // would); a text let go after reading is read again, only for the
    // files that have something to show.
    let mut first = std::collections::HashMap::new();
    for (i, s) in loaded.sources.iter().enumerate() {
        first.entry(s.name.as_path()).or_insert(i);
    }
    let text_of = |name: &Path| first.get(name).and_then(|&i| loaded.text(i));
    let mut any = false;
    let mut emit = |shown: String| -> io::Result<()> {
        if any {
            out.write_all(b"\n\n")?;
        }
        any = true;
        out.write_all(shown.as_bytes())
    };
    // The input errors first, with the lines of their files.
    let mut lines: std::collections::BTreeMap<&Path, Vec<u32>> = std::collections::BTreeMap::new();
    for d in &loaded.errors {
        lines.entry(d.file.as_path()).or_default().push(d.pos.line);
    }
    let mut texts: Vec<(&Path, Cow<'_, str>)> = Vec::new();
    let mut shown: Vec<(&Path, Shown)> = Vec::new();
    for (name, at) in lines {
        match first.get(name).and_then(|&i| loaded.line_reader(i)) {
            Some(mut reader) => shown.push((name, reader.take(&wanted(at)))),
            None => texts.extend(text_of(name).map(|t| (name, t))),
        }
    }
    let wanted_lines = loaded.errors.iter().map(|d| (d.file.as_path(), d.pos.line));
    let held = Snippets::new(wanted_lines, |p| texts.iter().find(|(name, _)| *name == p).map(|(_, t)| t.as_ref()));
    let read: HashMap<&Path, Snippets> = shown
        .iter_mut()
        .map(|(name, s)| (*name, Snippets::shown(name, &s.text, std::mem::take(&mut s.lines))))
        .collect();
    for d in &loaded.errors {
        emit(read.get(d.file.as_path()).unwrap_or(&held).render(d, color))?;
    }
    drop((held, read));
    drop((texts, shown));
    // Then the findings, sorted by input and place: each input's text is
    // read for its own findings and let go before the next (holding every
    // text shown at once took 200 MB on a million objects). A text let go
    // after reading is read again forward, the lines of a batch of findings
    // at a time, not whole.
    let source = |f: &Finding| loaded.objects[f.object].source;
    let line = |f: &Finding| f.pos(&loaded.objects[f.object]).line;
    for group in outcome.findings.chunk_by(|a, b| source(a) == source(b)) {
        let id = source(&group[0]);
        let name = loaded.sources[id].name.as_path();
        if let Some(mut reader) = loaded.line_reader(id) {
            for batch in group.chunks(LINES_BATCH) {
                let shown = reader.take(&wanted(batch.iter().map(line)));
                let snippets = Snippets::shown(name, &shown.text, shown.lines);
                for f in batch {
                    emit(snippets.render(&diagnostic(f, loaded), color))?;
                }
            }
            continue;
        }
        let text = text_of(name);
        let wanted = group.iter().map(|f| (name, line(f)));
        let snippets = Snippets::new(wanted, |_| text.as_deref());
        for f in group {
            emit(snippets.render(&diagnostic(f, loaded), color))?;
        }
    }
    if any {
        out.write_all(b"\n\n")?;
    }
    let (e, w, i) = counts(loaded, &outcome.findings);
    writeln!(
        out,
        "{} object(s) in {} file(s): {e} error(s), {w} warning(s), {i} info",
        outcome.objects,
        loaded.sources.len()
    )
}

#[derive(Serialize)]
#[serde(bound(serialize = "Stream<F>: Serialize"))]
struct JsonReport<'a, F> {
    objects: usize,
    files: usize,
    errors: usize,
    warnings: usize,
    infos: usize,
    findings: Stream<F>,
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
    api_version: Cow<'a, str>,
    kind: Cow<'a, str>,
    namespace: Option<Cow<'a, str>>,
    object: Cow<'a, str>,
    /// Clipped like every value shown: a key of 50 MB would make it as long.
    pointer: Cow<'a, str>,
    message: &'a str,
    help: Option<&'a str>,
    /// In `helm template` output: the template that rendered the object
    /// (`file` is the stream's).
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<&'a str>,
}

fn json(loaded: &Loaded, outcome: &Outcome, out: &mut dyn Write) -> io::Result<()> {
    let (errors, warnings, infos) = counts(loaded, &outcome.findings);
    let findings = || {
        outcome.findings.iter().map(|f| {
            let o = &loaded.objects[f.object];
            let pos = f.pos(o);
            JsonFinding {
                code: f.code,
                name: super::rules::find(f.code).map_or("", |c| c.meta().name),
                severity: f.severity,
                file: loaded.sources[o.source].name.display().to_string(),
                line: pos.line,
                column: pos.column,
                api_version: clip(&o.api_version),
                kind: clip(&o.kind),
                namespace: (!crate::model::gvk::cluster_scoped(&o.kind)).then(|| clip(o.ns())),
                object: clip(&o.name),
                pointer: clip_at(&f.pointer, MESSAGE_MAX),
                message: &f.message,
                help: f.help.as_deref(),
                template: o.template(),
            }
        })
    };
    let report = JsonReport {
        objects: outcome.objects,
        files: loaded.sources.len(),
        errors,
        warnings,
        infos,
        findings: Stream(findings),
        input_errors: &loaded.errors,
    };
    serde_json::to_writer_pretty(&mut *out, &report)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::config::Config;
    use crate::model::load;

    /// The lines of a file let go after reading are read again forward, a
    /// batch of findings at a time: the report is the one the whole text
    /// gives, across batches, CRLF and lone-CR line ends included.
    #[test]
    fn lines_read_again_a_batch_at_a_time_show_what_the_whole_text_shows() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("m.yaml");
        let mut text = String::new();
        for i in 0..300 {
            let end = ["\n", "\r\n", "\r"][i % 3];
            let doc = format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}, namespace: a}}\nspec:\n  \
                 selector: {{matchLabels: {{app: d{i}}}}}\n  template:\n    metadata: {{labels: {{app: d{i}}}}}\n    \
                 spec: {{containers: [{{name: c, image: 'x:{i}'}}]}}\n"
            );
            text += &doc.replace('\n', end);
        }
        std::fs::write(&path, &text).expect("write");
        let (loaded, outcome) =
            crate::check::run_inputs(std::slice::from_ref(&path), &Config::default(), None, load::MAX_HEAP);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        assert!(outcome.findings.len() > 2 * LINES_BATCH, "{} findings", outcome.findings.len());
        assert!(loaded.text(0).is_some() && loaded.line_reader(0).is_some(), "let go, and read again");
        let mut out = Vec::new();
        write(Format::Text, &loaded, &outcome, false, &mut out).expect("written");
        let mut whole = text.clone();
        load::lone_cr_to_lf(&mut whole);
        let shown: Vec<String> = outcome
            .findings
            .iter()
            .map(|f| crate::diag::render::render(&diagnostic(f, &loaded), Some(&whole), false))
            .collect();
        let (e, w, i) = counts(&loaded, &outcome.findings);
        let expected = format!(
            "{}\n\n{} object(s) in 1 file(s): {e} error(s), {w} warning(s), {i} info\n",
            shown.join("\n\n"),
            outcome.objects
        );
        assert_eq!(String::from_utf8(out).expect("UTF-8"), expected);
        // Changed since it was read: no lines are shown, rather than wrong ones.
        std::fs::write(&path, text.replace("image", "IMAGE")).expect("write");
        assert!(loaded.line_reader(0).is_none());
    }
}
