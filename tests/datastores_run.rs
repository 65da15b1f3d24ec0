//! Datastores start under their generated pod: the real server binaries of
//! the engines Debian packages (PostgreSQL, Redis, RabbitMQ) run the way the
//! kubelet would run the generated container, then the generated probes run
//! against them.
//!
//! The pod is read from the built overlay of an example (`gen`, then
//! `kubectl kustomize`): the StatefulSet's user, group and fsGroup, its
//! read-only root, its volumes, its environment (secretKeyRef read from the
//! built Secret, then the kubelet's `$(VAR)` expansion), its command and
//! args, its probes. The sandbox is bubblewrap (Linux namespaces):
//! - the host's root, read-only, stands for the image's (the Debian
//!   packages' binaries replace the image's; the image's environment and the
//!   files the server reads from it are given per engine, see [`Image`]);
//! - writable only where the pod mounts a volume: an emptyDir is an empty
//!   directory (mode 0777, as the kubelet makes it), a claim an empty
//!   directory owned by group fsGroup with the setgid bit (as the kubelet's
//!   fsGroup handling leaves it), a memory-backed emptyDir a tmpfs of its
//!   sizeLimit at that path; /dev/shm is otherwise the runtime's 64 MiB
//!   tmpfs;
//! - its own network namespace (only loopback: the probes connect to
//!   127.0.0.1 instead of the pod IP, so the test also asserts the probed
//!   port listens on every address), its own UTS namespace named as the pod
//!   (`NAME-0`) and an /etc/hosts naming it, as the kubelet writes one; so
//!   no port is rewritten: every server listens on its generated port;
//! - its own PID namespace, so stopping the sandbox stops every process the
//!   server started (RabbitMQ's epmd daemonizes);
//! - the process runs with the pod's runAsUser, runAsGroup and fsGroup as a
//!   supplementary group, no capabilities and no new privileges (`setpriv`,
//!   which needs root: CI runs as root).
//!
//! Exec probes run as written, inside the server's mount and network
//! namespaces (`nsenter`), with the container's user and environment, as
//! `kubectl exec` would. A planted change (a writable mount removed from the
//! generated pod) must make the server fail.
//!
//! Not emulated, so not proven here: the image's own binaries and versions
//! (Debian's PostgreSQL, Redis and RabbitMQ stand for the pinned images'),
//! the container's cgroup limits (Redis is shown to hold `used_memory`
//! within `maxmemory`, not its resident size within the memory limit), the
//! RuntimeDefault seccomp profile, and connections from another pod's
//! address.
//!
//! Missing binaries fail the tests, unless KUBEPROOF_SKIP_MISSING_TOOLS is
//! set: then they are skipped with a message.

use crate::common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

const EXAMPLE: &str = "health-platform";
/// The datastores of issue 13: a cache without auth on an emptyDir, a
/// database with engine settings.
const STORES: &str = "tests/data/stores/platform.yaml";
/// Each Secret key's test value: a password with a space, a quote and a
/// backslash, which a start script must pass through intact.
fn secret_value(key: &str) -> String {
    // URLs read a credential's encoded form, filled as the `.example` says.
    if let Some(raw) = key.strip_suffix(kubeproof::description::template::URL_ENCODED) {
        return kubeproof::description::template::url_encode(&secret_value(raw));
    }
    if key.contains("PASS") { format!("te st\"pw\\{}", key.to_ascii_lowercase()) } else { "kubeproof".to_string() }
}

// ---------------------------------------------------------------- the image

/// What the official image brings that the pod does not say: its
/// environment (`ENV` lines; the kubelet puts the pod's env over it), the
/// entrypoint when the pod gives no command, and files it holds.
struct Image {
    env: Vec<(String, String)>,
    /// The image's ENTRYPOINT, run when the pod has no `command`, with the
    /// pod's `args` or else `cmd` after it.
    entrypoint: Option<Vec<String>>,
    /// The image's CMD.
    cmd: Vec<String>,
    /// Read-only files at paths of the image (path, content).
    files: Vec<(&'static str, String)>,
    /// Directories of the image (empty, read-only; the host's, which may
    /// be absent or hold the host's own files, are hidden).
    dirs: Vec<&'static str>,
}

fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").is_file())
        .collect();
    dirs.sort();
    dirs.pop()
}

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// docker.io/library/postgres: `ENV PATH=$PATH:/usr/lib/postgresql/$PG_MAJOR/bin`
/// and `PGDATA`; ENTRYPOINT docker-entrypoint.sh, CMD postgres. The
/// emulation does what that entrypoint (bash) does on an empty data
/// directory, as the container's user: creates PGDATA (0700), `initdb` with
/// POSTGRES_USER and POSTGRES_PASSWORD (initdb's default `trust` for local
/// and loopback connections stays, as in the image: a password is not
/// proven from 127.0.0.1), appends `host all all all scram-sha-256` to
/// pg_hba.conf and `listen_addresses = '*'` (the image's
/// postgresql.conf sample has it), starts a temporary server on the Unix
/// socket only to create POSTGRES_DB, stops it, and execs its arguments
/// (the pod's args, e.g. `postgres -c shared_buffers=…`, or the CMD). The
/// socket is the packages' default, /var/run/postgresql, in the image and
/// in Debian alike.
fn postgres_image(bin: &Path) -> Image {
    let script = r#"set -eu
mkdir -p "$PGDATA"
chmod 700 "$PGDATA"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") -D "$PGDATA" >/dev/null
  echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
  echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -q \
    -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
fi
exec "$@"
"#;
    Image {
        env: vec![
            ("PATH".into(), format!("{PATH}:{}", bin.display())),
            ("PGDATA".into(), "/var/lib/postgresql/data".into()),
        ],
        entrypoint: Some(vec!["bash".into(), "-c".into(), script.into(), "docker-entrypoint.sh".into()]),
        cmd: vec!["postgres".into()],
        // initdb looks its user up: the image's passwd names 999 `postgres`.
        files: vec![
            ("/etc/passwd", account("/etc/passwd", "postgres:x:999:999::/var/lib/postgresql:/bin/bash")),
            ("/etc/group", account("/etc/group", "postgres:x:999:")),
        ],
        // The socket's directory, which the image creates (the Debian
        // package's service creates it only when it starts).
        dirs: vec!["/var/run/postgresql", "/var/lib/postgresql/data"],
    }
}

/// The host's account file `path` with `line`'s name and id given to it
/// (another account of that name or id dropped), as in the image.
fn account(path: &str, line: &str) -> String {
    let field = |l: &str, i: usize| l.split(':').nth(i).unwrap_or_default().to_string();
    let (name, id) = (field(line, 0), field(line, 2));
    let host = std::fs::read_to_string(path).unwrap_or_default();
    let kept = host.lines().filter(|l| field(l, 0) != name && field(l, 2) != id);
    kept.chain([line]).map(|l| format!("{l}\n")).collect()
}

/// docker.io/library/redis: the pod gives the command, so the image's
/// entrypoint does not run; no ENV the server reads.
fn redis_image() -> Image {
    Image {
        env: vec![("PATH".into(), PATH.into())],
        entrypoint: None,
        cmd: Vec::new(),
        files: Vec::new(),
        dirs: vec!["/data"],
    }
}

/// docker.io/library/rabbitmq:3.13-management: `ENV RABBITMQ_DATA_DIR=/var/lib/rabbitmq
/// HOME=$RABBITMQ_DATA_DIR RABBITMQ_LOGS=-` and the server's scripts on
/// PATH (Debian's generic ones are in /usr/lib/rabbitmq/bin; its
/// /usr/sbin wrapper, which switches to the `rabbitmq` account, is not in
/// the image). The image bakes /etc/rabbitmq/conf.d/10-defaults.conf and,
/// in `-management`, the enabled plugins. Its entrypoint (3.9 and later)
/// acts only on deprecated variables the pod does not set, then execs the
/// CMD `rabbitmq-server`: the emulation execs it.
fn rabbitmq_image() -> Image {
    Image {
        env: vec![
            ("PATH".into(), format!("/usr/lib/rabbitmq/bin:{PATH}")),
            ("RABBITMQ_DATA_DIR".into(), "/var/lib/rabbitmq".into()),
            ("HOME".into(), "/var/lib/rabbitmq".into()),
            ("RABBITMQ_LOGS".into(), "-".into()),
        ],
        entrypoint: Some(vec!["rabbitmq-server".into()]),
        cmd: Vec::new(),
        files: vec![
            (
                "/etc/rabbitmq/conf.d/10-defaults.conf",
                "loopback_users.guest = false\nlisteners.tcp.default = 5672\nmanagement.tcp.port = 15672\n".into(),
            ),
            ("/etc/rabbitmq/enabled_plugins", "[rabbitmq_management,rabbitmq_prometheus].\n".into()),
        ],
        dirs: vec!["/etc/rabbitmq", "/var/log/rabbitmq", "/var/lib/rabbitmq"],
    }
}

/// The image of a datastore's engine, or `None` (skipped) when its server
/// binary is not installed here.
fn image_of(engine: &str) -> Option<Image> {
    let found = |what: &str, ok: bool| {
        if !ok {
            skip(&format!("{what} is not installed (apt-get install postgresql redis-server rabbitmq-server)"));
        }
        ok
    };
    match engine {
        "postgres" => pg_bin().filter(|b| found("PostgreSQL", b.is_dir())).map(|b| postgres_image(&b)),
        "redis" => found("redis-server", which("redis-server")).then(redis_image),
        "rabbitmq" => {
            found("rabbitmq-server", Path::new("/usr/lib/rabbitmq/bin/rabbitmq-server").exists()).then(rabbitmq_image)
        }
        other => panic!("no Debian server for {other}"),
    }
}

fn which(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
}

/// Says loudly that a test is skipped, or fails it when servers are required.
fn skip(why: &str) {
    assert!(!common::tools_required(), "{why} (set {} to skip instead)", common::SKIP_MISSING_TOOLS);
    eprintln!(
        "\n{}\nSKIPPED: {why}\n({} is set; unset it to make this a failure)\n{}\n",
        "!".repeat(78),
        common::SKIP_MISSING_TOOLS,
        "!".repeat(78)
    );
}

/// bwrap, setpriv and nsenter, and root (setpriv sets other users' ids).
fn sandbox_available() -> bool {
    for tool in ["bwrap", "setpriv", "nsenter", "ss", "curl", "bash"] {
        if !which(tool) {
            skip(&format!("`{tool}` is not installed (apt-get install bubblewrap util-linux iproute2 curl)"));
            return false;
        }
    }
    let root = std::fs::read_to_string("/proc/self/status")
        .is_ok_and(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")));
    if !root {
        skip("the sandbox runs servers as the pod's user with setpriv, which needs root (CI runs as root)");
    }
    root && common::have_kubectl()
}

// ---------------------------------------------------------------- the pod

type Built = OnceLock<(tempfile::TempDir, Vec<Value>)>;

/// The built overlay of the example: every object, once per test binary.
fn built() -> &'static [Value] {
    static BUILT: Built = OnceLock::new();
    built_from(&BUILT, &format!("examples/{EXAMPLE}.yaml"))
}

/// The built overlay of the [`STORES`] fixture.
fn built_stores() -> &'static [Value] {
    static BUILT: Built = OnceLock::new();
    built_from(&BUILT, STORES)
}

/// The first overlay of the description at `path` (from the repository),
/// generated, its Secrets filled, built by `kubectl kustomize`.
fn built_from(cell: &'static Built, path: &str) -> &'static [Value] {
    &cell
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("temp dir");
            common::gen_ok(&common::repo().join(path), dir.path());
            let overlay = dir.path().join("kustomize/overlays").join(&common::overlays(dir.path())[0]);
            common::fill_secrets(&overlay, &secret_value);
            let yaml = common::kustomize(&overlay).unwrap_or_else(|e| panic!("{e}"));
            let docs = common::parse_built(&yaml).expect("kustomize output parses");
            (dir, docs)
        })
        .1
}

/// A volume as the container sees it.
#[derive(Debug, Clone)]
enum Kind {
    EmptyDir,
    /// A tmpfs of this many bytes.
    Memory(u64),
    Claim,
}

#[derive(Debug, Clone)]
struct Mount {
    path: String,
    kind: Kind,
    read_only: bool,
}

/// The server container of a datastore's StatefulSet, as the kubelet runs it.
#[derive(Debug, Clone)]
struct Pod {
    name: String,
    engine: String,
    uid: u64,
    gid: u64,
    fs_group: u64,
    mounts: Vec<Mount>,
    /// The environment after secretKeyRef and `$(VAR)` expansion, in order.
    env: Vec<(String, String)>,
    command: Option<Vec<String>>,
    args: Option<Vec<String>>,
    ports: BTreeMap<String, u16>,
    memory_limit: u64,
    readiness: Value,
    liveness: Value,
}

fn quantity(q: &str) -> u64 {
    let units = [("Ki", 1u64 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30)];
    for (unit, factor) in units {
        if let Some(n) = q.strip_suffix(unit) {
            return n.parse::<u64>().expect("a whole quantity") * factor;
        }
    }
    q.parse().unwrap_or_else(|_| panic!("quantity {q}"))
}

/// The datastore `name`'s pod, read from its StatefulSet in the example.
fn pod(name: &str) -> Pod {
    pod_in(built(), name)
}

/// The datastore `name`'s pod, read from its StatefulSet in `docs`.
fn pod_in(docs: &[Value], name: &str) -> Pod {
    let set = common::built_object(docs, "StatefulSet", name);
    let spec = &set["spec"]["template"]["spec"];
    let c = &spec["containers"][0];
    let ctx = &spec["securityContext"];
    let id = |k: &str| c["securityContext"][k].as_u64().or(ctx[k].as_u64()).unwrap_or_else(|| panic!("{name}: {k}"));
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true, "{name}: a read-only root");
    let claims: Vec<&str> = set["spec"]["volumeClaimTemplates"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["metadata"]["name"].as_str()).collect())
        .unwrap_or_default();
    let volumes = spec["volumes"].as_array().cloned().unwrap_or_default();
    let mounts = c["volumeMounts"]
        .as_array()
        .expect("volume mounts")
        .iter()
        .map(|m| {
            let vname = m["name"].as_str().expect("mount name");
            let kind = if claims.contains(&vname) {
                Kind::Claim
            } else {
                let v = volumes.iter().find(|v| v["name"] == vname).unwrap_or_else(|| panic!("volume {vname}"));
                let e = &v["emptyDir"];
                assert!(e.is_object(), "{name}: volume {vname} is neither an emptyDir nor a claim: {v}");
                match e["medium"].as_str() {
                    Some("Memory") => Kind::Memory(quantity(e["sizeLimit"].as_str().expect("a tmpfs size"))),
                    _ => Kind::EmptyDir,
                }
            };
            Mount {
                path: m["mountPath"].as_str().expect("path").into(),
                kind,
                read_only: m["readOnly"].as_bool().unwrap_or(false),
            }
        })
        .collect();
    let strings =
        |v: &Value| v.as_array().map(|a| a.iter().map(|s| s.as_str().expect("a string").to_string()).collect());
    Pod {
        name: name.into(),
        engine: c["name"].as_str().expect("container name").into(),
        uid: id("runAsUser"),
        gid: id("runAsGroup"),
        fs_group: ctx["fsGroup"].as_u64().expect("fsGroup"),
        mounts,
        env: common::kubelet_env(docs, &c["env"], Vec::new()),
        command: strings(&c["command"]),
        args: strings(&c["args"]),
        ports: c["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .map(|p| (p["name"].as_str().expect("port name").into(), p["containerPort"].as_u64().expect("port") as u16))
            .collect(),
        memory_limit: quantity(c["resources"]["limits"]["memory"].as_str().expect("a memory limit")),
        readiness: c["readinessProbe"].clone(),
        liveness: c["livenessProbe"].clone(),
    }
}

#[test]
fn kubelet_expansion() {
    let env = vec![("A".to_string(), "x".to_string())];
    assert_eq!(common::kubelet_expand("a/$(A)/$(B)/$$(A)/$", &env), "a/x/$(B)/$(A)/$");
}

// ---------------------------------------------------------------- the sandbox

/// A server running in its sandbox; stopped (the whole PID namespace) on drop.
struct Running {
    pod: Pod,
    bwrap: Child,
    /// A process inside the sandbox (its namespaces are the container's).
    inner: u32,
    /// The server's stdout and stderr, for failure messages.
    log: PathBuf,
    /// The container's environment: the image's, then the pod's.
    env: Vec<(String, String)>,
    _dir: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        // --die-with-parent and the PID namespace: killing bwrap ends them all.
        let _ = self.bwrap.kill();
        let _ = self.bwrap.wait();
    }
}

impl Running {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `setpriv` to the container's user, without capabilities.
    fn as_user(&self) -> Vec<String> {
        user_args(&self.pod)
    }

    /// Runs `argv` inside the container (`kubectl exec`), within `timeout`.
    fn exec(&self, argv: &[String], timeout: Duration) -> Result<String, String> {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.inner.to_string(), "-m", "-n", "-u", "--"]).args(self.as_user()).args(argv);
        cmd.env_clear().envs(self.env.iter().map(|(k, v)| (k, v)));
        run(cmd, timeout)
    }

    /// Runs `argv` in the pod's network namespace only (the kubelet's side).
    fn on_node(&self, argv: &[&str], timeout: Duration) -> Result<String, String> {
        let mut cmd = Command::new("nsenter");
        cmd.args(["-t", &self.inner.to_string(), "-n", "--"]).args(argv);
        run(cmd, timeout)
    }

    fn port(&self, p: &Value) -> u16 {
        match p {
            Value::String(name) => *self.pod.ports.get(name).unwrap_or_else(|| panic!("no port named {name}")),
            other => other.as_u64().expect("a port") as u16,
        }
    }

    /// One run of a generated probe, as the kubelet does it.
    fn probe(&self, probe: &Value) -> Result<(), String> {
        let timeout = Duration::from_secs(probe["timeoutSeconds"].as_u64().unwrap_or(1));
        if let Some(argv) = probe["exec"]["command"].as_array() {
            let argv: Vec<String> = argv.iter().map(|a| a.as_str().expect("a string").to_string()).collect();
            return self.exec(&argv, timeout).map(drop);
        }
        if let Some(t) = probe.get("tcpSocket") {
            let script = format!("exec 3<>/dev/tcp/127.0.0.1/{}", self.port(&t["port"]));
            return self.on_node(&["bash", "-c", &script], timeout).map(drop);
        }
        let h = &probe["httpGet"];
        assert!(h.is_object(), "an exec, tcpSocket or httpGet probe: {probe}");
        let url = format!("http://127.0.0.1:{}{}", self.port(&h["port"]), h["path"].as_str().unwrap_or("/"));
        let code = self.on_node(&["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", &url], timeout)?;
        // The kubelet's success: 200 to 399.
        match code.trim().parse::<u16>() {
            Ok(c) if (200..400).contains(&c) => Ok(()),
            _ => Err(format!("GET {url}: HTTP {code}")),
        }
    }

    /// The startup probe's allowance: the readiness probe until it passes.
    fn wait_ready(&mut self, allowance: Duration) -> Result<(), String> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.bwrap.try_wait() {
                return Err(format!("{} exited ({status}) before it was ready:\n{}", self.pod.name, self.log()));
            }
            let last = match self.probe(&self.pod.readiness) {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if start.elapsed() > allowance {
                return Err(format!("{} not ready after {allowance:?}: {last}\n{}", self.pod.name, self.log()));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Every process of the sandbox (its PID namespace), by host PID.
    fn processes(&self) -> Vec<u32> {
        let ns = |pid: &str| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
        let mine = ns(&self.inner.to_string());
        std::fs::read_dir("/proc")
            .expect("/proc")
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|p| mine.is_some() && ns(&p.to_string()) == mine)
            .collect()
    }
}

fn user_args(pod: &Pod) -> Vec<String> {
    [
        "setpriv".to_string(),
        format!("--reuid={}", pod.uid),
        format!("--regid={}", pod.gid),
        format!("--groups={}", pod.fs_group),
        "--inh-caps=-all".into(),
        "--bounding-set=-all".into(),
        "--no-new-privs".into(),
        "--".into(),
    ]
    .into()
}

/// Runs `cmd`, its output or why it failed; killed after `timeout`.
fn run(mut cmd: Command, timeout: Duration) -> Result<String, String> {
    let mut child =
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("timed out after {timeout:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    let mut err = String::new();
    child.stdout.take().map(|mut s| s.read_to_string(&mut out));
    child.stderr.take().map(|mut s| s.read_to_string(&mut err));
    if status.success() { Ok(out) } else { Err(format!("{status}: {out}{err}")) }
}

/// Starts the pod's server in its sandbox (see the module's comment).
fn start(pod: &Pod, image: &Image) -> Running {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut targets: Vec<PathBuf> = pod.mounts.iter().map(|m| resolve(&m.path)).collect();
    targets.extend(image.files.iter().map(|(p, _)| resolve(p)));
    targets.extend(image.dirs.iter().map(|p| resolve(p)));
    targets.extend(["/etc/hosts", "/dev", "/proc"].map(PathBuf::from));
    let mut args = root(Path::new("/"), &targets);
    for d in &image.dirs {
        args.extend(["--dir".into(), resolve(d).display().to_string()]);
    }
    args.extend(["--dev", "/dev", "--proc", "/proc"].map(String::from));
    // The runtime's /dev/shm, unless the pod mounts a memory-backed one there.
    if !pod.mounts.iter().any(|m| m.path == "/dev/shm") {
        args.extend(["--size", "67108864", "--tmpfs", "/dev/shm"].map(String::from));
    }
    for (i, m) in pod.mounts.iter().enumerate() {
        let host = dir.path().join(format!("volume-{i}"));
        std::fs::create_dir(&host).expect("volume dir");
        match m.kind {
            Kind::Memory(size) => {
                args.extend([
                    "--size".into(),
                    size.to_string(),
                    "--tmpfs".into(),
                    resolve(&m.path).display().to_string(),
                ]);
                continue;
            }
            Kind::EmptyDir => std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o777)).expect("chmod"),
            Kind::Claim => {
                std::os::unix::fs::chown(&host, Some(0), Some(pod.fs_group as u32)).expect("chown");
                std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o2775)).expect("chmod");
            }
        }
        let bind = if m.read_only { "--ro-bind" } else { "--bind" };
        args.extend([bind.into(), host.display().to_string(), resolve(&m.path).display().to_string()]);
    }
    for (i, (path, text)) in image.files.iter().enumerate() {
        let host = dir.path().join(format!("image-file-{i}"));
        std::fs::write(&host, text).expect("image file");
        args.extend(["--ro-bind".into(), host.display().to_string(), resolve(path).display().to_string()]);
    }
    let hostname = format!("{}-0", pod.name);
    let hosts = dir.path().join("hosts");
    std::fs::write(&hosts, format!("127.0.0.1\tlocalhost\n127.0.0.1\t{hostname}\n")).expect("hosts");
    args.extend(["--ro-bind".into(), hosts.display().to_string(), "/etc/hosts".into()]);
    // Every mount point exists now: the root's own directories become read-only.
    args.extend(["--remount-ro".into(), "/".into()]);
    args.extend(
        ["--unshare-net", "--unshare-pid", "--unshare-uts", "--hostname", &hostname, "--die-with-parent"]
            .map(String::from),
    );
    args.extend(user_args(pod));
    args.extend(argv(pod, image));
    let log = dir.path().join("server.log");
    let out = std::fs::File::create(&log).expect("log");
    let mut env = image.env.clone();
    env.extend(pod.env.iter().cloned());
    let bwrap = Command::new("bwrap")
        .args(&args)
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("log"))
        .stderr(out)
        .spawn()
        .expect("bwrap runs");
    let inner = inner_pid(bwrap.id());
    Running { pod: pod.clone(), bwrap, inner, log, env, _dir: dir }
}

/// The host's filesystem under `dir`, read-only, with a mount point for each
/// of `targets`: a directory holding none of them is bound whole; one that
/// does is a directory of the sandbox's root (a tmpfs) with each host entry
/// bound or linked inside, so mount points the host lacks can be made (the
/// runtime makes them in the image's layer). `--remount-ro /` comes after.
fn root(dir: &Path, targets: &[PathBuf]) -> Vec<String> {
    let s = |p: &Path| p.display().to_string();
    let beneath = |p: &Path| targets.iter().any(|t| t.starts_with(p) && t != p);
    let mut args = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return args };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for path in entries {
        if targets.contains(&path) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).expect("a link");
            args.extend(["--symlink".into(), s(&target), s(&path)]);
        } else if meta.is_dir() && beneath(&path) {
            args.extend(["--dir".into(), s(&path)]);
            args.extend(root(&path, targets));
        } else {
            args.extend(["--ro-bind".into(), s(&path), s(&path)]);
        }
    }
    args
}

/// `path` with the host's symbolic links along it followed (`/var/run` is
/// `/run`), as the sandbox will see it: bwrap's destinations, as it would
/// follow an absolute link to the host's side while it builds the root.
fn resolve(path: &str) -> PathBuf {
    let mut out = PathBuf::from("/");
    for part in Path::new(path).components().skip(1) {
        let next = out.join(part);
        out = match std::fs::read_link(&next) {
            Ok(link) => resolve(&out.join(link).display().to_string()),
            Err(_) => next,
        };
    }
    out
}

/// What the container runs: the pod's command and args (`$(VAR)` expanded),
/// or the image's entrypoint.
fn argv(pod: &Pod, image: &Image) -> Vec<String> {
    let expanded = |v: &Vec<String>| v.iter().map(|a| common::kubelet_expand(a, &pod.env)).collect::<Vec<_>>();
    match (&pod.command, &image.entrypoint) {
        (Some(c), _) => [expanded(c), pod.args.as_ref().map(expanded).unwrap_or_default()].concat(),
        (None, Some(e)) => [e.clone(), pod.args.as_ref().map(expanded).unwrap_or_else(|| image.cmd.clone())].concat(),
        (None, None) => panic!("{}: no command and no emulated entrypoint", pod.name),
    }
}

/// bwrap's child: the sandbox's first process (its PID namespace's init).
fn inner_pid(bwrap: u32) -> u32 {
    let start = Instant::now();
    loop {
        let children = std::fs::read_to_string(format!("/proc/{bwrap}/task/{bwrap}/children")).unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next().and_then(|p| p.parse().ok()) {
            return pid;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "bwrap started no sandbox");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts the datastore `name`, waits for its readiness probe, then runs
/// both generated probes once more; `None` when skipped.
fn started(name: &str, allowance: Duration) -> Option<Result<Running, String>> {
    started_in(built, name, allowance)
}

/// [`started`], for the datastore `name` of the objects `docs` gives.
fn started_in(docs: fn() -> &'static [Value], name: &str, allowance: Duration) -> Option<Result<Running, String>> {
    if !sandbox_available() {
        return None;
    }
    let p = pod_in(docs(), name);
    let image = image_of(&p.engine)?;
    Some(start_checked(&p, &image, allowance))
}

fn start_checked(pod: &Pod, image: &Image, allowance: Duration) -> Result<Running, String> {
    let mut r = start(pod, image);
    r.wait_ready(allowance)?;
    for (what, probe) in [("liveness", &pod.liveness), ("readiness", &pod.readiness)] {
        r.probe(probe).map_err(|e| format!("{}: {what} probe fails: {e}\n{}", pod.name, r.log()))?;
    }
    // The kubelet probes the pod IP: the probed ports listen on every address.
    let listening = r.on_node(&["ss", "-Hltn"], Duration::from_secs(5))?;
    for probe in [&pod.liveness, &pod.readiness] {
        let Some(port) = ["tcpSocket", "httpGet"].iter().find_map(|k| probe.get(*k)).map(|t| r.port(&t["port"])) else {
            continue;
        };
        let everywhere = [format!("0.0.0.0:{port}"), format!("*:{port}"), format!("[::]:{port}")];
        if !listening.split_whitespace().any(|a| everywhere.contains(&a.to_string())) {
            return Err(format!("{}: port {port} listens on loopback only:\n{listening}", pod.name));
        }
    }
    Ok(r)
}

fn ok(r: Option<Result<Running, String>>) -> Option<Running> {
    r.map(|r| r.unwrap_or_else(|e| panic!("{e}")))
}

// ---------------------------------------------------------------- tests

#[test]
fn postgres_starts_and_answers_its_probes_with_a_tmpfs_dev_shm() {
    let Some(r) = ok(started("health-data", Duration::from_secs(120))) else { return };
    let shm = r.pod.mounts.iter().find(|m| m.path == "/dev/shm").expect("a /dev/shm volume");
    let Kind::Memory(size) = shm.kind else { panic!("/dev/shm is memory-backed: {shm:?}") };
    // A quarter of the memory limit, and what the server sees there.
    assert_eq!(size, r.pod.memory_limit / 4);
    // The filesystem's type, block count and block size, seen by the server's user.
    let argv = ["stat", "-f", "-c", "%T %b %S", "/dev/shm"].map(String::from);
    let stat = r.exec(&argv, Duration::from_secs(5)).unwrap_or_else(|e| panic!("stat: {e}"));
    let fields: Vec<&str> = stat.split_whitespace().collect();
    let [kind, blocks, block] = fields[..] else { panic!("stat -f: {stat}") };
    assert_eq!(kind, "tmpfs", "{stat}");
    assert_eq!(blocks.parse::<u64>().ok().zip(block.parse::<u64>().ok()).map(|(b, s)| b * s), Some(size), "{stat}");
    // The database the pod names exists, reached with the pod's credentials over TCP.
    let sql = "psql -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -tAc 'select current_database()'";
    let argv: Vec<String> = vec!["sh".into(), "-c".into(), format!("PGPASSWORD=\"$POSTGRES_PASSWORD\" {sql}")];
    let out = r.exec(&argv, Duration::from_secs(10)).unwrap_or_else(|e| panic!("psql: {e}\n{}", r.log()));
    assert_eq!(out.trim(), "health_data");
    // No `shared_buffers` setting: a quarter of the 1Gi limit, not the image's 128MB.
    assert_eq!(pg_show(&r, "shared_buffers"), "256MB");
}

/// What `SHOW setting` answers on the running PostgreSQL, over TCP with the
/// pod's credentials.
fn pg_show(r: &Running, setting: &str) -> String {
    let sql = format!("psql -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\" -tAc 'show {setting}'");
    let argv: Vec<String> = vec!["sh".into(), "-c".into(), format!("PGPASSWORD=\"$POSTGRES_PASSWORD\" {sql}")];
    let out = r.exec(&argv, Duration::from_secs(10)).unwrap_or_else(|e| panic!("psql: {e}\n{}", r.log()));
    out.trim().to_string()
}

#[test]
fn postgres_runs_with_the_settings_of_its_description() {
    let Some(r) = ok(started_in(built_stores, "orders", Duration::from_secs(120))) else { return };
    // `settings: { max_connections: 40, shared_buffers: 64Mi }`.
    assert_eq!(pg_show(&r, "max_connections"), "40");
    assert_eq!(pg_show(&r, "shared_buffers"), "64MB");
}

#[test]
fn redis_cache_without_auth_on_an_emptydir_answers_without_a_password() {
    let Some(r) = ok(started_in(built_stores, "cart-cache", Duration::from_secs(60))) else { return };
    // `storage: ephemeral`: no claim; /data is an emptyDir.
    let data = r.pod.mounts.iter().find(|m| m.path == "/data").expect("a /data mount");
    assert!(matches!(data.kind, Kind::EmptyDir), "{data:?}");
    assert!(r.pod.mounts.iter().all(|m| !matches!(m.kind, Kind::Claim)), "{:?}", r.pod.mounts);
    // `auth: none`: no credentials in the pod, and a client without one is answered.
    assert!(r.pod.env.is_empty(), "{:?}", r.pod.env);
    assert!(object_absent(built_stores(), "Secret", "cart-cache-credentials"));
    let ping = r.exec(&["redis-cli", "-h", "127.0.0.1", "ping"].map(String::from), Duration::from_secs(5));
    assert_eq!(ping.map(|o| o.trim().to_string()), Ok("PONG".to_string()));
    // Clients of other pods are let in (protected mode would refuse them
    // without a password); the setting overrides the cache role's policy.
    assert_eq!(redis_config(&r, "protected-mode"), "no");
    assert_eq!(redis_config(&r, "maxmemory-policy"), "allkeys-lfu");
    assert_eq!(redis_config(&r, "maxmemory"), (r.pod.memory_limit * 3 / 4).to_string());
}

fn object_absent(docs: &[Value], kind: &str, name: &str) -> bool {
    !docs.iter().any(|d| d["kind"] == kind && d["metadata"]["name"] == name)
}

/// The value of `CONFIG GET key` on the running Redis.
fn redis_config(r: &Running, key: &str) -> String {
    let argv = ["redis-cli", "-h", "127.0.0.1", "--no-raw", "config", "get", key].map(String::from);
    let out = r.exec(&argv, Duration::from_secs(5)).unwrap_or_else(|e| panic!("redis-cli: {e}"));
    out.lines()
        .nth(1)
        .map(|l| l.split_once(") ").map_or(l, |(_, v)| v).trim_matches('"').to_string())
        .unwrap_or_default()
}

fn redis_runs(name: &str, policy: &str) {
    let Some(r) = ok(started(name, Duration::from_secs(60))) else { return };
    let limit = r.pod.memory_limit;
    assert_eq!(redis_config(&r, "maxmemory"), (limit * 3 / 4).to_string(), "{name}: maxmemory 75% of the limit");
    assert_eq!(redis_config(&r, "maxmemory-policy"), policy, "{name}");
    // Without the password, nothing: REDISCLI_AUTH (the pod's) removed.
    let argv = ["sh", "-c", "unset REDISCLI_AUTH; redis-cli -h 127.0.0.1 ping"].map(String::from);
    let out = r.exec(&argv, Duration::from_secs(5)).unwrap_or_else(|e| e);
    assert!(out.contains("NOAUTH"), "{name}: a password is required: {out}");
    // The password is on no command line: not in the container's argv as
    // the runtime starts it, nor in any process of the sandbox.
    let password = &r.pod.env.iter().find(|(k, _)| k == "REDIS_PASSWORD").expect("REDIS_PASSWORD").1;
    assert!(!password_in_argv(&r.pod), "{name}: the password in the container's argv");
    let processes = r.processes();
    assert!(processes.len() >= 2, "the sandbox's init and redis-server: {processes:?}");
    for pid in processes {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        assert!(!cmdline.contains(password.as_str()), "{name}: the password in /proc/{pid}/cmdline: {cmdline}");
    }
    fill(&r, policy);
}

/// Writes 1.25 times `maxmemory`, 1 MiB per command (256 values of 4 KiB
/// in a script: Redis judges memory before each command, not within one):
/// a cache evicts and takes every write, staying at `maxmemory`; a store
/// refuses writes once full.
fn fill(r: &Running, policy: &str) {
    let max: u64 = redis_config(r, "maxmemory").parse().expect("maxmemory");
    let chunks = max * 5 / 4 / (1 << 20);
    let lua = "for j = 1, 256 do redis.call('SET', KEYS[1] .. j, string.rep('x', 4096)) end return 'ok'";
    let script = format!(
        r#"i=0
while [ $i -lt {chunks} ]; do
  out=$(redis-cli -h 127.0.0.1 eval "{lua}" 1 "c$i:")
  [ "$out" = ok ] || {{ echo "$out"; exit 0; }}
  i=$((i + 1))
done
echo done"#
    );
    let out = r.exec(&["sh".into(), "-c".into(), script], Duration::from_secs(120)).unwrap_or_else(|e| e);
    let info = r.exec(&["redis-cli", "-h", "127.0.0.1", "info"].map(String::from), Duration::from_secs(5));
    let info = info.unwrap_or_else(|e| panic!("info: {e}"));
    let stat = |k: &str| -> u64 {
        let line = info.lines().find(|l| l.starts_with(&format!("{k}:"))).unwrap_or_else(|| panic!("{k} in INFO"));
        line[k.len() + 1..].trim().parse().expect("a number")
    };
    if policy == "noeviction" {
        assert!(out.contains("OOM command not allowed"), "a full store refuses writes: {out}");
        assert_eq!(stat("evicted_keys"), 0);
    } else {
        assert_eq!(out.trim(), "done", "a full cache takes every write");
        assert!(stat("evicted_keys") > 0, "a full cache evicts");
    }
    // Past `maxmemory` by at most the last script's writes and the
    // allocator's slack: 3.5 MiB over 192 MiB once, on a machine loaded by
    // two builds (1 MiB was the margin before). Without eviction it would
    // be a quarter over.
    let used = stat("used_memory");
    assert!(used <= max + max / 32, "used_memory {used} above maxmemory {max} by more than 1/32");
}

/// Whether the container's argv, `$(VAR)` expanded as the runtime starts
/// it, holds the Redis password.
fn password_in_argv(pod: &Pod) -> bool {
    let password = &pod.env.iter().find(|(k, _)| k == "REDIS_PASSWORD").expect("REDIS_PASSWORD").1;
    argv(pod, &redis_image()).iter().any(|a| a.contains(password.as_str()))
}

/// The planted change: the former `--requirepass $(REDIS_PASSWORD)` is caught.
#[test]
fn a_password_argument_is_caught() {
    if !common::have_kubectl() {
        return;
    }
    let mut planted = pod("webauthn");
    assert!(!password_in_argv(&planted));
    planted.command = Some(vec!["redis-server".into()]);
    planted.args = Some(["--requirepass", "$(REDIS_PASSWORD)", "--dir", "/data"].map(String::from).into());
    assert!(password_in_argv(&planted));
}

#[test]
fn redis_cache_starts_evicting_below_its_limit_with_a_password_off_the_command_line() {
    redis_runs("health", "allkeys-lru");
}

#[test]
fn redis_store_starts_refusing_writes_below_its_limit_with_a_password_off_the_command_line() {
    redis_runs("webauthn", "noeviction");
}

#[test]
fn rabbitmq_starts_and_answers_its_probes() {
    let Some(r) = ok(started("queue", Duration::from_secs(180))) else { return };
    // The pod's user logs in to the management API (RABBITMQ_DEFAULT_USER/PASS honoured).
    let argv =
        ["sh", "-c", "curl -sf -u \"$RABBITMQ_DEFAULT_USER:$RABBITMQ_DEFAULT_PASS\" http://127.0.0.1:15672/api/whoami"]
            .map(String::from);
    let out = r.exec(&argv, Duration::from_secs(10)).unwrap_or_else(|e| panic!("management API: {e}\n{}", r.log()));
    assert!(out.contains("\"name\":\"kubeproof\""), "{out}");
    // Its metrics port answers as the kubelet's HTTP probes are made (the
    // generated probes of these engines use exec and TCP only).
    let metrics = serde_json::json!({ "httpGet": { "port": "prometheus", "path": "/metrics" }, "timeoutSeconds": 10 });
    r.probe(&metrics).unwrap_or_else(|e| panic!("GET /metrics: {e}"));
    let missing =
        serde_json::json!({ "httpGet": { "port": "prometheus", "path": "/no-such-page" }, "timeoutSeconds": 10 });
    assert!(r.probe(&missing).is_err(), "a 404 fails an HTTP probe");
}

/// The planted change: each writable mount in `needed`, removed in turn
/// from the generated pod of `name` (the read-only root shows through),
/// makes the server fail, by its own complaint.
fn fails_without(name: &str, needed: &[&str]) {
    if !sandbox_available() {
        return;
    }
    let full = pod(name);
    let Some(image) = image_of(&full.engine) else { return };
    for needed in needed {
        let mut planted = full.clone();
        let before = planted.mounts.len();
        planted.mounts.retain(|m| m.path != *needed);
        assert_eq!(planted.mounts.len(), before - 1, "the generated pod of {name} mounts {needed}");
        match start_checked(&planted, &image, Duration::from_secs(90)) {
            Ok(_) => panic!("{name} started without a writable {needed}: the harness proves nothing"),
            Err(e) => assert!(
                ["Read-only file system", "erofs"].iter().any(|m| e.contains(m)) && !e.contains("bwrap:"),
                "{name} without {needed}: {e}"
            ),
        }
    }
}

#[test]
fn postgres_fails_without_a_writable_mount_it_needs() {
    fails_without("health-data", &["/var/run/postgresql", "/var/lib/postgresql/data"]);
}

#[test]
fn redis_fails_without_its_writable_data_volume() {
    fails_without("webauthn", &["/data"]);
}

#[test]
fn rabbitmq_fails_without_a_writable_mount_it_needs() {
    fails_without("queue", &["/var/log/rabbitmq", "/var/lib/rabbitmq"]);
}

// ---------------------------------------------------------------- no Debian server

/// The base StatefulSet of the datastore `name` in `example`.
fn base_set(example: &str, name: &str) -> Value {
    let objects = common::base_objects(example);
    objects
        .into_values()
        .find(|o| o["kind"] == "StatefulSet" && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no StatefulSet {name} in {example}"))
}

/// The volume `name` of a pod spec, and the container's mount at `path`.
fn volume_at<'a>(spec: &'a Value, container: &'a Value, path: &str) -> (&'a Value, &'a Value) {
    let mounts = container["volumeMounts"].as_array().expect("mounts");
    let m = mounts.iter().find(|m| m["mountPath"] == path).unwrap_or_else(|| panic!("nothing mounted at {path}"));
    let volumes = spec["volumes"].as_array().expect("volumes");
    let v = volumes.iter().find(|v| v["name"] == m["name"]).unwrap_or_else(|| panic!("no volume for {m}"));
    (v, m)
}

/// Neo4j (no Debian package: unproven by a run). The official image's
/// entrypoint appends a line to /var/lib/neo4j/conf/neo4j.conf for every
/// `NEO4J_*` variable but NEO4J_AUTH, and sets the initial password from
/// NEO4J_AUTH=neo4j/PASSWORD: conf must be writable and hold the image's
/// files, and the password must travel in no other NEO4J_* variable.
#[test]
fn neo4j_conf_is_a_seeded_emptydir_and_the_password_comes_only_in_neo4j_auth() {
    let set = base_set("kailash", "neo4j");
    let spec = &set["spec"]["template"]["spec"];
    let server = common::pod_container(spec, "neo4j");
    let env = server["env"].as_array().expect("env");
    let secret_vars: Vec<&str> = env
        .iter()
        .filter(|e| e["valueFrom"]["secretKeyRef"]["key"] == "NEO4J_PASSWORD")
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(secret_vars.len(), 1, "one variable holds the password: {env:?}");
    assert!(!secret_vars[0].starts_with("NEO4J_"), "the entrypoint would write {} into neo4j.conf", secret_vars[0]);
    let auth = env.iter().find(|e| e["name"] == "NEO4J_AUTH").expect("NEO4J_AUTH");
    assert_eq!(auth["value"], format!("neo4j/$({})", secret_vars[0]));
    // $(VAR) expands only variables defined before it.
    let index = |n: &str| env.iter().position(|e| e["name"] == n);
    assert!(index(secret_vars[0]) < index("NEO4J_AUTH"));
    for e in env {
        let name = e["name"].as_str().unwrap_or_default();
        if name.starts_with("NEO4J_") && name != "NEO4J_AUTH" {
            assert!(e["value"].is_string() && !e["value"].as_str().unwrap_or_default().contains("$("), "{e}");
        }
    }
    // conf: an emptyDir, seeded by an init container from the same image.
    let (volume, _) = volume_at(spec, server, "/var/lib/neo4j/conf");
    assert!(volume["emptyDir"].is_object(), "{volume}");
    let init = spec["initContainers"].as_array().expect("an init container");
    let seed = init
        .iter()
        .find(|c| c["volumeMounts"].as_array().is_some_and(|m| m.iter().any(|m| m["name"] == volume["name"])))
        .expect("an init container mounting conf");
    assert_eq!(seed["image"], server["image"]);
    let (_, seed_mount) = volume_at(spec, seed, "/seed");
    assert_eq!(seed_mount["name"], volume["name"]);
    assert_eq!(seed["command"], serde_json::json!(["cp", "-R", "/var/lib/neo4j/conf/.", "/seed/"]));
    assert_eq!(seed["securityContext"]["readOnlyRootFilesystem"], true);
    // Its other writable paths: data (a claim), logs, run, /tmp.
    for path in ["/logs", "/var/lib/neo4j/run", "/tmp"] {
        assert!(volume_at(spec, server, path).0["emptyDir"].is_object(), "{path}");
    }
    assert_eq!(volume_at_claim(&set, server, "/data"), "data");
}

/// The claim template mounted at `path`.
fn volume_at_claim(set: &Value, container: &Value, path: &str) -> String {
    let mounts = container["volumeMounts"].as_array().expect("mounts");
    let m = mounts.iter().find(|m| m["mountPath"] == path).unwrap_or_else(|| panic!("nothing mounted at {path}"));
    let claims = set["spec"]["volumeClaimTemplates"].as_array().expect("claims");
    assert!(claims.iter().any(|c| c["metadata"]["name"] == m["name"]), "{path} is a claim");
    m["name"].as_str().unwrap_or_default().to_string()
}

/// MinIO (no Debian package: unproven by a run). The server writes /data
/// (`.minio.sys`) and creates its certificates directory at start (by
/// default under $HOME, on the read-only root): both writable; credentials
/// from the Secret as MINIO_ROOT_USER and MINIO_ROOT_PASSWORD.
#[test]
fn minio_writes_only_to_its_volumes_and_reads_root_credentials_from_the_secret() {
    let set = base_set("health-platform", "datalake");
    let spec = &set["spec"]["template"]["spec"];
    let server = common::pod_container(spec, "minio");
    assert_eq!(volume_at_claim(&set, server, "/data"), "data");
    let args: Vec<&str> = server["args"].as_array().expect("args").iter().filter_map(|a| a.as_str()).collect();
    let certs = args.iter().position(|a| *a == "--certs-dir").map(|i| args[i + 1]).expect("--certs-dir");
    let mounted = server["volumeMounts"].as_array().expect("mounts").iter().any(|m| {
        let path = m["mountPath"].as_str().unwrap_or_default();
        Path::new(certs).starts_with(path) && volume_at(spec, server, path).0["emptyDir"].is_object()
    });
    assert!(mounted, "{certs} lies in a writable emptyDir");
    let env = server["env"].as_array().expect("env");
    for key in ["MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD"] {
        let e = env.iter().find(|e| e["name"] == key).unwrap_or_else(|| panic!("{key}"));
        assert_eq!(e["valueFrom"]["secretKeyRef"]["key"], key, "{e}");
        assert!(e["valueFrom"]["secretKeyRef"]["name"].as_str().is_some_and(|n| n.ends_with("-credentials")));
    }
}
