//! The platform's own batch work: `jobs` run once per release (a database
//! migration, before the services that declare `after:` on it) and
//! `cronjobs` run on a schedule. Both have the pod fields of a service that
//! make sense for a run to completion; optional for the same reason as
//! [`super::Service`]'s (an environment's override is the same type).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{EnvValue, Name, Resources, Seconds};

/// A Job run once per release, before the services that name it in `after:`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Job {
    /// Container image with a pinned tag or digest.
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    /// Environment variables (non-secret), all in the pod spec. As in a
    /// service's `env`, `${target.field}` names what it uses
    /// (`DATABASE_URL: "${db.url}"`, percent-encoded) and `$(VAR)` another
    /// variable; a secret part is read from the Secret, never written out.
    #[schemars(with = "Option<BTreeMap<String, EnvValue>>")]
    pub env: Option<BTreeMap<String, Spanned<EnvValue>>>,
    /// Names of secret environment variables; values come from a git-ignored file.
    #[schemars(with = "Option<Vec<String>>")]
    pub secrets: Option<Vec<Spanned<String>>>,
    /// Datastores, services and external hosts the job calls, wired as a
    /// service's `uses` (variables, credentials, network policy).
    #[schemars(with = "Option<Vec<String>>")]
    pub uses: Option<Vec<Name>>,
    /// Requests (`cpu`, `memory`) and `limits`.
    pub resources: Option<Resources>,
    /// Namespace (default: the platform's namespace).
    pub namespace: Option<Name>,
    /// UID the container runs as (default 10001).
    pub run_as_user: Option<u32>,
    /// Retries before the run counts as failed (default 6: on a first
    /// install the datastore it migrates starts at the same time).
    pub backoff_limit: Option<u32>,
    /// How long a run may take in all, retries included (default 1h).
    pub active_deadline: Option<Seconds>,
    /// How long a finished Job is kept before it is deleted (default 1d);
    /// its logs go with it.
    pub ttl_after_finished: Option<Seconds>,
}

/// A CronJob: a [`Job`]'s pod, run on `schedule`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CronJob {
    /// Cron schedule, 5 fields (`"30 2 * * *"`) or a macro (`@daily`).
    #[schemars(with = "Option<String>")]
    pub schedule: Option<Spanned<String>>,
    /// IANA time zone of the schedule, e.g. `Europe/Berlin` (default: the
    /// kube-controller-manager's, usually UTC).
    #[schemars(with = "Option<String>")]
    pub time_zone: Option<Spanned<String>>,
    /// What happens when a run is due while the last still runs (default `forbid`).
    pub concurrency_policy: Option<ConcurrencyPolicy>,
    /// Finished Jobs kept (default 3).
    pub successful_jobs_history_limit: Option<u32>,
    /// Failed Jobs kept (default 3).
    pub failed_jobs_history_limit: Option<u32>,
    /// A run that could not start within this of its time is skipped (default 10m).
    pub starting_deadline: Option<Seconds>,
    /// `true`: no new runs until set back.
    pub suspend: Option<bool>,
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    pub command: Option<Vec<String>>,
    pub args: Option<Vec<String>>,
    #[schemars(with = "Option<BTreeMap<String, EnvValue>>")]
    pub env: Option<BTreeMap<String, Spanned<EnvValue>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub secrets: Option<Vec<Spanned<String>>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub uses: Option<Vec<Name>>,
    pub resources: Option<Resources>,
    pub namespace: Option<Name>,
    pub run_as_user: Option<u32>,
    /// Retries of one run before it counts as failed (default 6).
    pub backoff_limit: Option<u32>,
    /// How long one run may take in all (default 1h).
    pub active_deadline: Option<Seconds>,
}

impl CronJob {
    /// Its pod fields, as a [`Job`] (its own history limits replace the TTL).
    pub fn pod(&self) -> Job {
        Job {
            image: self.image.clone(),
            command: self.command.clone(),
            args: self.args.clone(),
            env: self.env.clone(),
            secrets: self.secrets.clone(),
            uses: self.uses.clone(),
            resources: self.resources.clone(),
            namespace: self.namespace.clone(),
            run_as_user: self.run_as_user,
            backoff_limit: self.backoff_limit,
            active_deadline: self.active_deadline,
            ttl_after_finished: None,
        }
    }
}

/// A CronJob's `concurrencyPolicy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConcurrencyPolicy {
    /// Runs may overlap.
    Allow,
    /// A run due while the last still runs is skipped.
    Forbid,
    /// The running one is stopped for the new one.
    Replace,
}

impl ConcurrencyPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            ConcurrencyPolicy::Allow => "Allow",
            ConcurrencyPolicy::Forbid => "Forbid",
            ConcurrencyPolicy::Replace => "Replace",
        }
    }
}
