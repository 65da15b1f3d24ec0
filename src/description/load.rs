//! Reading a description: YAML → typed [`Platform`], with every error at
//! file:line:column, then the checks that need the whole description.

use std::path::Path;

use serde_saphyr::Error as YamlError;

use super::Platform;
use crate::diag::yaml::from_yaml_error;
use crate::diag::{Diagnostic, Pos};

/// Reads and checks a description file. All errors found are returned, not
/// only the first.
pub fn load(path: &Path) -> Result<Platform, Vec<Diagnostic>> {
    let bytes = read_bounded(path).map_err(|d| vec![d])?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let (line, column) = line_col_at(&e.as_bytes()[..e.utf8_error().valid_up_to()]);
        vec![Diagnostic::error(path, Pos::new(line, column), "the description is not valid UTF-8")]
    })?;
    parse(&text, path)
}

/// The most a description may hold: the examples take about 20 KB, so this
/// is a bound against reading a device or a runaway file, not a size limit.
pub const MAX_DESCRIPTION_BYTES: u64 = 4 << 20;

/// A description's bytes, with [`MAX_DESCRIPTION_BYTES`] as the bound
/// whatever the file is (a device, a file still growing).
fn read_bounded(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    use crate::model::load::{ReadError, read_file_bounded};
    read_file_bounded(path, MAX_DESCRIPTION_BYTES).map_err(|e| match e {
        ReadError::Io(e) => Diagnostic::error(path, Pos::UNKNOWN, format!("cannot read the description: {e}")),
        ReadError::TooLarge => {
            Diagnostic::error(path, Pos::UNKNOWN, format!("larger than {} MiB: not read", MAX_DESCRIPTION_BYTES >> 20))
                .with_help("a description is a few KB; is this the right file?")
        }
    })
}

/// Whether a text is a platform description: its first document is a
/// mapping whose own `apiVersion` is `kubeproof.dev/…`. Text held in a value
/// (a ConfigMap that embeds a description) does not count, however it is
/// laid out. Text that is not valid YAML before that key is not one.
pub fn is_description(text: &str) -> bool {
    use saphyr_parser::{Event, Parser};
    let mut parser = Parser::new_from_str(text);
    // Nesting of the current node (1: the document's top-level mapping);
    // at level 1, whether the next node is a key, and whether the last key
    // was `apiVersion`.
    let (mut depth, mut key_next, mut api_version) = (0usize, true, false);
    while let Some(Ok((event, _))) = parser.next_event() {
        let starts = matches!(event, Event::MappingStart(..) | Event::SequenceStart(..));
        let node = starts || matches!(event, Event::Scalar(..) | Event::Alias(_));
        if depth == 0 && node {
            if !matches!(event, Event::MappingStart(..)) {
                return false;
            }
        } else if depth == 1 && node {
            if api_version {
                return matches!(&event, Event::Scalar(v, ..) if v.starts_with("kubeproof.dev/"));
            }
            api_version = key_next && matches!(&event, Event::Scalar(k, ..) if k == "apiVersion");
            key_next = !key_next;
        }
        match event {
            _ if starts => depth += 1,
            Event::MappingEnd | Event::SequenceEnd => depth = depth.saturating_sub(1),
            Event::DocumentEnd => return false,
            _ => {}
        }
    }
    false
}

/// Parses and checks description text; `file` is used in diagnostics.
pub fn parse(text: &str, file: &Path) -> Result<Platform, Vec<Diagnostic>> {
    if text.lines().all(|l| l.trim().is_empty() || l.trim_start().starts_with('#')) {
        return Err(vec![
            Diagnostic::error(file, Pos::new(1, 1), "the description is empty")
                .with_help("run `kubeproof init` for a commented starter"),
        ]);
    }
    // `x-` keys are the user's own: skipped (see `extensions`).
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget());
    let read =
        serde_saphyr::with_deserializer_from_str_with_options(text, options, |d| super::extensions::deserialize(d));
    let platform: Platform = read
        .map_err(|e| {
            let mut d = from_yaml_error(file, &e);
            if let YamlError::Budget { breach, .. } = e.without_snippet() {
                refused(&mut d, breach);
            }
            if let YamlError::SerdeInvalidType { .. } = e.without_snippet() {
                // serde-saphyr places a value of the wrong type at its key.
                d.pos = value_after_key(text, d.pos).unwrap_or(d.pos);
            }
            // The parser notices an unclosed `[` or `{` only lines later, at some `:`.
            match (e.without_snippet(), unclosed_flow(text, d.pos.line)) {
                (YamlError::ExternalMessage { .. }, Some((pos, c))) => {
                    vec![Diagnostic::error(file, pos, format!("unclosed `{c}`")).with_help(format!(
                        "close it with `{}`; the YAML parser stopped at line {}, column {}: {}",
                        if c == '[' { ']' } else { '}' },
                        d.pos.line,
                        d.pos.column,
                        d.message
                    ))]
                }
                _ => vec![d],
            }
        })
        .map_err(|mut ds| {
            // serde-saphyr may place an error past the end of the text (a
            // fuzzed splice: line 115 of 44): the end is where it stopped.
            let lines = text.split('\n').count() as u32;
            for d in ds.iter_mut().filter(|d| d.pos.line > lines) {
                d.pos = Pos::new(lines, 1);
            }
            ds
        })?;
    let errors = super::validate::validate(&platform, file);
    if errors.is_empty() { Ok(platform) } else { Err(errors) }
}

/// The most nodes (mappings, lists, values) a description may have: the
/// largest examples have a few thousand, a platform of 1,000 services about
/// 10,000.
pub const MAX_NODES: usize = 200_000;

/// The most text its values may hold together: half the file bound
/// ([`MAX_DESCRIPTION_BYTES`]), so that this budget is reached first by a
/// file of long values that is still under that bound.
pub const MAX_SCALAR_BYTES: usize = 2 << 20;

/// The description's own budget, far below the manifests' (what is kept
/// while parsing it is bounded by these counts): a description is written
/// by hand.
fn budget() -> serde_saphyr::Budget {
    let mut b = serde_saphyr::Budget::default();
    b.max_nodes = MAX_NODES;
    b.max_events = 2 * MAX_NODES;
    b.max_total_scalar_bytes = MAX_SCALAR_BYTES;
    b.max_documents = 16;
    b
}

/// Words for a breach of the description's [`budget`].
fn refused(d: &mut Diagnostic, breach: &serde_saphyr::budget::BudgetBreach) {
    use serde_saphyr::budget::BudgetBreach;
    let what = match breach {
        BudgetBreach::Nodes { .. } | BudgetBreach::Events { .. } => format!("it has more than {MAX_NODES} nodes"),
        BudgetBreach::ScalarBytes { .. } => {
            format!("its values hold more than {} MiB of text", MAX_SCALAR_BYTES >> 20)
        }
        _ => d.message.clone(),
    };
    d.message = format!("the description is refused here: {what}");
    d.help = Some(format!(
        "a description is small: at most {MAX_NODES} nodes and {} MiB of text values; \
         is this file generated by a runaway template?",
        MAX_SCALAR_BYTES >> 20
    ));
}

/// The first `[` or `{` on a line before `line` that is still open at the end
/// of that line (quoted text and comments skipped; a rough scan, for a hint).
fn unclosed_flow(text: &str, line: u32) -> Option<(Pos, char)> {
    let mut open: Vec<(Pos, char)> = Vec::new();
    for (i, l) in text.lines().enumerate().take(line.saturating_sub(1) as usize) {
        let (mut quote, mut prev) = (None, ' ');
        for (col, c) in l.chars().enumerate() {
            match (quote, c) {
                (Some(q), _) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if matches!(prev, ' ' | '[' | '{' | ',' | ':') => quote = Some(c),
                (None, '#') if prev.is_whitespace() => break,
                (None, '[' | '{') => open.push((Pos::new(i as u32 + 1, col as u32 + 1), c)),
                (None, ']' | '}') => drop(open.pop()),
                _ => {}
            }
            prev = c;
        }
    }
    open.first().copied()
}

/// Where the value of the `key: value` starting at `pos` starts, if on that line.
fn value_after_key(text: &str, pos: Pos) -> Option<Pos> {
    let line = text.lines().nth((pos.line as usize).checked_sub(1)?)?;
    let rest: String = line.chars().skip((pos.column as usize).checked_sub(1)?).collect();
    let (key, value) = rest.split_once(':')?;
    let is_key = !key.is_empty() && key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
    let gap = value.len() - value.trim_start().len();
    let value = value.trim_start();
    (is_key && gap > 0 && !value.is_empty() && !value.starts_with('#'))
        .then(|| Pos::new(pos.line, pos.column + key.chars().count() as u32 + 1 + gap as u32))
}

/// 1-based line and column just after `prefix` (for UTF-8 errors).
fn line_col_at(prefix: &[u8]) -> (u32, u32) {
    let text = String::from_utf8_lossy(prefix);
    let line = text.matches('\n').count() as u32 + 1;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, column)
}

#[cfg(test)]
mod past_the_end {
    /// The description fuzzer's finding: an error placed past the text's last line.
    #[test]
    fn an_error_is_placed_inside_the_text() {
        let text = include_str!("../../tests/data/description-error-past-the-end.yaml");
        let lines = text.split('\n').count() as u32;
        let Err(errors) = super::parse(text, std::path::Path::new("x.yaml")) else { panic!("refused") };
        assert!(errors.iter().all(|d| d.pos.line <= lines), "{errors:?}");
    }
}
