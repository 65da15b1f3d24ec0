//! `check` on public manifests nobody here wrote (tests/corpus, issue 17):
//! the findings per set, code and severity are pinned in
//! tests/data/corpus-counts.tsv, so a check that starts or stops firing on
//! real input shows here, and every error and warning must have a verdict in
//! benches/corpus-verdicts.tsv (judged by hand; scripts/corpus-findings
//! prints the table) within the precision targets: no false error, at most
//! 5 % false warnings.
//!
//! After a change on purpose: `KUBEPROOF_BLESS=1 cargo test --test suite corpus::`,
//! then review the counts' diff and judge the new findings.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, repo};
use serde_json::Value;

/// (set, code, severity) → count.
type Counts = BTreeMap<(String, String, String), usize>;

/// The shallowest folders that hold manifests directly, each with its
/// subfolders (the same sets as scripts/corpus-findings).
fn sets(corpus: &Path) -> Vec<String> {
    fn walk(dir: &Path, corpus: &Path, out: &mut Vec<String>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).expect("corpus folder").map(|e| e.expect("entry").path()).collect();
        entries.sort();
        let manifests = entries
            .iter()
            .any(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml" || e == "json"));
        if manifests && dir != corpus {
            out.push(dir.strip_prefix(corpus).expect("inside").display().to_string());
            return;
        }
        for p in entries.iter().filter(|p| p.is_dir()) {
            walk(p, corpus, out);
        }
    }
    let mut out = Vec::new();
    walk(corpus, corpus, &mut out);
    out
}

/// Every finding of `check` on one set: (code, severity, object, pointer).
fn findings(corpus: &Path, set: &str) -> Vec<[String; 4]> {
    let out = Command::new(bin())
        .current_dir(corpus)
        .args(["check", "--format", "json", set])
        .output()
        .expect("kubeproof runs");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{set}: {}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    let text = |f: &Value, k: &str| f[k].as_str().unwrap_or("").to_string();
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let object = format!("{}/{}/{}", text(f, "kind"), text(f, "namespace"), text(f, "object"));
            [text(f, "code"), text(f, "severity"), object, text(f, "pointer")]
        })
        .collect()
}

fn read_counts(path: &Path) -> Counts {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert_eq!(c.len(), 4, "{}: {l}", path.display());
            ((c[0].into(), c[1].into(), c[2].into()), c[3].parse().expect("a count"))
        })
        .collect()
}

fn write_counts(path: &Path, counts: &Counts) {
    let mut text = String::from("# set\tcode\tseverity\tfindings — `check` on tests/corpus (tests/corpus.rs)\n");
    for ((set, code, severity), n) in counts {
        text.push_str(&format!("{set}\t{code}\t{severity}\t{n}\n"));
    }
    std::fs::write(path, text).expect("write counts");
}

/// (set, code, object, pointer) → verdict.
fn verdicts() -> BTreeMap<[String; 4], String> {
    let path = repo().join("benches/corpus-verdicts.tsv");
    let text = std::fs::read_to_string(&path).expect("verdicts");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            assert!(c.len() == 6 && ["true", "opinion", "false"].contains(&c[4]), "{}: {l}", path.display());
            ([c[0].into(), c[1].into(), c[2].into(), c[3].into()], c[4].to_string())
        })
        .collect()
}

#[test]
fn findings_on_public_manifests_are_pinned_and_judged() {
    let corpus = repo().join("tests/corpus");
    let sets = sets(&corpus);
    assert_eq!(sets.len(), 10, "{sets:?}");
    let judged = verdicts();
    let mut counts = Counts::new();
    let (mut unjudged, mut false_errors, mut warnings, mut false_warnings) = (Vec::new(), Vec::new(), 0, 0);
    for set in &sets {
        let mut keys = BTreeSet::new();
        for [code, severity, object, pointer] in findings(&corpus, set) {
            *counts.entry((set.clone(), code.clone(), severity.clone())).or_default() += 1;
            if severity == "info" {
                continue;
            }
            let key = [set.clone(), code.clone(), object, pointer];
            let verdict = judged.get(&key).map(String::as_str);
            match (severity.as_str(), verdict) {
                (_, None) => unjudged.push(key.join(" ")),
                ("error", Some("false")) => false_errors.push(key.join(" ")),
                _ => {}
            }
            if severity == "warning" && keys.insert(key.clone()) {
                warnings += 1;
                false_warnings += usize::from(verdict == Some("false"));
            }
        }
    }
    let pinned = repo().join("tests/data/corpus-counts.tsv");
    if std::env::var_os("KUBEPROOF_BLESS").is_some() {
        write_counts(&pinned, &counts);
    }
    let expected = read_counts(&pinned);
    let changed: Vec<String> = expected
        .keys()
        .chain(counts.keys())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .filter(|k| expected.get(*k) != counts.get(*k))
        .map(|k| format!("{} {} {}: pinned {:?}, now {:?}", k.0, k.1, k.2, expected.get(k), counts.get(k)))
        .collect();
    assert!(changed.is_empty(), "findings on the corpus changed (bless and judge them):\n{}", changed.join("\n"));
    assert!(unjudged.is_empty(), "findings without a verdict in benches/corpus-verdicts.tsv:\n{}", unjudged.join("\n"));
    assert!(false_errors.is_empty(), "false errors:\n{}", false_errors.join("\n"));
    assert!(false_warnings * 20 <= warnings, "{false_warnings} of {warnings} warnings are false: over 5 %");
}
