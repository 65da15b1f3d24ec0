//! `JobFailed`: a run of a job or cronjob of the platform failed — the
//! Job's Failed condition (its retries, `backoffLimit`, are spent or its
//! deadline passed), not `kube_job_status_failed` (failed pods): a pod that
//! fails and is retried into success is no failed run.

use super::super::alert::{Alert, failed_run, lbl};
use super::{Batch, Runs};
use crate::description::alerts::Severity;

const RUNBOOK: [&str; 3] = [
    "A Job of the platform failed: its retries are spent or its deadline passed. For a job run once per release (a migration), the services declaring `after:` on it were not rolled out (or, applied without waiting, run against what it did not do).",
    "`kubectl -n NS get jobs` and `kubectl -n NS logs job/JOB` (its image, its datastore unreachable, a failed migration step).",
    "Fix the cause and deploy again: a changed job is a new Job; to rerun the same one, `kubectl -n NS delete job JOB` and apply again (a CronJob's: `kubectl -n NS create job --from=cronjob/CRONJOB CRONJOB-manual`). The alert lasts as long as the failed Job exists.",
];

/// Always, for every job and cronjob.
pub fn alert(b: &Batch) -> Option<Alert> {
    let (name, ns) = (b.name.as_str(), b.namespace.as_str());
    let (matcher, example, what) = match &b.runs {
        Runs::Release(job) => (format!("job_name=\"{job}\""), job.clone(), format!("job `{name}` (Job `{job}`)")),
        Runs::Scheduled => {
            (format!("job_name=~\"{name}-[0-9]+\""), format!("{name}-28000000"), format!("cronjob `{name}`"))
        }
    };
    let (expr, test) = failed_run(ns, &matcher, &example);
    Some(Alert {
        name: "JobFailed".into(),
        expr,
        for_seconds: 0,
        severity: Severity::Warning,
        labels: lbl(&[("severity", "warning"), ("service", name)]),
        summary: format!("Job {name} failed"),
        description: format!("Job {{{{ $labels.job_name }}}} of {name} in {ns} failed."),
        runbook: RUNBOOK,
        scope: format!("The {what} (namespace `{ns}`): a failed run"),
        test,
    })
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::{assert_well_formed, matchers, metrics};
    use super::*;

    fn batch(runs: Runs) -> Batch {
        Batch { name: "migrate".into(), namespace: "shop".into(), runs }
    }

    #[test]
    fn a_release_job_alerts_on_its_own_job_only() {
        let Some(a) = alert(&batch(Runs::Release("migrate-1a2b3c4d".into()))) else { panic!("always built") };
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["kube_job_failed"]);
        assert_eq!(
            matchers(&a.expr, "kube_job_failed"),
            ["namespace=\"shop\"", "job_name=\"migrate-1a2b3c4d\"", "condition=\"true\""]
        );
        assert_eq!((a.for_seconds, a.severity), (0, Severity::Warning));
        assert!(a.scope.contains("Job `migrate-1a2b3c4d`"), "{}", a.scope);
    }

    #[test]
    fn a_cronjob_alerts_on_any_of_its_runs() {
        let Some(a) = alert(&batch(Runs::Scheduled)) else { panic!("always built") };
        assert_well_formed(&a, &[]);
        assert_eq!(
            matchers(&a.expr, "kube_job_failed"),
            ["namespace=\"shop\"", "job_name=~\"migrate-[0-9]+\"", "condition=\"true\""]
        );
    }
}
