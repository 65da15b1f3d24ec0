//! Every shell script kubeproof writes into a container (`sh -c SCRIPT`:
//! backup, restore, the Neo4j hold and the Helm chart's test Pods) passes
//! shellcheck as POSIX sh, in all the examples. The PostgreSQL and Redis scripts also run for real in
//! tests/backup_restore.rs; the others (neo4j-admin, the MinIO mirror) have
//! no server here, so this is their proof of well-formedness.

use crate::common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

fn scripts(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(cmd)) = m.get("command")
                && cmd.len() == 3
                && cmd[0] == "sh"
                && cmd[1] == "-c"
                && let Some(s) = cmd[2].as_str()
            {
                out.insert(s.to_string());
            }
            m.values().for_each(|v| scripts(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| scripts(v, out)),
        _ => {}
    }
}

#[test]
fn generated_shell_scripts_pass_shellcheck() {
    if !common::tool_available("shellcheck", &["--version"]) {
        return;
    }
    let mut all = BTreeSet::new();
    for description in common::examples() {
        let platform = kubeproof::description::load(&description).expect("the example loads");
        let built = kubeproof::build::build(&platform, &description).expect("the example generates");
        for (path, bytes) in built.tree.iter() {
            if path.extension().is_some_and(|e| e == "yaml") {
                let text = std::str::from_utf8(bytes).expect("UTF-8");
                // A chart's template, without Helm's lines (the chart's
                // labels, values), parses: its test Pods' scripts count.
                let text: String = if path.starts_with("helm") {
                    text.lines().filter(|l| !l.contains("{{")).map(|l| format!("{l}\n")).collect()
                } else {
                    text.to_string()
                };
                for doc in common::parse_docs(&text).unwrap_or_default() {
                    scripts(&doc, &mut all);
                }
            }
        }
    }
    // Dump, upload, fetch and restore for PostgreSQL, Redis and Neo4j, the
    // MinIO mirror pair, and the hold: the examples use every kind.
    assert!(all.len() >= 10, "only {} scripts found", all.len());
    // The test Pods': PostgreSQL, Redis, HTTP and TCP checks.
    for part in ["pg_isready -t 5", "redis-cli -h \"$REDIS_HOST\"", "curl -fsS", "telnet://"] {
        assert!(all.iter().any(|s| s.contains(part)), "no script with `{part}`");
    }
    let mut failures = Vec::new();
    for script in &all {
        if let Err(report) = shellcheck(script) {
            failures.push(format!("{report}\n--- script ---\n{script}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scripts fail shellcheck:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

/// The check can fail: a script with an unquoted expansion is reported.
#[test]
fn shellcheck_reports_a_faulty_script() {
    if !common::tool_available("shellcheck", &["--version"]) {
        return;
    }
    let report = shellcheck("set -eu\nrm -rf $BACKUP_DIR/*\n").expect_err("an unquoted expansion");
    assert!(report.contains("SC2086"), "{report}");
}

/// `shellcheck` as POSIX sh, every severity: Ok, or its report.
fn shellcheck(script: &str) -> Result<(), String> {
    let mut child = Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("shellcheck runs");
    child.stdin.take().expect("stdin").write_all(script.as_bytes()).expect("write the script");
    let o = child.wait_with_output().expect("shellcheck ends");
    if o.status.success() { Ok(()) } else { Err(String::from_utf8_lossy(&o.stdout).into_owned()) }
}
