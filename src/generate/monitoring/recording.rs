//! A service's recording rules: its request rate, its error ratio over 5m
//! (and the SLO's burn-rate windows when it has an availability objective),
//! and the request-duration percentiles of each of its histograms.

use std::collections::BTreeMap;

use super::alert::{lbl, num};
use super::service::app_selector;
use super::slo;
use crate::description::resolve::Svc;

/// Recorded name and expression, in order; none without metrics. Only the
/// series the target exports are read: no request rate without a request
/// family, no error ratio without a status label.
pub(super) fn records(svc: &Svc) -> Vec<(String, String)> {
    let Some(m) = &svc.metrics else { return Vec::new() };
    let a = &svc.alerts;
    let app_sel = app_selector(svc);
    // The request family's own series: only the served traffic.
    let req_sel = m.served.as_ref().map_or_else(|| app_sel.clone(), |x| format!("{app_sel},{x}"));
    let (req, st) = (&m.requests, &m.status_label);
    let by = "sum by (namespace, job)";
    let mut records = Vec::new();
    if m.http {
        records.push(("service:requests:rate5m".to_string(), format!("{by} (rate({req}{{{req_sel}}}[5m]))")));
    }
    // An objective records its ratios over every window; the 5m error ratio
    // (HighErrorRatio's) is recorded without one too.
    let objectives = slo::window_records(svc);
    let errors = m.errors.as_ref().filter(|_| m.http);
    if let Some(errors) = errors.filter(|_| !objectives.iter().any(|(r, _)| r.starts_with("service:request_errors:"))) {
        records.push((
            "service:request_errors:ratio_rate5m".to_string(),
            // No sample without traffic (not NaN), as the objectives' ratios.
            format!(
                "{by} (rate({req}{{{req_sel},{st}=~\"{errors}\"}}[5m])) / ({by} (rate({req}{{{req_sel}}}[5m])) > 0)"
            ),
        ));
    }
    records.extend(objectives);
    let mut quantiles: Vec<(&str, f64)> = vec![("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];
    for l in &a.latency {
        if !quantiles.iter().any(|(n, _)| *n == l.name) {
            quantiles.push((l.name, l.quantile));
        }
    }
    let duration = m.http.then_some(&m.duration);
    for h in duration.into_iter().chain(&m.histograms) {
        let (base, scale, sel) = if Some(h) == duration {
            // Recorded in seconds whatever the unit it is exported in.
            let scale = (m.per_second != 1).then(|| format!(" / {}", m.per_second));
            ("request_duration_seconds".to_string(), scale, &req_sel)
        } else {
            (h.clone(), None, &app_sel)
        };
        for (qn, q) in &quantiles {
            records.push((
                format!("service:{base}:{qn}"),
                format!(
                    "histogram_quantile({}, sum by (namespace, job, le) (rate({h}_bucket{{{sel}}}[5m]))){}",
                    num(*q),
                    scale.as_deref().unwrap_or("")
                ),
            ));
        }
    }
    records
}

/// The recording rules' labels: two services recording the same name must
/// not collide.
pub(super) fn labels(svc: &Svc) -> BTreeMap<String, String> {
    lbl(&[("service", &svc.name)])
}

#[cfg(test)]
mod tests {
    use super::super::testing::{matchers, metrics, parse, service};
    use super::*;

    fn names(svc: &Svc) -> Vec<String> {
        records(svc).into_iter().map(|(r, _)| r).collect()
    }

    #[test]
    fn the_request_rate_error_ratios_and_percentiles_of_a_service() {
        let mut svc = service("api");
        svc.alerts.availability = None;
        svc.alerts.latency_slo = None;
        assert_eq!(
            names(&svc),
            [
                "service:requests:rate5m",
                "service:request_errors:ratio_rate5m",
                "service:request_duration_seconds:p50",
                "service:request_duration_seconds:p95",
                "service:request_duration_seconds:p99",
            ]
        );
        for (name, expr) in records(&svc) {
            parse(&expr);
            let read = metrics(&expr);
            assert!(read.iter().all(|m| m.starts_with("http_request")), "{name}: {read:?}");
            for m in read {
                let sel = matchers(&expr, &m);
                assert!(sel.starts_with(&["job=\"api\"".into(), "namespace=\"shop\"".into()]), "{name}: {sel:?}");
            }
        }
        let (_, errors) = &records(&svc)[1];
        assert_eq!(matchers(errors, "http_requests_total")[2], "status=~\"5..\"");
    }

    #[test]
    fn a_component_family_is_read_in_its_unit_without_its_admin_traffic() {
        let mut svc = service("api");
        if let Some(m) = svc.metrics.as_mut() {
            m.per_second = 1000;
            m.served = Some("listener!=\"admin\"".into());
        }
        let all = records(&svc);
        let Some((_, p99)) = all.iter().find(|(n, _)| n == "service:request_duration_seconds:p99") else {
            panic!("p99 recorded")
        };
        assert!(p99.ends_with(")) / 1000"), "{p99}");
        for (name, expr) in all.iter().filter(|(n, _)| n.starts_with("service:request")) {
            let m = metrics(expr)[0].clone();
            assert!(matchers(expr, &m).contains(&"listener!=\"admin\"".to_string()), "{name}: {expr}");
        }
    }

    #[test]
    fn an_availability_objective_records_every_burn_rate_window() {
        let ratios: Vec<String> =
            names(&service("api")).into_iter().filter(|n| n.starts_with("service:request_errors:")).collect();
        let want = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"].map(|w| format!("service:request_errors:ratio_rate{w}"));
        assert_eq!(ratios, want);
        let slow: Vec<String> =
            names(&service("api")).into_iter().filter(|n| n.starts_with("service:request_slow:")).collect();
        assert_eq!(slow, want.map(|w| w.replace("errors", "slow")));
    }

    #[test]
    fn none_without_metrics_and_labelled_by_service() {
        assert!(records(&service("worker")).is_empty());
        assert_eq!(labels(&service("api")), lbl(&[("service", "api")]));
    }
}
