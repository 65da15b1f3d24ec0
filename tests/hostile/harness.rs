//! Running `kubeproof` under a time and memory bound.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The wall-clock bound of one run: a loaded 2-core CI machine runs the
/// linear cases in a few seconds; the quadratic ones took minutes.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Peak resident memory allowed to one run (1 GiB).
pub const MAX_RSS_KIB: u64 = 1 << 20;

/// What one bounded run did.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `-1` when a signal ended the process.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// Peak resident memory in KiB, when `/usr/bin/time` could measure it.
    pub rss_kib: Option<u64>,
    pub elapsed: Duration,
}

impl Run {
    /// Both streams, for messages and failure output.
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Asserts the exit code and that `needle` is in the output.
    pub fn expect(&self, code: i32, needle: &str) -> &Run {
        let all = self.all();
        assert_eq!(self.code, code, "exit code (wanted {code}):\n{all}");
        assert!(all.contains(needle), "no `{needle}` in:\n{all}");
        self
    }
}

/// Builds a `kubeproof` run; [`Bounded::run`] runs it under the bounds.
pub struct Bounded {
    args: Vec<std::ffi::OsString>,
    cwd: PathBuf,
    stdin: Option<Vec<u8>>,
    limit: Duration,
    max_rss_kib: u64,
}

/// `kubeproof ARGS` in `cwd`.
pub fn kp<I, S>(cwd: &Path, args: I) -> Bounded
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Bounded {
        args: args.into_iter().map(|a| a.as_ref().to_os_string()).collect(),
        cwd: cwd.to_path_buf(),
        stdin: None,
        limit: LIMIT,
        max_rss_kib: MAX_RSS_KIB,
    }
}

impl Bounded {
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Bounded {
        self.stdin = Some(bytes.into());
        self
    }

    /// A different wall-clock bound (a case that must also end by itself).
    pub fn limit(mut self, limit: Duration) -> Bounded {
        self.limit = limit;
        self
    }

    /// A lower memory bound than [`MAX_RSS_KIB`] (in MiB): a case small
    /// enough to run fast in a debug build, whose failure took a multiple of
    /// its input rather than gigabytes.
    pub fn max_rss_mib(mut self, mib: u64) -> Bounded {
        self.max_rss_kib = mib << 10;
        self
    }

    /// Runs it; panics past the time bound (after killing it), on a signal
    /// (a crash: stack overflow, abort, OOM kill) and past its memory bound
    /// ([`MAX_RSS_KIB`] unless told).
    pub fn run(self) -> Run {
        let time = Path::new("/usr/bin/time");
        let rss_file = tempfile::NamedTempFile::new().expect("temp file");
        let mut cmd = if time.exists() {
            let mut c = Command::new(time);
            c.arg("-f").arg("%M").arg("-o").arg(rss_file.path()).arg(env!("CARGO_BIN_EXE_kubeproof"));
            c
        } else {
            assert!(
                std::env::var_os("KUBEPROOF_SKIP_MISSING_TOOLS").is_some(),
                "/usr/bin/time is required to measure memory"
            );
            Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        };
        cmd.args(&self.args).current_dir(&self.cwd).env("NO_COLOR", "1");
        // Its own process group: past the bound the whole group is killed,
        // `kubeproof` under `/usr/bin/time` included (not orphaned).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let start = Instant::now();
        let mut child = cmd.spawn().expect("run kubeproof");
        let feeder = match (self.stdin, child.stdin.take()) {
            // A writer thread: the child may refuse the input before reading it all.
            (Some(input), Some(mut pipe)) => Some(std::thread::spawn(move || {
                let _ = pipe.write_all(&input);
            })),
            _ => None,
        };
        let mut out = child.stdout.take().expect("stdout");
        let mut err = child.stderr.take().expect("stderr");
        let out = std::thread::spawn(move || std::io::read_to_string(&mut out).unwrap_or_default());
        let err = std::thread::spawn(move || std::io::read_to_string(&mut err).unwrap_or_default());
        let args = &self.args;
        let max_rss_kib = self.max_rss_kib;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if start.elapsed() > self.limit {
                let group = format!("-{}", child.id());
                // The shell's own `kill` (no procps needed) signals a group.
                let _ = Command::new("sh").args(["-c", &format!("kill -KILL {group}")]).status();
                let _ = child.kill();
                let _ = child.wait();
                panic!("kubeproof {args:?} did not finish in {:?}", self.limit);
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let elapsed = start.elapsed();
        if let Some(f) = feeder {
            let _ = f.join();
        }
        let rss_kib = std::fs::read_to_string(rss_file.path()).ok().and_then(|s| s.lines().last()?.trim().parse().ok());
        let stderr = err.join().unwrap_or_default();
        // `time` reports a signal as "Command terminated by signal N" and exits 128+N.
        let code = if stderr.contains("Command terminated by signal") { -1 } else { status.code().unwrap_or(-1) };
        let run = Run { code, stdout: out.join().unwrap_or_default(), stderr, rss_kib, elapsed };
        assert!(run.code >= 0, "kubeproof {args:?} crashed:\n{}", run.all());
        assert!(!run.all().contains("panicked"), "kubeproof {args:?} panicked:\n{}", run.all());
        if let Some(kib) = run.rss_kib {
            assert!(kib <= max_rss_kib, "kubeproof {args:?}: peak memory {} MiB", kib >> 10);
        }
        run
    }
}

/// A fresh temporary folder.
pub fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Writes `bytes` to `dir/name` (creating folders) and returns the path.
pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, bytes).expect("write");
    path
}

/// A description with `n` services `svc-0`… (image pinned, one port each),
/// for cases about size rather than shape.
pub fn platform_with_services(n: usize) -> String {
    let mut s = String::from(
        "apiVersion: kubeproof.dev/v1alpha1\nname: big\ncluster:\n  kubernetes: \"1.33\"\nenvironments:\n  prod: {}\nservices:\n",
    );
    for i in 0..n {
        s.push_str(&format!("  svc-{i}:\n    image: registry.example.com/svc-{i}:1.0.0\n    port: 8080\n"));
    }
    s
}

#[test]
fn the_generated_platform_generates() {
    let dir = temp();
    let file = write(dir.path(), "p.yaml", platform_with_services(3));
    let out = dir.path().join("out");
    let run = kp(dir.path(), [OsStr::new("gen"), file.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(out.join("kustomize/base/kustomization.yaml").is_file(), "{}", run.all());
}

#[test]
fn the_harness_sees_a_normal_run() {
    let dir = temp();
    let file = write(dir.path(), "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\n");
    let run = kp(dir.path(), [OsStr::new("check"), file.as_os_str()]).run();
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    if std::env::var_os("KUBEPROOF_SKIP_MISSING_TOOLS").is_none() {
        assert!(run.rss_kib.is_some_and(|k| k > 0), "no peak memory measured");
    }
}

#[test]
fn past_its_bound_a_run_is_killed_with_everything_it_started() {
    let dir = temp();
    let fifo = dir.path().join("never-written.yaml");
    // Opening a FIFO nobody writes blocks forever: a run that cannot end.
    let made = Command::new("mkfifo").arg(&fifo).status().expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let bounded = kp(dir.path(), [OsStr::new("check"), fifo.as_os_str()]).limit(Duration::from_millis(500));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| bounded.run()));
    let message = outcome.err().and_then(|e| e.downcast_ref::<String>().cloned()).unwrap_or_default();
    assert!(message.contains("did not finish"), "the run was not stopped at its bound: {message:?}");
    std::thread::sleep(Duration::from_millis(200));
    let needle = fifo.to_string_lossy().into_owned();
    let left: Vec<String> = std::fs::read_dir("/proc")
        .expect("list /proc")
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&needle))
        .collect();
    assert!(left.is_empty(), "still running: {left:?}");
}
