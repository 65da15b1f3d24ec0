//! The reports of `kubeproof check`: SARIF validates against the official
//! SARIF 2.1.0 schema (OASIS, vendored in tests/data), JUnit parses as XML,
//! every format carries the same findings with the same levels and counts,
//! and the command line writes them end to end.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use kubeproof::check::config::{Config, Level};
use kubeproof::check::report::{self, Format, junit};
use kubeproof::check::{Outcome, Severity, rules, run};
use kubeproof::diag::{Diagnostic, Pos};
use kubeproof::model::load::add_source;
use kubeproof::model::{Loaded, Source};
use serde_json::{Value, json};

/// Findings of KP003 (a duplicate) and KP004 (ignores without reason and
/// with an unknown code) over two files, one file that is not YAML and one
/// that cannot be read.
const SHOP: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: shop }
data: { MODE: a }
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations:
    kubeproof.dev/ignore: "KP003; KP9999: typo"
spec:
  ports: [{ port: 80 }]
"#;

const BILLING: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
data: { MODE: b }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: clean
  namespace: billing
"#;

fn fixture(config: &Config) -> (Loaded, Outcome) {
    let mut loaded = Loaded::default();
    add_source(&mut loaded, Source { name: "apps/shop.yaml".into(), text: SHOP.into() });
    add_source(&mut loaded, Source { name: "apps/billing.yaml".into(), text: BILLING.into() });
    add_source(&mut loaded, Source { name: "apps/broken.yaml".into(), text: "a: [\n".into() });
    loaded.errors.push(Diagnostic::error("apps/missing.yaml", Pos::UNKNOWN, "cannot read: No such file"));
    let outcome = run(&loaded, config);
    (loaded, outcome)
}

/// KP004 lowered to a warning, so that the reports carry two levels.
fn mixed_levels() -> Config {
    Config { severity: BTreeMap::from([("KP004".to_string(), Level::Warning)]), ..Config::default() }
}

fn schema() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path).expect("the vendored SARIF schema");
    serde_json::from_str(&text).expect("the SARIF schema is JSON")
}

fn validator() -> jsonschema::Validator {
    let schema = schema();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema");
    jsonschema::draft7::options().should_validate_formats(true).build(&schema).expect("the SARIF schema compiles")
}

fn errors_of(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator.iter_errors(doc).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

fn sarif(loaded: &Loaded, outcome: &Outcome) -> Value {
    serde_json::from_str(&report::render(Format::Sarif, loaded, outcome, false)).expect("SARIF is JSON")
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let (loaded, outcome) = fixture(&mixed_levels());
    let codes: std::collections::BTreeSet<_> = outcome.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains("KP003") && codes.contains("KP004"), "{codes:?}");
    assert_eq!(loaded.errors.len(), 2, "{:?}", loaded.errors);

    let validator = validator();
    let doc = sarif(&loaded, &outcome);
    let errors = errors_of(&validator, &doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));

    // The validation can fail: documents broken in typical ways are refused.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = json!("fatal");
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(0);
    broken["runs"][0]["tool"]["driver"].as_object_mut().map(|d| d.remove("name"));
    broken["runs"][0]["results"][1]["message"] = json!({ "markdown": "no text" });
    broken["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"] = json!("a b<c>");
    broken["version"] = json!("2.0.0");
    let errors = errors_of(&validator, &broken);
    for path in [
        "/runs/0/results/0/level",
        "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
        "/runs/0/tool/driver",
        "/runs/0/results/1/message",
        "/runs/0/invocations/0/toolExecutionNotifications/0/locations/0/physicalLocation/artifactLocation/uri",
        "/version",
    ] {
        assert!(errors.iter().any(|e| e.ends_with(&format!(" at {path}"))), "no error at {path}: {errors:#?}");
    }
    let mut extra = doc;
    extra["runs"][0]["results"][0]["unknownProperty"] = json!(true);
    assert!(!validator.is_valid(&extra), "additional properties are refused");
}

#[test]
fn sarif_describes_every_rule_and_every_finding() {
    let (loaded, outcome) = fixture(&mixed_levels());
    let doc = sarif(&loaded, &outcome);
    let run = &doc["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "kubeproof");
    assert_eq!(driver["version"], env!("CARGO_PKG_VERSION"));
    assert!(driver["informationUri"].as_str().is_some_and(|u| u.starts_with("https://")));

    let rules_out = driver["rules"].as_array().expect("rules");
    assert_eq!(rules_out.len(), rules::registry().len(), "every check is a rule");
    for (rule, check) in rules_out.iter().zip(rules::registry()) {
        let m = check.meta();
        assert_eq!(rule["id"], m.code);
        assert_eq!(rule["name"], m.name);
        assert_eq!(rule["shortDescription"]["text"], m.summary);
        assert_eq!(rule["fullDescription"]["text"], m.what);
        let help = rule["help"]["text"].as_str().unwrap_or_default();
        assert!(help.contains(m.why) && help.contains(m.fix), "{}: {help}", m.code);
        let markdown = rule["help"]["markdown"].as_str().unwrap_or_default();
        assert!(markdown.contains(m.fail.trim()) && markdown.contains(m.pass.trim()), "{}: fixtures", m.code);
        let level = match m.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        assert_eq!(rule["defaultConfiguration"]["level"], level, "{}", m.code);
    }

    let results = run["results"].as_array().expect("results");
    assert_eq!(results.len(), outcome.findings.len());
    for (r, f) in results.iter().zip(&outcome.findings) {
        assert_eq!(r["ruleId"], f.code);
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules_out[index]["id"], f.code, "ruleIndex points at the rule");
        let level = if f.code == "KP004" { "warning" } else { "error" };
        assert_eq!(r["level"], level, "the configured severity, not the default");
        let o = &loaded.objects[f.object];
        let location = &r["locations"][0];
        let pos = o.pos(&f.pointer);
        assert_eq!(location["physicalLocation"]["region"], json!({ "startLine": pos.line, "startColumn": pos.column }));
        assert_eq!(location["logicalLocations"][0]["fullyQualifiedName"], o.id());
        assert!(r["message"]["text"].as_str().unwrap_or_default().contains(&f.message));
        let fingerprint = r["partialFingerprints"]["kubeproofFinding/v1"].as_str().unwrap_or_default();
        assert_eq!(fingerprint.len(), 32);
    }
    let fingerprints: std::collections::BTreeSet<_> =
        results.iter().map(|r| r["partialFingerprints"].to_string()).collect();
    assert_eq!(fingerprints.len(), results.len(), "fingerprints are unique");

    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false, "inputs could not be read");
    let notes = invocation["toolExecutionNotifications"].as_array().expect("notifications");
    assert_eq!(notes.len(), loaded.errors.len());
    let uris: Vec<_> =
        notes.iter().map(|n| n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone()).collect();
    assert_eq!(uris, [json!("apps/broken.yaml"), json!("apps/missing.yaml")]);
    assert!(notes.iter().all(|n| n["level"] == "error"));
}

#[test]
fn sarif_fingerprints_survive_moved_lines_and_the_output_is_deterministic() {
    let (loaded, outcome) = fixture(&Config::default());
    let before = report::render(Format::Sarif, &loaded, &outcome, false);
    let (loaded2, outcome2) = fixture(&Config::default());
    assert_eq!(before, report::render(Format::Sarif, &loaded2, &outcome2, false), "same input, same bytes");

    // The same objects further down the file: other lines, same fingerprints.
    let mut moved = Loaded::default();
    let shifted = format!("# moved\n\n\n{SHOP}");
    add_source(&mut moved, Source { name: "apps/shop.yaml".into(), text: shifted });
    add_source(&mut moved, Source { name: "apps/billing.yaml".into(), text: BILLING.into() });
    let moved_outcome = run(&moved, &Config::default());
    let key = |doc: &Value| -> Vec<(String, String, u64)> {
        let mut v: Vec<_> = doc["runs"][0]["results"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                (
                    r["partialFingerprints"].to_string(),
                    r["message"]["text"].as_str().unwrap_or_default().lines().next().unwrap_or_default().to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (key(&sarif(&loaded, &outcome)), key(&sarif(&moved, &moved_outcome)));
    assert_eq!(a.len(), b.len());
    let mut moved_lines = 0;
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.0, &x.1), (&y.0, &y.1), "same finding, same fingerprint");
        if x.2 != y.2 {
            moved_lines += 1;
        }
    }
    assert!(moved_lines > 0, "the shifted file moved some findings");
}

/// A parsed XML element: name, attributes (unescaped), children, text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }

    fn count(&self, name: &str) -> usize {
        self.children.iter().filter(|c| c.name == name).count()
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn num(&self, name: &str) -> usize {
        self.attr(name).parse().unwrap_or_else(|_| panic!("{} has no number {name}: {:?}", self.name, self.attrs))
    }
}

/// Parses a whole document with quick-xml (well-formedness: matching end
/// tags, one root, entities and character references resolved) and checks
/// that only characters XML 1.0 allows were written.
fn parse_xml(xml: &str) -> Element {
    use quick_xml::XmlVersion;
    use quick_xml::events::{BytesStart, Event};

    let allowed = |c: char| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}');
    assert!(xml.chars().all(allowed), "a character XML 1.0 does not allow: {xml:?}");
    let element = |e: &BytesStart| Element {
        name: e.name().as_ref().to_string(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                let value = a.normalized_value(XmlVersion::Implicit1_0).expect("an attribute value that unescapes");
                (a.key.as_ref().to_string(), value.into_owned())
            })
            .collect(),
        ..Element::default()
    };
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Element::default()];
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{xml}"));
        match event {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().expect("a parent").children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().expect("an open element");
                stack.last_mut().expect("a parent").children.push(el);
            }
            Event::Text(t) => stack.last_mut().expect("a parent").text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("a valid character reference") {
                    Some(c) => c,
                    None => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("undefined entity &{other};"),
                    },
                };
                assert!(allowed(c), "character reference to a character XML 1.0 does not allow: {c:?}");
                stack.last_mut().expect("a parent").text.push(c);
            }
            Event::CData(_) => panic!("no CDATA expected"),
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut top = stack.pop().unwrap_or_default();
    assert_eq!(top.children.len(), 1, "one root element");
    top.children.pop().unwrap_or_default()
}

fn junit(loaded: &Loaded, outcome: &Outcome) -> Element {
    let xml = report::render(Format::Junit, loaded, outcome, false);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"), "{xml}");
    parse_xml(&xml)
}

#[test]
fn junit_parses_and_its_totals_match_the_findings() {
    let mut config = mixed_levels();
    config.severity.insert("KP003".into(), Level::Info);
    let (loaded, outcome) = fixture(&config);
    let root = junit(&loaded, &outcome);
    assert_eq!(root.name, "testsuites");
    let suites: Vec<&Element> = root.all("testsuite").collect();
    let names: Vec<&str> = suites.iter().map(|s| s.attr("name")).collect();
    assert_eq!(names, ["apps/shop.yaml", "apps/billing.yaml", "apps/broken.yaml", "apps/missing.yaml"]);

    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for s in &suites {
        let cases: Vec<&Element> = s.all("testcase").collect();
        assert_eq!(s.num("tests"), cases.len(), "{}", s.attr("name"));
        let failed = cases.iter().filter(|c| c.count("failure") > 0).count();
        let errored = cases.iter().filter(|c| c.count("error") > 0).count();
        assert_eq!(s.num("failures"), failed, "{}", s.attr("name"));
        assert_eq!(s.num("errors"), errored, "{}", s.attr("name"));
        assert_eq!(s.num("skipped"), 0);
        (tests, failures, errors) = (tests + cases.len(), failures + failed, errors + errored);
        for c in cases {
            assert_eq!(c.attr("classname"), s.attr("name"));
            assert_eq!(c.attr("file"), s.attr("name"));
        }
    }
    assert_eq!((root.num("tests"), root.num("failures"), root.num("errors")), (tests, failures, errors));

    // One test case per object, one failure per error or warning finding.
    let objects_per_file =
        |name: &str| loaded.objects.iter().filter(|o| loaded.sources[o.source].name == Path::new(name)).count();
    assert_eq!(suites[0].count("testcase"), objects_per_file("apps/shop.yaml"));
    assert_eq!(suites[1].count("testcase"), objects_per_file("apps/billing.yaml"));
    let failures: Vec<&Element> =
        suites.iter().flat_map(|s| s.all("testcase")).flat_map(|c| c.all("failure")).collect();
    let expected: Vec<_> = outcome.findings.iter().filter(|f| f.severity != Severity::Info).collect();
    assert_eq!(failures.len(), expected.len());
    assert!(expected.iter().all(|f| f.code == "KP004" && f.severity == Severity::Warning));
    for (el, f) in failures.iter().zip(&expected) {
        assert_eq!(el.attr("type"), f.code);
        assert!(el.attr("message").ends_with(&f.message), "{:?}", el.attrs);
        assert!(el.text.contains(&format!("warning[{}]: {}", f.code, f.message)), "{}", el.text);
    }
    // The KP003 finding, lowered to info, is output, not a failure.
    let outs: Vec<&str> = suites
        .iter()
        .flat_map(|s| s.all("testcase"))
        .flat_map(|c| c.all("system-out"))
        .map(|o| o.text.as_str())
        .collect();
    assert_eq!(outs.len(), 1, "{outs:?}");
    assert!(outs[0].contains("info[KP003]: defined a second time"), "{}", outs[0]);
    // The input errors are errors of an `(input)` test case.
    for s in &suites[2..] {
        let case = s.all("testcase").next().expect("a test case");
        assert_eq!(case.attr("name"), "(input)");
        assert_eq!(case.all("error").next().map(|e| e.attr("type")), Some("input"));
    }
    assert_eq!(suites[2].all("testcase").next().map(|c| c.attr("line")), Some("2"));
}

#[test]
fn junit_escapes_hostile_strings() {
    // Escaping alone, against a parser.
    let hostile = [
        "plain",
        "<tag attr=\"x\">&amp; 'quoted'</tag>",
        "]]> and <![CDATA[ x ]]>",
        "line\nbreak\r\nand\rcarriage\ttab",
        "nul\u{0} bell\u{7} esc\u{1b} del\u{7f} c1\u{85} nonchars\u{FFFE}\u{FFFF}",
        "unicode é 漢 🚀 \u{10FFFF}",
        "&#60; &lt; &unknown; &",
    ];
    for s in hostile {
        let doc = parse_xml(&format!("<a v=\"{}\">{}</a>", junit::attr(s), junit::text(s)));
        let expected: String = s
            .chars()
            .map(|c| {
                if matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{FFFE}' | '\u{FFFF}') {
                    '\u{FFFD}'
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(doc.attr("v"), expected, "attribute round trip of {s:?}");
        assert_eq!(doc.text, expected, "text round trip of {s:?}");
    }

    // A whole report with a hostile file name, object name and ignore entry.
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"a<b>&c\\\"d'e\\u0001\\nz\"\n  annotations:\n    \
                kubeproof.dev/ignore: \"KP<]]>&\\\"\\u0000x\\nline: y\"\n";
    let mut loaded = Loaded::default();
    let file = "dir with space/<&\"'>.yaml";
    add_source(&mut loaded, Source { name: PathBuf::from(file), text: text.into() });
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let outcome = run(&loaded, &Config::default());
    assert!(outcome.findings.iter().any(|f| f.code == "KP004"), "{:?}", outcome.findings);
    let root = junit(&loaded, &outcome);
    let suite = root.all("testsuite").next().expect("a suite");
    assert_eq!(suite.attr("name"), file);
    let case = suite.all("testcase").next().expect("a test case");
    assert_eq!(case.attr("name"), "ConfigMap/default/a<b>&c\"d'e\u{FFFD}\nz");
    let failure = case.all("failure").next().expect("a failure");
    assert!(failure.attr("message").contains("`KP<]]>&\"\u{FFFD}x` is not a kubeproof check"), "{:?}", failure.attrs);

    // SARIF carries the same strings (JSON escaping) and still validates.
    let doc = sarif(&loaded, &outcome);
    let errors = errors_of(&validator(), &doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let uri = &doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "dir%20with%20space/%3C&%22'%3E.yaml");
}

/// (code, file, line, column) of every finding, sorted, as each format says it.
type Place = (String, String, u64, u64);

fn from_text(text: &str) -> Vec<Place> {
    let mut out = Vec::new();
    let mut code: Option<String> = None;
    for line in text.lines() {
        for level in ["error[", "warning[", "info["] {
            if let Some(rest) = line.strip_prefix(level) {
                code = rest.split(']').next().map(str::to_string);
            }
        }
        if let Some(place) = line.trim_start().strip_prefix("--> ")
            && let Some(code) = code.take()
        {
            let mut parts = place.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            let line = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            out.push((code, parts.next().unwrap_or_default().to_string(), line, col));
        }
    }
    out.sort();
    out
}

fn from_json(doc: &Value) -> Vec<Place> {
    let mut out: Vec<Place> = doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_string();
            (s("code"), s("file"), f["line"].as_u64().unwrap_or(0), f["column"].as_u64().unwrap_or(0))
        })
        .collect();
    out.sort();
    out
}

fn from_sarif(doc: &Value) -> Vec<Place> {
    let mut out: Vec<Place> = doc["runs"][0]["results"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let p = &r["locations"][0]["physicalLocation"];
            (
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                p["artifactLocation"]["uri"].as_str().unwrap_or_default().to_string(),
                p["region"]["startLine"].as_u64().unwrap_or(0),
                p["region"]["startColumn"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    out.sort();
    out
}

fn from_junit(root: &Element) -> Vec<Place> {
    let mut out = Vec::new();
    for case in root.all("testsuite").flat_map(|s| s.all("testcase")) {
        let bodies =
            case.all("failure")
                .map(|f| f.text.clone())
                .chain(case.all("system-out").flat_map(|o| {
                    o.text.lines().filter(|l| l.contains("]: ")).map(str::to_string).collect::<Vec<_>>()
                }));
        for body in bodies {
            // `file:line:column: severity[code]: message`
            let head = body.lines().next().unwrap_or_default();
            let (place, rest) = head.split_once(": ").unwrap_or_default();
            let code = rest.split('[').nth(1).and_then(|r| r.split(']').next()).unwrap_or_default();
            let mut parts = place.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            let line = parts.next().and_then(|c| c.parse().ok()).unwrap_or(0);
            out.push((code.to_string(), parts.next().unwrap_or_default().to_string(), line, col));
        }
    }
    out.sort();
    out
}

#[test]
fn every_format_carries_the_same_findings() {
    let mut config = mixed_levels();
    config.severity.insert("KP003".into(), Level::Info);
    let (loaded, outcome) = fixture(&config);
    let text = report::render(Format::Text, &loaded, &outcome, false);
    let json: Value = serde_json::from_str(&report::render(Format::Json, &loaded, &outcome, false)).expect("JSON");
    let expected = from_json(&json);
    assert_eq!(expected.len(), outcome.findings.len());
    assert!(expected.len() >= 3, "{expected:?}");
    assert_eq!(from_text(&text), expected, "text");
    assert_eq!(from_sarif(&sarif(&loaded, &outcome)), expected, "sarif");
    assert_eq!(from_junit(&junit(&loaded, &outcome)), expected, "junit");

    // And the same input errors.
    assert_eq!(json["input_errors"].as_array().map(Vec::len), Some(2));
    let doc = sarif(&loaded, &outcome);
    assert_eq!(doc["runs"][0]["invocations"][0]["toolExecutionNotifications"].as_array().map(Vec::len), Some(2));
    let root = junit(&loaded, &outcome);
    assert_eq!(root.num("errors"), 2);
    assert!(text.contains("apps/missing.yaml") && text.contains("apps/broken.yaml:2:1"), "{text}");
}

fn kubeproof(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_kubeproof")).args(args).current_dir(dir).output().expect("run kubeproof");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_writes_sarif_and_junit() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::fs::create_dir_all(dir.path().join("apps")).expect("mkdir");
    std::fs::write(dir.path().join("apps/shop.yaml"), SHOP).expect("write");
    std::fs::write(dir.path().join("apps/billing.yaml"), BILLING).expect("write");

    let (code, stdout, stderr) =
        kubeproof(dir.path(), &["check", "--format", "sarif", "apps/shop.yaml", "./apps/billing.yaml"]);
    assert_eq!(code, Some(1), "error findings exit 1: {stderr}");
    let doc: Value = serde_json::from_str(&stdout).expect("SARIF on stdout");
    let validator = validator();
    let errors = errors_of(&validator, &doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let places = from_sarif(&doc);
    assert!(places.iter().any(|p| p.0 == "KP003" && p.1 == "apps/billing.yaml"), "{places:?}");
    assert!(places.iter().any(|p| p.0 == "KP004" && p.1 == "apps/shop.yaml"), "{places:?}");
    assert_eq!(doc["runs"][0]["invocations"][0]["executionSuccessful"], true);
    let (_, again, _) = kubeproof(dir.path(), &["check", "--format", "sarif", "apps/shop.yaml", "./apps/billing.yaml"]);
    assert_eq!(stdout, again, "deterministic");

    // An unreadable input: exit 2, still a valid log, with the notification.
    let (code, stdout, _) = kubeproof(dir.path(), &["check", "--format", "sarif", "apps", "nowhere.yaml"]);
    assert_eq!(code, Some(2));
    let doc: Value = serde_json::from_str(&stdout).expect("SARIF on stdout");
    assert!(validator.is_valid(&doc), "{}", errors_of(&validator, &doc).join("\n"));
    let notes = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "nowhere.yaml");

    // stdin keeps its name, as a URI reference.
    let out = crate::common::kubeproof_stdin(["check", "--format", "sarif", "-"], SHOP.as_bytes());
    let doc: Value = serde_json::from_slice(&out.stdout).expect("SARIF on stdout");
    assert!(validator.is_valid(&doc));
    assert_eq!(
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "%3Cstdin%3E"
    );

    let (code, stdout, _) = kubeproof(dir.path(), &["check", "--format", "junit", "apps"]);
    assert_eq!(code, Some(1));
    let root = parse_xml(&stdout);
    assert_eq!(root.num("tests"), 4);
    assert_eq!(root.num("failures"), 2, "the duplicate and the bad ignore");
}

/// The SARIF of a small input, as a reviewer reads it. The version is
/// redacted, and only the rules the input triggers are kept (the list grows
/// with every check; its completeness is tested above), so `ruleIndex` is
/// redacted too.
fn redacted_sarif(text: &str) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let text = text
        .replace(&format!("\"version\": \"{version}\""), "\"version\": \"[version]\"")
        .replace(&format!("\"semanticVersion\": \"{version}\""), "\"semanticVersion\": \"[version]\"");
    let used: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("\"ruleId\": \""))
        .map(|r| r.trim_end_matches(['"', ',']).to_string())
        .collect();
    let mut out: Vec<String> = Vec::new();
    let mut lines = text.lines().peekable();
    let rule_open = format!("{}{{", " ".repeat(12));
    let mut in_rules = false;
    while let Some(line) = lines.next() {
        if line.trim() == "\"rules\": [" {
            in_rules = true;
        } else if in_rules && line.trim_start().starts_with(']') {
            in_rules = false;
            if let Some(last) = out.last_mut() {
                *last = last.trim_end_matches(',').to_string();
            }
        } else if in_rules && line == rule_open {
            let mut rule = vec![line.to_string()];
            for l in lines.by_ref() {
                rule.push(l.to_string());
                if l.starts_with(&" ".repeat(12))
                    && l.trim_start().starts_with('}')
                    && l.len() - l.trim_start().len() == 12
                {
                    break;
                }
            }
            let id = rule
                .get(1)
                .map(|l| l.trim().trim_start_matches("\"id\": \"").trim_end_matches(['"', ',']))
                .unwrap_or("");
            if used.iter().any(|u| u == id) {
                if let Some(last) = rule.last_mut() {
                    *last = format!("{},", last.trim_end_matches(','));
                }
                out.extend(rule);
            }
            continue;
        }
        if line.trim_start().starts_with("\"ruleIndex\": ") {
            let indent = &line[..line.len() - line.trim_start().len()];
            out.push(format!("{indent}\"ruleIndex\": \"[index]\","));
            continue;
        }
        out.push(line.to_string());
    }
    out.join("\n") + "\n"
}

#[test]
fn reports_of_a_small_input_read_as_reviewed() {
    let mut loaded = Loaded::default();
    add_source(&mut loaded, Source { name: "deploy/app.yaml".into(), text: SHOP.into() });
    add_source(&mut loaded, Source { name: "deploy/more.yaml".into(), text: BILLING.into() });
    let outcome = run(&loaded, &mixed_levels());
    let sarif_text = report::render(Format::Sarif, &loaded, &outcome, false);
    let redacted = redacted_sarif(&sarif_text);
    let reparsed: Value = serde_json::from_str(&redacted).expect("the redacted SARIF is still JSON");
    assert_eq!(reparsed["runs"][0]["results"].as_array().map(Vec::len), Some(outcome.findings.len()));
    insta::assert_snapshot!("sarif", redacted);
    insta::assert_snapshot!("junit", report::render(Format::Junit, &loaded, &outcome, false));
}

/// A PromQL error is placed where the parser stopped inside the expression
/// (plain, quoted and literal block scalars), and at `expr:` where the text
/// cannot be mapped back (a folded block) or the parser gives no place.
#[test]
fn promql_errors_point_inside_the_expression() {
    let rules = r#"apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - alert: Plain
          expr: rate(x[5x]) > 1
        - alert: Quoted
          expr: "rate(x[5m) > 1"
        - alert: Block
          expr: |
            sum(rate(x[5m]))
              / sum(rate(y{job="a"[5m]))
        - alert: Folded
          expr: >
            sum(rate(x[5m]))
              / sum(rate(y{job="a"[5m]))
        - alert: Grammar
          expr: up == == 1
"#;
    let (loaded, outcome) = kubeproof::check::check_text("rules.yaml", rules, &Config::default());
    let places: Vec<(String, u32, u32)> = outcome
        .findings
        .iter()
        .filter(|f| f.code == "KP601")
        .map(|f| {
            let d = kubeproof::check::diagnostic(f, &loaded);
            let alert = d.message.split('`').nth(1).unwrap_or_default().to_string();
            (alert, d.pos.line, d.pos.column)
        })
        .collect();
    assert_eq!(
        places,
        [
            ("Plain".to_string(), 9, 24),    // `5x`
            ("Quoted".to_string(), 11, 27),  // the `)` inside brackets
            ("Block".to_string(), 15, 35),   // the `[` inside braces
            ("Folded".to_string(), 17, 11),  // folded: at `expr:`
            ("Grammar".to_string(), 21, 11), // no place from the parser: at `expr:`
        ]
    );
}
