//! `CrashLooping`: a container of the service restarts more than the
//! threshold in an hour (kube-state-metrics).

use super::super::alert::{Alert, Test, num, series, timing};
use super::{container, pod, pod_selector, static_labels};
use crate::description::resolve::Svc;

const RUNBOOK: [&str; 3] = [
    "A container keeps restarting: it crashes or fails its liveness probe.",
    "`kubectl -n NS describe pod POD` (last state, exit code, OOMKilled); `kubectl -n NS logs POD --previous`.",
    "Fix the crash (configuration, missing secret, dependency unreachable); raise the memory limit if OOMKilled; relax a liveness probe that is too strict.",
];

pub fn alert(svc: &Svc) -> Option<Alert> {
    let r = &svc.alerts.restarts;
    if !r.enabled {
        return None;
    }
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let t = r.threshold;
    let (at, n) = timing(r.for_seconds, 3600);
    let s = series("kube_pod_container_status_restarts_total", &container(svc));
    let per_min = ((2.0 * t + 2.0) / 60.0).ceil().max(1.0);
    let low = (t / 2.0).floor();
    Some(Alert {
        name: "CrashLooping".into(),
        expr: format!(
            "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{{{}}}[1h])) > {}",
            pod_selector(svc),
            num(t)
        ),
        for_seconds: r.for_seconds,
        severity: r.severity,
        labels: static_labels(svc, r.severity),
        summary: format!("{name}: a container restarts more than {} times an hour", num(t)),
        description: format!(
            "Container {name} of pod {{{{ $labels.pod }}}} in {ns} restarted more than {} times in the last hour.",
            num(t)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: more than {} restarts in 1h", num(t)),
        test: Test {
            interval: 60,
            fire: vec![(s.clone(), format!("0+{}x{n}", num(per_min)))],
            quiet: vec![(s, format!("0x60 {}x{n}", num(low)))],
            at,
            out: pod(svc),
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, service, step, thresholds};
    use super::*;

    #[test]
    fn fires_on_more_restarts_in_an_hour_than_the_threshold() {
        let mut svc = service("api");
        svc.alerts.restarts.threshold = 7.0;
        let Some(a) = alert(&svc) else { panic!("CrashLooping is on by default") };
        assert_well_formed(&a, &[]);
        let m = "kube_pod_container_status_restarts_total";
        assert_eq!(metrics(&a.expr), [m]);
        assert_eq!(matchers(&a.expr, m), ["namespace=\"shop\"", "container=\"api\""]);
        assert!(a.expr.contains("[1h]"), "{}", a.expr);
        assert_eq!(thresholds(&a.expr), [7.0]);
        // An hour of samples a minute apart.
        assert!(60.0 * step(&a.test.fire[0].1) > 7.0);
        // Over twice the threshold in the hour, whatever it is (promtool's
        // `increase` extrapolates, and a margin keeps the case firing), and
        // no more than whole restarts a minute round that up to.
        for t in [1.0, 7.0, 59.0, 60.0, 89.0, 500.0] {
            svc.alerts.restarts.threshold = t;
            let a = alert(&svc).expect("on");
            let hour = 60.0 * step(&a.test.fire[0].1);
            assert!(hour > 2.0 * t && hour <= 2.0 * t + 62.0, "threshold {t}: {}", a.test.fire[0].1);
        }
        // One jump after an hour of none: at most that many restarts within the last hour.
        assert!(last(&a.test.quiet[0].1) < 7.0);
        assert!(a.description.contains("{{ $labels.pod }}"));
    }

    #[test]
    fn off_when_disabled() {
        let mut svc = service("worker");
        svc.alerts.restarts.enabled = false;
        assert!(alert(&svc).is_none());
    }
}
