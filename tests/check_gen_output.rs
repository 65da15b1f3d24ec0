//! `kubeproof check` on what `gen` writes: the output folder holds, beside
//! the manifests, Prometheus, Alertmanager, Loki and collector configurations,
//! rule files, dashboards and a Helm chart. `check` recognises them by content,
//! checks the rule files' PromQL and skips the rest with one note per file:
//! it never exits 2 (unusable input) on kubeproof's own output. Each
//! overlay, rendered by `kubectl kustomize`, is checked the same way.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn kubeproof(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubeproof"));
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("run kubeproof");
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).expect("write stdin");
    }
    child.wait_with_output().expect("wait")
}

/// Exit 0 or 1, and no input error in the JSON report.
fn assert_checked(what: &str, out: &Output) -> serde_json::Value {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {stderr}"));
    let errors = doc["input_errors"].as_array().map_or(0, Vec::len);
    assert_eq!(errors, 0, "{what}: input errors {:#}", doc["input_errors"]);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{what}: exit {:?}\n{stderr}", out.status.code());
    doc
}

#[test]
fn check_reads_every_gen_output_folder_and_overlay() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    let mut examples: Vec<_> = std::fs::read_dir(root.join("examples")).expect("examples").flatten().collect();
    examples.sort_by_key(|e| e.path());
    let kubectl = Command::new("kubectl").arg("version").arg("--client").output().is_ok_and(|o| o.status.success());
    assert!(kubectl || std::env::var_os("KUBEPROOF_REQUIRE_TOOLS").is_none(), "kubectl is required");
    for example in examples {
        let name = example.path().file_stem().expect("name").to_string_lossy().into_owned();
        let out = tmp.path().join(&name);
        let out_s = out.to_str().expect("UTF-8 path");
        let source = example.path();
        let generated = kubeproof(root, &["gen", source.to_str().expect("path"), "-o", out_s, "--over-capacity"], None);
        assert!(generated.status.success(), "gen {name}: {}", String::from_utf8_lossy(&generated.stderr));
        // From another folder: the output folder's own `.kubeproof.yaml` is
        // found from the checked path.
        let run = kubeproof(tmp.path(), &["check", "--format", "json", &name], None);
        let doc = assert_checked(&name, &run);
        assert!(doc["objects"].as_u64().unwrap_or(0) > 10, "{name}: {}", doc["objects"]);
        let notes = String::from_utf8_lossy(&run.stderr);
        for file in ["monitoring/prometheus.yml", "monitoring/rules.test.yaml", "helm/"] {
            let lines = notes.lines().filter(|l| l.contains(&format!("{name}/{file}"))).count();
            assert_eq!(lines, 1, "{name}: one note on {file}:\n{notes}");
        }
        // Each folder of it on its own too (an overlay's patches are partial objects).
        for sub in ["kustomize/base", "kustomize/overlays", "kustomize/pre-deploy", "monitoring", "helm"] {
            let path = format!("{name}/{sub}");
            if tmp.path().join(&path).is_dir() {
                assert_checked(&path, &kubeproof(tmp.path(), &["check", "--format", "json", &path], None));
            }
        }
        let Some(overlays) = kubectl.then(|| std::fs::read_dir(out.join("kustomize/overlays")).ok()).flatten() else {
            continue;
        };
        for overlay in overlays.flatten() {
            // The Secrets' env files are the operator's: their examples stand in.
            for e in std::fs::read_dir(overlay.path().join("secrets")).into_iter().flatten().flatten() {
                let path = e.path();
                if let Some(real) = path.to_str().and_then(|p| p.strip_suffix(".example")) {
                    std::fs::copy(&path, real).expect("copy the example env file");
                }
            }
            let rendered = Command::new("kubectl").arg("kustomize").arg(overlay.path()).output().expect("kubectl");
            assert!(rendered.status.success(), "{}", String::from_utf8_lossy(&rendered.stderr));
            let config = out.join(".kubeproof.yaml");
            let args = ["check", "--format", "json", "--config", config.to_str().expect("path"), "-"];
            let run = kubeproof(tmp.path(), &args, Some(&rendered.stdout));
            assert_checked(&format!("{name}/{}", overlay.path().display()), &run);
        }
    }
}

#[test]
fn bare_rule_files_and_dashboards_have_their_promql_checked_and_other_configs_are_noted_once() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let write = |name: &str, text: &str| std::fs::write(tmp.path().join(name), text).expect("write");
    write(
        "rules.yaml",
        "groups:\n  - name: api\n    rules:\n      - alert: ApiDown\n        expr: up{job=\"api\"} ==\n        \
         for: 5m\n        labels: {severity: warning}\n        annotations: {runbook_url: https://r.example.com/a}\n",
    );
    write("prometheus.yml", "global: {scrape_interval: 30s}\nrule_files: [rules.yaml]\nscrape_configs: []\n");
    write("alertmanager.yml", "route: {receiver: none}\nreceivers: [{name: none}]\n");
    let query = r#"{"refId": "A", "expr": "sum(rate(http_requests_total[5m])"}"#;
    write(
        "dashboard.json",
        &format!("{{\"title\": \"API\", \"panels\": [{{\"title\": \"R\", \"targets\": [{query}]}}]}}\n"),
    );
    write("otel.yaml", "receivers: {otlp: {}}\nexporters: {debug: {}}\nservice: {pipelines: {}}\n");
    let run = kubeproof(tmp.path(), &["check", "--format", "json", "."], None);
    let doc = assert_checked("configs", &run);
    let findings = doc["findings"].as_array().expect("findings");
    let kp601: Vec<_> = findings.iter().filter(|f| f["code"] == "KP601").collect();
    assert_eq!(kp601.len(), 2, "{findings:#?}");
    assert_eq!((kp601[0]["file"].as_str(), kp601[0]["line"].as_u64()), (Some("./dashboard.json"), Some(1)));
    assert!(kp601[0]["message"].as_str().is_some_and(|m| m.contains("dashboard `dashboard.json`")), "{:#}", kp601[0]);
    assert_eq!((kp601[1]["file"].as_str(), kp601[1]["line"].as_u64()), (Some("./rules.yaml"), Some(5)));
    assert_eq!(run.status.code(), Some(1));
    let notes = String::from_utf8_lossy(&run.stderr);
    for (file, what) in [
        ("prometheus.yml", "Prometheus configuration"),
        ("alertmanager.yml", "Alertmanager configuration"),
        ("otel.yaml", "OpenTelemetry Collector configuration"),
    ] {
        let lines: Vec<_> = notes.lines().filter(|l| l.contains(file)).collect();
        assert!(lines.len() == 1 && lines[0].contains(what), "{file}: {notes}");
    }
    for checked in ["rules.yaml", "dashboard.json"] {
        assert!(!notes.contains(checked), "{checked} is checked, not skipped: {notes}");
    }
}

#[test]
fn an_empty_stream_or_a_folder_without_manifests_warns_that_nothing_was_read() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let run = kubeproof(tmp.path(), &["check", "-"], Some(b""));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: no Kubernetes object was read"), "{stderr}");
    std::fs::write(tmp.path().join("prometheus.yml"), "global: {}\nscrape_configs: []\n").expect("write");
    let run = kubeproof(tmp.path(), &["check", "."], None);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("warning: no Kubernetes object was read"), "{stderr}");
    // A stream with objects does not warn.
    let run = kubeproof(tmp.path(), &["check", "-"], Some(b"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"));
    assert!(!String::from_utf8_lossy(&run.stderr).contains("no Kubernetes object"));
}
