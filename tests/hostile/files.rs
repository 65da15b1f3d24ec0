//! What is read from disk (issue 14, point 4 and the "wrong answers" that are
//! not about parsing): only regular files from folders, every input read
//! with a bound, folder walks linear in depth, and the input's kind decided
//! from its own top-level fields.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::harness::{kp, platform_with_services, temp, write};

const CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata: {k: v}\n";

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().expect("run mkfifo").success();
    assert!(ok, "mkfifo {}", path.display());
}

/// `CMD FILE`, and `reach -f FILE a b`.
fn args(cmd: &str, file: &Path) -> Vec<std::ffi::OsString> {
    let file = file.as_os_str().to_os_string();
    match cmd {
        "reach" => vec!["reach".into(), "-f".into(), file, "a".into(), "b".into()],
        _ => vec![cmd.into(), file],
    }
}

/// A sparse file of `len` bytes: no disk space, no time to write.
fn sparse(path: &Path, len: u64) {
    std::fs::File::create(path).and_then(|f| f.set_len(len)).expect("sparse file");
}

#[test]
fn a_fifo_in_a_folder_is_skipped_with_a_note() {
    let dir = temp();
    write(dir.path(), "in/cm.yaml", CONFIGMAP);
    mkfifo(&dir.path().join("in/p.yaml"));
    // No writer ever opens the FIFO: reading it would wait forever.
    let run = kp(dir.path(), ["check", "in"]).limit(Duration::from_secs(20)).run();
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert!(run.all().contains("p.yaml: not a regular file (a FIFO): skipped"), "{}", run.all());
    // The regular file beside it was checked.
    assert!(run.all().contains("1 object"), "{}", run.all());
}

#[test]
fn a_fifo_named_explicitly_is_read() {
    let dir = temp();
    let fifo = dir.path().join("p.yaml");
    mkfifo(&fifo);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, CONFIGMAP))
    };
    let run = kp(dir.path(), [OsStr::new("check"), fifo.as_os_str()]).run();
    writer.join().expect("writer").expect("write to the FIFO");
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert!(run.all().contains("1 object"), "{}", run.all());
}

#[test]
fn an_endless_special_file_is_read_with_a_bound() {
    let dir = temp();
    for cmd in ["check", "reach", "graph", "budget"] {
        let run = kp(dir.path(), args(cmd, Path::new("/dev/zero"))).run();
        run.expect(2, "larger than 256 MiB: not read");
        assert!(run.all().contains("--> /dev/zero"), "{cmd}: {}", run.all());
    }
    let cm = write(dir.path(), "cm.yaml", CONFIGMAP);
    let run =
        kp(dir.path(), [OsStr::new("check"), OsStr::new("--config"), OsStr::new("/dev/zero"), cm.as_os_str()]).run();
    run.expect(2, "larger than 256 MiB: not read");
}

#[test]
fn a_description_that_is_an_endless_special_file_is_refused() {
    let dir = temp();
    let out = dir.path().join("out");
    kp(dir.path(), [OsStr::new("gen"), OsStr::new("/dev/zero"), OsStr::new("-o"), out.as_os_str()])
        .run()
        .expect(2, "larger than 4 MiB: not read")
        .expect(2, "--> /dev/zero");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_huge_file_is_refused_by_its_size_before_it_is_read() {
    let dir = temp();
    let huge = dir.path().join("huge.yaml");
    sparse(&huge, 2 << 30);
    for cmd in ["check", "reach", "graph", "budget"] {
        let run = kp(dir.path(), args(cmd, &huge)).limit(Duration::from_secs(10)).run();
        run.expect(2, "larger than 256 MiB: not read").expect(2, "huge.yaml");
        // Reading 2 GB of zeros takes seconds and the memory to hold them.
        assert!(run.rss_kib.is_none_or(|k| k < 256 << 10), "{cmd}: {:?} KiB", run.rss_kib);
    }
    let out = dir.path().join("out");
    let run = kp(dir.path(), [OsStr::new("gen"), huge.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    run.expect(2, "larger than 4 MiB: not read").expect(2, "huge.yaml");
    assert!(run.rss_kib.is_none_or(|k| k < 256 << 10), "gen: {:?} KiB", run.rss_kib);
}

#[test]
fn a_description_just_over_its_bound_is_refused_and_one_under_it_read() {
    let dir = temp();
    let mut text = platform_with_services(1);
    let fits = write(dir.path(), "fits.yaml", &text);
    text.push_str(&format!("# {}\n", "x".repeat(4 << 20)));
    let over = write(dir.path(), "over.yaml", &text);
    let out = dir.path().join("out");
    let run_gen =
        |f: &Path| kp(dir.path(), [OsStr::new("gen"), f.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    run_gen(&over).expect(2, "larger than 4 MiB: not read").expect(2, "over.yaml");
    run_gen(&fits).expect(0, "written");
}

/// `levels` nested folders `d/d/…/d` under `root` holding one manifest.
fn nested(root: &Path, levels: usize) {
    let deep = root.join(vec!["d"; levels].join("/"));
    std::fs::create_dir_all(&deep).expect("nested folders");
    std::fs::write(deep.join("cm.yaml"), CONFIGMAP).expect("write");
}

#[test]
fn walking_deep_folders_is_linear_in_depth() {
    let dir = temp();
    // 1,800 levels: the path of `d/d/…/cm.yaml` stays under PATH_MAX (4,096).
    // A walk that resolves a path per level took 28 s for 1,000.
    nested(dir.path(), 1800);
    let run = kp(dir.path(), ["check", "d"]).limit(Duration::from_secs(20)).run();
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    assert!(run.all().contains("1 object"), "{}", run.all());
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[test]
fn a_configmap_embedding_a_description_is_a_manifest() {
    let dir = temp();
    let embedded = platform_with_services(1);
    let json = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "platform", "namespace": "b"},
        "data": {"platform.yaml": embedded},
    });
    // A quoted value in a flow mapping: its lines start at column 0.
    let flow = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: platform, namespace: b}}\ndata: {{platform.yaml: \"\n{}\"}}\n",
        embedded.replace('"', "\\\"")
    );
    for (name, text) in [("cm.json", serde_json::to_string_pretty(&json).expect("json")), ("cm.yaml", flow)] {
        let file = write(dir.path(), name, text);
        let graph = kp(dir.path(), [OsStr::new("graph"), file.as_os_str()]).run();
        assert_eq!(graph.code, 0, "graph {name}:\n{}", graph.all());
        assert!(graph.stdout.contains("<svg"), "graph {name}:\n{}", graph.all());
        let reach = kp(
            dir.path(),
            [OsStr::new("reach"), OsStr::new("-f"), file.as_os_str(), OsStr::new("svc-0"), OsStr::new("svc-0")],
        )
        .run();
        reach.expect(2, "no workload `svc-0` in the manifests");
        assert!(!reach.all().contains("description"), "reach {name}:\n{}", reach.all());
    }
}

#[test]
fn an_overflowing_quantity_is_never_a_saturated_number() {
    let dir = temp();
    let file = write(
        dir.path(),
        "d.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: b}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers:\n      - name: a\n        image: a:1\n        resources:\n          requests: {cpu: 1e999m, memory: 1Gi}\n          limits: {cpu: 1e999m, memory: 1Gi}\n",
    );
    let run = kp(dir.path(), [OsStr::new("budget"), file.as_os_str()]).run();
    run.expect(2, "d.yaml:13:").expect(2, "`1e999m` is not a quantity `budget` can count");
    assert!(!run.all().contains("18446744073709551615"), "{}", run.all());
    // Each figure fits; their sum over the replicas does not.
    let text = std::fs::read_to_string(&file)
        .expect("read")
        .replace("1e999m", "1e15")
        .replace("spec:\n  selector", "spec:\n  replicas: 100\n  selector");
    let file = write(dir.path(), "d.yaml", text);
    let run = kp(dir.path(), [OsStr::new("budget"), file.as_os_str()]).run();
    // Named at the replicas of the workload with the largest share.
    run.expect(2, "the sums are too large to count").expect(2, "d.yaml:5:3");
    run.expect(2, "Deployment `b/a` has the largest share: 100 replicas at most");
    assert!(!run.all().contains("18446744073709551615"), "{}", run.all());
}

#[test]
fn gen_into_a_file_says_the_output_is_a_file() {
    let dir = temp();
    let file = write(dir.path(), "p.yaml", platform_with_services(1));
    let out = write(dir.path(), "out.txt", "mine\n");
    let run = kp(dir.path(), [OsStr::new("gen"), file.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    run.expect(2, &format!("{}: is a file, not a folder", out.display()));
    assert!(!run.all().contains("Not a directory"), "{}", run.all());
    assert_eq!(std::fs::read_to_string(&out).expect("read"), "mine\n");
}
