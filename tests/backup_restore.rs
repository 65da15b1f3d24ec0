//! Rung 4 of the proof ladder: the backup and restore commands kubeproof
//! generates, run against a real PostgreSQL and a real Redis on this machine.
//!
//! The scripts are read from the generated YAML (the CronJob's dump and
//! upload containers, the restore Job's fetch and restore containers) and run
//! unchanged with `sh -c`, with the environment the YAML gives them; only
//! addresses, credentials and the scratch directory are replaced by local
//! ones. The bucket is a local directory: `mc` is a small stand-in on PATH
//! that maps `target/...` to it (the scripts' only storage operations are
//! `mc alias set`, `mc cp`, `mc ls`, `mc rm` and, for MinIO, `mc mirror`,
//! whose `source/...` is another directory standing in for the MinIO
//! datastore: neither MinIO nor `mc` is packaged for Debian).
//!
//! `./scripts/test` starts the servers and exports their addresses:
//! KUBEPROOF_PG_PORT (PostgreSQL on 127.0.0.1, superuser `postgres`, trust
//! authentication on loopback), KUBEPROOF_REDIS_PORT and
//! KUBEPROOF_REDIS_PASSWORD. Without them the test fails, or is skipped
//! when KUBEPROOF_SKIP_MISSING_TOOLS is set.

use crate::common;

use common::pod_container as container;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const MC_SHIM: &str = r#"#!/bin/sh
# Stand-in for the MinIO client: the alias `target` is the directory $MC_SHIM_ROOT,
# the alias `source` the directory $MC_SHIM_SOURCE.
set -eu
cmd=$1
shift
for a in "$@"; do
  shift
  case $a in --*) ;; *) set -- "$@" "$a" ;; esac
done
p() {
  case $1 in
    target/*) printf '%s/%s' "$MC_SHIM_ROOT" "${1#target/}" ;;
    source/*) printf '%s/%s' "$MC_SHIM_SOURCE" "${1#source/}" ;;
    *) printf '%s' "$1" ;;
  esac
}
case $cmd in
  alias) ;;
  cp) mkdir -p "$(dirname "$(p "$2")")"; cp "$(p "$1")" "$(p "$2")" ;;
  ls)
    d=$(p "$1")
    [ -d "$d" ] || exit 0
    for f in "$d"/*; do
      [ -e "$f" ] || continue
      if [ -d "$f" ]; then printf '[2024-01-01 00:00:00 UTC]     0B %s/\n' "${f##*/}"
      else printf '[2024-01-01 00:00:00 UTC] %sB STANDARD %s\n' "$(wc -c <"$f")" "${f##*/}"; fi
    done ;;
  rm) rm -rf "$(p "$1")" ;;
  mirror) [ -d "$(p "$1")" ] || { echo "mc: $1 does not exist" >&2; exit 1; }; mkdir -p "$(p "$2")"; cp -R "$(p "$1")/." "$(p "$2")/" ;;
  *) echo "mc stand-in: unsupported command $cmd" >&2; exit 1 ;;
esac
"#;

struct Servers {
    pg_port: String,
    redis_port: String,
    redis_password: String,
}

fn servers() -> Option<Servers> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    match (get("KUBEPROOF_PG_PORT"), get("KUBEPROOF_REDIS_PORT"), get("KUBEPROOF_REDIS_PASSWORD")) {
        (Some(pg_port), Some(redis_port), Some(redis_password)) => {
            Some(Servers { pg_port, redis_port, redis_password })
        }
        _ => {
            let msg = "KUBEPROOF_PG_PORT, KUBEPROOF_REDIS_PORT and KUBEPROOF_REDIS_PASSWORD are not set: \
                       ./scripts/test installs and starts PostgreSQL and Redis and sets them";
            if common::tools_required() {
                panic!("{msg}");
            }
            eprintln!("\nSKIPPED: {msg}\n");
            None
        }
    }
}

/// The generated objects of machine-native-ops (PostgreSQL every 4h kept 30d,
/// Redis every 30m kept 7d), parsed back from the YAML files `gen` writes.
fn generated() -> BTreeMap<String, Value> {
    common::base_objects("machine-native-ops")
}

/// The container's script (`sh -c SCRIPT`) and environment, as generated:
/// plain values as written, ConfigMap keys from the generated ConfigMap,
/// Secret keys and the pod IP from `local`, which also overrides addresses.
fn script_and_env(
    objects: &BTreeMap<String, Value>,
    c: &Value,
    local: &BTreeMap<&str, String>,
) -> (String, BTreeMap<String, String>) {
    let cmd = c["command"].as_array().expect("a command");
    assert_eq!(cmd.len(), 3, "command is sh -c SCRIPT: {cmd:?}");
    assert_eq!((cmd[0].as_str(), cmd[1].as_str()), (Some("sh"), Some("-c")));
    let script = cmd[2].as_str().expect("a script").to_string();
    let mut env = BTreeMap::new();
    for e in c["env"].as_array().expect("env") {
        let name = e["name"].as_str().expect("name").to_string();
        let value = if let Some(v) = e["value"].as_str() {
            v.to_string()
        } else if let Some(r) = e["valueFrom"]["configMapKeyRef"].as_object() {
            let cm = objects
                .values()
                .find(|o| o["kind"] == "ConfigMap" && o["metadata"]["name"] == r["name"])
                .unwrap_or_else(|| panic!("no ConfigMap {:?}", r["name"]));
            cm["data"][r["key"].as_str().unwrap()].as_str().expect("ConfigMap key").to_string()
        } else {
            local.get(name.as_str()).unwrap_or_else(|| panic!("no local value for {name}")).clone()
        };
        env.insert(name, value);
    }
    for (k, v) in local {
        if env.contains_key(*k) {
            env.insert(k.to_string(), v.clone());
        }
    }
    (script, env)
}

/// Runs a generated script with `sh -c`, the `mc` stand-in first on PATH.
fn run(what: &str, script: &str, env: &BTreeMap<String, String>, bin: &Path, bucket: &Path) -> String {
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    // Bounded: a script waiting forever would hold CI to its limit.
    let o = Command::new("timeout")
        .args(["300", "sh", "-c"])
        .arg(script)
        .env_clear()
        .envs(env)
        .env("PATH", path)
        .env("MC_SHIM_ROOT", bucket)
        .env("MC_SHIM_SOURCE", bucket.with_file_name("minio"))
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run sh: {e}"));
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{what} failed ({}):\n{out}\n--- script ---\n{script}", o.status);
    eprintln!("{what}: {}", out.trim());
    out
}

fn sh(cmd: &str) -> String {
    let o = Command::new("sh").arg("-c").arg(cmd).output().expect("sh runs");
    assert!(o.status.success(), "`{cmd}` failed: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// A UTC timestamp as the scripts name dumps, `seconds` from now.
fn stamp(seconds_from_now: i64) -> String {
    sh(&format!("date -u -d \"@$(( $(date +%s) + ({seconds_from_now}) ))\" +%Y%m%dT%H%M%SZ"))
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

struct Scratch {
    _tmp: tempfile::TempDir,
    bin: PathBuf,
    bucket: PathBuf,
    root: PathBuf,
}

fn scratch() -> Scratch {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bin = tmp.path().join("bin");
    let bucket = tmp.path().join("bucket");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&bucket).unwrap();
    let mc = bin.join("mc");
    std::fs::write(&mc, MC_SHIM).unwrap();
    sh(&format!("chmod +x {}", mc.display()));
    let root = tmp.path().to_path_buf();
    Scratch { _tmp: tmp, bin, bucket, root }
}

/// A fresh, empty directory for one pod's /backup emptyDir.
fn pod_dir(s: &Scratch, name: &str) -> String {
    let d = s.root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    // The pods run as the datastore's UID; here the PostgreSQL tools may run as another user.
    sh(&format!("chmod 777 {}", d.display()));
    d.display().to_string()
}

// ---- PostgreSQL ------------------------------------------------------------

fn psql(port: &str, db: &str, sql: &str) -> String {
    let o = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            "postgres",
            "-d",
            db,
        ])
        .arg("-c")
        .arg(sql)
        .output()
        .expect("psql runs");
    assert!(o.status.success(), "psql `{sql}`: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Row counts and an md5 of every row, per table, in key order.
fn pg_fingerprint(port: &str, db: &str) -> String {
    psql(
        port,
        db,
        "SELECT string_agg(x, ' ' ORDER BY x) FROM ( \
           SELECT 'customers=' || count(*) || ':' || md5(string_agg(c::text, ',' ORDER BY id)) AS x FROM customers c \
           UNION ALL \
           SELECT 'orders=' || count(*) || ':' || md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o \
           UNION ALL \
           SELECT 'orders_id_seq=' || last_value FROM orders_id_seq) t",
    )
}

/// The pod of the restore Job the runbook starts from CronJob `id`
/// (`kubectl create job --from=cronjob/…`), which never runs by itself:
/// suspended, and due on 31 February.
fn restore_pod<'a>(objects: &'a BTreeMap<String, Value>, id: &str) -> &'a Value {
    let cron = &objects[id];
    assert_eq!(cron["spec"]["suspend"], true, "{id} is suspended");
    assert_eq!(cron["spec"]["schedule"], "0 0 31 2 *", "{id} is never due");
    &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

/// RUNBOOK.md starts each restore from the restore CronJob the stack
/// applies, names the Job it starts in every later command, and no longer
/// resumes an applied Job.
#[test]
fn the_runbook_starts_each_restore_from_its_cronjob() {
    let description = common::repo().join("examples/machine-native-ops.yaml");
    let platform = kubeproof::description::load(&description).expect("the example loads");
    let built = kubeproof::build::build(&platform, &description).expect("the example generates");
    let runbook = String::from_utf8_lossy(built.tree.get(Path::new("RUNBOOK.md")).expect("a runbook")).into_owned();
    let objects = generated();
    for store in ["postgres", "redis"] {
        restore_pod(&objects, &format!("CronJob/machine-native-ops/{store}-restore"));
        let section = runbook.split(&format!("## Restore {store}\n")).nth(1).expect("a restore section");
        let section = section.split("\n## ").next().unwrap_or(section);
        let ns = "kubectl -n machine-native-ops";
        for command in [
            format!("{ns} create job {store}-restore-run --from=cronjob/{store}-restore"),
            format!("{ns} logs -f job/{store}-restore-run --all-containers"),
            format!("{ns} wait --for=condition=complete job/{store}-restore-run --timeout=4h"),
            format!("{ns} delete job {store}-restore-run"),
            format!("{ns} patch configmap {store}-restore --type merge -p '{{\"data\":{{\"BACKUP\":\"latest\"}}}}'"),
        ] {
            assert!(section.contains(&command), "`{command}` in the section:\n{section}");
        }
        assert!(!section.contains("patch job"), "no applied Job to resume:\n{section}");
    }
}

#[test]
fn postgres_backup_restores_what_was_dumped_and_prunes_old_dumps() {
    let Some(srv) = servers() else { return };
    let objects = generated();
    let cron = &objects["CronJob/machine-native-ops/postgres-backup"];
    let job_pod = restore_pod(&objects, "CronJob/machine-native-ops/postgres-restore");
    let cron_pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];

    // The database the generated job names, with sample data.
    let dump_c = container(cron_pod, "dump");
    let db = dump_c["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "PGDATABASE")
        .and_then(|e| e["value"].as_str())
        .expect("PGDATABASE")
        .to_string();
    psql(&srv.pg_port, "postgres", &format!("DROP DATABASE IF EXISTS \"{db}\""));
    psql(&srv.pg_port, "postgres", &format!("CREATE DATABASE \"{db}\""));
    psql(
        &srv.pg_port,
        &db,
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text UNIQUE, profile jsonb); \
         CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers(id), \
           amount numeric(12,2), placed timestamptz, note text); \
         CREATE INDEX orders_customer ON orders (customer); \
         INSERT INTO customers SELECT i, 'customer ' || i, 'c' || i || '@example.com', \
           jsonb_build_object('tier', i % 3, 'tags', jsonb_build_array('a', i)) FROM generate_series(1, 1000) i; \
         INSERT INTO orders (customer, amount, placed, note) SELECT 1 + i % 1000, (i * 7 % 10000) / 100.0, \
           timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute', \
           CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ''' || i || E'''\\n' END FROM generate_series(1, 20000) i;",
    );
    let original = pg_fingerprint(&srv.pg_port, &db);
    assert!(original.contains("customers=1000:") && original.contains("orders=20000:"), "{original}");

    let s = scratch();
    let keep: i64 = container(cron_pod, "upload")["env"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "KEEP_SECONDS")
        .and_then(|e| e["value"].as_str())
        .and_then(|v| v.parse().ok())
        .expect("KEEP_SECONDS");
    assert_eq!(keep, 30 * 86_400, "PostgreSQL dumps are kept 30 days");

    let mut local: BTreeMap<&str, String> = BTreeMap::from([
        ("PGHOST", "127.0.0.1".to_string()),
        ("PGPORT", srv.pg_port.clone()),
        ("PGUSER", "postgres".to_string()),
        ("PGPASSWORD", "unused-trust-auth".to_string()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("HOME", s.root.display().to_string()),
    ]);

    // Old dumps the upload must prune, and what it must keep.
    let (upload_script, upload_env) = script_and_env(&objects, container(cron_pod, "upload"), &local);
    let dest = s.bucket.join(&upload_env["DEST"]);
    std::fs::create_dir_all(&dest).unwrap();
    let ancient = "20200101T000000Z.dump".to_string();
    let expired = format!("{}.dump", stamp(-keep - 3600));
    let kept = format!("{}.dump", stamp(-keep + 3600));
    for f in [&ancient, &expired, &kept, &"README.txt".to_string()] {
        std::fs::write(dest.join(f), "fabricated").unwrap();
    }

    // The backup pod: dump (postgres image), then upload and prune (mc).
    local.insert("BACKUP_DIR", pod_dir(&s, "backup-pod"));
    let (dump_script, dump_env) = script_and_env(&objects, dump_c, &local);
    run("dump", &dump_script, &dump_env, &s.bin, &s.bucket);
    let (_, upload_env) = script_and_env(&objects, container(cron_pod, "upload"), &local);
    let out = run("upload", &upload_script, &upload_env, &s.bin, &s.bucket);
    let after = files(&dest);
    let new: Vec<&String> =
        after.iter().filter(|f| ![&ancient, &expired, &kept].contains(f) && f.ends_with(".dump")).collect();
    assert_eq!(new.len(), 1, "one new dump in {after:?}");
    assert!(!after.contains(&ancient) && !after.contains(&expired), "expired dumps pruned: {after:?}\n{out}");
    assert!(after.contains(&kept) && after.contains(&"README.txt".to_string()), "others kept: {after:?}");
    // Custom format, compressed: pg_restore reads it.
    let dump_path = dest.join(new[0]);
    let header = std::fs::read(&dump_path).unwrap();
    assert!(header.starts_with(b"PGDMP"), "a pg_dump custom-format archive");
    let toc = sh(&format!("pg_restore --list {}", dump_path.display()));
    assert!(toc.contains("TABLE DATA public orders") && toc.contains("Compression: 6"), "{toc}");

    // Damage the database: lose rows, change others, add a stray one.
    psql(
        &srv.pg_port,
        &db,
        "DELETE FROM orders WHERE id % 3 = 0; UPDATE customers SET name = 'changed' WHERE id < 100; \
         INSERT INTO orders (customer, amount) VALUES (1, 1.00);",
    );
    assert_ne!(pg_fingerprint(&srv.pg_port, &db), original);

    // The restore pod: fetch the newest (mc), restore (postgres image).
    local.insert("BACKUP_DIR", pod_dir(&s, "restore-pod"));
    let (fetch_script, fetch_env) = script_and_env(&objects, container(job_pod, "fetch"), &local);
    assert_eq!(fetch_env["BACKUP"], "latest");
    let out = run("fetch", &fetch_script, &fetch_env, &s.bin, &s.bucket);
    assert!(out.contains(new[0].as_str()), "fetched the newest dump, {}: {out}", new[0]);
    let (restore_script, restore_env) = script_and_env(&objects, container(job_pod, "restore"), &local);
    run("restore", &restore_script, &restore_env, &s.bin, &s.bucket);

    let restored = pg_fingerprint(&srv.pg_port, &db);
    eprintln!("original: {original}\nrestored: {restored}");
    assert_eq!(restored, original, "the restored database equals the original");
    psql(&srv.pg_port, "postgres", &format!("DROP DATABASE \"{db}\""));
}

// ---- Redis -----------------------------------------------------------------

/// Key count and a SHA-1 over every key, its type and its value (sorted).
const REDIS_DIGEST: &str = r#"
local keys = redis.call('KEYS', '*')
table.sort(keys)
local parts = {}
for _, k in ipairs(keys) do
  local t = redis.call('TYPE', k).ok
  local v
  if t == 'string' then v = redis.call('GET', k)
  elseif t == 'list' then v = table.concat(redis.call('LRANGE', k, 0, -1), '\0')
  elseif t == 'set' then local m = redis.call('SMEMBERS', k); table.sort(m); v = table.concat(m, '\0')
  elseif t == 'zset' then v = table.concat(redis.call('ZRANGE', k, 0, -1, 'WITHSCORES'), '\0')
  elseif t == 'hash' then
    local h = redis.call('HGETALL', k); local f = {}
    for i = 1, #h, 2 do f[#f + 1] = h[i] .. '=' .. h[i + 1] end
    table.sort(f); v = table.concat(f, '\0')
  else v = '?' end
  parts[#parts + 1] = k .. '\1' .. t .. '\1' .. v
end
return tostring(#keys) .. ' ' .. redis.sha1hex(table.concat(parts, '\2'))
"#;

fn redis(srv: &Servers, args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &srv.redis_port])
        .args(args)
        .env("REDISCLI_AUTH", &srv.redis_password)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("redis-cli runs");
    if let Some(text) = stdin {
        child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "redis-cli {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn redis_digest(srv: &Servers) -> String {
    redis(srv, &["eval", REDIS_DIGEST, "0"], None)
}

#[test]
fn redis_snapshot_restores_the_whole_dataset() {
    let Some(srv) = servers() else { return };
    let objects = generated();
    let cron = &objects["CronJob/machine-native-ops/redis-backup"];
    let job_pod = restore_pod(&objects, "CronJob/machine-native-ops/redis-restore");
    assert_eq!(cron["spec"]["schedule"], "*/30 * * * *", "Redis every 30 minutes");
    let cron_pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];

    // Sample data of every type, loaded through the protocol.
    redis(&srv, &["flushall"], None);
    let mut cmds = String::new();
    for i in 0..5000 {
        cmds.push_str(&format!("SET session:{i} \"user-{i} \\\"quoted\\\" value\"\n"));
    }
    for i in 0..200 {
        cmds.push_str(&format!("HSET user:{i} name \"User {i}\" email u{i}@example.com visits {}\n", i * 3));
        cmds.push_str(&format!("RPUSH events:{i} login view:{i} logout\n"));
        cmds.push_str(&format!("SADD tags:{} t{i}\n", i % 10));
        cmds.push_str(&format!("ZADD leaderboard {} player:{i}\n", i * 7 % 101));
    }
    redis(&srv, &[], Some(&cmds));
    let original = redis_digest(&srv);
    assert!(original.starts_with("5411 "), "5000 strings, 200 hashes, 200 lists, 10 sets, 1 sorted set: {original}");

    let s = scratch();
    // A free port: the live one's next was once some other socket's, and
    // the restore waited for its server forever.
    let restore_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port().to_string())
        .expect("a free port");
    let mut local: BTreeMap<&str, String> = BTreeMap::from([
        ("REDIS_HOST", "127.0.0.1".to_string()),
        ("REDIS_PORT", srv.redis_port.clone()),
        ("REDISCLI_AUTH", srv.redis_password.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("HOME", s.root.display().to_string()),
        ("POD_IP", "127.0.0.1".to_string()),
        ("RESTORE_PORT", restore_port),
    ]);

    local.insert("BACKUP_DIR", pod_dir(&s, "backup-pod"));
    let (dump_script, dump_env) = script_and_env(&objects, container(cron_pod, "dump"), &local);
    run("dump", &dump_script, &dump_env, &s.bin, &s.bucket);
    let (upload_script, upload_env) = script_and_env(&objects, container(cron_pod, "upload"), &local);
    run("upload", &upload_script, &upload_env, &s.bin, &s.bucket);
    let dest = s.bucket.join(&upload_env["DEST"]);
    let dumps = files(&dest);
    assert!(dumps.len() == 1 && dumps[0].ends_with(".rdb"), "one snapshot: {dumps:?}");
    assert!(std::fs::read(dest.join(&dumps[0])).unwrap().starts_with(b"REDIS"), "an RDB file");

    // Damage: lose everything, write something else.
    redis(&srv, &["flushall"], None);
    redis(&srv, &["set", "stray", "written after the backup"], None);
    assert_ne!(redis_digest(&srv), original);

    local.insert("BACKUP_DIR", pod_dir(&s, "restore-pod"));
    let (fetch_script, fetch_env) = script_and_env(&objects, container(job_pod, "fetch"), &local);
    run("fetch", &fetch_script, &fetch_env, &s.bin, &s.bucket);
    let (restore_script, restore_env) = script_and_env(&objects, container(job_pod, "restore"), &local);
    run("restore", &restore_script, &restore_env, &s.bin, &s.bucket);

    let restored = redis_digest(&srv);
    eprintln!("original: {original}\nrestored: {restored}");
    assert_eq!(restored, original, "the restored dataset equals the original");
    let role = redis(&srv, &["info", "replication"], None);
    assert!(role.contains("role:master"), "the live server is a primary again:\n{role}");

    // Its port taken, the server of the snapshot exits: the restore fails
    // at once and leaves the live server alone (it waited forever).
    let taken = std::net::TcpListener::bind("0.0.0.0:0").expect("a port");
    let mut env = restore_env.clone();
    env.insert("RESTORE_PORT".into(), taken.local_addr().expect("bound").port().to_string());
    let dir = Path::new(&env["BACKUP_DIR"]);
    std::fs::rename(dir.join("dump.rdb"), dir.join("fetched.rdb")).expect("the snapshot, as fetched");
    let path = format!("{}:{}", s.bin.display(), std::env::var("PATH").unwrap_or_default());
    let o = Command::new("timeout")
        .args(["60", "sh", "-c"])
        .arg(&restore_script)
        .env_clear()
        .envs(&env)
        .env("PATH", path)
        .output()
        .expect("sh runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "fails, not timed out (124):\n{err}");
    assert!(err.contains("exited: nothing restored"), "{err}");
    assert_eq!(redis_digest(&srv), original, "the live data untouched");
    redis(&srv, &["flushall"], None);
}

// ---- MinIO -----------------------------------------------------------------

/// Every file under `dir` with its content, as `path=content` lines.
fn tree(dir: &Path) -> String {
    sh(&format!(
        "cd {} && find . -type f | sort | while read -r f; do printf '%s=%s\\n' \"$f\" \"$(cat \"$f\")\"; done",
        dir.display()
    ))
}

/// MinIO's mirror and its restore, with `mc` a stand-in (see the module doc):
/// what this proves is the scripts' own logic — timestamped prefixes,
/// retention, picking the newest, restoring over changed data.
#[test]
fn minio_mirror_restores_the_buckets_and_prunes_old_mirrors() {
    let objects = common::base_objects("health-platform");
    let cron = &objects["CronJob/health-data/datalake-backup"];
    let job_pod = restore_pod(&objects, "CronJob/health-data/datalake-restore");
    let cron_pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let s = scratch();
    let minio = s.root.join("minio");
    std::fs::create_dir_all(minio.join("scans/2024")).unwrap();
    std::fs::create_dir_all(minio.join("reports")).unwrap();
    std::fs::write(minio.join("scans/2024/a.dcm"), "scan a").unwrap();
    std::fs::write(minio.join("reports/r1.pdf"), "report 1").unwrap();
    let original = tree(&minio);

    let local: BTreeMap<&str, String> = [
        ("AWS_ACCESS_KEY_ID", "key".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "secret".to_string()),
        ("MINIO_ROOT_USER", "root".to_string()),
        ("MINIO_ROOT_PASSWORD", "root-password".to_string()),
        ("BACKUP_DIR", pod_dir(&s, "backup-pod")),
        ("HOME", s.root.display().to_string()),
    ]
    .into_iter()
    .collect();
    let (script, env) = script_and_env(&objects, container(cron_pod, "mirror"), &local);
    let keep: i64 = env["KEEP_SECONDS"].parse().unwrap();
    let dest = s.bucket.join(&env["DEST"]);
    // Mirrors already in the bucket: one past the retention, one within it.
    let old = stamp(-keep - 3600);
    let recent = stamp(-3600);
    for st in [&old, &recent] {
        std::fs::create_dir_all(dest.join(st).join("reports")).unwrap();
        std::fs::write(dest.join(st).join("reports/r0.pdf"), "report 0").unwrap();
    }
    let out = run("mirror", &script, &env, &s.bin, &s.bucket);
    let kept = files(&dest);
    assert!(!kept.contains(&old), "the mirror past retention is pruned: {kept:?}\n{out}");
    assert!(kept.contains(&recent), "the recent mirror is kept: {kept:?}");
    assert_eq!(kept.len(), 2, "the recent one and today's: {kept:?}");
    let today = kept.iter().max().unwrap();
    assert_eq!(tree(&dest.join(today)), original, "the newest prefix holds every bucket");

    // Data changes, then the restore (BACKUP=latest from the ConfigMap).
    std::fs::write(minio.join("scans/2024/a.dcm"), "overwritten").unwrap();
    std::fs::remove_file(minio.join("reports/r1.pdf")).unwrap();
    let (script, env) = script_and_env(&objects, container(job_pod, "restore"), &local);
    assert_eq!(env["BACKUP"], "latest");
    run("restore", &script, &env, &s.bin, &s.bucket);
    assert_eq!(tree(&minio), original, "every object of the mirror is back");
}
