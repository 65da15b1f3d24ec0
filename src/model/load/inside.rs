//! Places inside a scalar: the line and column in the source of a byte
//! offset into a string value, for findings about a spot inside a value (a
//! PromQL error in an `expr:`). The positions table knows where each key
//! is; from there the value's text is read back and matched against the
//! parsed value, so a place is given only when the text shows it exactly:
//! plain and quoted scalars without escapes on the key's line, and literal
//! blocks (`|`). Folded blocks (`>`), escapes and plain scalars continued on
//! the next lines fold the text: `None`, and the caller keeps the key's place.

use crate::diag::Pos;

/// The place of byte `offset` of `value`, the string written after the key
/// at `key` in `source`.
pub fn position_in_scalar(source: &str, key: Pos, value: &str, offset: usize) -> Option<Pos> {
    let before = value.get(..offset)?;
    let line_no = usize::try_from(key.line).ok()?.checked_sub(1)?;
    let mut lines = source.split('\n').skip(line_no);
    let line = lines.next()?.trim_end_matches('\r');
    let key_at = line.char_indices().nth(usize::try_from(key.column).ok()?.checked_sub(1)?)?.0;
    let colon = key_at + line[key_at..].find(':')?;
    let after = &line[colon + 1..];
    let start = colon + 1 + (after.len() - after.trim_start().len());
    let raw = &line[start..];
    let col = |byte: usize, within: &str| to_u32(line[..byte].chars().count() + within.chars().count() + 1);
    match raw.chars().next() {
        Some('|') => literal_block(lines, key.line, value, before),
        Some('>') | None => None,
        Some(q @ ('"' | '\'')) => {
            let escaped = value.contains(q) || (q == '"' && value.contains('\\')) || value.contains('\n');
            let closed = raw[1..].strip_prefix(value).is_some_and(|r| r.starts_with(q));
            (!escaped && closed).then(|| Pos::new(key.line, col(start + 1, before)))
        }
        Some(_) => {
            let rest = raw.strip_prefix(value)?;
            let ends = rest.trim_end().is_empty() || rest.starts_with(" #") || rest.starts_with([',', '}', ']']);
            let continued = lines.next().is_some_and(|next| continues(next, line));
            (ends && !continued && !value.contains('\n')).then(|| Pos::new(key.line, col(start, before)))
        }
    }
}

/// Whether `next` continues a plain scalar of `line`: it is indented
/// deeper and is not a new entry.
fn continues(next: &str, line: &str) -> bool {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let t = next.trim();
    !t.is_empty() && !t.starts_with('#') && indent(next) > indent(line) && !t.starts_with("- ")
}

/// In a literal block, whose lines follow the key's line at one indentation.
fn literal_block<'a>(lines: impl Iterator<Item = &'a str>, key_line: u32, value: &str, before: &str) -> Option<Pos> {
    let index = before.matches('\n').count();
    let within = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let body: Vec<&str> = lines.take(index + 1).map(|l| l.trim_end_matches('\r')).collect();
    let indent = body.iter().find(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start_matches(' ').len())?;
    // Every line up to the one wanted must be the value's, as written.
    for (written, parsed) in body.iter().zip(value.split('\n')) {
        if written.get(indent..).unwrap_or("") != parsed && !(written.trim().is_empty() && parsed.is_empty()) {
            return None;
        }
    }
    let line = key_line.checked_add(to_u32(index + 1))?;
    (body.len() == index + 1).then(|| Pos::new(line, to_u32(indent + within.chars().count() + 1)))
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_inside_plain_quoted_and_literal_scalars() {
        let src = "a:\n  expr: rate(x[5x])\n  q: \"ab(c\"\n  s: 'x y'\n  b: |\n    one\n      two(\n  f: >\n    z\n  p: multi\n    line\n";
        let at = |line, col, value: &str, offset| position_in_scalar(src, Pos::new(line, col), value, offset);
        assert_eq!(at(2, 3, "rate(x[5x])", 7), Some(Pos::new(2, 16)));
        assert_eq!(at(3, 3, "ab(c", 2), Some(Pos::new(3, 9)));
        assert_eq!(at(4, 3, "x y", 2), Some(Pos::new(4, 9)));
        assert_eq!(at(5, 3, "one\n  two(\n", 9), Some(Pos::new(7, 10)));
        assert_eq!(at(8, 3, "z\n", 0), None, "folded");
        assert_eq!(at(10, 3, "multi line", 6), None, "a plain scalar over two lines");
        assert_eq!(at(2, 3, "something else", 1), None, "the text must be the value");
    }
}
