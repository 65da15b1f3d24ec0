//! Which series a generated rule may read: what its target exports (a
//! service's declared or component family, a datastore's exporter), what
//! the cluster provides every Prometheus (kube-state-metrics, cAdvisor and
//! the kubelet, node-exporter, Prometheus' own `up`), and what another rule
//! records. An alert on anything else can never fire; [`unknown`] finds
//! such rules in a `groups:` document (a rule file, a PrometheusRule's spec).

use std::collections::BTreeSet;

use promql_parser::parser::Expr;
use serde_json::Value;

use crate::components::HISTOGRAM_SERIES;
use crate::description::resolve::{Resolved, Svc};
use crate::model::promql;

/// The series the cluster is assumed to provide (the README's monitoring
/// prerequisites): names as kube-state-metrics v2, the kubelet's cAdvisor
/// and volume stats, and node-exporter export them.
pub const CLUSTER: &[&str] = &[
    // Prometheus itself, for every scrape target.
    "up",
    // kube-state-metrics v2 (docs/metrics/workload/*.md).
    "kube_cronjob_next_schedule_time",
    "kube_cronjob_status_active",
    "kube_cronjob_status_last_successful_time",
    "kube_deployment_spec_replicas",
    "kube_deployment_status_replicas_available",
    "kube_deployment_status_replicas_unavailable",
    "kube_horizontalpodautoscaler_spec_max_replicas",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_job_failed",
    "kube_job_status_failed",
    "kube_pod_container_resource_limits",
    "kube_pod_container_resource_requests",
    "kube_pod_container_status_restarts_total",
    "kube_statefulset_status_replicas_ready",
    // cAdvisor, served by the kubelet at /metrics/cadvisor.
    "container_cpu_usage_seconds_total",
    "container_memory_working_set_bytes",
    // The kubelet's volume stats.
    "kubelet_volume_stats_capacity_bytes",
    "kubelet_volume_stats_used_bytes",
    // node-exporter (filesystem and meminfo collectors).
    "node_filesystem_avail_bytes",
    "node_filesystem_size_bytes",
    "node_memory_MemAvailable_bytes",
    "node_memory_MemTotal_bytes",
];

/// The series a service exports by its description: its request family
/// (declared, or its component's own), histograms and gauges, and the
/// metrics its custom alerts name.
pub fn service_exports(s: &Svc) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let histogram = |h: &str| HISTOGRAM_SERIES.map(|x| format!("{h}{x}"));
    if let Some(m) = &s.metrics {
        let duration = m.http.then_some(&m.duration);
        names.extend(duration.map(|_| m.requests.clone()));
        names.extend(m.gauges.iter().cloned());
        for h in duration.into_iter().chain(&m.histograms) {
            names.extend(histogram(h));
        }
    }
    for c in &s.alerts.custom {
        names.insert(c.metric.clone());
        names.extend(histogram(&c.metric));
    }
    names
}

/// The series the target named `name` exports: a service's, or the metric
/// a datastore's exporter (or its own endpoint) reports it up by. An
/// off-the-shelf component's request family is taken from what the
/// component is known to export, not from what the generator resolved: a
/// rule reading a name the component does not have is caught even when the
/// generator believes it.
pub fn exports(r: &Resolved, name: &str) -> BTreeSet<String> {
    if let Some(s) = r.services.iter().find(|s| s.name == name) {
        let Some(c) = s.component else { return service_exports(s) };
        let mut own = s.clone();
        if let Some(m) = own.metrics.as_mut() {
            // Only the family itself is the component's; histograms, gauges and custom alerts stay declared.
            m.http = false;
        }
        let mut names = service_exports(&own);
        names.extend(c.http().into_iter().flat_map(|h| h.series()));
        return names;
    }
    r.datastores
        .iter()
        .filter(|d| d.name == name)
        .filter_map(|d| d.engine.metrics().ok())
        .map(|m| m.down.metric.to_string())
        .collect()
}

/// A rule reading a series nothing provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The alert or recorded name.
    pub rule: String,
    /// Its `service` label: the target whose exports were allowed.
    pub target: Option<String>,
    /// The series, or the parse error of the expression.
    pub metric: String,
}

/// Every rule of `groups` (a `groups:` document) reading a series outside
/// its target's exports, [`CLUSTER`] and the names `groups` records. The
/// target is the rule's `service` label (every service and datastore rule
/// carries it); platform rules have none.
pub fn unknown(r: &Resolved, groups: &Value) -> Vec<Unknown> {
    let rules: Vec<&Value> = groups["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    let recorded: BTreeSet<&str> = rules.iter().filter_map(|r| r["record"].as_str()).collect();
    let mut out = Vec::new();
    for rule in rules {
        let name = rule["alert"].as_str().or_else(|| rule["record"].as_str()).unwrap_or_default().to_string();
        let target = rule["labels"]["service"].as_str().map(str::to_string);
        let own = target.as_deref().map(|t| exports(r, t)).unwrap_or_default();
        let known = |m: &str| CLUSTER.contains(&m) || recorded.contains(m) || own.contains(m);
        let read = match promql::parse(rule["expr"].as_str().unwrap_or_default()) {
            Ok(Ok(e)) => names(&e),
            Ok(Err(e)) => vec![format!("(not PromQL: {e})")],
            Err(e) => vec![format!("(not parsed: the expression {e})")],
        };
        for metric in read.into_iter().filter(|m| !known(m)) {
            out.push(Unknown { rule: name.clone(), target: target.clone(), metric });
        }
    }
    out
}

/// The metric names an expression selects, in order.
pub fn names(e: &Expr) -> Vec<String> {
    struct Names(Vec<String>);
    impl promql_parser::util::ExprVisitor for Names {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, Self::Error> {
            let sel = match e {
                Expr::VectorSelector(v) => Some(v),
                Expr::MatrixSelector(m) => Some(&m.vs),
                _ => None,
            };
            if let Some(name) = sel.and_then(|v| v.name.clone()) {
                self.0.push(name);
            }
            Ok(true)
        }
    }
    let mut n = Names(Vec::new());
    let _ = promql_parser::util::walk_expr(&mut n, e);
    n.0
}

/// Functions that return a series when nothing is selected.
const FROM_NOTHING: &[&str] = &["absent", "absent_over_time", "vector"];

/// Whether `expr` may return a series (an alert fire) with no input series
/// at all: it calls `absent`, `absent_over_time` or `vector`. A unit test of
/// another rule of the same name must then feed this rule's series too. An
/// expression that does not parse (or is past the bounds) may, for all we know.
pub fn fires_without_data(expr: &str) -> bool {
    // The base and every environment have the same alerts: each expression
    // is parsed once a process (it was a fiftieth of `gen`'s instructions),
    // in the memo the proof's checks read them from.
    let parsed = promql::parsed_in(&promql::parsed_memo(), expr);
    struct FromNothing(bool);
    impl promql_parser::util::ExprVisitor for FromNothing {
        type Error = std::convert::Infallible;
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, Self::Error> {
            if let Expr::Call(c) = e {
                self.0 |= FROM_NOTHING.contains(&c.func.name);
            }
            Ok(!self.0)
        }
    }
    let Some(Ok(e)) = &*parsed else { return true };
    let mut v = FromNothing(false);
    let _ = promql_parser::util::walk_expr(&mut v, e);
    v.0
}

#[cfg(test)]
mod tests {
    use super::super::testing::shop;
    use super::*;
    use serde_json::json;

    fn rule(alert: &str, expr: &str, service: Option<&str>) -> Value {
        let labels = service.map_or_else(|| json!({}), |s| json!({ "service": s }));
        json!({ "alert": alert, "expr": expr, "labels": labels })
    }

    #[test]
    fn an_alert_on_a_series_nothing_exports_is_unknown() {
        let r = shop();
        let groups = json!({ "groups": [{ "name": "g", "rules": [
            rule("Made", "rate(made_up_total{job=\"api\"}[5m]) > 0", Some("api")),
            // `api` exports the default family; `worker` declares no metrics.
            rule("WorkerErrors", "rate(http_requests_total{job=\"worker\"}[5m]) > 0", Some("worker")),
        ]}]});
        let found = unknown(&r, &groups);
        let got: Vec<(&str, &str)> = found.iter().map(|u| (u.rule.as_str(), u.metric.as_str())).collect();
        assert_eq!(got, [("Made", "made_up_total"), ("WorkerErrors", "http_requests_total")]);
        assert_eq!(found[1].target.as_deref(), Some("worker"));
    }

    #[test]
    fn exports_cluster_series_and_recorded_names_are_known() {
        let r = shop();
        let groups = json!({ "groups": [{ "name": "g", "rules": [
            { "record": "service:requests:rate5m", "expr": "sum(rate(http_requests_total[5m]))", "labels": { "service": "api" } },
            rule("Errors", "service:requests:rate5m > 1 and on() up == 1", Some("api")),
            rule("Mem", "container_memory_working_set_bytes > 0", None),
        ]}]});
        assert_eq!(unknown(&r, &groups), []);
    }

    #[test]
    fn an_expression_that_does_not_parse_is_reported() {
        let groups = json!({ "groups": [{ "name": "g", "rules": [rule("Bad", "rate(", None)] }] });
        let found = unknown(&shop(), &groups);
        assert_eq!(found.len(), 1);
        assert!(found[0].metric.starts_with("(not PromQL"), "{:?}", found[0]);
    }

    #[test]
    fn an_expression_past_the_bounds_is_reported_not_parsed() {
        let deep = vec!["up"; 5000].join("^");
        let groups = json!({ "groups": [{ "name": "g", "rules": [rule("Deep", &deep, None)] }] });
        let found = unknown(&shop(), &groups);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].metric,
            "(not parsed: the expression has 4999 operators and brackets (at most 1024 are parsed))"
        );
    }

    #[test]
    fn a_component_exports_its_own_family_not_the_default() {
        let mut r = shop();
        let Some(api) = r.services.iter_mut().find(|s| s.name == "api") else { panic!("shop has api") };
        let Some(m) = api.metrics.as_mut() else { panic!("api has metrics") };
        m.requests = "prometheus_http_requests_total".into();
        m.duration = "prometheus_http_request_duration_seconds".into();
        let e = exports(&r, "api");
        assert!(e.contains("prometheus_http_requests_total") && !e.contains("http_requests_total"), "{e:?}");
        assert!(e.contains("prometheus_http_request_duration_seconds_bucket"));
    }

    #[test]
    fn a_component_is_judged_by_what_it_exports_not_by_what_was_resolved() {
        let mut r = shop();
        let Some(api) = r.services.iter_mut().find(|s| s.name == "api") else { panic!("shop has api") };
        api.component = crate::components::Component::by_name("grafana");
        let e = exports(&r, "api");
        // The resolved `http_requests_total` is not Grafana's.
        assert!(!e.contains("http_requests_total"), "{e:?}");
        assert!(e.contains("grafana_http_request_duration_seconds_count"), "{e:?}");
        api_jaeger(&mut r);
        assert!(exports(&r, "api").iter().all(|m| !m.starts_with("http_")), "Jaeger has no request family");
    }

    #[test]
    fn only_absent_and_vector_fire_without_data() {
        assert!(fires_without_data("sum by (job) (up{job=\"a\"}) == 0 or absent(up{job=\"a\"})"));
        assert!(fires_without_data("absent_over_time(up[5m])"));
        assert!(fires_without_data("sum(rate(x[5m])) or vector(0) > 1"));
        assert!(!fires_without_data("sum by (job) (rate(x_total{job=\"a\"}[5m])) > 0.05"));
        assert!(!fires_without_data("time() - max(kube_cronjob_status_last_successful_time) > 60"));
        assert!(fires_without_data("rate("), "an expression that does not parse may");
        // Asked again, from the memo.
        assert!(fires_without_data("absent_over_time(up[5m])") && !fires_without_data("rate(x_total[5m]) > 1"));
        assert!(!fires_without_data("rate(x_total[5m]) > 1") && fires_without_data("rate("));
    }

    fn api_jaeger(r: &mut Resolved) {
        if let Some(api) = r.services.iter_mut().find(|s| s.name == "api") {
            api.component = crate::components::Component::by_name("jaeger");
        }
    }
}
