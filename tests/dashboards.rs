//! The generated Grafana dashboards, traces and logs files.
//!
//! Dashboards: every `monitoring/dashboards/*.json` of every example parses,
//! has panels, a stable uid Grafana accepts and a ConfigMap in the kustomize
//! base labelled for the Grafana sidecar holding the same JSON; every panel
//! query parses as PromQL (promql-parser, independent of our generator) and
//! selects only metrics that exist: a recording rule of the generated
//! `rules.yaml`, a metric the service declares (`metrics:` and custom alerts)
//! or a standard exporter metric ([`STANDARD_METRICS`]). The backup dashboard
//! is proven the same way on a stack with backup CronJobs.
//!
//! Traces and logs: no OpenTelemetry Collector, Fluent Bit or Loki binary is
//! packaged for Debian or PyPI, so these tests assert the structure those
//! tools require (every pipeline component defined, the sampling ratio and
//! retention from the description) instead of running them.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use kubeproof::generate::dashboards::{Dashboard, STANDARD_METRICS};
use promql_parser::parser::{self, Expr};
use serde_json::Value;

/// Metric names selected by a PromQL expression.
fn selected(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Aggregate(a) => {
            selected(&a.expr, out);
            if let Some(p) = &a.param {
                selected(p, out);
            }
        }
        Expr::Unary(u) => selected(&u.expr, out),
        Expr::Binary(b) => {
            selected(&b.lhs, out);
            selected(&b.rhs, out);
        }
        Expr::Paren(p) => selected(&p.expr, out),
        Expr::Subquery(s) => selected(&s.expr, out),
        Expr::VectorSelector(v) => out.push(v.name.clone().unwrap_or_default()),
        Expr::MatrixSelector(m) => out.push(m.vs.name.clone().unwrap_or_default()),
        Expr::Call(c) => c.args.args.iter().for_each(|a| selected(a, out)),
        Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Extension(_) => {}
    }
}

fn yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", path.display()))
}

/// Recording rules of every `rules.yaml` under `monitoring/`.
fn records(out: &Path) -> BTreeSet<String> {
    let mut files = vec![out.join("monitoring/rules.yaml")];
    for e in std::fs::read_dir(out.join("monitoring")).expect("monitoring/").flatten() {
        if e.path().join("rules.yaml").is_file() {
            files.push(e.path().join("rules.yaml"));
        }
    }
    let mut names = BTreeSet::new();
    for f in files.iter().filter(|f| f.is_file()) {
        for g in yaml(f)["groups"].as_array().into_iter().flatten() {
            for r in g["rules"].as_array().into_iter().flatten() {
                if let Some(n) = r["record"].as_str() {
                    names.insert(n.to_string());
                }
            }
        }
    }
    names
}

/// Metrics the description's services declare, in every environment.
fn declared(description: &Path) -> BTreeSet<String> {
    let p = kubeproof::description::load(description).expect("example loads");
    let envs: Vec<Option<&str>> =
        std::iter::once(None).chain(p.environments.keys().map(|k| Some(k.as_str()))).collect();
    let mut names = BTreeSet::new();
    for env in envs {
        let r = kubeproof::description::resolve::resolve(&p, env, description).expect("example resolves");
        for s in &r.services {
            if let Some(m) = &s.metrics {
                names.insert(m.requests.clone());
                names.extend(m.gauges.iter().cloned());
                for h in std::iter::once(&m.duration).chain(&m.histograms) {
                    names.extend(["_bucket", "_sum", "_count"].map(|x| format!("{h}{x}")));
                }
            }
            for c in &s.alerts.custom {
                names.insert(c.metric.clone());
                names.insert(format!("{}_bucket", c.metric));
            }
        }
    }
    names
}

/// Checks one dashboard; returns its problems.
fn check_dashboard(name: &str, d: &Value, allowed: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut bad = Vec::new();
    let uid = d["uid"].as_str().unwrap_or_default();
    if uid.is_empty() || uid.len() > 40 {
        bad.push(format!("{name}: uid {uid:?} is empty or longer than 40 characters"));
    }
    if d["schemaVersion"].as_u64().is_none_or(|v| v < 36) {
        bad.push(format!("{name}: schemaVersion missing or old"));
    }
    let panels = d["panels"].as_array().cloned().unwrap_or_default();
    if panels.is_empty() {
        bad.push(format!("{name}: no panels"));
    }
    let mut ids = BTreeSet::new();
    for p in &panels {
        let title = p["title"].as_str().unwrap_or_default();
        if !ids.insert(p["id"].as_u64()) {
            bad.push(format!("{name}: panel {title:?}: id {} repeated", p["id"]));
        }
        let g = &p["gridPos"];
        if g["x"].as_u64().unwrap_or(99) + g["w"].as_u64().unwrap_or(99) > 24 {
            bad.push(format!("{name}: panel {title:?} does not fit the 24-column grid"));
        }
        let targets = p["targets"].as_array().cloned().unwrap_or_default();
        if targets.is_empty() {
            bad.push(format!("{name}: panel {title:?} has no query"));
        }
        for t in &targets {
            let expr = t["expr"].as_str().unwrap_or_default();
            match parser::parse(expr) {
                Err(e) => bad.push(format!("{name}: panel {title:?}: {expr:?} is not PromQL: {e}")),
                Ok(ast) => {
                    let mut metrics = Vec::new();
                    selected(&ast, &mut metrics);
                    if metrics.is_empty() {
                        bad.push(format!("{name}: panel {title:?}: {expr:?} selects no metric"));
                    }
                    for m in metrics.iter().filter(|m| !allowed(m)) {
                        bad.push(format!(
                            "{name}: panel {title:?}: {m:?} is neither a recording rule, a declared metric nor a standard exporter metric"
                        ));
                    }
                }
            }
        }
    }
    bad
}

#[test]
fn every_panel_queries_parsed_promql_over_known_metrics() {
    let mut problems = Vec::new();
    let mut seen = 0;
    for example in examples() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("out");
        gen_ok(&example, &out);
        let (records, declared) = (records(&out), declared(&example));
        let allowed = |m: &str| records.contains(m) || declared.contains(m) || STANDARD_METRICS.contains(&m);
        // Dashboards go where Grafana's sidecar looks: the monitoring namespace
        // (declared, else where the platform runs its own Prometheus).
        let platform = kubeproof::description::load(&example).expect("example loads");
        let resolved = kubeproof::description::resolve::resolve(&platform, None, &example).expect("resolves");
        let monitoring = resolved.monitoring_namespace.as_str();
        let dir = out.join("monitoring/dashboards");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        assert!(files.len() >= 2, "{}: an overview and a dashboard per service expected", dir.display());
        // ConfigMaps of the base, by data key.
        let base = out.join("kustomize/base");
        let mut maps = std::collections::BTreeMap::new();
        for f in read_tree(&base).keys().filter(|p| p.extension().is_some_and(|x| x == "yaml")) {
            let v = yaml(&base.join(f));
            if v["kind"] == "ConfigMap" && v["metadata"]["labels"]["grafana_dashboard"] == "1" {
                assert_eq!(v["metadata"]["namespace"], monitoring, "{}", f.display());
                for (k, text) in v["data"].as_object().into_iter().flatten() {
                    maps.insert(k.clone(), text.as_str().unwrap_or_default().to_string());
                }
            }
        }
        for f in &files {
            let name = format!("{}: {}", stem(&example), f.file_name().unwrap_or_default().to_string_lossy());
            let text = std::fs::read_to_string(f).expect("dashboard");
            let d: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            problems.extend(check_dashboard(&name, &d, &allowed));
            let key = f.file_name().unwrap_or_default().to_string_lossy().into_owned();
            match maps.get(&key) {
                Some(cm) if cm.trim_end() == text.trim_end() => {}
                Some(_) => problems.push(format!("{name}: its ConfigMap holds a different JSON")),
                None => problems.push(format!("{name}: no ConfigMap labelled grafana_dashboard in the base")),
            }
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} dashboards");
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn fingerprint_overview_has_the_panels_platforms_md_asks_for() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    gen_ok(&repo().join("examples/fingerprint-api.yaml"), &out);
    let text =
        std::fs::read_to_string(out.join("monitoring/dashboards/fingerprint-api-overview.json")).expect("overview");
    let d: Value = serde_json::from_str(&text).expect("JSON");
    let exprs: Vec<String> = d["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .filter_map(|t| t["expr"].as_str().map(str::to_string))
        .collect();
    let has = |needle: &str| exprs.iter().any(|e| e.contains(needle));
    for (what, needle) in [
        ("requests/s", "service:requests:rate5m"),
        ("error %", "service:request_errors:ratio_rate5m"),
        ("P99 latency", "service:request_duration_seconds:p99"),
        ("active pods", "kube_deployment_status_replicas_available"),
        ("CPU", "container_cpu_usage_seconds_total"),
        ("memory", "container_memory_working_set_bytes"),
        ("model accuracy", "model_accuracy"),
        ("request rate by endpoint", "sum by (handler) (rate(http_requests_total"),
    ] {
        assert!(has(needle), "the overview lacks {what} ({needle}):\n{}", exprs.join("\n"));
    }
}

#[test]
fn backup_dashboard_reads_the_backup_cronjobs() {
    let path = repo().join("examples/machine-native-ops.yaml");
    let p = kubeproof::description::load(&path).expect("loads");
    let r = kubeproof::description::resolve::resolve(&p, None, &path).expect("resolves");
    let mut stack = kubeproof::generate::generate(&r);
    for name in ["postgres-backup", "redis-backup"] {
        stack.objects.push(kubeproof::generate::Object {
            api_version: "batch/v1".into(),
            kind: "CronJob".into(),
            name: name.into(),
            namespace: Some("machine-native-ops".into()),
            value: Value::Null,
        });
    }
    kubeproof::generate::dashboards::dashboards(&r, &mut stack);
    let d: &Dashboard =
        stack.dashboards.iter().find(|d| d.name == "machine-native-ops-backups").expect("a backup dashboard");
    let problems = check_dashboard(&d.name, &d.json, &|m| STANDARD_METRICS.contains(&m));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let text = d.json.to_string();
    for needle in ["kube_cronjob_status_last_successful_time", "kube_job_status_failed", "postgres-backup|redis-backup"]
    {
        assert!(text.contains(needle), "backup dashboard lacks {needle}");
    }
}

// ---- traces and logs --------------------------------------------------------

/// Every component a pipeline names is defined in its section, as
/// `otelcol validate` requires, and the traces pipeline is complete.
fn check_collector(c: &Value) -> Result<(), String> {
    for proto in ["grpc", "http"] {
        if !c["receivers"]["otlp"]["protocols"][proto].is_object() {
            return Err(format!("otlp receiver without {proto}"));
        }
    }
    let traces = &c["service"]["pipelines"]["traces"];
    for (list, section) in [("receivers", "receivers"), ("processors", "processors"), ("exporters", "exporters")] {
        let names = traces[list].as_array().cloned().unwrap_or_default();
        if names.is_empty() {
            return Err(format!("traces pipeline without {list}"));
        }
        for n in names {
            let n = n.as_str().unwrap_or_default();
            if !c[section][n].is_object() {
                return Err(format!("pipeline names {list} {n:?}, not defined under {section}"));
            }
        }
    }
    let procs: Vec<&str> = traces["processors"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
    if procs.first() != Some(&"memory_limiter") || procs.last() != Some(&"batch") {
        return Err(format!("processors {procs:?}: memory_limiter must come first and batch last"));
    }
    for e in c["service"]["extensions"].as_array().into_iter().flatten() {
        if !c["extensions"][e.as_str().unwrap_or_default()].is_object() {
            return Err(format!("extension {e} not defined"));
        }
    }
    Ok(())
}

#[test]
fn collector_and_log_shipping_follow_the_descriptions() {
    // (example, sampling %, exporter endpoint, log output host and port)
    type Case<'a> = (&'a str, f64, &'a str, Option<(&'a str, u64)>);
    let cases: [Case; 3] = [
        ("hdr-empire", 100.0, "jaeger-collector.monitoring:4317", Some(("loki-gateway.monitoring", 80))),
        ("machine-native-ops", 10.0, "jaeger-collector.monitoring:4317", None),
        ("health-platform", 100.0, "jaeger.health-observability:4317", Some(("loki.health-observability", 3100))),
    ];
    for (name, sampling, endpoint, logs) in cases {
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("out");
        gen_ok(&repo().join(format!("examples/{name}.yaml")), &out);
        let m = out.join("monitoring");
        let c = yaml(&m.join("otel-collector.yaml"));
        check_collector(&c).unwrap_or_else(|e| panic!("{name}: otel-collector.yaml: {e}"));
        assert_eq!(c["processors"]["probabilistic_sampler"]["sampling_percentage"].as_f64(), Some(sampling), "{name}");
        assert_eq!(c["exporters"]["otlp/jaeger"]["endpoint"], endpoint, "{name}");
        let Some((host, port)) = logs else {
            assert!(!m.join("fluent-bit.yaml").exists(), "{name}: no logs section, no shipper");
            continue;
        };
        let fb = yaml(&m.join("fluent-bit.yaml"));
        let input = &fb["pipeline"]["inputs"][0];
        assert_eq!(input["name"], "tail", "{name}");
        assert!(input["path"].as_str().unwrap_or_default().contains("/var/log/containers/"), "{name}");
        assert_eq!(fb["pipeline"]["filters"][0]["name"], "kubernetes", "{name}");
        let o = &fb["pipeline"]["outputs"][0];
        assert_eq!(
            (o["name"].as_str(), o["host"].as_str(), o["port"].as_u64()),
            (Some("loki"), Some(host), Some(port))
        );
        assert_eq!(o["match"], input["tag"], "{name}: the output must match the input's tag");
        let loki = yaml(&m.join("loki.yaml"));
        assert_eq!(loki["limits_config"]["retention_period"], "168h", "{name}: 7 days");
        assert_eq!(loki["compactor"]["retention_enabled"], true, "{name}");
    }
}

#[test]
fn elasticsearch_logs_get_a_lifecycle_policy() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let desc = tmp.path().join("p.yaml");
    let text = std::fs::read_to_string(repo().join("examples/hdr-empire.yaml")).expect("example").replace(
        "logs: { backend: loki, retention: 7d }",
        "logs: { backend: elasticsearch, endpoint: \"es.example.com:9243\", retention: 30d }",
    );
    std::fs::write(&desc, text).expect("write");
    let out = tmp.path().join("out");
    gen_ok(&desc, &out);
    let fb = yaml(&out.join("monitoring/fluent-bit.yaml"));
    let o = &fb["pipeline"]["outputs"][0];
    assert_eq!(
        (o["name"].as_str(), o["host"].as_str(), o["port"].as_u64()),
        (Some("es"), Some("es.example.com"), Some(9243))
    );
    assert!(o["http_passwd"].as_str().unwrap_or_default().starts_with("${"), "credentials come from the environment");
    let ilm: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("monitoring/elasticsearch-ilm.json")).expect("ilm"))
            .expect("JSON");
    assert_eq!(ilm["policy"]["phases"]["delete"]["min_age"], "720h");
    assert!(!out.join("monitoring/loki.yaml").exists());
}

#[test]
fn the_dashboard_check_catches_bad_queries() {
    let d = serde_json::json!({
        "uid": "x", "schemaVersion": 39,
        "panels": [{ "id": 1, "title": "t", "gridPos": { "x": 0, "w": 12 }, "targets": [
            { "expr": "sum(rate(made_up_total[5m]))" },
            { "expr": "sum(rate(http_requests_total[5m])" },
        ] }],
    });
    let problems = check_dashboard("d", &d, &|m| m == "http_requests_total");
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("made_up_total"), "{problems:?}");
    assert!(problems[1].contains("is not PromQL"), "{problems:?}");
}

/// The panels of a dashboard: (title, [(expr, legend)]).
fn panels(d: &Value) -> Vec<(String, Vec<(String, String)>)> {
    d["panels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let targets = p["targets"].as_array().into_iter().flatten();
            let t = targets
                .map(|t| {
                    (t["expr"].as_str().unwrap_or("").to_string(), t["legendFormat"].as_str().unwrap_or("").to_string())
                })
                .collect();
            (p["title"].as_str().unwrap_or("").to_string(), t)
        })
        .collect()
}

/// Issue 19: a dashboard per objective reads its meta series, and the values
/// it shows are what Prometheus computes from the generated rules: on 2%
/// errors against a 0.1% budget every window burns at 20 and the period's
/// budget is 19 budgets overspent (promtool evaluates the panels' queries).
#[test]
fn each_objective_has_a_dashboard_whose_queries_prometheus_answers() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    gen_ok(&repo().join("examples/fingerprint-api.yaml"), &out);
    let dir = out.join("monitoring/dashboards");
    let read = |kind: &str| -> Value {
        let path = dir.join(format!("fingerprint-api-fingerprint-api-slo-{kind}.json"));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("an SLO dashboard")).expect("JSON")
    };
    let (availability, latency) = (read("availability"), read("latency"));
    assert_eq!(availability["title"], "fingerprint-api / fingerprint-api / availability SLO");
    let p = panels(&availability);
    let titles: Vec<&str> = p.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Objective",
            "Error budget remaining",
            "Burn rate (5m)",
            "Burn rate over the period",
            "Error budget remaining",
            "Burn rate per window (1 spends the budget in the period)"
        ]
    );
    let windows: Vec<&str> = p[5].1.iter().map(|(_, w)| w.as_str()).collect();
    assert_eq!(windows, ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]);
    assert!(panels(&latency)[5].1.iter().all(|(e, _)| e.contains("service:request_slow:ratio_rate")));

    if !tool_available("promtool", &["--version"]) {
        return;
    }
    let mut tests = Vec::new();
    // Rounded to a millionth: 0.02 / 0.001 is 20.000000000000004 in floats.
    let want = |expr: &str, value: f64| {
        let expr = format!("round(({expr}) * 1e6) / 1e6");
        serde_json::json!({ "expr": expr, "eval_time": "30m", "exp_samples": [{ "labels": "{}", "value": value }] })
    };
    tests.push(want(&p[0].1[0].0, 0.999));
    tests.push(want(&p[1].1[0].0, -19.0));
    tests.push(want(&p[2].1[0].0, 20.0));
    for (e, _) in &p[5].1 {
        tests.push(want(e, 20.0));
    }
    let s = |status: &str| {
        format!("http_requests_total{{job=\"fingerprint-api\",namespace=\"fingerprint\",status=\"{status}\"}}")
    };
    let doc = serde_json::json!({
        "rule_files": [out.join("monitoring/rules.yaml")],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                { "series": s("200"), "values": "0+980x40" },
                { "series": s("500"), "values": "0+20x40" },
            ],
            "promql_expr_test": tests,
        }],
    });
    let file = tmp.path().join("dashboard.test.yaml");
    std::fs::write(&file, serde_json::to_string(&doc).expect("json")).expect("write");
    let o = std::process::Command::new("promtool").arg("test").arg("rules").arg(&file).output().expect("promtool runs");
    assert!(
        o.status.success(),
        "the dashboard's queries:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}
