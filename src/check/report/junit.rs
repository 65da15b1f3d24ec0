//! JUnit XML, as GitLab, Jenkins, Azure DevOps and GitHub test-report
//! actions display it.
//!
//! - One `<testsuite>` per input file (named after the file as given): the CI
//!   test tab then lists the manifests, and a red suite is a file to open.
//! - One `<testcase>` per object checked, named `Kind/namespace/name`, with
//!   the file as `classname` and `file`, and the object's first line as
//!   `line` (GitLab links it).
//! - One `<failure>` per error or warning finding, `type` the check code and
//!   `message` the finding; its text is `file:line:column: severity[code]:
//!   message` and the help. Info findings are not failures: they go to the
//!   test case's `<system-out>`.
//! - An input that could not be read is a test case `(input)` with an
//!   `<error>` (the run exits 2), in the suite of its file.
//! - `tests` counts test cases, `failures` the test cases with at least one
//!   failure, `errors` the test cases with an error, so that
//!   `failures + errors <= tests` as every reader expects.
//!
//! Escaping is done here (five entities; line breaks and tabs as character
//! references in attributes; characters XML 1.0 cannot carry replaced by
//! U+FFFD); tests/reports.rs parses hostile strings back with a real parser.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use std::io::{self, Write};

use crate::check::{Finding, Outcome, Severity, shown_id};

use crate::diag::{Diagnostic, Pos};
use crate::model::{Loaded, Object};

/// One `<testsuite>`: a file, its objects, and its input errors.
struct Suite<'a> {
    file: &'a Path,
    objects: Vec<usize>,
    errors: Vec<&'a Diagnostic>,
}

/// Writes a run as JUnit XML (ending with a newline), a test case at a time.
pub fn write(loaded: &Loaded, outcome: &Outcome, sink: &mut dyn Write) -> io::Result<()> {
    let suites = suites(loaded);
    let mut findings: Vec<Vec<&Finding>> = vec![Vec::new(); loaded.objects.len()];
    for f in &outcome.findings {
        if let Some(list) = findings.get_mut(f.object) {
            list.push(f);
        }
    }

    let failed = |i: &usize| findings[*i].iter().any(|f| f.severity != Severity::Info);
    let tests: usize = suites.iter().map(|s| s.objects.len() + usize::from(!s.errors.is_empty())).sum();
    let failures: usize = suites.iter().map(|s| s.objects.iter().filter(|i| failed(i)).count()).sum();
    let errors = suites.iter().filter(|s| !s.errors.is_empty()).count();

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ =
        writeln!(out, "<testsuites name=\"kubeproof\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">");
    for s in &suites {
        let file = attr(&s.file.display().to_string());
        let tests = s.objects.len() + usize::from(!s.errors.is_empty());
        let failures = s.objects.iter().filter(|i| failed(i)).count();
        let errors = usize::from(!s.errors.is_empty());
        let _ = writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" file=\"{file}\">"
        );
        if !s.errors.is_empty() {
            input_case(&mut out, &file, &s.errors);
        }
        for &i in &s.objects {
            sink.write_all(out.as_bytes())?;
            out.clear();
            object_case(sink, &file, s.file, &loaded.objects[i], &findings[i])?;
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    sink.write_all(out.as_bytes())
}

/// The suites in input order: every source (even one without objects),
/// then the inputs that could not be read at all.
fn suites(loaded: &Loaded) -> Vec<Suite<'_>> {
    let mut suites: Vec<Suite> = Vec::new();
    let mut index: HashMap<&Path, usize> = HashMap::new();
    fn suite<'a>(suites: &mut Vec<Suite<'a>>, index: &mut HashMap<&'a Path, usize>, file: &'a Path) -> usize {
        *index.entry(file).or_insert_with(|| {
            suites.push(Suite { file, objects: Vec::new(), errors: Vec::new() });
            suites.len() - 1
        })
    }
    for source in &loaded.sources {
        suite(&mut suites, &mut index, &source.name);
    }
    for (i, o) in loaded.objects.iter().enumerate() {
        let s = suite(&mut suites, &mut index, &loaded.sources[o.source].name);
        suites[s].objects.push(i);
    }
    for d in &loaded.errors {
        let s = suite(&mut suites, &mut index, &d.file);
        suites[s].errors.push(d);
    }
    suites
}

/// The `(input)` test case of a file's input errors (`file` escaped).
fn input_case(out: &mut String, file: &str, errors: &[&Diagnostic]) {
    let line = errors.iter().map(|d| d.pos.line).find(|l| *l > 0).unwrap_or(0);
    let _ = write!(out, "    <testcase name=\"(input)\" classname=\"{file}\" file=\"{file}\"");
    if line > 0 {
        let _ = write!(out, " line=\"{line}\"");
    }
    out.push_str(">\n");
    for d in errors {
        let body = place(&d.file, d.pos)
            + ": "
            + &d.message
            + &d.help.as_ref().map_or(String::new(), |h| format!("\nhelp: {h}"));
        let _ = writeln!(out, "      <error type=\"input\" message=\"{}\">{}</error>", attr(&d.message), text(&body));
    }
    out.push_str("    </testcase>\n");
}

/// The test case of one object of `path` (`file` escaped): a failure per
/// error or warning, the info findings as its output. Written a finding at
/// a time: one workload of 100,000 containers has 900,000 findings.
fn object_case(sink: &mut dyn Write, file: &str, path: &Path, o: &Object, findings: &[&Finding]) -> io::Result<()> {
    let id = shown_id(o);
    let line = o.pos("").line;
    write!(sink, "    <testcase name=\"{}\" classname=\"{file}\" file=\"{file}\"", attr(&id))?;
    if line > 0 {
        write!(sink, " line=\"{line}\"")?;
    }
    if findings.is_empty() {
        return sink.write_all(b"/>\n");
    }
    sink.write_all(b">\n")?;
    let body = |f: &Finding| {
        let mut body = format!("{}: {}[{}]: {}", place(path, f.pos(o)), f.severity, f.code, f.message);
        if let Some(t) = o.template() {
            body.push_str(&format!(" (from template {t})"));
        }
        if let Some(h) = &f.help {
            body.push_str(&format!("\nhelp: {h}"));
        }
        body
    };
    for f in findings.iter().filter(|f| f.severity != Severity::Info) {
        let message = format!("{id}: {}", f.message);
        writeln!(
            sink,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            attr(f.code),
            attr(&message),
            text(&body(f))
        )?;
    }
    let mut infos = findings.iter().filter(|f| f.severity == Severity::Info).peekable();
    if infos.peek().is_some() {
        sink.write_all(b"      <system-out>")?;
        for f in infos {
            sink.write_all(text(&(body(f) + "\n")).as_bytes())?;
        }
        sink.write_all(b"</system-out>\n")?;
    }
    sink.write_all(b"    </testcase>\n")
}

/// `file:line:column`, or less when the position is not known.
fn place(file: &Path, pos: Pos) -> String {
    let mut s = file.display().to_string();
    if pos.is_known() {
        let _ = write!(s, ":{}", pos.line);
        if pos.column > 0 {
            let _ = write!(s, ":{}", pos.column);
        }
    }
    s
}

/// Escapes character data (element content).
pub fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value (in double quotes); line breaks and tabs
/// survive as character references (a parser would turn them into spaces).
pub fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\t' if attribute => out.push_str("&#9;"),
            // A parser turns a literal CR (and CR LF) into LF.
            '\r' => out.push_str("&#13;"),
            c if allowed(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// The characters XML 1.0 allows (`Char`); not even a character reference
/// can carry the others (NUL, most C0 controls, U+FFFE, U+FFFF).
fn allowed(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}
