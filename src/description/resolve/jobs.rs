//! The platform's jobs and cronjobs, resolved: the pod fields a service
//! would have for a run to completion, and the run's own settings.

use super::{CronR, Cx, JobR, defaults};
use crate::description::value::pos_of;
use crate::description::{Bytes, ConcurrencyPolicy, Cpu, CronJob, Job, Service};
use crate::diag::Pos;

/// Retries of a run (Kubernetes' own default): on a first install the
/// datastore a migration reads starts at the same time, and the retries'
/// back-off (10 s, 20 s, 40 s, …) gives it minutes to be ready.
pub const BACKOFF_LIMIT: u32 = 6;
/// How long a run may take, retries included.
pub const ACTIVE_DEADLINE: u32 = 3600;
/// How long a finished Job (and its pods' logs) is kept: a day to look at a
/// failed migration; an unchanged release applied again within it is a no-op.
pub const TTL_AFTER_FINISHED: u32 = 86_400;
/// A CronJob's finished and failed Jobs kept, and how late a run may start.
pub const HISTORY: u32 = 3;
pub const STARTING_DEADLINE: u32 = 600;

impl Cx<'_> {
    /// Resolves the job `self.name`; `None` after an error.
    pub(super) fn job(&mut self, j: &Job, default_ns: &str) -> Option<JobR> {
        let before = self.errors.len();
        let image = self.image(j.image.as_ref(), "");
        let default_requests = (Cpu::from_millis(defaults::CPU_MILLIS), Bytes(defaults::MEMORY));
        let (requests, limits) = self.resources(j.resources.as_ref(), default_requests);
        // The same checks as a service's variables.
        let vars = Service { env: j.env.clone(), secrets: j.secrets.clone(), ..Service::default() };
        let (env, templates) = self.env_values(&vars);
        let secrets = self.secrets(&vars, &env, &templates);
        if self.errors.len() > before {
            return None;
        }
        Some(JobR {
            name: self.name.to_string(),
            namespace: j.namespace.as_ref().map_or(default_ns.to_string(), |n| n.to_string()),
            image,
            command: j.command.clone(),
            args: j.args.clone(),
            env,
            secrets,
            uses: j.uses.iter().flatten().map(|u| u.to_string()).collect(),
            templates,
            requests,
            limits,
            run_as_user: j.run_as_user.unwrap_or(defaults::RUN_AS_USER),
            backoff_limit: j.backoff_limit.unwrap_or(BACKOFF_LIMIT),
            active_deadline: j.active_deadline.map_or(ACTIVE_DEADLINE, |s| s.get()),
            ttl_after_finished: j.ttl_after_finished.map_or(TTL_AFTER_FINISHED, |s| s.get()),
        })
    }

    /// Resolves the cronjob `self.name`: its schedule and time zone checked
    /// as the API server would; `None` after an error.
    pub(super) fn cronjob(&mut self, c: &CronJob, default_ns: &str) -> Option<CronR> {
        let before = self.errors.len();
        let schedule = match &c.schedule {
            Some(s) => {
                if let Err(m) = crate::model::cron::check(&s.value) {
                    let help = "e.g. `\"30 2 * * *\"` (02:30 every day) or `@hourly`";
                    self.err(pos_of(&s.referenced), format!("invalid schedule `{}`: {m}", s.value), Some(help.into()));
                }
                s.value.trim().to_string()
            }
            None => {
                self.err(Pos::UNKNOWN, format!("cronjob `{}` has no `schedule`", self.name), None);
                String::new()
            }
        };
        let time_zone = c.time_zone.as_ref().map(|tz| {
            self.check_time_zone(&tz.value, pos_of(&tz.referenced));
            tz.value.clone()
        });
        let job = self.job(&c.pod(), default_ns);
        if self.errors.len() > before {
            return None;
        }
        Some(CronR {
            job: job?,
            schedule,
            time_zone,
            concurrency_policy: c.concurrency_policy.unwrap_or(ConcurrencyPolicy::Forbid),
            successful_history: c.successful_jobs_history_limit.unwrap_or(HISTORY),
            failed_history: c.failed_jobs_history_limit.unwrap_or(HISTORY),
            starting_deadline: c.starting_deadline.map_or(STARTING_DEADLINE, |s| s.get()),
            suspend: c.suspend.unwrap_or(false),
        })
    }

    /// A time zone is an IANA name (`Europe/Berlin`, `Etc/UTC`), a CronJob
    /// field from Kubernetes 1.27 (the oldest version kubeproof supports);
    /// which names exist is the cluster's tz database, so only the form is
    /// checked here.
    fn check_time_zone(&mut self, tz: &str, pos: Pos) {
        let ok = !tz.is_empty()
            && !tz.starts_with(['/', '.'])
            && tz.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
        if !ok {
            let help = "an IANA time zone name, e.g. `Europe/Berlin` or `Etc/UTC`";
            self.err(pos, format!("invalid timeZone `{tz}`"), Some(help.into()));
        }
    }
}
