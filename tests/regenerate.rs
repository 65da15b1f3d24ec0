//! `gen` into a folder holding an earlier generation compares the two, per
//! environment, through the record each overlay keeps
//! (`immutable-fields.json`): a change the API server would refuse, or one
//! that loses data, stops it (exit 1, nothing written) unless
//! `--allow-replace`, which writes and lists the objects to delete first.
//! A datastore's version bump regenerates cleanly.

use crate::common;

use std::path::Path;

/// `gen` as given: exit code and everything it printed.
fn gen_raw(description: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let (code, stdout, stderr) = common::gen_as_given(description, out, extra);
    (code, stdout + &stderr)
}

#[test]
fn a_refused_or_lossy_regeneration_stops_unless_allowed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let text = std::fs::read_to_string(common::repo().join("examples/polyglot-shop.yaml")).expect("example");
    let description = tmp.path().join("polyglot-shop.yaml");
    std::fs::write(&description, &text).expect("write");
    let (code, log) = gen_raw(&description, &out, &[]);
    assert_eq!(code, Some(0), "{log}");
    let record = out.join("kustomize/overlays/prod/immutable-fields.json");
    let before = std::fs::read_to_string(&record).expect("each overlay keeps its record");
    assert!(before.contains("\"name\": \"catalog-db\""), "{before}");

    // A bigger volume claim template: a StatefulSet cannot change it in place.
    assert!(text.contains("    storage: 10Gi\n"));
    std::fs::write(&description, text.replacen("    storage: 10Gi\n", "    storage: 20Gi\n", 1)).expect("write");
    let (code, log) = gen_raw(&description, &out, &[]);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("prod: StatefulSet/polyglot-shop/catalog-db: /spec/volumeClaimTemplates:"), "{log}");
    assert!(log.contains("a StatefulSet may only change replicas"), "{log}");
    assert!(log.contains("--allow-replace writes it anyway") && log.contains("nothing was written"), "{log}");
    assert_eq!(std::fs::read_to_string(&record).expect("record"), before, "nothing was written");

    let (code, log) = gen_raw(&description, &out, &["--allow-replace"]);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("written anyway (--allow-replace); delete these first"), "{log}");
    assert!(log.contains("kubectl -n polyglot-shop delete statefulset catalog-db"), "{log}");
    assert_ne!(std::fs::read_to_string(&record).expect("record"), before);

    // The same generation again: nothing to say.
    let (code, log) = gen_raw(&description, &out, &[]);
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("refused"), "{log}");
}

/// A datastore removed from the description: its StatefulSet and the data
/// of its claims go.
#[test]
fn a_removed_datastore_is_a_loss_of_data() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let description = tmp.path().join("tiny.yaml");
    let service = "services:\n  web:\n    image: ghcr.io/example/web:1.0.0\n    port: 8080\n";
    let head = "apiVersion: kubeproof.dev/v1alpha1\nname: tiny\ncluster: { kubernetes: \"1.30\" }\n";
    let store = "    uses: [db]\ndatastores:\n  db: { engine: postgres, version: \"16.4\", storage: 1Gi }\n";
    std::fs::write(&description, format!("{head}{service}{store}")).expect("write");
    let (code, log) = gen_raw(&description, &out, &[]);
    assert_eq!(code, Some(0), "{log}");
    std::fs::write(&description, format!("{head}{service}")).expect("write");
    let (code, log) = gen_raw(&description, &out, &[]);
    assert_eq!(code, Some(1), "{log}");
    assert!(log.contains("default: StatefulSet/tiny/db: loses data: a StatefulSet removed"), "{log}");
    assert!(log.contains("nothing was written"), "{log}");
}

#[test]
fn a_datastore_version_bump_regenerates_cleanly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let text = std::fs::read_to_string(common::repo().join("examples/polyglot-shop.yaml")).expect("example");
    let description = tmp.path().join("polyglot-shop.yaml");
    std::fs::write(&description, &text).expect("write");
    assert_eq!(gen_raw(&description, &out, &[]).0, Some(0));
    std::fs::write(&description, text.replace("version: \"16.4\"", "version: \"16.5\"")).expect("write");
    let (code, log) = gen_raw(&description, &out, &[]);
    assert_eq!(code, Some(0), "{log}");
    assert!(!log.contains("refused") && !log.contains("loses data"), "{log}");
    // The classified changes, per environment.
    assert!(log.contains("changes from the generation in"), "{log}");
    let prod = log.lines().skip_while(|l| !l.starts_with("  prod: ")).take(3).collect::<Vec<_>>().join("\n");
    assert!(prod.contains("recreates pods: StatefulSet/polyglot-shop/catalog-db"), "{log}");
    assert!(prod.starts_with("  prod: ") && prod.contains("0 added, 0 removed"), "{log}");
}

/// An earlier generation without a record (written by an older kubeproof):
/// `gen` says it cannot compare, and points at `kubeproof diff`.
#[test]
fn an_earlier_generation_without_a_record_is_said() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let description = common::repo().join("examples/fingerprint-api.yaml");
    assert_eq!(gen_raw(&description, &out, &[]).0, Some(0));
    std::fs::remove_file(out.join("kustomize/overlays/production/immutable-fields.json")).expect("remove");
    let (code, log) = gen_raw(&description, &out, &["--force"]);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("note: the earlier generation of production in"), "{log}");
    assert!(log.contains("has no immutable-fields.json to compare with; `kubeproof diff`"), "{log}");
    assert!(!log.contains("of staging"), "{log}");
}
