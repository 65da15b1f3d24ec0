//! Custom alerts on a service's own metrics, declared in the description:
//! a counter's increase over its window, a gauge's value, or a histogram's
//! quantile above the threshold.

use super::super::alert::{Alert, Test, dur, num, series, timing, with};
use super::{app, app_selector, histogram_test, static_labels};
use crate::description::alerts::{CustomR, MetricKind};
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "An alert on the service's own metric, declared in the platform description.",
    "The metric on the dashboard and the service's logs around the time it started.",
    "Depends on the metric: see the service's own documentation.",
];

/// One per custom alert of a service with metrics.
pub fn alerts(svc: &Svc) -> Vec<Alert> {
    if svc.metrics.is_none() {
        return Vec::new();
    }
    svc.alerts.custom.iter().map(|c| alert(svc, c)).collect()
}

fn alert(svc: &Svc, c: &CustomR) -> Alert {
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let (at, n) = timing(c.for_seconds, c.window);
    let Condition { expr, what, test } = match c.kind {
        MetricKind::Counter => counter(svc, c, at, n),
        MetricKind::Gauge => gauge(svc, c, at, n),
        MetricKind::Histogram => histogram(svc, c, at, n),
    };
    Alert {
        name: c.name.clone(),
        expr,
        for_seconds: c.for_seconds,
        severity: c.severity,
        labels: static_labels(svc, c.severity),
        summary: c.summary.clone().unwrap_or_else(|| format!("{name}: {what}")),
        description: format!("{name} in {ns}: {what} for {}.", dur(c.for_seconds)),
        runbook: RUNBOOK,
        scope: format!("`{name}`: {what} for {}", dur(c.for_seconds)),
        test,
    }
}

/// What a custom alert watches: its expression, in words, and its test.
struct Condition {
    expr: String,
    what: String,
    test: Test,
}

fn counter(svc: &Svc, c: &CustomR, at: u32, n: u32) -> Condition {
    let (metric, t, w) = (&c.metric, c.threshold, dur(c.window));
    let app = app(svc);
    let per_min = |total: f64| num(total * 60.0 / c.window as f64);
    let s = series(metric, &app);
    let quiet = if t > 0.0 { format!("0+{}x{n}", per_min(t / 2.0)) } else { format!("0x{n}") };
    Condition {
        expr: format!("sum by (namespace, job) (increase({metric}{{{}}}[{w}])) > {}", app_selector(svc), num(t)),
        what: format!("{metric} increased by more than {} in {w}", num(t)),
        test: Test {
            interval: 60,
            fire: vec![(s.clone(), format!("0+{}x{n}", per_min(2.0 * t + 1.0)))],
            quiet: vec![(s, quiet)],
            at,
            out: app,
            also_quiet: Vec::new(),
        },
    }
}

fn gauge(svc: &Svc, c: &CustomR, at: u32, n: u32) -> Condition {
    let (metric, t) = (&c.metric, c.threshold);
    let app = app(svc);
    let s = series(metric, &with(&app, "instance", "10.0.0.1:8000"));
    Condition {
        expr: format!("max by (namespace, job) ({metric}{{{}}}) > {}", app_selector(svc), num(t)),
        what: format!("{metric} above {}", num(t)),
        test: Test {
            interval: 60,
            fire: vec![(s.clone(), format!("{}x{n}", num(t * 1.5 + 1.0)))],
            quiet: vec![(s, format!("{}x{n}", num(t / 2.0)))],
            at,
            out: app,
            also_quiet: Vec::new(),
        },
    }
}

fn histogram(svc: &Svc, c: &CustomR, at: u32, n: u32) -> Condition {
    let (metric, t) = (&c.metric, c.threshold);
    Condition {
        expr: format!(
            "histogram_quantile({}, sum by (namespace, job, le) (rate({metric}_bucket{{{}}}[{}]))) > {}",
            num(c.quantile),
            app_selector(svc),
            dur(c.window),
            num(t)
        ),
        what: format!("the {} quantile of {metric} above {}s", num(c.quantile), num(t)),
        test: histogram_test(metric, 1, &app(svc), t, at, n),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, service, step, thresholds};
    use super::*;

    fn custom(name: &str) -> Alert {
        let svc = service("api");
        let found = alerts(&svc).into_iter().find(|a| a.name == name);
        found.unwrap_or_else(|| panic!("no custom alert {name}"))
    }

    #[test]
    fn one_alert_per_custom_rule_in_the_descriptions_order() {
        let names: Vec<String> = alerts(&service("api")).into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["QueueBacklog", "JobsFailing", "SlowImports"]);
        assert!(alerts(&service("worker")).is_empty());
    }

    #[test]
    fn a_gauge_fires_above_its_threshold() {
        let a = custom("QueueBacklog");
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["queue_depth"]);
        assert_eq!(matchers(&a.expr, "queue_depth"), ["job=\"api\"", "namespace=\"shop\""]);
        assert_eq!(thresholds(&a.expr), [100.0]);
        assert!(last(&a.test.fire[0].1) > 100.0 && last(&a.test.quiet[0].1) < 100.0);
        assert_eq!(a.summary, "api: queue_depth above 100");
    }

    #[test]
    fn a_counter_fires_when_it_grows_more_than_the_threshold_within_its_window() {
        let a = custom("JobsFailing");
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["jobs_failed_total"]);
        assert!(a.expr.contains("increase(jobs_failed_total{job=\"api\",namespace=\"shop\"}[15m])"), "{}", a.expr);
        assert_eq!(thresholds(&a.expr), [3.0]);
        // Samples a minute apart: the increase over 15 minutes is 15 steps.
        assert!(15.0 * step(&a.test.fire[0].1) > 3.0);
        assert!(15.0 * step(&a.test.quiet[0].1) < 3.0);
    }

    #[test]
    fn a_histogram_fires_when_its_quantile_is_above_the_threshold() {
        let a = custom("SlowImports");
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["import_duration_seconds_bucket"]);
        assert!(a.expr.starts_with("histogram_quantile(0.9, "), "{}", a.expr);
        assert_eq!(thresholds(&a.expr), [2.0]);
        assert_eq!(a.severity.as_str(), "warning");
    }
}
