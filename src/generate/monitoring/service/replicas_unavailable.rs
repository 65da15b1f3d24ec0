//! `ReplicasUnavailable`: more unavailable replicas of the service's
//! Deployment than the threshold (kube-state-metrics).

use super::super::alert::{Alert, Test, dur, num, series, timing};
use super::{deployment, static_labels};
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "The Deployment has fewer available replicas than desired: capacity and redundancy are reduced.",
    "`kubectl -n NS get pods -l app.kubernetes.io/name=SERVICE -o wide` (Pending? CrashLoopBackOff?); events; node capacity and quota.",
    "Free capacity (nodes, ResourceQuota), fix the failing pods, or lower requests that do not fit.",
];

pub fn alert(svc: &Svc) -> Option<Alert> {
    let r = &svc.alerts.replicas;
    if !r.enabled {
        return None;
    }
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let t = r.threshold.floor();
    let (at, n) = timing(r.for_seconds, 0);
    let dep = deployment(svc);
    let s = series("kube_deployment_status_replicas_unavailable", &dep);
    Some(Alert {
        name: "ReplicasUnavailable".into(),
        expr: format!(
            "sum by (namespace, deployment) (kube_deployment_status_replicas_unavailable{{namespace=\"{ns}\",deployment=\"{name}\"}}) > {}",
            num(t)
        ),
        for_seconds: r.for_seconds,
        severity: r.severity,
        labels: static_labels(svc, r.severity),
        summary: format!("{name}: fewer replicas available than desired"),
        description: format!(
            "Deployment {name} in {ns} has had more than {} unavailable replica(s) for {}.",
            num(t),
            dur(r.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: more than {} unavailable for {}", num(t), dur(r.for_seconds)),
        test: Test {
            interval: 60,
            fire: vec![(s.clone(), format!("{}x{n}", num(t + 1.0)))],
            quiet: vec![(s, format!("{}x{n}", num(t)))],
            at,
            out: dep,
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, service, thresholds};
    use super::*;

    #[test]
    fn fires_above_the_whole_number_of_unavailable_replicas() {
        let mut svc = service("api");
        svc.alerts.replicas.threshold = 1.5;
        let Some(a) = alert(&svc) else { panic!("ReplicasUnavailable is on by default") };
        assert_well_formed(&a, &[]);
        let m = "kube_deployment_status_replicas_unavailable";
        assert_eq!(metrics(&a.expr), [m]);
        assert_eq!(matchers(&a.expr, m), ["namespace=\"shop\"", "deployment=\"api\""]);
        assert_eq!(thresholds(&a.expr), [1.0]);
        assert_eq!((last(&a.test.fire[0].1), last(&a.test.quiet[0].1)), (2.0, 1.0));
        assert_eq!(a.for_seconds, 600);
    }
}
