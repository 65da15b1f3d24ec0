//! `NodeDiskLow`: a node filesystem with less than the threshold (percent)
//! free (node-exporter); off unless the description sets it.

use super::super::alert::{Alert, Test, between, dur, lbl, num, series, timing};
use super::severity;
use crate::description::resolve::Resolved;

const RUNBOOK: [&str; 3] = [
    "A node filesystem is almost full: the kubelet will evict pods and images soon.",
    "`kubectl describe node NODE` (DiskPressure); large images and logs on the node.",
    "Clean up images and logs, or give the node a larger disk.",
];

pub fn alert(r: &Resolved) -> Option<Alert> {
    let d = r.alerting.node_disk_free.as_ref()?;
    let (at, n) = timing(d.for_seconds, 0);
    let l = lbl(&[("device", "/dev/sda1"), ("fstype", "ext4"), ("instance", "node-1"), ("mountpoint", "/")]);
    let avail = series("node_filesystem_avail_bytes", &l);
    let size = series("node_filesystem_size_bytes", &l);
    let case = |p: f64| vec![(avail.clone(), format!("{}x{n}", num(p))), (size.clone(), format!("100x{n}"))];
    let fs = "fstype!~\"tmpfs|overlay|squashfs\"";
    Some(Alert {
        name: "NodeDiskLow".into(),
        expr: format!(
            "min by (instance, mountpoint) (node_filesystem_avail_bytes{{{fs}}} / node_filesystem_size_bytes{{{fs}}}) < {}",
            num(d.threshold / 100.0)
        ),
        for_seconds: d.for_seconds,
        severity: d.severity,
        labels: severity(d),
        summary: format!("A node filesystem has less than {}% free", num(d.threshold)),
        description: format!(
            "Filesystem {{{{ $labels.mountpoint }}}} of node {{{{ $labels.instance }}}} has had less than {}% free space for {}.",
            num(d.threshold),
            dur(d.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("every node: below {}% free for {}", num(d.threshold), dur(d.for_seconds)),
        test: Test {
            interval: 60,
            fire: case(d.threshold / 2.0),
            quiet: case(between(d.threshold, 100.0)),
            at,
            out: lbl(&[("instance", "node-1"), ("mountpoint", "/")]),
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::alert::Series;
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, shop, thresholds, values};
    use super::*;

    fn free(input: &[Series]) -> f64 {
        last(values(input, "node_filesystem_avail_bytes", &[])) / last(values(input, "node_filesystem_size_bytes", &[]))
    }

    #[test]
    fn fires_below_the_share_free_on_real_filesystems() {
        let Some(a) = alert(&shop()) else { panic!("`nodes: {{ diskFree: 10 }}` is set") };
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["node_filesystem_avail_bytes", "node_filesystem_size_bytes"]);
        assert_eq!(matchers(&a.expr, "node_filesystem_avail_bytes"), ["fstype!~\"tmpfs|overlay|squashfs\""]);
        assert_eq!(thresholds(&a.expr), [0.1]);
        assert!(a.expr.contains(") < 0.1"), "{}", a.expr);
        assert!(free(&a.test.fire) < 0.1 && free(&a.test.quiet) > 0.1);
    }

    #[test]
    fn off_unless_set() {
        let mut r = shop();
        r.alerting.node_disk_free = None;
        assert!(alert(&r).is_none());
    }
}
