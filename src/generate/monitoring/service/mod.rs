//! The service family: each service's standard alerts (down, errors,
//! latency, restarts, CPU, memory, replicas, autoscaler) and its custom ones,
//! one module per alert. What a service's series are called in Prometheus is
//! here, shared by them.

pub(super) mod crash_looping;
pub(super) mod custom;
pub(super) mod high_cpu_usage;
pub(super) mod high_error_ratio;
pub(super) mod high_latency;
pub(super) mod hpa_at_maximum;
pub(super) mod memory;
pub(super) mod replicas_unavailable;
pub(super) mod service_down;

use std::collections::BTreeMap;

use super::alert::{Test, lbl, num, series, with};
use crate::description::alerts::Severity;
use crate::description::resolve::Svc;

/// `job` and `namespace`: the labels of the service's scraped series.
pub(super) fn app(svc: &Svc) -> BTreeMap<String, String> {
    lbl(&[("job", &svc.name), ("namespace", &svc.namespace)])
}

/// The matchers selecting the service's scraped series.
pub(super) fn app_selector(svc: &Svc) -> String {
    format!("job=\"{}\",namespace=\"{}\"", svc.name, svc.namespace)
}

/// The matchers selecting the service's container in kube-state-metrics and cAdvisor series.
pub(super) fn pod_selector(svc: &Svc) -> String {
    format!("namespace=\"{}\",container=\"{}\"", svc.namespace, svc.name)
}

/// A pod of the service as the tests name it: `namespace` and `pod`.
pub(super) fn pod(svc: &Svc) -> BTreeMap<String, String> {
    lbl(&[("namespace", &svc.namespace), ("pod", &format!("{}-7d9f8c6b5-x2x4q", svc.name))])
}

/// [`pod`] and the service's `container`: the labels of per-container series.
pub(super) fn container(svc: &Svc) -> BTreeMap<String, String> {
    with(&pod(svc), "container", &svc.name)
}

/// `deployment` and `namespace`: the labels of kube-state-metrics' Deployment series.
pub(super) fn deployment(svc: &Svc) -> BTreeMap<String, String> {
    lbl(&[("deployment", &svc.name), ("namespace", &svc.namespace)])
}

/// The labels every alert of the service carries: Alertmanager groups and
/// inhibits by `service`.
pub(super) fn static_labels(svc: &Svc, sev: Severity) -> BTreeMap<String, String> {
    lbl(&[("severity", sev.as_str()), ("service", &svc.name)])
}

/// A server error and a success as the target's status label writes them,
/// for the tests: `5..` gives `500` and `200`, Envoy's class `5` gives `5` and `2`.
pub(in super::super) fn statuses(errors: &str) -> (String, String) {
    let bad = errors.replace('.', "0");
    let good = bad.replacen('5', "2", 1);
    (bad, good)
}

/// Observations all in the bucket above `t` (fires) or all below `t / 2` (silent).
/// `t` is in seconds, the buckets in the histogram's unit (`per_second` of them a second).
pub(super) fn histogram_test(
    metric: &str,
    per_second: u32,
    app: &BTreeMap<String, String>,
    t: f64,
    at: u32,
    n: u32,
) -> Test {
    let t = t * f64::from(per_second);
    let les = [num(t / 2.0), num(t), num(t * 2.0), "+Inf".to_string()];
    let bucket = |le: &str| series(&format!("{metric}_bucket"), &with(app, "le", le));
    let fire = les
        .iter()
        .enumerate()
        .map(|(i, le)| (bucket(le), if i < 2 { format!("0x{n}") } else { format!("0+10x{n}") }))
        .collect();
    let quiet = les.iter().map(|le| (bucket(le), format!("0+10x{n}"))).collect();
    Test { interval: 60, fire, quiet, at, out: app.clone(), also_quiet: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{last, service, step, values};
    use super::*;

    #[test]
    fn histogram_tests_put_every_observation_above_or_well_below_the_threshold() {
        let t = histogram_test("d", 1, &app(&service("api")), 0.5, 900, 25);
        // Firing: nothing at or below 0.5s, everything by 1s.
        assert_eq!(step(values(&t.fire, "d_bucket", &[("le", "0.5")])), 0.0);
        assert_eq!(step(values(&t.fire, "d_bucket", &[("le", "1")])), 10.0);
        // Silent: everything by 0.25s.
        assert_eq!(step(values(&t.quiet, "d_bucket", &[("le", "0.25")])), 10.0);
        assert_eq!(last(values(&t.quiet, "d_bucket", &[("le", "+Inf")])), 250.0);
    }

    #[test]
    fn a_histogram_in_milliseconds_gets_its_buckets_in_milliseconds() {
        let t = histogram_test("ms", 1000, &app(&service("api")), 0.5, 900, 25);
        assert_eq!(step(values(&t.fire, "ms_bucket", &[("le", "500")])), 0.0);
        assert_eq!(step(values(&t.fire, "ms_bucket", &[("le", "1000")])), 10.0);
    }

    #[test]
    fn statuses_as_the_label_writes_them() {
        assert_eq!(statuses("5.."), ("500".to_string(), "200".to_string()));
        assert_eq!(statuses("5"), ("5".to_string(), "2".to_string()));
    }
}
