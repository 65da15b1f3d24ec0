//! `cargo bench --bench gen`: how long `gen` takes on each bundled example.
//!
//! Two figures per example: the in-memory pipeline (parse, check, resolve
//! every environment, generate, lay out kustomize) and the release binary end
//! to end (process start to files on disk). Medians of repeated runs; the
//! target (issue 2) is under 100 ms for the largest example.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    f(); // warm-up
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("examples/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    examples.sort();
    // The release binary, if built (`cargo build --release`); benches build it
    // in the same profile, so it is usually there.
    let bin = root.join("target/release/kubeproof");
    // `cargo test --all-targets` runs this as a smoke test (no `--bench`
    // argument): one run of each, not 50 and 20 (92 s of CI in the debug build).
    let bench = std::env::args().any(|a| a == "--bench");
    let (pipeline_runs, binary_runs) = if bench { (50, 20) } else { (1, 1) };
    println!("{:<24} {:>8} {:>12} {:>14}", "example", "objects", "pipeline", "binary e2e");
    for path in &examples {
        let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let mut objects = 0;
        let pipeline = time(pipeline_runs, || {
            let p = kubeproof::description::load(path).expect("example loads");
            let built = kubeproof::build::build(&p, path).expect("example builds");
            objects = built.base.objects.len() + built.envs.iter().map(|(_, s)| s.objects.len()).sum::<usize>();
        });
        let e2e = if bin.exists() {
            let out = tempfile::tempdir().expect("temp dir");
            let t = time(binary_runs, || {
                let ok = Command::new(&bin)
                    // health-platform is over its capacity on purpose (tests/capacity.rs).
                    .args([
                        "gen",
                        &path.to_string_lossy(),
                        "-o",
                        &out.path().to_string_lossy(),
                        "--force",
                        "--over-capacity",
                    ])
                    .output()
                    .expect("run kubeproof")
                    .status
                    .success();
                assert!(ok, "gen failed on {name}");
            });
            format!("{:.1} ms", t.as_secs_f64() * 1e3)
        } else {
            "(no release binary)".to_string()
        };
        println!("{name:<24} {objects:>8} {:>9.2} ms {e2e:>14}", pipeline.as_secs_f64() * 1e3);
    }
}
