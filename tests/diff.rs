//! `kubeproof diff OLD NEW` through the binary: a pair of manifests for each
//! class of change the API server refuses and each loss of data (exit 1,
//! named with its field and both positions), changes that apply (exit 0,
//! classified), JSON, and two descriptions generated for one environment.

use crate::common;

use std::path::Path;

/// `kubeproof diff ARGS` in `dir`: exit code and stdout.
fn diff(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .arg("diff")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run kubeproof");
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
}

/// `old` and `new` written as files, then diffed.
fn pair(old: &str, new: &str) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("old.yaml"), old).expect("write");
    std::fs::write(tmp.path().join("new.yaml"), new).expect("write");
    diff(tmp.path(), &["old.yaml", "new.yaml"])
}

const DEPLOYMENT: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: shop }\nspec:\n  \
    selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    spec:\n      \
    containers: [{ name: web, image: \"ghcr.io/acme/web:1.0.0\" }]\n";

const STATEFULSET: &str = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: db, namespace: shop }\nspec:\n  \
    serviceName: db\n  selector: { matchLabels: { app: db } }\n  template:\n    metadata: { labels: { app: db } }\n    \
    spec: { containers: [{ name: db, image: \"postgres:16.4\" }] }\n  volumeClaimTemplates:\n  - metadata: { name: data }\n    \
    spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 10Gi } } }\n";

const JOB: &str = "apiVersion: batch/v1\nkind: Job\nmetadata: { name: migrate, namespace: shop }\nspec:\n  template:\n    \
    spec: { restartPolicy: Never, containers: [{ name: m, image: \"ghcr.io/acme/web:1.0.0\" }] }\n";

const SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: shop }\nspec:\n  \
    clusterIP: 10.0.0.10\n  selector: { app: web }\n  ports: [{ port: 80 }]\n";

const CLAIM: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: data, namespace: shop }\nspec:\n  \
    storageClassName: fast\n  accessModes: [ReadWriteOnce]\n  resources: { requests: { storage: 10Gi } }\n";

const CONFIG: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: shop }\nimmutable: true\ndata: { a: \"1\" }\n";

const SECRET: &str =
    "apiVersion: v1\nkind: Secret\nmetadata: { name: s, namespace: shop }\ntype: Opaque\nstringData: { a: b }\n";

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n";

#[test]
fn each_refused_change_is_named_and_exits_1() {
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "deployment selector",
            DEPLOYMENT.into(),
            DEPLOYMENT.replace("{ app: web } }\n  template", "{ app: web, track: stable } }\n  template"),
            "/spec/selector/matchLabels/track",
        ),
        (
            "statefulset serviceName",
            STATEFULSET.into(),
            STATEFULSET.replace("serviceName: db", "serviceName: db-headless"),
            "/spec/serviceName",
        ),
        (
            "statefulset claim template",
            STATEFULSET.into(),
            STATEFULSET.replace("storage: 10Gi", "storage: 20Gi"),
            "/spec/volumeClaimTemplates",
        ),
        (
            "statefulset podManagementPolicy",
            STATEFULSET.into(),
            STATEFULSET.replace("  serviceName: db\n", "  serviceName: db\n  podManagementPolicy: Parallel\n"),
            "/spec/podManagementPolicy",
        ),
        ("job template", JOB.into(), JOB.replace("web:1.0.0", "web:1.1.0"), "/spec/template"),
        ("service clusterIP", SERVICE.into(), SERVICE.replace("10.0.0.10", "10.0.0.11"), "/spec/clusterIP"),
        (
            "headless service made a load balancer",
            SERVICE.replace("10.0.0.10", "None"),
            SERVICE.replace("10.0.0.10", "None").replace("  ports:", "  type: LoadBalancer\n  ports:"),
            "/spec/type",
        ),
        ("claim access modes", CLAIM.into(), CLAIM.replace("[ReadWriteOnce]", "[ReadWriteMany]"), "/spec/accessModes"),
        ("claim shrink", CLAIM.into(), CLAIM.replace("10Gi", "5Gi"), "/spec/resources/requests/storage"),
        ("claim storage class", CLAIM.into(), CLAIM.replace("fast", "slow"), "/spec/storageClassName"),
        ("immutable configmap", CONFIG.into(), CONFIG.replace("\"1\"", "\"2\""), "/data/a"),
        ("secret type", SECRET.into(), SECRET.replace("Opaque", "kubernetes.io/basic-auth"), "/type"),
    ];
    for (what, old, new, pointer) in cases {
        let (code, out) = pair(&old, &new);
        assert_eq!(code, Some(1), "{what}: {out}");
        let line = out.lines().find(|l| l.trim_start().starts_with("refused") && l.contains(pointer));
        assert!(line.is_some(), "{what}: no refused change at {pointer}:\n{out}");
        assert!(out.contains("old.yaml:") && out.contains("new.yaml:"), "{what}: both positions:\n{out}");
        assert!(out.contains("applying it is refused by the API server or loses data"), "{what}: {out}");
    }
}

#[test]
fn each_loss_of_data_is_named_and_exits_1() {
    let dropped_template = STATEFULSET.split("  volumeClaimTemplates:").next().unwrap_or_default().to_string();
    let cases: Vec<(&str, String, String, &str)> = vec![
        ("statefulset removed", STATEFULSET.into(), String::new(), "a StatefulSet removed"),
        ("claim removed", CLAIM.into(), String::new(), "a PersistentVolumeClaim removed"),
        ("namespace removed", NAMESPACE.into(), String::new(), "a Namespace removed"),
        ("claim template dropped", STATEFULSET.into(), dropped_template, "/spec/volumeClaimTemplates"),
    ];
    for (what, old, new, needle) in cases {
        let (code, out) = pair(&old, &new);
        assert_eq!(code, Some(1), "{what}: {out}");
        assert!(out.contains(needle), "{what}: {out}");
        assert!(out.contains("loses data") || out.contains("refused"), "{what}: {out}");
    }
}

#[test]
fn changes_that_apply_are_classified_and_exit_0() {
    let new = DEPLOYMENT.replace("web:1.0.0", "web:1.1.0");
    let (code, out) = pair(DEPLOYMENT, &new);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("recreates pods /spec/template/spec/containers/0/image"), "{out}");
    assert!(out.contains("1 changed, 0 added, 0 removed (objects: 1 recreates pods)"), "{out}");

    let (code, out) = pair(SERVICE, &SERVICE.replace("port: 80", "port: 8080"));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("connections") && out.contains("/spec/ports/0/port"), "{out}");

    let (code, out) = pair(CLAIM, &CLAIM.replace("10Gi", "20Gi"));
    assert_eq!(code, Some(0), "a claim may grow: {out}");

    let (code, out) = pair(DEPLOYMENT, &format!("{DEPLOYMENT}---\n{CONFIG}"));
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("added    ConfigMap/shop/c  (new.yaml:11:1)"), "{out}");
}

#[test]
fn json_lists_every_change() {
    let tmp = tempfile::tempdir().expect("temp dir");
    std::fs::write(tmp.path().join("old.yaml"), DEPLOYMENT).expect("write");
    let new = DEPLOYMENT.replace("{ app: web } }\n  template", "{ app: web, track: stable } }\n  template");
    std::fs::write(tmp.path().join("new.yaml"), new).expect("write");
    let (code, out) = diff(tmp.path(), &["old.yaml", "new.yaml", "--format", "json"]);
    assert_eq!(code, Some(1), "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let entry = &v["entries"][0];
    assert_eq!(entry["status"], "changed");
    assert_eq!(entry["object"], "Deployment/shop/web");
    assert_eq!(entry["changes"][0]["pointer"], "/spec/selector/matchLabels/track");
    assert_eq!(entry["changes"][0]["class"], "refused");
    assert_eq!(entry["changes"][0]["newAt"]["file"], "new.yaml");
    assert_eq!(entry["changes"][0]["newAt"]["line"], 5);
}

/// Two descriptions, generated for one environment: a datastore's version
/// bump recreates its pods and nothing is refused; an unknown environment is
/// a usage error.
#[test]
fn two_descriptions_generated_for_one_environment() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let shop = common::repo().join("examples/polyglot-shop.yaml");
    let text = std::fs::read_to_string(&shop).expect("example");
    assert!(text.contains("version: \"16.4\""));
    std::fs::write(tmp.path().join("bumped.yaml"), text.replace("version: \"16.4\"", "version: \"16.5\"")).expect("w");
    let (code, out) = diff(tmp.path(), &[&shop.to_string_lossy(), "bumped.yaml", "--env", "prod"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("changed  StatefulSet/polyglot-shop/catalog-db"), "{out}");
    assert!(out.contains("\"docker.io/library/postgres:16.4\" → \"docker.io/library/postgres:16.5\""), "{out}");
    assert!(!out.contains("refused"), "{out}");
    let (code, out) = diff(tmp.path(), &[&shop.to_string_lossy(), "bumped.yaml", "--env", "nope"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("no environment `nope`"), "{out}");
}
