//! `prometheus.yml` for clusters without the Prometheus Operator: a job per
//! service with metrics and per datastore with `metrics: true`, the rule file
//! and the Alertmanager in the monitoring namespace.

use serde_json::{Value, json};

use super::{DATASTORE_INTERVAL, RULES_FILE};
use crate::description::resolve::Resolved;

pub(super) fn config(r: &Resolved) -> Value {
    let mut jobs = Vec::new();
    for svc in &r.services {
        let Some(m) = &svc.metrics else { continue };
        if svc.worker {
            jobs.push(pod_job(&svc.name, &svc.namespace, m.interval, &m.path, &m.port_name));
        } else {
            jobs.push(job(&svc.name, &svc.namespace, m.interval, &m.path, &m.port_name));
        }
    }
    // Datastores: the same through their client Service, whose endpoints
    // carry the exporter's (or the engine's) metrics port.
    for d in &r.datastores {
        let Some(s) = crate::generate::datastores::store_scrape(d) else { continue };
        jobs.push(job(&d.name, &d.namespace, DATASTORE_INTERVAL, s.path, s.port_name));
    }
    json!({
        "global": { "scrape_interval": "30s", "evaluation_interval": "30s" },
        "rule_files": [RULES_FILE],
        "alerting": { "alertmanagers": [{ "static_configs": [{ "targets": [alertmanager(r)] }] }] },
        "scrape_configs": jobs,
    })
}

/// The platform's own Alertmanager (its Service's main port), else one
/// named `alertmanager` in the monitoring namespace.
fn alertmanager(r: &Resolved) -> String {
    match r.component("alertmanager") {
        Some(a) => {
            let port = a.ports.first().map_or(9093, |p| p.service_port);
            format!("{}.{}.svc:{port}", a.name, a.namespace)
        }
        None => format!("alertmanager.{}.svc:9093", r.monitoring_namespace),
    }
}

/// The endpoints of Service `name` in `namespace` on its port `port_name`;
/// the job is the Service's name.
fn job(name: &str, namespace: &str, interval: u32, path: &str, port_name: &str) -> Value {
    json!({
        "job_name": name,
        "scrape_interval": format!("{interval}s"),
        "metrics_path": path,
        "kubernetes_sd_configs": [{ "role": "endpoints", "namespaces": { "names": [namespace] } }],
        "relabel_configs": [
            {
                "source_labels": ["__meta_kubernetes_service_name", "__meta_kubernetes_endpoint_port_name"],
                "regex": format!("{name};{port_name}"),
                "action": "keep",
            },
            { "source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace" },
            { "source_labels": ["__meta_kubernetes_service_name"], "target_label": "service" },
            { "source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod" },
            { "source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container" },
        ],
    })
}

/// A worker has no Service: its pods (labelled `app.kubernetes.io/name:
/// NAME`) on their container port `port_name`; the job and the `service`
/// label are its name, as for a service.
fn pod_job(name: &str, namespace: &str, interval: u32, path: &str, port_name: &str) -> Value {
    json!({
        "job_name": name,
        "scrape_interval": format!("{interval}s"),
        "metrics_path": path,
        "kubernetes_sd_configs": [{ "role": "pod", "namespaces": { "names": [namespace] } }],
        "relabel_configs": [
            {
                "source_labels": [
                    "__meta_kubernetes_pod_label_app_kubernetes_io_name",
                    "__meta_kubernetes_pod_container_port_name",
                ],
                "regex": format!("{name};{port_name}"),
                "action": "keep",
            },
            { "source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace" },
            { "target_label": "service", "replacement": name },
            { "source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod" },
            { "source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container" },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::shop;
    use super::*;

    #[test]
    fn a_job_per_service_with_metrics_and_per_scraped_datastore() {
        let c = config(&shop());
        let jobs: Vec<&str> =
            c["scrape_configs"].as_array().into_iter().flatten().filter_map(|j| j["job_name"].as_str()).collect();
        assert_eq!(jobs, ["api", "cache", "db", "files"], "worker has no metrics");
        let api = &c["scrape_configs"][0];
        assert_eq!(api["metrics_path"], "/metrics");
        assert_eq!(api["kubernetes_sd_configs"][0]["namespaces"]["names"][0], "shop");
        // Only the Service's own metrics port.
        assert_eq!(api["relabel_configs"][0]["regex"], "api;http");
        assert_eq!(api["relabel_configs"][0]["action"], "keep");
        let db = &c["scrape_configs"][2];
        assert_eq!(db["relabel_configs"][0]["regex"], "db;metrics");
        assert_eq!(db["scrape_interval"], format!("{DATASTORE_INTERVAL}s"));
        assert_eq!(c["rule_files"][0], RULES_FILE);
        assert_eq!(
            c["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0],
            "alertmanager.monitoring.svc:9093"
        );
    }

    #[test]
    fn the_platforms_own_alertmanager_is_the_target() {
        let mut r = shop();
        let mut am = r.services[0].clone();
        am.name = "alerts".into();
        am.namespace = "obs".into();
        am.component = crate::components::Component::by_name("alertmanager");
        am.ports[0].service_port = 9095;
        r.services.push(am);
        let c = config(&r);
        assert_eq!(c["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"][0], "alerts.obs.svc:9095");
    }
}
