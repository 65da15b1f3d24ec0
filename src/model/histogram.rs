//! Histogram bucket boundaries as a Service declares them, and the `le`
//! values a PromQL matcher selects.
//!
//! Nothing in Kubernetes or Prometheus says which `le` buckets a target
//! exports: they are compiled into the application. A latency objective
//! reads the share of requests in the bucket of its threshold, and a
//! threshold between two boundaries selects no series at all (its ratio is
//! empty and its alerts silent forever). So `gen` writes the boundaries it
//! was told (`metrics.buckets`) on the Service it scrapes, under
//! [`ANNOTATION`], and `check` compares every `le` a rule selects for that
//! job against them; a hand-written stack can declare its own the same way.

use std::collections::BTreeMap;

/// `kubeproof.dev/histogram-buckets: '{"http_request_duration_seconds":[0.1,0.3,1]}'`:
/// histogram name (without `_bucket`) → its finite upper bounds, in the
/// histogram's own unit (the values of its `le` label).
pub const ANNOTATION: &str = "kubeproof.dev/histogram-buckets";

/// The histograms an annotation declares, by name.
pub type Declared = BTreeMap<String, Vec<f64>>;

/// Writes the annotation's value (deterministic: sorted names).
#[must_use]
pub fn annotation(declared: &Declared) -> String {
    let object: serde_json::Map<String, serde_json::Value> = declared
        .iter()
        .map(|(name, bounds)| {
            let numbers = bounds.iter().filter_map(|b| serde_json::Number::from_f64(*b)).map(serde_json::Value::Number);
            (name.clone(), serde_json::Value::Array(numbers.collect()))
        })
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// Reads an annotation's value; the error says what is wrong with it.
pub fn parse(text: &str) -> Result<Declared, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("it is not a JSON object of arrays of numbers: {e}"))?;
    let Some(object) = value.as_object() else {
        return Err("it is not a JSON object of histogram names to arrays of numbers".into());
    };
    let mut out = Declared::new();
    for (name, bounds) in object {
        let numbers: Option<Vec<f64>> =
            bounds.as_array().and_then(|a| a.iter().map(serde_json::Value::as_f64).collect());
        match numbers {
            Some(n) if !n.is_empty() && n.iter().all(|x| x.is_finite()) && n.windows(2).all(|w| w[0] < w[1]) => {
                out.insert(name.clone(), n);
            }
            _ => return Err(format!("the buckets of `{name}` are not an increasing array of numbers")),
        }
    }
    Ok(out)
}

/// Whether `le` (a label value as Prometheus formats it: `0.3`, `1`, `1.0`,
/// `+Inf`) is one of `bounds` or the implicit `+Inf` bucket.
#[must_use]
pub fn is_boundary(le: f64, bounds: &[f64]) -> bool {
    le == f64::INFINITY || bounds.iter().any(|b| same(*b, le))
}

/// Equal up to the rounding of a decimal written in the text format.
fn same(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

/// The `le` value a matcher selects, when it selects exactly one number:
/// `le="0.3"`, or a regex of alternatives that all spell one number
/// (`le=~"1|1\\.0"`, as client libraries format `1` both ways). `None` for
/// anything else (a negative matcher, a pattern).
#[must_use]
pub fn selected_le(regex: bool, value: &str) -> Option<f64> {
    if !regex {
        return number(value);
    }
    let mut found: Option<f64> = None;
    for alternative in value.split('|') {
        let n = number(&alternative.replace("\\.", ".").replace("\\+", "+"))?;
        match found {
            Some(f) if !same(f, n) => return None,
            _ => found = Some(n),
        }
    }
    found
}

fn number(text: &str) -> Option<f64> {
    match text.trim() {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        t if t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-')) => {
            t.parse().ok().filter(|x: &f64| x.is_finite())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_annotation_reads_back_what_was_written() {
        let declared = Declared::from([("http_request_duration_seconds".into(), vec![0.005, 0.1, 0.3, 1.0, 10.0])]);
        let text = annotation(&declared);
        assert_eq!(text, r#"{"http_request_duration_seconds":[0.005,0.1,0.3,1.0,10.0]}"#);
        assert_eq!(parse(&text), Ok(declared));
    }

    #[test]
    fn a_malformed_annotation_says_what_is_wrong() {
        assert!(parse("0.1,0.3").unwrap_err().contains("not a JSON object"));
        assert!(parse("[0.1]").unwrap_err().contains("not a JSON object"));
        assert!(parse(r#"{"h":[0.3,0.1]}"#).unwrap_err().contains("`h` are not an increasing array"));
        assert!(parse(r#"{"h":["0.1"]}"#).unwrap_err().contains("`h`"));
        assert!(parse(r#"{"h":[]}"#).is_err());
    }

    #[test]
    fn le_matchers_select_one_number_or_none() {
        assert_eq!(selected_le(false, "0.3"), Some(0.3));
        assert_eq!(selected_le(false, "+Inf"), Some(f64::INFINITY));
        assert_eq!(selected_le(true, "1|1\\.0"), Some(1.0));
        assert_eq!(selected_le(true, "0\\.25"), Some(0.25));
        // Alternatives naming two buckets, or a pattern, select no single one.
        assert_eq!(selected_le(true, "0.1|0.3"), None);
        assert_eq!(selected_le(true, "0\\..*"), None);
        assert_eq!(selected_le(false, "fast"), None);
    }

    #[test]
    fn boundaries_compare_as_numbers() {
        let bounds = [0.1, 0.25, 0.5, 1.0];
        assert!(is_boundary(1.0, &bounds));
        assert!(is_boundary(0.25, &bounds));
        assert!(is_boundary(f64::INFINITY, &bounds));
        assert!(!is_boundary(0.3, &bounds));
        assert!(!is_boundary(0.2500001, &bounds));
    }
}
