//! `MemoryNearLimit` (working set above a share of the memory limit) and
//! `MemoryAboveThreshold` (above a size): the OOM killer is near.

use super::super::alert::{Alert, Test, between, dur, num, series, timing, with};
use super::{container, pod, pod_selector, static_labels};
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "A pod's memory working set is close to its limit (or above the set size): the OOM killer will restart it soon.",
    "Memory per pod over days (a steady climb is a leak); recent deploys; the load.",
    "Raise the memory limit in the description, fix the leak, or spread the load over more replicas.",
];

/// `MemoryNearLimit`: above the threshold (percent) of the memory limit.
pub fn near_limit(svc: &Svc) -> Option<Alert> {
    let r = &svc.alerts.memory;
    if !r.enabled {
        return None;
    }
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let pod_sel = pod_selector(svc);
    let t = r.threshold;
    let (at, n) = timing(r.for_seconds, 0);
    let usage = series("container_memory_working_set_bytes", &container(svc));
    let limit = series(
        "kube_pod_container_resource_limits",
        &with(&with(&container(svc), "resource", "memory"), "unit", "byte"),
    );
    let case =
        |f: f64| vec![(usage.clone(), format!("{}x{n}", num(1e9 * f))), (limit.clone(), format!("1000000000x{n}"))];
    Some(Alert {
        name: "MemoryNearLimit".into(),
        expr: format!(
            "sum by (namespace, pod) (container_memory_working_set_bytes{{{pod_sel}}}) / sum by (namespace, pod) (kube_pod_container_resource_limits{{{pod_sel},resource=\"memory\"}}) > {}",
            num(t / 100.0)
        ),
        for_seconds: r.for_seconds,
        severity: r.severity,
        labels: static_labels(svc, r.severity),
        summary: format!("{name}: memory above {}% of its limit", num(t)),
        description: format!(
            "Pod {{{{ $labels.pod }}}} of {name} in {ns} has used more than {}% of its memory limit for {}; next comes the OOM killer.",
            num(t),
            dur(r.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: above {}% of the memory limit for {}", num(t), dur(r.for_seconds)),
        test: Test {
            interval: 60,
            fire: case(between(t, 100.0) / 100.0),
            quiet: case(t / 200.0),
            at,
            out: pod(svc),
            also_quiet: Vec::new(),
        },
    })
}

/// `MemoryAboveThreshold`: a working set above the size the description sets.
pub fn above_threshold(svc: &Svc) -> Option<Alert> {
    let r = svc.alerts.memory_bytes.as_ref()?;
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let t = r.threshold;
    let (at, n) = timing(r.for_seconds, 0);
    let usage = series("container_memory_working_set_bytes", &container(svc));
    let mib = num(t / 1048576.0);
    Some(Alert {
        name: "MemoryAboveThreshold".into(),
        expr: format!(
            "sum by (namespace, pod) (container_memory_working_set_bytes{{{}}}) > {}",
            pod_selector(svc),
            num(t)
        ),
        for_seconds: r.for_seconds,
        severity: r.severity,
        labels: static_labels(svc, r.severity),
        summary: format!("{name}: container memory above {mib}Mi"),
        description: format!(
            "Pod {{{{ $labels.pod }}}} of {name} in {ns} has had a working set above {mib}Mi for {}.",
            dur(r.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: working set above {mib}Mi for {}", dur(r.for_seconds)),
        test: Test {
            interval: 60,
            fire: vec![(usage.clone(), format!("{}x{n}", num((t * 1.2).round())))],
            quiet: vec![(usage, format!("{}x{n}", num((t / 2.0).round())))],
            at,
            out: pod(svc),
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::alert::Series;
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, service, thresholds, values};
    use super::*;

    fn used(input: &[Series]) -> f64 {
        last(values(input, "container_memory_working_set_bytes", &[]))
    }

    #[test]
    fn near_limit_fires_above_the_share_of_the_memory_limit() {
        let Some(a) = near_limit(&service("api")) else { panic!("MemoryNearLimit is on by default") };
        assert_well_formed(&a, &[]);
        let limits = "kube_pod_container_resource_limits";
        assert_eq!(metrics(&a.expr), ["container_memory_working_set_bytes", limits]);
        assert_eq!(matchers(&a.expr, limits), ["namespace=\"shop\"", "container=\"api\"", "resource=\"memory\""]);
        assert_eq!(thresholds(&a.expr), [0.9]);
        let limit = |input: &[Series]| last(values(input, limits, &[("resource", "memory")]));
        assert!(used(&a.test.fire) / limit(&a.test.fire) > 0.9);
        assert!(used(&a.test.quiet) / limit(&a.test.quiet) < 0.9);
    }

    #[test]
    fn above_threshold_fires_above_the_size_and_only_when_set() {
        let Some(a) = above_threshold(&service("api")) else { panic!("`memoryBytes: 400Mi` is set") };
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["container_memory_working_set_bytes"]);
        let size = 400.0 * 1048576.0;
        assert_eq!(thresholds(&a.expr), [size]);
        assert!(used(&a.test.fire) > size && used(&a.test.quiet) < size);
        assert_eq!(a.summary, "api: container memory above 400Mi");
        assert!(above_threshold(&service("worker")).is_none());
    }
}
