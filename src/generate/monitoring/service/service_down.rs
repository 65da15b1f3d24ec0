//! `ServiceDown`: no target of the service up (or none at all: the
//! ServiceMonitor matched nothing); without metrics, no replica available.

use super::super::alert::{Alert, Test, dur, series, timing, with};
use super::{app, app_selector, deployment, static_labels};
use crate::description::alerts::Rule;
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "Prometheus cannot scrape a single healthy target of the service: every pod is down, or the ServiceMonitor / scrape job selects nothing. Users get errors.",
    "`kubectl -n NS get pods -l app.kubernetes.io/name=SERVICE`; `kubectl -n NS describe deploy SERVICE` (events); the Prometheus targets page for the job; the last logs: `kubectl -n NS logs deploy/SERVICE --previous`.",
    "Roll back the last change (`kubectl -n NS rollout undo deploy/SERVICE`) if it started with a deploy; otherwise fix what the events and logs show (image pull, crash, failing readiness probe, NetworkPolicy blocking the scrape).",
];

pub fn alert(svc: &Svc) -> Option<Alert> {
    let rule = &svc.alerts.down;
    if !rule.enabled {
        return None;
    }
    Some(if svc.metrics.is_some() { scraped(svc, rule) } else { unavailable(svc, rule) })
}

/// From `up` of the service's scrape job.
fn scraped(svc: &Svc, rule: &Rule) -> Alert {
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let app_sel = app_selector(svc);
    let (at, n) = timing(rule.for_seconds, 0);
    let up = series("up", &with(&app(svc), "instance", "10.0.0.1:8000"));
    Alert {
        name: "ServiceDown".into(),
        expr: format!("sum by (namespace, job) (up{{{app_sel}}}) == 0 or absent(up{{{app_sel}}})"),
        for_seconds: rule.for_seconds,
        severity: rule.severity,
        labels: static_labels(svc, rule.severity),
        summary: format!("{name} is down: Prometheus scrapes no healthy target"),
        description: format!("No target of job {name} in namespace {ns} has been up for {}.", dur(rule.for_seconds)),
        runbook: RUNBOOK,
        scope: format!("`{name}`: every target down, or none scraped, for {}", dur(rule.for_seconds)),
        test: Test {
            interval: 60,
            fire: vec![(up.clone(), format!("0x{n}"))],
            quiet: vec![(up, format!("1x{n}"))],
            at,
            out: app(svc),
            also_quiet: Vec::new(),
        },
    }
}

/// From kube-state-metrics' available replicas of the service's Deployment.
fn unavailable(svc: &Svc, rule: &Rule) -> Alert {
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let (at, n) = timing(rule.for_seconds, 0);
    let out = deployment(svc);
    let s = series("kube_deployment_status_replicas_available", &out);
    Alert {
        name: "ServiceDown".into(),
        expr: format!(
            "sum by (namespace, deployment) (kube_deployment_status_replicas_available{{namespace=\"{ns}\",deployment=\"{name}\"}}) == 0"
        ),
        for_seconds: rule.for_seconds,
        severity: rule.severity,
        labels: static_labels(svc, rule.severity),
        summary: format!("{name} is down: no replica available"),
        description: format!("Deployment {name} in {ns} has had no available replica for {}.", dur(rule.for_seconds)),
        runbook: RUNBOOK,
        scope: format!("`{name}`: no available replica for {}", dur(rule.for_seconds)),
        test: Test {
            interval: 60,
            fire: vec![(s.clone(), format!("0x{n}"))],
            quiet: vec![(s, format!("2x{n}"))],
            at,
            out,
            also_quiet: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, service, thresholds, values};
    use super::*;
    use crate::description::alerts::Severity;

    #[test]
    fn a_scraped_service_is_down_when_no_target_is_up_or_none_exists() {
        let svc = service("api");
        let Some(a) = alert(&svc) else { panic!("ServiceDown is on by default") };
        assert_well_formed(&a, &[]);
        assert_eq!(a.name, "ServiceDown");
        assert_eq!(metrics(&a.expr), ["up"]);
        assert_eq!(matchers(&a.expr, "up"), ["job=\"api\"", "namespace=\"shop\""]);
        assert!(a.expr.contains("absent(up{"), "{}", a.expr);
        assert_eq!(thresholds(&a.expr), [0.0]);
        assert_eq!((a.severity, a.labels["service"].as_str()), (Severity::Critical, "api"));
        assert_eq!(a.for_seconds, svc.alerts.down.for_seconds);
        assert_eq!(last(values(&a.test.fire, "up", &[])), 0.0);
        assert_eq!(last(values(&a.test.quiet, "up", &[])), 1.0);
    }

    #[test]
    fn a_service_without_metrics_is_down_without_an_available_replica() {
        let Some(a) = alert(&service("worker")) else { panic!("ServiceDown is on by default") };
        assert_well_formed(&a, &[]);
        let m = "kube_deployment_status_replicas_available";
        assert_eq!(metrics(&a.expr), [m]);
        assert_eq!(matchers(&a.expr, m), ["namespace=\"jobs\"", "deployment=\"worker\""]);
        assert_eq!(thresholds(&a.expr), [0.0]);
        assert_eq!(last(values(&a.test.fire, m, &[])), 0.0);
        assert!(last(values(&a.test.quiet, m, &[])) > 0.0);
    }

    #[test]
    fn off_when_disabled() {
        let mut svc = service("api");
        svc.alerts.down.enabled = false;
        assert!(alert(&svc).is_none());
    }
}
