//! prometheus-adapter rules serving the custom metrics the autoscalers ask
//! for: one rule per metric name, over the series the service exports
//! ([`Svc::served_from`]): `X_per_second` as the rate of the counter
//! `X_total`, a gauge as it is. The adapter's configuration format
//! (`rules: [{seriesQuery, resources, name, metricsQuery}]`) is written as
//! JSON, which its YAML reader accepts, in a ConfigMap beside the other
//! monitoring objects; the adapter itself is a cluster prerequisite.

use k8s_openapi::api::core::v1 as core;
use serde_json::{Value, json};

use super::super::{Stack, labels, meta};
use crate::description::resolve::{Resolved, Served, Svc};

/// The ConfigMap's name and its key: what the adapter's `--config` reads
/// when the ConfigMap is mounted (the Helm chart's layout).
pub const CONFIG_MAP: &str = "prometheus-adapter-rules";
pub const CONFIG_KEY: &str = "config.yaml";

/// The rate window: several scrapes of the slowest default interval (30s).
const RATE_WINDOW: &str = "2m";

/// The adapter's rules for every custom metric of every autoscaler, each
/// name once (services sharing a metric share its rule: the HPA's pod
/// selector scopes it); `None` without any.
pub fn config(r: &Resolved) -> Option<Value> {
    let mut rules: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for svc in r.services.iter().filter(|s| s.autoscaled()) {
        for (name, _) in &svc.autoscale.metrics {
            if seen.contains(name) {
                continue;
            }
            if let Some(rule) = rule(svc, name) {
                seen.push(name.clone());
                rules.push(rule);
            }
        }
    }
    (!rules.is_empty()).then(|| json!({ "rules": rules }))
}

/// The rule serving `name` for `svc`: per pod and namespace, which the
/// ServiceMonitor's (and the scrape job's) target labels carry.
fn rule(svc: &Svc, name: &str) -> Option<Value> {
    let (series, query) = match svc.served_from(name)? {
        Served::Rate(c) => {
            (c, format!("sum(rate(<<.Series>>{{<<.LabelMatchers>>}}[{RATE_WINDOW}])) by (<<.GroupBy>>)"))
        }
        Served::Gauge(g) => (g, "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)".to_string()),
    };
    Some(json!({
        "seriesQuery": format!("{series}{{namespace!=\"\",pod!=\"\"}}"),
        "resources": { "overrides": {
            "namespace": { "resource": "namespace" },
            "pod": { "resource": "pod" },
        }},
        "name": { "matches": format!("^{series}$"), "as": name },
        "metricsQuery": query,
    }))
}

/// The ConfigMap holding [`config`], in the monitoring namespace.
pub(super) fn objects(r: &Resolved, stack: &mut Stack) {
    let Some(config) = config(r) else { return };
    let text = serde_json::to_string_pretty(&config).unwrap_or_default();
    stack.push(&core::ConfigMap {
        metadata: meta(CONFIG_MAP, &r.monitoring_namespace, &labels(&r.platform, CONFIG_MAP, "monitoring")),
        data: Some([(CONFIG_KEY.to_string(), text)].into()),
        ..Default::default()
    });
}

#[cfg(test)]
mod tests {
    use super::super::testing::shop;
    use super::*;

    fn autoscaled(metrics: &[&str], gauges: &[&str]) -> Resolved {
        let mut r = shop();
        let Some(api) = r.services.iter_mut().find(|s| s.name == "api") else { panic!("shop has api") };
        api.max_replicas = api.min_replicas + 3;
        api.autoscale.metrics = metrics.iter().map(|m| (m.to_string(), "10".to_string())).collect();
        if let Some(m) = api.metrics.as_mut() {
            m.gauges = gauges.iter().map(|g| g.to_string()).collect();
        }
        r
    }

    #[test]
    fn a_rate_and_a_gauge_each_get_a_rule_named_as_the_hpa_asks() {
        let r = autoscaled(&["http_requests_per_second", "queue_depth"], &["queue_depth"]);
        let Some(c) = config(&r) else { panic!("two custom metrics") };
        let rules = c["rules"].as_array().cloned().unwrap_or_default();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0]["seriesQuery"], "http_requests_total{namespace!=\"\",pod!=\"\"}");
        assert_eq!(rules[0]["name"], json!({ "matches": "^http_requests_total$", "as": "http_requests_per_second" }));
        assert!(rules[0]["metricsQuery"].as_str().is_some_and(|q| q.starts_with("sum(rate(<<.Series>>")));
        assert_eq!(rules[1]["name"]["as"], "queue_depth");
        assert_eq!(rules[1]["metricsQuery"], "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)");
        assert_eq!(rules[1]["resources"]["overrides"]["pod"], json!({ "resource": "pod" }));
    }

    #[test]
    fn none_without_custom_metrics_and_none_for_what_is_not_exported() {
        assert_eq!(config(&shop()).map(|c| c["rules"].as_array().map(Vec::len)), None);
        // Undeclared gauge: no rule (the description is refused before this).
        assert!(config(&autoscaled(&["queue_depth"], &[])).is_none());
        let mut stack = Stack::default();
        objects(&autoscaled(&["http_requests_per_second"], &[]), &mut stack);
        let cm = &stack.objects[0];
        assert_eq!((cm.kind.as_str(), cm.name.as_str()), ("ConfigMap", CONFIG_MAP));
        assert!(cm.value["data"][CONFIG_KEY].as_str().is_some_and(|t| t.contains("http_requests_per_second")));
    }
}
