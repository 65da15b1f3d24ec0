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
    assert!(d.pos.line > 1, "points into the object: {d}");
}
