//! serde-saphyr's errors (typed YAML: the description, `.kubeproof.yaml`)
//! as diagnostics with a position and a help line a person can act on.

use std::path::Path;

use serde_saphyr::{Error as YamlError, Location};

use super::{Diagnostic, Pos, did_you_mean};

/// Converts a serde-saphyr location to ours.
pub fn pos_of(loc: &Location) -> Pos {
    Pos::new(loc.line() as u32, loc.column() as u32)
}

/// Turns a YAML or type error into a diagnostic with a useful help line.
pub fn from_yaml_error(file: &Path, err: &YamlError) -> Diagnostic {
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
        YamlError::DuplicateMappingKey { key, .. } => {
            Diagnostic::error(file, pos, format!("duplicate key `{}`", key.as_deref().unwrap_or("?")))
                .with_help("a key may appear only once in a map: merge the two entries or rename one")
        }
        YamlError::InvalidScalar { ty, .. } => Diagnostic::error(file, pos, format!("expected {}", scalar_kind(ty))),
        YamlError::Unexpected { expected: "sequence start", .. } => {
            Diagnostic::error(file, pos, "expected a list").with_help("write `[a, b]` or one `- item` per line")
        }
        YamlError::Unexpected { expected: "mapping start", .. } => Diagnostic::error(file, pos, "expected a map")
            .with_help("write `{ key: value }` or one `key: value` per line"),
        other => {
            // The user-facing wording, without serde-saphyr's "at line N, column M"
            // (we show the position ourselves) or its API advice.
            use serde_saphyr::MessageFormatter;
            let msg = strip_location(&serde_saphyr::UserMessageFormatter.format_message(other));
            match msg.split_once("; did you mean ") {
                Some((m, fix)) => Diagnostic::error(file, pos, m).with_help(format!("did you mean {fix}")),
                None => Diagnostic::error(file, pos, msg),
            }
        }
    }
}

/// What a scalar of a Rust type is, in words.
fn scalar_kind(ty: &str) -> String {
    match ty {
        "u8" => "a whole number from 0 to 255".into(),
        "u16" => "a whole number from 0 to 65535".into(),
        "u32" | "u64" | "usize" => "a whole number, 0 or more".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "bool" => "true or false".into(),
        other => format!("a value of type {other}"),
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
