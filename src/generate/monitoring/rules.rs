//! The rule groups as Prometheus reads them (`rules.yaml`, also the
//! PrometheusRule's spec) and their promtool unit tests (`rules.test.yaml`):
//! each alert fires above its threshold and stays silent below it.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::RULES_FILE;
use super::alert::{Alert, Group, Series, dur, series};

/// GitHub's anchor for a `## title` heading.
pub fn anchor(title: &str) -> String {
    title
        .chars()
        .filter_map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' => Some(c.to_ascii_lowercase()),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

/// The `groups:` document; alerts link to their runbook section under `base`.
pub(super) fn rules(groups: &[Group], base: &str) -> Value {
    json!({ "groups": groups.iter().map(|g| group_json(g, base)).collect::<Vec<_>>() })
}

/// The promtool test file: two tests per alert, in the order of the rules.
pub(super) fn tests(groups: &[Group], base: &str) -> Value {
    let mut tests = Vec::new();
    let all: Vec<&Alert> = groups.iter().flat_map(|g| &g.alerts).collect();
    for (i, a) in all.iter().enumerate() {
        // Other rules of the same name see healthy data, so that only this
        // one can fire (`absent()` would fire for every service without data).
        let others: Vec<&Series> = all
            .iter()
            .enumerate()
            .filter(|(j, b)| *j != i && b.name == a.name)
            .flat_map(|(_, b)| &b.test.quiet)
            .collect();
        tests.extend(tests_of(a, base, &others));
    }
    json!({
        "rule_files": [RULES_FILE],
        "evaluation_interval": "1m",
        "tests": tests,
    })
}

fn annotations(a: &Alert, base: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("summary".to_string(), a.summary.clone()),
        ("description".to_string(), a.description.clone()),
        ("runbook_url".to_string(), format!("{base}#{}", anchor(&a.name))),
    ])
}

fn group_json(g: &Group, base: &str) -> Value {
    let mut rules: Vec<Value> =
        g.records.iter().map(|(r, e)| json!({ "record": r, "expr": e, "labels": g.record_labels })).collect();
    for a in &g.alerts {
        let mut m = Map::new();
        m.insert("alert".into(), Value::from(a.name.clone()));
        m.insert("expr".into(), Value::from(a.expr.clone()));
        if a.for_seconds > 0 {
            m.insert("for".into(), Value::from(dur(a.for_seconds)));
        }
        m.insert("labels".into(), json!(a.labels));
        m.insert("annotations".into(), json!(annotations(a, base)));
        rules.push(Value::Object(m));
    }
    json!({ "name": g.name, "rules": rules })
}

/// `{{ $labels.x }}` as Prometheus renders it for the labels `l`.
fn render(text: &str, l: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (k, v) in l {
        out = out.replace(&format!("{{{{ $labels.{k} }}}}"), v);
    }
    out
}

fn tests_of(a: &Alert, base: &str, others: &[&Series]) -> Vec<Value> {
    let t = &a.test;
    let mut labels = t.out.clone();
    labels.extend(a.labels.clone());
    let ann: BTreeMap<String, String> =
        annotations(a, base).into_iter().map(|(k, v)| (k, render(&v, &labels))).collect();
    let input = |s: &[Series]| -> Vec<Value> {
        let mut seen = BTreeSet::new();
        s.iter()
            .chain(others.iter().copied())
            .filter(|(k, _)| seen.insert(k.clone()))
            .map(|(k, v)| json!({ "series": k, "values": v }))
            .collect()
    };
    let who = a.labels.get("service").map_or_else(|| series("", &t.out), |s| s.clone());
    vec![
        json!({
            "name": format!("{} fires for {who} above its threshold", a.name),
            "interval": dur(t.interval),
            "input_series": input(&t.fire),
            "alert_rule_test": [{
                "eval_time": dur(t.at),
                "alertname": a.name,
                "exp_alerts": [{ "exp_labels": labels, "exp_annotations": ann }],
            }],
        }),
        json!({
            "name": format!("{} stays silent for {who} below its threshold", a.name),
            "interval": dur(t.interval),
            "input_series": input(&t.quiet),
            "alert_rule_test": [{ "eval_time": dur(t.at), "alertname": a.name, "exp_alerts": [] }],
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::alert::{Test, lbl};
    use super::*;
    use crate::description::alerts::Severity;

    fn alert(name: &str, service: &str, fire: &str, quiet: &str) -> Alert {
        Alert {
            name: name.into(),
            expr: "up == 0".into(),
            for_seconds: 300,
            severity: Severity::Critical,
            labels: lbl(&[("severity", "critical"), ("service", service)]),
            summary: format!("{service} is down"),
            description: "pod {{ $labels.pod }} is down".into(),
            runbook: ["", "", ""],
            scope: String::new(),
            test: Test {
                interval: 60,
                fire: vec![(fire.into(), "0x10".into())],
                quiet: vec![(quiet.into(), "1x10".into())],
                at: 300,
                out: lbl(&[("pod", "api-0")]),
            },
        }
    }

    #[test]
    fn anchors_are_githubs() {
        assert_eq!(anchor("HighLatencyP99"), "highlatencyp99");
        assert_eq!(anchor("Restore health-data"), "restore-health-data");
        assert_eq!(anchor("A (b): c_d"), "a-b-c_d");
    }

    #[test]
    fn alert_rules_carry_for_labels_and_a_runbook_link() {
        let mut quick = alert("ServiceDown", "api", "up{job=\"api\"}", "up{job=\"api\"}");
        quick.for_seconds = 0;
        let g = Group {
            name: "api.rules".into(),
            alerts: vec![alert("ServiceDown", "api", "a", "a"), quick],
            ..Group::default()
        };
        let doc = rules(&[g], "https://wiki/RUNBOOK.md");
        let rule = &doc["groups"][0]["rules"][0];
        assert_eq!(rule["alert"], "ServiceDown");
        assert_eq!(rule["for"], "5m");
        assert_eq!(rule["labels"]["severity"], "critical");
        assert_eq!(rule["annotations"]["runbook_url"], "https://wiki/RUNBOOK.md#servicedown");
        // No `for` at all when the alert fires at once.
        assert!(doc["groups"][0]["rules"][1].get("for").is_none());
    }

    #[test]
    fn recording_rules_come_first_with_the_group_labels() {
        let mut g =
            Group { name: "api.rules".into(), alerts: vec![alert("ServiceDown", "api", "a", "a")], ..Group::default() };
        g.records.push(("service:x:rate5m".into(), "sum(rate(x[5m]))".into()));
        g.record_labels = lbl(&[("service", "api")]);
        let doc = rules(&[g], "RUNBOOK.md");
        assert_eq!(doc["groups"][0]["rules"][0]["record"], "service:x:rate5m");
        assert_eq!(doc["groups"][0]["rules"][0]["labels"]["service"], "api");
        assert_eq!(doc["groups"][0]["rules"][1]["alert"], "ServiceDown");
    }

    #[test]
    fn each_alert_gets_a_firing_and_a_silent_test_with_rendered_annotations() {
        let g = Group {
            name: "api.rules".into(),
            alerts: vec![alert("ServiceDown", "api", "up{job=\"api\"}", "up{job=\"api\"}")],
            ..Group::default()
        };
        let doc = tests(&[g], "RUNBOOK.md");
        assert_eq!(doc["rule_files"][0], RULES_FILE);
        let [fire, quiet] = [&doc["tests"][0], &doc["tests"][1]];
        assert_eq!(fire["name"], "ServiceDown fires for api above its threshold");
        assert_eq!(fire["alert_rule_test"][0]["eval_time"], "5m");
        let exp = &fire["alert_rule_test"][0]["exp_alerts"][0];
        assert_eq!(exp["exp_labels"]["pod"], "api-0");
        assert_eq!(exp["exp_labels"]["service"], "api");
        assert_eq!(exp["exp_annotations"]["description"], "pod api-0 is down");
        assert_eq!(quiet["input_series"][0]["values"], "1x10");
        assert_eq!(quiet["alert_rule_test"][0]["exp_alerts"], json!([]));
    }

    #[test]
    fn other_rules_of_the_same_name_see_their_healthy_series() {
        let a = alert("ServiceDown", "api", "up{job=\"api\"}", "up{job=\"api\"}");
        let b = alert("ServiceDown", "web", "up{job=\"web\"}", "up{job=\"web\"}");
        let doc = tests(&[Group { name: "g".into(), alerts: vec![a, b], ..Group::default() }], "RUNBOOK.md");
        let fire_api = &doc["tests"][0]["input_series"];
        assert_eq!(fire_api[0], json!({ "series": "up{job=\"api\"}", "values": "0x10" }));
        assert_eq!(fire_api[1], json!({ "series": "up{job=\"web\"}", "values": "1x10" }));
        assert_eq!(fire_api.as_array().map(Vec::len), Some(2));
    }
}
