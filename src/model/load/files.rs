//! Files that are not Kubernetes manifests but sit beside them (`gen` writes
//! them, and so do most repositories): Prometheus configuration and rule
//! files, Alertmanager, Grafana, Loki, OpenTelemetry Collector, promtail and
//! Fluent Bit configurations, and kubeproof's own records. They are told
//! apart by content (their top-level keys), not by name: a folder names them
//! as it likes. A Prometheus rule file and a Grafana dashboard are kept as
//! stand-in objects (checked like a PrometheusRule's rules and a dashboard
//! ConfigMap's JSON); the others are skipped with one note each.

use crate::model::value::{Map, Value};

/// The `apiVersion` of the stand-in object of a file that is not a
/// manifest (a Prometheus rule file): no Kubernetes group looks like it.
pub const FILE_API: &str = "kubeproof.dev/file";

/// The kind of the stand-in object of a Prometheus rule file (promtool's
/// format: `groups:` of `rules:`).
pub const RULE_FILE: &str = "PrometheusRuleFile";

/// The kind of the stand-in object of a Grafana dashboard's JSON file.
pub const DASHBOARD_FILE: &str = "GrafanaDashboardFile";

/// What a document with no `apiVersion` or `kind` is, when it is a known
/// configuration format: the kind of its stand-in object when it is checked
/// (a rule file, a dashboard), or what it is when skipped.
pub(super) enum Other {
    Kept(&'static str),
    Skipped(&'static str),
}

/// How a stand-in object is named in findings: `rule file`, `dashboard file`.
pub fn shown(kind: &str) -> &'static str {
    if kind == DASHBOARD_FILE { "dashboard file" } else { "rule file" }
}

/// Recognises a top-level mapping by its keys.
pub(super) fn recognise(map: &Map) -> Option<Other> {
    let has = |k: &str| map.contains_key(k);
    let rule_groups = map.get("groups").and_then(Value::as_array).is_some_and(|groups| {
        !groups.is_empty()
            && groups.iter().all(|g| g.get("rules").is_some_and(Value::is_array) || g.get("name").is_some())
    });
    if rule_groups && !has("apiVersion") {
        return Some(Other::Kept(RULE_FILE));
    }
    let what = if has("rule_files") && has("tests") {
        "a Prometheus rule unit test file (`promtool test rules`)"
    } else if has("scrape_configs") && (has("clients") || has("positions")) {
        "a promtail configuration"
    } else if has("scrape_configs") || (has("global") && (has("rule_files") || has("alerting"))) {
        "a Prometheus configuration"
    } else if has("route") && has("receivers") {
        "an Alertmanager configuration"
    } else if has("receivers") && has("exporters") && has("service") {
        "an OpenTelemetry Collector configuration"
    } else if has("panels") || (has("schemaVersion") && has("title")) {
        return Some(Other::Kept(DASHBOARD_FILE));
    } else if ["schema_config", "limits_config", "compactor", "ingester", "storage_config"].iter().any(|k| has(k)) {
        "a Loki configuration"
    } else if has("pipeline") && has("service") {
        "a Fluent Bit configuration"
    } else if has("digests") && map.get("about").and_then(Value::as_str).is_some_and(|a| a.contains("kubeproof")) {
        "kubeproof's record of a generated overlay"
    } else {
        return None;
    };
    Some(Other::Skipped(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn what(yaml: &str) -> String {
        let v: Value = serde_saphyr::from_str(yaml).expect("YAML");
        match recognise(v.as_object().expect("a mapping")) {
            Some(Other::Kept(k)) => k.into(),
            Some(Other::Skipped(w)) => w.into(),
            None => "none".into(),
        }
    }

    #[test]
    fn files_are_told_apart_by_their_keys() {
        assert_eq!(what("groups: [{name: a, rules: []}]"), RULE_FILE);
        assert_eq!(what("rule_files: [r.yaml]\ntests: []"), "a Prometheus rule unit test file (`promtool test rules`)");
        assert_eq!(what("global: {}\nscrape_configs: []"), "a Prometheus configuration");
        assert_eq!(what("scrape_configs: []\nclients: []"), "a promtail configuration");
        assert_eq!(what("route: {}\nreceivers: []"), "an Alertmanager configuration");
        assert_eq!(what("receivers: {}\nexporters: {}\nservice: {}"), "an OpenTelemetry Collector configuration");
        assert_eq!(what("{title: a, schemaVersion: 39}"), DASHBOARD_FILE);
        assert_eq!(what("limits_config: {}"), "a Loki configuration");
        assert_eq!(what("pipeline: {}\nservice: {}"), "a Fluent Bit configuration");
        // Anything else stays an error of the input.
        assert_eq!(what("name: x\nimage: y"), "none");
        assert_eq!(what("groups: [1]"), "none");
    }
}
