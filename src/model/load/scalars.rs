//! Scalars typed as Kubernetes reads them: `kubectl` converts YAML with
//! go-yaml v2 (YAML 1.1), so `yes`/`off` are booleans, `0644` is octal,
//! `1_000` is 1000 and `1.0` the integer 1.

use std::borrow::Cow;

use crate::model::value::{Number, Str, Value};
use saphyr_parser::{ScalarStyle, Tag};

/// A scalar as Kubernetes reads it (go-yaml v2, YAML 1.1): quoted and block
/// scalars are strings, plain ones may be null, booleans or numbers.
// Called for every scalar from `events`, which may land in another codegen
// unit: `#[inline]` keeps it inlined there, as it was within one file
// (callgrind: +0.2 % instructions on `load` without it).
#[inline]
pub(super) fn scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let resolvable = match tag {
        None => true,
        Some(t) => t.is_yaml_core_schema() && matches!(t.suffix.as_str(), "int" | "float" | "bool" | "null"),
    };
    if style != ScalarStyle::Plain || !resolvable {
        return Value::String(owned(text));
    }
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if matches!(text.as_bytes()[0], b'0'..=b'9' | b'+' | b'-' | b'.')
        && let Some(n) = number(&text)
    {
        return Value::Number(n);
    }
    Value::String(owned(text))
}

/// The parser hands out strings with spare capacity (32 bytes at least);
/// kept for the whole run, they are trimmed to their length.
fn owned(text: Cow<'_, str>) -> Str {
    // Inline when short; else a fresh exact allocation, not the parser's
    // buffer shrunk in place (that would leave a sliver of free memory
    // behind every string).
    Str::new(&text)
}

/// A plain scalar as a number, as go-yaml v2 resolves it: underscores
/// ignored, Go integer syntax (`0x`, `0o`, `0b`, leading `0` for octal),
/// then YAML 1.1 floats; integral floats become integers (as they do once
/// converted to JSON). `.inf` and `.nan` have no JSON form: not numbers.
fn number(text: &str) -> Option<Number> {
    let plain: Cow<'_, str> = if text.contains('_') { Cow::Owned(text.replace('_', "")) } else { Cow::Borrowed(text) };
    if let Some(n) = go_int(&plain) {
        return Some(n);
    }
    if !yaml_float(&plain) {
        return None;
    }
    float(plain.parse().ok()?)
}

/// A float as the loader keeps it: integral ones as integers.
fn float(f: f64) -> Option<Number> {
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        return Some(Number::from(f as i64));
    }
    Number::from_f64(f)
}

/// A number of a value kubeproof rendered as it reads back from that YAML
/// (`5.0` is written `5.0` and read as the integer 5).
pub(super) fn rendered_number(n: &Number) -> Number {
    match n.as_f64() {
        Some(f) if n.is_f64() => float(f).unwrap_or_else(|| n.clone()),
        _ => n.clone(),
    }
}

fn go_int(s: &str) -> Option<Number> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = match rest.get(..2) {
        Some("0x" | "0X") => (16, &rest[2..]),
        Some("0o" | "0O") => (8, &rest[2..]),
        Some("0b" | "0B") => (2, &rest[2..]),
        _ if rest.len() > 1 && rest.starts_with('0') => (8, &rest[1..]),
        _ => (10, rest),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let n = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if n <= i64::MAX as u64 + 1 { Some(Number::from((n as i64).wrapping_neg())) } else { None }
    } else if let Ok(i) = i64::try_from(n) {
        Some(Number::from(i))
    } else {
        Some(Number::from(n))
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::load::tests::{errors, load_str};

    #[test]
    fn scalars_resolve_as_kubernetes_reads_them() {
        let l = load_str(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: yes\n  b: off\n  c: 0644\n  d: 0x1F\n  \
             e: 1_000\n  f: 1.0\n  g: 1.5\n  h: 2001-12-14\n  i: \"yes\"\n  j: !!str 10\n  k: ~\n  l: 08\n  m: .inf\n  \
             nn: -0b11\n  o: 18446744073709551615\n  p: |\n    text\n  on: 1\n  n: 0\n  3: x\n  q: 1e3\n  r: 0o17\n",
        );
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let d = &l.objects[0].value["data"];
        let expect = serde_json::json!({
            "a": true, "b": false, "c": 420, "d": 31, "e": 1000, "f": 1, "g": 1.5, "h": "2001-12-14",
            "i": "yes", "j": "10", "k": null, "l": 8, "m": ".inf", "nn": -3, "false": 0, "o": 18446744073709551615u64,
            "p": "text\n", "true": 1, "3": "x", "q": 1000, "r": 15
        });
        assert_eq!(d, &expect);
    }

    #[test]
    fn scalar_resolution_edge_cases() {
        assert_eq!(number("0"), Some(Number::from(0)));
        assert_eq!(number("-9223372036854775808"), Some(Number::from(i64::MIN)));
        assert_eq!(number("+12"), Some(Number::from(12)));
        assert_eq!(number("1e400"), None);
        for s in ["1.2.3", "0x", "-", ".", "+", "1e", "12ab", "0b2", "1:20"] {
            assert_eq!(number(s), None, "{s}");
        }
        assert!(yaml_float(".5") && yaml_float("-1.") && yaml_float("1E+3") && !yaml_float("e3"));
    }
}
