use std::collections::BTreeMap;

use super::routing::parse_matchers;
use super::{metric_names, substitute};

#[test]
fn grafana_variables_are_replaced_where_a_placeholder_keeps_promql() {
    assert_eq!(
        substitute(r#"sum(rate(x{job="$job",ns=~"${ns:regex}"}[$__rate_interval]))"#).as_deref(),
        Some(r#"sum(rate(x{job="x",ns=~"x"}[5m]))"#)
    );
    assert_eq!(substitute("rate(x[$window])").as_deref(), Some("rate(x[5m])"));
    assert_eq!(substitute("x offset $__interval").as_deref(), Some("x offset 5m"));
    assert_eq!(substitute(r#"x{a="[[v]]"}"#).as_deref(), Some(r#"x{a="x"}"#));
    assert_eq!(substitute("topk($n, x)"), None);
    assert_eq!(substitute("$metric"), None);
    // `[[v]]` is a variable, not a range: it stands as a value here.
    assert_eq!(substitute("sum(x) / [[scale]]"), None);
    assert_eq!(substitute(r#"x{a="\"$v"}"#).as_deref(), Some(r#"x{a="\"x"}"#));
    // A stray `]` (broken PromQL) opens no range: the variable after it
    // still stands where a placeholder would not keep PromQL.
    assert_eq!(substitute("x] / $scale"), None);
    assert_eq!(substitute("x[5m]] / $scale"), None);
}

#[test]
fn metric_names_come_from_selectors_and_name_matchers() {
    let parse = |e: &str| crate::model::promql::parse(e).ok();
    let e = parse(
        r#"sum(rate(a_total[5m])) / on(job) group_left b + {__name__="c"} + absent(a_total) + sum_over_time(d[5m:1m])"#,
    );
    let Some(Ok(e)) = e else { panic!("{e:?}") };
    assert_eq!(metric_names(&e), ["a_total", "b", "c", "d"]);
    assert!(matches!(parse("holt_winters(x[5m], 0.5, 0.5)"), Some(Ok(_))));
    assert!(parse(&"(".repeat(1000)).is_none());
}

#[test]
fn matchers_strings_are_read_like_alertmanager() {
    let labels: BTreeMap<&str, &str> = [("severity", "critical"), ("team", "ops")].into_iter().collect();
    let eval = |s: &str| parse_matchers(s).iter().map(|m| m.eval(&labels)).collect::<Vec<_>>();
    assert_eq!(eval(r#"severity="critical""#), [Some(true)]);
    assert_eq!(eval("severity = critical"), [Some(true)]);
    assert_eq!(eval(r#"severity=~"warn.*|crit.*""#), [Some(true)]);
    assert_eq!(eval(r#"severity=~"crit""#), [Some(false)]);
    assert_eq!(eval(r#"{severity!="critical", team="ops"}"#), [Some(false), Some(true)]);
    assert_eq!(eval(r#"env="prod""#), [None]);
    assert_eq!(eval(r#"team!~"a,b""#), [Some(true)]);
}

fn findings(text: &str, config: &crate::check::config::Config) -> Vec<(&'static str, String)> {
    let (loaded, outcome) = crate::check::check_text("t.yaml", text, config);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome.findings.into_iter().filter(|f| f.code.starts_with("KP6")).map(|f| (f.code, f.message)).collect()
}

const RULE: &str = "apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: r, namespace: shop }
spec:
  groups:
    - name: g
      rules:
        - alert: A
          expr: EXPR
          for: 5m
          labels: { severity: SEV }
          annotations: { runbook_url: https://r.example.com/a }
";

fn rule(expr: &str, severity: &str) -> String {
    RULE.replace("EXPR", expr).replace("SEV", severity)
}

#[test]
fn known_metrics_come_from_the_configuration() {
    let text =
        rule("rate(shop_orders_total[5m]) + histogram_quantile(0.9, rate(checkout_seconds_bucket[5m])) > 1", "warning");
    let none = crate::check::config::Config::default();
    let got = findings(&text, &none);
    assert_eq!(got.iter().filter(|(c, _)| *c == "KP608").count(), 2, "{got:?}");
    let config = crate::check::config::Config {
        metrics: vec!["shop_*".into(), "checkout_seconds".into()],
        ..Default::default()
    };
    assert!(findings(&text, &config).is_empty(), "{:?}", findings(&text, &config));
}

const NULL_CONFIG: &str = "---
apiVersion: v1
kind: Secret
metadata: { name: alertmanager-main, namespace: monitoring }
stringData:
  alertmanager.yaml: |
    route:
      receiver: Default
      routes:
        - { matchers: [alertname = Watchdog], receiver: Watchdog }
        - { matchers: [severity = critical], receiver: Critical }
    receivers:
      - name: Default
      - name: Watchdog
      - name: Critical
        CONFIGS
";

#[test]
fn routing_reports_a_silent_configuration_once_and_respects_routes_by_alert_name() {
    let config = crate::check::config::Config::default();
    let rules = rule("up == 0", "critical") + "---\n" + &rule("up == 0", "warning").replace("name: r,", "name: r2,");
    let watchdog = rule("vector(1)", "none").replace("alert: A", "alert: Watchdog").replace("name: r,", "name: w,");
    let silent = format!("{rules}---\n{watchdog}{}", NULL_CONFIG.replace("CONFIGS", ""));
    let got = findings(&silent, &config);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].1.starts_with("no receiver of the routing configuration"), "{got:?}");

    let some =
        format!("{rules}---\n{watchdog}{}", NULL_CONFIG.replace("CONFIGS", "slack_configs: [{ channel: '#a' }]"));
    let got = findings(&some, &config);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].1.contains("alert `A` (severity=warning) notifies no one: it reaches only `Default`"), "{got:?}");
}

/// An AlertmanagerConfig's tree is walked as the file's is (camelCase,
/// matchers as objects, `continue`).
#[test]
fn an_alertmanager_config_routes_like_the_file() {
    let config = crate::check::config::Config::default();
    let amc = "---
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata: { name: shop, namespace: shop }
spec:
  route:
    receiver: \"null\"
    routes:
      - matchers: [{ name: severity, value: critical, matchType: \"=\" }]
        receiver: pagerduty
        continue: true
      - matchers: [{ name: severity, value: \"page|warning\", regex: true }]
        receiver: slack
  receivers:
    - name: \"null\"
    - name: pagerduty
      pagerdutyConfigs: [{ routingKey: { name: pagerduty, key: routing-key } }]
    - name: slack
      slackConfigs: [{ apiURL: { name: slack, key: url }, channel: \"#alerts\" }]
";
    let routed = |severity: &str| findings(&(rule("up == 0", severity) + amc), &config);
    for severity in ["critical", "page", "warning"] {
        assert!(routed(severity).is_empty(), "{severity}: {:?}", routed(severity));
    }
    let got = routed("info");
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].1.contains("alert `A` (severity=info) notifies no one: it reaches only `null`"), "{got:?}");
}

#[test]
fn monitors_are_judged_only_where_services_are_checked() {
    let config = crate::check::config::Config::default();
    let sm = "apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: sm, namespace: monitoring }
spec:
  namespaceSelector: { matchNames: [shop] }
  selector: { matchLabels: { app: api } }
  endpoints: [{ port: metrics }]
";
    assert!(findings(sm, &config).is_empty());
    let other = format!(
        "{sm}---\napiVersion: v1\nkind: Service\nmetadata: {{ name: db, namespace: shop }}\nspec: {{ ports: [{{ port: 5432 }}] }}\n"
    );
    assert_eq!(findings(&other, &config).iter().map(|f| f.0).collect::<Vec<_>>(), ["KP606"]);
    let any = other.replace("matchNames: [shop]", "any: true");
    assert_eq!(findings(&any, &config).iter().map(|f| f.0).collect::<Vec<_>>(), ["KP606"]);
    let labelled = other.replace("name: db, namespace: shop", "name: db, namespace: shop, labels: { app: api }");
    assert_eq!(findings(&labelled, &config).iter().map(|f| f.0).collect::<Vec<_>>(), ["KP607"]);
}

#[test]
fn dashboards_skip_other_data_sources_and_unplaceable_variables() {
    let config = crate::check::config::Config::default();
    let dash = r#"apiVersion: v1
kind: ConfigMap
metadata: { name: d, namespace: monitoring, labels: { grafana_dashboard: "1" } }
data:
  d.json: |
    {"templating": {"list": [{"name": "logs", "type": "datasource", "query": "loki"}]},
     "panels": [
       {"title": "L", "datasource": "$logs", "targets": [{"expr": "sum(count_over_time({app=\"a\"}[5m]))"}]},
       {"title": "V", "targets": [{"refId": "A", "expr": "topk($n, up"}]},
       {"title": "R", "type": "row", "panels": [{"title": "P", "targets": [{"refId": "B", "expr": "rate(nothing_here_total[$__rate_interval])"}]}]},
       {"title": "T", "datasource": "$logs", "targets": [{"refId": "C", "datasource": {"type": "prometheus"}, "expr": "rate(also_missing_total[5m])"}]},
       {"title": "U", "datasource": {"type": "prometheus"}, "targets": [{"refId": "D", "datasource": {"type": "loki"}, "expr": "rate(logs_only_total[5m])"}]}
     ]}
"#;
    // A target's own data source wins over its panel's, both ways.
    let got = findings(dash, &config);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].1.contains("panel \"P\", query B of dashboard `d.json` queries metric `nothing_here_total`"),
        "{got:?}"
    );
    assert!(
        got[1].1.contains("panel \"T\", query C of dashboard `d.json` queries metric `also_missing_total`"),
        "{got:?}"
    );
}

#[test]
fn the_metrics_setting_reads_from_kubeproof_yaml() {
    let c: crate::check::config::Config =
        serde_saphyr::from_str("metrics: [orders_total, \"shop_*\"]\n").expect("reads");
    assert_eq!(c.metrics, ["orders_total", "shop_*"]);
}

fn unknown_metrics(text: &str) -> Vec<String> {
    let (loaded, outcome) = crate::check::check_text("t.yaml", text, &crate::check::config::Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome.findings.iter().filter(|f| f.code == "KP608").map(|f| f.message.to_string()).collect()
}

fn recording(expr: &str) -> String {
    format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{ name: r, namespace: monitoring }}\n\
         spec: {{ groups: [{{ name: g, rules: [{{ record: 'x:y', expr: '{expr}' }}] }}] }}"
    )
}

#[test]
fn control_plane_and_sidecar_metrics_are_known() {
    for expr in [
        "sum(aggregator_unavailable_apiservice) > 0",
        "rate(reloader_reloads_total[5m])",
        "rate(configmap_reload_errors_total[5m])",
        "controller_runtime_reconcile_errors_total",
        // istiod and ztunnel, in Istio's own Grafana dashboards (tests/corpus/istio/addons)
        "sum(rate(sidecar_injection_success_total[1m]))",
        "galley_validation_passed",
        "workload_manager_active_proxy_count",
    ] {
        assert!(unknown_metrics(&recording(expr)).is_empty(), "{expr}");
    }
    assert_eq!(unknown_metrics(&recording("aggregator_unavailble_apiservice + nonsense_total")).len(), 1);
}

#[test]
fn an_exporter_the_set_names_makes_its_metrics_known() {
    let gpu = recording("avg(DCGM_FI_DEV_GPU_UTIL)");
    assert_eq!(unknown_metrics(&gpu).len(), 1, "no exporter in the set: unknown");
    // kubernetes/examples' vLLM autoscaling: a ServiceMonitor for the GPU operator's exporter.
    let monitor = "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n\
                   metadata: { name: gpus, namespace: monitoring }\n\
                   spec: { selector: { matchLabels: { app.kubernetes.io/name: gpu-dcgm-exporter } }, endpoints: [{ port: metrics }] }";
    assert!(unknown_metrics(&format!("{gpu}\n---\n{monitor}")).is_empty());
}

#[test]
fn dashboards_without_the_sidecar_label_are_found_by_content() {
    let config = crate::check::config::Config::default();
    // Istio's addon ships its dashboards this way: no label, keys ending in `.json`.
    let unlabelled = r#"apiVersion: v1
kind: ConfigMap
metadata: { name: dashboards, namespace: istio-system }
data:
  mesh.json: |
    {"title": "Mesh", "panels": [{"title": "Rate", "targets": [{"refId": "A", "expr": "sum(rate(nothing_here_total[5m])"}]}]}
  legacy: '{"rows": [{"panels": [{"title": "Up", "targets": [{"expr": "up{job=~\"$job\"} ="}]}]}]}'
  settings.json: '{"panels": "not a list", "title": "x"}'
  broken.json: '{"panels": ['
  notes: 'panels: []'
"#;
    let got = findings(unlabelled, &config);
    let codes: Vec<&str> = got.iter().map(|f| f.0).collect();
    assert_eq!(codes, ["KP601", "KP601"], "{got:?}");
    assert!(got.iter().any(|f| f.1.contains("dashboard `mesh.json`")), "{got:?}");
    assert!(got.iter().any(|f| f.1.contains("dashboard `legacy`")), "{got:?}");
}

#[test]
fn a_finding_in_a_rule_file_held_in_a_config_map_names_the_group() {
    let text = "apiVersion: v1
kind: ConfigMap
metadata: { name: rules, namespace: shop }
data:
  alerts.rules.yaml: |
    groups:
      - name: shop-availability
        rules:
          - alert: ShopDown
            expr: up == 0
            for: 5m
            annotations: { runbook_url: https://r.example.com/a }
";
    let (_, outcome) = crate::check::check_text("t.yaml", text, &crate::check::config::Config::default());
    let messages: Vec<&str> =
        outcome.findings.iter().filter(|f| f.code == "KP602").map(|f| f.message.as_str()).collect();
    assert_eq!(messages, ["alert `ShopDown` (group `shop-availability` of the rule file) has no `severity` label"]);
}

#[test]
fn broken_expressions_are_placed_inside_for_the_first_hundred_only() {
    // Placing an error inside an expression costs a search: the 101st is
    // placed at its `expr` field.
    let rules: String = (0..101).map(|i| format!("        - {{ alert: A{i}, expr: 'rate(x[5m]' }}\n")).collect();
    let text = format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{ name: r, namespace: shop }}\n\
         spec:\n  groups:\n    - name: g\n      rules:\n{rules}"
    );
    let (loaded, outcome) = crate::check::check_text("t.yaml", &text, &crate::check::config::Config::default());
    // Inside: not where the `expr` field is.
    let inside = |f: &crate::model::finding::Finding| f.at != Some(loaded.objects[f.object].pos(&f.pointer));
    let placed: Vec<bool> = outcome.findings.iter().filter(|f| f.code == "KP601").map(inside).collect();
    assert_eq!(placed.len(), 101);
    assert!(placed[..100].iter().all(|p| *p), "{placed:?}");
    assert!(!placed[100], "{placed:?}");
}

/// Runs `test` on a context whose memos are its own (the process's are
/// filled by the other tests), once it is shown that contexts share them.
fn with_own_memos(test: impl FnOnce(&crate::check::Context)) {
    use std::sync::Arc;
    let loaded = crate::model::Loaded::default();
    let config = crate::check::config::Config::default();
    let manifests = crate::model::Manifests::new(&loaded);
    let schemas = crate::model::schema::Schemas::shared(config.minor());
    let new = |minor| crate::check::Context::new(&manifests, &schemas, minor, &config);
    let (one, other) = (new(config.minor()), new(30));
    assert!(Arc::ptr_eq(&one.promql, &other.promql) && Arc::ptr_eq(&one.dashboards, &other.dashboards));
    assert!(Arc::ptr_eq(&one.rule_files, &other.rule_files));
    let mut cx = new(config.minor());
    (cx.promql, cx.dashboards, cx.rule_files) = (Arc::default(), Arc::default(), Arc::default());
    test(&cx);
}

#[test]
fn an_expression_is_parsed_once_while_the_memo_has_room() {
    use super::{PromqlMemo, parsed};
    use std::sync::Arc;
    with_own_memos(|cx| {
        let first = parsed(cx, "rate(a_total[5m])");
        assert!(matches!(first.as_ref(), Some(Ok(_))));
        assert!(Arc::ptr_eq(&first, &parsed(cx, "rate(a_total[5m])")), "parsed again");
        let broken = parsed(cx, "rate(a_total[5m]");
        assert!(matches!(broken.as_ref(), Some(Err(_))));
        assert!(Arc::ptr_eq(&broken, &parsed(cx, "rate(a_total[5m]")));
        // Past the memo's room an expression is parsed each time, the same.
        let long = format!("a_total{{x=\"{}\"}}", "y".repeat(PromqlMemo::MAX_TEXT));
        let (one, two) = (parsed(cx, &long), parsed(cx, &long));
        assert!(!Arc::ptr_eq(&one, &two), "kept past the memo's room");
        assert_eq!(format!("{one:?}"), format!("{two:?}"));
        assert!(Arc::ptr_eq(&first, &parsed(cx, "rate(a_total[5m])")));
    });
}

#[test]
fn a_dashboard_is_read_once_while_the_memo_has_room() {
    use super::{DashboardMemo, DashboardText};
    use std::sync::Arc;
    with_own_memos(|cx| {
        let text =
            r#"{"panels": [{"title": "Errors", "targets": [{"refId": "A", "expr": "rate(errors_total[5m])"}]}]}"#;
        let d = |text| DashboardText { object: 0, ptr: "/data/d.json".into(), key: "d.json", text };
        let first = d(text).read(cx);
        let queries = first.as_ref().as_ref().expect("read");
        assert_eq!(queries.iter().map(|q| q.label.as_str()).collect::<Vec<_>>(), ["panel \"Errors\", query A"]);
        assert!(Arc::ptr_eq(&first, &d(text).read(cx)), "read again");
        let not_object = d("[1]").read(cx);
        assert_eq!(not_object.as_ref().as_ref().err().map(String::as_str), Some("is JSON but not an object"));
        let broken = d("{").read(cx);
        assert!(broken.as_ref().as_ref().is_err_and(|e| e.starts_with("is not valid JSON: EOF")), "{broken:?}");
        // Past the memo's room a dashboard is read each time, the same.
        let long = format!(r#"{{"title": "{}", "panels": []}}"#, "y".repeat(DashboardMemo::MAX_TEXT));
        let (one, two) = (d(&long).read(cx), d(&long).read(cx));
        assert!(!Arc::ptr_eq(&one, &two), "kept past the memo's room");
        assert_eq!(format!("{one:?}"), format!("{two:?}"));
        assert!(Arc::ptr_eq(&first, &d(text).read(cx)));
    });
}

#[test]
fn a_rule_file_is_read_once_while_the_memo_has_room() {
    use super::{RuleFileMemo, rule_file};
    use std::sync::Arc;
    with_own_memos(|cx| {
        let text = "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n";
        let first = rule_file(cx, text);
        let groups = first.as_ref().as_ref().and_then(|f| f.get("groups")).and_then(crate::model::Value::as_array);
        assert_eq!(groups.map(|g| g.len()), Some(1), "{first:?}");
        assert!(Arc::ptr_eq(&first, &rule_file(cx, text)), "read again");
        let broken = rule_file(cx, "groups: [");
        assert!(broken.is_none());
        assert!(Arc::ptr_eq(&broken, &rule_file(cx, "groups: [")));
        // Past the memo's room a file is read each time, the same.
        let long = format!("groups: []\n# {}\n", "y".repeat(RuleFileMemo::MAX_TEXT));
        let (one, two) = (rule_file(cx, &long), rule_file(cx, &long));
        assert!(!Arc::ptr_eq(&one, &two), "kept past the memo's room");
        assert_eq!(one, two);
        assert!(Arc::ptr_eq(&first, &rule_file(cx, text)));
    });
}
