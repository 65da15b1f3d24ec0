//! `gen` as a transaction, and outputs that write only regular files inside
//! their folder (issue 14, point 5).
//!
//! Failures midway are made with `RLIMIT_FSIZE` (`ulimit -f` in a `sh`
//! wrapper, `SIGXFSZ` ignored so a write past the limit fails with EFBIG):
//! the tests run as root, where a read-only folder stops nothing.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::harness::{LIMIT, Run, kp, platform_with_services, temp, write};

const BIN: &str = env!("CARGO_BIN_EXE_kubeproof");

fn run_gen(dir: &Path, desc: &Path, out: &Path) -> Run {
    kp(dir, [OsStr::new("gen"), desc.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run()
}

/// `sh -c "PREFIX; exec kubeproof ARGS"`, bounded by [`LIMIT`]: (exit code, stdout + stderr).
fn wrapped(dir: &Path, prefix: &str, args: &[&OsStr]) -> (i32, String) {
    let child = Command::new("sh")
        .arg("-c")
        .arg(format!("{prefix}; exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sh");
    finish(child)
}

fn finish(mut child: Child) -> (i32, String) {
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("kubeproof did not finish in {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let out = child.wait_with_output().expect("output");
    let all = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains("panicked"), "{all}");
    (out.status.code().unwrap_or(-1), all)
}

/// Every file under `dir` (relative path → bytes), without following links;
/// the lock file is left out (it is created once and never removed).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            let meta = std::fs::symlink_metadata(&path).expect("stat");
            let rel = path.strip_prefix(dir).expect("inside").to_path_buf();
            if meta.is_dir() {
                stack.push(path);
            } else if rel != Path::new(".kubeproof/lock") {
                let bytes = if meta.is_file() { std::fs::read(&path).expect("read") } else { b"<other>".to_vec() };
                files.insert(rel, bytes);
            }
        }
    }
    files
}

/// The hash record lists exactly the generated files, each with the hash of
/// what is on disk, and no temporary or staging file is left.
fn assert_consistent(out: &Path) {
    let files = snapshot(out);
    let manifest = String::from_utf8(files[Path::new(".kubeproof/manifest")].clone()).expect("utf-8");
    let mut listed = 0;
    for line in manifest.lines() {
        let (hash, rel) = line.split_once("  ").expect("manifest line");
        let bytes = files.get(Path::new(rel)).unwrap_or_else(|| panic!("{rel} recorded but missing"));
        assert_eq!(hash, hex(&Sha256::digest(bytes)), "{rel}: the record does not match the disk");
        listed += 1;
    }
    let own: Vec<_> = files.keys().filter(|p| !p.starts_with(".kubeproof")).collect();
    assert_eq!(own.len(), listed, "files on disk that are not recorded: {own:?}");
    let left: Vec<_> = files
        .keys()
        .filter(|p| p != &Path::new(".kubeproof/manifest"))
        .filter(|p| p.starts_with(".kubeproof"))
        .collect();
    assert!(left.is_empty(), "leftovers: {left:?}");
    assert!(!files.keys().any(|p| p.to_string_lossy().contains(".kubeproof-tmp-")), "temporary files left");
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Two descriptions whose trees differ in most files (another port everywhere
/// and one service more).
fn two_platforms(dir: &Path, n: usize) -> (PathBuf, PathBuf) {
    let v1 = write(dir, "v1.yaml", platform_with_services(n));
    let v2 = write(dir, "v2.yaml", platform_with_services(n + 1).replace("port: 8080", "port: 9090"));
    (v1, v2)
}

#[test]
fn a_write_failing_midway_leaves_the_old_tree_exactly() {
    let dir = temp();
    let (v1, v2) = two_platforms(dir.path(), 3);
    let out = dir.path().join("out");
    run_gen(dir.path(), &v1, &out).expect(0, "written");
    let before = snapshot(&out);

    // 8 KiB per file: the alert rules (9 KiB) come after smaller files that change too.
    let limit = "trap '' XFSZ; ulimit -f 16";
    let (code, all) =
        wrapped(dir.path(), limit, &[OsStr::new("gen"), v2.as_os_str(), OsStr::new("-o"), out.as_os_str()]);
    assert_eq!(code, 1, "{all}");
    assert!(all.contains("File too large"), "{all}");
    assert_eq!(snapshot(&out), before, "the old tree changed:\n{all}");

    // Into a new folder: nothing generated appears, no kustomization lists missing files.
    let fresh = dir.path().join("fresh");
    let (code, all) =
        wrapped(dir.path(), limit, &[OsStr::new("gen"), v2.as_os_str(), OsStr::new("-o"), fresh.as_os_str()]);
    assert_eq!(code, 1, "{all}");
    let left = if fresh.exists() { snapshot(&fresh) } else { BTreeMap::new() };
    assert!(left.is_empty(), "written by a failed run: {:?}", left.keys().collect::<Vec<_>>());

    // And the next run without the limit writes the new tree.
    run_gen(dir.path(), &v2, &out).expect(0, "written");
    assert_consistent(&out);
}

/// Whether a run has started writing into `out`: a temporary file (older
/// versions) or a staging area or commit record (this one).
fn writing(out: &Path) -> bool {
    let names = |d: &Path| -> Vec<String> {
        std::fs::read_dir(d)
            .map_or(Vec::new(), |r| r.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
    };
    names(out).iter().any(|n| n.starts_with(".kubeproof-tmp-"))
        || names(&out.join(".kubeproof")).iter().any(|n| n == "staging" || n.starts_with("commit"))
}

/// Runs `gen DESC -o OUT` and SIGKILLs it `after` it starts writing (or
/// never, with `None`); returns how long it wrote before it ended.
fn killed(desc: &Path, out: &Path, after: Option<Duration>) -> Duration {
    let mut child = Command::new(BIN)
        .args([OsStr::new("gen"), desc.as_os_str(), OsStr::new("-o"), out.as_os_str()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while !writing(out) && child.try_wait().expect("wait").is_none() && start.elapsed() < LIMIT {}
    let wrote = Instant::now();
    match after {
        Some(after) => {
            std::thread::sleep(after);
            let _ = child.kill();
            let _ = child.wait();
        }
        None => assert!(finish(child).0 == 0),
    }
    wrote.elapsed()
}

#[test]
fn a_killed_gen_is_cleaned_up_and_never_mistaken_for_hand_edits() {
    let dir = temp();
    let (v1, v2) = two_platforms(dir.path(), 4);
    let out = dir.path().join("out");
    run_gen(dir.path(), &v1, &out).expect(0, "written");
    // How long writing takes here (each file is synced), to kill runs at points spread over it.
    let whole = killed(&v2, &out, None);
    for (i, percent) in [0u32, 50, 90, 100].into_iter().enumerate() {
        let (desc, other) = if i % 2 == 0 { (&v1, &v2) } else { (&v2, &v1) };
        killed(desc, &out, Some(whole * percent / 100));
        // The next run, of the other description, is never refused.
        run_gen(dir.path(), other, &out).expect(0, "written");
        assert_consistent(&out);
    }
}

#[test]
fn concurrent_gens_into_one_folder_leave_a_record_matching_the_disk() {
    let dir = temp();
    let (v1, v2) = two_platforms(dir.path(), 4);
    let out = dir.path().join("out");
    for _ in 0..3 {
        let spawn = |desc: &Path| {
            Command::new(BIN)
                .args([OsStr::new("gen"), desc.as_os_str(), OsStr::new("-o"), out.as_os_str()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (a, b) = (spawn(&v1), spawn(&v2));
        let ((code_a, all_a), (code_b, all_b)) = (finish(a), finish(b));
        assert_eq!((code_a, code_b), (0, 0), "{all_a}\n{all_b}");
        assert_consistent(&out);
    }
}

#[test]
fn a_recorded_path_through_a_symlink_never_deletes_outside() {
    let dir = temp();
    let desc = write(dir.path(), "p.yaml", platform_with_services(1));
    let out = dir.path().join("out");
    run_gen(dir.path(), &desc, &out).expect(0, "written");
    let victim = write(dir.path(), "outside/victim.yaml", "mine\n");
    std::os::unix::fs::symlink(dir.path().join("outside"), out.join("link")).expect("symlink");
    let record = out.join(".kubeproof/manifest");
    let mut manifest = std::fs::read_to_string(&record).expect("manifest");
    manifest.push_str(&format!("{}  link/victim.yaml\n", hex(&Sha256::digest(b"mine\n"))));
    std::fs::write(&record, manifest).expect("write manifest");

    let run = run_gen(dir.path(), &desc, &out);
    assert_eq!(std::fs::read(&victim).expect("the file outside was deleted"), b"mine\n");
    run.expect(1, "symbolic link");
    assert!(run.all().contains(&out.join("link").display().to_string()), "{}", run.all());
    assert!(!run.all().contains("stale removed"), "{}", run.all());
}

#[test]
fn a_symlinked_folder_inside_the_output_is_never_written_through() {
    let dir = temp();
    let (v1, v2) = two_platforms(dir.path(), 2);
    let out = dir.path().join("out");
    run_gen(dir.path(), &v1, &out).expect(0, "written");
    let overlay = out.join("kustomize/overlays/prod");
    let elsewhere = dir.path().join("elsewhere");
    std::fs::rename(&overlay, &elsewhere).expect("move overlay");
    std::os::unix::fs::symlink(&elsewhere, &overlay).expect("symlink");
    let before = snapshot(&elsewhere);
    let tree_before = snapshot(&out);

    run_gen(dir.path(), &v2, &out).expect(1, "symbolic link");
    assert_eq!(snapshot(&elsewhere), before, "written through the link");
    assert_eq!(snapshot(&out), tree_before, "the refused run changed the tree");

    // A fresh output whose first folder is a link to an empty folder.
    let fresh = dir.path().join("fresh");
    let target = dir.path().join("target");
    std::fs::create_dir_all(&fresh).expect("mkdir");
    std::fs::create_dir_all(&target).expect("mkdir");
    std::os::unix::fs::symlink(&target, fresh.join("kustomize")).expect("symlink");
    run_gen(dir.path(), &v1, &fresh).expect(1, "symbolic link");
    assert!(snapshot(&target).is_empty(), "written through the link");
}

#[test]
fn gen_files_get_the_users_umask() {
    let dir = temp();
    let desc = write(dir.path(), "p.yaml", platform_with_services(1));
    let out = dir.path().join("out");
    let (code, all) =
        wrapped(dir.path(), "umask 002", &[OsStr::new("gen"), desc.as_os_str(), OsStr::new("-o"), out.as_os_str()]);
    assert_eq!(code, 0, "{all}");
    let file = out.join("kustomize/base/kustomization.yaml");
    assert_eq!(std::fs::metadata(file).expect("written").permissions().mode() & 0o777, 0o664);
}

fn graph_to(dir: &Path, output: &Path) -> Run {
    let m = write(dir, "m.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\n");
    kp(dir, [OsStr::new("graph"), OsStr::new("-f"), m.as_os_str(), OsStr::new("-o"), output.as_os_str()]).run()
}

#[test]
fn graph_output_replaces_only_a_regular_file() {
    let dir = temp();
    let outside = write(dir.path(), "outside.txt", "keep\n");
    let link = dir.path().join("link.svg");
    std::os::unix::fs::symlink(&outside, &link).expect("symlink");
    graph_to(dir.path(), &link).expect(1, "symbolic link");
    assert!(std::fs::symlink_metadata(&link).expect("link").file_type().is_symlink(), "the link was replaced");
    assert_eq!(std::fs::read(&outside).expect("outside"), b"keep\n");

    let fifo = dir.path().join("fifo.svg");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    graph_to(dir.path(), &fifo).expect(1, "not a regular file");
    assert!(std::fs::symlink_metadata(&fifo).expect("fifo").file_type().is_fifo(), "the FIFO was replaced");

    // A device node like /dev/full (char 1:7), made in the temporary folder (root only).
    let dev = dir.path().join("full.svg");
    if Command::new("mknod").arg(&dev).args(["c", "1", "7"]).status().is_ok_and(|s| s.success()) {
        graph_to(dir.path(), &dev).expect(1, "not a regular file");
        assert!(std::fs::symlink_metadata(&dev).expect("dev").file_type().is_char_device(), "the device was replaced");
    }

    // A regular file is replaced, with the user's umask.
    let svg = write(dir.path(), "g.svg", "old");
    let (code, all) = wrapped(
        dir.path(),
        "umask 002",
        &[OsStr::new("graph"), OsStr::new("-f"), OsStr::new("m.yaml"), OsStr::new("-o"), svg.as_os_str()],
    );
    assert_eq!(code, 0, "{all}");
    assert!(std::fs::read_to_string(&svg).expect("svg").contains("<svg"));
    assert_eq!(std::fs::metadata(&svg).expect("svg").permissions().mode() & 0o777, 0o664);
    let fresh = dir.path().join("new.svg");
    wrapped(
        dir.path(),
        "umask 002",
        &[OsStr::new("graph"), OsStr::new("-f"), OsStr::new("m.yaml"), OsStr::new("-o"), fresh.as_os_str()],
    );
    assert_eq!(std::fs::metadata(&fresh).expect("svg").permissions().mode() & 0o777, 0o664);
}

#[test]
fn gen_into_something_that_is_not_a_folder_is_refused() {
    let dir = temp();
    let desc = write(dir.path(), "p.yaml", platform_with_services(1));
    let file = write(dir.path(), "file", "mine\n");
    let run = run_gen(dir.path(), &desc, &file);
    assert_ne!(run.code, 0, "{}", run.all());
    assert!(run.all().contains(&file.display().to_string()), "{}", run.all());
    assert_eq!(std::fs::read(&file).expect("file"), b"mine\n");
    let fifo = dir.path().join("fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    assert_ne!(run_gen(dir.path(), &desc, &fifo).code, 0);
    assert!(std::fs::symlink_metadata(&fifo).expect("fifo").file_type().is_fifo());
}
