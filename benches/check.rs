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

// The binary's allocator, so that every phase is measured as `kubeproof
// check` runs (the parse baselines profit from it as much).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

fn scan(list: &[PathBuf]) {
    for f in list {
        let text = std::fs::read_to_string(f).expect("read");
        let mut parser = saphyr_parser::Parser::new_from_str(&text);
        while let Some(event) = parser.next_event() {
            std::hint::black_box(event.expect("valid YAML"));
        }
    }
}

fn parse(list: &[PathBuf]) {
    use saphyr::LoadableYamlNode;
    for f in list {
        let text = std::fs::read_to_string(f).expect("read");
        std::hint::black_box(saphyr::MarkedYaml::load_from_str(&text).expect("valid YAML"));
    }
}

fn load(dir: &Path) {
    std::hint::black_box(kubeproof::model::load::load(&[dir.to_path_buf()]));
}

/// Load plus every check; returns the number of objects.
fn check(dir: &Path) -> usize {
    let loaded = kubeproof::model::load::load(&[dir.to_path_buf()]);
    let outcome = kubeproof::check::run(&loaded, &kubeproof::check::config::Config::default());
    std::hint::black_box(&outcome);
    outcome.objects
}

/// Writes a corpus of about `n` objects into `dir`; returns its files and bytes.
fn corpus(n: usize, dir: &Path) -> (Vec<PathBuf>, u64) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ok = Command::new("python3")
        .arg(repo.join("scripts/corpus.py"))
        .arg(n.to_string())
        .arg(dir)
        .status()
        .expect("python3 runs scripts/corpus.py");
    assert!(ok.success(), "corpus.py failed");
    let mut list = Vec::new();
    files(dir, &mut list);
    let bytes: u64 = list.iter().map(|f| std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)).sum();
    (list, bytes)
}

fn main() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let args: Vec<String> = std::env::args().collect();
    // `--phase scan|parse|load|check --size N`: one phase, once, for
    // `valgrind --tool=callgrind`, whose instruction counts do not depend on
    // what else the machine runs (the corpus is written before, by python).
    if let Some(i) = args.iter().position(|a| a == "--phase") {
        let phase = args.get(i + 1).map(String::as_str).unwrap_or("");
        let n = args.iter().position(|a| a == "--size").and_then(|j| args.get(j + 1)?.parse().ok()).unwrap_or(10_000);
        let dir = tmp.path().join("corpus");
        let (list, _) = corpus(n, &dir);
        match phase {
            "scan" => scan(&list),
            "parse" => parse(&list),
            "load" => load(&dir),
            "check" => {
                check(&dir);
            }
            other => panic!("unknown phase {other:?}: scan, parse, load or check"),
        }
        return;
    }
    println!(
        "{:>8} {:>9} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}",
        "objects", "MB", "scan", "parse", "load", "check", "check/scan", "check/parse", "objects/s"
    );
    // `cargo test --all-targets` runs this once as a smoke test (no `--bench`
    // argument): the smallest corpus, one run.
    let bench = args.iter().any(|a| a == "--bench");
    let sizes: &[usize] = if bench { &[1_000, 10_000, 100_000] } else { &[1_000] };
    for &n in sizes {
        let dir = tmp.path().join(n.to_string());
        let (list, bytes) = corpus(n, &dir);
        let runs = if !bench {
            1
        } else if n >= 100_000 {
            3
        } else {
            7
        };
        let scan = time(runs, || scan(&list));
        let parse = time(runs, || parse(&list));
        let load = time(runs, || load(&dir));
        let mut objects = 0;
        let check = time(runs, || objects = check(&dir));
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
