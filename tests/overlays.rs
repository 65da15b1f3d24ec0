//! Overlays differ from the base exactly where the description says.
//!
//! 1. `kubectl kustomize` builds of a fingerprint-api description (staging:
//!    2 fixed replicas, debug logging, half the resources; production: 5 to
//!    20 replicas, warn logging, a stricter disruption budget): the set of
//!    JSON paths that differ from the base, object by object, is exactly the
//!    set the description implies, and the values there are the declared ones.
//! 2. For every example and environment, in memory: the base files with the
//!    overlay's RFC 6902 patches, deletions and extra resources applied are
//!    exactly the objects generated for that environment.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use common::{Failures, have_kubectl, kustomize, object_id, parse_built};

// ---- 1. fingerprint-api, built by kustomize -----------------------------

/// The test's own description (the bundled examples are being rewritten; this
/// one holds still). Every environment difference is declared here.
/// PostgreSQL's `-c shared_buffers=…` argument.
const SHARED_BUFFERS: &str = "/spec/template/spec/containers/0/args/2";
const FINGERPRINT_API: &str = r#"apiVersion: kubeproof.dev/v1alpha1
name: fingerprint-api
cluster: { kubernetes: "1.30", ingressClass: nginx, issuer: letsencrypt-prod }
environments:
  staging:
    scale: 0.5                 # halves requests and limits (and replicas…)
    logLevel: debug
    services:
      api: { replicas: 2 }     # …but explicit values win: 2 fixed, no HPA
  production:
    logLevel: warn
    services:
      api:
        replicas: { min: 5, max: 20 }
        pdb: { minAvailable: 3 }
services:
  api:
    image: ghcr.io/example/fingerprint-api:2.3.1
    port: 8080
    expose: { host: api.fingerprint.example.com }
    replicas: { min: 3, max: 10 }
    resources: { cpu: 500m, memory: 512Mi, limits: { memory: 1Gi } }
    probes: { live: /healthz, ready: /ready }
    uses: [db]
    secrets: [SIGNING_KEY]
datastores:
  db: { engine: postgres, version: "16.4", storage: 50Gi, resources: { cpu: 500m, memory: 2Gi } }
"#;

const NS: &str = "fingerprint-api";
const CONFIG_HASH: &str = "/spec/template/metadata/annotations/kubeproof.dev~1config-hash";
const CONTAINER: &str = "/spec/template/spec/containers/0";

/// Objects of a build by `Kind/namespace/name`.
type Objects = BTreeMap<String, Value>;

fn index(docs: Vec<Value>) -> Objects {
    let mut out = BTreeMap::new();
    for d in docs {
        let id = object_id(&d);
        assert!(out.insert(id.clone(), d).is_none(), "{id} appears twice in one build");
    }
    out
}

/// kustomize appends a content hash to generated Secret names
/// (`api-secrets-hbhfd76b68`) and rewrites references to them. Undo both,
/// and take the Secrets out (the base has none): what remains compares with
/// the base.
fn normalise_overlay(objects: Objects) -> (Objects, Objects) {
    let mut renames = BTreeMap::new();
    let (secrets, mut rest): (Objects, Objects) = objects.into_iter().partition(|(_, o)| o["kind"] == "Secret");
    let mut plain_secrets = BTreeMap::new();
    for s in secrets.values() {
        let hashed = s["metadata"]["name"].as_str().expect("Secret name").to_string();
        let (plain, suffix) = hashed.rsplit_once('-').expect("a generated Secret name has a hash suffix");
        assert!(
            suffix.len() == 10 && suffix.chars().all(|c| c.is_ascii_alphanumeric()),
            "Secret `{hashed}` lacks kustomize's hash suffix"
        );
        let mut s = s.clone();
        s["metadata"]["name"] = Value::from(plain);
        plain_secrets.insert(object_id(&s), s);
        renames.insert(hashed.clone(), plain.to_string());
    }
    for o in rest.values_mut() {
        rename_strings(o, &renames);
    }
    (rest, plain_secrets)
}

fn rename_strings(v: &mut Value, renames: &BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(plain) = renames.get(s.as_str()) {
                *s = plain.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rename_strings(x, renames)),
        Value::Object(m) => m.values_mut().for_each(|x| rename_strings(x, renames)),
        _ => {}
    }
}

/// RFC 6901 pointer segment.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Every JSON path at which `a` and `b` differ: leaves that changed, and
/// keys or array items present on one side only.
fn diff_paths(a: &Value, b: &Value, at: &str, out: &mut BTreeSet<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let path = format!("{at}/{}", escape(k));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => diff_paths(p, q, &path, out),
                    _ => {
                        out.insert(path);
                    }
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for i in 0..x.len().max(y.len()) {
                let path = format!("{at}/{i}");
                match (x.get(i), y.get(i)) {
                    (Some(p), Some(q)) => diff_paths(p, q, &path, out),
                    _ => {
                        out.insert(path);
                    }
                }
            }
        }
        _ if a != b => {
            out.insert(at.to_string());
        }
        _ => {}
    }
}

/// Object id → the paths where the overlay differs from the base (objects
/// that differ nowhere are left out).
fn differences(base: &Objects, overlay: &Objects) -> BTreeMap<String, BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (id, o) in overlay {
        if let Some(b) = base.get(id) {
            let mut paths = BTreeSet::new();
            diff_paths(b, o, "", &mut paths);
            if !paths.is_empty() {
                out.insert(id.clone(), paths);
            }
        }
    }
    out
}

fn expected(entries: &[(&str, &[&str])]) -> BTreeMap<String, BTreeSet<String>> {
    entries.iter().map(|(id, paths)| (id.to_string(), paths.iter().map(|p| p.to_string()).collect())).collect()
}

fn at<'a>(objects: &'a Objects, id: &str, pointer: &str) -> &'a Value {
    objects
        .get(id)
        .unwrap_or_else(|| panic!("{id} is not in the build"))
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{id} has nothing at {pointer}"))
}

/// The ConfigMap's data as the generator hashes it.
fn config_data(objects: &Objects) -> BTreeMap<String, String> {
    serde_json::from_value(at(objects, &format!("ConfigMap/{NS}/api-config"), "/data").clone()).expect("string data")
}

/// Every `secretKeyRef` in `objects` names a Secret of the same namespace
/// that has the key.
fn secret_refs_resolve(objects: &Objects, secrets: &Objects) -> Result<(), String> {
    fn refs(v: &Value, out: &mut Vec<(String, String)>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("secretKeyRef") {
                    out.push((r["name"].as_str().unwrap_or("").into(), r["key"].as_str().unwrap_or("").into()));
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    for (id, o) in objects {
        let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
        let mut found = Vec::new();
        refs(o, &mut found);
        for (name, key) in found {
            let ok = secrets.get(&format!("Secret/{ns}/{name}")).is_some_and(|s| s["data"].get(&key).is_some());
            if !ok {
                missing.push(format!("{id}: secretKeyRef {name}/{key}"));
            }
        }
    }
    if missing.is_empty() { Ok(()) } else { Err(format!("unresolved secret references:\n{}", missing.join("\n"))) }
}

#[test]
fn built_overlays_differ_from_the_base_exactly_where_the_description_says() {
    if !have_kubectl() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let description = tmp.path().join("fingerprint-api.yaml");
    std::fs::write(&description, FINGERPRINT_API).expect("write description");
    let out = tmp.path().join("deploy");
    common::gen_ok(&description, &out);
    assert_eq!(common::overlays(&out), ["production", "staging"]);

    let k = out.join("kustomize");
    let build = |dir: &Path| index(parse_built(&kustomize(dir).unwrap_or_else(|e| panic!("{e}"))).expect("YAML"));
    let base = build(&k.join("base"));
    let mut envs = BTreeMap::new();
    for env in ["staging", "production"] {
        let overlay = k.join("overlays").join(env);
        common::prepare_secrets(&overlay);
        let (objects, secrets) = normalise_overlay(build(&overlay));
        // The overlay adds exactly the two Secrets, built from the env files.
        let secret_ids: Vec<&String> = secrets.keys().collect();
        assert_eq!(secret_ids, [&format!("Secret/{NS}/api-secrets"), &format!("Secret/{NS}/db-credentials")], "{env}");
        let keys = |id: &str| -> BTreeSet<String> {
            secrets[id]["data"].as_object().expect("Secret data").keys().cloned().collect()
        };
        assert_eq!(keys(&format!("Secret/{NS}/api-secrets")), BTreeSet::from(["SIGNING_KEY".to_string()]));
        assert_eq!(
            keys(&format!("Secret/{NS}/db-credentials")),
            // With the encoded forms `DB_URL` reads.
            ["POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_USER_URLENCODED", "POSTGRES_PASSWORD_URLENCODED"]
                .map(String::from)
                .into()
        );
        secret_refs_resolve(&objects, &secrets).unwrap_or_else(|e| panic!("{env}: {e}"));
        envs.insert(env, objects);
    }
    let (staging, production) = (&envs["staging"], &envs["production"]);

    let deployment = format!("Deployment/{NS}/api");
    let hpa = format!("HorizontalPodAutoscaler/{NS}/api");
    let config = format!("ConfigMap/{NS}/api-config");
    let pdb = format!("PodDisruptionBudget/{NS}/api");
    let db = format!("StatefulSet/{NS}/db");
    // The namespace's quota follows its budget (requests at maximum scale).
    let quota = format!("ResourceQuota/{NS}/budget");
    let quota_paths: &[&str] = &["/spec/hard/requests.cpu", "/spec/hard/requests.memory"];
    let rules = format!("PrometheusRule/{NS}/fingerprint-api-alerts");
    let requests_cpu = format!("{CONTAINER}/resources/requests/cpu");
    let requests_memory = format!("{CONTAINER}/resources/requests/memory");
    let limits_memory = format!("{CONTAINER}/resources/limits/memory");

    // Which objects exist: staging's fixed replica count drops the HPA;
    // nothing else appears or disappears.
    let base_ids: BTreeSet<&String> = base.keys().collect();
    let mut staging_expected = base_ids.clone();
    staging_expected.remove(&hpa);
    assert_eq!(staging.keys().collect::<BTreeSet<_>>(), staging_expected, "objects of staging");
    assert_eq!(production.keys().collect::<BTreeSet<_>>(), base_ids, "objects of production");

    // Where they differ.
    let resources = [requests_cpu.as_str(), requests_memory.as_str(), limits_memory.as_str()];
    let mut deployment_paths = vec!["/spec/replicas", CONFIG_HASH];
    deployment_paths.extend(resources);
    assert_eq!(
        differences(&base, staging),
        expected(&[
            (&config, &["/data/LOG_LEVEL"]),
            (&deployment, &deployment_paths),
            // scale 0.5 applies to the datastore's declared resources too,
            // and so to its /dev/shm and its shared_buffers, each a quarter
            // of its memory limit.
            (
                &db,
                &[resources.as_slice(), &["/spec/template/spec/volumes/2/emptyDir/sizeLimit", SHARED_BUFFERS]].concat()
            ),
            (&quota, quota_paths),
            // Without the HPA, its HpaAtMaximum alert goes too.
            (&rules, &["/spec/groups/0/rules/5"]),
        ]),
        "staging differs from the base elsewhere than the description says"
    );
    assert_eq!(
        differences(&base, production),
        expected(&[
            (&config, &["/data/LOG_LEVEL"]),
            (&deployment, &[CONFIG_HASH]),
            (&hpa, &["/spec/minReplicas", "/spec/maxReplicas"]),
            (&pdb, &["/spec/minAvailable", "/spec/maxUnavailable"]),
            (&quota, quota_paths),
        ]),
        "production differs from the base elsewhere than the description says"
    );

    // The values there.
    assert_eq!(at(&base, &config, "/data/LOG_LEVEL"), "info");
    assert_eq!(at(staging, &config, "/data/LOG_LEVEL"), "debug");
    assert_eq!(at(production, &config, "/data/LOG_LEVEL"), "warn");

    assert!(base[&deployment].pointer("/spec/replicas").is_none(), "an autoscaled Deployment must not set replicas");
    assert_eq!(at(&base, &hpa, "/spec/minReplicas"), 3);
    assert_eq!(at(&base, &hpa, "/spec/maxReplicas"), 10);
    assert_eq!(at(staging, &deployment, "/spec/replicas"), 2, "explicit replicas are not scaled");
    assert!(production[&deployment].pointer("/spec/replicas").is_none());
    assert_eq!(at(production, &hpa, "/spec/minReplicas"), 5);
    assert_eq!(at(production, &hpa, "/spec/maxReplicas"), 20);

    assert_eq!(at(&base, &deployment, &requests_cpu), "500m");
    assert_eq!(at(&base, &deployment, &requests_memory), "512Mi");
    assert_eq!(at(&base, &deployment, &limits_memory), "1Gi");
    assert_eq!(at(staging, &deployment, &requests_cpu), "250m");
    assert_eq!(at(staging, &deployment, &requests_memory), "256Mi");
    assert_eq!(at(staging, &deployment, &limits_memory), "512Mi");
    assert_eq!(at(staging, &db, &requests_cpu), "250m");
    assert_eq!(at(staging, &db, &requests_memory), "1Gi");
    assert_eq!(at(staging, &db, &limits_memory), "1Gi", "the default memory limit is the (scaled) request");
    let shm = "/spec/template/spec/volumes/2/emptyDir/sizeLimit";
    assert_eq!(at(&base, &db, shm), "512Mi", "a quarter of the base's 2Gi limit");
    assert_eq!(at(staging, &db, shm), "256Mi", "a quarter of staging's 1Gi limit");
    assert_eq!(at(&base, &db, SHARED_BUFFERS), "shared_buffers=524288kB", "a quarter of the base's 2Gi limit");
    assert_eq!(at(staging, &db, SHARED_BUFFERS), "shared_buffers=262144kB", "a quarter of staging's 1Gi limit");

    assert_eq!(at(&base, &pdb, "/spec/maxUnavailable"), 1);
    assert_eq!(at(staging, &pdb, "/spec/maxUnavailable"), 1);
    assert_eq!(at(production, &pdb, "/spec/minAvailable"), 3);

    // The pod template carries the hash of the configuration it reads, so
    // pods roll when (and only when) the ConfigMap changes.
    let mut hashes = BTreeSet::new();
    for (name, objects) in [("base", &base), ("staging", staging), ("production", production)] {
        let hash = at(objects, &deployment, CONFIG_HASH);
        let hash = hash.as_str().unwrap_or_else(|| panic!("{name}: config-hash is not a string"));
        assert_eq!(hash, kubeproof::generate::short_hash(&config_data(objects)), "{name}: config-hash");
        hashes.insert(hash.to_string());
    }
    assert_eq!(hashes.len(), 3, "each LOG_LEVEL gives its own config hash: {hashes:?}");
}

// ---- 2. patches applied in memory ----------------------------------------

fn yaml_value(tree: &kubeproof::emit::files::Tree, path: &str) -> Result<Value, String> {
    let bytes = tree.get(Path::new(path)).ok_or_else(|| format!("{path} is not in the generated tree"))?;
    let text = std::str::from_utf8(bytes).map_err(|e| format!("{path}: {e}"))?;
    serde_saphyr::from_str(text).map_err(|e| format!("{path}: {e}"))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// `Kind/namespace/name` a kustomize patch target points at, after checking
/// the target's group/version against the object's apiVersion.
fn target_id(target: &Value, objects: &Objects) -> Result<String, String> {
    let s = |k: &str| target[k].as_str().unwrap_or("");
    let id = match target.get("namespace").and_then(Value::as_str) {
        Some(ns) => format!("{}/{ns}/{}", s("kind"), s("name")),
        None => format!("{}/{}", s("kind"), s("name")),
    };
    let o = objects.get(&id).ok_or_else(|| format!("patch target {id} is not in the base"))?;
    let api = if s("group").is_empty() { s("version").to_string() } else { format!("{}/{}", s("group"), s("version")) };
    if o["apiVersion"] != api.as_str() {
        return Err(format!("patch target {id}: {api}, the object is {}", o["apiVersion"]));
    }
    Ok(id)
}

/// Rebuilds one environment from the generated files alone, the way
/// kustomize would, and compares with what the generator made for it.
fn check_env(built: &kubeproof::build::Built, base: &Objects, env: &str, wanted: &Objects) -> Result<(), String> {
    let dir = format!("kustomize/overlays/{env}");
    let k = yaml_value(&built.tree, &format!("{dir}/kustomization.yaml"))?;
    let mut objects = base.clone();
    let mut problems = Vec::new();
    for entry in k["patches"].as_array().cloned().unwrap_or_default() {
        let id = match target_id(&entry["target"], base) {
            Ok(id) => id,
            Err(e) => {
                problems.push(e);
                continue;
            }
        };
        if let Some(path) = entry["path"].as_str() {
            let ops = yaml_value(&built.tree, &format!("{dir}/{path}"))?;
            let patch: json_patch::Patch = serde_json::from_value(ops).map_err(|e| format!("{path}: {e}"))?;
            if patch.0.is_empty() {
                problems.push(format!("{path}: an empty patch"));
            }
            let Some(doc) = objects.get_mut(&id) else {
                problems.push(format!("{path}: {id} was deleted by an earlier patch"));
                continue;
            };
            if let Err(e) = json_patch::patch(doc, &patch) {
                problems.push(format!("{path} does not apply to {id}: {e}"));
            }
        } else if let Some(inline) = entry["patch"].as_str() {
            let p: Value = serde_saphyr::from_str(inline).map_err(|e| format!("inline patch of {id}: {e}"))?;
            if p["$patch"] != "delete" || object_id(&p) != id {
                problems.push(format!("unexpected inline patch for {id}: {inline}"));
            }
            objects.remove(&id);
        } else {
            problems.push(format!("patch entry without path or patch: {entry}"));
        }
    }
    for path in strings(&k["resources"]).into_iter().filter(|r| r != "../../base") {
        let o = yaml_value(&built.tree, &format!("{dir}/{path}"))?;
        let id = object_id(&o);
        if objects.insert(id.clone(), o).is_some() {
            problems.push(format!("{path}: {id} is also in the base"));
        }
    }

    let got: BTreeSet<&String> = objects.keys().collect();
    let want: BTreeSet<&String> = wanted.keys().collect();
    for id in got.difference(&want) {
        problems.push(format!("{id}: in the overlay, not generated for {env}"));
    }
    for id in want.difference(&got) {
        problems.push(format!("{id}: generated for {env}, missing from the overlay"));
    }
    for (id, w) in wanted {
        if let Some(o) = objects.get(id)
            && o != w
        {
            let mut paths = BTreeSet::new();
            diff_paths(w, o, "", &mut paths);
            problems.push(format!("{id}: the patched base differs from the generated object at {paths:?}"));
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems.join("\n")) }
}

fn stack_objects(stack: &kubeproof::generate::Stack) -> Objects {
    stack.objects.iter().map(|o| (object_id(&o.value), o.value.clone())).collect()
}

/// The base files on disk are the base stack.
fn base_from_tree(built: &kubeproof::build::Built) -> Result<Objects, String> {
    let k = yaml_value(&built.tree, "kustomize/base/kustomization.yaml")?;
    let mut objects = Objects::new();
    for path in strings(&k["resources"]) {
        let o = yaml_value(&built.tree, &format!("kustomize/base/{path}"))?;
        objects.insert(object_id(&o), o);
    }
    if objects != stack_objects(&built.base) {
        return Err("the base files are not the generated base stack".into());
    }
    Ok(objects)
}

fn check_description(path: &Path, failures: &mut Failures) {
    let name = common::stem(path);
    let platform = match kubeproof::description::load(path) {
        Ok(p) => p,
        Err(d) => return failures.add(format!("{name}: load"), format!("{d:#?}")),
    };
    let built = match kubeproof::build::build(&platform, path) {
        Ok(b) => b,
        Err(e) => return failures.add(format!("{name}: build"), e),
    };
    let base = match base_from_tree(&built) {
        Ok(b) => b,
        Err(e) => return failures.add(format!("{name}: base"), e),
    };
    let envs: Vec<&String> = built.envs.iter().map(|(e, _)| e).collect();
    let in_tree: BTreeSet<String> = built
        .tree
        .iter()
        .filter_map(|(p, _)| {
            p.strip_prefix("kustomize/overlays").ok()?.iter().next().map(|s| s.to_string_lossy().into_owned())
        })
        .collect();
    if envs.iter().map(|e| e.as_str()).collect::<BTreeSet<_>>() != in_tree.iter().map(String::as_str).collect() {
        failures.add(format!("{name}: overlays"), format!("generated {envs:?}, overlay directories {in_tree:?}"));
    }
    if envs.iter().map(|e| e.to_string()).collect::<Vec<_>>() != common::expected_overlays(&platform) {
        failures.add(
            format!("{name}: environments"),
            format!("built {envs:?} for {:?}", common::expected_overlays(&platform)),
        );
    }
    for (env, stack) in &built.envs {
        failures.check(format!("{name}/{env}"), check_env(&built, &base, env, &stack_objects(stack)));
    }
}

#[test]
fn patches_applied_to_the_base_give_each_environment_exactly() {
    let mut failures = Failures::default();
    let all = common::examples();
    for path in &all {
        check_description(path, &mut failures);
    }
    // The test's own description too: it has a deletion and an add+remove.
    let tmp = tempfile::tempdir().expect("temp dir");
    let own = tmp.path().join("fingerprint-api.yaml");
    std::fs::write(&own, FINGERPRINT_API).expect("write description");
    check_description(&own, &mut failures);
    failures.assert_none(&format!("{} example(s) and fingerprint-api", all.len()));
}
