//! `gen` proves what it writes with kubeproof's own checks: every bundled
//! example is free of errors and warnings in every environment, and a defect
//! slipped into a generated stack is caught before anything is written.

use std::path::Path;

use kubeproof::diag::Severity;

fn built(path: &Path) -> (kubeproof::description::Platform, kubeproof::build::Built) {
    let platform = kubeproof::description::load(path).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
    let built = kubeproof::build::build(&platform, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (platform, built)
}

#[test]
fn every_example_has_no_error_or_warning_in_any_environment() {
    let mut problems = Vec::new();
    let mut checked = 0;
    for path in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")).expect("examples") {
        let path = path.expect("entry").path();
        let (platform, built) = built(&path);
        let proof = kubeproof::build::prove(&built, &platform).expect("generated YAML loads");
        assert_eq!(proof.len(), built.envs.len());
        for (env, loaded, outcome) in &proof {
            assert!(outcome.objects > 10, "{}/{env}: only {} objects checked", path.display(), outcome.objects);
            checked += outcome.objects;
            for f in outcome.findings.iter().filter(|f| f.severity > Severity::Info) {
                problems.push(format!("{}/{env}: {}", path.display(), kubeproof::check::diagnostic(f, loaded)));
            }
        }
    }
    assert!(checked > 300, "only {checked} objects checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_defect_in_a_generated_stack_is_an_error_of_the_proof() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fingerprint-api.yaml");
    let (platform, mut built) = built(&path);
    let (env, stack) = built.envs.first_mut().expect("an environment");
    let env = env.clone();
    let deployment = stack.objects.iter_mut().find(|o| o.kind == "Deployment").expect("a Deployment");
    deployment.value["spec"]["template"]["spec"]["containers"][0]["securityContext"]["privileged"] = true.into();
    let name = deployment.name.clone();
    let proof = kubeproof::build::prove(&built, &platform).expect("generated YAML loads");
    let (_, loaded, outcome) = proof.iter().find(|(e, _, _)| *e == env).expect("the environment");
    let f = outcome
        .findings
        .iter()
        .find(|f| f.code == "KP101")
        .unwrap_or_else(|| panic!("no KP101 in {:?}", outcome.findings));
    assert_eq!(f.severity, Severity::Error);
    let d = kubeproof::check::diagnostic(f, loaded);
    let file = d.file.display().to_string();
    assert!(file.starts_with(&format!("kustomize/overlays/{env}/")), "{file}");
    assert!(file.contains(&format!("deployment-{name}.yaml")), "{file}");
    // Placed where the field is written in the object's YAML, though the
    // proof did not parse that text to check it.
    let text = loaded.text(loaded.objects[f.object].source).expect("the text is held");
    let line = text.lines().position(|l| l.trim() == "privileged: true").expect("written") + 1;
    assert_eq!(d.pos.line as usize, line, "{d}\n{text}");
}

/// Every node of `v` by JSON pointer.
fn pointers(v: &kubeproof::model::Value, at: String, out: &mut Vec<String>) {
    use kubeproof::model::Value;
    match v {
        Value::Object(m) => {
            for (k, v) in m.iter() {
                pointers(v, format!("{at}/{}", k.as_str().replace('~', "~0").replace('/', "~1")), out);
            }
        }
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| pointers(v, format!("{at}/{i}"), out)),
        _ => {}
    }
    out.push(at);
}

/// The proof converts what it generated instead of parsing back the YAML
/// it renders (`model::load::add_rendered`): on every example, in every
/// environment, that is what parsing the YAML gives, in value and in the
/// position of every node; and the proof keeps no info, which `gen` does
/// not show.
#[test]
fn the_proof_holds_what_its_yaml_reads_as() {
    let mut info = 0;
    for path in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")).expect("examples") {
        let path = path.expect("entry").path();
        let (platform, built) = built(&path);
        for (env, stack) in &built.envs {
            let what = format!("{}/{env}", path.display());
            let rendered = kubeproof::build::stack_sources(&format!("kustomize/overlays/{env}"), stack).expect("loads");
            let mut read = kubeproof::model::Loaded::default();
            for source in &rendered.sources {
                kubeproof::model::load::add_source(&mut read, source.clone());
            }
            assert!(read.errors.is_empty(), "{what}: {:?}", read.errors);
            assert_eq!(rendered.objects.len(), read.objects.len(), "{what}");
            let mut nodes = 0;
            for (r, o) in rendered.objects.iter().zip(&read.objects) {
                let id = (o.source, &o.api_version, &o.kind, &o.name, &o.namespace);
                assert_eq!((r.source, &r.api_version, &r.kind, &r.name, &r.namespace), id, "{what}");
                assert_eq!(r.value, o.value, "{what}: {}", o.id());
                let mut all = Vec::new();
                pointers(&o.value, String::new(), &mut all);
                for p in &all {
                    assert_eq!(r.pos(p), o.pos(p), "{what}: {} {p}", o.id());
                }
                nodes += all.len();
            }
            assert!(nodes > 500, "{what}: {nodes} nodes");
            let config = kubeproof::build::check_config(&built, &platform);
            info +=
                kubeproof::check::run(&read, &config).findings.iter().filter(|f| f.severity == Severity::Info).count();
        }
        // `gen` renders an object the same as the base's once (emit::Renders).
        for ((env, loaded, outcome), (_, stack)) in
            kubeproof::build::prove(&built, &platform).expect("proven").iter().zip(&built.envs)
        {
            assert!(outcome.findings.iter().all(|f| f.severity > Severity::Info), "{}", path.display());
            let alone = kubeproof::build::stack_sources(&format!("kustomize/overlays/{env}"), stack).expect("loads");
            let texts = |l: &kubeproof::model::Loaded| -> Vec<(String, String)> {
                l.sources[..stack.objects.len()]
                    .iter()
                    .map(|s| (s.name.display().to_string(), s.text.clone()))
                    .collect()
            };
            assert_eq!(texts(loaded), texts(&alone), "{}/{env}", path.display());
        }
    }
    assert!(info > 0, "check itself finds info on the examples");
}

/// Two services, one that does not drain: `VERSION` is the target.
const DRAIN: &str = r#"apiVersion: kubeproof.dev/v1alpha1
name: drain
cluster: { kubernetes: "VERSION" }
services:
  worker:
    image: ghcr.io/example/worker:1.0.0
    port: 8080
    probes: { live: /healthz, ready: /ready }
    shutdown: { drain: 0s, grace: 20s }
  api:
    image: ghcr.io/example/api:1.0.0
    port: 8080
    probes: { live: /healthz, ready: /ready }
    shutdown: { drain: 5s, grace: 30s }
"#;

fn drain_built(minor: u32) -> (kubeproof::description::Platform, kubeproof::build::Built) {
    let path = Path::new("drain.yaml");
    let text = DRAIN.replace("VERSION", &format!("1.{minor}"));
    let platform = kubeproof::description::parse(&text, path).unwrap_or_else(|d| panic!("{d:?}"));
    let built = kubeproof::build::build(&platform, path).unwrap_or_else(|e| panic!("{e}"));
    (platform, built)
}

fn pre_stop(built: &kubeproof::build::Built, name: &str) -> serde_json::Value {
    let (_, stack) = built.envs.first().expect("an environment");
    let d = stack.objects.iter().find(|o| o.kind == "Deployment" && o.name == name).expect("the Deployment");
    d.value["spec"]["template"]["spec"]["containers"][0]["lifecycle"]["preStop"].clone()
}

#[test]
fn the_drain_hook_is_written_as_the_target_version_accepts_it() {
    for minor in [27, 29, 30, 32, 33, 34] {
        let (platform, built) = drain_built(minor);
        let proof = kubeproof::build::prove(&built, &platform).expect("generated YAML loads");
        for (env, loaded, outcome) in &proof {
            let bad: Vec<_> = outcome.findings.iter().filter(|f| f.severity > Severity::Info).collect();
            assert!(
                bad.is_empty(),
                "1.{minor}/{env}: {:?}",
                bad.iter().map(|f| kubeproof::check::diagnostic(f, loaded))
            );
        }
        // No drain is no hook, on every version: a zero sleep does nothing, and 1.32 and older reject it.
        assert_eq!(pre_stop(&built, "worker"), serde_json::Value::Null, "1.{minor}");
        let api = pre_stop(&built, "api");
        if minor >= 30 {
            assert_eq!(api, serde_json::json!({ "sleep": { "seconds": 5 } }), "1.{minor}");
        } else {
            assert_eq!(api, serde_json::json!({ "exec": { "command": ["sleep", "5"] } }), "1.{minor}");
        }
    }
}

#[test]
fn a_field_the_target_version_does_not_honour_is_an_error_of_the_proof() {
    let (platform, mut built) = drain_built(32);
    let (env, stack) = built.envs.first_mut().expect("an environment");
    let env = env.clone();
    let worker = stack.objects.iter_mut().find(|o| o.kind == "Deployment" && o.name == "worker").expect("worker");
    worker.value["spec"]["template"]["spec"]["containers"][0]["lifecycle"] =
        serde_json::json!({ "preStop": { "sleep": { "seconds": 0 } } });
    let proof = kubeproof::build::prove(&built, &platform).expect("generated YAML loads");
    let (_, _, outcome) = proof.iter().find(|(e, _, _)| *e == env).expect("the environment");
    let f = outcome.findings.iter().find(|f| f.code == "KP007").unwrap_or_else(|| panic!("{:?}", outcome.findings));
    assert_eq!(f.severity, Severity::Error);
    assert!(f.message.contains("needs Kubernetes 1.33"), "{}", f.message);
}

/// Issue 19: a service scraped every 2m whose objective reads 5m ratios:
/// the proof of `gen` warns (KP611) at the generated rules.
#[test]
fn an_objective_read_over_fewer_than_four_scrapes_is_a_warning_of_the_proof() {
    let text = r#"apiVersion: kubeproof.dev/v1alpha1
name: slow
cluster: { kubernetes: "1.30" }
services:
  api:
    image: ghcr.io/example/api:1.0.0
    port: 8080
    probes: { live: /healthz, ready: /ready }
    metrics: { path: /metrics, interval: 2m }
    slo: { availability: "99.9" }
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("slow.yaml");
    std::fs::write(&path, text).expect("write");
    let (platform, built) = built(&path);
    let proof = kubeproof::build::prove(&built, &platform).expect("generated YAML loads");
    let (_, loaded, outcome) = proof.first().expect("an environment");
    let found: Vec<String> = outcome
        .findings
        .iter()
        .filter(|f| f.code == "KP611")
        .map(|f| kubeproof::check::diagnostic(f, loaded).to_string())
        .collect();
    assert!(!found.is_empty(), "no KP611 in {:?}", outcome.findings);
    assert!(outcome.findings.iter().filter(|f| f.code == "KP611").all(|f| f.severity == Severity::Warning));
    let all = found.join("\n");
    // The 5m ratios (and the 5m request rate) hold 2.5 scrapes; 30m and longer hold enough.
    assert!(
        all.contains(
            "the range [5m] over `http_requests_total` of job `api` holds fewer than 4 scrapes of its 2m interval"
        ),
        "{all}"
    );
    assert!(!all.contains("[30m]"), "{all}");
}

/// Issue 19: the generated Service declares its request-duration buckets,
/// and the generated latency objective reads one of them; the same stack
/// with the objective's threshold moved between two bounds (as a hand edit,
/// or a generator that skipped the description's check, would leave it) is
/// an error of the proof at every rule that reads it.
#[test]
fn a_latency_objective_off_the_declared_buckets_is_an_error_of_the_proof() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fingerprint-api.yaml");
    let (platform, mut built) = built(&path);
    let (env, stack) = built.envs.first_mut().expect("an environment");
    let env = env.clone();
    let service = stack
        .objects
        .iter()
        .find(|o| o.kind == "Service" && o.name == "fingerprint-api")
        .expect("the fingerprint-api Service");
    let declared = service.value["metadata"]["annotations"][kubeproof::model::histogram::ANNOTATION]
        .as_str()
        .expect("the Service declares its buckets");
    let declared = kubeproof::model::histogram::parse(declared).expect("readable");
    assert!(declared["http_request_duration_seconds"].contains(&1.0), "{declared:?}");
    let clean = kubeproof::build::prove(&built, &platform).expect("generated YAML loads");
    let (_, _, outcome) = clean.iter().find(|(e, _, _)| *e == env).expect("the environment");
    assert!(!outcome.findings.iter().any(|f| f.code == "KP612"), "{:?}", outcome.findings);

    // 1s is the objective's threshold: read the 1.2 s bucket instead.
    let mut edited = 0;
    let (_, stack) = built.envs.first_mut().expect("an environment");
    for rule in stack.objects.iter_mut().filter(|o| o.kind == "PrometheusRule") {
        let text = serde_json::to_string(&rule.value).expect("json");
        let moved = text.replace(r#"le=~\"1|1\\\\.0\""#, r#"le=\"1.2\""#);
        if moved != text {
            edited += 1;
            rule.value = serde_json::from_str(&moved).expect("json");
        }
    }
    assert!(edited > 0, "no generated rule reads the 1s bucket");
    let proof = kubeproof::build::prove(&built, &platform).expect("generated YAML loads");
    let (_, loaded, outcome) = proof.iter().find(|(e, _, _)| *e == env).expect("the environment");
    let found: Vec<String> = outcome
        .findings
        .iter()
        .filter(|f| f.code == "KP612")
        .map(|f| kubeproof::check::diagnostic(f, loaded).to_string())
        .collect();
    // The 7 window ratios, the period ratio and the absent-SLI alert.
    assert!(found.len() >= 8, "{found:#?}");
    assert!(outcome.findings.iter().filter(|f| f.code == "KP612").all(|f| f.severity == Severity::Error));
    assert!(
        found[0].contains(r#"`http_request_duration_seconds_bucket{le="1.2"}` of job `fingerprint-api` is not a bucket Service `fingerprint/fingerprint-api` declares (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)"#),
        "{}",
        found[0]
    );
}
