//! The jobs family: an alert when a run of one of the platform's own jobs
//! or cronjobs fails, from kube-state-metrics (no exporter of our own).

pub(super) mod job_failed;

use crate::description::resolve::Resolved;

/// A job or cronjob of the platform, as its alerts see it.
pub(super) struct Batch {
    /// The job's or cronjob's name in the description.
    pub name: String,
    pub namespace: String,
    /// The `job_name` of its runs: the Job of this release (`migrate-1a2b3c4d`)
    /// or a CronJob's runs (`report-` and the minute it was due).
    pub runs: Runs,
}

pub(super) enum Runs {
    /// The one Job of this release.
    Release(String),
    /// The Jobs a CronJob creates.
    Scheduled,
}

/// The platform's jobs (the Jobs of this release, as generated in
/// `stack.release`) and cronjobs.
pub(super) fn batch(r: &Resolved, stack: &crate::generate::Stack) -> Vec<Batch> {
    let mut out = Vec::new();
    for j in &r.jobs {
        let prefix = format!("{}-", j.name);
        let job = stack.release.jobs.iter().find(|(ns, name, _)| *ns == j.namespace && name.starts_with(&prefix));
        if let Some((_, job, _)) = job {
            out.push(Batch { name: j.name.clone(), namespace: j.namespace.clone(), runs: Runs::Release(job.clone()) });
        }
    }
    for c in &r.cronjobs {
        out.push(Batch { name: c.job.name.clone(), namespace: c.job.namespace.clone(), runs: Runs::Scheduled });
    }
    out
}
