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

mod common;

use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const EXAMPLE: &str = "polyglot-shop";

/// The generated rules of the example without annotations, as YAML (JSON is
/// YAML) next to the hand-written scenarios, in `dir`.
fn prepare(dir: &Path) -> Value {
    let out = dir.join("out");
    gen_ok(&repo().join(format!("examples/{EXAMPLE}.yaml")), &out);
    let text = std::fs::read_to_string(out.join("monitoring/rules.yaml")).expect("generated rules");
    let mut rules: Value = serde_saphyr::from_str(&text).expect("rules parse");
    for group in rules["groups"].as_array_mut().expect("groups") {
        for rule in group["rules"].as_array_mut().expect("rules") {
            rule.as_object_mut().expect("a rule").remove("annotations");
        }
    }
    let scenarios = repo().join(format!("tests/data/alerts/{EXAMPLE}.test.yaml"));
    std::fs::copy(&scenarios, dir.join("scenarios.yaml")).expect("copy scenarios");
    rules
}

/// `promtool test rules` of the scenarios against `rules`: Ok, or its output.
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
    if !tool_available("promtool", &["--version"]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let rules = prepare(tmp.path());
    if let Err(out) = promtool(tmp.path(), &rules) {
        panic!("{EXAMPLE}'s alerts do not behave as tests/data/alerts/{EXAMPLE}.test.yaml says:\n{out}");
    }
}

/// Mutants of the rules that a careless change could make; each must fail a
/// scenario, or the scenarios do not pin what they claim.
#[test]
fn a_dropped_for_or_a_threshold_moved_by_ten_percent_fails_a_scenario() {
    if !tool_available("promtool", &["--version"]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let rules = prepare(tmp.path());
    let families = ["ServiceDown", "ReplicasUnavailable", "CrashLooping", "HighCpuUsage", "MemoryNearLimit"];
    let mut mutants: Vec<(String, Value)> = Vec::new();
    for family in families.iter().chain(&["HpaAtMaximum", "VolumeFillingUp"]) {
        let mut m = rules.clone();
        for r in alerts(&mut m).filter(|r| r["alert"] == *family) {
            r.remove("for");
        }
        mutants.push((format!("{family} without `for:`"), m));
    }
    for (threshold, up, down) in [("> 0.9", "> 0.99", "> 0.81"), ("> 0.85", "> 0.935", "> 0.765"), ("> 5", "", "> 4.5")]
    {
        for to in [up, down].into_iter().filter(|t| !t.is_empty()) {
            let mut m = rules.clone();
            let mut changed = 0;
            for r in alerts(&mut m) {
                let expr = r["expr"].as_str().unwrap_or("").to_string();
                if let Some(head) = expr.trim_end().strip_suffix(threshold) {
                    r.insert("expr".into(), Value::String(format!("{head}{to}")));
                    changed += 1;
                }
            }
            assert!(changed > 0, "no rule ends with `{threshold}`: the mutation tests nothing");
            mutants.push((format!("`{threshold}` moved to `{to}`"), m));
        }
    }
    let survivors: Vec<&str> =
        mutants.iter().filter(|(_, m)| promtool(tmp.path(), m).is_ok()).map(|(name, _)| name.as_str()).collect();
    assert!(survivors.is_empty(), "mutants no scenario catches: {survivors:?}");
}
