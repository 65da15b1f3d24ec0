//! `cargo bench --bench check`: what `kubeproof check` costs per object, and
//! how that compares with merely parsing the YAML.
//!
//! For corpora of 1k, 10k and 100k objects (written by scripts/corpus.py):
//! - scan: read every file and run the YAML parser over it (events only,
//!   nothing kept) — the floor for any YAML checker;
//! - parse: read every file and parse it into a YAML tree with positions
//!   (saphyr's `MarkedYaml`, the same parser's own loader) — what "parsing
//!   the YAML" means for a tool that then looks at the documents;
//! - load: kubeproof's loader (positions, objects);
//! - check: load plus every check, as `kubeproof check` runs it.
//!
//! Medians of repeated runs, in-process. The peer comparison (checkov,
//! kubernetes-validate) on the same corpus is scripts/bench-check.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<F: FnMut()>(runs: usize, mut f: F) -> Duration {
    f();
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

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("corpus dir").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            files(&e, out);
        } else {
            out.push(e);
        }
    }
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().expect("temp dir");
    println!(
        "{:>8} {:>9} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "objects", "MB", "scan", "parse", "load", "check", "check/scan", "check/parse", "objects/s"
    );
    // `cargo test --all-targets` runs this once as a smoke test (no `--bench`
    // argument): the smallest corpus, one run.
    let bench = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if bench { &[1_000, 10_000, 100_000] } else { &[1_000] };
    for &n in sizes {
        let dir = tmp.path().join(n.to_string());
        let ok = Command::new("python3")
            .arg(repo.join("scripts/corpus.py"))
            .arg(n.to_string())
            .arg(&dir)
            .status()
            .expect("python3 runs scripts/corpus.py");
        assert!(ok.success(), "corpus.py failed");
        let mut list = Vec::new();
        files(&dir, &mut list);
        let bytes: u64 = list.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
        let runs = if !bench {
            1
        } else if n >= 100_000 {
            3
        } else {
            7
        };
        let scan = time(runs, || {
            for f in &list {
                let text = std::fs::read_to_string(f).expect("read");
                let mut parser = saphyr_parser::Parser::new_from_str(&text);
                while let Some(event) = parser.next_event() {
                    std::hint::black_box(event.expect("valid YAML"));
                }
            }
        });
        let parse = time(runs, || {
            use saphyr::LoadableYamlNode;
            for f in &list {
                let text = std::fs::read_to_string(f).expect("read");
                std::hint::black_box(saphyr::MarkedYaml::load_from_str(&text).expect("valid YAML"));
            }
        });
        let load = time(runs, || {
            std::hint::black_box(kubeproof::check::load::load(std::slice::from_ref(&dir)));
        });
        let config = kubeproof::check::config::Config::default();
        let mut objects = 0;
        let check = time(runs, || {
            let loaded = kubeproof::check::load::load(std::slice::from_ref(&dir));
            let outcome = kubeproof::check::run(&loaded, &config);
            objects = outcome.objects;
            std::hint::black_box(outcome);
        });
        println!(
            "{:>8} {:>9.1} {:>9.0}ms {:>9.0}ms {:>9.0}ms {:>9.0}ms {:>11.2} {:>11.2} {:>11.0}",
            objects,
            bytes as f64 / 1e6,
            scan.as_secs_f64() * 1e3,
            parse.as_secs_f64() * 1e3,
            load.as_secs_f64() * 1e3,
            check.as_secs_f64() * 1e3,
            check.as_secs_f64() / scan.as_secs_f64(),
            check.as_secs_f64() / parse.as_secs_f64(),
            objects as f64 / check.as_secs_f64()
        );
    }
}
