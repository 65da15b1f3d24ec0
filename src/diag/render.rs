//! Rendering [`Diagnostic`]s as rustc-style reports with a source snippet.
//!
//! The layout is whatever `annotate-snippets` (the renderer rustc uses)
//! produces; the message is the title only, the carets carry no label (as
//! ruff and ripgrep do: a label repeating the title doubled every report):
//!
//! ```text
//! error[KP101]: unknown field `replicsa`
//!  --> examples/x.yaml:4:5
//!   |
//! 3 |     image: x
//! 4 |     replicsa: 3
//!   |     ^^^^^^^^
//!   |
//!   = help: did you mean `replicas`?
//! ```
//!
//! When the position is unknown or does not fall inside the source (or the
//! source is not available), only the title, a `--> file[:line[:col]]` line
//! and the help line are shown (annotate-snippets draws these with no
//! line-number gutter, so they start in the first column):
//!
//! ```text
//! error: unknown field `replicsa`
//! --> examples/x.yaml:4:5
//!  = help: did you mean `replicas`?
//! ```

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use annotate_snippets::{AnnotationKind, Level, Origin, Renderer, Snippet};

use super::{Diagnostic, Severity};

/// Render one diagnostic as a rustc-style report.
///
/// `source` is the full text of `diag.file`, if it could be read. With
/// `color` the report carries ANSI styles; without, it is plain text.
pub fn render(diag: &Diagnostic, source: Option<&str>, color: bool) -> String {
    let lines = source.map(|s| Lines::new(s, vec![to_usize(diag.pos.line)]));
    render_lines(diag, lines.as_ref(), color)
}

/// The lines of a source that some diagnostics show (each one's line and
/// the line before it), found in one pass per file: many diagnostics in a
/// large file (a whole `kubectl kustomize` stream) cost time linear in the
/// file and their number, and memory only for the lines shown (a table of
/// every line start would take 8 bytes per line: 480 MB for a stream of 60
/// million `---`).
struct Lines<'a> {
    source: &'a str,
    /// Line number (1-based) → its byte range, without the `\n`.
    shown: HashMap<usize, (usize, usize)>,
    /// For each shown line longer than [`LINE_MAX`] bytes, the byte offset of
    /// every [`MARK_EVERY`]th character: finding a column is then a short
    /// walk, even for thousands of findings on one long line (a flow
    /// sequence of 20,000 containers on one line took minutes).
    marks: HashMap<usize, Vec<usize>>,
}

/// A line longer than this (in characters) is handed to annotate-snippets
/// as a window around the column (a 50 MB line was copied whole into each
/// snippet, and a line of 20,000 findings was walked for each). It cuts
/// lines wider than its 140-column terminal itself, around the span: it
/// still does, within the window, and shorter lines are shown as before.
const LINE_MAX: usize = 1024;

/// The characters of a long line in the window before the column, and in
/// all: more than annotate-snippets shows on either side.
const WINDOW_BEFORE: usize = 160;
const WINDOW: usize = 320;

/// The distance in characters between two marks of a long line.
const MARK_EVERY: usize = 1024;

/// Where a long line was cut, around the column.
const CUT: &str = "...";

impl<'a> Lines<'a> {
    /// The lines shown for diagnostics at `lines` (0: none).
    fn new(source: &'a str, lines: Vec<usize>) -> Self {
        let wanted = shown_lines(lines);
        let mut shown = HashMap::with_capacity(wanted.len());
        let mut wanted = wanted.into_iter().peekable();
        // Lines split at `\n` exactly as `str::split` would: a trailing
        // newline is followed by one empty last line.
        let (mut line, mut start) = (1, 0);
        for end in source.match_indices('\n').map(|(i, _)| i).chain([source.len()]) {
            let Some(&next) = wanted.peek() else { break };
            if next == line {
                shown.insert(line, (start, end));
                wanted.next();
            }
            (line, start) = (line + 1, end + 1);
        }
        Lines::from_shown(source, shown)
    }

    /// The lines of `source` at the byte ranges of `shown`, by number.
    fn from_shown(source: &'a str, shown: HashMap<usize, (usize, usize)>) -> Self {
        let marks = shown
            .iter()
            .filter(|(_, (start, end))| end - start > LINE_MAX)
            .map(|(&n, &(start, end))| {
                (n, source[start..end].char_indices().step_by(MARK_EVERY).map(|(i, _)| i).collect())
            })
            .collect();
        Lines { source, shown, marks }
    }

    /// The byte offset of character `n` (0-based) in line `line` (its
    /// `text`), or the line's length when it is shorter.
    fn byte_of(&self, line: usize, text: &str, n: usize) -> usize {
        let (mut at, mut left) = (0, n);
        if let Some(mark) = self.marks.get(&line).and_then(|m| m.get(n / MARK_EVERY)) {
            (at, left) = (*mark, n % MARK_EVERY);
        }
        text[at..].char_indices().nth(left).map_or(text.len(), |(i, _)| at + i)
    }

    /// The 1-based line `n` without its terminator, when it was asked for.
    fn get(&self, n: usize) -> Option<&'a str> {
        let &(start, end) = self.shown.get(&n)?;
        let l = &self.source[start..end];
        Some(l.strip_suffix('\r').unwrap_or(l))
    }
}

fn render_lines(diag: &Diagnostic, source: Option<&Lines>, color: bool) -> String {
    let renderer = if color { Renderer::styled() } else { Renderer::plain() };

    let path = diag.file.display().to_string();
    let level = level(diag.severity);
    let mut title = level.primary_title(diag.message.as_str());
    if let Some(code) = &diag.code {
        title = title.id(code.as_str());
    }

    let excerpt = source.and_then(|src| excerpt_lines(src, diag.pos.line, diag.pos.column));
    let mut group = match &excerpt {
        Some(ex) => title.element(
            Snippet::source(ex.text.as_str())
                .line_start(ex.line_start)
                .path(path.as_str())
                .fold(false)
                .annotation(AnnotationKind::Primary.span(ex.span.clone())),
        ),
        None => {
            let mut origin = Origin::path(path.as_str());
            if diag.pos.is_known() {
                origin = origin.line(to_usize(diag.pos.line));
                if diag.pos.column > 0 {
                    origin = origin.char_column(to_usize(diag.pos.column));
                }
            }
            title.element(origin)
        }
    };
    if let Some(help) = &diag.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }

    let out = renderer.render(&[group]);
    let out = match excerpt.and_then(|ex| ex.column) {
        Some((shown, real)) => place_column(out, &path, to_usize(diag.pos.line), shown, real),
        None => out,
    };
    match &diag.template {
        Some(t) => beside_place(out, &format!(" (from template {t})")),
        None => out,
    }
}

/// `note` written at the end of the ` --> file:line:column` line (the
/// template of an object of a Helm stream, beside the stream's place).
fn beside_place(mut out: String, note: &str) -> String {
    if let Some(arrow) = out.find("-->") {
        let end = out[arrow..].find('\n').map_or(out.len(), |i| arrow + i);
        out.insert_str(end, note);
    }
    out
}

/// In a rendered window of a long line, the column annotate-snippets
/// counted from the window's start (`shown`) replaced by the line's own
/// (`real`) in the ` --> file:line:column` header (styled or not, the place
/// is written as one piece).
fn place_column(out: String, path: &str, line: usize, shown: usize, real: usize) -> String {
    let counted = format!("{path}:{line}:{shown}");
    match out.find("-->").and_then(|arrow| Some(arrow + out[arrow..].find(&counted)?)) {
        Some(at) => format!("{}{path}:{line}:{real}{}", &out[..at], &out[at + counted.len()..]),
        None => out,
    }
}

/// Render several diagnostics, separated by blank lines.
///
/// `sources` returns the text of a file (or `None` if it cannot be read),
/// borrowed when the caller holds it; it is called at most once per
/// distinct file.
pub fn render_all<'s>(diags: &[Diagnostic], sources: &dyn Fn(&Path) -> Option<Cow<'s, str>>, color: bool) -> String {
    let mut texts: HashMap<&Path, (Option<Cow<'s, str>>, Vec<usize>)> = HashMap::new();
    for diag in diags {
        let (_, lines) = texts.entry(&diag.file).or_insert_with(|| (sources(&diag.file), Vec::new()));
        lines.push(to_usize(diag.pos.line));
    }
    let lines: HashMap<&Path, Lines> =
        texts.iter_mut().filter_map(|(p, (t, l))| Some((*p, Lines::new(t.as_deref()?, std::mem::take(l))))).collect();
    let mut out = Vec::with_capacity(diags.len());
    for diag in diags {
        out.push(render_lines(diag, lines.get(diag.file.as_path()), color));
    }
    out.join("\n\n")
}

/// The source lines that a run of diagnostics shows, found before the first
/// is rendered, so that each can then be rendered (and written) on its own:
/// a report of a million findings is written as it is rendered, never held.
pub struct Snippets<'a> {
    files: HashMap<&'a Path, Lines<'a>>,
}

impl<'a> Snippets<'a> {
    /// `wanted`: the file and line of each diagnostic to render; `source`:
    /// the text of a file, if it is available (asked once per file).
    pub fn new(
        wanted: impl IntoIterator<Item = (&'a Path, u32)>,
        source: impl Fn(&Path) -> Option<&'a str>,
    ) -> Snippets<'a> {
        let mut texts: HashMap<&'a Path, (Option<&'a str>, Vec<usize>)> = HashMap::new();
        for (file, line) in wanted {
            texts.entry(file).or_insert_with(|| (source(file), Vec::new())).1.push(to_usize(line));
        }
        let files = texts.into_iter().filter_map(|(p, (t, l))| Some((p, Lines::new(t?, l)))).collect();
        Snippets { files }
    }

    /// The snippets of diagnostics in `file` from only some of its lines:
    /// `lines` gives where each (1-based) is in `text`, without its `\n`.
    /// A diagnostic at line `n` shows lines `n - 1` and `n` when they are given.
    pub fn shown(file: &'a Path, text: &'a str, lines: HashMap<usize, (usize, usize)>) -> Snippets<'a> {
        let lines = lines.into_iter().filter(|&(_, (s, e))| s <= e && text.get(s..e).is_some()).collect();
        Snippets { files: HashMap::from([(file, Lines::from_shown(text, lines))]) }
    }

    /// Renders `diag` (whose line was among those wanted) like [`render`].
    pub fn render(&self, diag: &Diagnostic, color: bool) -> String {
        render_lines(diag, self.files.get(diag.file.as_path()), color)
    }
}

/// The lines shown for diagnostics at `lines`, each with the line before
/// it, sorted, once each (0: none).
pub fn shown_lines(lines: impl IntoIterator<Item = usize>) -> Vec<usize> {
    let mut wanted: Vec<usize> = lines.into_iter().flat_map(|n| [n.saturating_sub(1), n]).filter(|&n| n > 0).collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted
}

/// The annotate-snippets level for a severity.
fn level(severity: Severity) -> Level<'static> {
    match severity {
        Severity::Info => Level::INFO,
        Severity::Warning => Level::WARNING,
        Severity::Error => Level::ERROR,
    }
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The lines shown for a diagnostic and the primary span within them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Excerpt {
    /// The line before the primary line (if any) and the primary line,
    /// each ended by `\n` (any `\r` removed).
    text: String,
    /// The 1-based line number of the first line of `text`.
    line_start: usize,
    /// Byte range of the primary span in `text`.
    span: std::ops::Range<usize>,
    /// When `text` is a window of long lines: the 1-based column of the
    /// span in the window (annotate-snippets shows it), and in the line.
    column: Option<(usize, usize)>,
}

/// Cut the primary line (and the one before it) out of `source` and locate
/// the token at the 1-based `line` / `column` (columns count characters).
///
/// Returns `None` when the line is unknown (0) or past the end of `source`.
/// A column past the end of the line is clamped to the end of the line.
/// When either line is longer than [`LINE_MAX`] characters, both are cut to
/// the same window of [`WINDOW`] characters around the column.
fn excerpt_lines(lines: &Lines, line: u32, column: u32) -> Option<Excerpt> {
    let line = to_usize(line);
    if line == 0 {
        return None;
    }
    let prev = if line >= 2 { lines.get(line - 1) } else { None };
    let current = lines.get(line)?;
    let col = to_usize(column).saturating_sub(1);
    let long = |l: &str| l.len() > LINE_MAX && l.chars().nth(LINE_MAX).is_some();
    if long(current) || prev.is_some_and(long) {
        return Some(window(lines, line, prev, current, col));
    }
    let start = current.char_indices().nth(col).map_or(current.len(), |(i, _)| i);
    let end = start + token_len(&current[start..]);

    // The trailing newline keeps annotate-snippets from dropping an empty
    // primary line (it trims one final line terminator).
    let (text, offset, line_start) = match prev {
        Some(prev) => (format!("{prev}\n{current}\n"), prev.len() + 1, line - 1),
        None => (format!("{current}\n"), 0, line),
    };
    Some(Excerpt { text, line_start, span: offset + start..offset + end, column: None })
}

/// [`excerpt_lines`] for long lines: characters `from..from + WINDOW` of
/// each, [`CUT`] marking what is left out, the span within the window.
fn window(lines: &Lines, line: usize, prev: Option<&str>, current: &str, col: usize) -> Excerpt {
    let start = lines.byte_of(line, current, col);
    // A column past the end is clamped, as for short lines.
    let col = if start == current.len() { current.chars().count() } else { col };
    let from = col.saturating_sub(WINDOW_BEFORE);
    let before = if from > 0 { CUT } else { "" };
    // Line `n` cut to the window, and the byte range of the window in it.
    let cut = |n: usize, text: &str| {
        let (a, b) = (lines.byte_of(n, text, from), lines.byte_of(n, text, from + WINDOW));
        let after = if b < text.len() { CUT } else { "" };
        (format!("{before}{}{after}\n", &text[a..b]), a..b)
    };
    let (mut text, line_start) = match prev {
        Some(p) => (cut(line - 1, p).0, line - 1),
        None => (String::new(), line),
    };
    let (shown, range) = cut(line, current);
    // The span in `text`: the token, cut at the window's end.
    let begin = text.len() + before.len() + (start - range.start);
    let end = begin + token_len(&current[start..range.end]);
    let in_window = before.len() + current[range.start..start].chars().count() + 1;
    text.push_str(&shown);
    Excerpt { text, line_start, span: begin..end, column: Some((in_window, col + 1)) }
}

/// Byte length of the token at the start of `rest`: up to the next
/// whitespace, `:`, `,`, `]` or `}`, but at least one character (zero only
/// when `rest` is empty). A span starting on such a delimiter covers just it.
fn token_len(rest: &str) -> usize {
    let is_delimiter = |c: char| c.is_whitespace() || matches!(c, ':' | ',' | ']' | '}');
    let Some(first) = rest.chars().next() else {
        return 0;
    };
    let first_len = first.len_utf8();
    if is_delimiter(first) {
        return first_len;
    }
    rest[first_len..].find(is_delimiter).map_or(rest.len(), |i| first_len + i)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::path::PathBuf;

    use super::*;
    use crate::diag::Pos;

    const SRC: &str = "app:\n  web:\n    image: x\n    replicsa: 3\n";

    fn typo(pos: Pos) -> Diagnostic {
        Diagnostic::error("examples/x.yaml", pos, "unknown field `replicsa`").with_help("did you mean `replicas`?")
    }

    #[test]
    fn known_position_plain() {
        let out = render(&typo(Pos::new(4, 5)), Some(SRC), false);
        assert_eq!(
            out,
            "\
error: unknown field `replicsa`
 --> examples/x.yaml:4:5
  |
3 |     image: x
4 |     replicsa: 3
  |     ^^^^^^^^
  |
  = help: did you mean `replicas`?"
        );
    }

    #[test]
    fn the_message_is_printed_once() {
        // The title says it; the carets only point (as ruff and ripgrep do).
        let out = render(&typo(Pos::new(4, 5)), Some(SRC), false);
        assert_eq!(out.matches("unknown field `replicsa`").count(), 1, "{out}");
        assert!(out.contains("  |     ^^^^^^^^\n"), "{out}");
    }

    #[test]
    fn the_template_of_a_helm_object_is_beside_the_place() {
        let mut d = typo(Pos::new(4, 5));
        d.template = Some(Box::new("app/templates/x.yaml".into()));
        for source in [Some(SRC), None] {
            let out = render(&d, source, false);
            assert!(out.contains("--> examples/x.yaml:4:5 (from template app/templates/x.yaml)\n"), "{out}");
        }
        assert!(d.to_string().starts_with("examples/x.yaml:4:5 (from template app/templates/x.yaml): error"));
    }

    #[test]
    fn code_shows_in_title() {
        let out = render(&typo(Pos::new(4, 5)).with_code("KP101"), Some(SRC), false);
        assert!(out.starts_with("error[KP101]: unknown field `replicsa`\n"), "{out}");
    }

    #[test]
    fn multi_byte_chars_before_token() {
        // `é`, `ö` are two bytes and `漢` three, but one column each
        // (`漢` is two cells wide on a terminal).
        let src = "# ünïcode\nnämé: \"漢\" wörld, x\n";
        let d = Diagnostic::error("m.yaml", Pos::new(2, 11), "bad word");
        let out = render(&d, Some(src), false);
        assert_eq!(
            out,
            "\
error: bad word
 --> m.yaml:2:11
  |
1 | # ünïcode
2 | nämé: \"漢\" wörld, x
  |            ^^^^^"
        );
    }

    #[test]
    fn first_line_has_no_context_line() {
        let d = Diagnostic::error("a.yaml", Pos::new(1, 1), "bad key");
        let out = render(&d, Some("kind: X\nb: 2\n"), false);
        assert_eq!(
            out,
            "\
error: bad key
 --> a.yaml:1:1
  |
1 | kind: X
  | ^^^^"
        );
    }

    #[test]
    fn column_past_end_of_line_is_clamped() {
        let d = Diagnostic::error("x.yaml", Pos::new(2, 99), "expected a value");
        let out = render(&d, Some("a: 1\nname:\n"), false);
        assert_eq!(
            out,
            "\
error: expected a value
 --> x.yaml:2:6
  |
1 | a: 1
2 | name:
  |      ^"
        );
    }

    #[test]
    fn column_zero_is_first_column() {
        let d = Diagnostic::error("x.yaml", Pos::new(1, 0), "bad");
        let out = render(&d, Some("name: x"), false);
        assert!(out.contains(" --> x.yaml:1:1\n"), "{out}");
        assert!(out.ends_with("  | ^^^^"), "{out}");
    }

    #[test]
    fn empty_line_and_end_of_file() {
        let d = Diagnostic::error("x.yaml", Pos::new(3, 1), "unexpected end of file");
        let out = render(&d, Some("a: 1\nb: 2\n"), false);
        assert_eq!(
            out,
            "\
error: unexpected end of file
 --> x.yaml:3:1
  |
2 | b: 2
3 |
  | ^"
        );
        let d = Diagnostic::error("x.yaml", Pos::new(1, 1), "empty file");
        let out = render(&d, Some(""), false);
        assert!(out.contains(" --> x.yaml:1:1\n"), "{out}");
    }

    #[test]
    fn crlf_and_tabs() {
        let d = Diagnostic::error("w.yaml", Pos::new(2, 3), "bad");
        let out = render(&d, Some("a: 1\r\n\tname: {x,y}\r\n"), false);
        // The tab shows as four spaces and the caret follows it.
        assert_eq!(
            out,
            "\
error: bad
 --> w.yaml:2:3
  |
1 | a: 1
2 |     name: {x,y}
  |      ^^^"
        );
    }

    #[test]
    fn unknown_position() {
        let out = render(&typo(Pos::UNKNOWN), Some(SRC), false);
        assert_eq!(
            out,
            "\
error: unknown field `replicsa`
--> examples/x.yaml
 = help: did you mean `replicas`?"
        );
    }

    #[test]
    fn missing_source() {
        let out = render(&typo(Pos::new(4, 5)), None, false);
        assert_eq!(
            out,
            "\
error: unknown field `replicsa`
--> examples/x.yaml:4:5
 = help: did you mean `replicas`?"
        );
        let d = Diagnostic::error("x.yaml", Pos::new(4, 0), "bad");
        assert_eq!(render(&d, None, false), "error: bad\n--> x.yaml:4");
    }

    #[test]
    fn line_past_end_of_source() {
        let out = render(&typo(Pos::new(40, 2)), Some(SRC), false);
        assert_eq!(
            out,
            "\
error: unknown field `replicsa`
--> examples/x.yaml:40:2
 = help: did you mean `replicas`?"
        );
        let huge = typo(Pos::new(u32::MAX, u32::MAX));
        assert!(render(&huge, Some(SRC), false).contains(":4294967295:4294967295"));
    }

    #[test]
    fn severities() {
        let mut d = Diagnostic::error("x.yaml", Pos::new(1, 1), "m");
        d.severity = Severity::Warning;
        assert!(render(&d, Some("k: v"), false).starts_with("warning: m\n"));
        d.severity = Severity::Info;
        assert!(render(&d, Some("k: v"), false).starts_with("info: m\n"));
    }

    #[test]
    fn color() {
        let plain = render(&typo(Pos::new(4, 5)), Some(SRC), false);
        let styled = render(&typo(Pos::new(4, 5)), Some(SRC), true);
        assert!(!plain.contains('\x1b'));
        assert!(styled.contains('\x1b'));
        assert!(styled.contains("replicsa: 3"));
    }

    #[test]
    fn token_extent() {
        assert_eq!(token_len("replicsa: 3"), 8);
        assert_eq!(token_len("a,b"), 1);
        assert_eq!(token_len("x]"), 1);
        assert_eq!(token_len("x}"), 1);
        assert_eq!(token_len("wörld"), "wörld".len());
        assert_eq!(token_len(": x"), 1);
        assert_eq!(token_len(" x"), 1);
        assert_eq!(token_len("]x"), 1);
        assert_eq!(token_len("a\tb"), 1);
        assert_eq!(token_len("漢"), 3);
        assert_eq!(token_len(""), 0);
    }

    /// The line numbered `n` of a rendered snippet and the line under it.
    fn shown(out: &str, n: usize) -> (&str, &str) {
        let mut lines = out.lines().skip_while(|l| !l.starts_with(&format!("{n} | ")));
        (lines.next().unwrap_or_else(|| panic!("no line {n} in\n{out}")), lines.next().unwrap_or_default())
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_column() {
        let long = format!("k: {} target {}", "a".repeat(3000), "é".repeat(3000));
        let source = format!("a: 1\n{long}\n");
        let d = Diagnostic::error("l.yaml", Pos::new(2, 3005), "bad");
        let out = render(&d, Some(&source), false);
        // The place is the line's; the line is cut around the column on
        // both sides, the caret under the token.
        assert!(out.contains(" --> l.yaml:2:3005\n"), "{out}");
        let (line, carets) = shown(&out, 2);
        assert!(line.starts_with("2 | ...a") && line.ends_with("é..."), "{out}");
        assert!(line.chars().count() < 160, "{out}");
        let at = line.find("target").expect("the token");
        assert_eq!(carets.find("^^^^^^"), Some(line[..at].chars().count()), "{out}");
        assert!(carets.ends_with("^^^^^^"), "{out}");
        // In color, the place is the line's too.
        assert!(render(&d, Some(&source), true).contains("l.yaml:2:3005"));
        // Up to `LINE_MAX` characters, annotate-snippets alone cuts the line.
        let medium = format!("k: {} target", "a".repeat(LINE_MAX - 10));
        let d = Diagnostic::error("l.yaml", Pos::new(1, to_u32(LINE_MAX - 5)), "bad");
        let out = render(&d, Some(&medium), false);
        assert!(out.contains(&format!(" --> l.yaml:1:{}\n", LINE_MAX - 5)), "{out}");
    }

    fn to_u32(n: usize) -> u32 {
        u32::try_from(n).expect("small")
    }

    #[test]
    fn a_long_line_before_is_cut_to_the_same_window() {
        let d = Diagnostic::error("l.yaml", Pos::new(2, 3), "bad");
        let out = render(&d, Some(&format!("{}\nb: 2\n", "x".repeat(5000))), false);
        let (line, _) = shown(&out, 1);
        assert!(line.starts_with("1 | xxx") && line.ends_with("x...") && line.len() < 160, "{out}");
        assert!(out.ends_with("2 | b: 2\n  |   ^"), "{out}");
        assert!(out.contains(" --> l.yaml:2:3\n"), "{out}");
    }

    #[test]
    fn a_column_past_the_end_of_a_long_line_is_clamped() {
        let d = Diagnostic::error("l.yaml", Pos::new(1, 50_000), "bad");
        let out = render(&d, Some(&"y".repeat(LINE_MAX + 10)), false);
        let (line, carets) = shown(&out, 1);
        assert!(line.starts_with("1 | ...y") && line.ends_with('y') && line.len() < 160, "{out}");
        assert_eq!(carets.find('^'), Some(line.len()), "{out}");
        assert!(carets.ends_with('^'), "{out}");
        assert!(out.contains(&format!(" --> l.yaml:1:{}\n", LINE_MAX + 11)), "{out}");
    }

    #[test]
    fn columns_of_a_long_line_are_found_through_its_marks() {
        let line = "é".repeat(5 * MARK_EVERY + 7);
        let lines = Lines::new(&line, vec![1]);
        assert_eq!(lines.marks[&1].len(), 6);
        let text = lines.get(1).expect("line 1");
        for n in [0, 1, MARK_EVERY - 1, MARK_EVERY, 3 * MARK_EVERY + 5, 5 * MARK_EVERY + 6] {
            assert_eq!(lines.byte_of(1, text, n), 2 * n, "character {n}");
        }
        assert_eq!(lines.byte_of(1, text, 5 * MARK_EVERY + 7), line.len());
        assert_eq!(lines.byte_of(1, text, 100 * MARK_EVERY), line.len());
    }

    #[test]
    fn only_the_lines_shown_are_found() {
        let source = "a\n".repeat(100_000) + "b\r\nc";
        let lines = Lines::new(&source, vec![100_001, 0, 3, 100_002, 100_001, 500_000]);
        let mut shown: Vec<_> = lines.shown.keys().copied().collect();
        shown.sort_unstable();
        assert_eq!(shown, [2, 3, 100_000, 100_001, 100_002]);
        assert_eq!([lines.get(3), lines.get(100_001), lines.get(100_002)], [Some("a"), Some("b"), Some("c")]);
        assert_eq!([lines.get(4), lines.get(100_003), lines.get(500_000)], [None, None, None]);
        // A trailing newline is followed by one empty last line.
        let lines = Lines::new("x\n", vec![2]);
        assert_eq!([lines.get(1), lines.get(2)], [Some("x"), Some("")]);
    }

    #[test]
    fn render_all_joins_with_blank_lines_and_reads_each_file_once() {
        let reads = RefCell::new(Vec::<PathBuf>::new());
        let sources = |p: &Path| {
            reads.borrow_mut().push(p.to_path_buf());
            (p == Path::new("examples/x.yaml")).then_some(Cow::Borrowed(SRC))
        };
        let diags =
            [typo(Pos::new(4, 5)), Diagnostic::error("gone.yaml", Pos::new(1, 1), "cannot read"), typo(Pos::new(3, 5))];
        let out = render_all(&diags, &sources, false);
        let expected =
            [render(&diags[0], Some(SRC), false), render(&diags[1], None, false), render(&diags[2], Some(SRC), false)]
                .join("\n\n");
        assert_eq!(out, expected);
        assert_eq!(*reads.borrow(), [PathBuf::from("examples/x.yaml"), PathBuf::from("gone.yaml")]);
        assert_eq!(render_all(&[], &sources, false), "");
    }
}
