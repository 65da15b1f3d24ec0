//! Monitoring: a ServiceMonitor per service with metrics, a PodMonitor per
//! datastore with `metrics: true`, one PrometheusRule for the platform
//! (recording rules, standard alerts, SLO burn-rate alerts, volume, node,
//! datastore and backup alerts), and the plain files for clusters without
//! the Prometheus Operator: the rule groups, promtool unit tests (each alert
//! fires above its threshold and stays silent below), a scrape
//! configuration and the Alertmanager routing. Every alert links to its
//! section of the generated runbook.
//!
//! The alerts come from a registry, as the checks do: each family (service,
//! SLO, platform, datastore, backup) is a module, each alert is built by one
//! function of its own module, and the lists below decide the order of the
//! rule groups, of their tests and of the runbook sections.

pub mod adapter;
mod alert;
mod alertmanager;
mod backup;
mod datastore;
mod jobs;
mod left_out;
mod operator;
mod platform;
mod recording;
mod rules;
mod runbook;
mod scrape;
pub mod series;
mod service;
mod slo;
#[cfg(test)]
mod testing;
#[cfg(test)]
pub(crate) use testing::resolved;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Stack;
use crate::description::alerts::Severity;
use crate::description::resolve::{Resolved, Svc};
use alert::Builder::{self, Each, One};
use alert::{Group, build};

pub use alert::dur;
pub use rules::{LONG_INTERVAL, anchor};

/// The plain monitoring files of one environment (values serialized as YAML).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Monitoring {
    /// `rules.yaml`: the `groups:` file promtool and Prometheus read.
    pub rules: Value,
    /// `rules.test.yaml`: `promtool test rules` input, next to `rules.yaml`.
    pub tests: Value,
    /// `rules.long.test.yaml`: the tests that simulate a day or more,
    /// evaluated every [`LONG_INTERVAL`] seconds (none without slow burns).
    pub long_tests: Option<Value>,
    /// `prometheus.yml`: scrape configuration without the Operator.
    pub scrape: Value,
    /// `alertmanager.yml`, when the description routes alerts.
    pub alertmanager: Option<Value>,
    /// Alert name → severity, for summaries and tests.
    pub alerts: BTreeMap<String, Vec<Severity>>,
    /// The platform's own components that load generated files, and where.
    pub loaded_by: Vec<LoadedBy>,
}

/// A component of the platform's own that loads generated files: ConfigMap
/// `config_map` of `namespace`, mounted at `path` of service `service`.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedBy {
    pub component: &'static str,
    pub service: String,
    pub namespace: String,
    pub config_map: String,
    pub path: String,
}

/// The file name the tests refer to; they live in the same directory.
pub const RULES_FILE: &str = "rules.yaml";

/// Writes the ServiceMonitors and PrometheusRule into `stack`, and the plain
/// files and runbook sections beside it.
pub fn monitoring(r: &Resolved, stack: &mut Stack) {
    let groups = groups(r, stack);
    let base = &r.alerting.runbook_base;
    let rules = rules::rules(&groups, base);
    let (tests, long_tests) = rules::tests(&groups, base);
    if r.prometheus_operator {
        operator::objects(r, &rules, !groups.is_empty(), stack);
    }
    adapter::objects(r, stack);

    let mut alerts: BTreeMap<String, Vec<Severity>> = BTreeMap::new();
    for a in groups.iter().flat_map(|g| &g.alerts) {
        alerts.entry(a.name.clone()).or_default().push(a.severity);
    }
    stack.runbook.extend(runbook::sections(&groups));
    stack.runbook.extend(left_out::section(r));
    stack.monitoring = Some(Monitoring {
        rules,
        tests,
        long_tests,
        scrape: scrape::config(r),
        // A platform's own Alertmanager implies routed alerts (resolving checks it).
        alertmanager: r.alerting.routed().then(|| alertmanager::config(&r.alerting)),
        alerts,
        loaded_by: Vec::new(),
    });
}

/// Scrape interval of datastore metrics, in seconds (the services' default).
const DATASTORE_INTERVAL: u32 = crate::description::resolve::defaults::METRICS_INTERVAL;

// ---- the registry -------------------------------------------------------------

/// A service's alerts, in the order of its group: the SLO's burn-rate alerts
/// follow the latency ones.
const SERVICE: &[Builder<Svc>] = &[
    One(service::service_down::alert),
    One(service::high_error_ratio::alert),
    Each(service::high_latency::alerts),
    Each(slo::fast_burn),
    Each(slo::slow_burn),
    Each(slo::absent),
    Each(service::custom::alerts),
    One(service::crash_looping::alert),
    One(service::high_cpu_usage::alert),
    One(service::memory::near_limit),
    One(service::memory::above_threshold),
    One(service::replicas_unavailable::alert),
    One(service::hpa_at_maximum::alert),
];

/// The platform's alerts, in the order of its group.
const PLATFORM: &[Builder<Resolved>] = &[
    Each(platform::volume_filling_up::alerts),
    One(platform::node_disk_low::alert),
    One(platform::node_memory_high::alert),
];

/// Each scraped datastore's alerts.
const DATASTORE: &[Builder<datastore::Watched>] = &[One(datastore::datastore_down)];

/// Each backup CronJob's alerts.
const BACKUP: &[Builder<backup::CronJob>] = &[One(backup::backup_failed::alert), One(backup::backup_too_old::alert)];

/// Each job's and cronjob's alerts.
const JOBS: &[Builder<jobs::Batch>] = &[One(jobs::job_failed::alert)];

/// The rule groups in the order of `rules.yaml`: one per service (its
/// recording rules, then its alerts), then the platform's, the datastores'
/// the backups' and the jobs'; groups with nothing in them are left out.
fn groups(r: &Resolved, stack: &Stack) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for svc in &r.services {
        groups.push(Group {
            name: format!("{}.rules", svc.name),
            records: recording::records(svc),
            record_labels: recording::labels(svc),
            alerts: build(SERVICE, [svc]),
        });
        groups.extend(slo::groups(svc));
    }
    let p = &r.platform;
    groups.push(Group::of_alerts(format!("{p}.platform"), build(PLATFORM, [r])));
    groups.push(Group::of_alerts(format!("{p}.datastores"), build(DATASTORE, &datastore::watched(r))));
    groups.push(Group::of_alerts(format!("{p}.backups"), build(BACKUP, &backup::cronjobs(r, stack))));
    groups.push(Group::of_alerts(format!("{p}.jobs"), build(JOBS, &jobs::batch(r, stack))));
    groups.retain(|g| !g.is_empty());
    groups
}

/// The metric names the services of `r` declare: request counter, gauges,
/// histograms (as their `_bucket`, `_sum` and `_count` series) and the
/// metrics of custom alerts.
pub fn declared_metrics(r: &Resolved) -> BTreeSet<String> {
    r.services.iter().flat_map(series::service_exports).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(g: &Group) -> Vec<&str> {
        g.alerts.iter().map(|a| a.name.as_str()).collect()
    }

    #[test]
    fn the_registry_orders_the_groups_and_each_groups_alerts() {
        let r = testing::shop();
        let g = groups(&r, &crate::generate::generate(&r));
        let titles: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            titles,
            [
                "api.rules",
                "api.slo.availability",
                "api.slo.latency",
                "worker.rules",
                "shop.platform",
                "shop.datastores",
                "shop.backups"
            ]
        );
        assert_eq!(
            names(&g[0]),
            [
                "ServiceDown",
                "HighErrorRatio",
                "HighLatencyP99",
                "ErrorBudgetBurn",
                "LatencyBudgetBurn",
                "ErrorBudgetBurnSlow",
                "LatencyBudgetBurnSlow",
                "SLOMetricAbsent",
                "SLOMetricAbsent",
                "QueueBacklog",
                "JobsFailing",
                "SlowImports",
                "CrashLooping",
                "HighCpuUsage",
                "MemoryNearLimit",
                "MemoryAboveThreshold",
                "ReplicasUnavailable",
                "HpaAtMaximum",
            ]
        );
        // An objective's group holds its period and meta series, no alert.
        assert!(g[1].alerts.is_empty() && g[2].alerts.is_empty() && !g[1].records.is_empty());
        assert_eq!(
            names(&g[3]),
            ["ServiceDown", "CrashLooping", "HighCpuUsage", "MemoryNearLimit", "ReplicasUnavailable"]
        );
        assert!(g[3].records.is_empty() && !g[0].records.is_empty());
        assert_eq!(names(&g[4]), ["VolumeFillingUp", "VolumeFillingUp", "NodeDiskLow", "NodeMemoryHigh"]);
        assert_eq!(names(&g[5]), ["DatastoreDown"; 3]);
        // A CronJob's alerts stay together.
        assert_eq!(names(&g[6]), ["BackupFailed", "BackupTooOld", "BackupFailed", "BackupTooOld"]);
    }

    #[test]
    fn empty_groups_are_left_out() {
        let mut r = testing::shop();
        r.datastores.clear();
        r.alerting.node_disk_free = None;
        r.alerting.node_memory = None;
        r.alerting.volumes.enabled = false;
        let g = groups(&r, &Stack::default());
        let titles: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(titles, ["api.rules", "api.slo.availability", "api.slo.latency", "worker.rules"]);
    }

    #[test]
    fn every_alert_has_its_tests_runbook_section_and_severities() {
        let r = testing::shop();
        let stack = crate::generate::generate(&r);
        let Some(m) = &stack.monitoring else { panic!("monitoring is always generated") };
        // The slow burns' tests are in the second file, and only they.
        let long =
            m.long_tests.as_ref().map(|l| l["tests"].as_array().cloned().unwrap_or_default()).unwrap_or_default();
        assert!(!long.is_empty(), "SHOP has objectives, so slow burns");
        assert!(
            long.iter()
                .all(|t| t["alert_rule_test"][0]["alertname"].as_str().is_some_and(|n| n.ends_with("BudgetBurnSlow")))
        );
        let mut tests = m.tests["tests"].as_array().cloned().unwrap_or_default();
        tests.extend(long);
        // SHOP's alerts of one name are evaluated alike: two tests a name,
        // each rule firing in one and silent in the other.
        let of = |name: &str| -> Vec<&Value> {
            tests.iter().filter(|t| t["alert_rule_test"][0]["alertname"] == name).collect()
        };
        for name in m.alerts.keys() {
            assert_eq!(of(name).len(), 2, "tests of {name}");
        }
        assert_eq!(tests.len(), 2 * m.alerts.len());
        let all = m.rules["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten());
        for rule in all.filter(|r| r.get("alert").is_some()) {
            let labels = rule["labels"].as_object().cloned().unwrap_or_default();
            let fires = |t: &&&Value| {
                let exp = t["alert_rule_test"][0]["exp_alerts"].as_array().cloned().unwrap_or_default();
                exp.iter().any(|e| labels.iter().all(|(k, v)| &e["exp_labels"][k] == v))
            };
            let name = rule["alert"].as_str().unwrap_or_default();
            assert_eq!(of(name).iter().filter(fires).count(), 1, "{name} {labels:?} fires in one test");
        }
        assert_eq!(m.alerts["DatastoreDown"], [Severity::Critical; 3]);
        for name in m.alerts.keys() {
            assert!(stack.runbook.iter().any(|s| &s.title == name), "no runbook section for {name}");
        }
        assert!(m.alertmanager.is_some(), "SHOP routes critical and warning alerts");
    }
}
