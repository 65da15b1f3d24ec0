//! The rule groups as Prometheus reads them (`rules.yaml`, also the
//! PrometheusRule's spec) and their promtool unit tests (`rules.test.yaml`):
//! each alert fires above its threshold and stays silent below it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::RULES_FILE;
use super::alert::{Alert, Group, Series, dur, series};
use super::series::fires_without_data;

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

/// Tests whose input is sampled this seldom (in seconds) or less — the slow
/// burns, a day of samples every 10m — go to a file of their own that
/// promtool evaluates at this interval: it evaluates every rule at every
/// step, and 26h of steps of a minute took 20-40 s a test (a tenth with 10m).
pub const LONG_INTERVAL: u32 = 600;

/// The promtool test files, in the order of the rules: each alert fires on
/// its own input and stays silent on a healthy one. promtool evaluates every
/// rule at every step of every test, so a test per alert made the proof
/// quadratic in the number of services (health-platform: 140 tests, 91 s).
/// Alerts of one name evaluated alike (same interval and time, no series in
/// common) are therefore tested together in two [`joint_tests`], as are all
/// of a name when one fires without data (a test of one would see every
/// other fire unless it fed all their series). Any other alert gets a
/// firing and a silent test of its own, which also feed the healthy series
/// of one neighbour ([`neighbours`]), as do the extra silent cases every
/// alert keeps. The first file is evaluated every minute; the second, when
/// any test's input is sampled every [`LONG_INTERVAL`], holds those tests,
/// evaluated at that interval.
pub(super) fn tests(groups: &[Group], base: &str) -> (Value, Option<Value>) {
    let all: Vec<&Alert> = groups.iter().flat_map(|g| &g.alerts).collect();
    let neighbours = neighbours(&all);
    let without_data: BTreeSet<&str> =
        all.iter().filter(|a| fires_without_data(&a.expr)).map(|a| a.name.as_str()).collect();
    let (classes, class_of) = together(&all, &without_data);
    let (mut short, mut long) = (Vec::new(), Vec::new());
    for (i, a) in all.iter().enumerate() {
        let file = if a.test.interval >= LONG_INTERVAL { &mut long } else { &mut short };
        match class_of[i] {
            // The first of those tested together writes their tests.
            Some(c) if classes[c][0] == i => {
                let same: Vec<&Alert> = classes[c].iter().map(|&k| all[k]).collect();
                file.extend(joint_tests(&same, base));
            }
            Some(_) => {}
            None => file.extend(tests_of(a, base, neighbours[i])),
        }
        // One of a name that fires without data would see the others fire.
        if !without_data.contains(a.name.as_str()) {
            file.extend(also_quiet(a, neighbours[i]));
        }
    }
    let file = |interval: u32, tests: Vec<Value>| {
        json!({
            "rule_files": [RULES_FILE],
            "evaluation_interval": dur(interval),
            "tests": tests,
        })
    };
    (file(60, short), (!long.is_empty()).then(|| file(LONG_INTERVAL, long)))
}

/// The alerts tested together (indices into `all`, in the order of the
/// rules), and each alert's class among them (`None`: tested alone). All the
/// alerts of a name are, when one fires without data (its name is in
/// `without_data`); else those of a name with the same interval and
/// evaluation time, when there are several and no two feed the same series
/// (one input could not be both firing and healthy).
fn together(all: &[&Alert], without_data: &BTreeSet<&str>) -> (Vec<Vec<usize>>, Vec<Option<usize>>) {
    let candidates = grouped(all, |a| {
        let name = a.name.as_str();
        if without_data.contains(name) { (name, 0, 0) } else { (name, a.test.interval, a.test.at) }
    });
    let (mut classes, mut class_of) = (Vec::new(), vec![None; all.len()]);
    for same in candidates.into_iter().filter(|same| same.len() > 1) {
        let mut fed = BTreeSet::new();
        let disjoint = same.iter().all(|&i| {
            let own: BTreeSet<&str> =
                all[i].test.fire.iter().chain(&all[i].test.quiet).map(|(k, _)| k.as_str()).collect();
            own.into_iter().all(|k| fed.insert(k))
        });
        if disjoint {
            for &i in &same {
                class_of[i] = Some(classes.len());
            }
            classes.push(same);
        }
    }
    (classes, class_of)
}

/// For each alert, the next alert (cyclically) of the same name with the same
/// test interval and evaluation time, when there is another: its healthy
/// series in the alert's tests show that the alert fires for its own
/// service only, and is not diluted by another's healthy series.
fn neighbours<'a>(all: &[&'a Alert]) -> Vec<Option<&'a Alert>> {
    let mut out = vec![None; all.len()];
    for same in grouped(all, |a| (a.name.as_str(), a.test.interval, a.test.at)).iter().filter(|same| same.len() > 1) {
        for (k, &i) in same.iter().enumerate() {
            out[i] = Some(all[same[(k + 1) % same.len()]]);
        }
    }
    out
}

/// The indices of `all` grouped by `key`, each group in the order of the rules.
fn grouped<'a, K: Ord>(all: &[&'a Alert], key: impl Fn(&'a Alert) -> K) -> Vec<Vec<usize>> {
    let mut groups: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (i, a) in all.iter().enumerate() {
        groups.entry(key(a)).or_default().push(i);
    }
    groups.into_values().collect()
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

/// Who a test is about: the alert's `service`, else the labels it yields.
fn who(a: &Alert) -> String {
    a.labels.get("service").map_or_else(|| series("", &a.test.out), |s| s.clone())
}

/// The alert as promtool expects it when it fires: the labels the expression
/// yields and the rule's, the annotations rendered with them.
fn expected(a: &Alert, base: &str) -> Value {
    let mut labels = a.test.out.clone();
    labels.extend(a.labels.clone());
    let ann: BTreeMap<String, String> =
        annotations(a, base).into_iter().map(|(k, v)| (k, render(&v, &labels))).collect();
    json!({ "exp_labels": labels, "exp_annotations": ann })
}

/// `input_series`: each series once, the first values given for it winning.
fn input<'a>(series: impl IntoIterator<Item = (&'a str, Cow<'a, str>)>) -> Vec<Value> {
    let mut seen = BTreeSet::new();
    series.into_iter().filter(|(k, _)| seen.insert(*k)).map(|(k, v)| json!({ "series": k, "values": v })).collect()
}

/// One test evaluating `alertname` at `at` on `series`, expecting `exp`.
fn case(name: String, interval: u32, series: Vec<Value>, at: u32, alertname: &str, exp: Vec<Value>) -> Value {
    json!({
        "name": name,
        "interval": dur(interval),
        "input_series": series,
        "alert_rule_test": [{ "eval_time": dur(at), "alertname": alertname, "exp_alerts": exp }],
    })
}

/// A firing and a silent test of `a` alone, beside `neighbour`'s healthy
/// series.
fn tests_of(a: &Alert, base: &str, neighbour: Option<&Alert>) -> Vec<Value> {
    let t = &a.test;
    let who = who(a);
    vec![
        case(
            format!("{} fires for {who} above its threshold", a.name),
            t.interval,
            with_healthy(&t.fire, neighbour),
            t.at,
            &a.name,
            vec![expected(a, base)],
        ),
        case(
            format!("{} stays silent for {who} below its threshold", a.name),
            t.interval,
            with_healthy(&t.quiet, neighbour),
            t.at,
            &a.name,
            vec![],
        ),
    ]
}

/// `a`'s extra silent cases (e.g. an SLO's fast burn on too little traffic),
/// beside `neighbour`'s healthy series.
fn also_quiet(a: &Alert, neighbour: Option<&Alert>) -> Vec<Value> {
    let t = &a.test;
    let who = who(a);
    t.also_quiet
        .iter()
        .map(|(why, own)| {
            case(
                format!("{} stays silent for {who} {why}", a.name),
                t.interval,
                with_healthy(own, neighbour),
                t.at,
                &a.name,
                vec![],
            )
        })
        .collect()
}

/// `own` series, then `neighbour`'s healthy ones.
fn with_healthy(own: &[Series], neighbour: Option<&Alert>) -> Vec<Value> {
    let healthy = neighbour.map(|n| n.test.quiet.as_slice()).unwrap_or_default();
    input(own.iter().chain(healthy).map(|(k, v)| (k.as_str(), Cow::from(v.as_str()))))
}

/// The tests of the rules `same` of one name ([`together`]): two tests cover
/// them all. In the first the 1st, 3rd, 5th… rules get their firing input and
/// the others their healthy input, in the second the other way round. Each
/// rule fires once while its neighbours are healthy (it is not diluted by
/// their series) and stays silent once while they fire (it does not fire on
/// theirs). Both evaluate at the latest evaluation time of the rules, each
/// series extended to it; the rules share one interval (rules that fire
/// without data: a minute for every such alert).
fn joint_tests(same: &[&Alert], base: &str) -> Vec<Value> {
    let Some(first) = same.first() else { return Vec::new() };
    let at = same.iter().map(|a| a.test.at).max().unwrap_or(first.test.at);
    let interval = first.test.interval;
    (0..2)
        .map(|half| {
            let (mut series, mut exp, mut firing, mut silent) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for (k, a) in same.iter().enumerate() {
                let fires = k % 2 == half;
                let extra = (at - a.test.at).div_ceil(interval.max(1));
                let own = if fires { &a.test.fire } else { &a.test.quiet };
                series.extend(own.iter().map(|(s, v)| (s.as_str(), longer(v, extra))));
                if fires {
                    exp.push(expected(a, base));
                    firing.push(who(a));
                } else {
                    silent.push(who(a));
                }
            }
            let name = match (firing.join(", "), silent.join(", ")) {
                (f, s) if s.is_empty() => format!("{} fires for {f} above its threshold", first.name),
                (f, s) if f.is_empty() => format!("{} stays silent for {s} below its threshold", first.name),
                (f, s) => format!("{} fires for {f} and stays silent for {s}", first.name),
            };
            case(name, interval, input(series), at, &first.name, exp)
        })
        .collect()
}

/// `values` (promtool's notation) with `extra` more samples continuing its
/// last segment: `0x10` → `0x12`, `0+5x10` → `0+5x12`, `3` → `3 3x1`.
fn longer(values: &str, extra: u32) -> Cow<'_, str> {
    if extra == 0 {
        return values.into();
    }
    let (head, last) = values.rsplit_once(' ').map_or(("", values), |(h, l)| (h, l));
    let count = last.rsplit_once('x').and_then(|(v, n)| Some((v, n.parse::<u32>().ok()?)));
    let last = match count {
        Some((v, n)) => format!("{v}x{}", n + extra),
        None => format!("{last} {last}x{}", extra - 1),
    };
    if head.is_empty() { last.into() } else { format!("{head} {last}").into() }
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
                also_quiet: Vec::new(),
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
        let doc = tests(&[g], "RUNBOOK.md").0;
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

    fn up(service: &str) -> Alert {
        alert("ServiceDown", service, &format!("up{{job=\"{service}\"}}"), &format!("up{{job=\"{service}\"}}"))
    }

    fn series_of(test: &Value) -> Vec<(String, String)> {
        let all = test["input_series"].as_array().cloned().unwrap_or_default();
        all.iter()
            .map(|s| (s["series"].as_str().unwrap_or("").into(), s["values"].as_str().unwrap_or("").into()))
            .collect()
    }

    fn pair(series: &str, values: &str) -> (String, String) {
        (series.into(), values.into())
    }

    fn names(doc: &Value) -> Vec<String> {
        doc["tests"].as_array().into_iter().flatten().map(|t| t["name"].as_str().unwrap_or("").to_string()).collect()
    }

    /// The `service` of each alert a test expects.
    fn firing(t: &Value) -> Vec<String> {
        let exp = t["alert_rule_test"][0]["exp_alerts"].as_array().cloned().unwrap_or_default();
        exp.iter().map(|e| e["exp_labels"]["service"].as_str().unwrap_or("").to_string()).collect()
    }

    #[test]
    fn alerts_of_one_name_evaluated_alike_are_tested_together_in_two_halves() {
        let alerts = vec![up("api"), up("web"), up("db")];
        let doc = tests(&[Group { name: "g".into(), alerts, ..Group::default() }], "RUNBOOK.md").0;
        assert_eq!(
            names(&doc),
            [
                "ServiceDown fires for api, db and stays silent for web",
                "ServiceDown fires for web and stays silent for api, db"
            ]
        );
        let [first, second] = [&doc["tests"][0], &doc["tests"][1]];
        assert_eq!(
            series_of(first),
            [pair("up{job=\"api\"}", "0x10"), pair("up{job=\"web\"}", "1x10"), pair("up{job=\"db\"}", "0x10")]
        );
        assert_eq!(
            series_of(second),
            [pair("up{job=\"api\"}", "1x10"), pair("up{job=\"web\"}", "0x10"), pair("up{job=\"db\"}", "1x10")]
        );
        assert_eq!(firing(first), ["api", "db"]);
        assert_eq!(firing(second), ["web"]);
        assert_eq!(first["alert_rule_test"][0]["eval_time"], "5m");
    }

    #[test]
    fn alerts_evaluated_otherwise_or_feeding_one_series_are_tested_alone() {
        // web is evaluated later; api and db feed the same series.
        let (api, mut web, mut db) = (up("api"), up("web"), up("db"));
        web.test.at = 600;
        db.test.fire = api.test.fire.clone();
        db.test.quiet = api.test.quiet.clone();
        let doc = tests(&[Group { name: "g".into(), alerts: vec![api, web, db], ..Group::default() }], "RUNBOOK.md").0;
        assert_eq!(
            names(&doc),
            [
                "ServiceDown fires for api above its threshold",
                "ServiceDown stays silent for api below its threshold",
                "ServiceDown fires for web above its threshold",
                "ServiceDown stays silent for web below its threshold",
                "ServiceDown fires for db above its threshold",
                "ServiceDown stays silent for db below its threshold",
            ]
        );
        // Its own input wins over its neighbour's healthy one of the same series.
        assert_eq!(series_of(&doc["tests"][0]), [pair("up{job=\"api\"}", "0x10")]);
        assert_eq!(firing(&doc["tests"][0]), ["api"]);
        assert_eq!(series_of(&doc["tests"][2]), [pair("up{job=\"web\"}", "0x10")]);
        assert_eq!(doc["tests"][2]["alert_rule_test"][0]["eval_time"], "10m");
    }

    #[test]
    fn extra_silent_cases_feed_one_healthy_neighbour() {
        let (mut api, web, db) = (up("api"), up("web"), up("db"));
        api.test.also_quiet.push(("on too little traffic".into(), vec![pair("up{job=\"api\"}", "0x3")]));
        let doc = tests(&[Group { name: "g".into(), alerts: vec![api, web, db], ..Group::default() }], "RUNBOOK.md").0;
        assert_eq!(doc["tests"].as_array().map(Vec::len), Some(3));
        let also = &doc["tests"][2];
        assert_eq!(also["name"], "ServiceDown stays silent for api on too little traffic");
        // api's neighbour is web (the next alike), not db.
        assert_eq!(series_of(also), [pair("up{job=\"api\"}", "0x3"), pair("up{job=\"web\"}", "1x10")]);
        assert_eq!(also["alert_rule_test"][0]["exp_alerts"], json!([]));
    }

    #[test]
    fn neighbours_are_evaluated_alike() {
        let (a, mut b, c) = (up("api"), up("web"), up("db"));
        b.test.at = 600;
        let all = [&a, &b, &c];
        let n: Vec<Option<&str>> = neighbours(&all).iter().map(|n| n.map(|n| n.labels["service"].as_str())).collect();
        assert_eq!(n, [Some("db"), None, Some("api")]);
    }

    #[test]
    fn rules_firing_without_data_are_tested_together_in_two_halves() {
        let mut alerts: Vec<Alert> = ["api", "web", "db"].into_iter().map(up).collect();
        alerts[0].expr = "up{job=\"api\"} == 0 or absent(up{job=\"api\"})".into();
        // A later evaluation for web: every series lasts until it.
        alerts[1].test.at = 420;
        let doc = tests(&[Group { name: "g".into(), alerts, ..Group::default() }], "RUNBOOK.md").0;
        let [first, second] = [&doc["tests"][0], &doc["tests"][1]];
        assert_eq!(doc["tests"].as_array().map(Vec::len), Some(2));
        assert_eq!(first["name"], "ServiceDown fires for api, db and stays silent for web");
        assert_eq!(second["name"], "ServiceDown fires for web and stays silent for api, db");
        assert_eq!(
            series_of(first),
            [pair("up{job=\"api\"}", "0x12"), pair("up{job=\"web\"}", "1x10"), pair("up{job=\"db\"}", "0x12")]
        );
        assert_eq!(second["alert_rule_test"][0]["eval_time"], "7m");
        assert_eq!(firing(first), ["api", "db"]);
        assert_eq!(firing(second), ["web"]);
        assert_eq!(
            second["alert_rule_test"][0]["exp_alerts"][0]["exp_annotations"]["description"],
            "pod api-0 is down"
        );
    }

    #[test]
    fn one_rule_firing_without_data_gets_a_firing_and_a_silent_test() {
        let mut a = up("api");
        a.expr = "absent(up{job=\"api\"})".into();
        let doc = tests(&[Group { name: "g".into(), alerts: vec![a], ..Group::default() }], "RUNBOOK.md").0;
        assert_eq!(doc["tests"][0]["name"], "ServiceDown fires for api above its threshold");
        assert_eq!(doc["tests"][1]["name"], "ServiceDown stays silent for api below its threshold");
        assert_eq!(doc["tests"][1]["alert_rule_test"][0]["exp_alerts"], json!([]));
    }

    #[test]
    fn tests_sampled_every_ten_minutes_get_a_file_evaluated_every_ten_minutes() {
        let fast = alert("ErrorBudgetBurn", "api", "up{job=\"api\"}", "up{job=\"api\"}");
        let mut slow = alert("ErrorBudgetBurnSlow", "api", "up{job=\"api\"}", "up{job=\"api\"}");
        (slow.test.interval, slow.test.at) = (LONG_INTERVAL, 26 * 3600);
        let g = Group { name: "g".into(), alerts: vec![fast, slow], ..Group::default() };
        let (short, long) = tests(&[g], "RUNBOOK.md");
        assert_eq!(short["evaluation_interval"], "1m");
        assert_eq!(
            names(&short),
            [
                "ErrorBudgetBurn fires for api above its threshold",
                "ErrorBudgetBurn stays silent for api below its threshold"
            ]
        );
        let long = long.expect("a file for the slow burn");
        assert_eq!(long["evaluation_interval"], "10m");
        assert_eq!(long["rule_files"][0], RULES_FILE);
        assert_eq!(
            names(&long),
            [
                "ErrorBudgetBurnSlow fires for api above its threshold",
                "ErrorBudgetBurnSlow stays silent for api below its threshold"
            ]
        );
        let fast = alert("ErrorBudgetBurn", "api", "up{job=\"api\"}", "up{job=\"api\"}");
        let only_fast = Group { name: "g".into(), alerts: vec![fast], ..Group::default() };
        assert_eq!(tests(&[only_fast], "RUNBOOK.md").1, None, "no second file without a slow test");
    }

    #[test]
    fn longer_series_continue_their_last_segment() {
        assert_eq!(longer("0x10", 0), "0x10");
        assert_eq!(longer("0x10", 2), "0x12");
        assert_eq!(longer("0+5x10", 2), "0+5x12");
        assert_eq!(longer("0x60 2x70", 3), "0x60 2x73");
        assert_eq!(longer("3", 2), "3 3x1");
        assert_eq!(longer("1 2 3", 1), "1 2 3 3x0");
    }
}
