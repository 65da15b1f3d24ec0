//! `x-` extension fields: ignored by the generator wherever a mapping has
//! fixed fields (YAML anchors defined there still serve), while any other
//! unknown key stays an error; `kubeproof schema` admits them too.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// A description with extension fields at the top level, in the cluster, in
/// a service and its probe, in a datastore; a service built from an anchor
/// defined under one.
const WITH: &str = r##"apiVersion: kubeproof.dev/v1alpha1
name: ext
x-owner: { team: shop, pager: "#shop" }
x-defaults: &defaults
  resources: { cpu: 100m, memory: 128Mi }
cluster:
  kubernetes: "1.30"
  x-note: kept for our inventory
services:
  shop:
    <<: *defaults
    image: ghcr.io/acme/shop:1.0.0
    port: 8080
    x-ci: { pipeline: build-shop, stages: [build, test] }
    probes:
      ready: { path: /ready, x-why: slow start }
datastores:
  cache:
    engine: redis
    storage: ephemeral
    auth: none
    x-tier: gold
"##;

/// The same description without them, the anchor written out.
const WITHOUT: &str = r##"apiVersion: kubeproof.dev/v1alpha1
name: ext
cluster:
  kubernetes: "1.30"
services:
  shop:
    resources: { cpu: 100m, memory: 128Mi }
    image: ghcr.io/acme/shop:1.0.0
    port: 8080
    probes:
      ready: { path: /ready }
datastores:
  cache:
    engine: redis
    storage: ephemeral
    auth: none
"##;

/// `gen` of `text` into `out` (in a fresh `dir`): exit code and stderr.
fn run_gen(dir: &Path, text: &str) -> (Option<i32>, String) {
    std::fs::write(dir.join("platform.yaml"), text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .current_dir(dir)
        .args(["gen", "platform.yaml", "-o", "deploy"])
        .output()
        .expect("kubeproof runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Every file under `root`, by relative path.
fn tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("a directory").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                let rel = p.strip_prefix(root).expect("under root").display().to_string();
                files.push((rel, std::fs::read(&p).expect("readable")));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn extension_fields_change_nothing_generated() {
    let (a, b) = (tempfile::tempdir().expect("dir"), tempfile::tempdir().expect("dir"));
    let (code, stderr) = run_gen(a.path(), WITH);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, stderr) = run_gen(b.path(), WITHOUT);
    assert_eq!(code, Some(0), "{stderr}");
    let (with, without) = (tree(&a.path().join("deploy")), tree(&b.path().join("deploy")));
    assert!(with.len() > 10, "{} files", with.len());
    let names = |t: &[(String, Vec<u8>)]| t.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&with), names(&without));
    for ((name, x), (_, y)) in with.iter().zip(&without) {
        assert!(x == y, "{name} differs");
    }
}

#[test]
fn other_unknown_keys_stay_errors_at_their_position() {
    let dir = tempfile::tempdir().expect("dir");
    let text = WITH.replace("x-tier", "y-tier");
    let (code, stderr) = run_gen(dir.path(), &text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown field `y-tier`") && stderr.contains("--> platform.yaml:22:5\n"), "{stderr}");
    // In a probe's full form too.
    let text = WITH.replace("x-why", "why");
    let (code, stderr) = run_gen(dir.path(), &text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown field `why`") && stderr.contains("--> platform.yaml:16:30\n"), "{stderr}");
    // A key of a map of names is a name: `x-ray` is a service, checked as one.
    let text = WITHOUT.replace("  shop:\n", "  x-ray:\n    bogus: 1\n  shop:\n");
    let (code, stderr) = run_gen(dir.path(), &text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("unknown field `bogus`"), "{stderr}");
}

#[test]
fn the_schema_admits_extension_fields_and_nothing_else_unknown() {
    let out = Command::new(env!("CARGO_BIN_EXE_kubeproof")).arg("schema").output().expect("kubeproof runs");
    let schema: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a JSON Schema");
    // The merge key is YAML's, not the description's: the plain form here.
    let text = WITH.replace("    <<: *defaults\n", "");
    let value: Value = serde_saphyr::from_str(&text).expect("YAML");
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:?}");
    for bad in ["y-tier", "x_tier", "X-tier"] {
        let value: Value = serde_saphyr::from_str(&text.replace("x-tier", bad)).expect("YAML");
        assert!(!validator.is_valid(&value), "{bad} validates");
    }
}
