//! Every check against its own fixtures: the failing example must produce at
//! least one finding of the check's code, the passing one none; the failing
//! example's report is snapshotted so wording and positions are reviewed.

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
