//! `DIR/monitoring/dashboards/NAME.json` (Grafana dashboards, also ConfigMaps
//! of the kustomize base) and the traces and logs files beside
//! `monitoring/rules.yaml`: `otel-collector.yaml`, `fluent-bit.yaml`,
//! `loki.yaml` or `elasticsearch-ilm.json`, with `monitoring/TELEMETRY.md`
//! saying how to use them.

use std::fmt::Write;

use super::files::Tree;
use super::{header, to_yaml};
use crate::generate::Stack;

const ROOT: &str = "monitoring";

pub fn emit(base: &Stack, namespace: &str, source: &str, tree: &mut Tree) -> Result<(), crate::Error> {
    for d in &base.dashboards {
        tree.insert(format!("{ROOT}/dashboards/{}.json", d.name), json(&d.json)?);
    }
    for (path, value) in &base.telemetry {
        let text =
            if path.ends_with(".json") { json(value)? } else { format!("{}{}", header(source), to_yaml(value)?) };
        tree.insert(format!("{ROOT}/{path}"), text);
    }
    if !base.dashboards.is_empty() || !base.telemetry.is_empty() {
        tree.insert(format!("{ROOT}/TELEMETRY.md"), readme(base, namespace));
    }
    Ok(())
}

fn json(v: &serde_json::Value) -> Result<String, crate::Error> {
    serde_json::to_string_pretty(v)
        .map(|s| s + "\n")
        .map_err(|e| crate::Error::Internal(format!("cannot write JSON: {e}")))
}

fn readme(base: &Stack, namespace: &str) -> String {
    let mut s = String::from("# Dashboards, traces and logs\n\n");
    if !base.dashboards.is_empty() {
        dashboards_section(&mut s, base, namespace);
    }
    let t = &base.telemetry;
    if t.contains_key("otel-collector.yaml") {
        s.push_str(
            "## Traces\n\n`otel-collector.yaml` is the OpenTelemetry Collector configuration: OTLP in (gRPC 4317, HTTP\n\
             4318), `memory_limiter`, `probabilistic_sampler` (the description's sampling) and `batch`, then OTLP\n\
             out to Jaeger (1.35 and later read OTLP) or the OTLP endpoint named. Give it to the collector\n\
             (`otelcol-contrib --config otel-collector.yaml`, or the Helm chart's `config`) and point the services'\n\
             `OTEL_EXPORTER_OTLP_ENDPOINT` at the collector. Check it with `otelcol-contrib validate --config\n\
             otel-collector.yaml`.\n\n",
        );
    }
    if t.contains_key("fluent-bit.yaml") {
        s.push_str(
            "## Logs\n\n`fluent-bit.yaml` (Fluent Bit's YAML configuration) tails the containers of the platform's\n\
             namespaces on every node, adds Kubernetes metadata (JSON lines become fields) and ships them to the\n\
             backend. Run Fluent Bit as a DaemonSet (its Helm chart) with this file as its configuration; check it\n\
             with `fluent-bit -c fluent-bit.yaml --dry-run`.\n\n",
        );
        if t.contains_key("loki.yaml") {
            s.push_str(
                "`loki.yaml` holds the retention: merge it into Loki's configuration (compactor retention on,\n\
                 `limits_config.retention_period`).\n",
            );
        }
        if t.contains_key("elasticsearch-ilm.json") {
            s.push_str(
                "`elasticsearch-ilm.json` is an index lifecycle policy that deletes indices after the retention:\n\
                 `PUT _ilm/policy/NAME` with it and name the policy in the index template of the log indices.\n\
                 Fluent Bit reads the credentials from `ELASTICSEARCH_USER` and `ELASTICSEARCH_PASSWORD` (a Secret).\n",
            );
        }
    }
    s
}

/// Where the dashboards are loaded from: the platform's own Grafana, or the
/// kube-prometheus-stack sidecar; then the list.
fn dashboards_section(s: &mut String, base: &Stack, namespace: &str) {
    let grafana = base.monitoring.as_ref().and_then(|m| m.loaded_by.iter().find(|l| l.component == "grafana"));
    if let Some(g) = grafana {
        let _ = writeln!(
            s,
            "## Grafana dashboards\n\n\
             Each `dashboards/NAME.json` is also a ConfigMap `grafana-dashboard-NAME` of the kustomize base, in\n\
             `{}`, where the platform's Grafana (`{}`) reads them: its dashboard provider (ConfigMap\n\
             `{}`, mounted at `{}`) loads them into a folder named after the platform, and its\n\
             data sources have fixed uids (Prometheus: `prometheus`, the dashboards' default). Panels read the\n\
             recording rules of `rules.yaml`, the metrics each service declares and kube-state-metrics and\n\
             cAdvisor metrics.\n",
            g.namespace, g.service, g.config_map, g.path
        );
    } else {
        let _ = writeln!(
            s,
            "## Grafana dashboards\n\n\
             Each `dashboards/NAME.json` is also a ConfigMap `grafana-dashboard-NAME` of the kustomize base, in the\n\
             namespace `{namespace}` and labelled `grafana_dashboard: \"1\"`: the Grafana sidecar of\n\
             kube-prometheus-stack loads it from there (its default label and namespace; the `grafana_folder`\n\
             annotation names the folder when the sidecar's `folderAnnotation` is set). Without the sidecar, import\n\
             the JSON files. Panels read the recording rules of `rules.yaml`, the metrics each service declares and\n\
             kube-state-metrics and cAdvisor metrics; the data source is chosen with the `datasource` variable.\n"
        );
    }
    for d in &base.dashboards {
        let title = d.json["title"].as_str().unwrap_or_default();
        let _ = writeln!(s, "- `dashboards/{}.json`: {title}", d.name);
    }
    s.push('\n');
}
