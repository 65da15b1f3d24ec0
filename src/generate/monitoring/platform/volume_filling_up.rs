//! `VolumeFillingUp`: a PersistentVolumeClaim more than the threshold
//! (percent) full, one alert per namespace in use (kubelet volume stats).

use super::super::alert::{Alert, Test, between, dur, lbl, num, series, timing, with};
use super::severity;
use crate::description::alerts::Rule;
use crate::description::resolve::Resolved;

const RUNBOOK: [&str; 3] = [
    "A PersistentVolumeClaim is almost full; writes will fail when it is.",
    "`kubectl -n NS get pvc`; what grows (data, logs, WAL, old backups).",
    "Delete what is not needed, or expand the volume (raise the size in the description; the StorageClass must allow expansion).",
];

/// One per namespace in use, when enabled.
pub fn alerts(r: &Resolved) -> Vec<Alert> {
    let v = &r.alerting.volumes;
    if !v.enabled {
        return Vec::new();
    }
    r.namespaces().into_iter().map(|ns| alert(v, ns)).collect()
}

fn alert(v: &Rule, ns: &str) -> Alert {
    let (at, n) = timing(v.for_seconds, 0);
    let l = lbl(&[("namespace", ns), ("persistentvolumeclaim", "data-0")]);
    let used = series("kubelet_volume_stats_used_bytes", &l);
    let cap = series("kubelet_volume_stats_capacity_bytes", &l);
    let case = |p: f64| vec![(used.clone(), format!("{}x{n}", num(p))), (cap.clone(), format!("100x{n}"))];
    let sel = format!("namespace=\"{ns}\"");
    Alert {
        name: "VolumeFillingUp".into(),
        expr: format!(
            "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{{{sel}}} / kubelet_volume_stats_capacity_bytes{{{sel}}}) > {}",
            num(v.threshold / 100.0)
        ),
        for_seconds: v.for_seconds,
        severity: v.severity,
        labels: with(&severity(v), "namespace", ns),
        summary: format!("A volume in {ns} is more than {}% full", num(v.threshold)),
        description: format!(
            "PersistentVolumeClaim {{{{ $labels.persistentvolumeclaim }}}} in {ns} has been more than {}% full for {}.",
            num(v.threshold),
            dur(v.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("namespace `{ns}`: above {}% used for {}", num(v.threshold), dur(v.for_seconds)),
        test: Test {
            interval: 60,
            fire: case(between(v.threshold, 100.0)),
            quiet: case(v.threshold / 2.0),
            at,
            out: l,
            also_quiet: Vec::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::alert::Series;
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, shop, thresholds, values};
    use super::*;

    fn full(input: &[Series]) -> f64 {
        last(values(input, "kubelet_volume_stats_used_bytes", &[]))
            / last(values(input, "kubelet_volume_stats_capacity_bytes", &[]))
    }

    #[test]
    fn one_alert_per_namespace_in_use_above_the_share_used() {
        let all = alerts(&shop());
        let namespaces: Vec<&str> = all.iter().map(|a| a.labels["namespace"].as_str()).collect();
        assert_eq!(namespaces, ["jobs", "shop"]);
        let a = &all[1];
        assert_well_formed(a, &[]);
        assert_eq!(metrics(&a.expr), ["kubelet_volume_stats_used_bytes", "kubelet_volume_stats_capacity_bytes"]);
        assert_eq!(matchers(&a.expr, "kubelet_volume_stats_used_bytes"), ["namespace=\"shop\""]);
        assert_eq!(thresholds(&a.expr), [0.85]);
        assert!(full(&a.test.fire) > 0.85 && full(&a.test.quiet) < 0.85);
        assert!(!a.labels.contains_key("service"));
    }

    #[test]
    fn off_when_disabled() {
        let mut r = shop();
        r.alerting.volumes.enabled = false;
        assert!(alerts(&r).is_empty());
    }
}
