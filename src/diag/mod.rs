//! Diagnostics: an error or finding tied to a place in a source file.
//!
//! Every user-facing error in kubeproof that comes from an input file is a
//! [`Diagnostic`]: it names the file, the 1-based line and column, says what is
//! wrong, and may carry a help line (for example a "did you mean").
//!
//! - [`render`]: diagnostics as rustc-style snippets of their source.
//! - [`yaml`]: serde-saphyr's errors as diagnostics.

pub mod render;
pub mod yaml;

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        })
    }
}

/// A 1-based line and column in a source file (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl Pos {
    pub const UNKNOWN: Pos = Pos { line: 0, column: 0 };

    pub fn new(line: u32, column: u32) -> Self {
        Pos { line, column }
    }

    pub fn is_known(&self) -> bool {
        self.line > 0
    }
}

/// An error or finding at a place in a file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A stable code for checks (e.g. `KP101`); `None` for input errors.
    pub code: Option<String>,
    pub file: PathBuf,
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
    /// In `helm template` output: the template that rendered the object
    /// (`file` and `pos` are the stream's, where the object is written).
    /// Boxed twice so that it costs one word: diagnostics travel in `Err`s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<Box<String>>,
}

impl Diagnostic {
    pub fn error(file: impl AsRef<Path>, pos: Pos, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code: None,
            file: file.as_ref().to_path_buf(),
            pos,
            message: message.into(),
            help: None,
            template: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    /// One line: `file:line:col: severity: message` (plus ` (help: …)`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.pos.is_known() {
            write!(f, ":{}:{}", self.pos.line, self.pos.column)?;
        }
        if let Some(t) = &self.template {
            write!(f, " (from template {t})")?;
        }
        write!(f, ": {}", self.severity)?;
        if let Some(code) = &self.code {
            write!(f, "[{code}]")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// The most characters of one input value a message quotes: a 50 MB image
/// name was quoted whole in several findings and snippets (1.38 GB). Room
/// for any valid Kubernetes name (253) and image reference.
pub const QUOTE_MAX: usize = 256;

/// The most characters of one message (or help line), whatever it quotes.
pub const MESSAGE_MAX: usize = 2000;

/// `value` as a report shows it: whole up to [`QUOTE_MAX`] characters, else
/// its start and `…` (`QUOTE_MAX` characters in all) and its length
/// (`xxxx… (50000000 characters)`).
pub fn clip(value: &str) -> Cow<'_, str> {
    clip_at(value, QUOTE_MAX)
}

/// [`clip`] at `max` characters.
pub fn clip_at(value: &str, max: usize) -> Cow<'_, str> {
    match head(value, max, max - 1) {
        Some(start) => Cow::Owned(format!("{start}… ({} characters)", value.chars().count())),
        None => Cow::Borrowed(value),
    }
}

/// Shortens a message in place: every value quoted in backticks longer than
/// [`QUOTE_MAX`] characters is cut to that (`` `xxxx…` (50000000
/// characters) ``), and the whole to [`MESSAGE_MAX`]. A message within
/// bounds is left as it is (byte for byte), so shortening twice changes
/// nothing more.
pub fn clip_message(message: &mut String) {
    if message.len() <= QUOTE_MAX {
        return;
    }
    let mut out = String::new();
    let mut rest = message.as_str();
    let mut changed = false;
    while let Some(open) = rest.find('`') {
        let Some(close) = rest[open + 1..].find('`').map(|c| open + 1 + c) else { break };
        let quoted = &rest[open + 1..close];
        out.push_str(&rest[..=open]);
        match head(quoted, QUOTE_MAX, QUOTE_MAX - 1) {
            Some(start) => {
                out.push_str(&format!("{start}…` ({} characters)", quoted.chars().count()));
                changed = true;
            }
            None => out.push_str(&rest[open + 1..=close]),
        }
        rest = &rest[close + 1..];
    }
    if changed {
        out.push_str(rest);
        *message = out;
    }
    // Room for the length (`… (message of 18446744073709551615 characters)`).
    if let Some(start) = head(message, MESSAGE_MAX, MESSAGE_MAX - 64) {
        *message = format!("{start}… (message of {} characters)", message.chars().count());
    }
}

/// The first `keep` characters of `s`, when it has more than `max`.
fn head(s: &str, max: usize, keep: usize) -> Option<&str> {
    if s.len() <= max {
        return None;
    }
    s.char_indices().nth(max)?;
    Some(s.char_indices().nth(keep).map_or(s, |(cut, _)| &s[..cut]))
}

/// The closest candidate to `word` among `candidates`, if one is close enough
/// to be a plausible typo.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        // `v1` for `v2`, `db-0` for `db-1`: siblings that differ only in a
        // digit are other versions or replicas, not typos of each other.
        .filter(|c| !differ_only_in_digits(word, c))
        .map(|c| {
            // One swapped, missing or extra character (`wbe`, `bd`) is a typo even
            // when Jaro-Winkler, which matches only nearby characters, scores it low.
            let jw = strsim::jaro_winkler(word, c);
            (if word.len() > 1 && strsim::osa_distance(word, c) == 1 { jw.max(0.9) } else { jw }, c)
        })
        .filter(|(score, _)| *score >= 0.8)
        // Of equal scores the first in name order: candidates may come from
        // a hash map, whose order changes from run to run.
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// Same length, and different only where both have a digit (a missing or
/// doubled digit, `KP04` for `KP004`, is still a typo).
fn differ_only_in_digits(a: &str, b: &str) -> bool {
    a != b
        && a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| x == y || (x.is_ascii_digit() && y.is_ascii_digit()))
}

/// At most `shown` items of a list that may be long, joined with `, ` and
/// followed by `and N more`; and how many items there are. A message names a
/// few objects, never thousands (one per finding would make the report grow
/// with the square of the input).
pub fn some_of<'a>(items: impl IntoIterator<Item = &'a str>, shown: usize) -> (String, usize) {
    let mut text = String::new();
    let mut total = 0;
    for item in items {
        if total < shown {
            if total > 0 {
                text.push_str(", ");
            }
            text.push_str(item);
        }
        total += 1;
    }
    if total > shown {
        text.push_str(&format!(" and {} more", total - shown));
    }
    (text, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_few_of_a_long_list_and_counts_the_rest() {
        assert_eq!(some_of(["a", "b"], 3), ("a, b".to_string(), 2));
        assert_eq!(some_of(["a", "b", "c"], 3), ("a, b, c".to_string(), 3));
        assert_eq!(some_of(["a", "b", "c", "d", "e"], 3), ("a, b, c and 2 more".to_string(), 5));
        assert_eq!(some_of([], 3), (String::new(), 0));
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(did_you_mean("replicsa", ["replicas", "resources"]), Some("replicas"));
        assert_eq!(did_you_mean("health-bd", ["health-db", "cache"]), Some("health-db"));
        assert_eq!(did_you_mean("zzz", ["replicas", "resources"]), None);
    }

    #[test]
    fn of_equally_close_names_the_first_in_name_order_is_suggested_whatever_their_order() {
        // `cab` is one transposition from both.
        assert_eq!(did_you_mean("cab", ["cba", "acb"]), Some("acb"));
        assert_eq!(did_you_mean("cab", ["acb", "cba"]), Some("acb"));
    }

    #[test]
    fn long_values_are_clipped_with_their_length() {
        assert_eq!(clip("nginx:1.27"), "nginx:1.27");
        let exact = "é".repeat(QUOTE_MAX);
        assert_eq!(clip(&exact), exact);
        let long = "é".repeat(QUOTE_MAX + 1);
        assert_eq!(clip(&long), format!("{}… ({} characters)", "é".repeat(QUOTE_MAX - 1), QUOTE_MAX + 1));
    }

    #[test]
    fn messages_clip_each_long_quoted_value_and_their_length() {
        let short = format!("the image `{}` is `x` and `{}`", "a".repeat(QUOTE_MAX), "b".repeat(50));
        let mut m = short.clone();
        clip_message(&mut m);
        assert_eq!(m, short, "within bounds: unchanged");
        let mut m = format!("the image `{}` has no tag; `x` unmatched ` {}", "a".repeat(1_000_000), "c".repeat(130));
        clip_message(&mut m);
        let clipped = format!(
            "the image `{}…` (1000000 characters) has no tag; `x` unmatched ` {}",
            "a".repeat(QUOTE_MAX - 1),
            "c".repeat(130)
        );
        assert_eq!(m, clipped);
        clip_message(&mut m);
        assert_eq!(m, clipped, "clipped twice");
        let mut m = "z".repeat(MESSAGE_MAX * 3);
        clip_message(&mut m);
        let clipped = format!("{}… (message of {} characters)", "z".repeat(MESSAGE_MAX - 64), MESSAGE_MAX * 3);
        assert_eq!(m, clipped);
        assert!(m.chars().count() <= MESSAGE_MAX);
        clip_message(&mut m);
        assert_eq!(m, clipped, "cut twice");
    }
}
