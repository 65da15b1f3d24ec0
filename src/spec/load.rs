//! Reading a description: YAML → typed [`Platform`], with every error at
//! file:line:column, then the checks that need the whole description.

use std::path::Path;

use serde_saphyr::Error as YamlError;

use super::Platform;
use super::value::pos_of;
use crate::diag::{Diagnostic, Pos, did_you_mean};

/// Reads and checks a description file. All errors found are returned, not
/// only the first.
pub fn load(path: &Path) -> Result<Platform, Vec<Diagnostic>> {
    let bytes = std::fs::read(path)
        .map_err(|e| vec![Diagnostic::error(path, Pos::UNKNOWN, format!("cannot read the description: {e}"))])?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col_at(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        vec![Diagnostic::error(path, Pos::new(line, column), "the description is not valid UTF-8")]
    })?;
    parse(&text, path)
}

/// Parses and checks description text; `file` is used in diagnostics.
pub fn parse(text: &str, file: &Path) -> Result<Platform, Vec<Diagnostic>> {
    if text.trim().is_empty() {
        return Err(vec![
            Diagnostic::error(file, Pos::new(1, 1), "the description is empty")
                .with_help("run `kubeproof init` for a commented starter"),
        ]);
    }
    let platform: Platform = serde_saphyr::from_str(text).map_err(|e| vec![from_yaml_error(file, &e)])?;
    let errors = super::validate::validate(&platform, file);
    if errors.is_empty() { Ok(platform) } else { Err(errors) }
}

/// Turns a YAML or type error into a diagnostic with a useful help line.
fn from_yaml_error(file: &Path, err: &YamlError) -> Diagnostic {
    let pos = err.location().map(|l| pos_of(&l)).unwrap_or(Pos::UNKNOWN);
    match err.without_snippet() {
        YamlError::SerdeUnknownField { field, expected, .. } => {
            let d = Diagnostic::error(file, pos, format!("unknown field `{field}`"));
            match did_you_mean(field, expected.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("expected one of: {}", expected.join(", "))),
            }
        }
        YamlError::SerdeUnknownVariant { variant, expected, .. } => {
            let d = Diagnostic::error(file, pos, format!("unknown value `{variant}`"));
            match did_you_mean(variant, expected.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("expected one of: {}", expected.join(", "))),
            }
        }
        YamlError::SerdeMissingField { field, .. } => Diagnostic::error(file, pos, format!("missing field `{field}`")),
        other => Diagnostic::error(file, pos, strip_location(&other.to_string())),
    }
}

/// serde-saphyr puts "line N column M: " in its messages; we show the
/// position ourselves.
fn strip_location(msg: &str) -> String {
    let msg = msg.trim();
    let msg = msg.strip_prefix("error: ").unwrap_or(msg);
    if let Some(rest) = msg.strip_prefix("line ")
        && let Some(i) = rest.find(": ")
        && rest[..i].contains("column")
    {
        return rest[i + 2..].to_string();
    }
    msg.lines().next().unwrap_or(msg).to_string()
}

/// 1-based line and column just after `prefix` (for UTF-8 errors).
fn line_col_at(prefix: &[u8]) -> (u32, u32) {
    let text = String::from_utf8_lossy(prefix);
    let line = text.matches('\n').count() as u32 + 1;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, column)
}
