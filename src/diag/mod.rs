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

/// The closest candidate to `word` among `candidates`, if one is close enough
/// to be a plausible typo.
pub fn did_you_mean<'a, I>(word: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    candidates
        .into_iter()
        .map(|c| {
            // One swapped, missing or extra character (`wbe`, `bd`) is a typo even
            // when Jaro-Winkler, which matches only nearby characters, scores it low.
            let jw = strsim::jaro_winkler(word, c);
            (if word.len() > 1 && strsim::osa_distance(word, c) == 1 { jw.max(0.9) } else { jw }, c)
        })
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
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
}
