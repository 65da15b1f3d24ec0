//! Neo4j's backup and restore (Community Edition dumps and loads only a
//! stopped database): the pods' wiring, checked against the generated
//! StatefulSet, and the `hold` script — which stops Neo4j and must start it
//! again whatever happens — run with `sh` against a local HTTPS server that
//! answers the three Kubernetes API calls the script makes.
//!
//! Neo4j itself and a Kubernetes API server do not run on this machine, so
//! `neo4j-admin` is not run here (its commands are checked by shellcheck in
//! tests/scripts.rs) and the API is a stand-in that keeps a StatefulSet's
//! `spec.replicas` and `status.replicas` the way the controller does.

use crate::common;

use common::pod_container as container;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn generated() -> BTreeMap<String, Value> {
    common::base_objects("kailash")
}

fn get<'a>(objects: &'a BTreeMap<String, Value>, id: &str) -> &'a Value {
    objects.get(id).unwrap_or_else(|| panic!("no {id}; have: {:?}", objects.keys().collect::<Vec<_>>()))
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().map(|l| l.iter().filter_map(|c| c["name"].as_str()).collect()).unwrap_or_default()
}

fn env(c: &Value, name: &str) -> String {
    c["env"]
        .as_array()
        .and_then(|e| e.iter().find(|v| v["name"] == name))
        .and_then(|v| v["value"].as_str())
        .unwrap_or_else(|| panic!("no env {name} in {}", c["name"]))
        .to_string()
}

fn mounts(c: &Value) -> BTreeMap<String, String> {
    c["volumeMounts"]
        .as_array()
        .map(|m| {
            m.iter().map(|m| (m["name"].as_str().unwrap().into(), m["mountPath"].as_str().unwrap().into())).collect()
        })
        .unwrap_or_default()
}

#[test]
fn backup_and_restore_pods_stop_neo4j_and_share_its_volume() {
    let objects = generated();
    let sts = get(&objects, "StatefulSet/kailash/neo4j");
    let sts_pod = &sts["spec"]["template"]["spec"];
    let claim =
        format!("{}-{}-0", sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"].as_str().unwrap(), "neo4j");
    let data_path = mounts(container(sts_pod, "neo4j"))["data"].clone();
    let template_labels = sts["spec"]["template"]["metadata"]["labels"].as_object().unwrap();

    let cron = get(&objects, "CronJob/kailash/neo4j-backup");
    let restore = get(&objects, "CronJob/kailash/neo4j-restore");
    assert_eq!(restore["spec"]["suspend"], true, "the restore waits to be run");
    let backup_pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    let restore_pod = &restore["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    // Order: the hold sidecar starts first (its startup probe passes once Neo4j
    // is stopped), then neo4j-admin; the restore fetches the dump before it
    // stops Neo4j, to keep the downtime short.
    assert_eq!(names(&backup_pod["initContainers"]), ["hold", "dump"]);
    assert_eq!(names(&backup_pod["containers"]), ["upload"]);
    assert_eq!(names(&restore_pod["initContainers"]), ["fetch", "hold"]);
    assert_eq!(names(&restore_pod["containers"]), ["restore"]);

    for (what, pod, admin) in [("backup", backup_pod, "dump"), ("restore", restore_pod, "restore")] {
        let hold = container(pod, "hold");
        assert_eq!(hold["restartPolicy"], "Always", "{what}: hold is a native sidecar");
        assert_eq!(hold["startupProbe"]["exec"]["command"], json!(["test", "-e", "/hold/stopped"]));
        assert_eq!(env(hold, "STATEFULSET"), "neo4j");
        assert_eq!(env(hold, "NAMESPACE"), "kailash");
        assert_eq!(env(hold, "REPLICAS"), sts["spec"]["replicas"].to_string(), "{what}: back to the generated count");
        // Only the hold container holds a token; the pod mounts none.
        assert_eq!(pod["automountServiceAccountToken"], false);
        for c in pod["initContainers"].as_array().unwrap().iter().chain(pod["containers"].as_array().unwrap()) {
            assert_eq!(mounts(c).contains_key("token"), c["name"] == "hold", "{what}: token in {}", c["name"]);
        }
        let token = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "token").unwrap();
        assert!(token["projected"]["sources"][0]["serviceAccountToken"].is_object());
        // neo4j-admin sees the datastore's volume where Neo4j does.
        let admin = container(pod, admin);
        assert_eq!(admin["image"], container(sts_pod, "neo4j")["image"], "{what}: same Neo4j version");
        assert_eq!(mounts(admin)["data"], data_path);
        let data = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "data").unwrap();
        assert_eq!(data["persistentVolumeClaim"]["claimName"], claim.as_str());
        // ReadWriteOnce: the pod must run on the node of neo4j-0.
        let term = &pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0];
        assert_eq!(term["topologyKey"], "kubernetes.io/hostname");
        for (k, v) in term["labelSelector"]["matchLabels"].as_object().unwrap() {
            assert_eq!(template_labels.get(k), Some(v), "{what}: affinity label {k} selects Neo4j's pod");
        }
        assert_eq!(pod["serviceAccountName"], "neo4j-backup");
    }

    // The service account may read and scale this StatefulSet, nothing else.
    let role = get(&objects, "Role/kailash/neo4j-backup-scale");
    assert_eq!(
        role["rules"],
        json!([
            { "apiGroups": ["apps"], "resources": ["statefulsets"], "resourceNames": ["neo4j"], "verbs": ["get"] },
            { "apiGroups": ["apps"], "resources": ["statefulsets/scale"], "resourceNames": ["neo4j"], "verbs": ["get", "patch"] },
        ])
    );
    let binding = get(&objects, "RoleBinding/kailash/neo4j-backup-scale");
    assert_eq!(binding["roleRef"]["name"], "neo4j-backup-scale");
    assert_eq!(
        binding["subjects"],
        json!([{ "kind": "ServiceAccount", "name": "neo4j-backup", "namespace": "kailash" }])
    );
    // Its pods reach the API server's ports (and the bucket), not Neo4j.
    let policy = get(&objects, "NetworkPolicy/kailash/neo4j-backup");
    let egress = policy["spec"]["egress"].as_array().unwrap();
    assert!(
        egress.iter().any(|r| r["to"].is_null()
            && r["ports"] == json!([{ "port": 443, "protocol": "TCP" }, { "port": 6443, "protocol": "TCP" }])),
        "{egress:?}"
    );
    let neo4j_policy = get(&objects, "NetworkPolicy/kailash/neo4j");
    assert!(!neo4j_policy.to_string().contains("neo4j-backup"), "Neo4j admits no backup pod: they use its volume");
}

// ---- the hold script against a stand-in API ---------------------------------

/// A StatefulSet behind HTTPS: GET and PATCH of `.../statefulsets/neo4j/scale`
/// (merge patch of spec.replicas) and GET of `.../statefulsets/neo4j`, whose
/// status.replicas follows spec.replicas after two reads (pods take a while
/// to exit). Requests without the bearer token get 401; with FAIL_READS set,
/// reads of the StatefulSet get 500. Every PATCH body goes to stdout.
const API: &str = r#"
import json, os, ssl, sys
from http.server import BaseHTTPRequestHandler, HTTPServer
state = {"spec": 1, "status": 1, "reads": 0}
path = "/apis/apps/v1/namespaces/kailash/statefulsets/neo4j"
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def authorized(self):
        if self.headers.get("Authorization") != "Bearer test-token":
            self.send(401, {"kind": "Status", "code": 401})
            return False
        return True
    def do_GET(self):
        if not self.authorized(): return
        if self.path == path + "/scale":
            return self.send(200, {"spec": {"replicas": state["spec"]}})
        if self.path == path:
            if os.environ.get("FAIL_READS"):
                return self.send(500, {"kind": "Status", "code": 500})
            state["reads"] += 1
            if state["reads"] >= 2: state["status"] = state["spec"]
            return self.send(200, {"spec": {"replicas": state["spec"]}, "status": {"replicas": state["status"]}})
        self.send(404, {"kind": "Status", "code": 404})
    def do_PATCH(self):
        if not self.authorized(): return
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        if self.path != path + "/scale" or self.headers.get("Content-Type") != "application/merge-patch+json":
            return self.send(415, {"kind": "Status", "code": 415})
        state["spec"] = json.loads(body)["spec"]["replicas"]
        state["reads"] = 0
        print("PATCH " + body, flush=True)
        self.send(200, {"spec": {"replicas": state["spec"]}})
server = HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
server.socket = ctx.wrap_socket(server.socket, server_side=True)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
"#;

struct Api {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    port: u16,
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn api(dir: &Path, fail_reads: bool) -> Api {
    let mut cmd = Command::new("python3");
    cmd.arg("-c").arg(API).arg(dir.join("tls.crt")).arg(dir.join("tls.key")).stdout(Stdio::piped());
    if fail_reads {
        cmd.env("FAIL_READS", "1");
    }
    let mut child = cmd.spawn().expect("python3 runs");
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let first = lines.recv_timeout(Duration::from_secs(20)).expect("the stand-in API starts");
    let port = first.strip_prefix("PORT ").and_then(|p| p.parse().ok()).expect("PORT n");
    Api { child, lines, port }
}

/// A certificate for 127.0.0.1 (the script's CA file) and a token, where the
/// script reads them; returns the script with the API address and the token
/// folder replaced by local ones (nothing else is changed).
fn setup(dir: &Path, script: &str, port: u16) -> String {
    let token_dir = dir.join("serviceaccount");
    std::fs::create_dir_all(&token_dir).unwrap();
    std::fs::write(token_dir.join("token"), "test-token").unwrap();
    std::fs::copy(dir.join("tls.crt"), token_dir.join("ca.crt")).unwrap();
    const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
    const API: &str = "https://kubernetes.default.svc";
    assert!(script.contains(TOKEN_DIR) && script.contains(API), "the script reads the in-cluster API and token");
    script.replace(TOKEN_DIR, &token_dir.to_string_lossy()).replace(API, &format!("https://127.0.0.1:{port}"))
}

fn certificate(dir: &Path) {
    let o = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1", "-keyout"])
        .arg(dir.join("tls.key"))
        .arg("-out")
        .arg(dir.join("tls.crt"))
        .output()
        .expect("openssl runs");
    assert!(o.status.success(), "openssl: {}", String::from_utf8_lossy(&o.stderr));
}

fn hold_script() -> (String, BTreeMap<String, String>) {
    let objects = generated();
    let cron = get(&objects, "CronJob/kailash/neo4j-backup");
    let hold = container(&cron["spec"]["jobTemplate"]["spec"]["template"]["spec"], "hold");
    let cmd = hold["command"].as_array().unwrap();
    assert_eq!((cmd[0].as_str(), cmd[1].as_str()), (Some("sh"), Some("-c")));
    let env =
        ["NAMESPACE", "STATEFULSET", "REPLICAS", "HOLD_DIR"].iter().map(|k| (k.to_string(), env(hold, k))).collect();
    (cmd[2].as_str().unwrap().to_string(), env)
}

fn start(script: &str, env: &BTreeMap<String, String>, hold_dir: &Path) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .env_clear()
        .envs(env)
        .env("HOLD_DIR", hold_dir)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs")
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < timeout {
        if ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("{what}: not within {timeout:?}");
    false
}

/// SIGTERM (what the kubelet sends a sidecar when the pod's work is done),
/// then the script's exit status and output.
fn terminate(mut child: Child) -> (std::process::ExitStatus, String) {
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let t = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let o = child.wait_with_output().unwrap();
            let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
            return (status, out);
        }
        assert!(t.elapsed() < Duration::from_secs(20), "the hold script did not exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tools() -> bool {
    ["wget", "jq", "openssl", "python3"].iter().all(|t| common::tool_available(t, &["--version"]))
}

fn patches(api: &Api) -> Vec<String> {
    api.lines.try_iter().filter_map(|l| l.strip_prefix("PATCH ").map(str::to_string)).collect()
}

/// What one run of the hold script did: whether it marked Neo4j stopped
/// within `wait`, the PATCHes before SIGTERM and after, its exit status
/// and output.
struct HoldRun {
    stopped: bool,
    before: Vec<String>,
    after: Vec<String>,
    status: std::process::ExitStatus,
    out: String,
}

fn run_hold(fail_reads: bool, wait: Duration) -> HoldRun {
    let dir = tempfile::tempdir().unwrap();
    certificate(dir.path());
    let api = api(dir.path(), fail_reads);
    let (script, env) = hold_script();
    let script = setup(dir.path(), &script, api.port);
    let hold_dir = dir.path().join("hold");
    std::fs::create_dir(&hold_dir).unwrap();
    let child = start(&script, &env, &hold_dir);
    let stopped = wait_for("the stopped marker", wait, || hold_dir.join("stopped").exists());
    let before = patches(&api);
    let (status, out) = terminate(child);
    std::thread::sleep(Duration::from_millis(200));
    HoldRun { stopped, before, after: patches(&api), status, out }
}

#[test]
fn hold_stops_neo4j_before_the_dump_and_starts_it_again_on_sigterm() {
    if !tools() {
        return;
    }
    let HoldRun { stopped, before, after, status, out } = run_hold(false, Duration::from_secs(30));
    assert!(stopped, "the hold never marked Neo4j stopped:\n{out}");
    // Scaled to 0 before the marker; the stand-in reports status.replicas 0
    // only after two reads, so the script waited for it.
    assert_eq!(before, [r#"{"spec":{"replicas":0}}"#], "{out}");
    assert!(status.success(), "the hold exits 0 after restoring Neo4j ({status}):\n{out}");
    assert_eq!(after, [r#"{"spec":{"replicas":1}}"#], "scaled back to REPLICAS on SIGTERM:\n{out}");
    assert!(out.contains("scaled neo4j back to 1"), "{out}");
}

#[test]
fn hold_never_reports_stopped_while_it_cannot_see_neo4j_stop_and_still_restarts_it() {
    if !tools() {
        return;
    }
    // Reads of the StatefulSet fail: the script cannot know the pod has
    // exited, so the dump must not start (the startup probe never passes).
    let HoldRun { stopped, before, after, status, out } = run_hold(true, Duration::from_secs(6));
    assert!(!stopped, "marked stopped without seeing Neo4j's pods exit:\n{out}");
    assert!(status.success(), "{status}:\n{out}");
    assert_eq!(before, [r#"{"spec":{"replicas":0}}"#], "{out}");
    assert_eq!(after, [r#"{"spec":{"replicas":1}}"#], "started again:\n{out}");
}
