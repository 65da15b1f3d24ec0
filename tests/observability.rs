//! The generated monitoring files, proven by the real tools: `promtool check
//! rules` and `promtool test rules` (each alert fires above its threshold and
//! stays silent below it) on every rule file of every example, `amtool
//! check-config`, and `amtool config routes test` showing that each severity
//! reaches exactly the receivers the description names.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::*;

fn have_promtool() -> bool {
    tool_available("promtool", &["--version"])
}

fn have_amtool() -> bool {
    tool_available("amtool", &["--version"])
}

fn run(dir: &Path, tool: &str, args: &[&str]) -> Result<String, String> {
    let o = Command::new(tool).args(args).current_dir(dir).output().map_err(|e| format!("cannot run {tool}: {e}"))?;
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    if o.status.success() { Ok(out) } else { Err(format!("{tool} {} in {}:\n{out}", args.join(" "), dir.display())) }
}

/// `monitoring/` and each `monitoring/ENV/` that holds rules.
fn rule_dirs(out: &Path) -> Vec<std::path::PathBuf> {
    let root = out.join("monitoring");
    let mut dirs = vec![root.clone()];
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            if e.path().join("rules.yaml").is_file() {
                dirs.push(e.path());
            }
        }
    }
    dirs.sort();
    dirs
}

#[test]
fn every_rule_file_passes_promtool_check_and_its_unit_tests() {
    if !have_promtool() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut dirs = Vec::new();
    for ex in examples() {
        let out = tmp.path().join(stem(&ex));
        gen_ok(&ex, &out);
        dirs.extend(rule_dirs(&out));
    }
    let files = dirs.len();
    // `promtool test rules` evaluates every rule at every step of every
    // test group: the slowest check of the suite, so each file runs on its
    // own thread (the machine's cores, not the test harness's, are the limit).
    let results: Vec<Failures> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs.iter().map(|dir| s.spawn(move || promtool_rule_file(dir))).collect();
        handles.into_iter().map(|h| h.join().expect("promtool thread")).collect()
    });
    let mut failures = Failures::default();
    for f in results {
        failures.extend(f);
    }
    assert!(files >= 5, "expected a rule file per example");
    failures.assert_none("promtool");
}

/// `promtool check rules` and `promtool test rules` on one generated rule
/// directory, with a firing and a silent test for each alert.
fn promtool_rule_file(dir: &Path) -> Failures {
    let mut failures = Failures::default();
    failures.check(
        format!("{}: promtool check rules", dir.display()),
        run(dir, "promtool", &["check", "rules", "rules.yaml"]).map(|_| ()),
    );
    // The slow burns' tests, evaluated every 10m, are in a file of their own.
    let files: Vec<&str> =
        ["rules.test.yaml", "rules.long.test.yaml"].into_iter().filter(|f| dir.join(f).exists()).collect();
    let tests: Vec<String> =
        files.iter().map(|f| std::fs::read_to_string(dir.join(f)).expect("a promtool test file")).collect();
    let rules = std::fs::read_to_string(dir.join("rules.yaml")).expect("rules.yaml");
    for problem in untested(&rules, &tests) {
        failures.add(dir.display(), problem);
    }
    let mut args = vec!["test", "rules"];
    args.extend(&files);
    failures.check(format!("{}: promtool test rules", dir.display()), run(dir, "promtool", &args).map(|_| ()));
    failures
}

/// The alert rules of `rules` (a `groups:` file) that no test of `tests`
/// (promtool's test files) expects to fire, or evaluates without expecting
/// it: a rule is identified by its name and labels (its `service`), found in
/// the labels of an expected alert.
fn untested(rules: &str, tests: &[String]) -> Vec<String> {
    let rules = match parse_docs(rules) {
        Ok(r) => r,
        Err(e) => return vec![format!("rules.yaml: {e:?}")],
    };
    let mut files = Vec::new();
    for t in tests {
        match parse_docs(t) {
            Ok(t) => files.extend(t),
            Err(e) => return vec![format!("a test file: {e:?}")],
        }
    }
    let cases: Vec<&serde_json::Value> = files
        .iter()
        .flat_map(|f| f["tests"].as_array().into_iter().flatten())
        .flat_map(|t| t["alert_rule_test"].as_array().into_iter().flatten())
        .collect();
    let mut out = Vec::new();
    let all =
        rules[0]["groups"].as_array().into_iter().flatten().flat_map(|g| g["rules"].as_array().into_iter().flatten());
    for rule in all.filter(|r| r["alert"].is_string()) {
        let labels = rule["labels"].as_object().cloned().unwrap_or_default();
        let expects = |case: &serde_json::Value| {
            case["exp_alerts"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| labels.iter().all(|(k, v)| &e["exp_labels"][k] == v))
        };
        let of_rule: Vec<&&serde_json::Value> = cases.iter().filter(|c| c["alertname"] == rule["alert"]).collect();
        let who = format!("{} {}", rule["alert"].as_str().unwrap_or_default(), rule["labels"]);
        if !of_rule.iter().any(|c| expects(c)) {
            out.push(format!("{who}: no test where it fires"));
        }
        if !of_rule.iter().any(|c| !expects(c)) {
            out.push(format!("{who}: no test where it stays silent"));
        }
    }
    out
}

#[test]
fn an_alert_without_a_firing_or_a_silent_test_is_found() {
    let rules = "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    labels: { service: api }\n  - alert: Down\n    expr: up == 0\n    labels: { service: web }\n";
    let case =
        |exp: &str| format!("  - alert_rule_test:\n    - {{ eval_time: 5m, alertname: Down, exp_alerts: [{exp}] }}\n");
    let api = "{ exp_labels: { service: api, job: api } }";
    let web = "{ exp_labels: { service: web } }";
    let both = format!("tests:\n{}{}{}", case(api), case(web), case(""));
    assert_eq!(untested(rules, &[both]), Vec::<String>::new());
    let no_web = format!("tests:\n{}{}", case(api), case(""));
    assert_eq!(untested(rules, std::slice::from_ref(&no_web)), [r#"Down {"service":"web"}: no test where it fires"#]);
    // A second file (the slow burns') counts too.
    assert_eq!(untested(rules, &[no_web, format!("tests:\n{}", case(web))]), Vec::<String>::new());
    // Always expected to fire: never shown silent.
    let always = format!("tests:\n{}", case(&format!("{api}, {web}")));
    assert_eq!(untested(rules, &[always]).len(), 2);
}

/// Receivers `amtool config routes test` reports for `severity`.
fn routed(config: &Path, severity: &str) -> Result<Vec<String>, String> {
    let file = format!("--config.file={}", config.display());
    let dir = config.parent().unwrap_or(Path::new("."));
    let out = run(dir, "amtool", &["config", "routes", "test", &file, &format!("severity={severity}"), "service=any"])?;
    let line = out.lines().find(|l| !l.starts_with("Warning") && !l.trim().is_empty()).unwrap_or("");
    Ok(line.trim().split(',').map(str::to_string).collect())
}

#[test]
fn alertmanager_config_checks_and_routes_each_severity_to_the_named_receivers() {
    if !have_amtool() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut failures = Failures::default();
    let mut checked = 0;
    for ex in examples() {
        let platform = kubeproof::description::load(&ex).expect("example loads");
        let Some(alerts) = &platform.alerts else { continue };
        let out = tmp.path().join(stem(&ex));
        gen_ok(&ex, &out);
        let config = out.join("monitoring/alertmanager.yml");
        failures.check(
            format!("{}: amtool check-config", config.display()),
            run(&out, "amtool", &["check-config", &config.to_string_lossy()]).map(|_| ()),
        );
        for (severity, list) in [("critical", &alerts.critical), ("warning", &alerts.warning), ("info", &alerts.info)] {
            let Some(list) = list else { continue };
            let want: Vec<String> = list.iter().map(|n| n.to_string()).collect();
            match routed(&config, severity) {
                Ok(got) if got == want => checked += 1,
                Ok(got) => {
                    failures.add(format!("{} {severity}", stem(&ex)), format!("routed to {got:?}, want {want:?}"))
                }
                Err(e) => failures.add(format!("{} {severity}", stem(&ex)), e),
            }
        }
        let text = std::fs::read_to_string(&config).expect("alertmanager.yml");
        // Credentials come from files; inhibition mutes warnings under a critical.
        for needle in ["_file: /etc/alertmanager/secrets/", "inhibit_rules", "equal:"] {
            if list_needed(alerts, needle) && !text.contains(needle) {
                failures.add(stem(&ex), format!("alertmanager.yml lacks `{needle}`"));
            }
        }
        if text.contains("hooks.slack.com") || text.contains("routing_key:") || text.contains("auth_password:") {
            failures.add(stem(&ex), "a credential is inlined in alertmanager.yml");
        }
    }
    assert!(checked >= 6, "expected the severities of fingerprint-api and machine-native-ops to be checked");
    failures.assert_none("amtool");
}

fn list_needed(alerts: &kubeproof::description::PlatformAlerts, needle: &str) -> bool {
    needle != "_file: /etc/alertmanager/secrets/"
        || alerts.critical.iter().chain(&alerts.warning).chain(&alerts.info).flatten().any(|n| n.as_str() != "webhook")
}

/// PLATFORMS.md's thresholds are in the generated rules.
#[test]
fn the_examples_carry_their_alerts_and_thresholds() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cases: &[(&str, &[(&str, &str)])] = &[
        (
            "fingerprint-api",
            &[
                ("ServiceDown", "\"severity\":\"critical\""),
                ("HighErrorRatio", "> 0.05"),
                (
                    "HighLatencyP99",
                    "service:request_duration_seconds:p99{job=\"fingerprint-api\",namespace=\"fingerprint\"} > 1",
                ),
                ("CrashLooping", "[1h])) > 5"),
                ("HighCpuUsage", "> 0.8"),
                ("MemoryNearLimit", "> 0.85"),
                ("ModelLoadingFailure", "increase(model_load_failures_total{"),
                ("QueueLatencyP99High", "histogram_quantile(0.99"),
                ("MemoryAboveThreshold", "> 1073741824"),
                ("VolumeFillingUp", "> 0.85"),
                ("service:model_inference_duration_seconds:p99", "model_inference_duration_seconds_bucket"),
                ("service:requests:rate5m", "http_requests_total"),
                ("service:request_errors:ratio_rate5m", "status=~\"5..\""),
                ("service:request_duration_seconds:p50", "histogram_quantile(0.5"),
            ],
        ),
        (
            "machine-native-ops",
            &[
                ("HighErrorRatio", "> 0.05"),
                ("HighLatencyP95", "> 1"),
                ("MemoryNearLimit", "> 0.9"),
                ("HighCpuUsage", "> 0.9"),
                ("CrashLooping", "[1h])) > 5"),
                ("ReplicasUnavailable", "kube_deployment_status_replicas_unavailable"),
                ("NodeDiskLow", "< 0.1"),
                ("NodeMemoryHigh", "> 0.9"),
                ("ErrorBudgetBurn", "(14.4 * 0.0001)"),
                ("ErrorBudgetBurnSlow", "(3 * 0.0001)"),
                // PLATFORMS.md: backup failed / backup too old.
                (
                    "BackupFailed",
                    "kube_job_failed{namespace=\"machine-native-ops\",job_name=~\"postgres-backup-[0-9]+\"",
                ),
                ("BackupTooOld", "cronjob=\"postgres-backup\"}) > 28800"),
            ],
        ),
    ];
    let mut failures = Failures::default();
    for (name, expected) in cases {
        let ex = repo().join(format!("examples/{name}.yaml"));
        let out = tmp.path().join(name);
        gen_ok(&ex, &out);
        let rules = std::fs::read_to_string(out.join("monitoring/rules.yaml")).expect("rules.yaml");
        let docs = parse_docs(&rules).expect("rules.yaml parses");
        let all: Vec<&serde_json::Value> = docs[0]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|g| g["rules"].as_array().into_iter().flatten())
            .collect();
        for (rule, needle) in *expected {
            let found = all.iter().find(|r| r["alert"].as_str() == Some(rule) || r["record"].as_str() == Some(rule));
            match found {
                None => failures.add(name, format!("no rule `{rule}`")),
                Some(r) => {
                    let text = serde_json::to_string(r).unwrap_or_default().replace("\\\"", "\"");
                    if !text.contains(needle) {
                        failures.add(name, format!("`{rule}` lacks `{needle}`: {text}"));
                    }
                    if r["alert"].is_string() {
                        let url = r["annotations"]["runbook_url"].as_str().unwrap_or("");
                        let anchor = url.rsplit('#').next().unwrap_or("");
                        let runbook = std::fs::read_to_string(out.join("RUNBOOK.md")).unwrap_or_default();
                        if !runbook.contains(&format!("\n## {rule}\n")) || anchor != rule.to_ascii_lowercase() {
                            failures.add(name, format!("`{rule}`: runbook_url {url} has no RUNBOOK.md section"));
                        }
                    }
                }
            }
        }
    }
    failures.assert_none("thresholds");
}

/// Every backup CronJob (machine-native-ops: PostgreSQL every 4h, Redis every
/// 30 min; health-platform and kailash too) has a BackupFailed and a
/// BackupTooOld alert, too old meaning no success for 2 × `backup.every`, a
/// firing and a silent unit test each, and runbook sections that lead to the
/// datastore's restore procedure.
/// Whom the unit tests of `alert` in `tests` (a `rules.test.yaml`) show it
/// firing for, and staying silent for, read from their names: "A fires for
/// x above its threshold", "A stays silent for x below …", "A fires for x, z
/// and stays silent for y" (alerts of one name tested together).
fn tested_for(tests: &serde_json::Value, alert: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut fires, mut silent) = (BTreeSet::new(), BTreeSet::new());
    let names = tests["tests"].as_array().into_iter().flatten().filter_map(|t| t["name"].as_str());
    for rest in names.filter_map(|n| n.strip_prefix(alert)?.strip_prefix(' ')) {
        let (fire, quiet) = match rest.split_once(" and stays silent for ") {
            Some((f, q)) => (f.strip_prefix("fires for "), Some(q)),
            None => match rest.strip_prefix("fires for ") {
                Some(f) => (f.split(" above ").next(), None),
                None => (None, rest.strip_prefix("stays silent for ").and_then(|q| q.split(' ').next())),
            },
        };
        let who = |list: &str| list.split(", ").map(String::from).collect::<Vec<_>>();
        fires.extend(fire.map(who).unwrap_or_default());
        silent.extend(quiet.map(who).unwrap_or_default());
    }
    (fires, silent)
}

#[test]
fn tested_for_reads_tests_alone_and_together() {
    let tests = serde_json::json!({ "tests": [
        { "name": "B fires for a above its threshold" },
        { "name": "B stays silent for a below its threshold" },
        { "name": "B fires for x, z and stays silent for y" },
        { "name": "B fires for y and stays silent for x, z" },
        { "name": "BB fires for q above its threshold" },
    ]});
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(tested_for(&tests, "B"), (set(&["a", "x", "y", "z"]), set(&["a", "x", "y", "z"])));
    assert_eq!(tested_for(&tests, "BB"), (set(&["q"]), set(&[])));
}

#[test]
fn backup_cronjobs_have_failure_and_staleness_alerts() {
    let mut failures = Failures::default();
    let mut per_example = std::collections::BTreeMap::new();
    for ex in examples() {
        let name = stem(&ex);
        let platform = kubeproof::description::load(&ex).expect("example loads");
        let built = kubeproof::build::build(&platform, &ex).expect("example generates");
        let runbook = built.tree.get(Path::new("RUNBOOK.md")).map(String::from_utf8_lossy).unwrap_or_default();
        let mut n = 0;
        for (env, stack) in &built.envs {
            let Some(m) = &stack.monitoring else { continue };
            let rules = serde_json::to_string(&m.rules).unwrap_or_default().replace("\\\"", "\"");
            for (ds, d) in &platform.datastores {
                let cronjob = format!("{ds}-backup");
                if !stack.objects.iter().any(|o| o.kind == "CronJob" && o.name == cronjob) {
                    continue;
                }
                n += 1;
                let every = d.backup.as_ref().map_or(0, |b| b.every.value.get());
                let at = format!("{name}/{env} {cronjob}");
                for needle in [
                    format!("job_name=~\"{cronjob}-[0-9]+\",condition=\"true\"}}) > 0"),
                    format!("cronjob=\"{cronjob}\"}}) > {}", 2 * every),
                ] {
                    if !rules.contains(&needle) {
                        failures.add(&at, format!("no rule with `{needle}`"));
                    }
                }
                for alert in ["BackupFailed", "BackupTooOld"] {
                    let (fires, silent) = tested_for(&m.tests, alert);
                    if !fires.contains(&cronjob) {
                        failures.add(&at, format!("no unit test where {alert} fires for {cronjob}"));
                    }
                    if !silent.contains(&cronjob) {
                        failures.add(&at, format!("no unit test where {alert} stays silent for {cronjob}"));
                    }
                }
                let restore = format!("[Restore {ds}](#restore-{ds})");
                for section in ["BackupFailed", "BackupTooOld"] {
                    let body = runbook.split(&format!("\n## {section}\n")).nth(1).unwrap_or("");
                    let body = body.split("\n## ").next().unwrap_or("");
                    if !body.contains(&format!("`{cronjob}`")) || !body.contains(&restore) {
                        failures.add(&at, format!("RUNBOOK.md `{section}` does not lead to {restore}"));
                    }
                }
                if !runbook.contains(&format!("\n## Restore {ds}\n")) {
                    failures.add(&at, format!("RUNBOOK.md has no `## Restore {ds}`"));
                }
            }
        }
        per_example.insert(name, n);
    }
    failures.assert_none("backup alerts");
    // PLATFORMS.md platform 3 lists "backup failed / backup too old".
    assert_eq!(per_example.get("machine-native-ops"), Some(&2), "{per_example:?}");
    for ex in ["health-platform", "kailash"] {
        assert!(per_example.get(ex).is_some_and(|n| *n > 0), "{ex} has backup CronJobs: {per_example:?}");
    }
}

/// Issue 19: the generated SLO tests hold for another period and a traffic
/// guard above the tests' default traffic, not only the examples' 30 days:
/// 7 days (page factors 3.36 and 1.4, so the silent input must stay under
/// the second) and 40 requests/s. (One variant: each costs some 20s of
/// promtool, the ticket's tests evaluating a day minute by minute.)
#[test]
fn slo_tests_hold_for_other_periods_and_guards() {
    if !have_promtool() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let dirs: Vec<std::path::PathBuf> = [("7d", ", minRate: 40")]
        .iter()
        .map(|(period, guard)| {
            let text = format!(
                "apiVersion: kubeproof.dev/v1alpha1\nname: p{period}\ncluster: {{ kubernetes: \"1.30\" }}\nservices:\n  api:\n    image: ghcr.io/example/api:1.0.0\n    port: 8080\n    probes: {{ live: /healthz, ready: /ready }}\n    metrics: /metrics\n    slo: {{ availability: \"99.95\", latency: {{ under: 250ms, target: \"99.5\" }}, period: {period}{guard} }}\n"
            );
            let path = tmp.path().join(format!("{period}.yaml"));
            std::fs::write(&path, text).expect("write");
            let out = tmp.path().join(period);
            gen_ok(&path, &out);
            let text = std::fs::read_to_string(out.join("monitoring/rules.yaml")).expect("rules");
            let rules = parse_docs(&text).expect("rules parse");
            let page = rules[0]["groups"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|g| g["rules"].as_array().into_iter().flatten())
                .find(|r| r["alert"] == "ErrorBudgetBurn")
                .and_then(|r| r["expr"].as_str().map(str::to_string))
                .expect("a page");
            for factor in ["(3.36 * 0.0005)", "(1.4 * 0.0005)", ">= 40)"] {
                assert!(page.contains(factor), "{period}: no {factor} in {page}");
            }
            out.join("monitoring")
        })
        .collect();
    let results: Vec<Failures> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs.iter().map(|dir| s.spawn(move || promtool_rule_file(dir))).collect();
        handles.into_iter().map(|h| h.join().expect("promtool thread")).collect()
    });
    let mut failures = Failures::default();
    for f in results {
        failures.extend(f);
    }
    failures.assert_none("promtool");
}
