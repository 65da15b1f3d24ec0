//! `cargo bench --bench load`: how fast and how lean `check` reads manifests.
//!
//! On generated streams of 10,000 and 50,000 small Deployments: the time to
//! merely parse the YAML (parser events, nothing kept), to load it (objects
//! with positions: `model::load::add_source`), and to run every check; and
//! the heap the loaded objects keep, and the peak while loading, counted by
//! a counting allocator. `KUBEPROOF_BENCH_SIZES=1000,5000` picks other sizes.
//! The last two columns compare what the loader keeps per object (values,
//! positions, names, text: counted by this allocator) with what its memory
//! budget counted (`model::load::MAX_HEAP`): 2.66 KB and 2.57 KB on 20,000
//! of these Deployments. About 250,000 of them are past the budget, so
//! `check` refuses such a stream whole: by design, and asserted in
//! tests/check_input.rs, not here.
//!
//! `KUBEPROOF_BENCH_INPUT=path…` (files or folders, `:`-separated) measures
//! instead what `check` keeps per object of those inputs once they are read
//! as it reads them (`check::early`: single-object checks run and the
//! objects cut down as each document is read): everything still allocated
//! after loading, the peak while loading, and the parts of it (values,
//! the object slots, positions), with the resident size of the process.

use std::alloc::{GlobalAlloc, Layout};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kubeproof::check::config::Config;
use kubeproof::model::{Loaded, Source, load};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.alloc(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
        PEAK.fetch_max(live, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// `n` small Deployments, one per document.
fn corpus(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-{i}
  namespace: shop
  labels:
    app: web-{i}
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web-{i}
  template:
    metadata:
      labels:
        app: web-{i}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          ports:
            - containerPort: 8080
          resources:
            requests: {{cpu: 100m, memory: 64Mi}}
            limits: {{memory: 128Mi}}
"
        ));
    }
    s
}

fn parse_only(text: &str) -> usize {
    let mut events = 0;
    let mut parser = saphyr_parser::Parser::new_from_str(text);
    while let Some(Ok(_)) = parser.next_event() {
        events += 1;
    }
    events
}

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut out = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed());
        out = Some(r);
    }
    (best, out.expect("at least one run"))
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

/// What `f`'s result keeps allocated (a copy of some part of the objects,
/// allocated at its size), dropped after counting.
fn allocated_by(f: &dyn Fn() -> Box<dyn std::any::Any>) -> usize {
    let before = LIVE.load(Ordering::Relaxed);
    let kept = f();
    let bytes = LIVE.load(Ordering::Relaxed) - before;
    drop(kept);
    bytes
}

/// The process's resident size now and at its peak (Linux), in MiB.
fn resident() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status.lines().find(|l| l.starts_with(name)).and_then(|l| l.split_whitespace().nth(1)?.parse::<usize>().ok())
    };
    match (field("VmRSS:"), field("VmHWM:")) {
        (Some(now), Some(peak)) => {
            format!("{:.0} MiB resident, {:.0} MiB at peak", now as f64 / 1024.0, peak as f64 / 1024.0)
        }
        _ => "resident size unknown".into(),
    }
}

/// What `check` keeps per object of `inputs` after reading them.
fn kept_by_check(inputs: &[PathBuf]) {
    let config = Config::default();
    let early = kubeproof::check::early(&config, None);
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let t = Instant::now();
    let loaded = load::load_with(inputs, load::MAX_HEAP, early);
    let took = t.elapsed();
    // Before the copies below are counted.
    let resident = resident();
    let kept = LIVE.load(Ordering::Relaxed) - before;
    let peak = PEAK.load(Ordering::Relaxed) - before;
    let n = loaded.objects.len().max(1);
    let per = |f: &dyn Fn() -> Box<dyn std::any::Any>| allocated_by(f) as f64 / n as f64;
    let values = per(&|| Box::new(loaded.objects.iter().map(|o| o.value.clone()).collect::<Vec<_>>()));
    let spans = per(&|| Box::new(loaded.objects.iter().map(|o| o.spans.clone()).collect::<Vec<_>>()));
    let slot = size_of::<kubeproof::model::Object>() as f64;
    println!(
        "{} objects read in {:.2} s ({} errors, {} findings): {:.0} bytes an object kept \
         (the budget counted {:.0}), {:.0} at the peak of reading; of what is kept, values {:.0} \
         (each with its 24-byte slot), the object's slot {slot:.0}, positions {:.0} beyond their slot; {}",
        loaded.objects.len(),
        took.as_secs_f64(),
        loaded.errors.len(),
        loaded.findings.len(),
        kept as f64 / n as f64,
        loaded.heap as f64 / n as f64,
        peak as f64 / n as f64,
        values,
        spans - size_of::<kubeproof::model::load::Spans>() as f64,
        resident,
    );
    // The checks that read the whole set: what their context (the index,
    // the pods) takes, and each check's peak and what it keeps (findings).
    let before = LIVE.load(Ordering::Relaxed);
    kubeproof::check::with_context(&loaded, &config, |cx| {
        println!(
            "  context of the cross-object checks: {:.0} bytes an object",
            (LIVE.load(Ordering::Relaxed) - before) as f64 / n as f64
        );
        for check in
            kubeproof::check::rules::registry().iter().filter(|c| c.meta().reads == kubeproof::check::Reads::Set)
        {
            let start = LIVE.load(Ordering::Relaxed);
            PEAK.store(start, Ordering::Relaxed);
            let mut sink = kubeproof::check::Sink::new(check.meta());
            check.run(cx, &mut sink);
            let (peak, kept) = (PEAK.load(Ordering::Relaxed) - start, LIVE.load(Ordering::Relaxed) - start);
            if peak as f64 / n as f64 >= 8.0 {
                println!(
                    "  {:<6} peak {:>5.0} kept {:>5.0} bytes an object, {} findings",
                    check.meta().code,
                    peak as f64 / n as f64,
                    kept as f64 / n as f64,
                    sink.findings.len()
                );
            }
        }
    });
    // Per kind: how many, and the bytes each one's value keeps.
    let mut kinds = std::collections::BTreeMap::<String, (usize, usize)>::new();
    for o in &loaded.objects {
        let bytes = allocated_by(&|| Box::new(o.value.clone()));
        let e = kinds.entry(o.kind.to_string()).or_default();
        e.0 += 1;
        e.1 += bytes;
    }
    for (kind, (count, bytes)) in kinds {
        println!("  {kind:<28} {count:>9} objects, value {:>6.0} bytes each", bytes as f64 / count as f64);
    }
}

fn main() {
    // As the binary runs (src/main.rs): mimalloc, without huge pages.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    if let Some(inputs) = std::env::var_os("KUBEPROOF_BENCH_INPUT") {
        kept_by_check(&std::env::split_paths(&inputs).collect::<Vec<_>>());
        return;
    }
    // `cargo test --all-targets` runs this once as a smoke test (no `--bench`
    // argument): 1,000 objects, one run.
    let bench = std::env::args().any(|a| a == "--bench");
    let sizes: Vec<usize> = std::env::var("KUBEPROOF_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| if bench { vec![10_000, 50_000] } else { vec![1_000] });
    println!(
        "{:>8} {:>9} {:>10} {:>10} {:>10} {:>12} {:>9} {:>9} {:>10} {:>10} {:>9} {:>9}",
        "objects",
        "text MiB",
        "parse",
        "load",
        "check run",
        "load obj/s",
        "kept MiB",
        "peak MiB",
        "value B/o",
        "spans B/o",
        "real B/o",
        "est. B/o"
    );
    for n in sizes {
        let text = corpus(n);
        let runs = if !bench {
            1
        } else if n > 20_000 {
            2
        } else {
            5
        };
        let (parse, _) = best(runs, || parse_only(&text));
        let (load_time, _) = best(runs, || {
            let mut loaded = Loaded::default();
            load::add_source(&mut loaded, Source { name: PathBuf::from("bench.yaml"), text: text.clone() });
            loaded // dropped outside the timing
        });
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let mut loaded = Loaded::default();
        load::add_source(&mut loaded, Source { name: PathBuf::from("bench.yaml"), text: text.clone() });
        let kept = LIVE.load(Ordering::Relaxed) - before;
        let peak = PEAK.load(Ordering::Relaxed) - before;
        assert_eq!(loaded.objects.len(), n, "{:?}", loaded.errors.first());
        // What one object costs: its value (cloned, so exactly sized) and its positions.
        let per_object = |f: &dyn Fn() -> Box<dyn std::any::Any>| allocated_by(f) / n;
        let values = per_object(&|| Box::new(loaded.objects.iter().map(|o| o.value.clone()).collect::<Vec<_>>()));
        let spans = per_object(&|| Box::new(loaded.objects.iter().map(|o| o.spans.clone()).collect::<Vec<_>>()));
        let (run, _) = best(runs, || kubeproof::check::run(&loaded, &Config::default()));
        println!(
            "{n:>8} {:>9.1} {:>7.0} ms {:>7.0} ms {:>7.0} ms {:>12.0} {:>9.1} {:>9.1} {values:>10} {spans:>10} {:>9} {:>9}",
            mib(text.len()),
            parse.as_secs_f64() * 1e3,
            load_time.as_secs_f64() * 1e3,
            run.as_secs_f64() * 1e3,
            n as f64 / load_time.as_secs_f64(),
            mib(kept),
            mib(peak),
            // All the loader keeps (values, positions, names, the text), against
            // what its memory budget counted (`model::load::MAX_HEAP`).
            kept / n,
            loaded.heap / n,
        );
    }
}
