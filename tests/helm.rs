//! The Helm chart `gen` writes beside the kustomize tree, proven with real
//! Helm 3.18 and 4.1 (`./scripts/test` installs both under `target/tools/`):
//! for every example and environment, `helm lint --strict` passes with the
//! environment's values file, and `helm template` renders the same objects,
//! field by field, as `kubectl kustomize` builds the overlay (the chart's
//! labels aside: `helm.sh/chart`, `app.kubernetes.io/instance` and
//! `version`; the chart creates no Secret, where kustomize generates them
//! with hashed names). The rendered objects pass `kubeproof check` and
//! `kubernetes-validate --strict`, and Helm itself refuses a value of the
//! wrong type or an unknown key through `values.schema.json`. The `helm test`
//! hooks, which only the chart has, are left out of the comparison and
//! checked apart (`helm_hooks`): one per Service and per `uses` edge to a
//! datastore, each proven to reach its target under the rendered policies.

use crate::common;
use crate::helm_hooks;

use helm_hooks::Site;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Failures, examples, have_kubectl, have_validator, kustomize, parse_built};
use serde_json::Value;

/// The Helm binaries `./scripts/test` installs.
fn helms() -> Vec<PathBuf> {
    common::helms().into_iter().map(|(_, path)| path).collect()
}

/// `helm ARGS`: its output, or its error with the command.
fn helm(bin: &Path, args: &[&str]) -> Result<String, String> {
    let o = Command::new(bin).args(args).output().map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    if o.status.success() {
        Ok(out)
    } else {
        Err(format!("{} {args:?} failed:\n{out}{}", bin.display(), String::from_utf8_lossy(&o.stderr)))
    }
}

/// Objects by `apiVersion kind namespace/name`.
fn by_id(objects: Vec<Value>) -> BTreeMap<String, Value> {
    objects.into_iter().map(|o| (common::object_id(&o), o)).collect()
}

/// What kustomize builds, made comparable with the chart: the Secrets its
/// generators make are left out (the chart references existing ones), and
/// references to their hashed names (`NAME-5f7b8c9d2k`) name them plainly.
/// The Secrets come back apart: the check of the rendered chart takes them
/// as the prerequisites the user creates.
fn kustomize_objects(yaml: &str) -> Result<(BTreeMap<String, Value>, Vec<Value>), String> {
    let objects = parse_built(yaml)?;
    let mut text = yaml.to_string();
    for o in objects.iter().filter(|o| o["kind"] == "Secret") {
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        if let Some((plain, hash)) = name.rsplit_once('-')
            && hash.len() == 10
        {
            text = text.replace(name, plain);
        }
    }
    let (secrets, objects): (Vec<Value>, Vec<Value>) =
        parse_built(&text)?.into_iter().partition(|o| o["kind"] == "Secret");
    Ok((by_id(objects), secrets))
}

/// The labels the chart's helper adds to every object's own.
const HELM_LABELS: [&str; 3] = ["helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/version"];

/// What Helm renders, without the chart's own labels (each object must carry
/// them: the release `r` and the chart's version): the objects, and apart
/// the test hooks (`helm test`'s, which only the chart has).
fn helm_objects(yaml: &str) -> Result<(BTreeMap<String, Value>, Vec<Value>), String> {
    let mut objects = parse_built(yaml)?;
    for o in &mut objects {
        let id = common::object_id(o);
        let labels = o.pointer_mut("/metadata/labels").and_then(Value::as_object_mut);
        let Some(labels) = labels.filter(|l| l.get("app.kubernetes.io/instance") == Some(&Value::from("r"))) else {
            return Err(format!("{id}: without the chart's labels"));
        };
        for l in HELM_LABELS {
            labels.remove(l).ok_or_else(|| format!("{id}: without the label {l}"))?;
        }
    }
    let (hooks, objects): (Vec<Value>, Vec<Value>) = objects.into_iter().partition(is_test_hook);
    Ok((by_id(objects), hooks))
}

/// A `helm test` hook: `helm.sh/hook` lists `test`.
fn is_test_hook(o: &Value) -> bool {
    o.pointer("/metadata/annotations/helm.sh~1hook")
        .and_then(Value::as_str)
        .is_some_and(|h| h.split(',').any(|e| e.trim() == "test"))
}

/// The first field where two values differ, as a JSON pointer with both sides.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let path = format!("{at}/{k}");
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => first_difference(p, q, &path),
                    (p, q) => Some(format!("{path}: helm {}, kustomize {}", shown(p), shown(q))),
                }
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}/{i}")))
        }
        _ => (a != b).then(|| format!("{at}: helm {}, kustomize {}", shown(Some(a)), shown(Some(b)))),
    }
}

/// A value in a difference, cut short (a list of rules is long).
fn shown(v: Option<&Value>) -> String {
    let Some(v) = v else { return "(absent)".into() };
    let text = v.to_string();
    match text.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// The differences between what Helm and kustomize made, one line each.
fn differences(helm: &BTreeMap<String, Value>, kustomize: &BTreeMap<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    for (id, k) in kustomize {
        match helm.get(id) {
            None => out.push(format!("{id}: built by kustomize, not rendered by Helm")),
            Some(h) => out.extend(first_difference(h, k, "").map(|d| format!("{id}: {d}"))),
        }
    }
    out.extend(helm.keys().filter(|id| !kustomize.contains_key(*id)).map(|id| format!("{id}: rendered by Helm only")));
    out
}

#[test]
fn every_environment_renders_what_its_overlay_builds_with_both_helms() {
    let helms = helms();
    if helms.is_empty() || !have_kubectl() {
        return;
    }
    let mut failures = Failures::default();
    let mut rendered = Vec::new();
    let mut folders = Vec::new(); // kept until the rendered streams are checked
    for description in examples() {
        let name = common::stem(&description);
        let platform = kubeproof::description::load(&description).expect("the example loads");
        let kube = platform.cluster.kubernetes.value.to_string();
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("deploy");
        common::gen_ok(&description, &out);
        let chart = out.join("helm").join(platform.name.as_str());
        for env in common::overlays(&out) {
            let overlay = out.join("kustomize/overlays").join(&env);
            common::prepare_secrets(&overlay);
            let (built, secrets) = match kustomize(&overlay).and_then(|y| kustomize_objects(&y)) {
                Ok(b) => b,
                Err(e) => {
                    failures.add(format!("{name} {env}: kustomize"), e);
                    continue;
                }
            };
            let values = chart.join(format!("values-{env}.yaml"));
            let (chart_s, values_s) = (chart.to_string_lossy(), values.to_string_lossy());
            let mut first_hooks: Option<Vec<Value>> = None;
            for bin in &helms {
                let label = format!("{name} {env} ({})", bin.display());
                if let Err(e) = helm(bin, &["lint", "--strict", &chart_s, "-f", &values_s]) {
                    failures.add(format!("{label}: lint"), e);
                }
                let kube_version = format!("{kube}.0");
                let args = ["template", "r", &chart_s, "-f", &values_s, "--kube-version", &kube_version];
                match helm(bin, &args).and_then(|y| Ok((helm_objects(&y)?, y))) {
                    Err(e) => failures.add(format!("{label}: template"), e),
                    Ok(((objects, hooks), yaml)) => {
                        let diffs = differences(&objects, &built);
                        if !diffs.is_empty() {
                            failures.add(format!("{label}: differs from the overlay"), diffs.join("\n"));
                        }
                        let secrets: String = secrets.iter().map(|s| format!("---\n{s}\n")).collect();
                        let yaml = yaml + &secrets;
                        // Proven on the first Helm's rendering; the other renders the same hooks.
                        match &first_hooks {
                            None => {
                                let site = Site { platform: &platform, file: &description, env: &env, built: &built };
                                if let Err(e) = helm_hooks::check(&site, &hooks, &yaml) {
                                    failures.add(format!("{label}: the test hooks"), e);
                                }
                                first_hooks = Some(hooks);
                            }
                            Some(first) if *first != hooks => {
                                failures.add(format!("{label}: the test hooks"), "differ from the first Helm's");
                            }
                            Some(_) => {}
                        }
                        rendered.push((format!("{name}-{env}"), out.clone(), kube.clone(), yaml));
                    }
                }
            }
        }
        folders.push(tmp);
    }
    check_rendered(&rendered, &mut failures);
    validate_rendered(&rendered, &mut failures);
    failures.assert_none("the Helm chart");
}

/// `kubeproof check` of each rendered stream, with the Secrets the chart
/// leaves to the user (in the output folder, with the `.kubeproof.yaml` gen
/// wrote), finds no error and no warning.
fn check_rendered(rendered: &[(String, PathBuf, String, String)], failures: &mut Failures) {
    for (label, out, _, yaml) in rendered {
        let file = out.join(format!("{label}.helm.yaml"));
        std::fs::write(&file, yaml).expect("write the rendered chart");
        let o = common::kubeproof([std::ffi::OsStr::new("check"), file.as_os_str()], Some(out));
        let report = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        if !report.contains(": 0 error(s), 0 warning(s)") {
            failures.add(format!("{label}: kubeproof check of the rendered chart"), report);
        }
    }
}

/// The schema validator (`kubernetes-validate --strict`, at each example's
/// Kubernetes version) passes every rendered stream, in one run per version.
fn validate_rendered(rendered: &[(String, PathBuf, String, String)], failures: &mut Failures) {
    if !have_validator() {
        return;
    }
    let mut by_version: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
    for (label, _, kube, yaml) in rendered {
        by_version.entry(kube.as_str()).or_default().push((label.as_str(), yaml.as_str()));
    }
    for (kube, streams) in by_version {
        let yamls: Vec<&str> = streams.iter().map(|(_, y)| *y).collect();
        for ((label, _), result) in streams.iter().zip(common::validate_many(&yamls, kube)) {
            if let Err(e) = result {
                failures.add(format!("{label}: kubernetes-validate of the rendered chart"), e);
            }
        }
    }
}

/// Helm refuses, through `values.schema.json`, a values file that gives a
/// field a value of the wrong type or names a field the chart does not have.
#[test]
fn helm_refuses_a_wrong_value_through_the_schema() {
    let helms = helms();
    if helms.is_empty() {
        return;
    }
    let description = common::repo().join("examples/polyglot-shop.yaml");
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    common::gen_ok(&description, &out);
    let chart = out.join("helm/polyglot-shop");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(chart.join("values.schema.json")).expect("schema"))
            .expect("JSON");
    // The knob a Helm user sets most: a service's replicas.
    let knob = "/properties/services/properties/cart/properties/replicas";
    assert_eq!(schema.pointer(knob).map(|t| &t["type"]), Some(&Value::from("integer")), "{schema:#}");
    let chart_s = chart.to_string_lossy().into_owned();
    let cases = [
        // Helm 3 says "Expected: integer, given: string", Helm 4 "got string, want integer".
        ("services:\n  cart:\n    replicas: three\n", vec!["replicas", "integer"]),
        ("services:\n  cart:\n    no-such-field: 1\n", vec!["no-such-field"]),
        ("objects:\n  no-such-object: {}\n", vec!["no-such-object"]),
    ];
    for bin in &helms {
        let good = helm(bin, &["template", "r", &chart_s]);
        assert!(good.is_ok(), "{good:?}");
        for (values, expected) in &cases {
            let file = tmp.path().join("wrong.yaml");
            std::fs::write(&file, values).expect("write values");
            let run = helm(bin, &["template", "r", &chart_s, "-f", &file.to_string_lossy()]);
            let err = run.expect_err("a wrong value is refused");
            assert!(err.contains("schema"), "{}: {err}", bin.display());
            assert!(expected.iter().all(|e| err.contains(e)), "{}: {err}", bin.display());
        }
    }
}

/// Both Helms take the test objects for `test` hooks: `helm template`
/// renders them, `--skip-tests` leaves them all out (and nothing else);
/// Helm 4's offline `install --dry-run=client` lists them among the
/// release's hooks, none in its manifest (Helm 3.18's needs a cluster).
#[test]
fn helm_takes_the_test_objects_for_test_hooks() {
    let helms = helms();
    if helms.is_empty() {
        return;
    }
    let description = common::repo().join("examples/hdr-empire.yaml");
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    common::gen_ok(&description, &out);
    let chart = out.join("helm/hdr-empire").to_string_lossy().into_owned();
    let tests = |yaml: &str| -> Vec<String> {
        let objects = parse_built(yaml).expect("the rendering parses");
        objects
            .iter()
            .filter(|o| o["metadata"]["labels"]["app.kubernetes.io/component"] == "helm-test")
            .map(common::object_id)
            .collect()
    };
    for bin in &helms {
        let all = helm(bin, &["template", "r", &chart]).expect("renders");
        let skipped = helm(bin, &["template", "r", &chart, "--skip-tests"]).expect("renders");
        let found = tests(&all);
        let kinds: std::collections::BTreeSet<&str> = found.iter().filter_map(|id| id.split('/').next()).collect();
        assert_eq!(
            kinds.into_iter().collect::<Vec<_>>(),
            ["AuthorizationPolicy", "NetworkPolicy", "Pod", "ServiceAccount"],
            "{found:?}"
        );
        assert_eq!(tests(&skipped), Vec::<String>::new(), "{}", bin.display());
        let count = |yaml: &str| parse_built(yaml).expect("parses").len();
        assert_eq!(count(&skipped) + found.len(), count(&all), "{}: --skip-tests left out more", bin.display());
        if !bin.to_string_lossy().contains("helm-4") {
            continue;
        }
        let dry = helm(bin, &["install", "r", &chart, "--dry-run=client"]).expect("a client dry run");
        let (hooks, manifest) = dry.split_once("\nMANIFEST:\n").expect("hooks, then the manifest");
        assert_eq!(tests(hooks.split_once("HOOKS:\n").expect("hooks").1).len(), found.len(), "{dry}");
        assert!(!manifest.contains("templates/tests/"), "{manifest}");
    }
}

/// The values a Helm user sets are shaped like the description, and one
/// `--set` moves every object that follows it: a service's image reaches its
/// Deployment and every Job running the same image (its migration, its
/// CronJob), replicas and the autoscaler's bounds reach theirs.
#[test]
fn description_shaped_values_move_every_object_that_follows_them() {
    let helms = helms();
    let Some(bin) = helms.first() else { return };
    let description = common::repo().join("examples/polyglot-shop.yaml");
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    common::gen_ok(&description, &out);
    let chart = out.join("helm/polyglot-shop").to_string_lossy().into_owned();
    let images = |objects: &[Value]| -> Vec<(String, String)> {
        let mut found = Vec::new();
        for o in objects {
            let spec = o.pointer("/spec/jobTemplate/spec/template/spec").or_else(|| o.pointer("/spec/template/spec"));
            for c in spec.and_then(|s| s["containers"].as_array()).into_iter().flatten() {
                found.push((common::object_id(o), c["image"].as_str().unwrap_or_default().to_string()));
            }
        }
        found
    };
    let before = parse_built(&helm(bin, &["template", "r", &chart]).expect("renders")).expect("YAML");
    let old = "ghcr.io/polyglot-shop/productcatalogservice:0.10.1";
    let users: Vec<String> = images(&before).into_iter().filter(|(_, i)| i == old).map(|(id, _)| id).collect();
    assert!(users.len() >= 3, "the catalog image runs in its Deployment, migration Job and CronJob: {users:?}");
    let set = [
        "--set",
        "services.catalog.image=registry.example/catalog:2.0.0",
        "--set",
        "services.cart.replicas=7",
        "--set",
        "services.catalog.autoscaling.maxReplicas=9",
    ];
    let args: Vec<&str> = ["template", "r", chart.as_str()].into_iter().chain(set).collect();
    let after = by_id(parse_built(&helm(bin, &args).expect("renders")).expect("YAML"));
    let moved: Vec<(String, String)> = images(&after.values().cloned().collect::<Vec<_>>());
    assert!(moved.iter().all(|(_, i)| i != old), "{moved:?}");
    for id in &users {
        assert!(moved.contains(&(id.clone(), "registry.example/catalog:2.0.0".into())), "{id}: {moved:?}");
    }
    let field = |suffix: &str, pointer: &str| {
        let (_, o) = after.iter().find(|(id, _)| id.ends_with(suffix)).expect(suffix);
        o.pointer(pointer).cloned()
    };
    assert_eq!(field("Deployment/polyglot-shop/cart", "/spec/replicas"), Some(Value::from(7)));
    assert_eq!(field("HorizontalPodAutoscaler/polyglot-shop/catalog", "/spec/maxReplicas"), Some(Value::from(9)));
}

/// Chart.yaml's version and appVersion are the description's `version:`
/// (0.1.0 without one), and its kubeVersion the cluster's minor and above.
#[test]
fn the_chart_version_is_the_descriptions() {
    for (example, version) in [("fingerprint-api", "0.9.3"), ("kailash", "0.1.0")] {
        let description = common::repo().join(format!("examples/{example}.yaml"));
        let platform = kubeproof::description::load(&description).expect("the example loads");
        assert_eq!(platform.version.as_ref().map(|v| v.value.as_str()).unwrap_or("0.1.0"), version);
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("deploy");
        common::gen_ok(&description, &out);
        let text = std::fs::read_to_string(out.join(format!("helm/{example}/Chart.yaml"))).expect("Chart.yaml");
        let chart: Value = serde_saphyr::from_str(&text).expect("YAML");
        assert_eq!(chart["version"], version, "{text}");
        assert_eq!(chart["appVersion"], version, "{text}");
        let kube = platform.cluster.kubernetes.value.to_string();
        assert_eq!(chart["kubeVersion"], format!(">= {kube}.0-0"), "{text}");
    }
}
