//! The command line, through the real binary:
//!
//! 1. `gen` is deterministic, and a rerun into the same directory touches nothing.
//! 2. `gen` refuses to overwrite a generated file edited by hand (exit 1, nothing
//!    written), `--force` regenerates it, and files a person added are kept.
//! 3. Secret values live only in the git-ignored `secrets/*.env` files, and
//!    `kubectl kustomize` builds Secrets from them that the workloads reference.
//! 4. `init` writes the starter (which `gen` accepts) or a bundled example, and
//!    never overwrites a file without `--force`.
//! 5. `schema` is a JSON Schema that the starter and every example satisfy,
//!    and that rejects unknown fields and wrong types.
//! 6. Exit codes and messages for bad descriptions and bad usage.
//! 7. The per-kind summary table of `gen` counts what `kubectl kustomize` builds.
//! 8. Colour: `--color always|never` decide, `auto` colours a terminal unless
//!    `NO_COLOR` is set (not empty); for `gen`'s errors and `check`'s report.
//! 9. `reach`, `graph` and `budget` tell a description from manifests the same
//!    way, and read a description from stdin.

use crate::common;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use serde_json::Value;

use common::{
    examples, fill_secrets, gen_cmd, gen_ok, have_kubectl, kubeproof, kustomize, mtimes, overlays, parse_built,
    read_tree, stem, tool_available,
};
use kubeproof::description::starter::{EXAMPLES, STARTER};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Everything a failed assertion needs to show about a run.
fn shown(o: &Output) -> String {
    format!("status {}\n--- stdout ---\n{}--- stderr ---\n{}", o.status, stdout(o), stderr(o))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Sets every file's modification time far into the past, so that any
/// rewrite shows up in [`mtimes`] whatever the filesystem's resolution.
fn backdate(root: &Path) {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    for rel in read_tree(root).keys() {
        let f = fs::File::options().write(true).open(root.join(rel)).expect("open for backdating");
        f.set_modified(old).expect("set mtime");
    }
}

/// `tree` without the files at the given relative paths.
fn without(mut tree: BTreeMap<PathBuf, Vec<u8>>, extra: &[&str]) -> BTreeMap<PathBuf, Vec<u8>> {
    for e in extra {
        tree.remove(Path::new(e));
    }
    tree
}

/// Differences between two trees, as a readable list.
fn tree_diff(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> String {
    let paths: BTreeSet<&PathBuf> = a.keys().chain(b.keys()).collect();
    let mut out = Vec::new();
    for p in paths {
        match (a.get(p), b.get(p)) {
            (Some(x), Some(y)) if x == y => {}
            (Some(_), Some(_)) => out.push(format!("  differs: {}", p.display())),
            (Some(_), None) => out.push(format!("  only in the first: {}", p.display())),
            (None, _) => out.push(format!("  only in the second: {}", p.display())),
        }
    }
    out.join("\n")
}

// ---- 1. determinism ---------------------------------------------------------

#[test]
fn gen_is_deterministic_and_an_identical_rerun_touches_nothing() {
    for example in examples() {
        let name = stem(&example);
        let tmp = tempdir();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        gen_ok(&example, &a);
        gen_ok(&example, &b);
        let (ta, tb) = (read_tree(&a), read_tree(&b));
        assert!(ta.len() > 3, "{name}: only {} files generated", ta.len());
        assert!(ta == tb, "{name}: two runs into fresh directories differ:\n{}", tree_diff(&ta, &tb));

        backdate(&a);
        let before = mtimes(&a);
        let o = gen_cmd(&example, &a, &[]);
        assert!(o.status.success(), "{name}: rerun failed\n{}", shown(&o));
        assert_eq!(read_tree(&a), ta, "{name}: rerun changed the tree");
        let after = mtimes(&a);
        let touched: Vec<_> = after.iter().filter(|(p, t)| before.get(*p) != Some(t)).map(|(p, _)| p).collect();
        assert!(touched.is_empty(), "{name}: rerun rewrote {touched:?}");
        // Everything but the manifest and the lock (`.kubeproof/lock`) is a generated file.
        let n = ta.len() - 2;
        let says = format!("({n} files: 0 written, {n} unchanged)");
        assert!(stdout(&o).contains(&says), "{name}: rerun should say `{says}`\n{}", shown(&o));
    }
}

/// `gen` keeps the memory it frees (the binary sets mimalloc's purge delay
/// to never; `src/main.rs`): mimalloc's own statistics, printed at exit,
/// count nothing purged. With the default delay kailash purges 10–20 MiB.
#[test]
fn gen_keeps_the_memory_it_frees() {
    let tmp = tempdir();
    let out = tmp.path().join("out");
    let example = common::repo().join("examples/kailash.yaml");
    let o = Command::new(common::bin())
        .args([OsStr::new("gen"), example.as_os_str(), OsStr::new("-o"), out.as_os_str()])
        .arg("--over-capacity")
        .env("MIMALLOC_SHOW_STATS", "1")
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", shown(&o));
    let stats = stderr(&o);
    let purged: Vec<&str> = stats.lines().filter(|l| l.trim_start().starts_with("purged")).collect();
    assert_eq!(purged.len(), 1, "mimalloc's statistics, one `purged` line:\n{stats}");
    let figure = purged[0].split(':').nth(1).map(str::trim);
    assert_eq!(figure, Some("0"), "{}", purged[0]);
}

// ---- 2. hand edits ----------------------------------------------------------

#[test]
fn edited_file_is_refused_until_force_and_added_files_are_kept() {
    let example = repo_example("kailash");
    let tmp = tempdir();
    let out = tmp.path().join("deploy");
    gen_ok(&example, &out);

    // The person's changes: an edited base Deployment, and two files of their own.
    let generated = read_tree(&out);
    let edited_rel = generated
        .keys()
        .find(|p| {
            p.starts_with("kustomize/base")
                && p.file_name().is_some_and(|f| f.to_string_lossy().starts_with("deployment-"))
        })
        .expect("a base Deployment")
        .clone();
    let edited = out.join(&edited_rel);
    let mut text = fs::read_to_string(&edited).unwrap();
    text.push_str("# tuned by hand during an incident\n");
    fs::write(&edited, &text).unwrap();
    const NOTES: &str = "NOTES.md";
    const EXTRA: &str = "kustomize/overlays/extra-configmap.yaml";
    fs::write(out.join(NOTES), "my notes\n").unwrap();
    fs::write(out.join(EXTRA), "kind: ConfigMap\n").unwrap();

    backdate(&out);
    let before = read_tree(&out);
    let before_mtimes = mtimes(&out);
    let o = gen_cmd(&example, &out, &[]);
    assert_eq!(o.status.code(), Some(1), "gen over an edited file must exit 1\n{}", shown(&o));
    let err = stderr(&o);
    assert!(err.contains(&edited.display().to_string()), "stderr must name {}\n{}", edited.display(), shown(&o));
    assert!(err.contains("--force"), "stderr must mention --force\n{}", shown(&o));
    assert_eq!(fs::read_to_string(&edited).unwrap(), text, "the edit was lost");
    let after = read_tree(&out);
    assert!(before == after, "a refused gen changed files:\n{}", tree_diff(&before, &after));
    assert_eq!(mtimes(&out), before_mtimes, "a refused gen rewrote files");

    let o = gen_cmd(&example, &out, &["--force"]);
    assert!(o.status.success(), "gen --force failed\n{}", shown(&o));
    assert!(stdout(&o).contains("1 edited files overwritten"), "{}", shown(&o));
    let fresh = tmp.path().join("fresh");
    gen_ok(&example, &fresh);
    let forced = without(read_tree(&out), &[NOTES, EXTRA]);
    let fresh = read_tree(&fresh);
    assert!(forced == fresh, "after --force the tree is not a fresh gen:\n{}", tree_diff(&forced, &fresh));
    assert_eq!(fs::read_to_string(out.join(NOTES)).unwrap(), "my notes\n", "a person's file was changed");
    assert_eq!(fs::read_to_string(out.join(EXTRA)).unwrap(), "kind: ConfigMap\n", "a person's file was changed");

    // And a plain rerun keeps them too.
    gen_ok(&example, &out);
    assert!(out.join(NOTES).is_file() && out.join(EXTRA).is_file(), "a person's file was deleted");
}

fn repo_example(name: &str) -> PathBuf {
    let p = common::repo().join("examples").join(format!("{name}.yaml"));
    assert!(p.is_file(), "{} is missing", p.display());
    p
}

// ---- 3. secrets ------------------------------------------------------------

/// Standard base64 decoding (what `data` of a Secret holds).
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let s = s.trim_end_matches('=');
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Standard base64 encoding, to look for encoded sentinels too.
fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn base64_helpers_round_trip() {
    assert_eq!(base64_encode(b"kubeproof"), "a3ViZXByb29m");
    assert_eq!(base64_encode(b"ab"), "YWI=");
    for s in ["", "a", "ab", "abc", "kp-sentinel-7-DB_URL"] {
        assert_eq!(base64_decode(&base64_encode(s.as_bytes())).as_deref(), Some(s.as_bytes()));
    }
}

/// Calls `f` on every object (JSON map) nested anywhere in `v`.
fn each_map(v: &Value, f: &mut dyn FnMut(&serde_json::Map<String, Value>)) {
    match v {
        Value::Object(m) => {
            f(m);
            m.values().for_each(|x| each_map(x, f));
        }
        Value::Array(a) => a.iter().for_each(|x| each_map(x, f)),
        _ => {}
    }
}

/// `git` with no user or system configuration (a global excludes file could
/// make a path look ignored without our `.gitignore`).
fn git(repo: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(repo).env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

#[test]
fn secret_values_stay_in_ignored_env_files_and_reach_the_built_secrets() {
    let kubectl = have_kubectl();
    let git_ok = tool_available("git", &["--version"]);
    let mut with_secrets = 0;
    for example in examples() {
        let name = stem(&example);
        let tmp = tempdir();
        let out = tmp.path().join("deploy");
        gen_ok(&example, &out);

        // Fill every env file from its example, with values found nowhere else.
        let sentinels: RefCell<Vec<(String, String, String)>> = RefCell::new(Vec::new()); // (overlay, key, value)
        let mut env_files = Vec::new();
        for overlay in overlays(&out) {
            let value = |key: &str| {
                let mut s = sentinels.borrow_mut();
                let v = format!("kp-sentinel-{}-{key}", s.len());
                s.push((overlay.clone(), key.to_string(), v.clone()));
                v
            };
            env_files.extend(fill_secrets(&out.join("kustomize/overlays").join(&overlay), &value));
        }
        let sentinels = sentinels.into_inner();
        if sentinels.is_empty() {
            continue;
        }
        with_secrets += 1;

        backdate(&out);
        let env_before: Vec<_> = env_files.iter().map(|p| (fs::read(p).unwrap(), mtime(p))).collect();
        gen_ok(&example, &out);
        let env_after: Vec<_> = env_files.iter().map(|p| (fs::read(p).unwrap(), mtime(p))).collect();
        assert_eq!(env_before, env_after, "{name}: gen touched the filled-in .env files");

        // No generated file holds a value, plain or encoded.
        let env_rel: BTreeSet<PathBuf> =
            env_files.iter().map(|p| p.strip_prefix(&out).unwrap().to_path_buf()).collect();
        for (rel, bytes) in read_tree(&out) {
            if env_rel.contains(&rel) {
                continue;
            }
            let text = String::from_utf8_lossy(&bytes);
            for (_, _, v) in &sentinels {
                assert!(!text.contains(v.as_str()), "{name}: {} contains the secret value {v}", rel.display());
                let b64 = base64_encode(v.as_bytes());
                assert!(!text.contains(&b64), "{name}: {} contains the secret value {v} (base64)", rel.display());
            }
        }

        // git ignores the .env files (because of our .gitignore) but not their examples.
        if git_ok {
            let o = git(tmp.path()).args(["init", "-q", "."]).output().expect("git init");
            assert!(o.status.success(), "git init: {}", shown(&o));
            for env in &env_files {
                let o = git(tmp.path()).args(["check-ignore", "-v"]).arg(env).output().expect("git check-ignore");
                assert_eq!(o.status.code(), Some(0), "{name}: git does not ignore {}\n{}", env.display(), shown(&o));
                assert!(
                    stdout(&o).starts_with(&format!(
                        "{}:",
                        env.parent().unwrap().join(".gitignore").strip_prefix(tmp.path()).unwrap().display()
                    )),
                    "{name}: {} is ignored, but not by its secrets/.gitignore\n{}",
                    env.display(),
                    shown(&o)
                );
                let example_file = PathBuf::from(format!("{}.example", env.display()));
                assert!(example_file.is_file());
                let o = git(tmp.path()).args(["check-ignore"]).arg(&example_file).output().expect("git check-ignore");
                assert_eq!(o.status.code(), Some(1), "{name}: git ignores {}\n{}", example_file.display(), shown(&o));
            }
        }

        // kustomize builds Secrets holding exactly the values, under the names the workloads use.
        if !kubectl {
            continue;
        }
        for overlay in overlays(&out) {
            let dir = out.join("kustomize/overlays").join(&overlay);
            let built = kustomize(&dir).unwrap_or_else(|e| panic!("{name}/{overlay}: {e}"));
            let objects = parse_built(&built).unwrap_or_else(|e| panic!("{name}/{overlay}: {e}"));
            let mine: Vec<&(String, String, String)> = sentinels.iter().filter(|(o, _, _)| *o == overlay).collect();
            let mut secrets: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
            for s in objects.iter().filter(|o| o["kind"] == "Secret") {
                let ns = s["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
                let sname = s["metadata"]["name"].as_str().unwrap_or_default().to_string();
                let data = s["data"].as_object().cloned().unwrap_or_default();
                let mut decoded = BTreeMap::new();
                for (k, v) in data {
                    let bytes = base64_decode(v.as_str().unwrap_or_default()).expect("base64 Secret data");
                    let v = String::from_utf8(bytes).expect("UTF-8 secret value");
                    assert!(
                        mine.iter().any(|(_, key, value)| *key == k && *value == v),
                        "{name}/{overlay}: Secret {ns}/{sname} has {k}={v}, not a value filled in for {k}"
                    );
                    decoded.insert(k, v);
                }
                secrets.insert((ns, sname), decoded);
            }
            for (_, key, value) in &mine {
                assert!(
                    secrets.values().any(|d| d.get(key.as_str()) == Some(value)),
                    "{name}/{overlay}: {key}={value} reached no built Secret"
                );
            }
            // Every reference to a Secret names a built one (kustomize rewrote
            // it to the hashed name) and a key it has.
            let mut refs = 0;
            for o in &objects {
                let ns = o["metadata"]["namespace"].as_str().unwrap_or_default().to_string();
                each_map(o, &mut |m| {
                    if let Some(r) = m.get("secretKeyRef") {
                        refs += 1;
                        let (sname, key) = (r["name"].as_str().unwrap_or(""), r["key"].as_str().unwrap_or(""));
                        let data = secrets.get(&(ns.clone(), sname.to_string()));
                        assert!(
                            data.is_some_and(|d| d.contains_key(key)),
                            "{name}/{overlay}: {} refers to Secret {ns}/{sname} key {key}, which was not built",
                            common::object_id(o)
                        );
                    }
                });
            }
            assert!(refs > 0, "{name}/{overlay}: Secrets are built but no workload refers to them");
        }
    }
    assert!(with_secrets > 0, "no example has secrets: this test checked nothing");
}

fn mtime(p: &Path) -> SystemTime {
    fs::metadata(p).and_then(|m| m.modified()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

// ---- 4. init ---------------------------------------------------------------

#[test]
fn init_writes_the_starter_which_gen_accepts_and_never_overwrites_without_force() {
    let tmp = tempdir();
    let dir = tmp.path();
    let desc = dir.join("platform.yaml");

    let o = kubeproof(["init"], Some(dir));
    assert!(o.status.success(), "init failed\n{}", shown(&o));
    assert_eq!(fs::read_to_string(&desc).unwrap(), STARTER);
    let o = gen_cmd(&desc, &dir.join("deploy"), &[]);
    assert_eq!(o.status.code(), Some(0), "gen of the starter failed\n{}", shown(&o));

    // A file that exists is a usage error (exit 2), and stays as it was.
    fs::write(&desc, "my own description\n").unwrap();
    let o = kubeproof(["init"], Some(dir));
    assert_eq!(o.status.code(), Some(2), "init over an existing file\n{}", shown(&o));
    assert!(stderr(&o).contains("platform.yaml") && stderr(&o).contains("--force"), "{}", shown(&o));
    assert_eq!(fs::read_to_string(&desc).unwrap(), "my own description\n", "init overwrote a file");
    let o = kubeproof(["init", "platform.yaml", "--example", "kailash"], Some(dir));
    assert_eq!(o.status.code(), Some(2), "init --example over an existing file\n{}", shown(&o));
    assert_eq!(fs::read_to_string(&desc).unwrap(), "my own description\n", "init overwrote a file");

    let o = kubeproof(["init", "--force"], Some(dir));
    assert!(o.status.success(), "init --force failed\n{}", shown(&o));
    assert_eq!(fs::read_to_string(&desc).unwrap(), STARTER);
}

#[test]
fn init_example_writes_each_bundled_example_exactly() {
    let tmp = tempdir();
    let bundled: Vec<&str> = EXAMPLES.iter().map(|(n, _)| *n).collect();
    let on_disk: Vec<String> = examples().iter().map(|p| stem(p)).collect();
    assert_eq!(bundled, on_disk, "the bundled examples are not examples/*.yaml");

    for example in examples() {
        let name = stem(&example);
        let target = tmp.path().join("sub").join(format!("{name}.yaml"));
        let o = kubeproof([OsStr::new("init"), target.as_os_str(), OsStr::new("--example"), OsStr::new(&name)], None);
        assert!(o.status.success(), "init --example {name}\n{}", shown(&o));
        assert_eq!(fs::read(&target).unwrap(), fs::read(&example).unwrap(), "init --example {name} differs");
    }

    let o = kubeproof(["init", "--example", "list"], Some(tmp.path()));
    assert!(o.status.success(), "init --example list\n{}", shown(&o));
    assert_eq!(stdout(&o).lines().collect::<Vec<_>>(), bundled, "init --example list");
    assert!(!tmp.path().join("platform.yaml").exists(), "init --example list wrote a file");

    let o = kubeproof(["init", "--example", "no-such-platform"], Some(tmp.path()));
    assert_eq!(o.status.code(), Some(2), "init --example of an unknown name\n{}", shown(&o));
    let err = stderr(&o);
    assert!(err.contains("no-such-platform"), "{}", shown(&o));
    for name in &bundled {
        assert!(err.contains(name), "the message should list `{name}`\n{}", shown(&o));
    }
    assert!(!tmp.path().join("platform.yaml").exists(), "init of an unknown example wrote a file");
}

// ---- 5. schema -------------------------------------------------------------

fn schema() -> Value {
    let o = kubeproof(["schema"], None);
    assert!(o.status.success(), "schema failed\n{}", shown(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("schema is not JSON: {e}\n{}", stdout(&o)))
}

fn yaml_value(text: &str, what: &str) -> Value {
    serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
}

fn schema_errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[test]
fn schema_accepts_the_starter_and_every_example_and_rejects_mistakes() {
    let schema = schema();
    assert_eq!(schema["type"], "object", "{schema}");
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("not a valid JSON Schema: {e}"));

    let starter = yaml_value(STARTER, "the starter");
    let errors = schema_errors(&validator, &starter);
    assert!(errors.is_empty(), "the starter does not validate:\n{}", errors.join("\n"));

    for example in examples() {
        let name = stem(&example);
        let value = yaml_value(&fs::read_to_string(&example).unwrap(), &name);
        let errors = schema_errors(&validator, &value);
        assert!(errors.is_empty(), "{name} does not validate:\n{}", errors.join("\n"));

        let service = value["services"].as_object().and_then(|s| s.keys().next()).expect("a service").clone();
        // (what, where, the wrong value)
        let mutations = [
            ("an unknown top-level field", vec!["colour"], Value::from("blue")),
            ("an unknown service field", vec!["services", &service, "replicsa"], Value::from(3)),
            ("a string port", vec!["services", &service, "port"], Value::from("eighty")),
            ("a numeric name", vec!["name"], Value::from(42)),
        ];
        for (what, path, wrong) in mutations {
            let mut bad = value.clone();
            *path.iter().fold(&mut bad, |v, k| &mut v[*k]) = wrong;
            assert!(!validator.is_valid(&bad), "{name} with {what} validates against the schema");
        }
    }
}

// ---- 6. exit codes and messages --------------------------------------------

#[test]
fn unknown_field_exits_2_at_file_line_col_and_writes_nothing() {
    let tmp = tempdir();
    let example = repo_example("kailash");
    let text = fs::read_to_string(&example).unwrap();
    // Insert a misspelled field before the first service's `image:`.
    let at = text.find("\n    image:").expect("a service image") + 1;
    let line = text[..at].matches('\n').count() + 1;
    let bad = format!("{}    imagePullPolicyy: Always\n{}", &text[..at], &text[at..]);
    let desc = tmp.path().join("platform.yaml");
    fs::write(&desc, bad).unwrap();
    let out = tmp.path().join("deploy");

    let o = gen_cmd(&desc, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    let pos = format!("{}:{line}:5", desc.display());
    assert!(stderr(&o).contains(&pos), "stderr should point at {pos}\n{}", shown(&o));
    assert!(stderr(&o).contains("imagePullPolicyy"), "{}", shown(&o));
    assert!(!out.exists(), "a failed gen wrote output");
}

#[test]
fn missing_description_exits_2_naming_it() {
    let tmp = tempdir();
    let desc = tmp.path().join("no-such-platform.yaml");
    let out = tmp.path().join("deploy");
    let o = gen_cmd(&desc, &out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", shown(&o));
    assert!(stderr(&o).contains(&desc.display().to_string()), "stderr should name the file\n{}", shown(&o));
    assert!(!out.exists(), "a failed gen wrote output");
}

#[test]
fn usage_errors_exit_2_and_help_exits_0() {
    for args in [&[][..], &["gen"], &["gen", "x.yaml", "--bogus"], &["--bogus"], &["frobnicate"], &["schema", "extra"]]
    {
        let o = kubeproof(args, None);
        assert_eq!(o.status.code(), Some(2), "kubeproof {args:?}\n{}", shown(&o));
        assert!(stderr(&o).contains("Usage"), "kubeproof {args:?} should show usage\n{}", shown(&o));
        assert!(o.stdout.is_empty(), "kubeproof {args:?} wrote to stdout\n{}", shown(&o));
    }
    for args in [&["--help"][..], &["gen", "--help"], &["init", "-h"], &["help"], &["--version"]] {
        let o = kubeproof(args, None);
        assert_eq!(o.status.code(), Some(0), "kubeproof {args:?}\n{}", shown(&o));
        assert!(stdout(&o).contains("kubeproof") || stdout(&o).contains("Usage"), "{}", shown(&o));
    }
    let o = kubeproof(["--help"], None);
    for cmd in ["gen", "init", "schema"] {
        assert!(stdout(&o).contains(cmd), "--help should list `{cmd}`\n{}", shown(&o));
    }
}

// ---- 7. summary ------------------------------------------------------------

/// The summary table of `gen`'s stdout: environment → kind → count, and the
/// `total` row.
fn parse_summary(stdout: &str) -> (BTreeMap<String, BTreeMap<String, usize>>, BTreeMap<String, usize>) {
    let mut lines = stdout.lines().skip_while(|l| !l.starts_with("kind "));
    let header: Vec<String> =
        lines.next().expect("a `kind` header").split_whitespace().skip(1).map(String::from).collect();
    let mut table: BTreeMap<String, BTreeMap<String, usize>> =
        header.iter().map(|e| (e.clone(), BTreeMap::new())).collect();
    let mut total = BTreeMap::new();
    for line in lines {
        let mut cells = line.split_whitespace();
        let kind = cells.next().expect("a kind").to_string();
        let counts: Vec<usize> = cells.map(|c| c.parse().expect("a count")).collect();
        assert_eq!(counts.len(), header.len(), "row `{line}` has a count per environment");
        for (env, n) in header.iter().zip(counts) {
            if kind == "total" {
                total.insert(env.clone(), n);
            } else {
                table.get_mut(env).expect("env").insert(kind.clone(), n);
            }
        }
        if kind == "total" {
            break;
        }
    }
    (table, total)
}

#[test]
fn summary_counts_what_kustomize_builds() {
    if !have_kubectl() {
        return;
    }
    for example in examples() {
        let name = stem(&example);
        let tmp = tempdir();
        let out = tmp.path().join("deploy");
        let o = gen_cmd(&example, &out, &[]);
        assert!(o.status.success(), "{name}\n{}", shown(&o));
        let (table, total) = parse_summary(&stdout(&o));
        assert_eq!(table.keys().cloned().collect::<Vec<_>>(), overlays(&out), "{name}: one column per overlay");

        for (env, counts) in &table {
            assert_eq!(total[env], counts.values().sum::<usize>(), "{name}/{env}: the total is not the column's sum");
            let dir = out.join("kustomize/overlays").join(env);
            common::prepare_secrets(&dir);
            let built = parse_built(&kustomize(&dir).unwrap_or_else(|e| panic!("{name}/{env}: {e}"))).unwrap();
            let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
            for o in &built {
                *by_kind.entry(o["kind"].as_str().unwrap_or("?").to_string()).or_default() += 1;
            }
            // The summary counts the objects kubeproof writes. Secrets are not
            // among them: kustomize generates them, one per secretGenerator,
            // from the git-ignored env files.
            let generators = yaml_value(&fs::read_to_string(dir.join("kustomization.yaml")).unwrap(), "kustomization")
                ["secretGenerator"]
                .as_array()
                .map_or(0, Vec::len);
            let secrets = by_kind.remove("Secret").unwrap_or(0);
            assert_eq!(secrets, generators, "{name}/{env}: built Secrets vs secretGenerator entries");
            assert!(!counts.contains_key("Secret"), "{name}/{env}: the summary counts Secrets kubeproof never writes");
            let nonzero: BTreeMap<String, usize> =
                counts.iter().filter(|(_, n)| **n > 0).map(|(k, n)| (k.clone(), *n)).collect();
            assert_eq!(nonzero, by_kind, "{name}/{env}: summary column vs kubectl kustomize (Secrets aside)");
        }
    }
}

// ---- 8. colour --------------------------------------------------------------

/// The start of every ANSI style sequence.
const ESC: &str = "\x1b[";

/// A description `gen` refuses (an unknown field), and a manifest `check`
/// finds something in; both in `dir`.
fn colour_inputs(dir: &Path) -> (PathBuf, PathBuf) {
    let description = dir.join("bad.yaml");
    fs::write(
        &description,
        "apiVersion: kubeproof.dev/v1alpha1\nname: x\nservices:\n  a:\n    image: x\n    replicsa: 3\n",
    )
    .expect("write description");
    let manifest = dir.join("web.yaml");
    fs::write(
        &manifest,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web, namespace: shop }\nspec:\n  \
         selector: { matchLabels: { app: web } }\n  template:\n    metadata: { labels: { app: web } }\n    \
         spec:\n      containers:\n        - { name: web, image: nginx }\n",
    )
    .expect("write manifest");
    (description, manifest)
}

/// `kubeproof ARGS` in `dir` with `NO_COLOR` set to `no_color`, or unset.
fn with_no_color(args: &[&OsStr], dir: &Path, no_color: Option<&str>) -> Output {
    let mut cmd = Command::new(common::bin());
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    match no_color {
        Some(v) => cmd.env("NO_COLOR", v),
        None => cmd.env_remove("NO_COLOR"),
    };
    cmd.output().expect("kubeproof runs")
}

#[test]
fn color_flag_decides_for_gen_errors_and_the_check_report() {
    let tmp = tempdir();
    let (description, manifest) = colour_inputs(tmp.path());
    let out = tmp.path().join("deploy");
    let gen_args = |color: &'static str| -> Vec<&OsStr> {
        vec![OsStr::new("gen"), description.as_os_str(), OsStr::new("-o"), out.as_os_str(), OsStr::new(color)]
    };
    let check_args =
        |color: &'static str| -> Vec<&OsStr> { vec![OsStr::new("check"), manifest.as_os_str(), OsStr::new(color)] };
    // The flag overrides NO_COLOR; output to a pipe is not coloured by default.
    for no_color in [None, Some("1")] {
        let g = with_no_color(&gen_args("--color=always"), tmp.path(), no_color);
        assert_eq!(g.status.code(), Some(2), "{}", shown(&g));
        assert!(stderr(&g).contains(ESC), "gen --color always, NO_COLOR={no_color:?}:\n{}", shown(&g));
        assert!(stderr(&g).contains("replicsa"), "{}", shown(&g));
        let c = with_no_color(&check_args("--color=always"), tmp.path(), no_color);
        assert_eq!(c.status.code(), Some(1), "{}", shown(&c));
        assert!(stdout(&c).contains(ESC), "check --color always, NO_COLOR={no_color:?}:\n{}", shown(&c));
        for plain in ["--color=never", "--color=auto"] {
            let g = with_no_color(&gen_args(plain), tmp.path(), no_color);
            assert_eq!(g.status.code(), Some(2), "{}", shown(&g));
            assert!(!stderr(&g).contains(ESC), "gen {plain}, NO_COLOR={no_color:?}:\n{}", shown(&g));
            let c = with_no_color(&check_args(plain), tmp.path(), no_color);
            assert_eq!(c.status.code(), Some(1), "{}", shown(&c));
            assert!(!stdout(&c).contains(ESC), "check {plain}, NO_COLOR={no_color:?}:\n{}", shown(&c));
            assert!(stdout(&c).contains("KP402"), "{}", shown(&c));
        }
    }
    // The flag also goes before the subcommand.
    let mut before = vec![OsStr::new("--color"), OsStr::new("always")];
    before.extend(check_args("--format=text"));
    assert!(stdout(&with_no_color(&before, tmp.path(), None)).contains(ESC));
}

/// Single-quoted for `sh`.
fn sh_quote(s: &OsStr) -> String {
    format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"))
}

/// `kubeproof ARGS` on a terminal (util-linux `script` gives it one; stdout
/// and stderr both go to it): the output, and the exit code.
fn on_terminal(args: &[&OsStr], dir: &Path, no_color: Option<&str>) -> (String, Option<i32>) {
    let line: Vec<String> =
        std::iter::once(OsStr::new(common::bin())).chain(args.iter().copied()).map(sh_quote).collect();
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line.join(" "), "/dev/null"]).current_dir(dir).stdin(Stdio::null());
    match no_color {
        Some(v) => cmd.env("NO_COLOR", v),
        None => cmd.env_remove("NO_COLOR"),
    };
    let o = cmd.output().expect("script runs");
    (String::from_utf8_lossy(&o.stdout).into_owned(), o.status.code())
}

#[test]
fn on_a_terminal_no_color_turns_colour_off() {
    if !tool_available("script", &["--version"]) {
        return;
    }
    let tmp = tempdir();
    let (description, manifest) = colour_inputs(tmp.path());
    let out = tmp.path().join("deploy");
    let gen_args = [OsStr::new("gen"), description.as_os_str(), OsStr::new("-o"), out.as_os_str()];
    let check_args = [OsStr::new("check"), manifest.as_os_str()];
    for (args, code) in [(&gen_args[..], 2), (&check_args[..], 1)] {
        let what = args[0].to_string_lossy();
        let (text, status) = on_terminal(args, tmp.path(), None);
        assert_eq!(status, Some(code), "{what}:\n{text}");
        assert!(text.contains(ESC), "{what} on a terminal is coloured:\n{text}");
        // no-color.org: an empty NO_COLOR does not count.
        assert!(on_terminal(args, tmp.path(), Some("")).0.contains(ESC), "{what}, NO_COLOR empty");
        let (text, status) = on_terminal(args, tmp.path(), Some("1"));
        assert_eq!(status, Some(code), "{what}:\n{text}");
        assert!(!text.contains(ESC), "{what} with NO_COLOR=1:\n{text}");
        let mut never = args.to_vec();
        never.push(OsStr::new("--color=never"));
        assert!(!on_terminal(&never, tmp.path(), None).0.contains(ESC), "{what} --color never");
    }
}

// ---- 9. a description or manifests ------------------------------------------

/// `kubeproof ARGS` in the repository with `stdin`.
fn with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(common::bin())
        .args(args)
        .current_dir(common::repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubeproof runs");
    child.stdin.take().expect("stdin").write_all(stdin).expect("write stdin");
    child.wait_with_output().expect("kubeproof ends")
}

/// Manifests holding a description in a ConfigMap (indented, so not a
/// description themselves), and two workloads.
const EMBEDS_A_DESCRIPTION: &str = r#"apiVersion: v1
kind: ConfigMap
metadata: { name: platform, namespace: shop }
data:
  platform.yaml: |
    apiVersion: kubeproof.dev/v1alpha1
    name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: nginx, ports: [{ containerPort: 8080 }] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec: { containers: [{ name: api, image: api, ports: [{ containerPort: 8080 }] }] }
"#;

#[test]
fn reach_graph_and_budget_tell_a_description_from_manifests_alike() {
    let tmp = tempdir();
    let manifests = tmp.path().join("shop.yaml");
    fs::write(&manifests, EMBEDS_A_DESCRIPTION).expect("write manifests");
    // kailash with its apiVersion quoted: still a description.
    let kailash = fs::read_to_string(repo_example("kailash")).expect("read kailash");
    let quoted = kailash.replacen("apiVersion: kubeproof.dev/v1alpha1", "apiVersion: \"kubeproof.dev/v1alpha1\"", 1);
    assert_ne!(quoted, kailash);
    let description = tmp.path().join("kailash.yaml");
    fs::write(&description, &quoted).expect("write description");
    let m = manifests.to_str().expect("UTF-8 path");
    let d = description.to_str().expect("UTF-8 path");

    let reach = common::kubeproof(["reach", "web", "api", "-f", m], None);
    assert_eq!(reach.status.code(), Some(0), "manifests without policies allow:\n{}", shown(&reach));
    let graph = common::kubeproof(["graph", m, "--format", "dot"], None);
    assert!(graph.status.success(), "{}", shown(&graph));
    assert!(stdout(&graph).contains("shop/Deployment/web"), "{}", shown(&graph));
    let budget = common::kubeproof(["budget", m, "--format", "json"], None);
    assert!(budget.status.success(), "{}", shown(&budget));
    assert!(stdout(&budget).contains("\"manifests\""), "budgeted as manifests:\n{}", shown(&budget));

    let reach = common::kubeproof(["reach", "api", "neo4j", "bolt", "-f", d], None);
    assert_eq!(reach.status.code(), Some(0), "{}", shown(&reach));
    assert!(stdout(&reach).contains("allowed by NetworkPolicy kailash/neo4j"), "{}", shown(&reach));
    let graph = common::kubeproof(["graph", d, "--format", "dot"], None);
    assert!(graph.status.success(), "{}", shown(&graph));
    assert!(stdout(&graph).contains("kailash/"), "{}", shown(&graph));
    let budget = common::kubeproof(["budget", d, "--format", "json"], None);
    assert!(budget.status.success(), "{}", shown(&budget));
    assert!(stdout(&budget).contains("\"environments\""), "budgeted as a description:\n{}", shown(&budget));
}

#[test]
fn reach_graph_and_budget_read_a_description_from_stdin() {
    let file = repo_example("kailash");
    let text = fs::read(&file).expect("read kailash");
    let f = file.to_str().expect("UTF-8 path");
    for (from_file, from_stdin) in [
        (vec!["reach", "api", "neo4j", "bolt", "-f", f], vec!["reach", "api", "neo4j", "bolt", "-f", "-"]),
        (vec!["graph", f, "--format", "dot", "--env", "prod"], vec!["graph", "-", "--format", "dot", "--env", "prod"]),
        (vec!["budget", f, "--format", "json"], vec!["budget", "-", "--format", "json"]),
    ] {
        let a = common::kubeproof(&from_file, None);
        let b = with_stdin(&from_stdin, &text);
        assert_eq!(a.status.code(), Some(0), "{from_file:?}\n{}", shown(&a));
        assert_eq!(b.status.code(), Some(0), "{from_stdin:?}\n{}", shown(&b));
        assert_eq!(stdout(&a), stdout(&b), "{from_stdin:?} differs from {from_file:?}");
    }
    // Its errors are shown with the text read from stdin.
    let bad = b"apiVersion: kubeproof.dev/v1alpha1\nname: x\nservices:\n  a:\n    image: x\n    replicsa: 3\n";
    for args in [&["reach", "a", "b", "-f", "-"][..], &["graph", "-"], &["budget", "-"]] {
        let o = with_stdin(args, bad);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", shown(&o));
        let err = stderr(&o);
        assert!(err.contains("--> <stdin>:6:5") && err.contains("6 |     replicsa: 3"), "{args:?}\n{err}");
    }
}

/// Issue 21.5: a missing tool fails a test by default (CI and a developer's
/// `cargo test` alike); skipping needs `KUBEPROOF_SKIP_MISSING_TOOLS`.
#[test]
fn a_missing_tool_fails_the_test_unless_skipping_is_asked_for() {
    let missing = || common::tool_available("kubeproof-no-such-tool", &["--version"]);
    if std::env::var_os(common::SKIP_MISSING_TOOLS).is_some() {
        assert!(!missing(), "a missing tool is reported missing");
    } else {
        assert!(std::panic::catch_unwind(missing).is_err(), "a missing tool must fail the test");
    }
}
