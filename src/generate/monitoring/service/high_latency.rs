//! `HighLatencyP50`, `…P95`, `…P99`: a recorded request-duration percentile
//! above its limit, one alert per percentile the description sets (or its
//! SLO's).

use super::super::alert::{Alert, dur, num, timing};
use super::{app, app_selector, histogram_test, static_labels};
use crate::description::alerts::LatencyRule;
use crate::description::resolve::{MetricsR, Svc};

const RUNBOOK: [&str; 3] = [
    "The given percentile of request duration is above its limit: a share of users waits too long.",
    "CPU throttling and saturation of the pods; latency of the datastores and external calls; a recent deploy.",
    "Scale out (raise replicas or the autoscaler maximum), remove the slow dependency call, or roll back.",
];

/// One per latency objective of a service exporting a request-duration histogram.
pub fn alerts(svc: &Svc) -> Vec<Alert> {
    let Some(m) = svc.metrics.as_ref().filter(|m| m.http) else { return Vec::new() };
    svc.alerts.latency.iter().map(|l| alert(svc, m, l)).collect()
}

fn alert(svc: &Svc, m: &MetricsR, l: &LatencyRule) -> Alert {
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let t = l.seconds;
    let (at, n) = timing(l.for_seconds, 300);
    let rec = format!("service:request_duration_seconds:{}", l.name);
    let upper = l.name.to_ascii_uppercase();
    Alert {
        name: format!("HighLatency{upper}"),
        expr: format!("{rec}{{{}}} > {}", app_selector(svc), num(t)),
        for_seconds: l.for_seconds,
        severity: l.severity,
        labels: static_labels(svc, l.severity),
        summary: format!("{name}: {upper} latency above {}s", num(t)),
        description: format!(
            "The {upper} request duration of {name} in {ns} has been above {}s for {}.",
            num(t),
            dur(l.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: {} above {}s for {}", l.name, num(t), dur(l.for_seconds)),
        test: histogram_test(&m.duration, m.per_second, &app(svc), t, at, n),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::recording::records;
    use super::super::super::testing::{assert_well_formed, matchers, metrics, service, thresholds};
    use super::*;

    #[test]
    fn one_alert_per_objective_above_its_recorded_percentile() {
        let svc = service("api");
        let all = alerts(&svc);
        let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
        // The SLO's `latency: { p99: 500ms }`.
        assert_eq!(names, ["HighLatencyP99"]);
        let a = &all[0];
        assert_well_formed(a, &records(&svc));
        let rec = "service:request_duration_seconds:p99";
        assert_eq!(metrics(&a.expr), [rec]);
        assert_eq!(matchers(&a.expr, rec), ["job=\"api\"", "namespace=\"shop\""]);
        assert_eq!(thresholds(&a.expr), [0.5]);
        assert!(a.summary.contains("P99 latency above 0.5s"), "{}", a.summary);
        // The test feeds the histogram the recording rule reads.
        assert!(a.test.fire.iter().all(|(s, _)| s.starts_with("http_request_duration_seconds_bucket{")));
    }

    #[test]
    fn none_without_metrics() {
        assert!(alerts(&service("worker")).is_empty());
    }
}
