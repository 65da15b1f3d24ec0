//! What is kept while parsing is counted (issue 14, point 2): documents,
//! nodes, scalars and error reports, so that an input is refused at its
//! budget as it streams; and the parser's wrong answers (surrogate pairs,
//! NUL). Each case was measured failing before its fix (release binary,
//! peak memory as `/usr/bin/time` reports it).

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use super::harness::{Run, kp, temp, write};

/// A small valid manifest, checked before the hostile input to show that
/// inputs read before a refused one are still checked.
const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\n";

/// `kubeproof check good.yaml -` with `stdin`.
fn check_after_good(dir: &Path, stdin: Vec<u8>) -> Run {
    let good = write(dir, "good.yaml", GOOD);
    kp(dir, [OsStr::new("check"), good.as_os_str(), OsStr::new("-")]).stdin(stdin).run()
}

#[test]
fn a_million_documents_that_are_not_objects_stop_at_the_error_limit() {
    // Before: 1,000,000 error reports kept (2.2 GB).
    let dir = temp();
    let run = check_after_good(dir.path(), "---\na: 1\n".repeat(1_000_000).into_bytes());
    run.expect(2, "<stdin>:2002:1").expect(2, "input refused here: more than 1000 errors");
    run.expect(2, "1 object(s) in 2 file(s): 1002 error(s)");
}

#[test]
fn eight_million_broken_documents_stop_at_the_error_limit() {
    // Before: 8,000,000 parse errors kept (4.5 GB), each with its document's
    // chunk (24 bytes per `---\n`, listed before any was parsed).
    let dir = temp();
    let run = check_after_good(dir.path(), "---\n]\n".repeat(8_000_000).into_bytes());
    run.expect(2, "input refused here: more than 1000 errors").expect(2, "1 object(s) in 2 file(s)");
    assert!(run.all().contains("not valid YAML"), "{}", &run.all()[..2000.min(run.all().len())]);
}

/// A JSON `kind: List` of `n` items that are not objects (so that the run
/// measures reading, not checking).
fn json_list(n: usize) -> Vec<u8> {
    let items = vec!["[]"; n].join(",");
    format!("{{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{items}]}}\n").into_bytes()
}

// The two cases below use the smallest counts that took more than 1 GiB
// before the fix: an unloaded debug build parses them in about 7 and 17 s,
// hence their longer time bounds.

#[test]
fn a_json_document_is_read_as_it_streams() {
    // Before: the parser queued every token of a JSON document until its
    // closing brace: 2,000,000 items (6 MB) took 1.07 GB (71 s in debug).
    let dir = temp();
    let good = write(dir.path(), "good.yaml", GOOD);
    let run = kp(dir.path(), [OsStr::new("check"), good.as_os_str(), OsStr::new("-")])
        .stdin(json_list(2_000_000))
        .limit(Duration::from_secs(120))
        .run();
    run.expect(2, "--> <stdin>:1:43").expect(2, "item 0 of this List is a list, not a Kubernetes object");
    run.expect(2, "1 object(s) in 2 file(s): 1 error(s)");
}

#[test]
fn a_long_list_of_numbers_is_counted_as_it_grows() {
    // Before: the items of a sequence were counted when it closed; a
    // sequence of 60,000,000 `- 0` took 3.3 GB, and 12,000,000 (the count
    // here, 48 MB) 1.29 GB. Counted as they come, the budget runs out inside
    // the sequence, and the input is refused there.
    let dir = temp();
    let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\ndata:\n");
    text.push_str(&"- 0\n".repeat(12_000_000));
    let good = write(dir.path(), "good.yaml", GOOD);
    let run = kp(dir.path(), [OsStr::new("check"), good.as_os_str(), OsStr::new("-")])
        .stdin(text)
        .limit(Duration::from_secs(180))
        .run();
    let budget = kubeproof::model::load::MAX_HEAP >> 20;
    run.expect(2, &format!("input refused here: with it, the objects to check would take over {budget} MiB of memory"));
    run.expect(2, "1 object(s) in 2 file(s): 1 error(s)");
    let line = refusal_line(&run);
    assert!(line > 4 && line < 12_000_004, "refused at line {line}: inside the sequence, before its end");
}

/// The line of the first `<stdin>:LINE:` in the output.
fn refusal_line(run: &Run) -> u64 {
    let all = run.all();
    let at = all.find("<stdin>:").map(|i| &all[i + 8..]).unwrap_or_default();
    at.split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[test]
fn json_surrogate_pairs_are_one_character() {
    // Before: "found invalid Unicode character escape code".
    let dir = temp();
    let json =
        r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"e","namespace":"b"},"data":{"a":"\ud83d\ude00"}}"#;
    let file = write(dir.path(), "emoji.json", json);
    let run = kp(dir.path(), [OsStr::new("check"), OsStr::new("--format"), OsStr::new("json"), file.as_os_str()]).run();
    run.expect(0, "\"errors\": 0");
    // A lone high surrogate is still refused.
    let lone = write(dir.path(), "lone.json", json.replace(r"\ude00", ""));
    kp(dir.path(), [OsStr::new("check"), lone.as_os_str()]).run().expect(2, "invalid Unicode character escape");
}

#[test]
fn a_nul_is_reported_where_it_is() {
    // Before: "unexpected end of stream" at the opening quote (4:11).
    let dir = temp();
    let file =
        write(dir.path(), "nul.yaml", b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: \"ab\0c\"}\n");
    let run = kp(dir.path(), [OsStr::new("check"), file.as_os_str()]).run();
    run.expect(2, "nul.yaml:4:14").expect(2, "a NUL character (U+0000)");
}

#[test]
fn reach_graph_and_budget_read_manifests_within_the_same_limits() {
    // They read manifests through the same loader as `check`.
    let dir = temp();
    let stdin = "---\na: 1\n".repeat(1_000_000).into_bytes();
    let runs = [
        kp(dir.path(), ["reach", "-f", "-", "a", "b"]).stdin(stdin.clone()).run(),
        kp(dir.path(), ["graph", "-"]).stdin(stdin.clone()).run(),
        kp(dir.path(), ["budget", "-"]).stdin(stdin).run(),
    ];
    for run in runs {
        run.expect(2, "--> <stdin>:2002:1").expect(2, "input refused here: more than 1000 errors");
        run.expect(2, "the input has 1002 error(s)");
    }
}

#[test]
fn every_command_reading_manifests_takes_a_memory_budget() {
    let dir = temp();
    // About 2 MB of ConfigMaps as values: past 1 MiB.
    let doc = |i: usize| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{a: b}}\n");
    let stream: String = (0..20_000).map(doc).collect();
    write(dir.path(), "big.yaml", &stream);
    write(dir.path(), "small.yaml", doc(0));
    let budget = ["--memory-budget", "1Mi"];
    let runs = [
        kp(dir.path(), ["reach", "-f", "big.yaml", "a", "b"].iter().chain(&budget)).run(),
        kp(dir.path(), ["graph", "big.yaml"].iter().chain(&budget)).run(),
        kp(dir.path(), ["budget", "big.yaml"].iter().chain(&budget)).run(),
        kp(dir.path(), ["diff", "small.yaml", "big.yaml"].iter().chain(&budget)).run(),
        kp(dir.path(), ["check", "big.yaml"].iter().chain(&budget)).run(),
    ];
    for run in runs {
        run.expect(2, "input refused here: with it, the objects to check would take over 1 MiB of memory");
    }
    // The same input within the default budget: read (the query, not the input, fails).
    kp(dir.path(), ["reach", "-f", "big.yaml", "a", "b"]).run().expect(2, "no workload");
}

/// A description of one service followed by an `x-` key (skipped, yet
/// parsed) holding `junk`.
fn description_with(junk: &str) -> String {
    super::harness::platform_with_services(1) + "x-junk:\n" + junk
}

#[test]
fn descriptions_have_their_own_small_budget() {
    let dir = temp();
    let out = dir.path().join("out");
    let nodes = write(dir.path(), "nodes.yaml", description_with(&"  - 0\n".repeat(300_000)));
    let run = kp(dir.path(), [OsStr::new("gen"), nodes.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    run.expect(2, "the description is refused here: it has more than 200000 nodes");
    let line = 199_989; // the 200,001st node, in the list's 199,979th item
    run.expect(2, &format!("--> {}:{line}:5", nodes.display()));
    assert!(!out.exists(), "nothing written");
    let long = "  - \"".to_string() + &"a".repeat(1000) + "\"\n";
    // 3 MB: under the file's 4 MiB bound, over the values' 2 MiB.
    let text = write(dir.path(), "text.yaml", description_with(&long.repeat(3_000)));
    let run = kp(dir.path(), [OsStr::new("gen"), text.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    run.expect(2, "the description is refused here: its values hold more than 2 MiB of text");
    // The same through `reach` and `graph`, reading the description on stdin.
    for args in [vec!["reach", "-f", "-", "a", "b"], vec!["graph", "-"]] {
        let run = kp(dir.path(), args).stdin(description_with(&"  - 0\n".repeat(300_000))).run();
        run.expect(2, "the description is refused here: it has more than 200000 nodes");
    }
}

#[test]
fn descriptions_read_surrogate_pairs_and_place_a_nul() {
    let dir = temp();
    let out = dir.path().join("out");
    let ok = write(dir.path(), "ok.yaml", description_with("  - \"\\ud83d\\ude00\"\n"));
    kp(dir.path(), [OsStr::new("gen"), ok.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run().expect(0, "written");
    let nul = write(dir.path(), "nul.yaml", description_with("  - \"ab\0\"\n"));
    let run = kp(dir.path(), [OsStr::new("gen"), nul.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    run.expect(2, &format!("--> {}:12:8", nul.display()));
}

#[test]
fn helm_output_of_one_template_is_read_in_linear_time() {
    // Before: each document of a `helm template` stream counted the lines of
    // everything its template had gathered so far: 100,000 documents of one
    // template (9 MB) did not finish in 120 s; without `# Source:` 1.3 s.
    let dir = temp();
    let doc = |i: usize| {
        format!(
            "---\n# Source: c/templates/t.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: n}}\n"
        )
    };
    let text: String = (0..30_000).map(doc).collect();
    let file = write(dir.path(), "helm.yaml", text);
    let run = kp(dir.path(), [OsStr::new("check"), file.as_os_str()]).run();
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert!(run.all().contains("30000 object(s)"), "{}", run.all());
}

// The two cases below took many times their input before their fix; at a
// size a debug build reads in a few seconds, that is hundreds of MB, not
// gigabytes, hence their bound of 200 MiB.

#[test]
fn helm_output_of_empty_documents_keeps_nothing_per_document() {
    // Before: the Helm split listed every document, its template and the
    // documents outside any template before reading one (48 bytes per
    // `---\n`): 60,000,000 of them after one `# Source:` (240 MB) took
    // 4.8 GB; the 10,000,000 here (40 MB) 882 MiB.
    let dir = temp();
    let mut text =
        String::from("---\n# Source: c/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n");
    text.push_str(&"---\n".repeat(10_000_000));
    let file = write(dir.path(), "helm.yaml", text);
    let run = kp(dir.path(), [OsStr::new("check"), file.as_os_str()]).max_rss_mib(200).run();
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert!(run.all().contains("1 object(s) in 1 file(s)"), "{}", run.all());
}

#[test]
fn an_error_at_the_end_of_a_long_file_is_shown_without_a_table_of_its_lines() {
    // Before: showing one error listed the start of every line of its file
    // (8 bytes a line, doubled while growing) on a copy of the file's text:
    // 100,000,000 blank lines and a `]` (100 MB) took 1.79 GB to print one
    // error; the 30,000,000 here 451 MiB. The same table made 60,000,000
    // `---` (refused at the budget) take 1.2 GB.
    let dir = temp();
    let mut text = "\n".repeat(30_000_000);
    text.push_str("]\n");
    let file = write(dir.path(), "blank.yaml", text);
    let run = kp(dir.path(), [OsStr::new("check"), file.as_os_str()]).max_rss_mib(200).run();
    run.expect(2, "blank.yaml:30000001:1").expect(2, "not valid YAML");
    assert!(run.all().contains("30000001 | ]"), "{}", run.all());
}

#[test]
fn helm_output_of_many_templates_is_read_in_linear_time() {
    // Before: each template's name was looked for among every source read
    // so far: 20,000 templates took 30 s (release), 100,000 over 300 s.
    let dir = temp();
    let doc = |i: usize| {
        format!("---\n# Source: c/templates/t{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\n")
    };
    let text: String = (0..50_000).map(doc).collect();
    let file = write(dir.path(), "helm.yaml", text);
    let run = kp(dir.path(), [OsStr::new("check"), file.as_os_str()]).run();
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert!(run.all().contains("50000 object(s) in 1 file(s)"), "{}", run.all());
}
