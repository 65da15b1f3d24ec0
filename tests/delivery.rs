//! `cluster.secrets` and `cluster.delivery` on the bundled examples, each
//! given the option under `cluster:`: what `gen` writes builds with
//! `kubectl kustomize`, validates (`kubernetes-validate --strict` for
//! Kubernetes' kinds, kubeproof's vendored CRD schemas for ExternalSecret,
//! SealedSecret and Application), and `kubeproof check` finds no error and
//! no warning in it; `gen` ends with the steps the option asks for.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use common::{Failures, have_kubectl, have_validator, kustomize, parse_built};

/// `examples/NAME.yaml` with `lines` added under `cluster:`, written as
/// `DIR/NAME.yaml` (the name keeps the example's `--over-capacity`).
fn example_with(dir: &Path, name: &str, lines: &str) -> PathBuf {
    let text = std::fs::read_to_string(common::repo().join(format!("examples/{name}.yaml"))).expect("example");
    assert_eq!(text.matches("\ncluster:\n").count(), 1, "{name}: one `cluster:` line");
    let text = text.replacen("\ncluster:\n", &format!("\ncluster:\n{lines}"), 1);
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("write the description");
    path
}

/// `kubeproof gen`: its standard output, or a panic with everything it said.
fn generate(description: &Path, out: &Path) -> String {
    let o = common::gen_cmd(description, out, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "gen failed:\n{stdout}{}", String::from_utf8_lossy(&o.stderr));
    stdout
}

/// `kubeproof check --config OUT/.kubeproof.yaml FILE` of `yaml`: the report,
/// with an error unless it ends with no error and no warning.
fn check(out: &Path, yaml: &str, label: &str) -> Result<String, String> {
    let file = out.parent().expect("a parent").join(format!("{}.yaml", label.replace(['/', ' '], "-")));
    std::fs::write(&file, yaml).expect("write the build");
    let config = out.join(".kubeproof.yaml");
    let o = common::kubeproof(["check".as_ref(), "--config".as_ref(), config.as_os_str(), file.as_os_str()], Some(out));
    let report = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    if o.status.success() && report.contains(": 0 error(s), 0 warning(s)") {
        Ok(report)
    } else {
        Err(format!("{label}: kubeproof check:\n{report}"))
    }
}

/// Kinds kubeproof validates with a vendored CRD schema must not be reported
/// as unknown (KP005): they were validated.
fn validated(report: &str, kinds: &[&str]) -> Result<(), String> {
    for kind in kinds {
        if report.lines().any(|l| l.contains("KP005") && l.contains(&format!(" {kind}:"))) {
            return Err(format!("{kind} was not validated against a schema:\n{report}"));
        }
    }
    Ok(())
}

/// Every object of `docs` of `kind`.
fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

/// The Secrets the pods of `docs` read by `secretKeyRef`: (namespace, name, key).
fn secret_key_refs(docs: &[Value]) -> Vec<(String, String, String)> {
    fn walk(v: &Value, ns: &str, out: &mut Vec<(String, String, String)>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("secretKeyRef") {
                    let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
                    out.push((ns.to_string(), s("name"), s("key")));
                }
                m.values().for_each(|x| walk(x, ns, out));
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, ns, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for d in docs {
        walk(&d["spec"], d["metadata"]["namespace"].as_str().unwrap_or("default"), &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Builds, validates (Kubernetes' kinds) and checks one overlay, returning its objects.
fn build_overlay(out: &Path, env: &str, version: &str, failures: &mut Failures) -> Vec<Value> {
    let label = format!("overlays/{env}");
    let yaml = match kustomize(&out.join("kustomize/overlays").join(env)) {
        Ok(y) => y,
        Err(e) => {
            failures.add(&label, e);
            return Vec::new();
        }
    };
    if let Err(e) = common::validate(&yaml, version) {
        failures.add(format!("{label}: kubernetes-validate"), e);
    }
    match check(out, &yaml, &label) {
        Ok(report) => failures.check(&label, validated(&report, &["ExternalSecret", "SealedSecret"])),
        Err(e) => failures.add(&label, e),
    }
    let docs = parse_built(&yaml).unwrap_or_else(|e| panic!("{label}: {e}"));
    second_validator(&label, &docs, failures);
    docs
}

/// The custom resources of `docs` through the second validator
/// (kubernetes-models' validators, generated from the upstream CRDs, and
/// ajv on the vendored ones): Flux's vendored v1 CRDs come from forks, the
/// models from upstream.
fn second_validator(label: &str, docs: &[Value], failures: &mut Failures) {
    let Some(script) = common::custom_resource_validator() else { return };
    let resources: Vec<Value> = docs.iter().filter(|d| common::is_custom_resource(d)).cloned().collect();
    match common::validate_custom_resources(&script, &resources) {
        Ok(out) => {
            // The kinds of this option, each validated by its upstream model too.
            let kinds = ["ExternalSecret", "SealedSecret", "Application", "GitRepository", "Kustomization"];
            let ours = |l: &&str| kinds.iter().any(|k| l.starts_with(&format!("valid: {k} ")));
            let (all, by_model) =
                (out.lines().filter(ours).count(), out.lines().filter(ours).filter(|l| l.contains("(model")).count());
            let expected = resources.iter().filter(|r| kinds.iter().any(|k| r["kind"] == *k)).count();
            if by_model != expected || all != expected {
                failures.add(
                    format!("{label}: second validator"),
                    format!("not every {kinds:?} has an upstream model:\n{out}"),
                );
            }
        }
        Err(e) => failures.add(format!("{label}: second validator"), e),
    }
}

#[test]
fn external_secrets_and_argo_cd_on_polyglot_shop() {
    if !have_kubectl() || !have_validator() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let description = example_with(
        tmp.path(),
        "polyglot-shop",
        "  secrets: { provider: external-secrets, store: vault }\n  \
         delivery: { argocd: { repo: https://git.example.com/shop.git, revision: release, path: deploy } }\n",
    );
    let out = tmp.path().join("deploy");
    let said = generate(&description, &out);
    let mut failures = Failures::default();
    // The base holds the ExternalSecrets; each overlay patches their entries' environment.
    match kustomize(&out.join("kustomize/base")) {
        Ok(yaml) => failures.check("base: kubernetes-validate", common::validate(&yaml, "1.30").map(|_| ())),
        Err(e) => failures.add("base", e),
    }
    let envs = common::overlays(&out);
    for env in &envs {
        let overlay = out.join("kustomize/overlays").join(env);
        // Nothing to fill in: no env file, no generator.
        assert!(!overlay.join("secrets").exists(), "{env}: secrets/ written for external-secrets");
        let docs = build_overlay(&out, env, "1.30", &mut failures);
        let external = of_kind(&docs, "ExternalSecret");
        assert!(!external.is_empty(), "{env}: no ExternalSecret");
        assert!(of_kind(&docs, "Secret").is_empty(), "{env}: a Secret in the output");
        // Every key a pod reads, an ExternalSecret writes, from the named store.
        for (ns, name, key) in secret_key_refs(&docs) {
            let es = external
                .iter()
                .find(|e| e["metadata"]["namespace"] == ns.as_str() && e["spec"]["target"]["name"] == name.as_str());
            let Some(es) = es else {
                failures.add(env, format!("no ExternalSecret makes Secret {ns}/{name}"));
                continue;
            };
            assert_eq!(es["spec"]["secretStoreRef"], json!({ "name": "vault", "kind": "ClusterSecretStore" }));
            let data = es["spec"]["data"].as_array().expect("data");
            let entry = data.iter().find(|d| d["secretKey"] == key.as_str());
            let remote = entry.map(|d| d["remoteRef"]["key"].as_str().unwrap_or_default().to_string());
            match remote {
                Some(r) if r.starts_with(&format!("polyglot-shop/{env}/")) => {
                    assert!(said.contains(&format!("    {r}: ")), "the entry {r} is not in the next steps:\n{said}")
                }
                _ => failures.add(env, format!("Secret {ns}/{name}: key {key} is not written ({remote:?})")),
            }
        }
        // Argo CD's order: namespaces and secrets, then datastores, then the rest.
        let wave =
            |d: &Value| d["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str().map(str::to_string);
        for d in &docs {
            let want = match (d["kind"].as_str(), d["metadata"]["labels"]["app.kubernetes.io/component"].as_str()) {
                (Some("Namespace" | "ExternalSecret"), _) => Some("-2"),
                (_, Some("datastore")) => Some("-1"),
                _ => continue,
            };
            assert_eq!(wave(d).as_deref(), want, "{env}: {} {}", d["kind"], d["metadata"]["name"]);
        }
        assert!(docs.iter().any(|d| d["kind"] == "StatefulSet" && wave(d).as_deref() == Some("-1")));

        // The Application syncs this overlay from the repository.
        let app_file = out.join(format!("delivery/argocd/{env}.yaml"));
        let app_yaml = std::fs::read_to_string(&app_file).expect("the Application is written");
        match check(&out, &app_yaml, &format!("argocd-{env}")) {
            Ok(report) => failures.check(format!("argocd/{env}"), validated(&report, &["Application"])),
            Err(e) => failures.add(format!("argocd/{env}"), e),
        }
        let apps = parse_built(&app_yaml).expect("YAML");
        second_validator(&format!("argocd/{env}"), &apps, &mut failures);
        let app = &apps[0];
        assert_eq!(app["spec"]["source"]["repoURL"], "https://git.example.com/shop.git");
        assert_eq!(app["spec"]["source"]["targetRevision"], "release");
        let path = app["spec"]["source"]["path"].as_str().expect("a path");
        let inside = path.strip_prefix("deploy/").expect("under the description's path");
        assert!(out.join(inside).join("kustomization.yaml").is_file(), "{path} is not an overlay");
        assert_eq!(app["spec"]["syncPolicy"]["automated"], json!({ "prune": true, "selfHeal": true }));
        assert!(said.contains(&format!("kubectl apply -f {}", app_file.display())), "{said}");
        assert!(said.contains(&format!("argocd app wait polyglot-shop-{env} --sync --health")), "{said}");
    }
    assert!(
        said.contains("put the Secrets' values in the secret manager behind the ClusterSecretStore `vault`"),
        "{said}"
    );
    assert!(!said.contains("kubectl apply -k"), "a GitOps stack is not applied by hand:\n{said}");
    let readme = std::fs::read_to_string(out.join("README.md")).expect("README");
    assert!(readme.contains("**The External Secrets Operator**") && readme.contains("`ClusterSecretStore vault`"));
    assert!(readme.contains("`delivery/argocd/ENV.yaml`"), "{readme}");
    assert!(readme.contains("kubectl apply -f delivery/argocd/dev.yaml"), "{readme}");
    assert!(!readme.contains("kubectl apply -k"), "the controller applies, not a person:\n{readme}");
    assert_eq!(envs, ["dev", "prod"], "the remote keys differ per environment");
    failures.assert_none(&format!("polyglot-shop with external-secrets and Argo CD, {} overlay(s)", envs.len()));
}

/// `kind namespace/name` of each object.
fn ids(docs: &[Value]) -> std::collections::BTreeSet<String> {
    docs.iter()
        .map(|d| {
            let ns = d["metadata"]["namespace"].as_str().unwrap_or("");
            format!("{} {ns}/{}", d["kind"].as_str().unwrap_or(""), d["metadata"]["name"].as_str().unwrap_or(""))
        })
        .collect()
}

#[test]
fn external_secrets_in_secret_stores_and_flux_on_kailash() {
    if !have_kubectl() || !have_validator() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let description = example_with(
        tmp.path(),
        "kailash",
        "  secrets: { provider: external-secrets, store: vault, storeKind: SecretStore }\n  \
         delivery: { flux: { repo: ssh://git@git.example.com/kailash.git, revision: refs/tags/v1.0.0, path: ./gitops/kailash/ } }\n",
    );
    let out = tmp.path().join("deploy");
    let said = generate(&description, &out);
    let mut failures = Failures::default();
    let envs = common::overlays(&out);
    assert_eq!(envs, ["dev", "prod", "staging"]);
    for env in &envs {
        let docs = build_overlay(&out, env, "1.30", &mut failures);
        let external = of_kind(&docs, "ExternalSecret");
        assert!(!external.is_empty(), "{env}: no ExternalSecret");
        assert!(
            external.iter().all(|e| e["spec"]["secretStoreRef"] == json!({ "name": "vault", "kind": "SecretStore" }))
        );
        // Flux orders by stages, not by Argo CD's annotations.
        assert!(!serde_json::to_string(&docs).expect("JSON").contains("argocd.argoproj.io/sync-wave\":\"-"), "{env}");

        // The two stages split the overlay: every object in exactly one.
        let stage = |name: &str| {
            let dir = out.join(format!("delivery/flux/{env}/{name}"));
            kustomize(&dir).and_then(|y| parse_built(&y)).unwrap_or_else(|e| panic!("{env}/{name}: {e}"))
        };
        let (foundation, services) = (stage("foundation"), stage("services"));
        let (f, s) = (ids(&foundation), ids(&services));
        assert!(f.is_disjoint(&s), "{env}: in both stages: {:?}", f.intersection(&s).collect::<Vec<_>>());
        assert_eq!(f.union(&s).cloned().collect::<std::collections::BTreeSet<_>>(), ids(&docs), "{env}");
        for d in &foundation {
            let early = matches!(d["kind"].as_str(), Some("Namespace" | "ExternalSecret"))
                || d["metadata"]["labels"]["app.kubernetes.io/component"] == "datastore";
            assert!(early, "{env}: {} {} in the foundation", d["kind"], d["metadata"]["name"]);
        }
        assert!(foundation.iter().any(|d| d["kind"] == "StatefulSet"), "{env}: no datastore in the foundation");
        assert!(!of_kind(&services, "Deployment").is_empty(), "{env}: no service in the services stage");

        // The source and the two Kustomizations, validated against their schemas.
        let file = out.join(format!("delivery/flux/{env}.yaml"));
        let yaml = std::fs::read_to_string(&file).expect("delivery/flux/ENV.yaml");
        match check(&out, &yaml, &format!("flux-{env}")) {
            Ok(report) => {
                failures.check(format!("flux/{env}"), validated(&report, &["GitRepository", "Kustomization"]))
            }
            Err(e) => failures.add(format!("flux/{env}"), e),
        }
        let flux = parse_built(&yaml).expect("YAML");
        second_validator(&format!("flux/{env}"), &flux, &mut failures);
        let source = of_kind(&flux, "GitRepository");
        assert_eq!(source[0]["spec"]["url"], "ssh://git@git.example.com/kailash.git");
        assert_eq!(source[0]["spec"]["ref"], json!({ "name": "refs/tags/v1.0.0" }));
        let ks = of_kind(&flux, "Kustomization");
        let [first, then] = &ks[..] else { panic!("two Kustomizations: {ks:?}") };
        assert_eq!(then["spec"]["dependsOn"], json!([{ "name": first["metadata"]["name"] }]));
        for k in &ks {
            assert_eq!((&k["spec"]["wait"], &k["spec"]["prune"]), (&json!(true), &json!(true)));
            let path = k["spec"]["path"].as_str().expect("a path");
            let inside = path.strip_prefix("./gitops/kailash/").expect("under the description's path");
            assert!(out.join(inside).join("kustomization.yaml").is_file(), "{path}");
        }
        assert!(said.contains(&format!("kubectl apply -f {}", file.display())), "{said}");
        assert!(said.contains(&format!("flux reconcile kustomization kailash-{env} -n flux-system")), "{said}");
    }
    assert!(said.contains("behind the SecretStore `vault`"), "{said}");
    failures.assert_none(&format!("kailash with external-secrets and Flux, {} overlay(s)", envs.len()));
}

/// What `kubeseal` makes of a Secret, without the cluster's certificate:
/// the same name, namespace and keys, the values "encrypted" (base64 here).
fn seal(secret: &Value) -> Value {
    let data = secret["data"].as_object().cloned().unwrap_or_default();
    let encrypted: serde_json::Map<String, Value> =
        data.into_iter().map(|(k, v)| (k, Value::from(format!("AgB{}", v.as_str().unwrap_or_default())))).collect();
    let meta = json!({ "name": secret["metadata"]["name"], "namespace": secret["metadata"]["namespace"] });
    json!({
        "apiVersion": "bitnami.com/v1alpha1",
        "kind": "SealedSecret",
        "metadata": meta,
        "spec": { "encryptedData": encrypted, "template": { "metadata": meta, "type": "Opaque" } },
    })
}

/// Runs each command of an overlay's `sealed-secrets/README.md` as written
/// (in `out`), `kubectl create secret … --dry-run=client` for real and
/// [`seal`] in place of `kubeseal`; returns the files written.
fn seal_as_the_readme_says(out: &Path, overlay: &str, skip_key: Option<&str>) -> Vec<PathBuf> {
    let readme = std::fs::read_to_string(out.join(overlay).join("sealed-secrets/README.md")).expect("README");
    let mut written = Vec::new();
    for block in readme.split("```sh\n").skip(1) {
        let command = block.split("```").next().unwrap_or_default().replace("\\\n", " ");
        let (create, sealed) = command.split_once("| kubeseal --format yaml >").expect("a kubeseal command");
        let args: Vec<&str> = create.split_whitespace().collect();
        assert_eq!(&args[..3], ["kubectl", "create", "secret"], "{command}");
        let o = Command::new("kubectl").args(&args[1..]).args(["--dry-run=client"]).current_dir(out).output();
        let o = o.expect("kubectl runs");
        assert!(o.status.success(), "{command}: {}", String::from_utf8_lossy(&o.stderr));
        let mut secret: Value = serde_saphyr::from_slice(&o.stdout).expect("a Secret");
        if let Some(key) = skip_key
            && let Some(d) = secret["data"].as_object_mut()
        {
            d.remove(key);
        }
        let target = out.join(sealed.trim());
        std::fs::write(&target, serde_saphyr::to_string(&seal(&secret)).expect("YAML")).expect("write");
        written.push(target);
    }
    written
}

#[test]
fn sealed_secrets_and_argo_cd_on_health_platform() {
    if !have_kubectl() || !have_validator() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let description = example_with(
        tmp.path(),
        "health-platform",
        "  secrets: { provider: sealed-secrets }\n  \
         delivery: { argocd: { repo: ssh://git@git.example.com/health.git, path: . } }\n",
    );
    let out = tmp.path().join("deploy");
    let said = generate(&description, &out);
    let mut failures = Failures::default();
    let envs = common::overlays(&out);
    assert!(said.contains("seal each Secret"), "{said}");
    for env in &envs {
        let overlay = format!("kustomize/overlays/{env}");
        // Listed, not yet sealed: the overlay does not build.
        let e = kustomize(&out.join(&overlay)).expect_err("an overlay without its SealedSecrets must not build");
        assert!(e.contains("sealed-secrets/"), "{e}");
        assert!(said.contains(&format!("> {}/{overlay}/sealed-secrets/", out.display())), "{said}");
        common::prepare_secrets(&out.join(&overlay));
        let sealed = seal_as_the_readme_says(&out, &overlay, None);
        assert!(!sealed.is_empty());
        let docs = build_overlay(&out, env, "1.30", &mut failures);
        let built = of_kind(&docs, "SealedSecret");
        assert_eq!(built.len(), sealed.len(), "{env}");
        // Sealed by hand, put in the first wave by the overlay: before the datastores reading them.
        for s in built {
            assert_eq!(s["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "-2", "{s}");
        }
        let app = std::fs::read_to_string(out.join(format!("delivery/argocd/{env}.yaml"))).expect("Application");
        assert!(app.contains(&format!("path: {overlay}\n")), "the repository's root is the output:\n{app}");
        assert!(of_kind(&docs, "Secret").is_empty(), "{env}: a Secret in the output");
    }
    // Sealed: gen no longer asks for them.
    let again = generate(&description, &out);
    assert!(!again.contains("seal each Secret"), "{again}");
    failures.assert_none(&format!("health-platform with sealed-secrets and Argo CD, {} overlay(s)", envs.len()));

    // A SealedSecret without a key a pod reads: check says so (KP310).
    let env = &envs[0];
    let overlay = format!("kustomize/overlays/{env}");
    let refs = secret_key_refs(&parse_built(&kustomize(&out.join(&overlay)).expect("builds")).expect("YAML"));
    let (_, _, key) = refs.first().expect("a pod reads a Secret");
    seal_as_the_readme_says(&out, &overlay, Some(key));
    let yaml = kustomize(&out.join(&overlay)).expect("builds");
    let e = check(&out, &yaml, "missing-key").expect_err("a missing sealed key must be reported");
    assert!(e.contains("KP310") && e.contains(&format!("has no key `{key}`")), "{e}");
}

#[test]
fn a_misspelt_field_of_a_generated_custom_resource_is_refused_by_its_vendored_schema() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let cases = [
        (
            "ExternalSecret",
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: { name: a, namespace: shop }\n\
             spec:\n  secretStoreRef: { name: vault, kind: ClusterSecretStore }\n  target: { name: a }\n  \
             data: [{ secretKey: K, remoteRef: { key: shop/a, propery: K } }]\n",
            "propery",
            "property",
        ),
        (
            "SealedSecret",
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: { name: a, namespace: shop }\n\
             spec:\n  encryptedData: { K: AgB }\n  templat: { type: Opaque }\n",
            "templat",
            "template",
        ),
        (
            "Application",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: { name: a, namespace: argocd }\n\
             spec:\n  project: default\n  destination: { server: https://kubernetes.default.svc }\n  \
             source: { repoURL: https://git.example.com/a.git, path: deploy }\n  \
             syncPolicy: { automated: { prune: true, selfheal: true } }\n",
            "selfheal",
            "selfHeal",
        ),
        (
            "Kustomization",
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: { name: a, namespace: flux-system }\n\
             spec:\n  interval: 10m\n  prune: true\n  sourceRef: { kind: GitRepository, name: a }\n  dependson: [{ name: b }]\n",
            "dependson",
            "dependsOn",
        ),
        (
            "GitRepository",
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: { name: a, namespace: flux-system }\n\
             spec:\n  interval: 1m\n  url: https://git.example.com/a.git\n  ref: { branchh: main }\n",
            "branchh",
            "branch",
        ),
    ];
    for (kind, yaml, wrong, right) in cases {
        let file = tmp.path().join(format!("{kind}.yaml"));
        std::fs::write(&file, yaml).expect("write");
        let o = common::kubeproof(["check".as_ref(), file.as_os_str()], None);
        let report = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(!o.status.success() && report.contains("KP001") && report.contains(wrong), "{kind}:\n{report}");
        std::fs::write(&file, yaml.replace(wrong, right)).expect("write");
        let o = common::kubeproof(["check".as_ref(), file.as_os_str()], None);
        let report = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(report.contains(": 0 error(s)") && !report.contains("KP005"), "{kind} (fixed):\n{report}");
    }
}
