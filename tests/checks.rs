//! Every check against its own fixtures: the failing example must produce at
//! least one finding of the check's code, the passing one none; the failing
//! example's report is snapshotted so wording and positions are reviewed.

use crate::common;

use kubeproof::check::config::Config;
use kubeproof::check::report::{self, Format};
use kubeproof::check::{Family, check_text, rules};

fn codes_of(text: &str, name: &str) -> (Vec<&'static str>, String, usize) {
    let (loaded, outcome) = check_text(name, text, &Config::default());
    assert!(loaded.errors.is_empty(), "{name}: the fixture does not load: {:?}", loaded.errors);
    let rendered = report::render(Format::Text, &loaded, &outcome, false);
    (outcome.findings.iter().map(|f| f.code).collect(), rendered, loaded.objects.len())
}

#[test]
fn every_check_fails_its_failing_fixture_and_passes_its_passing_one() {
    let mut problems = Vec::new();
    for check in rules::registry() {
        let m = check.meta();
        let (fail, rendered, n) = codes_of(m.fail, &format!("{}/fail.yaml", m.code));
        if n == 0 {
            problems.push(format!("{}: the failing fixture has no objects", m.code));
        }
        if !fail.contains(&m.code) {
            problems.push(format!("{}: the failing fixture is not reported:\n{rendered}", m.code));
        }
        let (pass, rendered, n) = codes_of(m.pass, &format!("{}/pass.yaml", m.code));
        if n == 0 {
            problems.push(format!("{}: the passing fixture has no objects", m.code));
        }
        if pass.contains(&m.code) {
            problems.push(format!("{}: the passing fixture is reported:\n{rendered}", m.code));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn failing_fixtures_render_as_reviewed() {
    for check in rules::registry() {
        let m = check.meta();
        let (loaded, outcome) = check_text(&format!("{}/fail.yaml", m.code), m.fail, &Config::default());
        let mine: Vec<_> = outcome.findings.iter().filter(|f| f.code == m.code).cloned().collect();
        let only = kubeproof::check::Outcome { findings: mine, objects: outcome.objects };
        insta::assert_snapshot!(m.code, report::render(Format::Text, &loaded, &only, false));
    }
}

#[test]
fn codes_are_stable_unique_and_documented() {
    let all = rules::registry();
    let mut seen = std::collections::BTreeSet::new();
    for (i, c) in all.iter().enumerate() {
        let m = c.meta();
        assert!(seen.insert(m.code), "{} is used twice", m.code);
        // The registry lists the checks in code order (`rules`, docs/rules.md).
        assert!(i == 0 || all[i - 1].meta().code < m.code, "{} is listed after {}", m.code, all[i - 1].meta().code);
        let digit = m.code.as_bytes().get(2).copied().unwrap_or(b'?');
        let family = match digit {
            b'0' => Family::Schema,
            b'1' => Family::Security,
            b'2' => Family::Reliability,
            b'3' => Family::References,
            b'4' => Family::Network,
            b'5' => Family::Mesh,
            b'6' => Family::Observability,
            b'7' => Family::Budget,
            _ => panic!("{}: not a KPnxx code", m.code),
        };
        assert_eq!(m.family, family, "{}: the family must match the code", m.code);
        assert!(m.code.len() == 5 && m.code.starts_with("KP"), "{}", m.code);
        assert!(m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{}: name {}", m.code, m.name);
        for (field, text) in [("summary", m.summary), ("what", m.what), ("why", m.why), ("fix", m.fix)] {
            assert!(text.trim().len() > 10, "{}: {field} is missing", m.code);
        }
    }
}

/// `check` runs the single-object checks on each document as it is read,
/// then cuts every object down to what the other checks read
/// (`check::run_inputs`); every finding must be the one the checks give
/// on whole objects read first (`check::run`): on every fixture (each
/// document a file of its own, and all in one stream), the public corpus,
/// and what `gen` writes for every example. A check marked
/// `Reads::Object` that reads other objects, or a cut that drops a field a
/// cross-object check reads, changes a finding here.
#[test]
fn checking_documents_as_they_are_read_gives_what_checking_whole_objects_gives() {
    use kubeproof::check::{Outcome, run, run_inputs};
    let tmp = tempfile::tempdir().expect("temp dir");
    let fixtures = tmp.path().join("fixtures");
    std::fs::create_dir(&fixtures).expect("fixtures folder");
    let mut stream = String::new();
    for check in rules::registry() {
        let m = check.meta();
        for (kind, text) in [("fail", m.fail), ("pass", m.pass)] {
            for (d, doc) in text.split("\n---\n").enumerate() {
                let name = format!("{}-{kind}-{d}.yaml", m.code);
                std::fs::write(fixtures.join(name), doc).expect("write a fixture");
            }
            stream.push_str(text);
            stream.push_str("\n---\n");
        }
    }
    std::fs::write(tmp.path().join("stream.yaml"), &stream).expect("write the stream");
    let mut sets = vec![fixtures, tmp.path().join("stream.yaml"), common::repo().join("tests/corpus")];
    for example in common::examples() {
        let out = tmp.path().join(common::stem(&example));
        let made = common::gen_cmd(&example, &out, &["--over-capacity"]);
        assert!(made.status.success(), "gen {}: {}", example.display(), String::from_utf8_lossy(&made.stderr));
        sets.push(out);
    }
    let shown = |loaded: &kubeproof::model::Loaded, outcome: &Outcome| -> Vec<String> {
        outcome
            .findings
            .iter()
            .map(|f| {
                let d = kubeproof::check::diagnostic(f, loaded);
                format!(
                    "{} {:?} {}:{}:{} {} | {:?}",
                    f.code,
                    f.severity,
                    d.file.display(),
                    d.pos.line,
                    d.pos.column,
                    d.message,
                    d.help
                )
            })
            .collect()
    };
    let config = Config::default();
    let mut total = 0;
    for set in &sets {
        let inputs = [set.clone()];
        let (streamed, outcome) = run_inputs(&inputs, &config, None, kubeproof::model::load::MAX_HEAP);
        let whole = kubeproof::model::load::load(&inputs);
        assert!(whole.errors.is_empty(), "{}: {:?}", set.display(), whole.errors);
        let whole_outcome = run(&whole, &config);
        let expected = shown(&whole, &whole_outcome);
        let got = shown(&streamed, &outcome);
        // The same report, source lines included: texts let go after
        // reading are read again from their files.
        assert_eq!(
            report::render(Format::Text, &streamed, &outcome, false),
            report::render(Format::Text, &whole, &whole_outcome, false),
            "{}",
            set.display()
        );
        assert_eq!(streamed.objects.len(), whole.objects.len(), "{}", set.display());
        let missing: Vec<_> = expected.iter().filter(|f| !got.contains(f)).collect();
        let extra: Vec<_> = got.iter().filter(|f| !expected.contains(f)).collect();
        assert!(
            missing.is_empty() && extra.is_empty() && got.len() == expected.len(),
            "{}: missing {missing:#?}\nextra {extra:#?}",
            set.display()
        );
        // Texts are kept only for dashboards kept as files (cross-object
        // checks read them whole), and let go of otherwise.
        let file = kubeproof::model::load::files::FILE_API;
        let files: std::collections::HashSet<usize> =
            streamed.objects.iter().filter(|o| o.api_version == file).map(|o| o.source).collect();
        for (i, s) in streamed.sources.iter().enumerate() {
            assert_eq!(!s.text.is_empty(), files.contains(&i), "{}: the text of {}", set.display(), s.name.display());
        }
        assert!(files.len() < streamed.sources.len(), "{}: no text let go", set.display());
        total += got.len();
    }
    // Not vacuous: every check is reported somewhere above.
    assert!(total > 1000, "{total} findings");
    // From stdin an object keeps its table of positions, less those of the
    // fields cut from it: the same findings, at the same lines and columns.
    let from_file = common::kubeproof(["check", "--format", "json", "stream.yaml"], Some(tmp.path()));
    let from_stdin = common::kubeproof_stdin(["check", "--format", "json", "-"], stream.as_bytes());
    let places = |out: &std::process::Output| -> Vec<String> {
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json report");
        let findings = json["findings"].as_array().expect("findings").clone();
        findings.iter().map(|f| format!("{} {}:{} {}", f["code"], f["line"], f["column"], f["message"])).collect()
    };
    // Messages citing another object's line name its input.
    let a: Vec<String> = places(&from_file).iter().map(|f| f.replace("stream.yaml:", "<stdin>:")).collect();
    let b = places(&from_stdin);
    assert!(a.len() > 1000, "{} findings", a.len());
    let only_file: Vec<_> = a.iter().filter(|f| !b.contains(f)).collect();
    let only_stdin: Vec<_> = b.iter().filter(|f| !a.contains(f)).collect();
    assert!(
        a == b,
        "stdin gives other findings or places than the file: only from the file {only_file:#?}\nonly from stdin {only_stdin:#?}"
    );
}

/// Kinds of a failing fixture with no same-kind passing counterpart,
/// because none can exist: (code, kind, why).
const NO_NEAR_MISS: &[(&str, &str, &str)] = &[
    (
        "KP005",
        "Widget",
        "a kind no carried schema describes is reported at every apiVersion; the near miss is the Issuer",
    ),
    (
        "KP006",
        "Endpoints",
        "v1 is Endpoints' only apiVersion, deprecated since 1.33; tests/schema.rs holds the near miss of a FlowSchema at 1.30",
    ),
];

/// Each passing fixture holds the near miss of its failing one: every kind
/// of the failing fixture appears in the passing one at least as often, so
/// the passing fixture can be the failing one changed only by the fix.
#[test]
fn passing_fixtures_hold_every_kind_of_the_failing_ones() {
    let kinds = |text: &str, name: &str| -> std::collections::BTreeMap<String, usize> {
        let (loaded, _) = check_text(name, text, &Config::default());
        let mut n = std::collections::BTreeMap::new();
        for o in &loaded.objects {
            *n.entry(o.kind.to_string()).or_insert(0) += 1;
        }
        n
    };
    let mut problems = Vec::new();
    let mut excused = std::collections::BTreeSet::new();
    for check in rules::registry() {
        let m = check.meta();
        let fail = kinds(m.fail, &format!("{}/fail.yaml", m.code));
        let pass = kinds(m.pass, &format!("{}/pass.yaml", m.code));
        for (kind, &n) in &fail {
            let have = pass.get(kind).copied().unwrap_or(0);
            if have >= n {
                continue;
            }
            if NO_NEAR_MISS.iter().any(|(c, k, _)| *c == m.code && k == kind) {
                excused.insert((m.code, kind.clone()));
                continue;
            }
            problems.push(format!("{}: the failing fixture has {n} {kind}, the passing one {have}", m.code));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // No stale exception: each one is still needed.
    for (code, kind, why) in NO_NEAR_MISS {
        assert!(excused.contains(&(*code, kind.to_string())), "{code} {kind} is no longer an exception ({why})");
    }
}
