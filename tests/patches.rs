//! `patches:`: what `gen` proves (the stack patched in memory) is exactly
//! what `kubectl kustomize` builds from the files it writes (the base's
//! patches listed in its kustomization, the overlays' diffs on top), for
//! both forms, per service, per datastore and per environment. A patch that
//! targets nothing, does not apply or breaks a check fails `gen`.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

const FIXTURE: &str = "tests/data/patches/platform.yaml";

fn by_id(objects: impl IntoIterator<Item = Value>) -> BTreeMap<String, Value> {
    objects.into_iter().map(|o| (common::object_id(&o), o)).collect()
}

#[test]
fn kustomize_builds_what_gen_proved() {
    if !common::have_kubectl() {
        return;
    }
    let file = common::repo().join(FIXTURE);
    let platform = kubeproof::description::load(&file).expect("the fixture loads");
    let built = kubeproof::build::build(&platform, &file).expect("the fixture generates");
    let dir = tempfile::tempdir().expect("temp dir");
    common::gen_ok(&file, dir.path());
    let root = dir.path().join("kustomize");
    let mut dirs = vec![("base".to_string(), &built.base)];
    dirs.extend(built.envs.iter().map(|(env, stack)| (format!("overlays/{env}"), stack)));
    assert_eq!(dirs.len(), 3, "the base, staging and prod");
    for (d, stack) in dirs {
        let yaml = common::kustomize(&root.join(&d)).unwrap_or_else(|e| panic!("{e}"));
        let kustomized = by_id(common::parse_built(&yaml).expect("parses"));
        let proved = by_id(stack.objects.iter().map(|o| o.value.clone()));
        assert_eq!(kustomized.keys().collect::<Vec<_>>(), proved.keys().collect::<Vec<_>>(), "{d}");
        for (id, o) in &proved {
            assert_eq!(&kustomized[id], o, "{d}: {id}");
        }
    }
    // The environment's own patch is listed as written, after the diffs;
    // the base's in the base kustomization.
    let prod = std::fs::read_to_string(root.join("overlays/prod/kustomization.yaml")).expect("prod kustomization");
    assert!(prod.contains("priorityClassName: shop-critical") && prod.contains("kind: Deployment"), "{prod}");
    let mut dirs = vec![root.join("overlays/prod/patches")];
    let mut diffs = 0;
    while let Some(d) = dirs.pop() {
        for entry in std::fs::read_dir(&d).expect("computed diffs").flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            diffs += 1;
            let text = std::fs::read_to_string(&path).expect("a diff");
            assert!(!text.contains("priorityClassName"), "{}: {text}", path.display());
        }
    }
    assert!(diffs > 0, "prod's scale makes diffs");
    let base = std::fs::read_to_string(root.join("base/kustomization.yaml")).expect("base kustomization");
    assert_eq!(base.matches("- patch: ").count(), 3, "{base}");
    // The patches took: a sidecar and a variable, an annotation on the
    // Service and on the datastore's pods, a priority class in prod only.
    let deployment = |env: &str| {
        let stack = &built.envs.iter().find(|(e, _)| e == env).expect("env").1;
        stack.objects.iter().find(|o| o.kind == "Deployment").expect("a Deployment").value.clone()
    };
    let prod = deployment("prod");
    let pod = &prod["spec"]["template"]["spec"];
    let names: Vec<&str> =
        pod["containers"].as_array().expect("containers").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(names, ["shop", "flags-sync"]);
    let shop = pod["containers"].as_array().expect("containers").iter().find(|c| c["name"] == "shop").expect("shop");
    assert!(shop["env"].as_array().expect("env").iter().any(|e| e["name"] == "FEATURE_FLAGS"), "{shop}");
    assert!(shop["image"].is_string(), "merged, not replaced: {shop}");
    assert_eq!(pod["priorityClassName"], "shop-critical");
    assert!(deployment("staging")["spec"]["template"]["spec"].get("priorityClassName").is_none());
    let service = built.base.objects.iter().find(|o| o.kind == "Service" && o.name == "shop").expect("Service");
    assert_eq!(service.value["metadata"]["annotations"]["team"], "storefront");
    let set = built.base.objects.iter().find(|o| o.kind == "StatefulSet").expect("StatefulSet");
    assert_eq!(set.value["spec"]["template"]["metadata"]["annotations"]["cache-tier"], "hot");
}

/// `gen` of the fixture with `old` replaced by `new`: refused (exit 2,
/// nothing written) with `message` at `line:column`.
fn refused(old: &str, new: &str, message: &str, pos: &str) {
    refused_with(2, old, new, message, pos);
}

/// [`refused`] with exit code `code`.
fn refused_with(code: i32, old: &str, new: &str, message: &str, pos: &str) {
    let text = std::fs::read_to_string(common::repo().join(FIXTURE)).expect("fixture");
    assert_eq!(text.matches(old).count(), 1, "`{old}` once");
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("platform.yaml"), text.replacen(old, new, 1)).expect("write");
    let out = common::kubeproof(["gen", "platform.yaml", "-o", "deploy"], Some(dir.path()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    assert!(!Path::new(&dir.path().join("deploy")).exists(), "{stderr}");
    assert!(stderr.contains(message), "`{message}` in:\n{stderr}");
    if !pos.is_empty() {
        assert!(stderr.contains(&format!("--> platform.yaml:{pos}\n")), "at {pos}:\n{stderr}");
    }
}

#[test]
fn a_patch_that_targets_nothing_fails_gen_at_the_patch() {
    refused(
        "{ kind: Service, name: shop }",
        "{ kind: Service, name: shoop }",
        "the patch targets Service hatch/shoop, which is not generated",
        "37:11",
    );
}

#[test]
fn a_patch_that_does_not_apply_fails_gen() {
    refused(
        "path: /metadata/annotations, value: { team",
        "path: /metadata/nothing/here, value: { team",
        "the patch of Service hatch/shop does not apply",
        "37:11",
    );
}

#[test]
fn a_patch_that_breaks_a_check_fails_gen_with_the_check_message() {
    // The sidecar's securityContext removed: it may run as root.
    refused_with(
        1,
        "                    securityContext:\n                      allowPrivilegeEscalation: false\n                      readOnlyRootFilesystem: true\n                      runAsNonRoot: true\n                      capabilities: { drop: [ALL] }\n",
        "",
        "container `flags-sync` does not set `allowPrivilegeEscalation: false`",
        "",
    );
}

#[test]
fn a_finding_of_one_environment_is_reported_for_that_environment_only() {
    // `gen` proves every environment; only prod's patch breaks a check.
    let text = std::fs::read_to_string(common::repo().join(FIXTURE)).expect("fixture");
    let old = "spec: { template: { spec: { priorityClassName: shop-critical } } }";
    assert_eq!(text.matches(old).count(), 1);
    let dir = tempfile::tempdir().expect("dir");
    let new = "spec: { template: { spec: { priorityClassName: shop-critical, hostPID: true } } }";
    std::fs::write(dir.path().join("platform.yaml"), text.replacen(old, new, 1)).expect("write");
    let out = common::kubeproof(["gen", "platform.yaml", "-o", "deploy"], Some(dir.path()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!dir.path().join("deploy").exists(), "{stderr}");
    let reports: Vec<&str> = stderr.lines().filter(|l| l.contains("kubeproof check, environment")).collect();
    assert_eq!(reports, ["error: kubeproof check, environment prod:"], "{stderr}");
    assert!(stderr.contains("kustomize/overlays/prod/"), "{stderr}");
    assert!(!stderr.contains("kustomize/overlays/staging/"), "{stderr}");
}

#[test]
fn an_environment_patch_needs_a_target_and_directives_are_refused() {
    refused(
        "      - target: { kind: Deployment, name: shop }\n        merge:",
        "      - merge:",
        "an environment's patch needs a `target`",
        "54:11",
    );
    refused(
        "priorityClassName: shop-critical",
        "priorityClassName: shop-critical, $patch: replace",
        "`merge` directives are not supported",
        "55:11",
    );
}

/// A service's own patch (no `target`) changes its pods, so the canary's
/// too: a canary without the stable pods' patched sidecar or variable
/// would be judged on other pods than the ones it replaces. Where no
/// canary runs (an environment without the mesh), the patch still applies.
#[test]
fn a_service_patch_reaches_its_canary() {
    let text = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster: { kubernetes: \"1.30\", mesh: istio }\n\
                environments:\n  dev: { mesh: none }\n  prod: {}\n\
                services:\n  web:\n    image: ghcr.io/example/web:1.0.0\n    port: 8080\n    replicas: 2\n    \
                traffic: { canary: { image: ghcr.io/example/web:1.1.0, steps: [10, 50] } }\n    patches:\n      \
                - merge: { spec: { template: { metadata: { annotations: { flags: enabled } } } } }\n      \
                - ops: [{ op: add, path: /metadata/labels/tier, value: front }]\n";
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("platform.yaml");
    std::fs::write(&file, text).expect("written");
    let platform = kubeproof::description::load(&file).expect("loads");
    let built = kubeproof::build::build(&platform, &file).expect("generates");
    let mut stacks = vec![("base".to_string(), &built.base)];
    stacks.extend(built.envs.iter().map(|(env, stack)| (format!("overlays/{env}"), stack)));
    for (d, stack) in &stacks {
        let deployments: Vec<_> = stack.objects.iter().filter(|o| o.kind == "Deployment").collect();
        let canary = deployments.iter().any(|o| o.name == "web-canary");
        assert_eq!(canary, d != "overlays/dev", "{d}: a canary only under the mesh");
        for o in deployments {
            assert_eq!(
                o.value.pointer("/spec/template/metadata/annotations/flags"),
                Some(&Value::from("enabled")),
                "{d}: {}",
                o.name
            );
            assert_eq!(o.value.pointer("/metadata/labels/tier"), Some(&Value::from("front")), "{d}: {}", o.name);
        }
    }
    if !common::have_kubectl() {
        return;
    }
    let out = dir.path().join("deploy");
    common::gen_ok(&file, &out);
    for (d, stack) in stacks {
        let yaml = common::kustomize(&out.join("kustomize").join(&d)).unwrap_or_else(|e| panic!("{e}"));
        let kustomized = by_id(common::parse_built(&yaml).expect("parses"));
        assert_eq!(kustomized, by_id(stack.objects.iter().map(|o| o.value.clone())), "{d}");
    }
}

/// A job's Job is named by a hash of its spec (`migrate-1a2b3c4d`), a name
/// that changes with it: a patch naming the job is refused with why, not as
/// a target that "is not generated".
#[test]
fn a_patch_of_a_hash_named_job_says_why_it_is_refused() {
    let text = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster: { kubernetes: \"1.30\" }\n\
                environments:\n  prod:\n    patches:\n      - target: { kind: Job, name: migrate }\n        \
                merge: { spec: { backoffLimit: 2 } }\n\
                services:\n  web: { image: ghcr.io/example/web:1.0.0, port: 8080 }\n\
                jobs:\n  migrate: { image: ghcr.io/example/migrate:1.0.0 }\n";
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("platform.yaml"), text).expect("write");
    let out = common::kubeproof(["gen", "platform.yaml", "-o", "deploy", "--color", "never"], Some(dir.path()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(!dir.path().join("deploy").exists(), "{stderr}");
    let message = "error: the patch targets Job migrate, the job `migrate`: its Job is named by a hash of its \
                   spec (migrate-";
    assert!(stderr.contains(message), "{stderr}");
    assert!(stderr.contains("which changes with it, so no patch can follow it"), "{stderr}");
    assert!(stderr.contains("--> platform.yaml:8:16\n"), "{stderr}");
    assert!(stderr.contains("= help: set it under `jobs.migrate`"), "{stderr}");
}
