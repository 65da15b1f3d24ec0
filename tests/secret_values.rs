//! KP320 on what a user does after `gen`: the `secrets/*.env.example` files
//! copied without filling them are found in the overlay (each empty key, at
//! its env file's line) and in what `kubectl kustomize` builds from it (the
//! Secret's empty values); a filled copy passes; a copy that lacks a key the
//! example lists is found too.

use crate::common;

use std::path::Path;

use common::{have_kubectl, kustomize};

/// `kubeproof check ARGS` in `dir`: exit code and report.
fn check(dir: &Path, args: &[&str], stdin: Option<&str>) -> (Option<i32>, String) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run kubeproof");
    let mut input = child.stdin.take().expect("stdin");
    input.write_all(stdin.unwrap_or_default().as_bytes()).expect("write stdin");
    drop(input);
    let o = child.wait_with_output().expect("kubeproof output");
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr))
}

#[test]
fn env_files_copied_from_their_examples_without_values_are_found() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    common::gen_ok(&common::repo().join("examples/fingerprint-api.yaml"), &out);
    let overlay = out.join("kustomize/overlays/production");
    let env = overlay.join("secrets/fingerprint-api.env");
    std::fs::copy(overlay.join("secrets/fingerprint-api.env.example"), &env).expect("copy the example");

    let (code, report) = check(&overlay, &["kustomization.yaml"], None);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report
            .contains("secretGenerator fingerprint-api-secrets: fingerprint-api.env:3: `API_TOKEN_HMAC_KEY` is empty"),
        "{report}"
    );
    assert!(report.contains("kustomization.yaml:"), "the finding points into the kustomization: {report}");

    if have_kubectl() {
        let built = kustomize(&overlay).expect("kustomize builds with empty values");
        let (code, report) = check(&overlay, &["-"], Some(&built));
        assert_eq!(code, Some(1), "{report}");
        assert!(report.contains("`API_TOKEN_HMAC_KEY` is empty"), "{report}");
    }

    std::fs::write(&env, "API_TOKEN_HMAC_KEY=change-me\n").expect("write");
    let (_, report) = check(&overlay, &["kustomization.yaml"], None);
    assert!(report.contains("fingerprint-api.env:1: `API_TOKEN_HMAC_KEY` is a placeholder"), "{report}");

    std::fs::write(&env, "API_TOKEN_HMAC_KEY=Zq8-vT3w-rL1p\n").expect("write");
    let (_, report) = check(&overlay, &["kustomization.yaml"], None);
    assert!(!report.contains("KP320"), "{report}");

    std::fs::write(&env, "# filled, but the key is misspelt\nAPI_TOKEN_HMAC=Zq8-vT3w-rL1p\n").expect("write");
    let (code, report) = check(&overlay, &["kustomization.yaml"], None);
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("fingerprint-api.env lacks `API_TOKEN_HMAC_KEY`, which fingerprint-api.env.example lists"),
        "{report}"
    );
}

/// `gen` ends with the next steps: the env files still to fill, then per
/// environment a command line that builds, checks and applies. The command
/// line works as printed (with the file filled, the check passes clean), and
/// a filled file is no longer listed.
#[test]
fn gen_prints_the_next_steps_and_they_work() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    let description = common::repo().join("examples/fingerprint-api.yaml");
    let o = common::gen_cmd(&description, &out, &[]);
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let env = |e: &str| out.join(format!("kustomize/overlays/{e}/secrets/fingerprint-api.env"));
    let steps = stdout.split_once("\nnext steps:\n").map(|(_, s)| s.to_string()).expect("next steps");
    for e in ["production", "staging"] {
        assert!(steps.contains(&format!("    {}\n", env(e).display())), "{steps}");
    }
    let line = steps.lines().find(|l| l.contains("overlays/production |")).expect("the production line").trim();
    assert!(line.ends_with(&format!("kubectl apply -k {}/kustomize/overlays/production", out.display())), "{line}");
    assert!(steps.contains("helm upgrade --install fingerprint-api"), "{steps}");

    std::fs::write(env("production"), "API_TOKEN_HMAC_KEY=Zq8-vT3w-rL1p\n").expect("fill");
    if have_kubectl() {
        // The printed line up to the apply, run by bash from elsewhere.
        let (check, _) = line.split_once(" && kubectl apply").expect("check, then apply");
        let bin = env!("CARGO_BIN_EXE_kubeproof");
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -o pipefail; {}", check.replace("kubeproof check", &format!("{bin} check"))))
            .current_dir(tmp.path())
            .output()
            .expect("bash");
        let report = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{report}");
        assert!(report.contains(": 0 error(s), 0 warning(s)"), "{report}");
    }
    let o = common::gen_cmd(&description, &out, &[]);
    let again = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(!again.contains(&env("production").display().to_string()), "{again}");
    assert!(again.contains(&env("staging").display().to_string()), "{again}");
}
