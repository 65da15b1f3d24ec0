//! `gen` within its memory budget on small descriptions that generate a lot
//! (issue 14): 50 services × 100 empty environments (5.9 KB) took 1.42 GB,
//! about 14 MB per environment held at once; a dense `uses` graph (service i
//! uses every later one) took 904 MB and 71 s at 200 services, and at 400
//! ended in "internal error: generated YAML does not load" with a 27 KB dump.

use std::ffi::OsStr;
use std::time::Duration;

use super::harness::{Run, kp, temp, write};

/// `services` services and `envs` empty environments; with `dense`,
/// service i uses every later service (the generator of the sweep).
fn description(services: usize, envs: usize, dense: bool) -> String {
    let mut s = String::from(
        "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster:\n  kubernetes: \"1.30\"\nenvironments:\n",
    );
    for e in 0..envs {
        s += &format!("  e{e}: {{}}\n");
    }
    s += "services:\n";
    for i in 0..services {
        s += &format!(
            "  s{i}:\n    image: ghcr.io/x/s:1.0.0\n    port: 8080\n    resources: {{ cpu: 10m, memory: 16Mi }}\n"
        );
        if dense && i + 1 < services {
            let later: Vec<String> = (i + 1..services).map(|k| format!("s{k}")).collect();
            s += &format!("    uses: [{}]\n", later.join(", "));
        }
    }
    s
}

fn generate(text: &str, limit: Duration) -> (Run, tempfile::TempDir) {
    let dir = temp();
    let file = write(dir.path(), "p.yaml", text);
    let out = dir.path().join("out");
    let run =
        kp(dir.path(), [OsStr::new("gen"), file.as_os_str(), OsStr::new("-o"), out.as_os_str()]).limit(limit).run();
    (run, dir)
}

fn peak_mib(run: &Run) -> Option<u64> {
    run.rss_kib.map(|k| k >> 10)
}

#[test]
fn environments_are_proven_one_at_a_time() {
    // Each environment's proof (its loaded sources and findings) was kept
    // until all were rendered: 6 services took 56 MiB with 2 environments
    // and 124 MiB with 32.
    let (few, _a) = generate(&description(6, 2, false), Duration::from_secs(30));
    assert_eq!(few.code, 0, "{}", few.all());
    let (many, _b) = generate(&description(6, 32, false), Duration::from_secs(30));
    assert_eq!(many.code, 0, "{}", many.all());
    let (Some(a), Some(b)) = (peak_mib(&few), peak_mib(&many)) else { return };
    assert!(b <= a + 48, "30 more environments took {} MiB more ({a} → {b} MiB)", b.saturating_sub(a));
}

/// One service whose environment holds `kib` KiB of values, in `envs`
/// environments: every environment's stack carries them.
fn heavy(envs: usize, kib: usize) -> String {
    let mut s = description(1, envs, false);
    s += "    env:\n";
    for k in 0..kib {
        s += &format!("      V{k}: \"{}\"\n", "x".repeat(1000));
    }
    s
}

#[test]
fn environments_over_the_budget_together_are_refused_at_the_environments_line() {
    let (run, dir) = generate(&heavy(40, 1500), Duration::from_secs(30));
    run.expect(2, "p.yaml:5:1")
        .expect(2, "over the budget of 48 MiB of YAML")
        .expect(2, "1 service(s) × 40 environment(s)");
    assert!(!run.all().contains("internal error"), "{}", run.all());
    assert!(!dir.path().join("out").exists(), "something was written:\n{}", run.all());
}

#[test]
fn a_dense_uses_graph_generates_in_bounded_time_and_memory() {
    // 80 services using every later one (3,160 edges). Before, 100 took 93 s
    // in a debug build (13 s in a release build, 200: 71 s); now 100 take 12 s.
    let (run, dir) = generate(&description(80, 1, true), super::harness::LIMIT);
    assert_eq!(run.code, 0, "{}", run.all());
    let policy = std::fs::read_to_string(dir.path().join("out/kustomize/base/shop/networkpolicy-s0.yaml"))
        .expect("s0's NetworkPolicy");
    // Its own label and selector, and one rule per service it uses.
    assert_eq!(policy.matches("app.kubernetes.io/name: s").count(), 2 + 79, "{policy}");
}

#[test]
fn a_dense_uses_graph_past_the_budget_is_refused_before_it_is_generated() {
    // 400 services: "internal error: generated YAML does not load" and a
    // 27 KB dump; 260 (33,670 edges) would be about 20 MiB of YAML.
    let dir = temp();
    let file = write(dir.path(), "p.yaml", description(260, 1, true));
    let out = dir.path().join("out");
    let run =
        kp(dir.path(), [OsStr::new("gen"), file.as_os_str(), OsStr::new("-o"), out.as_os_str()]).max_rss_mib(200).run();
    run.expect(2, "p.yaml:7:1").expect(2, "over the budget of 16 MiB of YAML per environment");
    run.expect(2, "260 service(s) × 1 environment(s), 33670 `uses` edge(s)");
    assert!(!run.all().contains("internal error"), "{}", run.all());
    assert!(!out.exists(), "something was written:\n{}", run.all());
}
