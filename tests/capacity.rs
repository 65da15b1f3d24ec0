//! `gen` stops when an environment does not fit the description's
//! `cluster.capacity` at its release peak (every workload at its maximum,
//! each Deployment's rolling-update surge, one run of each Job), names the
//! environment, the resource and the excess, and writes nothing;
//! `--over-capacity` writes anyway with a warning.

use crate::common;

use std::path::Path;

use common::gen_as_given as gen_raw;

/// One service of `replicas` pods of 1 CPU on a cluster of `cpu` CPUs.
fn tiny(dir: &Path, replicas: u32, cpu: u32) -> std::path::PathBuf {
    let text = format!(
        "apiVersion: kubeproof.dev/v1alpha1\nname: tiny\ncluster:\n  kubernetes: \"1.30\"\n  \
         capacity: {{ cpu: {cpu}, memory: 8Gi, storage: 10Gi }}\nservices:\n  web:\n    \
         image: ghcr.io/example/web:1.0.0\n    port: 8080\n    replicas: {replicas}\n    \
         resources: {{ cpu: \"1\", memory: 128Mi }}\n"
    );
    let file = dir.join("tiny.yaml");
    std::fs::write(&file, text).expect("write the description");
    file
}

#[test]
fn health_platform_is_refused_over_its_capacity_and_written_with_the_flag() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let description = common::repo().join("examples/health-platform.yaml");
    let (code, _, err) = gen_raw(&description, &out, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("default: CPU requests 8300m exceed the capacity 4000m by 4300m (207%)"), "{err}");
    assert!(err.contains("default: storage 231Gi exceeds the capacity 200Gi by 31Gi (115%)"), "{err}");
    assert!(err.contains("--over-capacity writes anyway") && err.contains("nothing was written"), "{err}");
    assert!(!out.exists(), "nothing is written");

    let (code, stdout, err) = gen_raw(&description, &out, &["--over-capacity"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("warning: ") && err.contains("written anyway (--over-capacity)"), "{err}");
    assert!(stdout.contains("files:"), "{stdout}");
    assert!(out.join("kustomize").is_dir());
}

/// Four pods of 1 CPU fit 4 CPUs, but a rolling update adds a fifth (25% of
/// 4, rounded up): the peak needs 5.
#[test]
fn the_rolling_update_surge_counts() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let (code, _, err) = gen_raw(&tiny(tmp.path(), 4, 4), &out, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("default: CPU requests 5000m exceed the capacity 4000m by 1000m (125%)"), "{err}");
    let (code, _, err) = gen_raw(&tiny(tmp.path(), 4, 5), &out, &[]);
    assert_eq!(code, Some(0), "{err}");
}

/// Every other example fits its capacity as it is written.
#[test]
fn the_other_examples_fit() {
    for description in common::examples() {
        let name = description.file_name().unwrap_or_default().to_string_lossy().into_owned();
        if common::OVER_CAPACITY.contains(&name.as_str()) {
            continue;
        }
        let tmp = tempfile::tempdir().expect("temp dir");
        let (code, _, err) = gen_raw(&description, &tmp.path().join("deploy"), &[]);
        assert_eq!(code, Some(0), "{name}: {err}");
        assert!(!err.contains("capacity"), "{name}: {err}");
    }
}

/// No generated ResourceQuota asks more than the cluster holds, even for a
/// stack written over its capacity: health-platform asks 8.3 CPUs of 4.
#[test]
fn quotas_never_exceed_the_capacity() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let description = common::repo().join("examples/health-platform.yaml");
    let (code, _, err) = gen_raw(&description, &out, &["--over-capacity"]);
    assert_eq!(code, Some(0), "{err}");
    let mut quotas = 0;
    for (path, bytes) in common::read_tree(&out) {
        let text = String::from_utf8_lossy(&bytes);
        if !text.contains("kind: ResourceQuota") || !path.starts_with("kustomize") {
            continue;
        }
        quotas += 1;
        let quota: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        let hard = &quota["spec"]["hard"];
        let cpu = hard["requests.cpu"].as_str().expect("requests.cpu");
        let millis = cpu.strip_suffix('m').map_or_else(|| cpu.parse::<u64>().map(|c| c * 1000), str::parse);
        assert!(millis.expect("a CPU quantity") <= 4000, "{}: requests.cpu {cpu}", path.display());
        if let Some(storage) = hard["requests.storage"].as_str() {
            let gi: u64 = storage.strip_suffix("Gi").and_then(|g| g.parse().ok()).expect("a Gi quantity");
            assert!(gi <= 200, "{}: requests.storage {storage}", path.display());
        }
    }
    assert!(quotas > 0, "the stack has quotas");
}
