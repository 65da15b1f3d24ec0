//! `gen` output stays linear in the number of services (issue 14, point 6):
//! 200 services took 1.9 GB and wrote an 80 MB `rules.test.yaml`, because
//! every alert's unit test listed every service's series.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;

use super::harness::{Run, kp, platform_with_services, temp, write};

/// [`platform_with_services`] with every other service scraped: their
/// `ServiceDown` reads `absent(up{…})`, which fires without data, and they
/// get the request alerts too.
fn platform(n: usize) -> String {
    let mut text = String::new();
    let mut services = 0;
    for line in platform_with_services(n).lines() {
        text.push_str(line);
        text.push('\n');
        if line.starts_with("    port:") {
            if services % 2 == 1 {
                text.push_str("    metrics: /metrics\n");
            }
            services += 1;
        }
    }
    assert!(n < 2 || text.contains("metrics:"), "no scraped service:\n{text}");
    text
}

/// What `gen` wrote for `n` services: each file's size by its path under the
/// output folder, and the run (time, peak memory).
fn generate(n: usize) -> (Run, BTreeMap<String, u64>) {
    let dir = temp();
    let file = write(dir.path(), "p.yaml", platform(n));
    let out = dir.path().join("out");
    let run = kp(dir.path(), [OsStr::new("gen"), file.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    assert_eq!(run.code, 0, "gen of {n} services:\n{}", run.all());
    let mut sizes = BTreeMap::new();
    sizes_under(&out, &out, &mut sizes);
    (run, sizes)
}

fn sizes_under(root: &Path, dir: &Path, sizes: &mut BTreeMap<String, u64>) {
    for entry in std::fs::read_dir(dir).expect("list the output").flatten() {
        let path = entry.path();
        let meta = entry.metadata().expect("stat");
        if meta.is_dir() {
            sizes_under(root, &path, sizes);
        } else {
            let rel = path.strip_prefix(root).expect("under the output").to_string_lossy().into_owned();
            sizes.insert(rel, meta.len());
        }
    }
}

/// Four times the services give at most this many times the bytes: linear
/// output gives 4× (less, with the fixed part); quadratic output gave 12–16×.
const GROWTH: f64 = 4.5;

const RULE_TESTS: &str = "monitoring/rules.test.yaml";

#[test]
fn four_times_the_services_write_at_most_four_times_the_bytes() {
    let (small, few) = generate(10);
    let (large, many) = generate(40);
    let total = |s: &BTreeMap<String, u64>| s.values().sum::<u64>() as f64;
    let ratio = total(&many) / total(&few);
    assert!(ratio <= GROWTH, "the output grew {ratio:.1}× from 10 to 40 services");
    let tests = |s: &BTreeMap<String, u64>| s.get(RULE_TESTS).copied().unwrap_or(0) as f64;
    assert!(tests(&few) > 0.0, "no {RULE_TESTS} for 10 services");
    let ratio = tests(&many) / tests(&few);
    assert!(ratio <= GROWTH, "{RULE_TESTS} grew {ratio:.1}× from 10 to 40 services");
    // No single file is quadratic either (one file per service is linear in
    // the number of files, each of the same size).
    let quadratic: Vec<String> = few
        .iter()
        .filter_map(|(path, &a)| {
            let b = *many.get(path)?;
            (b as f64 > GROWTH * a as f64).then(|| format!("{path}: {a} → {b} bytes"))
        })
        .collect();
    assert!(quadratic.is_empty(), "files growing faster than the services:\n{}", quadratic.join("\n"));
    assert!(
        many.len() as f64 <= GROWTH * few.len() as f64,
        "{} files for 10 services, {} for 40",
        few.len(),
        many.len()
    );
    if let (Some(a), Some(b)) = (small.rss_kib, large.rss_kib) {
        assert!(b as f64 <= GROWTH * a as f64, "peak memory grew from {a} KiB to {b} KiB");
    }
}

/// 100 services (every other one scraped) took 630 MiB and wrote a
/// 23 MB `rules.test.yaml` (150 took 1.3 GB, past the memory bound; 200
/// took 1.9 GB). Now each service adds a few kilobytes of tests.
#[test]
fn a_hundred_services_write_a_few_kilobytes_of_tests_each() {
    let n = 100;
    let (run, sizes) = generate(n);
    let tests = sizes.get(RULE_TESTS).copied().unwrap_or(0);
    assert!(tests > 0 && tests < 20_000 * n as u64, "{RULE_TESTS}: {tests} bytes for {n} services");
    assert!(run.rss_kib.is_none_or(|k| k < 512 << 10), "peak memory {:?} KiB", run.rss_kib);
}
