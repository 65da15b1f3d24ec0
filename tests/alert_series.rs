//! Every generated alert and recording rule watches a series that exists.
//!
//! For every example and every environment, each rule of the plain rule
//! files (`monitoring/rules.yaml`, `monitoring/ENV/rules.yaml`) and of the
//! PrometheusRule objects is parsed with promql-parser, and each metric it
//! selects must be exported by the rule's target (its `service` label: the
//! service's declared or component family, the datastore's exporter), be a
//! cluster series (kube-state-metrics, cAdvisor, kubelet, node-exporter,
//! `up`), or be recorded by another rule of the same file.

use crate::common;

use std::path::Path;

use common::*;
use kubeproof::description::resolve::{Resolved, resolve};
use kubeproof::generate::monitoring::series::{Unknown, names, unknown};
use serde_json::{Value, json};

/// The resolved description of every environment of an example, with the
/// directory its plain rule files are in.
fn environments(file: &Path) -> (kubeproof::build::Built, Vec<(Option<String>, Resolved)>) {
    let text = std::fs::read_to_string(file).expect("readable");
    let p = kubeproof::description::parse(&text, file).expect("a valid description");
    let built = kubeproof::build::build(&p, file).expect("generated");
    let mut envs = vec![(None, resolve(&p, None, file).expect("resolves"))];
    for name in p.environments.keys() {
        envs.push((Some(name.to_string()), resolve(&p, Some(name.as_str()), file).expect("resolves")));
    }
    (built, envs)
}

fn rule_count(groups: &Value) -> usize {
    groups["groups"].as_array().into_iter().flatten().map(|g| g["rules"].as_array().map_or(0, Vec::len)).sum()
}

fn show(example: &str, place: &str, found: &[Unknown]) -> String {
    let lines: Vec<String> = found
        .iter()
        .map(|u| format!("  {example} {place}: {} (target {:?}) reads `{}`", u.rule, u.target, u.metric))
        .collect();
    lines.join("\n")
}

#[test]
fn every_generated_rule_reads_only_series_that_exist() {
    let mut problems = Vec::new();
    for file in examples() {
        let example = stem(&file);
        let (built, envs) = environments(&file);
        let mut walked = 0;
        for (env, r) in &envs {
            // The plain rule file of this environment (the base's at the top).
            let dir = env.as_ref().map_or_else(|| "monitoring".to_string(), |e| format!("monitoring/{e}"));
            let path = format!("{dir}/rules.yaml");
            if let Some(bytes) = built.tree.get(Path::new(&path)) {
                let text = std::str::from_utf8(bytes).expect("UTF-8");
                let groups: Value = serde_saphyr::from_str(text).expect("rules.yaml is YAML");
                walked += rule_count(&groups);
                problems.push(show(&example, &path, &unknown(r, &groups)));
            }
            // The PrometheusRule objects of the environment's stack.
            let stack = match env {
                None => &built.base,
                Some(e) => &built.envs.iter().find(|(n, _)| n == e).expect("an environment's stack").1,
            };
            for o in stack.objects.iter().filter(|o| o.kind == "PrometheusRule") {
                let spec = &o.value["spec"];
                walked += rule_count(spec);
                problems.push(show(&example, &format!("PrometheusRule {}", o.name), &unknown(r, spec)));
            }
        }
        assert!(walked > 0, "{example}: no rule walked");
    }
    problems.retain(|p| !p.is_empty());
    assert!(problems.is_empty(), "rules reading series nothing exports:\n{}", problems.join("\n"));
}

/// The rules of health-platform's own monitoring stack read each
/// component's real metric names, and Jaeger (no HTTP request family) and
/// Alertmanager (no status label) get no alert they could not fire.
#[test]
fn components_are_watched_through_their_own_metrics() {
    let (built, _) = environments(&repo().join("examples/health-platform.yaml"));
    let Some(bytes) = built.tree.get(Path::new("monitoring/rules.yaml")) else { panic!("health-platform has rules") };
    let groups: Value = serde_saphyr::from_str(std::str::from_utf8(bytes).expect("UTF-8")).expect("YAML");
    let read = |service: &str| -> Vec<String> {
        let mut out: Vec<String> = groups["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .filter(|r| r["labels"]["service"] == json!(service))
            .flat_map(|r| names(&promql_parser::parser::parse(r["expr"].as_str().unwrap_or_default()).expect("PromQL")))
            .collect();
        out.sort();
        out.dedup();
        out
    };
    let alerts = |service: &str| -> Vec<String> {
        groups["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .filter(|r| r["labels"]["service"] == json!(service))
            .filter_map(|r| r["alert"].as_str().map(str::to_string))
            .collect()
    };
    assert!(read("prometheus").contains(&"prometheus_http_requests_total".to_string()), "{:?}", read("prometheus"));
    assert!(read("grafana").contains(&"grafana_http_request_duration_seconds_count".to_string()));
    assert!(read("loki").contains(&"loki_request_duration_seconds_bucket".to_string()));
    assert!(read("webauthn-gateway").contains(&"envoy_http_downstream_rq_xx".to_string()));
    // Envoy's admin listener (probes, scrapes) is not the traffic the alerts judge.
    let gateway_records: Vec<&str> = groups["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .filter(|r| r["labels"]["service"] == json!("webauthn-gateway") && r["record"].is_string())
        .filter_map(|r| r["expr"].as_str())
        .collect();
    assert!(!gateway_records.is_empty());
    for e in gateway_records.iter().filter(|e| e.contains("envoy_")) {
        assert!(e.contains("envoy_http_conn_manager_prefix!=\"admin\""), "{e}");
    }
    for s in ["prometheus", "grafana", "loki", "jaeger", "alertmanager", "webauthn-gateway"] {
        assert!(!read(s).contains(&"http_requests_total".to_string()), "{s} does not export http_requests_total");
    }
    assert!(!alerts("jaeger").iter().any(|a| a == "HighErrorRatio" || a.starts_with("HighLatency")));
    assert!(!alerts("alertmanager").iter().any(|a| a == "HighErrorRatio"));
    assert!(alerts("jaeger").iter().any(|a| a == "ServiceDown"), "Jaeger is still watched by `up`");
    // Our own services keep the conventional family.
    assert!(read("health-api").contains(&"http_requests_total".to_string()));
}

/// The runbook says which alerts are left out for which component, and why.
#[test]
fn the_runbook_names_the_alerts_a_component_cannot_have() {
    let (built, _) = environments(&repo().join("examples/health-platform.yaml"));
    let runbook = String::from_utf8_lossy(built.tree.get(Path::new("RUNBOOK.md")).expect("a runbook")).into_owned();
    let Some((_, left_out)) = runbook.split_once("## Alerts left out") else { panic!("no left-out section") };
    let left_out = left_out.split("\n## ").next().unwrap_or_default();
    assert!(left_out.contains("- `jaeger` (jaeger): no HighErrorRatio"), "{left_out}");
    assert!(left_out.contains("- `alertmanager` (alertmanager): no HighErrorRatio"), "{left_out}");
    assert!(!left_out.contains("`prometheus`"), "Prometheus has its whole family: {left_out}");
}

/// `<<.Series>>`, `<<.LabelMatchers>>` and `<<.GroupBy>>` as the adapter
/// fills them in for a pod-scoped query.
fn fill(template: &str, series: &str) -> String {
    template
        .replace("<<.Series>>", series)
        .replace("<<.LabelMatchers>>", "namespace=\"ns\",pod=~\"web-1|web-2\"")
        .replace("<<.GroupBy>>", "pod")
}

/// Every HPA asking for a custom (Pods) metric finds exactly one
/// prometheus-adapter rule naming it (`name.as`), whose `matches` selects the
/// rule's series, whose queries parse as PromQL once the adapter's template
/// tokens are filled in, and whose series the HPA's target exports.
#[test]
fn custom_metric_autoscalers_have_adapter_rules_serving_their_metrics() {
    let mut asked = 0;
    for file in examples() {
        let example = stem(&file);
        let (built, envs) = environments(&file);
        for (env, r) in &envs {
            let stack = match env {
                None => &built.base,
                Some(e) => &built.envs.iter().find(|(n, _)| n == e).expect("an environment's stack").1,
            };
            let config = stack
                .objects
                .iter()
                .find(|o| o.kind == "ConfigMap" && o.name == kubeproof::generate::monitoring::adapter::CONFIG_MAP)
                .map(|o| o.value["data"][kubeproof::generate::monitoring::adapter::CONFIG_KEY].as_str().expect("text"))
                .map(|t| serde_saphyr::from_str::<Value>(t).expect("the adapter reads YAML"));
            let rules = config.as_ref().and_then(|c| c["rules"].as_array().cloned()).unwrap_or_default();
            for hpa in stack.objects.iter().filter(|o| o.kind == "HorizontalPodAutoscaler") {
                let target = hpa.value["spec"]["scaleTargetRef"]["name"].as_str().expect("a target");
                let pods =
                    hpa.value["spec"]["metrics"].as_array().into_iter().flatten().filter(|m| m["type"] == "Pods");
                for m in pods {
                    asked += 1;
                    let name = m["pods"]["metric"]["name"].as_str().expect("a metric name");
                    let serving: Vec<&Value> = rules.iter().filter(|r| r["name"]["as"] == json!(name)).collect();
                    let at = format!("{example} {env:?} HPA {target}: `{name}`");
                    assert_eq!(serving.len(), 1, "{at}: rules serving it: {serving:?}");
                    let rule = serving[0];
                    let sq = promql_parser::parser::parse(rule["seriesQuery"].as_str().expect("seriesQuery"))
                        .unwrap_or_else(|e| panic!("{at}: seriesQuery: {e}"));
                    let series = names(&sq);
                    assert_eq!(series.len(), 1, "{at}: one series selected");
                    let matches =
                        regex::Regex::new(rule["name"]["matches"].as_str().expect("matches")).expect("a regex");
                    assert!(matches.is_match(&series[0]), "{at}: `matches` misses {}", series[0]);
                    let mq = fill(rule["metricsQuery"].as_str().expect("metricsQuery"), &series[0]);
                    let read = names(&promql_parser::parser::parse(&mq).unwrap_or_else(|e| panic!("{at}: {mq}: {e}")));
                    assert_eq!(read, series, "{at}: the query reads its series");
                    let exported = kubeproof::generate::monitoring::series::exports(r, target);
                    assert!(exported.contains(&series[0]), "{at}: {} is not exported by {target}", series[0]);
                }
            }
        }
    }
    assert!(asked > 0, "kailash's autoscalers ask for custom metrics");
    // The README's prerequisites point the adapter at its rules.
    let (built, _) = environments(&repo().join("examples/kailash.yaml"));
    let readme = String::from_utf8_lossy(built.tree.get(Path::new("README.md")).expect("a README")).into_owned();
    let line = readme.lines().find(|l| l.contains("custom metrics API")).expect("the custom metrics prerequisite");
    assert!(line.contains("`prometheus-adapter-rules`") && line.contains("`http_requests_per_second`"), "{line}");
}

#[test]
fn an_autoscale_metric_nothing_exports_is_refused() {
    let text = std::fs::read_to_string(repo().join("examples/kailash.yaml")).expect("readable");
    let bad = text.replacen("gauges: [mcp_active_connections]", "gauges: []", 1);
    assert_ne!(bad, text);
    let Err(diags) = kubeproof::description::parse(&bad, Path::new("kailash.yaml")) else {
        panic!("an HPA on a series nothing exports is refused")
    };
    let text = format!("{diags:?}");
    assert!(text.contains("autoscale metric `mcp_active_connections` is not served"), "{text}");
    // Named at the service in the file.
    assert!(diags.iter().all(|d| d.pos.line > 0), "{text}");
}
