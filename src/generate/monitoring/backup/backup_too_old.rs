//! `BackupTooOld`: a backup CronJob's last success is older than the allowed
//! number of runs; only for CronJobs whose period is known.

use super::super::alert::{Alert, Test, dur, lbl, series};
use super::super::rules::anchor;
use super::CronJob;

const RUNBOOK: [&str; 3] = [
    "No backup has succeeded for longer than the allowed number of runs: the recovery point objective is breached if data is lost now.",
    "`kubectl -n NS get cronjob CRONJOB` (suspended? last schedule time); the last jobs and their logs.",
    "Resume or fix the CronJob and run a backup by hand now; then check that a restore from it works.",
];

pub fn alert(c: &CronJob) -> Option<Alert> {
    let every = c.every?;
    let (name, ns, schedule) = (c.name.as_str(), c.namespace.as_str(), c.schedule.as_str());
    let restore = c
        .restore
        .as_ref()
        .map_or_else(String::new, |title| format!("; restore from a backup: [{title}](#{})", anchor(title)));
    let max_age = (c.runs.threshold * every as f64).round() as u32;
    // The unit tests evaluate at 10m whatever the period (evaluating every
    // minute up to 2 × 1d would take minutes): the last success is a
    // minute beyond the limit when it fires, a minute within when it does
    // not (timestamps before the epoch are fine). The same instant and
    // interval for every BackupTooOld test, because each test also feeds
    // the other CronJobs' healthy series.
    let (step, at) = (60, 600);
    let n = at / step + 2;
    let stamp = |age: i64| format!("{}x{n}", i64::from(at) - age);
    let cl = lbl(&[("cronjob", name), ("namespace", ns)]);
    let s = series("kube_cronjob_status_last_successful_time", &cl);
    Some(Alert {
        name: "BackupTooOld".into(),
        expr: format!(
            "time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{{namespace=\"{ns}\",cronjob=\"{name}\"}}) > {max_age}"
        ),
        // A page holds for 5 minutes first (KP605), though the age only grows.
        for_seconds: 300,
        severity: c.runs.severity,
        labels: lbl(&[("severity", c.runs.severity.as_str()), ("service", name)]),
        summary: format!("The last successful backup {name} is older than {}", dur(max_age)),
        description: format!(
            "CronJob {name} in {ns} runs every {} ({schedule}) but has not succeeded for {}: the recovery point objective is at risk.",
            dur(every),
            dur(max_age)
        ),
        runbook: RUNBOOK,
        scope: format!(
            "CronJob `{name}` (namespace `{ns}`, every {}): no success for {}{restore}",
            dur(every),
            dur(max_age)
        ),
        test: Test {
            interval: step,
            // Past the limit for the whole 10 minutes, so beyond `for`.
            fire: vec![(s.clone(), stamp(i64::from(max_age) + 660))],
            quiet: vec![(s, stamp(i64::from(max_age) - 60))],
            at,
            out: cl,
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, thresholds};
    use super::super::tests::{foreign, shop_cronjobs};
    use super::*;
    use crate::description::alerts::Severity;

    /// The age of the last success at the evaluation.
    fn age(a: &Alert, values: &str) -> f64 {
        f64::from(a.test.at) - last(values)
    }

    #[test]
    fn fires_when_the_last_success_is_older_than_the_allowed_runs() {
        let jobs = shop_cronjobs();
        let Some(a) = alert(&jobs[1]) else { panic!("db-backup runs every 6h") };
        assert_well_formed(&a, &[]);
        let m = "kube_cronjob_status_last_successful_time";
        assert_eq!(metrics(&a.expr), [m]);
        assert_eq!(matchers(&a.expr, m), ["namespace=\"shop\"", "cronjob=\"db-backup\""]);
        // Two runs of 6h.
        assert_eq!(thresholds(&a.expr), [43200.0]);
        assert!(a.expr.starts_with("time() - "), "{}", a.expr);
        // The default severity: a backup point lost for two runs pages.
        assert_eq!((a.for_seconds, a.severity), (300, Severity::Critical));
        assert_eq!(a.labels["severity"], "critical");
        // Older than the limit for longer than `for` when it fires; younger when silent.
        assert!(age(&a, &a.test.fire[0].1) > 43200.0 + f64::from(a.for_seconds));
        assert!(age(&a, &a.test.quiet[0].1) < 43200.0);
        assert!(a.scope.contains("every 6h): no success for 12h; restore from a backup"), "{}", a.scope);
    }

    #[test]
    fn another_cronjob_is_timed_by_its_schedule_or_not_at_all() {
        let Some(a) = alert(&foreign("0 3 * * *")) else { panic!("a daily schedule") };
        assert_well_formed(&a, &[]);
        assert_eq!(thresholds(&a.expr), [172800.0]);
        assert!(alert(&foreign("0 3 1 * *")).is_none(), "a monthly schedule is not timed");
    }
}
