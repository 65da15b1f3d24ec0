//! Alert behaviour written by hand, not by the generator (issue 21.1): the
//! scenarios in tests/data/alerts/ say when each alert of an example fires —
//! just above and just below its threshold, before and after `for:`, with the
//! series absent — and `promtool test rules` holds the generated rules to
//! them. The generated unit tests (`rules.test.yaml`) come from the same code
//! as the rules, so they cannot catch a wrong threshold; these can, and the
//! last test proves it by mutating the rules as a careless change would.
//!
//! Annotations are left out of the comparison (the generated tests pin
//! them): the scenarios are about when an alert fires and with what labels.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use serde_json::Value;

/// One example's hand-written scenarios and the mutants they must catch.
struct Case {
    example: &'static str,
    /// Alerts whose `for:` is dropped, one mutant each.
    with_for: &'static [&'static str],
    /// (the end of an expression, moved up, moved down): "" for no mutant.
    thresholds: &'static [(&'static str, &'static str, &'static str)],
    /// Alerts whose `or absent(…)` is dropped, one mutant each.
    with_absent: &'static [&'static str],
    /// (severity, the receivers the description names), for amtool.
    routes: &'static [(&'static str, &'static str)],
    /// (text, its replacement) in every alert expression holding it: one mutant each.
    replaced: &'static [(&'static str, &'static str)],
}

const CASES: &[Case] = &[
    Case {
        example: "polyglot-shop",
        with_for: &[
            "ServiceDown",
            "ReplicasUnavailable",
            "CrashLooping",
            "HighCpuUsage",
            "MemoryNearLimit",
            "HpaAtMaximum",
            "VolumeFillingUp",
        ],
        // Restarts are whole numbers: `> 5` moved up to `> 5.5` cannot be seen.
        thresholds: &[
            ("> 0.9", "> 0.99", "> 0.81"),
            ("> 0.85", "> 0.935", "> 0.765"),
            ("> 5", "", "> 4.5"),
            // A failed Job is 1, a succeeded one 0: nothing between to move up to.
            ("\"true\"}) > 0", "", "\"true\"}) > -1"),
        ],
        with_absent: &[],
        routes: &[],
        replaced: &[],
    },
    Case {
        example: "machine-native-ops",
        with_for: &[
            "ServiceDown",
            "HighErrorRatio",
            "HighLatencyP95",
            "DatastoreDown",
            "NodeDiskLow",
            "NodeMemoryHigh",
            "BackupTooOld",
        ],
        thresholds: &[
            ("> 0.05", "> 0.055", "> 0.045"),
            ("> 1", "> 1.1", "> 0.9"),
            ("< 0.1", "< 0.11", "< 0.09"),
            (") > 0.9", ") > 0.99", ") > 0.81"),
            ("> 28800", "> 31680", "> 25920"),
        ],
        with_absent: &["ServiceDown", "DatastoreDown"],
        // examples/machine-native-ops.yaml `alerts:`: critical pages PagerDuty and Slack, the rest Slack.
        routes: &[("critical", "pagerduty,slack"), ("warning", "slack"), ("info", "slack")],
        replaced: &[],
    },
    // Its objectives (issue 19): page and ticket per kind, the traffic guard,
    // SLOMetricAbsent, and the meta series' values; and its own alerts (P99
    // latency, a queue's P99, a failure counter, memory above a size).
    Case {
        example: "fingerprint-api",
        with_for: &[
            "ErrorBudgetBurn",
            "LatencyBudgetBurn",
            "SLOMetricAbsent",
            "HighLatencyP99",
            "QueueLatencyP99High",
            "ModelLoadingFailure",
            "MemoryAboveThreshold",
        ],
        // A failure counter moves in whole steps: `> 0` moved up cannot be seen.
        thresholds: &[
            ("} > 1", "} > 1.1", "} > 0.9"),
            ("))) > 5", "))) > 5.5", "))) > 4.5"),
            ("[15m])) > 0", "", "[15m])) > -1"),
            ("> 1073741824", "> 1181116006", "> 966367642"),
        ],
        with_absent: &[],
        routes: &[],
        // The page's factors moved by 10%, and the guard of 1 request/s
        // lowered below the low-traffic scenarios' 0.5/s.
        replaced: &[
            ("(14.4 * 0.001)", "(15.84 * 0.001)"),
            ("(14.4 * 0.001)", "(12.96 * 0.001)"),
            ("(6 * 0.001)", "(6.6 * 0.001)"),
            ("(6 * 0.001)", "(5.4 * 0.001)"),
            (">= 1)", ">= 0.4)"),
        ],
    },
];

/// The generated rules of `case`'s example without annotations, with its
/// hand-written scenarios beside them in `dir`; and the output folder.
fn prepare(case: &Case, dir: &Path) -> (Value, std::path::PathBuf) {
    let out = dir.join("out");
    gen_ok(&repo().join(format!("examples/{}.yaml", case.example)), &out);
    let text = std::fs::read_to_string(out.join("monitoring/rules.yaml")).expect("generated rules");
    let mut rules: Value = serde_saphyr::from_str(&text).expect("rules parse");
    for group in rules["groups"].as_array_mut().expect("groups") {
        for rule in group["rules"].as_array_mut().expect("rules") {
            rule.as_object_mut().expect("a rule").remove("annotations");
        }
    }
    let scenarios = repo().join(format!("tests/data/alerts/{}.test.yaml", case.example));
    let text = std::fs::read_to_string(&scenarios).expect("scenarios");
    std::fs::write(dir.join("scenarios.yaml"), with_job_names(&text, &out)).expect("write scenarios");
    (rules, out)
}

/// `$JOB(name)` in a scenario is the name `gen` gave the Job of `name`
/// (`name-<hash of its spec>`), read from the generated base.
fn with_job_names(text: &str, out: &Path) -> String {
    let mut result = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("$JOB(") {
        let end = start + rest[start..].find(')').expect("`$JOB(name)` is closed");
        let name = &rest[start + 5..end];
        let prefix = format!("job-{name}-");
        let found: Vec<String> = std::fs::read_dir(out.join("kustomize/base"))
            .expect("the generated base")
            .flat_map(|ns| std::fs::read_dir(ns.expect("entry").path()).into_iter().flatten())
            .filter_map(|f| f.ok()?.file_name().into_string().ok())
            .filter_map(|f| Some(f.strip_prefix(&prefix)?.strip_suffix(".yaml")?.to_string()))
            .collect();
        assert_eq!(found.len(), 1, "one generated Job for `{name}`: {found:?}");
        result.push_str(&rest[..start]);
        result.push_str(&format!("{name}-{}", found[0]));
        rest = &rest[end + 1..];
    }
    result.push_str(rest);
    result
}
/// `promtool test rules` of the scenarios in `dir` against `rules`: Ok, or its output.
fn promtool(dir: &Path, rules: &Value) -> Result<(), String> {
    std::fs::write(dir.join("rules.yaml"), serde_json::to_string_pretty(rules).expect("json")).expect("write rules");
    let o = Command::new("promtool").args(["test", "rules", "scenarios.yaml"]).current_dir(dir).output().expect("runs");
    if o.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
    }
}

/// Every alerting rule of `rules`, mutably.
fn alerts(rules: &mut Value) -> impl Iterator<Item = &mut serde_json::Map<String, Value>> {
    rules["groups"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array_mut().into_iter().flatten())
        .filter_map(Value::as_object_mut)
        .filter(|r| r.contains_key("alert"))
}

#[test]
fn the_generated_rules_behave_as_the_hand_written_scenarios_say() {
    if !tool_available("promtool", &["--version"]) || !tool_available("amtool", &["--version"]) {
        return;
    }
    for case in CASES {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (rules, out) = prepare(case, tmp.path());
        if let Err(found) = promtool(tmp.path(), &rules) {
            panic!("{0}'s alerts do not behave as tests/data/alerts/{0}.test.yaml says:\n{found}", case.example);
        }
        let config = out.join("monitoring/alertmanager.yml");
        for (severity, receivers) in case.routes {
            let o = Command::new("amtool")
                .args(["config", "routes", "test", "--config.file"])
                .arg(&config)
                .args([format!("severity={severity}"), "alertname=Any".into(), "service=ops-api".into()])
                .output()
                .expect("amtool runs");
            let got = String::from_utf8_lossy(&o.stdout);
            assert_eq!(got.trim(), *receivers, "{}: a {severity} alert goes to the wrong receivers", case.example);
        }
    }
}

/// Mutants of the rules that a careless change could make; each must fail a
/// scenario, or the scenarios do not pin what they claim.
#[test]
fn a_dropped_for_or_absent_or_a_threshold_moved_by_ten_percent_fails_a_scenario() {
    if !tool_available("promtool", &["--version"]) {
        return;
    }
    for case in CASES {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (rules, _) = prepare(case, tmp.path());
        let text = std::fs::read_to_string(tmp.path().join("scenarios.yaml")).expect("scenarios");
        let scenarios: Value = serde_saphyr::from_str(&text).expect("scenarios parse");
        let all = mutants(case, &rules);
        // promtool runs one mutant per core, each core in a folder of its
        // own, taking the next mutant when it is done (their times differ 40-fold).
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let next = AtomicUsize::new(0);
        let survivors: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..cores)
                .map(|n| {
                    let dir = tmp.path().join(format!("m{n}"));
                    std::fs::create_dir(&dir).expect("mutant folder");
                    let (scenarios, all, next) = (&scenarios, &all, &next);
                    s.spawn(move || {
                        let mut survived = Vec::new();
                        while let Some(m) = all.get(next.fetch_add(1, Ordering::Relaxed)) {
                            let only = for_alerts(scenarios, &m.alerts);
                            let yaml = serde_json::to_string_pretty(&only).expect("json");
                            std::fs::write(dir.join("scenarios.yaml"), yaml).expect("write scenarios");
                            if promtool(&dir, &m.rules).is_ok() {
                                survived.push(m.name.clone());
                            }
                        }
                        survived
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().expect("no panic")).collect::<Vec<String>>()
        });
        assert!(survivors.is_empty(), "{}: mutants no scenario catches: {survivors:?}", case.example);
    }
}

/// The scenarios that can see a change to `alerts`: promtool compares only
/// the alerts an `alert_rule_test` names, and an alert feeds no other rule,
/// so the other scenarios pass for any such mutant. Running only these
/// keeps the slow burn-rate scenarios (43 s a run) to the mutants of
/// burn-rate alerts. A scenario with `promql_expr_test` is always kept.
fn for_alerts(scenarios: &Value, alerts: &BTreeSet<String>) -> Value {
    let mut only = scenarios.clone();
    let tests = only["tests"].as_array_mut().expect("tests");
    tests.retain(|t| {
        t.get("promql_expr_test").is_some()
            || t["alert_rule_test"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a["alertname"].as_str().is_some_and(|n| alerts.contains(n)))
    });
    assert!(!tests.is_empty(), "no scenario names any of {alerts:?}");
    only
}

/// A mutant of the generated rules: what it changed, the rules, and the
/// alerts whose rule it changed.
struct Mutant {
    name: String,
    rules: Value,
    alerts: BTreeSet<String>,
}

fn mutants(case: &Case, rules: &Value) -> Vec<Mutant> {
    let mut out: Vec<Mutant> = Vec::new();
    // Applies `edit` to the expression of every alert it changes; the mutant must change one.
    let mut mutate = |name: String, edit: &dyn Fn(&str, &str) -> Option<String>| {
        let mut m = rules.clone();
        let mut changed = BTreeSet::new();
        for r in alerts(&mut m) {
            let (alert, expr) = (r["alert"].as_str().unwrap_or("").to_string(), r["expr"].as_str().unwrap_or(""));
            if let Some(new) = edit(&alert, expr.trim_end()) {
                r.insert("expr".into(), Value::String(new));
                changed.insert(alert);
            }
        }
        assert!(!changed.is_empty(), "{}: the mutant `{name}` changes nothing", case.example);
        out.push(Mutant { name, rules: m, alerts: changed });
    };
    for (threshold, up, down) in case.thresholds {
        for to in [up, down].into_iter().filter(|t| !t.is_empty()) {
            mutate(format!("`{threshold}` moved to `{to}`"), &|_, e| {
                e.strip_suffix(threshold).map(|h| format!("{h}{to}"))
            });
        }
    }
    for (from, to) in case.replaced {
        mutate(format!("`{from}` replaced by `{to}`"), &|_, e| e.contains(from).then(|| e.replace(from, to)));
    }
    for alert in case.with_absent {
        mutate(format!("{alert} without `or absent(…)`"), &|a, e| {
            (a == *alert).then(|| e.rsplit_once(" or absent(").map(|(h, _)| h.to_string())).flatten()
        });
    }
    for alert in case.with_for {
        let mut m = rules.clone();
        let found =
            alerts(&mut m).filter(|r| r["alert"] == *alert).map(|r| r.remove("for")).filter(Option::is_some).count();
        assert!(found > 0, "{}: {alert} has no `for:` to drop", case.example);
        out.push(Mutant {
            name: format!("{alert} without `for:`"),
            rules: m,
            alerts: BTreeSet::from([alert.to_string()]),
        });
    }
    out
}

/// Issue 19: the 99.99% example's runbook says what its budget means for
/// paging (the outage scenario in tests/data/alerts/machine-native-ops.test.yaml
/// shows the page about 3 minutes into a total outage).
#[test]
fn the_four_nines_runbook_says_a_page_comes_after_most_of_the_budget() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    gen_ok(&repo().join("examples/machine-native-ops.yaml"), &out);
    let runbook = std::fs::read_to_string(out.join("RUNBOOK.md")).expect("RUNBOOK.md");
    let start = runbook.find("\n## ErrorBudgetBurn\n").expect("a section for the page");
    let section = &runbook[start..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    for said in [
        "99.99% availability over 30d, budget 0.0001",
        "The budget is 4.3 minutes of total outage; in one, the page comes about 150s in",
        "when 58% of the budget is gone: at this objective a page reports a budget spent, it cannot save it",
    ] {
        assert!(section.contains(said), "the runbook does not say `{said}`:\n{section}");
    }
}
