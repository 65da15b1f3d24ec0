//! `BackupFailed`: a run of a backup CronJob failed — the Job's Failed
//! condition, not `kube_job_status_failed` (failed pods): a pod that fails
//! and is retried successfully (backoffLimit) is not a missing backup.

use super::super::alert::{Alert, failed_run, lbl};
use super::super::rules::anchor;
use super::CronJob;
use crate::description::alerts::Severity;

const RUNBOOK: [&str; 3] = [
    "A run of a backup CronJob failed: this backup point is missing.",
    "`kubectl -n NS get jobs` and `kubectl -n NS logs job/JOB` (credentials, storage full, datastore unreachable).",
    "Fix the cause and start a run by hand: `kubectl -n NS create job --from=cronjob/CRONJOB CRONJOB-manual`. The alert lasts as long as the failed Job exists (the CronJob keeps the last 3): delete it once understood, `kubectl -n NS delete job JOB`.",
];

/// Always, for every backup CronJob.
pub fn alert(c: &CronJob) -> Option<Alert> {
    let (name, ns) = (c.name.as_str(), c.namespace.as_str());
    let restore = c
        .restore
        .as_ref()
        .map_or_else(String::new, |title| format!("; restore from a backup: [{title}](#{})", anchor(title)));
    let (expr, test) = failed_run(ns, &format!("job_name=~\"{name}-[0-9]+\""), &format!("{name}-28000000"));
    Some(Alert {
        name: "BackupFailed".into(),
        expr,
        for_seconds: 0,
        severity: Severity::Warning,
        labels: lbl(&[("severity", "warning"), ("service", name)]),
        summary: format!("Backup {name} failed"),
        description: format!("Job {{{{ $labels.job_name }}}} of the backup CronJob {name} in {ns} failed."),
        runbook: RUNBOOK,
        scope: format!("CronJob `{name}` (namespace `{ns}`): a failed run{restore}"),
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{assert_well_formed, last, matchers, metrics, thresholds, values};
    use super::super::tests::{foreign, shop_cronjobs};
    use super::*;

    #[test]
    fn fires_at_once_on_a_failed_job_of_the_cronjob_not_on_a_retried_pod() {
        let jobs = shop_cronjobs();
        let Some(a) = alert(&jobs[1]) else { panic!("always built") };
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["kube_job_failed"]);
        assert_eq!(
            matchers(&a.expr, "kube_job_failed"),
            ["namespace=\"shop\"", "job_name=~\"db-backup-[0-9]+\"", "condition=\"true\""]
        );
        assert_eq!(thresholds(&a.expr), [0.0]);
        assert_eq!((a.for_seconds, a.severity), (0, Severity::Warning));
        assert_eq!(last(values(&a.test.fire, "kube_job_failed", &[])), 1.0);
        // A failed pod retried into success: no failed Job, no alert.
        assert_eq!(last(values(&a.test.quiet, "kube_job_failed", &[])), 0.0);
        assert_eq!(last(values(&a.test.quiet, "kube_job_status_failed", &[])), 1.0);
        assert!(a.scope.ends_with("; restore from a backup: [Restore db](#restore-db)"), "{}", a.scope);
    }

    #[test]
    fn another_cronjob_has_no_restore_link() {
        let Some(a) = alert(&foreign("0 3 * * *")) else { panic!("always built") };
        assert_well_formed(&a, &[]);
        assert_eq!(a.scope, "CronJob `nightly-backup` (namespace `ops`): a failed run");
    }
}
