//! `kubeproof check` on bad and unusual input, through the real binary.
//!
//! Each bad-input class must give an error at file:line and exit 2, while a
//! good file given in the same run is still checked (its finding appears),
//! in bounded memory and without crashing. The big inputs are generated in a
//! temporary folder at test time. Peak memory is measured with
//! `/usr/bin/time` when it is installed (required unless
//! `KUBEPROOF_SKIP_MISSING_TOOLS` is set).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Two ConfigMaps with one name: a KP003 finding at good.yaml:7:12.
const GOOD: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
";

const GOOD_FINDING: &str = "good.yaml:7:12";

/// A document checked before the bad part of a file.
const BEFORE: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: before, namespace: shop}
";

const LIMIT: Duration = Duration::from_secs(120);
const MAX_RSS_KIB: u64 = 1 << 20;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    /// Peak resident memory, when `/usr/bin/time` could measure it.
    rss_kib: Option<u64>,
}

impl Run {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The summary line's object count.
    fn objects(&self) -> usize {
        let last = self.stdout.lines().last().unwrap_or_default();
        last.split(" object(s)").next().and_then(|n| n.trim().parse().ok()).unwrap_or(usize::MAX)
    }
}

/// `kubeproof check ARGS` in `dir`, with `stdin`, killed after [`LIMIT`].
fn check(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    check_within(dir, args, stdin, LIMIT)
}

/// [`check`], killed after `limit`.
fn check_within(dir: &Path, args: &[&str], stdin: Option<&[u8]>, limit: Duration) -> Run {
    let time = Path::new("/usr/bin/time");
    let rss_file = dir.join(".rss");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-f").arg("%M").arg("-o").arg(&rss_file).arg(env!("CARGO_BIN_EXE_kubeproof"));
        c
    } else {
        // Like every tool: required unless skipping is asked for (tests/common).
        assert!(
            std::env::var_os("KUBEPROOF_SKIP_MISSING_TOOLS").is_some(),
            "/usr/bin/time is required to measure memory"
        );
        Command::new(env!("CARGO_BIN_EXE_kubeproof"))
    };
    cmd.arg("check").args(args).current_dir(dir).env("NO_COLOR", "1");
    cmd.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run kubeproof");
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input).expect("write stdin");
    }
    // Read the pipes on threads so a large report cannot block the child.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("kubeproof check {args:?} did not finish in {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let rss_kib = std::fs::read_to_string(&rss_file).ok().and_then(|s| s.lines().last()?.trim().parse().ok());
    let run = Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        rss_kib,
    };
    if let Some(kib) = run.rss_kib {
        assert!(kib < MAX_RSS_KIB, "peak memory {} MiB for {args:?}", kib >> 10);
    }
    run
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, bytes).expect("write");
    path
}

/// Runs `bad.yaml` (with `bytes`) and `good.yaml` together and checks the
/// common contract: exit 2, the error at `bad.yaml:LINE`, the good file's
/// finding, and `objects` objects checked in all.
fn bad_and_good(bytes: impl AsRef<[u8]>, line: u32, message: &str, objects: usize) -> Run {
    let dir = temp();
    write(dir.path(), "bad.yaml", bytes);
    write(dir.path(), "good.yaml", GOOD);
    let run = check(dir.path(), &["bad.yaml", "good.yaml"], None);
    let all = run.all();
    assert_eq!(run.code, 2, "{all}");
    assert!(all.contains(&format!("bad.yaml:{line}:")), "no error at bad.yaml:{line}:\n{all}");
    assert!(all.contains(message), "no `{message}`:\n{all}");
    assert!(all.contains(GOOD_FINDING) && all.contains("KP003"), "the good file was not checked:\n{all}");
    assert_eq!(run.objects(), objects, "{all}");
    assert!(!all.contains("panicked"), "{all}");
    run
}

#[test]
fn malformed_yaml() {
    let bad = format!("{BEFORE}---\napiVersion: v1\nkind: [ConfigMap\nmetadata: {{name: x}}\n---\n{BEFORE}");
    bad_and_good(bad, 7, "not valid YAML", 4);
}

#[test]
fn invalid_utf8() {
    let mut bad = format!("{BEFORE}---\napiVersion: v1\nkind: ConfigMap\n").into_bytes();
    bad.extend_from_slice(b"metadata: {name: caf\xe9}\n");
    bad_and_good(bad, 7, "not UTF-8", 3);
}

#[test]
fn utf16_is_named() {
    let bad: Vec<u8> =
        [0xFF, 0xFE].into_iter().chain("apiVersion: v1\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
    bad_and_good(bad, 1, "UTF-16", 2);
}

#[test]
fn duplicate_keys() {
    let bad = format!("{BEFORE}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n---\n{BEFORE}");
    let run = bad_and_good(bad, 9, "duplicate key `name`", 4);
    assert!(run.stdout.contains("the first `name` is at line 8"), "{}", run.stdout);
}

#[test]
fn alias_bomb() {
    let mut bad =
        format!("{BEFORE}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: lol}}\ndata:\n  l0: &l0 lol\n");
    for i in 1..=12 {
        let refs = vec![format!("*l{}", i - 1); 10].join(", ");
        bad.push_str(&format!("  l{i}: &l{i} [{refs}]\n"));
    }
    bad_and_good(bad, 14, "alias bomb", 3);
}

#[test]
fn deep_nesting() {
    let block = format!("{BEFORE}---\napiVersion: v1\nkind: ConfigMap\ndata:\n{}x\n", "- ".repeat(10_000));
    bad_and_good(block, 8, "nested more than 200 levels", 3);
    let flow = format!("{BEFORE}---\napiVersion: v1\nkind: ConfigMap\ndata: {}\n", "[".repeat(10_000));
    // The parser stops flow collections first, at its own limit.
    bad_and_good(flow, 7, "nested more than 255 levels of `[` and `{`", 3);
    let mapping: String = (0..1_000).map(|i| format!("{}k{i}:\n", "  ".repeat(i))).collect();
    bad_and_good(format!("{BEFORE}---\n{mapping}"), 5 + 200, "nested more than 200 levels", 3);
}

#[test]
fn scalar_document() {
    bad_and_good(format!("{BEFORE}---\njust some text\n"), 5, "this document is a string, not a Kubernetes object", 3);
}

#[test]
fn document_without_api_version_or_kind() {
    let bad = format!("{BEFORE}---\nkind: ConfigMap\nmetadata: {{name: x}}\n---\nreplicas: 3\n---\n{BEFORE}");
    let run = bad_and_good(bad, 5, "this document has no `apiVersion`", 4);
    assert!(
        run.stdout.contains("bad.yaml:8:1") && run.stdout.contains("no `apiVersion` and no `kind`"),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_and_oversized_inputs() {
    let dir = temp();
    write(dir.path(), "good.yaml", GOOD);
    // 300 MiB and no document marker: `check` reads a large file a block
    // at a time, but a file whose first block is one document would be read
    // whole, so it is refused by its size.
    let huge = std::fs::File::create(dir.path().join("huge.yaml")).expect("create");
    huge.set_len(300 << 20).expect("sparse file");
    let run = check(dir.path(), &["missing.yaml", "huge.yaml", "good.yaml"], None);
    let all = run.all();
    assert_eq!(run.code, 2, "{all}");
    assert!(all.contains("missing.yaml") && all.contains("cannot read"), "{all}");
    assert!(all.contains("huge.yaml") && all.contains("larger than 256 MiB"), "{all}");
    assert!(all.contains(GOOD_FINDING), "{all}");
}

/// 100 MB of valid manifests (ConfigMaps of 10 kB each): checked, not
/// refused, in bounded memory.
#[test]
fn hundred_megabytes_of_manifests() {
    let size: usize = 100 << 20;
    let dir = temp();
    let line = format!("    {}\n", "x".repeat(95));
    let block: String = line.repeat(100); // 10 kB of data per ConfigMap
    let mut text = String::with_capacity(size + (1 << 20));
    let mut i = 0;
    while text.len() < size {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}, namespace: big}}\ndata:\n  blob: |\n{block}"
        ));
        i += 1;
    }
    write(dir.path(), "big.yaml", &text);
    write(dir.path(), "good.yaml", GOOD);
    let run = check(dir.path(), &["big.yaml", "good.yaml"], None);
    let all = run.all();
    assert_eq!(run.code, 1, "{}", &all[all.len().saturating_sub(2000)..]);
    assert_eq!(run.objects(), i + 2, "{}", run.stdout);
    assert!(all.contains(GOOD_FINDING), "{all}");
    if let Some(kib) = run.rss_kib {
        eprintln!("{} MB input: peak {} MiB", size >> 20, kib >> 10);
    }
}

/// Small Deployments, `size` bytes of them in one stream (`d0`, `d1`, …).
fn dense_deployments(size: usize) -> (String, usize) {
    let mut text = String::with_capacity(size + (1 << 20));
    let mut i = 0;
    while text.len() < size {
        text.push_str(&format!(
            "---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: d{i}, namespace: dense, labels: {{app: d{i}}}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app: d{i}}}}}
  template:
    metadata: {{labels: {{app: d{i}}}}}
    spec:
      containers:
      - name: app
        image: example.com/app:1.0.{i}
        ports: [{{containerPort: 8080, name: http}}]
        resources: {{requests: {{cpu: 100m, memory: 64Mi}}}}
"
        ));
        i += 1;
    }
    (text, i)
}

/// 10 MB of small Deployments in one stream take several times their text
/// as values, past a budget of 40 MiB (`--memory-budget`; 100 MB of them
/// are read within the default 900 MiB, and their findings across objects
/// are refused: `scripts/bench-refusal` measures that run,
/// minutes in the debug build of the tests). The file is refused with an error at
/// the line where the budget ran out, naming the budget; none of its objects
/// is checked, the other input still is, and the run's peak stays near the
/// budget (checked, their findings once took a run to 2.7 GiB).
#[test]
fn a_stream_past_the_memory_budget_is_refused_in_bounded_memory() {
    let dir = temp();
    let (text, _) = dense_deployments(10 << 20);
    write(dir.path(), "dense.yaml", &text);
    write(dir.path(), "good.yaml", GOOD);
    let run = check(dir.path(), &["--memory-budget", "40Mi", "dense.yaml", "good.yaml"], None);
    let all = run.all();
    let tail = &all[all.len().saturating_sub(3000)..];
    assert_eq!(run.code, 2, "{tail}");
    assert!(all.contains("dense.yaml:") && all.contains("input refused here"), "{tail}");
    assert!(all.contains("would take over 40 MiB of memory") && all.contains("--memory-budget"), "{tail}");
    assert!(all.contains(GOOD_FINDING), "{tail}");
    // Only good.yaml's two objects are checked.
    assert_eq!(run.objects(), 2, "{}", run.stdout);
    if let Some(kib) = run.rss_kib {
        assert!(kib < 120 << 10, "peak {} MiB for a budget of 40 MiB", kib >> 10);
    }
}

/// Many files read in parallel stop at the budget they were given: one
/// error for the run, which says how many inputs were not read.
#[test]
fn files_past_the_memory_budget_are_refused_with_one_error() {
    let dir = temp();
    let (text, each) = dense_deployments(1 << 20);
    for i in 0..40 {
        write(dir.path(), &format!("d{i:02}.yaml"), &text);
    }
    // Each takes about a fifth of the budget: refused one by one, every
    // file after the budget ran out was read almost whole, for one error each.
    let run = check(dir.path(), &["--memory-budget", "24Mi", "."], None);
    let all = run.all();
    let tail = &all[all.len().saturating_sub(3000)..];
    assert_eq!(run.code, 2, "{tail}");
    assert_eq!(all.matches("input refused here").count(), 1, "{tail}");
    assert!(all.contains("would take over 24 MiB of memory"), "{tail}");
    assert!(all.contains("did not fit either; the ") && all.contains(" input(s) after it are not read"), "{tail}");
    // Whole files only: what fitted before the budget ran out.
    let read = run.objects();
    assert!(read >= each && read < 10 * each && read.is_multiple_of(each), "{read} objects, {each} a file");
}

#[test]
fn a_memory_budget_is_a_size() {
    let dir = temp();
    write(dir.path(), "good.yaml", GOOD);
    for (budget, message) in
        [("10", "--memory-budget: 10 is less than 1Mi"), ("1.5Gx", "unknown unit"), ("-1Gi", "must not be negative")]
    {
        let run = check(dir.path(), &[&format!("--memory-budget={budget}"), "good.yaml"], None);
        assert_eq!(run.code, 2, "{budget}: {}", run.all());
        assert!(run.stderr.contains(message), "{budget}: {}", run.stderr);
    }
    assert_eq!(check(dir.path(), &["--memory-budget", "2Gi", "good.yaml"], None).code, 1);
}

#[test]
fn stdin_is_read() {
    let dir = temp();
    let run = check(dir.path(), &["-"], Some(GOOD.as_bytes()));
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("<stdin>:7:12"), "{}", run.stdout);
}

#[test]
fn folders_are_searched_recursively_in_order() {
    let dir = temp();
    write(
        dir.path(),
        "m/b/second.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n",
    );
    write(dir.path(), "m/a.yml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\n");
    write(dir.path(), "m/c.json", r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}}"#);
    write(dir.path(), "m/readme.md", "not a manifest");
    // Hidden files are not read (`.kubeproof.yaml` is the configuration, not a manifest).
    write(dir.path(), "m/.hidden.yaml", "checks: {}\n");
    let run = check(dir.path(), &["m"], None);
    assert_eq!(run.code, 1, "{}", run.all());
    // m/a.yml comes first, so the definition in m/b/second.yaml is the duplicate.
    assert!(run.stdout.contains("m/b/second.yaml:3:12"), "{}", run.stdout);
    assert!(run.stdout.contains("3 object(s) in 3 file(s)"), "{}", run.stdout);
}

#[test]
fn json_files_keep_positions() {
    let dir = temp();
    let json = "{\n  \"items\": [],\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\n    \"name\": \"settings\",\n    \"namespace\": \"shop\"\n  }\n}\n";
    write(dir.path(), "a.json", json);
    write(dir.path(), "b.json", json);
    let run = check(dir.path(), &["a.json", "b.json"], None);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("b.json:6:5"), "{}", run.stdout);
}

#[test]
fn lists_are_split_into_their_items() {
    let dir = temp();
    let list = "apiVersion: v1
kind: List
metadata:
  resourceVersion: \"\"
items:
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: settings
    namespace: shop
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: settings
    namespace: shop
";
    write(dir.path(), "list.yaml", list);
    let run = check(dir.path(), &["list.yaml"], None);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("list.yaml:14:5"), "{}", run.stdout);
    assert!(run.stdout.contains("the first definition is at list.yaml:9"), "{}", run.stdout);
    assert!(run.stdout.contains("2 object(s)"), "{}", run.stdout);
}

#[test]
fn helm_template_output_is_attributed_to_templates() {
    let dir = temp();
    let stream = "---
# Source: shop/templates/settings.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
---
# Source: shop/templates/settings-copy.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: shop
";
    // The place is the stream's (the template paths exist in no folder);
    // the template it came from is beside it.
    let run = check(dir.path(), &["-"], Some(stream.as_bytes()));
    assert_eq!(run.code, 1, "{}", run.all());
    let place = "--> <stdin>:20:3 (from template shop/templates/settings-copy.yaml)";
    assert!(run.stdout.contains(place), "{}", run.stdout);
    assert!(run.stdout.contains("20 |   name: settings"), "{}", run.stdout);
    assert!(run.stdout.contains("the first definition is at <stdin>:6"), "{}", run.stdout);
    assert!(run.stdout.contains("3 object(s) in 1 file(s)"), "{}", run.stdout);
    // Stored in a file, as JSON, SARIF and JUnit: the file's place, and the
    // template in a field of its own.
    write(dir.path(), "rendered/all.yaml", stream);
    let json = check(dir.path(), &["--format", "json", "rendered"], None);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let f = &doc["findings"][0];
    assert_eq!(
        (f["file"].as_str(), f["line"].as_u64(), f["column"].as_u64()),
        (Some("rendered/all.yaml"), Some(20), Some(3))
    );
    assert_eq!(f["template"], "shop/templates/settings-copy.yaml", "{f}");
    let sarif = check(dir.path(), &["--format", "sarif", "rendered"], None);
    let doc: serde_json::Value = serde_json::from_str(&sarif.stdout).expect("SARIF");
    let result = &doc["runs"][0]["results"][0];
    let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().expect("uri");
    assert!(dir.path().join(uri).is_file(), "{uri} is no file");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"]["startLine"], 20, "{result}");
    assert_eq!(result["properties"]["template"], "shop/templates/settings-copy.yaml", "{result}");
    let junit = check(dir.path(), &["--format", "junit", "rendered"], None);
    assert!(junit.stdout.contains("rendered/all.yaml:20:3"), "{}", junit.stdout);
    assert!(junit.stdout.contains("from template shop/templates/settings-copy.yaml"), "{}", junit.stdout);
}
