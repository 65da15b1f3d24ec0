//! `HpaAtMaximum`: the service's autoscaler has run at its maximum replica
//! count for a while; only for autoscaled services.

use super::super::alert::{Alert, Test, dur, lbl, series, timing};
use super::static_labels;
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "The autoscaler has run at its maximum replica count for a while: more load cannot be absorbed.",
    "Request rate and CPU per pod; whether the load is legitimate (a client retrying in a loop?).",
    "Raise `replicas.max` in the description if the cluster has room (`kubeproof budget`), or make requests cheaper.",
];

pub fn alert(svc: &Svc) -> Option<Alert> {
    let r = &svc.alerts.hpa_max;
    if !r.enabled || !svc.autoscaled() {
        return None;
    }
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let (at, n) = timing(r.for_seconds, 0);
    let hl = lbl(&[("horizontalpodautoscaler", name), ("namespace", ns)]);
    let cur = series("kube_horizontalpodautoscaler_status_current_replicas", &hl);
    let max = series("kube_horizontalpodautoscaler_spec_max_replicas", &hl);
    let m = svc.max_replicas;
    let sel = format!("namespace=\"{ns}\",horizontalpodautoscaler=\"{name}\"");
    Some(Alert {
        name: "HpaAtMaximum".into(),
        expr: format!(
            "sum by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{{{sel}}}) >= sum by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{{{sel}}})"
        ),
        for_seconds: r.for_seconds,
        severity: r.severity,
        labels: static_labels(svc, r.severity),
        summary: format!("{name}: the autoscaler is at its maximum"),
        description: format!(
            "HorizontalPodAutoscaler {name} in {ns} has run at its maximum replica count for {}: it cannot absorb more load.",
            dur(r.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: at max replicas for {}", dur(r.for_seconds)),
        test: Test {
            interval: 60,
            fire: vec![(cur.clone(), format!("{m}x{n}")), (max.clone(), format!("{m}x{n}"))],
            quiet: vec![(cur, format!("{}x{n}", m.saturating_sub(1))), (max, format!("{m}x{n}"))],
            at,
            out: hl,
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::alert::Series;
    use super::super::super::testing::{assert_well_formed, last, metrics, service, values};
    use super::*;
    use crate::description::alerts::Severity;

    fn at_max(input: &[Series]) -> bool {
        let cur = last(values(input, "kube_horizontalpodautoscaler_status_current_replicas", &[]));
        cur >= last(values(input, "kube_horizontalpodautoscaler_spec_max_replicas", &[]))
    }

    #[test]
    fn fires_when_the_current_replicas_reach_the_maximum() {
        let Some(a) = alert(&service("api")) else { panic!("api is autoscaled") };
        assert_well_formed(&a, &[]);
        assert_eq!(
            metrics(&a.expr),
            ["kube_horizontalpodautoscaler_status_current_replicas", "kube_horizontalpodautoscaler_spec_max_replicas"]
        );
        assert!(a.expr.contains(">="), "{}", a.expr);
        assert_eq!(a.severity, Severity::Info);
        assert!(at_max(&a.test.fire) && !at_max(&a.test.quiet));
        assert_eq!(last(values(&a.test.fire, "kube_horizontalpodautoscaler_spec_max_replicas", &[])), 4.0);
    }

    #[test]
    fn only_for_autoscaled_services() {
        assert!(alert(&service("worker")).is_none());
    }
}
