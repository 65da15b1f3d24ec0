//! `HighCpuUsage`: a pod of the service uses more than the threshold
//! (percent) of its CPU limit, or of its request when it has no limit.

use super::super::alert::{Alert, Test, dur, num, series, timing, with};
use super::{container, pod, pod_selector, static_labels};
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "Pods use most of their CPU limit (or request): they are throttled or close to it, and latency rises.",
    "CPU per pod on the dashboard; throttling (`container_cpu_cfs_throttled_periods_total`); whether load grew or a deploy made it costlier.",
    "Scale out, raise the CPU limit and request in the description, or find the hot path.",
];

pub fn alert(svc: &Svc) -> Option<Alert> {
    let r = &svc.alerts.cpu;
    if !r.enabled {
        return None;
    }
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let pod_sel = pod_selector(svc);
    let t = r.threshold;
    let of = if svc.limits.cpu.is_some() { "limits" } else { "requests" };
    let one = &of[..of.len() - 1];
    let (at, n) = timing(r.for_seconds, 300);
    let usage = series("container_cpu_usage_seconds_total", &container(svc));
    let limit = series(
        &format!("kube_pod_container_resource_{of}"),
        &with(&with(&container(svc), "resource", "cpu"), "unit", "core"),
    );
    let case = |f: f64| vec![(usage.clone(), format!("0+{}x{n}", num(60.0 * f))), (limit.clone(), format!("1x{n}"))];
    Some(Alert {
        name: "HighCpuUsage".into(),
        expr: format!(
            "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{pod_sel}}}[5m])) / sum by (namespace, pod) (kube_pod_container_resource_{of}{{{pod_sel},resource=\"cpu\"}}) > {}",
            num(t / 100.0)
        ),
        for_seconds: r.for_seconds,
        severity: r.severity,
        labels: static_labels(svc, r.severity),
        summary: format!("{name}: CPU above {}% of its {one}", num(t)),
        description: format!(
            "Pod {{{{ $labels.pod }}}} of {name} in {ns} has used more than {}% of its CPU {one} for {}.",
            num(t),
            dur(r.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: above {}% of the CPU {one} for {}", num(t), dur(r.for_seconds)),
        test: Test {
            interval: 60,
            fire: case(t * 1.2 / 100.0),
            quiet: case(t / 200.0),
            at,
            out: pod(svc),
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::alert::Series;
    use super::super::super::testing::{assert_well_formed, last, metrics, service, step, thresholds, values};
    use super::*;

    /// Cores used (counter seconds per one-minute sample) over cores allowed.
    fn share(input: &[Series], of: &str) -> f64 {
        step(values(input, "container_cpu_usage_seconds_total", &[])) / 60.0 / last(values(input, of, &[]))
    }

    #[test]
    fn fires_above_the_share_of_the_cpu_limit() {
        let svc = service("api");
        let Some(a) = alert(&svc) else { panic!("HighCpuUsage is on by default") };
        assert_well_formed(&a, &[]);
        let limits = "kube_pod_container_resource_limits";
        assert_eq!(metrics(&a.expr), ["container_cpu_usage_seconds_total", limits]);
        assert!(a.expr.contains("resource=\"cpu\""), "{}", a.expr);
        assert_eq!(thresholds(&a.expr), [0.9]);
        // The generated test probes near the threshold: at most a quarter above.
        let fire = share(&a.test.fire, limits);
        assert!(fire > 0.9 && fire <= 0.9 * 1.25 && share(&a.test.quiet, limits) < 0.9, "{fire}");
        assert!(a.summary.ends_with("of its limit"), "{}", a.summary);
    }

    #[test]
    fn without_a_cpu_limit_the_request_is_the_reference() {
        let svc = service("worker");
        let Some(a) = alert(&svc) else { panic!("HighCpuUsage is on by default") };
        assert_well_formed(&a, &[]);
        let requests = "kube_pod_container_resource_requests";
        assert_eq!(metrics(&a.expr)[1], requests);
        let fire = share(&a.test.fire, requests);
        assert!(fire > 0.9 && fire <= 0.9 * 1.25 && share(&a.test.quiet, requests) < 0.9, "{fire}");
        assert!(a.summary.ends_with("of its request"), "{}", a.summary);
    }
}
