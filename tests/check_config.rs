//! Silencing and configuring `kubeproof check`: the ignore annotation (with a
//! reason, per object and per code), `.kubeproof.yaml` (only, disable,
//! severity, target version) and its errors.

use std::path::Path;
use std::process::{Command, Output};

const DUPLICATES: &str = "apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: shop }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
  annotations:
    kubeproof.dev/ignore: \"IGNORE\"
";

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("kubeproof runs")
}

fn codes(o: &Output) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
    });
    v["findings"].as_array().expect("findings").iter().map(|f| f["code"].as_str().unwrap_or("").to_string()).collect()
}

fn setup(ignore: &str, config: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("objects.yaml"), DUPLICATES.replace("IGNORE", ignore)).expect("write");
    if let Some(c) = config {
        std::fs::write(dir.path().join(".kubeproof.yaml"), c).expect("write config");
    }
    dir
}

#[test]
fn an_ignore_with_a_reason_silences_that_code_on_that_object_only() {
    let dir = setup("KP003: both copies are applied by different teams until the merge", None);
    let o = run(dir.path(), &["check", "--format", "json", "objects.yaml"]);
    assert!(!codes(&o).contains(&"KP003".to_string()), "{:?}", codes(&o));
    assert!(!codes(&o).contains(&"KP004".to_string()));

    // Another code on the same object silences nothing of KP003.
    let dir = setup("KP101: not this one", None);
    let o = run(dir.path(), &["check", "--format", "json", "objects.yaml"]);
    assert!(codes(&o).contains(&"KP003".to_string()), "{:?}", codes(&o));
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn an_ignore_without_a_reason_silences_nothing_and_is_itself_an_error() {
    let dir = setup("KP003", None);
    let o = run(dir.path(), &["check", "--format", "json", "objects.yaml"]);
    let c = codes(&o);
    assert!(c.contains(&"KP003".to_string()) && c.contains(&"KP004".to_string()), "{c:?}");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn the_config_file_disables_checks_and_overrides_severities() {
    let dir = setup("KP003", Some("disable: [KP004]\nseverity: { KP003: warning }\n"));
    let o = run(dir.path(), &["check", "--format", "json", "objects.yaml"]);
    assert_eq!(codes(&o), ["KP003"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["findings"][0]["severity"], "warning");
    assert_eq!(o.status.code(), Some(0), "a warning does not fail the run");

    let dir = setup("KP003", Some("only: [KP004]\n"));
    let o = run(dir.path(), &["check", "--format", "json", "objects.yaml"]);
    assert_eq!(codes(&o), ["KP004"]);

    let dir = setup("KP003", Some("severity: { KP003: off, KP004: off }\n"));
    let o = run(dir.path(), &["check", "--format", "json", "objects.yaml"]);
    assert!(codes(&o).is_empty());
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn the_nearest_config_of_the_checked_path_applies_from_any_folder() {
    let root = tempfile::tempdir().expect("temp dir");
    let sub = root.path().join("team/deploy");
    std::fs::create_dir_all(&sub).expect("mkdir");
    std::fs::write(sub.join("objects.yaml"), DUPLICATES.replace("IGNORE", "KP003")).expect("write");
    // In a parent folder of the checked path, as git and ruff look.
    std::fs::write(root.path().join("team/.kubeproof.yaml"), "disable: [KP004]\n").expect("write config");
    let here = run(&sub, &["check", "--format", "json", "objects.yaml"]);
    assert_eq!(codes(&here), ["KP003"]);
    for (cwd, path) in [(root.path(), "team/deploy/objects.yaml"), (root.path(), "team"), (Path::new("/"), "")] {
        let path = if path.is_empty() { sub.join("objects.yaml") } else { Path::new(path).to_path_buf() };
        let o = run(cwd, &["check", "--format", "json", path.to_str().expect("path")]);
        assert_eq!(codes(&o), codes(&here), "from {}: {}", cwd.display(), String::from_utf8_lossy(&o.stderr));
    }
    // A config in the current folder does not apply to a path outside it.
    std::fs::write(root.path().join(".kubeproof.yaml"), "disable: [KP003]\n").expect("write config");
    let o = run(root.path(), &["check", "--format", "json", "team/deploy/objects.yaml"]);
    assert_eq!(codes(&o), ["KP003"]);
    // `--config` overrides the search.
    let o = run(&sub, &["check", "--format", "json", "--config", "../../.kubeproof.yaml", "objects.yaml"]);
    assert_eq!(codes(&o), ["KP004"]);
    // `-` looks from the current folder.
    let o = Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .args(["check", "--format", "json", "-"])
        .current_dir(&sub)
        .stdin(std::fs::File::open(sub.join("objects.yaml")).expect("open"))
        .output()
        .expect("kubeproof runs");
    assert_eq!(codes(&o), ["KP003"]);
}

#[test]
fn paths_with_different_nearest_configs_use_the_first_and_warn() {
    let root = tempfile::tempdir().expect("temp dir");
    for (dir, config) in [("a", "disable: [KP004]\n"), ("b", "disable: [KP003]\n")] {
        std::fs::create_dir_all(root.path().join(dir)).expect("mkdir");
        std::fs::write(root.path().join(dir).join(".kubeproof.yaml"), config).expect("write config");
    }
    std::fs::write(root.path().join("a/objects.yaml"), DUPLICATES.replace("IGNORE", "KP003")).expect("write");
    std::fs::write(root.path().join("b/other.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
        .expect("write");
    let o = run(root.path(), &["check", "--format", "json", "a", "b"]);
    let c = codes(&o);
    assert!(c.contains(&"KP003".into()) && !c.contains(&"KP004".into()), "a's config, the first path's: {c:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(
            "warning: the checked paths have different configurations: a/.kubeproof.yaml (used) and b/.kubeproof.yaml"
        ),
        "{err}"
    );
    // The same config for both: no warning.
    let o = run(root.path(), &["check", "--format", "json", "a", "a/objects.yaml"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("different configurations"));
}

#[test]
fn config_mistakes_exit_2_with_position_and_suggestion() {
    let dir = setup("KP003", Some("disable: [KP04]\n"));
    let o = run(dir.path(), &["check", "objects.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("unknown check `KP04`") && err.contains("KP004"), "{err}");

    let dir = setup("KP003", Some("kubernetes: \"1.30\"\ndisabel: [KP004]\n"));
    let o = run(dir.path(), &["check", "objects.yaml"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(".kubeproof.yaml:2:1") && err.contains("did you mean `disable`"), "{err}");

    let dir = setup("KP003", None);
    let o = run(dir.path(), &["check", "--kubernetes", "1.12", "objects.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1.12"));
}

#[test]
fn rules_and_explain() {
    let dir = tempfile::tempdir().expect("temp dir");
    let o = run(dir.path(), &["rules"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success());
    assert!(text.lines().count() >= 45, "at least 45 checks:\n{text}");
    let o = run(dir.path(), &["explain", "kp003"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for section in
        ["# KP003 duplicate-object", "## What it does", "## Why it matters", "## Example that fails", "## Fix"]
    {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    let o = run(dir.path(), &["explain", "KP0003"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean"), "{}", String::from_utf8_lossy(&o.stderr));
}
