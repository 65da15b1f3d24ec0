//! `env` templates connect for real: a client service's `${db.url}` and
//! `${cache.url}`, read from the built overlay as the kubelet reads them
//! (envFrom the ConfigMap, secretKeyRef from the built Secret, then `$(VAR)`
//! expansion), must log in to a real PostgreSQL (`psql "$DB_URL"`) and
//! Redis (`redis-cli -u "$CACHE_URL"`) whose user and password hold
//! `@ / : %` and a space. The Secret's env file is filled as its
//! `.example` says, the encoded keys with the `jq` line it gives.
//!
//! The servers run in their own network and mount namespaces (`unshare`),
//! on the generated ports, behind an /etc/hosts that names the generated
//! hosts, so the URLs are used exactly as generated. PostgreSQL asks every
//! connection for its password (scram-sha-256, loopback too), and Redis
//! `requirepass`. A planted change — the same URL with the raw password —
//! must fail to connect. A plain `uses` (no template) gets default
//! `DB_URL` and `CACHE_URL` built the same way from the encoded keys, proven
//! against the same servers, and failing when those keys hold raw values.
//! The Helm chart's test Pods for `web`'s edges run their command lines
//! against the same servers too.
//!
//! Missing tools fail the test, unless KUBEPROOF_SKIP_MISSING_TOOLS is set:
//! then it is skipped with a message.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const USER: &str = "kp:user@x";
const PASSWORD: &str = "p@ss/w:rd% x";

const DESCRIPTION: &str = r#"apiVersion: kubeproof.dev/v1alpha1
name: shop
cluster:
  kubernetes: "1.30"
services:
  web:
    image: ghcr.io/example/web:1.0.0
    port: 8080
    uses: [db, cache]
    env:
      DB_URL: "${db.url}"
      DB_ADDR: "${db.host}:${db.port}"
      CACHE_URL: "${cache.url}"
      GREETING: "db at $(DB_ADDR)"
  plain:
    image: ghcr.io/example/plain:1.0.0
    port: 8080
    uses: [db, cache]
datastores:
  db: { engine: postgres, version: "16.4", storage: 1Gi }
  cache: { engine: redis, storage: 1Gi }
"#;

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

fn which(tool: &str) -> bool {
    Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().is_ok_and(|o| o.status.success())
}

/// Whether the tools are here; otherwise skipped, or failed when required.
fn available() -> bool {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    let missing: Vec<&str> = [
        ("root (unshare, setpriv)", root),
        ("postgresql", pg_bin().is_some()),
        ("redis-server", which("redis-server") && which("redis-cli")),
        ("psql", which("psql")),
        ("jq", which("jq")),
        ("unshare", which("unshare") && which("setpriv") && which("ip")),
        ("kubectl", common::have_kubectl()),
    ]
    .into_iter()
    .filter(|(_, ok)| !ok)
    .map(|(n, _)| n)
    .collect();
    if missing.is_empty() {
        return true;
    }
    let why = format!("missing: {}", missing.join(", "));
    if crate::common::tools_required() {
        panic!("{why}");
    }
    eprintln!("skipped: {why}");
    false
}

/// `v` percent-encoded by the line the `.example` gives (jq's `@uri`).
fn jq_uri(v: &str) -> String {
    let out = Command::new("jq").args(["-rn", "--arg", "v", v, "$v|@uri"]).output().expect("jq runs");
    assert!(out.status.success(), "jq: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8").trim_end().to_string()
}

fn raw(key: &str) -> &'static str {
    if key.contains("PASS") { PASSWORD } else { USER }
}

/// Each key as a person fills it in: the encoded ones with the `.example`'s line.
fn secret_value(key: &str) -> String {
    match key.strip_suffix("_URLENCODED") {
        Some(base) => jq_uri(raw(base)),
        None => raw(key).to_string(),
    }
}

/// The built overlay of [`DESCRIPTION`], its encoded keys filled by
/// `encode`: its objects and its YAML.
fn built(dir: &Path, encode: &dyn Fn(&str) -> String) -> (Vec<Value>, String) {
    let description = dir.join("platform.yaml");
    std::fs::write(&description, DESCRIPTION).expect("write");
    let out = dir.join("deploy");
    common::gen_ok(&description, &out);
    let overlay = out.join("kustomize/overlays").join(&common::overlays(&out)[0]);
    let example = std::fs::read_to_string(overlay.join("secrets/db.env.example")).expect("db.env.example");
    assert!(example.contains("jq -rn --arg v \"$POSTGRES_PASSWORD\" '$v|@uri'"), "{example}");
    common::fill_secrets(&overlay, encode);
    let yaml = common::kustomize(&overlay).unwrap_or_else(|e| panic!("{e}"));
    (common::parse_built(&yaml).expect("kustomize output parses"), yaml)
}

/// `kubeproof check` of the built YAML: its output.
fn check(dir: &Path, yaml: &str) -> String {
    let path = dir.join("built.yaml");
    std::fs::write(&path, yaml).expect("write");
    let out = common::kubeproof([std::ffi::OsStr::new("check"), path.as_os_str()], None);
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

/// The container `name`'s environment as the kubelet makes it: envFrom
/// first, then each `env` entry expanded from everything before it.
fn container_env(docs: &[Value], name: &str) -> Vec<(String, String)> {
    let d = common::built_object(docs, "Deployment", name);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    let mut out: Vec<(String, String)> = Vec::new();
    for from in c["envFrom"].as_array().expect("envFrom") {
        let cm = common::built_object(docs, "ConfigMap", from["configMapRef"]["name"].as_str().expect("a ConfigMap"));
        for (k, v) in cm["data"].as_object().expect("data") {
            out.push((k.clone(), v.as_str().expect("a string").to_string()));
        }
    }
    assert!(c["env"].is_array(), "env");
    common::kubelet_env(docs, &c["env"], out)
}

fn var<'a>(env: &'a [(String, String)], name: &str) -> &'a str {
    env.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {name}"))
}

/// Starts PostgreSQL and Redis on their generated ports in fresh network
/// and mount namespaces, then runs `clients` (sh) there; its output.
fn with_servers(dir: &Path, clients: &str, env: &[(&str, &str)]) -> std::process::Output {
    let bin = pg_bin().expect("postgresql");
    let run = dir.join("run");
    std::fs::create_dir_all(&run).expect("mkdir");
    std::fs::write(run.join("pw"), format!("{PASSWORD}\n")).expect("pw");
    std::fs::write(run.join("hosts"), "127.0.0.1 localhost db.shop.svc.cluster.local cache.shop.svc.cluster.local\n")
        .expect("hosts");
    std::fs::write(
        run.join("redis.conf"),
        format!("port 6379\nbind 127.0.0.1\nrequirepass \"{PASSWORD}\"\nsave \"\"\n"),
    )
    .expect("redis.conf");
    let chmod = Command::new("chmod").args(["-R", "a+rwX"]).arg(dir).status().expect("chmod");
    assert!(chmod.success());
    let script = format!(
        r#"set -eu
ip link set lo up
mount --bind "$RUN/hosts" /etc/hosts
as_pg() {{ setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }}
as_pg {bin}/initdb -D "$RUN/pg" --username="$KP_USER" --pwfile="$RUN/pw" --auth=scram-sha-256 >/dev/null
as_pg {bin}/pg_ctl -D "$RUN/pg" -l "$RUN/pg.log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=5432 -c unix_socket_directories=$RUN" start >/dev/null
PGPASSWORD="$KP_PASSWORD" as_pg psql -h 127.0.0.1 -U "$KP_USER" -d postgres -qc 'CREATE DATABASE db'
redis-server "$RUN/redis.conf" --daemonize yes --pidfile "$RUN/redis.pid" --logfile "$RUN/redis.log"
for i in $(seq 50); do redis-cli -p 6379 --no-auth-warning -a "$KP_PASSWORD" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
status=0
( {clients} ) || status=$?
kill "$(cat "$RUN/redis.pid")"
as_pg {bin}/pg_ctl -D "$RUN/pg" -m immediate stop >/dev/null
exit $status
"#,
        bin = bin.display(),
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--net", "--mount", "sh", "-c", &script])
        .env("RUN", &run)
        .env("KP_USER", USER)
        .env("KP_PASSWORD", PASSWORD);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("unshare runs")
}

#[test]
fn templated_urls_with_a_password_full_of_delimiters_connect() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (docs, yaml) = built(dir.path(), &secret_value);
    let report = check(dir.path(), &yaml);
    assert!(!report.contains("KP318"), "{report}");
    let env = container_env(&docs, "web");
    let (db_url, cache_url) = (var(&env, "DB_URL"), var(&env, "CACHE_URL"));
    assert!(db_url.starts_with("postgresql://kp%3Auser%40x:p%40ss%2Fw%3Ard%25%20x@db.shop.svc.cluster.local:5432/db"));
    assert!(cache_url.starts_with("redis://default:p%40ss%2Fw%3Ard%25%20x@cache.shop.svc.cluster.local:6379/"));
    assert_eq!(var(&env, "DB_ADDR"), "db.shop.svc.cluster.local:5432");
    assert_eq!(var(&env, "GREETING"), "db at db.shop.svc.cluster.local:5432");
    // No secret in the ConfigMap; the default variables are not set.
    let cm = common::built_object(&docs, "ConfigMap", "web-config");
    let cm = cm.to_string();
    assert!(!cm.contains("p@ss") && !cm.contains("p%40ss"), "{cm}");
    assert!(!env.iter().any(|(n, _)| n == "DB_HOST" || n == "CACHE_PASSWORD"), "{env:?}");

    let clients = r#"psql "$DB_URL" -tAc 'SELECT current_user || current_database()'
redis-cli --no-auth-warning -u "$CACHE_URL" ping"#;
    let out = with_servers(dir.path(), clients, &[("DB_URL", db_url), ("CACHE_URL", cache_url)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout, format!("{USER}db\nPONG\n"));
}

#[test]
fn encoded_keys_filled_with_the_raw_values_are_caught_by_check() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, yaml) = built(dir.path(), &|k: &str| raw(k.strip_suffix("_URLENCODED").unwrap_or(k)).to_string());
    let report = check(dir.path(), &yaml);
    for key in ["POSTGRES_PASSWORD", "POSTGRES_USER", "REDIS_PASSWORD"] {
        assert!(report.contains(&format!("`{key}_URLENCODED` is not `{key}` percent-encoded")), "{key}:\n{report}");
    }
}

#[test]
fn the_same_urls_with_the_raw_password_do_not_connect() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let db_url = format!("postgresql://{USER}:{PASSWORD}@db.shop.svc.cluster.local:5432/db");
    let cache_url = format!("redis://default:{PASSWORD}@cache.shop.svc.cluster.local:6379/0");
    let clients = r#"if psql "$DB_URL" -tAc 'SELECT 1' >/dev/null 2>&1; then echo psql-connected; fi
redis-cli --no-auth-warning -u "$CACHE_URL" ping 2>&1 | grep -qx PONG && echo redis-connected || true"#;
    let out = with_servers(dir.path(), clients, &[("DB_URL", &db_url), ("CACHE_URL", &cache_url)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "", "a raw password connected");
}

/// `plain`'s default `DB_URL` and `CACHE_URL` (a `uses` with no template), as
/// the kubelet expands them; the clients' output against the real servers.
fn default_urls_connect(dir: &Path, encode: &dyn Fn(&str) -> String) -> (String, String, std::process::Output) {
    let (docs, _) = built(dir, encode);
    let env = container_env(&docs, "plain");
    let (db_url, cache_url) = (var(&env, "DB_URL").to_string(), var(&env, "CACHE_URL").to_string());
    // The raw credentials stay for the apps that read them.
    assert_eq!(var(&env, "DB_PASSWORD"), PASSWORD);
    assert_eq!(var(&env, "DB_USER"), USER);
    assert_eq!(var(&env, "CACHE_PASSWORD"), PASSWORD);
    let clients = r#"if psql "$DB_URL" -tAc 'SELECT current_user || current_database()'; then :; else echo psql-failed; fi
redis-cli --no-auth-warning -u "$CACHE_URL" ping 2>&1 | grep -qx PONG && echo redis-connected || echo redis-failed"#;
    let out = with_servers(dir, clients, &[("DB_URL", &db_url), ("CACHE_URL", &cache_url)]);
    (db_url, cache_url, out)
}

#[test]
fn default_urls_of_a_plain_uses_connect_with_a_password_full_of_delimiters() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (db_url, cache_url, out) = default_urls_connect(dir.path(), &secret_value);
    assert_eq!(db_url, "postgresql://kp%3Auser%40x:p%40ss%2Fw%3Ard%25%20x@db.shop.svc.cluster.local:5432/db");
    assert_eq!(cache_url, "redis://default:p%40ss%2Fw%3Ard%25%20x@cache.shop.svc.cluster.local:6379/0");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout, format!("{USER}db\nredis-connected\n"));
}

#[test]
fn default_urls_with_the_raw_password_in_the_encoded_keys_do_not_connect() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let raw_fill = |k: &str| raw(k.strip_suffix("_URLENCODED").unwrap_or(k)).to_string();
    let (db_url, _, out) = default_urls_connect(dir.path(), &raw_fill);
    assert!(db_url.contains(PASSWORD), "{db_url}");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "psql-failed\nredis-failed\n", "a raw password connected");
}

/// `s` in single quotes for sh.
fn quoted(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// A `helm test` Pod of the chart `gen` writes: its script and its
/// environment as the kubelet gives it, each Secret key filled as the
/// person filling the overlay's env file would (the key must be listed
/// there); `change`: (variable, value) replaced.
fn test_pod_command(out: &Path, pod: &str, change: Option<(&str, &str)>) -> String {
    let path = out.join(format!("helm/shop/templates/tests/shop/pod-helm-test-{pod}.yaml"));
    let template = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // The chart's labels line is Helm's; the rest is the Pod as rendered.
    let text: String = template.lines().filter(|l| !l.contains("{{")).map(|l| format!("{l}\n")).collect();
    let docs = common::parse_docs(&text).expect("the Pod parses");
    let c = &docs[0]["spec"]["containers"][0];
    let mut assignments = Vec::new();
    for e in c["env"].as_array().into_iter().flatten() {
        let name = e["name"].as_str().expect("a name");
        let value = match (&e["value"], &e["valueFrom"]["secretKeyRef"]) {
            (Value::String(v), _) => v.clone(),
            (_, r) => {
                let (secret, key) = (r["name"].as_str().expect("a Secret"), r["key"].as_str().expect("a key"));
                let file = secret.strip_suffix("-credentials").expect("a datastore's credentials");
                let example =
                    std::fs::read_to_string(out.join(format!("kustomize/overlays/default/secrets/{file}.env.example")))
                        .expect("the env file's example");
                assert!(example.lines().any(|l| l.starts_with(&format!("{key}="))), "{key} not in {file}.env");
                raw(key).to_string()
            }
        };
        let value = change.filter(|(n, _)| *n == name).map_or(value, |(_, v)| v.to_string());
        assignments.push(format!("{name}={}", quoted(&value)));
    }
    let command: Vec<String> =
        c["command"].as_array().expect("a command").iter().map(|a| quoted(a.as_str().expect("text"))).collect();
    format!("env -i PATH=\"$PATH\" HOME=/tmp {} {}", assignments.join(" "), command.join(" "))
}

/// The chart's test Pods of `web`'s edges to `db` (PostgreSQL) and `cache`
/// (Redis) run their own command line, with the generated hosts and the
/// credentials their Secret holds, against real servers: they pass; they
/// fail against a port where nothing listens, and PostgreSQL's with a wrong
/// password (its test logs in, beyond `pg_isready`).
#[test]
fn the_charts_datastore_test_pods_connect_and_fail_where_they_should() {
    if !available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, _) = built(dir.path(), &secret_value);
    let out = dir.path().join("deploy");
    let runs = [
        ("db", test_pod_command(&out, "web-to-db", None), true),
        ("cache", test_pod_command(&out, "web-to-cache", None), true),
        ("db on 5999", test_pod_command(&out, "web-to-db", Some(("PGPORT", "5999"))), false),
        ("cache on 6999", test_pod_command(&out, "web-to-cache", Some(("REDIS_PORT", "6999"))), false),
        ("db, wrong password", test_pod_command(&out, "web-to-db", Some(("PGPASSWORD", "wrong"))), false),
    ];
    let clients: String = runs
        .iter()
        .map(|(what, cmd, _)| {
            format!(
                "if {cmd} >\"$RUN/out\" 2>&1; then echo {w}: passed; else echo {w}: failed; fi; cat \"$RUN/out\"\n",
                w = quoted(what)
            )
        })
        .collect();
    let run = with_servers(dir.path(), &clients, &[]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    for (what, _, pass) in &runs {
        let line = format!("{what}: {}", if *pass { "passed" } else { "failed" });
        assert!(stdout.lines().any(|l| l == line), "expected `{line}`:\n{stdout}");
    }
    assert!(stdout.contains("logged in to db at db.shop.svc.cluster.local:5432"), "{stdout}");
    assert!(stdout.contains("PONG from cache.shop.svc.cluster.local:6379"), "{stdout}");
}

const SERVICE_DESCRIPTION: &str = r#"apiVersion: kubeproof.dev/v1alpha1
name: shop
cluster:
  kubernetes: "1.30"
services:
  api:
    image: ghcr.io/example/api:1.0.0
    ports:
      - { name: http, port: 8080 }
      - { name: grpc, port: 9090, protocol: grpc }
    probes: { ready: /ready }
"#;

/// The chart's test Pod of a Service with an HTTP port (its readiness path)
/// and a gRPC one (a TCP connection) runs its command line (the host's curl
/// for the image's) against local servers on the generated host and ports:
/// it passes with both up; it fails when the readiness path answers 404, and
/// when nothing listens on the gRPC port.
#[test]
fn the_charts_service_test_pod_connects_and_fails_where_it_should() {
    if !available() || !which("python3") || !which("curl") {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let description = dir.path().join("platform.yaml");
    std::fs::write(&description, SERVICE_DESCRIPTION).expect("write");
    let out = dir.path().join("deploy");
    common::gen_ok(&description, &out);
    let test = test_pod_command(&out, "api", None);
    assert!(test.contains("http://api.shop.svc.cluster.local:8080/ready"), "{test}");
    assert!(test.contains("telnet://api.shop.svc.cluster.local:9090"), "{test}");
    let www = dir.path().join("www");
    std::fs::create_dir_all(&www).expect("mkdir");
    std::fs::write(dir.path().join("hosts"), "127.0.0.1 localhost api.shop.svc.cluster.local\n").expect("hosts");
    let script = format!(
        r#"set -u
ip link set lo up
mount --bind "$DIR/hosts" /etc/hosts
python3 -m http.server 8080 --bind 127.0.0.1 --directory "$DIR/www" >/dev/null 2>&1 &
http=$!
listen() {{ python3 -c 'import socket, time; s = socket.socket(); s.bind(("127.0.0.1", 9090)); s.listen(); time.sleep(120)' >/dev/null 2>&1 & echo $!; }}
grpc=$(listen)
for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:8080/ && break; sleep 0.1; done
check() {{ if {test} >"$DIR/out" 2>&1; then echo "$1: passed"; else echo "$1: failed"; fi; cat "$DIR/out"; }}
check 'no ready file'
touch "$DIR/www/ready"
check 'both up'
kill "$grpc"
check 'grpc down'
kill "$http"
"#
    );
    let run = Command::new("unshare")
        .args(["--net", "--mount", "sh", "-c", &script])
        .env("DIR", dir.path())
        .output()
        .expect("unshare runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    for line in ["no ready file: failed", "both up: passed", "grpc down: failed"] {
        assert!(stdout.lines().any(|l| l == line), "expected `{line}`:\n{stdout}");
    }
    assert!(stdout.contains("cannot connect to api.shop.svc.cluster.local:9090"), "{stdout}");
}
