//! `HighErrorRatio`: the share of 5xx responses over 5 minutes above the
//! threshold (percent), read from the recorded ratio.

use super::super::alert::{Alert, Test, between, dur, num, series, timing, with};
use super::{app, app_selector, static_labels, statuses};
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "A larger share of requests than the threshold answers with a 5xx status over 5 minutes.",
    "Which endpoints fail (the request rate by endpoint and status on the dashboard); the logs of the service at error level; the health of what it uses (datastores, external APIs).",
    "Roll back a bad deploy; restore the failing dependency; scale out if the errors come from overload (timeouts, 503).",
];

/// When enabled on a service whose requests carry their status (not
/// Alertmanager's, nor a component exporting no request family).
pub fn alert(svc: &Svc) -> Option<Alert> {
    let m = svc.metrics.as_ref().filter(|m| m.http)?;
    let (bad, good) = statuses(m.errors.as_deref()?);
    let r = &svc.alerts.error_rate;
    if !r.enabled {
        return None;
    }
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let app = app(svc);
    let t = r.threshold;
    let (at, n) = timing(r.for_seconds, 300);
    let req_series = |status: &str| series(&m.requests, &with(&app, &m.status_label, status));
    let case = |pct: f64| {
        vec![
            (req_series(&bad), format!("0+{}x{n}", num(pct))),
            (req_series(&good), format!("0+{}x{n}", num(100.0 - pct))),
        ]
    };
    Some(Alert {
        name: "HighErrorRatio".into(),
        expr: format!("service:request_errors:ratio_rate5m{{{}}} > {}", app_selector(svc), num(t / 100.0)),
        for_seconds: r.for_seconds,
        severity: r.severity,
        labels: static_labels(svc, r.severity),
        summary: format!("{name}: more than {}% of requests fail", num(t)),
        description: format!(
            "Over 5 minutes more than {}% of the requests to {name} in {ns} answered with a 5xx status.",
            num(t)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: 5xx above {}% for {}", num(t), dur(r.for_seconds)),
        test: Test {
            interval: 60,
            fire: case(between(t, 100.0)),
            quiet: case(t / 2.0),
            at,
            out: app,
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::recording::records;
    use super::super::super::testing::{assert_well_formed, matchers, metrics, service, step, thresholds, values};
    use super::*;
    use crate::description::alerts::Severity;

    /// The share of 5xx among the requests of `input`.
    fn errors(input: &[(String, String)]) -> f64 {
        let bad = step(values(input, "http_requests_total", &[("status", "500")]));
        let good = step(values(input, "http_requests_total", &[("status", "200")]));
        bad / (bad + good)
    }

    #[test]
    fn fires_above_the_recorded_five_minute_error_ratio() {
        let mut svc = service("api");
        svc.alerts.error_rate.threshold = 2.0;
        let Some(a) = alert(&svc) else { panic!("HighErrorRatio is on by default") };
        assert_well_formed(&a, &records(&svc));
        let rec = "service:request_errors:ratio_rate5m";
        assert_eq!(metrics(&a.expr), [rec]);
        assert_eq!(matchers(&a.expr, rec), ["job=\"api\"", "namespace=\"shop\""]);
        assert_eq!(thresholds(&a.expr), [0.02]);
        assert_eq!(a.severity, Severity::Warning);
        assert!(errors(&a.test.fire) > 0.02 && errors(&a.test.quiet) < 0.02);
    }

    #[test]
    fn needs_metrics_and_can_be_turned_off() {
        assert!(alert(&service("worker")).is_none());
        let mut svc = service("api");
        svc.alerts.error_rate.enabled = false;
        assert!(alert(&svc).is_none());
    }
}
