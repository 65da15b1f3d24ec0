//! `NodeMemoryHigh`: a node using more than the threshold (percent) of its
//! memory (node-exporter); off unless the description sets it.

use super::super::alert::{Alert, Test, between, dur, lbl, num, series, timing};
use super::severity;
use crate::description::resolve::Resolved;

const RUNBOOK: [&str; 3] = [
    "A node uses most of its memory: pods will be evicted or OOM-killed.",
    "`kubectl top pods -A --sort-by=memory` on that node; pods without memory limits.",
    "Set or lower memory limits, spread pods, or add nodes.",
];

pub fn alert(r: &Resolved) -> Option<Alert> {
    let m = r.alerting.node_memory.as_ref()?;
    let (at, n) = timing(m.for_seconds, 0);
    let l = lbl(&[("instance", "node-1")]);
    let avail = series("node_memory_MemAvailable_bytes", &l);
    let total = series("node_memory_MemTotal_bytes", &l);
    let case =
        |used: f64| vec![(avail.clone(), format!("{}x{n}", num(100.0 - used))), (total.clone(), format!("100x{n}"))];
    Some(Alert {
        name: "NodeMemoryHigh".into(),
        expr: format!(
            "(1 - max by (instance) (node_memory_MemAvailable_bytes) / max by (instance) (node_memory_MemTotal_bytes)) > {}",
            num(m.threshold / 100.0)
        ),
        for_seconds: m.for_seconds,
        severity: m.severity,
        labels: severity(m),
        summary: format!("A node uses more than {}% of its memory", num(m.threshold)),
        description: format!(
            "Node {{{{ $labels.instance }}}} has used more than {}% of its memory for {}.",
            num(m.threshold),
            dur(m.for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("every node: above {}% used for {}", num(m.threshold), dur(m.for_seconds)),
        test: Test {
            interval: 60,
            fire: case(between(m.threshold, 100.0)),
            quiet: case(m.threshold / 2.0),
            at,
            out: l,
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::alert::Series;
    use super::super::super::testing::{assert_well_formed, last, metrics, shop, thresholds, values};
    use super::*;

    fn used(input: &[Series]) -> f64 {
        1.0 - last(values(input, "node_memory_MemAvailable_bytes", &[]))
            / last(values(input, "node_memory_MemTotal_bytes", &[]))
    }

    #[test]
    fn fires_above_the_share_of_memory_in_use() {
        let Some(a) = alert(&shop()) else { panic!("`nodes: {{ memory: 90 }}` is set") };
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["node_memory_MemAvailable_bytes", "node_memory_MemTotal_bytes"]);
        assert_eq!(thresholds(&a.expr), [0.9]);
        // The quiet case is a node in use, at half the threshold, not an idle one.
        let quiet = used(&a.test.quiet);
        assert!(used(&a.test.fire) > 0.9 && (0.44..0.9).contains(&quiet), "{quiet}");
        assert_eq!(a.labels.keys().collect::<Vec<_>>(), ["severity"]);
    }

    #[test]
    fn off_unless_set() {
        let mut r = shop();
        r.alerting.node_memory = None;
        assert!(alert(&r).is_none());
    }
}
