//! The backup family: failure and staleness alerts for every backup CronJob
//! in the stack (ours and any other whose name says backup), from
//! kube-state-metrics (no exporter of our own).

pub(super) mod backup_failed;
pub(super) mod backup_too_old;

use serde_json::Value;

use crate::description::alerts::Rule;
use crate::description::resolve::Resolved;
use crate::generate::Stack;
use crate::generate::backup::{backup_name, is_restore, restore_title, supported};

/// A backup CronJob of the stack.
pub(super) struct CronJob {
    pub name: String,
    pub namespace: String,
    pub schedule: String,
    /// Seconds between runs, when known.
    pub every: Option<u32>,
    /// The runbook section restoring the datastore it dumps, if it dumps one.
    pub restore: Option<String>,
    /// How many runs may fail before `BackupTooOld`, and its severity.
    pub runs: Rule,
}

/// The CronJobs of `stack` whose name contains `backup`, in the stack's order.
pub(super) fn cronjobs(r: &Resolved, stack: &Stack) -> Vec<CronJob> {
    let mut out = Vec::new();
    for o in stack.objects.iter().filter(|o| o.kind == "CronJob" && o.name.contains("backup")) {
        let ns = o.namespace.as_deref().unwrap_or("default");
        let name = o.name.as_str();
        if is_restore(r, ns, name) {
            continue;
        }
        let schedule = o.value.pointer("/spec/schedule").and_then(Value::as_str).unwrap_or("");
        // The datastore this CronJob dumps, whose restore procedure is in the runbook.
        let store = r.datastores.iter().find(|d| d.namespace == ns && backup_name(d) == name && supported(d.engine));
        // Our own backups run every `backup.every` (their cron schedule says the
        // same); another CronJob's period is read from its schedule.
        let every = store
            .and_then(|d| d.backup.as_ref())
            .map(|b| b.every.get())
            .or_else(|| crate::model::cron::interval(schedule));
        out.push(CronJob {
            name: name.to_string(),
            namespace: ns.to_string(),
            schedule: schedule.to_string(),
            every,
            restore: store.map(|d| restore_title(&d.name)),
            runs: r.alerting.backup_runs.clone(),
        });
    }
    out
}

#[cfg(test)]
pub(super) mod tests {
    use super::super::testing::shop;
    use super::*;
    use crate::description::alerts::Severity;

    /// The backup CronJobs of the generated SHOP stack.
    pub fn shop_cronjobs() -> Vec<CronJob> {
        let r = shop();
        cronjobs(&r, &crate::generate::generate(&r))
    }

    /// A CronJob kubeproof did not write: its period comes from its schedule.
    pub fn foreign(schedule: &str) -> CronJob {
        CronJob {
            name: "nightly-backup".into(),
            namespace: "ops".into(),
            schedule: schedule.into(),
            every: crate::model::cron::interval(schedule),
            restore: None,
            runs: Rule { enabled: true, threshold: 2.0, for_seconds: 0, severity: Severity::Warning },
        }
    }

    #[test]
    fn our_backups_run_every_their_period_and_link_their_restore() {
        let jobs = shop_cronjobs();
        let names: Vec<&str> = jobs.iter().map(|j| j.name.as_str()).collect();
        assert_eq!(names, ["cache-backup", "db-backup"]);
        assert_eq!(jobs[0].every, Some(1800));
        assert_eq!(jobs[1].every, Some(6 * 3600));
        assert_eq!(jobs[1].restore.as_deref(), Some("Restore db"));
        assert_eq!(jobs[1].namespace, "shop");
    }

    #[test]
    fn a_restore_cronjob_is_no_backup_whatever_its_name() {
        let shop = super::super::testing::SHOP.replace("  cache: {", "  backup-cache: {");
        let r = super::super::testing::resolved(&shop);
        let stack = crate::generate::generate(&r);
        let restore = stack.objects.iter().find(|o| o.kind == "CronJob" && o.name == "backup-cache-restore");
        assert!(restore.is_some(), "the restore CronJob of datastore backup-cache is generated");
        let names: Vec<String> = cronjobs(&r, &stack).into_iter().map(|j| j.name).collect();
        assert_eq!(names, ["backup-cache-backup", "db-backup"]);
        // Nor on the backup dashboard.
        let backups = stack.dashboards.iter().find(|d| d.json.to_string().contains("backup-cache-backup"));
        assert!(backups.is_some_and(|d| !d.json.to_string().contains("backup-cache-restore")));
    }

    #[test]
    fn cron_periods_of_the_common_forms() {
        assert_eq!(crate::model::cron::interval("*/15 * * * *"), Some(900));
        assert_eq!(crate::model::cron::interval("7 * * * *"), Some(3600));
        assert_eq!(crate::model::cron::interval("0 */6 * * *"), Some(6 * 3600));
        assert_eq!(crate::model::cron::interval("30 2 * * *"), Some(86400));
        assert_eq!(crate::model::cron::interval("30 2 * * 0"), Some(7 * 86400));
        assert_eq!(crate::model::cron::interval("0 3 1 * *"), None);
        assert_eq!(foreign("@daily").every, None);
    }
}
