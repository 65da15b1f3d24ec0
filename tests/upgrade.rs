//! Regenerating is safe to apply: between two generations of an example
//! (a datastore version bump, a canary added or removed), every object
//! present in both builds changes only in ways the API server accepts, and
//! nothing that holds data disappears — judged by `model::immutable`, on what
//! `kubectl kustomize` builds for each environment and on what real Helm 3.18
//! and 4.1 render with `values-ENV.yaml`.

use crate::common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{Failures, examples, have_kubectl, kustomize, parse_built};
use kubeproof::model::immutable::{Finding, compare};
use serde_json::Value;

/// The objects of one generation, by how they were built: `kustomize ENV`
/// or `helm-VERSION ENV`.
type Builds = BTreeMap<String, Vec<Value>>;

/// `helm template` of the chart with each environment's values, for each
/// Helm binary; kustomize of each overlay.
fn build(description: &Path) -> Result<Builds, String> {
    let platform = kubeproof::description::load(description).map_err(|e| format!("{e:?}"))?;
    let kube_version = format!("{}.0", platform.cluster.kubernetes.value);
    let tmp = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = tmp.path().join("deploy");
    common::try_gen(description, &out)?;
    let chart = out.join("helm").join(platform.name.as_str());
    let mut builds = Builds::new();
    for env in common::overlays(&out) {
        let overlay = out.join("kustomize/overlays").join(&env);
        common::prepare_secrets(&overlay);
        builds.insert(format!("kustomize {env}"), parse_built(&kustomize(&overlay)?)?);
        let values = chart.join(format!("values-{env}.yaml"));
        for (version, bin) in common::helms() {
            let args = [
                "template".as_ref(),
                "r".as_ref(),
                chart.as_os_str(),
                "-f".as_ref(),
                values.as_os_str(),
                "--kube-version".as_ref(),
                kube_version.as_ref(),
            ];
            builds.insert(format!("helm-{version} {env}"), helm_objects(&bin, &args)?);
        }
    }
    Ok(builds)
}

/// What Helm renders, without its hooks: Helm deletes a hook object (the
/// migration Jobs, `hook-delete-policy: before-hook-creation`) and creates
/// it again on each upgrade rather than updating it, so no immutable field
/// of a hook is ever updated.
fn helm_objects(bin: &Path, args: &[&std::ffi::OsStr]) -> Result<Vec<Value>, String> {
    let o = Command::new(bin).args(args).output().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !o.status.success() {
        return Err(format!("{} {args:?}: {}", bin.display(), String::from_utf8_lossy(&o.stderr)));
    }
    let objects = parse_built(&String::from_utf8_lossy(&o.stdout))?;
    Ok(objects.into_iter().filter(|v| v.pointer("/metadata/annotations/helm.sh~1hook").is_none()).collect())
}

/// Every example as written, built once for all the tests of this file
/// (the examples side by side: most of the time is spent waiting for gen,
/// kubectl and helm processes).
fn originals() -> &'static BTreeMap<String, Result<Builds, String>> {
    static ORIGINALS: OnceLock<BTreeMap<String, Result<Builds, String>>> = OnceLock::new();
    ORIGINALS.get_or_init(|| {
        let all = examples();
        std::thread::scope(|scope| {
            let handles: Vec<_> = all.iter().map(|d| (common::stem(d), scope.spawn(|| build(d)))).collect();
            handles
                .into_iter()
                .map(|(name, h)| (name, h.join().unwrap_or_else(|_| Err("the build panicked".into()))))
                .collect()
        })
    })
}

/// The refused changes and losses from `old` to `new`, build by build.
fn unsafe_changes(label: &str, old: &Builds, new: &Builds, failures: &mut Failures) {
    for (how, before) in old {
        let Some(after) = new.get(how) else {
            failures.add(format!("{label}, {how}"), "built before, not after");
            continue;
        };
        let found: Vec<String> = compare(before, after).iter().map(shown).collect();
        if !found.is_empty() {
            failures.add(format!("{label}, {how}"), found.join("\n"));
        }
    }
}

fn shown(f: &Finding) -> String {
    // A value cut short: a pod template is long.
    let value = |v: &Option<Value>| {
        let text = v.as_ref().map_or("(absent)".into(), Value::to_string);
        match text.char_indices().nth(200) {
            Some((i, _)) => format!("{}…", &text[..i]),
            None => text,
        }
    };
    match f {
        Finding::Refused(key, r) => {
            format!("{key} {}: refused ({}): {} → {}", r.pointer, r.rule.says(), value(&r.old), value(&r.new))
        }
        Finding::Lost(key, l) => format!("{key} {}: data lost ({:?})", l.pointer, l.loss),
    }
}

/// A copy of `description` changed by `edit`, written beside it in `dir`.
fn edited(description: &Path, dir: &Path, edit: &dyn Fn(&str) -> String) -> PathBuf {
    let text = std::fs::read_to_string(description).expect("the example reads");
    let copy = dir.join(description.file_name().expect("a file name"));
    std::fs::write(&copy, edit(&text)).expect("write the copy");
    copy
}

fn tools() -> bool {
    have_kubectl() && !common::helms().is_empty()
}

/// Adding a canary, then removing it, changes no selector of the stable
/// Deployment: both directions apply.
#[test]
fn a_canary_comes_and_goes_without_a_refused_change() {
    if !tools() {
        return;
    }
    let mut failures = Failures::default();
    let mut canaries = 0;
    for description in examples() {
        let name = common::stem(&description);
        let text = std::fs::read_to_string(&description).expect("the example reads");
        if !text.lines().any(|l| l.trim_start().starts_with("canary:")) {
            continue;
        }
        canaries += 1;
        let tmp = tempfile::tempdir().expect("temp dir");
        let without = edited(&description, tmp.path(), &|t| {
            t.lines().filter(|l| !l.trim_start().starts_with("canary:")).map(|l| format!("{l}\n")).collect()
        });
        let without = build(&without);
        let (with, without) = match (&originals()[&name], &without) {
            (Ok(w), Ok(wo)) => (w, wo),
            (Err(e), _) | (_, Err(e)) => {
                failures.add(&name, e);
                continue;
            }
        };
        assert!(with.values().any(|objects| objects.iter().any(is_canary)), "{name}: the canary is generated");
        assert!(!without.values().any(|objects| objects.iter().any(is_canary)), "{name}: and removed");
        for (how, objects) in with {
            failures.extend(overlapping(&format!("{name}, {how}"), objects));
        }
        unsafe_changes(&format!("{name}: canary added"), without, with, &mut failures);
        unsafe_changes(&format!("{name}: canary removed"), with, without, &mut failures);
    }
    assert!(canaries >= 2, "machine-native-ops and kailash run a canary");
    failures.assert_none("a canary added or removed");
}

/// Deployments of one namespace whose selector matches another's pods
/// (the stable one and its canary would fight over their pods).
fn overlapping(label: &str, objects: &[Value]) -> Failures {
    let mut failures = Failures::default();
    let deployments: Vec<&Value> = objects.iter().filter(|v| v["kind"] == "Deployment").collect();
    for a in &deployments {
        let checked = kubeproof::model::Value::from(a["spec"]["selector"].clone());
        let selector = kubeproof::model::selector::Selector::of(&checked);
        for b in deployments.iter().filter(|b| b["metadata"] != a["metadata"]) {
            let labels: BTreeMap<String, String> = b["spec"]["template"]["metadata"]["labels"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect();
            if a["metadata"]["namespace"] == b["metadata"]["namespace"] && selector.matches(&labels) {
                let (x, y) = (common::object_id(a), common::object_id(b));
                failures.add(label, format!("{x} selects the pods of {y}"));
            }
        }
    }
    failures
}

fn is_canary(v: &Value) -> bool {
    v["kind"] == "Deployment"
        && v.pointer("/metadata/name").and_then(Value::as_str).is_some_and(|n| n.ends_with("-canary"))
}

/// `16.4` → `16.5`, `7.4.1` → `7.4.2`, `3.13.7-management` →
/// `3.13.8-management`: the last number of the version, plus one.
fn bumped(version: &str) -> String {
    let digits = regex::Regex::new(r"\d+").expect("a regex");
    let Some(last) = digits.find_iter(version).last() else { return format!("{version}-1") };
    let n: u64 = last.as_str().parse().expect("digits");
    format!("{}{}{}", &version[..last.start()], n + 1, &version[last.end()..])
}

/// Every datastore's `version:` in the description text, bumped.
fn bump_versions(text: &str) -> String {
    let version = regex::Regex::new(r#"(\bversion:\s*"?)([^"\s,}]+)"#).expect("a regex");
    version.replace_all(text, |c: &regex::Captures| format!("{}{}", &c[1], bumped(&c[2]))).into_owned()
}

#[test]
fn versions_are_bumped_by_their_last_number() {
    assert_eq!(bumped("16.4"), "16.5");
    assert_eq!(bumped("7.4.9"), "7.4.10");
    assert_eq!(bumped("3.13.7-management"), "3.13.8-management");
    assert_eq!(bumped("RELEASE.2024-10-13T13-34-11Z"), "RELEASE.2024-10-13T13-34-12Z");
    assert_eq!(
        bump_versions("  redis: { engine: redis, version: \"7.4.1\", storage: 5Gi }"),
        "  redis: { engine: redis, version: \"7.4.2\", storage: 5Gi }"
    );
}

/// A new version of every datastore at once (each datastore's objects are
/// its own, so one regeneration shows what each bump alone would): every
/// environment, both ways, applies over the previous generation.
#[test]
fn a_datastore_version_bump_regenerates_without_a_refused_change() {
    if !tools() {
        return;
    }
    let mut failures = Failures::default();
    for description in examples() {
        let name = common::stem(&description);
        let platform = kubeproof::description::load(&description).expect("the example loads");
        if platform.datastores.is_empty() {
            continue;
        }
        let tmp = tempfile::tempdir().expect("temp dir");
        let copy = edited(&description, tmp.path(), &bump_versions);
        let bumped_platform = kubeproof::description::load(&copy).expect("the bumped copy loads");
        for (store, d) in &platform.datastores {
            let (old, new) =
                (d.version.as_ref().map(|v| &v.0), bumped_platform.datastores[store].version.as_ref().map(|v| &v.0));
            assert!(old.is_some() && old != new, "{name}: datastore {store} is bumped ({old:?} → {new:?})");
        }
        let after = build(&copy);
        match (&originals()[&name], &after) {
            (Ok(before), Ok(after)) => {
                unsafe_changes(&format!("{name}: datastores bumped"), before, after, &mut failures)
            }
            (Err(e), _) | (_, Err(e)) => failures.add(&name, e),
        }
    }
    failures.assert_none("a datastore version bump");
}
