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
    /// More inputs on which it must stay silent, each with why (an SLO's
    /// fast burn on too little traffic).
    pub also_quiet: Vec<(String, Vec<Series>)>,
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
    /// A group of alerts only.
    pub fn of_alerts(name: String, alerts: Vec<Alert>) -> Group {
        Group { name, alerts, ..Group::default() }
    }

    /// Neither records nor alerts: not written.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.alerts.is_empty()
    }
}

/// How a registry entry builds the alerts of one kind for a subject (a
/// service, the platform, a watched datastore, a backup CronJob).
pub(super) enum Builder<S> {
    /// One alert, or none when it is off for this subject.
    One(fn(&S) -> Option<Alert>),
    /// One alert per objective, custom rule or namespace.
    Each(fn(&S) -> Vec<Alert>),
}

/// The alerts of `builders` for each subject in turn: a subject's alerts stay
/// together, in the registry's order.
pub(super) fn build<'a, S: 'a>(builders: &[Builder<S>], subjects: impl IntoIterator<Item = &'a S>) -> Vec<Alert> {
    let mut alerts = Vec::new();
    for s in subjects {
        for b in builders {
            match b {
                Builder::One(f) => alerts.extend(f(s)),
                Builder::Each(f) => alerts.extend(f(s)),
            }
        }
    }
    alerts
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

/// A failed run of Jobs matching `job` (`job_name="…"` or `=~"…"`) in `ns`:
/// the Job's Failed condition, not `kube_job_status_failed` (failed pods: a
/// pod retried into success is no failed run). The expression and its test
/// (`example`, a `job_name` that matches), for JobFailed and BackupFailed.
pub(super) fn failed_run(ns: &str, job: &str, example: &str) -> (String, Test) {
    let jl = lbl(&[("job_name", example), ("namespace", ns)]);
    let s = series("kube_job_failed", &with(&jl, "condition", "true"));
    let retried = series("kube_job_status_failed", &jl);
    let expr =
        format!("max by (namespace, job_name) (kube_job_failed{{namespace=\"{ns}\",{job},condition=\"true\"}}) > 0");
    let test = Test {
        interval: 60,
        fire: vec![(s.clone(), "1x10".into())],
        quiet: vec![(s, "0x10".into()), (retried, "1x10".into())],
        at: 300,
        out: jl,
        also_quiet: Vec::new(),
    };
    (expr, test)
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

    #[test]
    fn subjects_keep_their_alerts_together_in_registry_order() {
        fn first(s: &u32) -> Option<Alert> {
            (*s > 0).then(|| named(&format!("A{s}")))
        }
        fn each(s: &u32) -> Vec<Alert> {
            (0..*s).map(|i| named(&format!("B{s}.{i}"))).collect()
        }
        fn named(name: &str) -> Alert {
            Alert {
                name: name.into(),
                expr: "vector(1)".into(),
                for_seconds: 0,
                severity: Severity::Info,
                labels: BTreeMap::new(),
                summary: String::new(),
                description: String::new(),
                runbook: ["", "", ""],
                scope: String::new(),
                test: Test {
                    interval: 60,
                    fire: vec![],
                    quiet: vec![],
                    at: 0,
                    out: BTreeMap::new(),
                    also_quiet: Vec::new(),
                },
            }
        }
        let names: Vec<String> =
            build(&[Builder::One(first), Builder::Each(each)], &[0, 2, 1]).into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["A2", "B2.0", "B2.1", "A1", "B1.0"]);
    }
}
