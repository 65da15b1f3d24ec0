//! Grafana dashboards: an overview of the platform, one per service and one
//! for the backups, each a JSON file (`monitoring/dashboards/NAME.json`) and a
//! ConfigMap labelled `grafana_dashboard: "1"` in the monitoring namespace,
//! where the Grafana sidecar of kube-prometheus-stack looks by default (only
//! with `cluster.prometheusOperator`, like the ServiceMonitors).
//!
//! Panels query only what exists: the recording rules of the generated
//! `rules.yaml`, the metrics a service declares (`metrics:`, custom alerts),
//! and the standard exporter metrics of [`STANDARD_METRICS`]. The JSON is
//! deterministic: the uid derives from the name, no ids or timestamps change
//! between runs.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1 as core;
use serde_json::{Value, json};

use super::{Stack, labels, meta};
use crate::description::alerts::MetricKind;
use crate::description::resolve::{Resolved, Svc};

/// Metrics of the standard exporters the dashboards read: kube-state-metrics
/// (deployments, statefulsets, cronjobs, jobs) and the kubelet's cAdvisor
/// (containers). kube-prometheus-stack scrapes both.
pub const STANDARD_METRICS: &[&str] = &[
    // kube-state-metrics
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    "kube_statefulset_status_replicas_ready",
    "kube_cronjob_status_last_successful_time",
    "kube_cronjob_status_active",
    "kube_cronjob_next_schedule_time",
    "kube_job_status_failed",
    // cAdvisor
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
];

/// The Grafana sidecar's default label for dashboard ConfigMaps.
pub const SIDECAR_LABEL: &str = "grafana_dashboard";

/// One dashboard: its file stem and the Grafana JSON model.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub name: String,
    pub json: Value,
}

/// Adds the dashboards and their ConfigMaps to `stack`; runs after the
/// monitoring generator (it reads the recording rules it wrote) and the
/// backup CronJobs.
pub fn dashboards(r: &Resolved, stack: &mut Stack) {
    let records: BTreeSet<String> = stack
        .monitoring
        .as_ref()
        .map(|m| {
            m.rules["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().into_iter().flatten())
                .filter_map(|rule| rule["record"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut out = vec![overview(r, &records)];
    for svc in &r.services {
        out.push(service(r, svc, &records));
    }
    let groups = stack.monitoring.as_ref().and_then(|m| m.rules["groups"].as_array().cloned()).unwrap_or_default();
    out.extend(groups.iter().filter_map(|g| slo(r, g, &groups)));
    let backups: Vec<(String, String)> = stack
        .objects
        .iter()
        .filter(|o| o.kind == "CronJob" && o.name.contains("backup"))
        .map(|o| (o.namespace.clone().unwrap_or_else(|| "default".into()), o.name.clone()))
        .filter(|(ns, name)| !super::backup::is_restore(r, ns, name))
        .collect();
    if !backups.is_empty() {
        out.push(backup(r, &backups));
    }
    // The platform's own Grafana reads them from its namespace (mounted by
    // `observability`) and selects its own Prometheus. Otherwise, like the
    // ServiceMonitors: ConfigMaps only where kube-prometheus-stack (Operator
    // and Grafana sidecar) runs; the JSON files are written anyway.
    let own = r.component("grafana");
    if own.is_some() && r.component("prometheus").is_some() {
        for d in &mut out {
            d.json["templating"]["list"][0]["current"] =
                json!({ "text": "Prometheus", "value": super::observability::PROMETHEUS_UID });
        }
    }
    let namespace = match own {
        Some(g) => Some(g.namespace.as_str()),
        None => r.prometheus_operator.then_some(r.monitoring_namespace.as_str()),
    };
    for (d, ns) in out.iter().filter_map(|d| namespace.map(|ns| (d, ns))) {
        let mut l = labels(&r.platform, &r.platform, "monitoring");
        l.insert(SIDECAR_LABEL.into(), "1".into());
        let mut m = meta(&format!("grafana-dashboard-{}", d.name), ns, &l);
        // The sidecar's `folderAnnotation` (kube-prometheus-stack: grafana_folder).
        m.annotations = Some([("grafana_folder".to_string(), r.platform.clone())].into());
        let text = serde_json::to_string_pretty(&d.json).unwrap_or_default();
        stack.push(&core::ConfigMap {
            metadata: m,
            data: Some([(format!("{}.json", d.name), text)].into()),
            ..Default::default()
        });
    }
    stack.dashboards = out;
}

// ---- dashboards -------------------------------------------------------------

/// The platform at a glance: headline numbers, each service's traffic, CPU
/// and memory by container, requests by endpoint, declared metrics and the
/// datastores' readiness.
fn overview(r: &Resolved, records: &BTreeSet<String>) -> Dashboard {
    let p = &r.platform;
    let mut b = Builder::default();
    let with_metrics: Vec<&Svc> = r.services.iter().filter(|s| s.metrics.is_some()).collect();
    let sel = format!("service=~\"{}\"", alt(with_metrics.iter().map(|s| s.name.as_str())));
    if !with_metrics.is_empty() {
        headline_stats(&mut b, records, &sel);
    }
    if !r.services.is_empty() {
        active_pods(&mut b, r);
    }
    if !with_metrics.is_empty() {
        by_service(&mut b, records, &sel);
    }
    if !r.services.is_empty() || !r.datastores.is_empty() {
        by_container(&mut b, r);
    }
    for s in &with_metrics {
        by_endpoint(&mut b, s);
    }
    for s in &r.services {
        declared(&mut b, s, records, false);
    }
    if !r.datastores.is_empty() {
        datastore_replicas(&mut b, r);
    }
    b.finish(&format!("{p}-overview"), &format!("{p} overview"), p)
}

/// Requests/s, worst error % and worst P99 over the services `sel` selects,
/// each when it is recorded.
fn headline_stats(b: &mut Builder, records: &BTreeSet<String>, sel: &str) {
    if records.contains("service:requests:rate5m") {
        b.stat("Requests/s", "reqps", &[(&format!("sum(service:requests:rate5m{{{sel}}})"), "requests/s")]);
    }
    if records.contains("service:request_errors:ratio_rate5m") {
        b.stat(
            "Error %",
            "percent",
            &[(&format!("100 * max(service:request_errors:ratio_rate5m{{{sel}}})"), "worst service")],
        );
    }
    if records.contains("service:request_duration_seconds:p99") {
        b.stat(
            "P99 latency",
            "s",
            &[(&format!("max(service:request_duration_seconds:p99{{{sel}}})"), "worst service")],
        );
    }
}

/// Available replicas of every service's Deployment.
fn active_pods(b: &mut Builder, r: &Resolved) {
    let deploy_ns = alt(r.services.iter().map(|s| s.namespace.as_str()));
    let deploys = alt(r.services.iter().map(|s| s.name.as_str()));
    b.stat(
        "Active pods",
        "none",
        &[(
            &format!(
                "sum(kube_deployment_status_replicas_available{{namespace=~\"{deploy_ns}\",deployment=~\"{deploys}\"}})"
            ),
            "available",
        )],
    );
}

/// Requests/s, error % and P99 per service, each when it is recorded.
fn by_service(b: &mut Builder, records: &BTreeSet<String>, sel: &str) {
    if records.contains("service:requests:rate5m") {
        b.series(
            "Requests/s by service",
            "reqps",
            &[(&format!("sum by (service) (service:requests:rate5m{{{sel}}})"), "{{service}}")],
        );
    }
    if records.contains("service:request_errors:ratio_rate5m") {
        b.series(
            "Error % by service",
            "percent",
            &[(&format!("100 * max by (service) (service:request_errors:ratio_rate5m{{{sel}}})"), "{{service}}")],
        );
    }
    if records.contains("service:request_duration_seconds:p99") {
        b.series(
            "P99 latency by service",
            "s",
            &[(&format!("max by (service) (service:request_duration_seconds:p99{{{sel}}})"), "{{service}}")],
        );
    }
}

/// CPU and memory of every service's and datastore's container.
fn by_container(b: &mut Builder, r: &Resolved) {
    let all_ns = alt(r.namespaces().into_iter());
    let containers =
        alt(r.services.iter().map(|s| s.name.as_str()).chain(r.datastores.iter().map(|d| d.name.as_str())));
    let c = format!("namespace=~\"{all_ns}\",container=~\"{containers}\"");
    b.series(
        "CPU by container",
        "cores",
        &[(&format!("sum by (container) (rate(container_cpu_usage_seconds_total{{{c}}}[5m]))"), "{{container}}")],
    );
    b.series(
        "Memory by container",
        "bytes",
        &[(&format!("sum by (container) (container_memory_working_set_bytes{{{c}}})"), "{{container}}")],
    );
}

/// A service's request rate by its endpoint label.
fn by_endpoint(b: &mut Builder, s: &Svc) {
    let Some(m) = s.metrics.as_ref().filter(|m| m.http) else { return };
    let e = &m.endpoint_label;
    b.series(
        &format!("{}: requests/s by endpoint", s.name),
        "reqps",
        &[(
            &format!("sum by ({e}) (rate({}{{job=\"{}\",namespace=\"{}\"}}[5m]))", m.requests, s.name, s.namespace),
            &format!("{{{{{e}}}}}"),
        )],
    );
}

/// Ready replicas of every datastore's StatefulSet.
fn datastore_replicas(b: &mut Builder, r: &Resolved) {
    let ns = alt(r.datastores.iter().map(|d| d.namespace.as_str()));
    let names = alt(r.datastores.iter().map(|d| d.name.as_str()));
    b.series(
        "Datastore replicas ready",
        "none",
        &[(
            &format!(
                "sum by (statefulset) (kube_statefulset_status_replicas_ready{{namespace=~\"{ns}\",statefulset=~\"{names}\"}})"
            ),
            "{{statefulset}}",
        )],
    );
}

fn service(r: &Resolved, s: &Svc, records: &BTreeSet<String>) -> Dashboard {
    let mut b = Builder::default();
    let (name, ns) = (s.name.as_str(), s.namespace.as_str());
    let sel = format!("service=\"{name}\"");
    let has = |rec: &str| s.metrics.is_some() && records.contains(rec);
    if has("service:requests:rate5m") {
        b.stat("Requests/s", "reqps", &[(&format!("sum(service:requests:rate5m{{{sel}}})"), "requests/s")]);
    }
    if has("service:request_errors:ratio_rate5m") {
        b.stat("Error %", "percent", &[(&format!("100 * max(service:request_errors:ratio_rate5m{{{sel}}})"), "5xx")]);
    }
    if has("service:request_duration_seconds:p99") {
        b.stat("P99 latency", "s", &[(&format!("max(service:request_duration_seconds:p99{{{sel}}})"), "p99")]);
    }
    let dsel = format!("namespace=\"{ns}\",deployment=\"{name}\"");
    b.stat(
        "Active pods",
        "none",
        &[(&format!("sum(kube_deployment_status_replicas_available{{{dsel}}})"), "available")],
    );
    if has("service:requests:rate5m") {
        b.series("Requests/s", "reqps", &[(&format!("sum(service:requests:rate5m{{{sel}}})"), "requests/s")]);
    }
    if has("service:request_errors:ratio_rate5m") {
        b.series("Error %", "percent", &[(&format!("100 * max(service:request_errors:ratio_rate5m{{{sel}}})"), "5xx")]);
    }
    let q: Vec<(String, String)> = ["p50", "p95", "p99"]
        .iter()
        .filter(|qn| has(&format!("service:request_duration_seconds:{qn}")))
        .map(|qn| (format!("max(service:request_duration_seconds:{qn}{{{sel}}})"), qn.to_string()))
        .collect();
    if !q.is_empty() {
        let t: Vec<(&str, &str)> = q.iter().map(|(e, l)| (e.as_str(), l.as_str())).collect();
        b.series("Latency P50 / P95 / P99", "s", &t);
    }
    if let Some(m) = s.metrics.as_ref().filter(|m| m.http) {
        let e = &m.endpoint_label;
        b.series(
            "Requests/s by endpoint",
            "reqps",
            &[(
                &format!("sum by ({e}) (rate({}{{job=\"{name}\",namespace=\"{ns}\"}}[5m]))", m.requests),
                &format!("{{{{{e}}}}}"),
            )],
        );
    }
    let c = format!("namespace=\"{ns}\",container=\"{name}\"");
    b.series(
        "CPU by pod",
        "cores",
        &[(&format!("sum by (pod) (rate(container_cpu_usage_seconds_total{{{c}}}[5m]))"), "{{pod}}")],
    );
    b.series(
        "Memory by pod",
        "bytes",
        &[(&format!("sum by (pod) (container_memory_working_set_bytes{{{c}}})"), "{{pod}}")],
    );
    b.series(
        "Replicas: desired and available",
        "none",
        &[
            (&format!("sum(kube_deployment_spec_replicas{{{dsel}}})"), "desired"),
            (&format!("sum(kube_deployment_status_replicas_available{{{dsel}}})"), "available"),
        ],
    );
    declared(&mut b, s, records, true);
    // Prefixed by the platform: several platforms share Grafana's namespace.
    let file = if name == r.platform { format!("{name}-service") } else { format!("{}-{name}", r.platform) };
    b.finish(&file, &format!("{} / {name}", r.platform), &r.platform)
}

/// One dashboard per objective, from its group of `rules.yaml` (the period
/// ratio and meta series, labelled `service` and `slo`): the objective, the
/// budget left and the burn rates, now, over the period and per window (the
/// window's ratio over the recorded budget). None for any other group.
fn slo(r: &Resolved, group: &Value, groups: &[Value]) -> Option<Dashboard> {
    let rules = group["rules"].as_array()?;
    let labels = &rules.iter().find(|x| x["record"] == "slo:objective:ratio")?["labels"];
    let (svc, kind) = (labels["service"].as_str()?, labels["slo"].as_str()?);
    // The first record is the ratio over the period, `service:<sli>:ratio_rate30d`.
    let period = rules.first()?["record"].as_str()?;
    let base = &period[..period.rfind("ratio_rate")? + "ratio_rate".len()];
    let sel = format!("service=\"{svc}\",slo=\"{kind}\"");
    let mut b = Builder::default();
    b.stat("Objective", "percentunit", &[(&format!("max(slo:objective:ratio{{{sel}}})"), "objective")]);
    let left = format!("max(slo:period_error_budget_remaining:ratio{{{sel}}})");
    b.stat("Error budget remaining", "percentunit", &[(&left, "remaining")]);
    b.stat("Burn rate (5m)", "none", &[(&format!("max(slo:current_burn_rate:ratio{{{sel}}})"), "now")]);
    b.stat("Burn rate over the period", "none", &[(&format!("max(slo:period_burn_rate:ratio{{{sel}}})"), "period")]);
    b.series("Error budget remaining", "percentunit", &[(&left, "remaining")]);
    // Every window recorded for the objective, shortest first (the rules' order).
    let own = groups.iter().find(|g| g["name"] == format!("{svc}.rules").as_str())?;
    let records: Vec<&str> = own["rules"].as_array()?.iter().filter_map(|x| x["record"].as_str()).collect();
    let windows: Vec<(String, String)> = windows(&records, base)
        .into_iter()
        .map(|(rec, w)| {
            let e =
                format!("max({rec}{{service=\"{svc}\"}} / on (service) group_left () slo:error_budget:ratio{{{sel}}})");
            (e, w)
        })
        .collect();
    let t: Vec<(&str, &str)> = windows.iter().map(|(e, w)| (e.as_str(), w.as_str())).collect();
    b.series("Burn rate per window (1 spends the budget in the period)", "none", &t);
    let name = format!("{}-{svc}-slo-{kind}", r.platform);
    Some(b.finish(&name, &format!("{} / {svc} / {kind} SLO", r.platform), &r.platform))
}

/// The recorded names `base<window>` of a service's group, shortest window first.
fn windows(records: &[&str], base: &str) -> Vec<(String, String)> {
    let mut found: Vec<(u32, String, String)> = records
        .iter()
        .filter_map(|r| {
            let w = r.strip_prefix(base)?;
            let secs = crate::model::duration::Seconds::parse(w).ok()?;
            Some((secs.get(), r.to_string(), w.to_string()))
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, r, w)| (r, w)).collect()
}

/// Panels for the service's extra histograms (their recorded quantiles), its
/// gauges and the metrics of its custom alerts. `all`: every panel, else only
/// the gauges (the overview shows e.g. model accuracy).
fn declared(b: &mut Builder, s: &Svc, records: &BTreeSet<String>, all: bool) {
    let (name, ns) = (s.name.as_str(), s.namespace.as_str());
    let app = format!("job=\"{name}\",namespace=\"{ns}\"");
    let mut done: BTreeSet<&str> = BTreeSet::new();
    if let Some(m) = &s.metrics {
        for g in &m.gauges {
            done.insert(g);
            b.series(&format!("{name}: {g}"), "none", &[(&format!("avg({g}{{{app}}})"), g)]);
        }
        if all {
            for h in &m.histograms {
                done.insert(h);
                let q: Vec<(String, String)> = ["p50", "p95", "p99"]
                    .iter()
                    .filter(|qn| records.contains(&format!("service:{h}:{qn}")))
                    .map(|qn| (format!("max(service:{h}:{qn}{{service=\"{name}\"}})"), qn.to_string()))
                    .collect();
                if !q.is_empty() {
                    let t: Vec<(&str, &str)> = q.iter().map(|(e, l)| (e.as_str(), l.as_str())).collect();
                    b.series(&format!("{h} P50 / P95 / P99"), "s", &t);
                }
            }
        }
    }
    if !all {
        return;
    }
    for c in &s.alerts.custom {
        if !done.insert(&c.metric) {
            continue;
        }
        let m = &c.metric;
        match c.kind {
            MetricKind::Counter => b.series(m, "ops", &[(&format!("sum(rate({m}{{{app}}}[5m]))"), "per second")]),
            MetricKind::Gauge => b.series(m, "none", &[(&format!("max({m}{{{app}}})"), "max")]),
            MetricKind::Histogram => b.series(
                &format!("{m} quantile {}", c.quantile),
                "s",
                &[(
                    &format!("histogram_quantile({}, sum by (le) (rate({m}_bucket{{{app}}}[5m])))", c.quantile),
                    &format!("q{}", c.quantile),
                )],
            ),
        }
    }
}

fn backup(r: &Resolved, jobs: &[(String, String)]) -> Dashboard {
    let mut b = Builder::default();
    let ns = alt(jobs.iter().map(|(n, _)| n.as_str()));
    let names = alt(jobs.iter().map(|(_, n)| n.as_str()));
    let cj = format!("namespace=~\"{ns}\",cronjob=~\"{names}\"");
    b.stat(
        "Oldest last success",
        "s",
        &[(&format!("max(time() - kube_cronjob_status_last_successful_time{{{cj}}})"), "age")],
    );
    b.stat(
        "Failed backup jobs",
        "none",
        &[(
            &format!(
                "count(kube_job_status_failed{{namespace=~\"{ns}\",job_name=~\"({names})-[0-9]+\"}} > 0) or vector(0)"
            ),
            "failed",
        )],
    );
    b.stat("Running backups", "none", &[(&format!("sum(kube_cronjob_status_active{{{cj}}})"), "running")]);
    b.series(
        "Time since last successful backup",
        "s",
        &[(&format!("time() - max by (cronjob) (kube_cronjob_status_last_successful_time{{{cj}}})"), "{{cronjob}}")],
    );
    b.series(
        "Time to next scheduled run",
        "s",
        &[(&format!("max by (cronjob) (kube_cronjob_next_schedule_time{{{cj}}}) - time()"), "{{cronjob}}")],
    );
    b.series(
        "Failed backup jobs",
        "none",
        &[(
            &format!(
                "max by (job_name) (kube_job_status_failed{{namespace=~\"{ns}\",job_name=~\"({names})-[0-9]+\"}}) > 0"
            ),
            "{{job_name}}",
        )],
    );
    let p = &r.platform;
    b.finish(&format!("{p}-backups"), &format!("{p} backups"), p)
}

// ---- building blocks --------------------------------------------------------

/// `a|b|c` (sorted, deduplicated) for a regex label matcher.
fn alt<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.collect::<BTreeSet<_>>().into_iter().collect::<Vec<_>>().join("|")
}

/// A uid Grafana accepts (at most 40 characters), stable for a name.
pub fn uid(name: &str) -> String {
    if name.len() <= 40 {
        name.to_string()
    } else {
        let hash = crate::model::digest::sha256_hex(name.as_bytes());
        format!("{}-{}", name[..23].trim_end_matches('-'), &hash[..16])
    }
}

/// Lays panels out: stats four to a row, time series two to a row.
#[derive(Default)]
struct Builder {
    panels: Vec<Value>,
    x: u32,
    y: u32,
    row_h: u32,
}

const DATASOURCE: &str = "${datasource}";

impl Builder {
    fn place(&mut self, w: u32, h: u32) -> Value {
        if self.x + w > 24 || (self.row_h != 0 && self.row_h != h) {
            self.y += self.row_h;
            self.x = 0;
        }
        let pos = json!({ "h": h, "w": w, "x": self.x, "y": self.y });
        self.x += w;
        self.row_h = h;
        pos
    }

    fn panel(&mut self, kind: &str, title: &str, unit: &str, targets: &[(&str, &str)], w: u32, h: u32) {
        let grid = self.place(w, h);
        let refs = ["A", "B", "C", "D", "E", "F", "G", "H"];
        let targets: Vec<Value> = targets
            .iter()
            .zip(refs)
            .map(|((expr, legend), id)| {
                json!({
                    "refId": id,
                    "datasource": { "type": "prometheus", "uid": DATASOURCE },
                    "expr": expr,
                    "legendFormat": legend,
                    "range": true,
                })
            })
            .collect();
        let options = if kind == "stat" {
            json!({ "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false }, "colorMode": "value", "graphMode": "area" })
        } else {
            json!({ "legend": { "displayMode": "list", "placement": "bottom", "showLegend": true }, "tooltip": { "mode": "multi", "sort": "desc" } })
        };
        self.panels.push(json!({
            "id": self.panels.len() + 1,
            "type": kind,
            "title": title,
            "gridPos": grid,
            "datasource": { "type": "prometheus", "uid": DATASOURCE },
            "fieldConfig": { "defaults": { "unit": unit }, "overrides": [] },
            "options": options,
            "targets": targets,
        }));
    }

    fn stat(&mut self, title: &str, unit: &str, targets: &[(&str, &str)]) {
        self.panel("stat", title, unit, targets, 6, 4);
    }

    fn series(&mut self, title: &str, unit: &str, targets: &[(&str, &str)]) {
        self.panel("timeseries", title, unit, targets, 12, 8);
    }

    fn finish(self, name: &str, title: &str, platform: &str) -> Dashboard {
        Dashboard {
            name: name.to_string(),
            json: json!({
                "uid": uid(name),
                "title": title,
                "tags": [platform, "kubeproof"],
                "timezone": "utc",
                "schemaVersion": 39,
                "version": 1,
                "editable": false,
                "graphTooltip": 1,
                "refresh": "30s",
                "time": { "from": "now-6h", "to": "now" },
                "annotations": { "list": [] },
                "links": [],
                "templating": { "list": [{
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                }] },
                "panels": self.panels,
            }),
        }
    }
}
