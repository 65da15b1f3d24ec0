//! What every alert family builds: an [`Alert`] with its promtool [`Test`],
//! gathered in rule [`Group`]s, and the small vocabulary of numbers,
//! durations, labels and series they are written with.

use std::collections::BTreeMap;

use crate::description::alerts::Severity;

/// An input series of a unit test: selector and promtool value notation.
pub(super) type Series = (String, String);

pub(super) struct Alert {
    pub name: String,
    pub expr: String,
    pub for_seconds: u32,
    pub severity: Severity,
    pub labels: BTreeMap<String, String>,
    pub summary: String,
    pub description: String,
    /// Runbook text: what it means, first checks, fix.
    pub runbook: [&'static str; 3],
    /// One line for the runbook: who it watches and its threshold.
    pub scope: String,
    pub test: Test,
}

/// The promtool unit test of one alert: the same evaluation on input that
/// must fire it and on input that must not.
pub(super) struct Test {
    pub interval: u32,
    pub fire: Vec<Series>,
    pub quiet: Vec<Series>,
    pub at: u32,
    /// Labels the expression yields when it fires (rule labels are added).
    pub out: BTreeMap<String, String>,
}

#[derive(Default)]
pub(super) struct Group {
    pub name: String,
    pub records: Vec<(String, String)>,
    /// Static labels of the recording rules: two rules recording the same
    /// name and labels would collide (promtool rejects them).
    pub record_labels: BTreeMap<String, String>,
    pub alerts: Vec<Alert>,
}

impl Group {
    /// Neither records nor alerts: not written.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.alerts.is_empty()
    }
}

// ---- numbers and durations --------------------------------------------------

/// A number as PromQL and promtool read it, without float noise.
pub(super) fn num(x: f64) -> String {
    let s = format!("{x:.10}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-" { "0".into() } else { s.to_string() }
}

/// Seconds as a Prometheus duration (`5m`, `1h`, `90s`).
pub fn dur(secs: u32) -> String {
    if secs == 0 {
        "0s".into()
    } else if secs.is_multiple_of(86400) {
        format!("{}d", secs / 86400)
    } else if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

/// A value above `t` and below `max`: the midpoint.
pub(super) fn between(t: f64, max: f64) -> f64 {
    t + (max - t) / 2.0
}

pub(super) fn lbl(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// `name{a="1",b="2"}`
pub(super) fn series(name: &str, l: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{name}{{{}}}", inner.join(","))
}

pub(super) fn with(l: &BTreeMap<String, String>, k: &str, v: &str) -> BTreeMap<String, String> {
    let mut l = l.clone();
    l.insert(k.into(), v.into());
    l
}

/// Evaluation time and sample count for a test of an alert with `for`,
/// after `warmup` seconds of data.
pub(super) fn timing(for_seconds: u32, warmup: u32) -> (u32, u32) {
    let at = warmup + for_seconds + 300;
    (at, at / 60 + 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_without_float_noise() {
        assert_eq!(num(0.1 + 0.2), "0.3");
        assert_eq!(num(5.0), "5");
        assert_eq!(num(0.0), "0");
        assert_eq!(num(1e9), "1000000000");
    }

    #[test]
    fn durations_take_the_largest_whole_unit() {
        assert_eq!(dur(0), "0s");
        assert_eq!(dur(90), "90s");
        assert_eq!(dur(300), "5m");
        assert_eq!(dur(7200), "2h");
        assert_eq!(dur(259_200), "3d");
    }

    #[test]
    fn a_test_evaluates_after_warmup_and_for_within_its_samples() {
        let (at, n) = timing(600, 300);
        assert_eq!(at, 1200);
        assert!(n * 60 >= at, "{n} samples a minute apart cover {at}s");
    }

    #[test]
    fn series_sort_their_labels() {
        let l = with(&lbl(&[("namespace", "shop"), ("job", "api")]), "instance", "10.0.0.1:8000");
        assert_eq!(series("up", &l), r#"up{instance="10.0.0.1:8000",job="api",namespace="shop"}"#);
    }
}
