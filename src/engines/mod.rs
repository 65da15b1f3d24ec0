//! Datastore engines as data. Each file declares one [`Definition`] — image
//! and version, user, ports, data and scratch paths, default resources,
//! probes, metrics, how client services connect, backup and restore, the
//! runbook's words, and the image names that run it — beside the few
//! functions that compute (environments, wiring, texts) and its scripts; the
//! registry below lists them. The description resolves `engine:` here;
//! generators, checks and `graph` ask an [`Engine`]; none matches on names.
//!
//! Adding an engine is one new file declaring a `static` [`Definition`] (an
//! engine without metrics or backups says so with [`NO_METRICS`] and
//! [`NO_BACKUP`]) and one registry line. This layer sits below the
//! description and the generators: it speaks in primitives and the small
//! structs declared here.

mod others;

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::LazyLock;

use crate::model::quantity::{Bytes, Cpu};

/// Declares each engine's module and lists it, in the order the JSON Schema
/// lists the names (the order of this list).
macro_rules! registry {
    ($($module:ident::$engine:ident),* $(,)?) => {
        $(mod $module;)*
        static REGISTRY: &[&Definition] = &[$(&$module::$engine),*];
    };
}

registry! {
    postgres::POSTGRES,
    redis::REDIS,
    neo4j::NEO4J,
    minio::MINIO,
    rabbitmq::RABBITMQ,
}

/// Everything kubeproof knows about one engine, declared by its file. The
/// fields are private to the engines; the rest of the crate reads them
/// through the methods below (on an [`Engine`] by `Deref`).
pub struct Definition {
    /// The `engine:` value of a description; also the server container's name.
    name: &'static str,
    /// The official image, and the version used when the description gives none.
    image: Image,
    /// Image repository names that run this engine, for reading manifests:
    /// the last path segment without tag; `NAME-…` variants match too
    /// (`bitnami/redis-cluster`).
    images: &'static [&'static str],
    /// The UID and GID the image's server runs as.
    user: u32,
    /// The server's ports; the first is the one clients connect to.
    ports: &'static [Port],
    /// Where the engine keeps its data (the volume's mount path).
    data_path: &'static str,
    /// Paths the server writes besides its data (emptyDirs, as the root
    /// filesystem is read-only).
    scratch_paths: &'static [&'static str],
    /// Scratch paths whose image content the server needs (configuration it
    /// appends to): an init container copies it into the emptyDir first.
    seeded_paths: &'static [&'static str],
    /// A memory-backed emptyDir (tmpfs) and its size as a fraction of the
    /// memory limit, `(path, divisor)`: PostgreSQL's `/dev/shm`.
    memory_path: Option<(&'static str, u64)>,
    /// The engine can evict data when its memory is full (Redis): a
    /// datastore's role decides whether it does.
    evicts: bool,
    /// Keys of the credentials Secret; its env file lists them.
    credential_keys: &'static [&'static str],
    /// Whether the engine can run without credentials (`auth: none`), or
    /// why it cannot do so safely.
    without_auth: Result<(), &'static str>,
    /// The settings a description may give (`settings:`), each checked here.
    settings: &'static [Setting],
    /// CPU and memory requests when the description gives none.
    default_requests: (Cpu, Bytes),
    /// The server container: environment, command and probes.
    server: Server,
    /// What a client service gets besides `PREFIX_HOST` and `PREFIX_PORT`
    /// (the first argument is the datastore's name as a variable prefix).
    wiring: fn(&str, &Instance) -> Wiring,
    /// The Prometheus endpoint, or why there is none ([`NO_METRICS`]).
    metrics: Result<Metrics, &'static str>,
    /// Dumps and restores, or why there are none ([`NO_BACKUP`]).
    backup: Result<Backup, NoBackup>,
    /// How a client proves it connects with the engine's own image (the
    /// Helm chart's test pods); `None`: a TCP connection to the client port.
    client_check: Option<ClientCheck>,
}

/// The metrics of an engine kubeproof knows no endpoint of.
pub const NO_METRICS: Result<Metrics, &str> = Err("kubeproof knows no Prometheus endpoint for it");

/// The backups of an engine kubeproof cannot dump yet.
pub const NO_BACKUP: Result<Backup, NoBackup> =
    Err(NoBackup { why: "kubeproof writes no dump job for it yet", note: None });

impl Definition {
    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn image(&self) -> Image {
        self.image
    }

    pub fn images(&self) -> &'static [&'static str] {
        self.images
    }

    pub fn user(&self) -> u32 {
        self.user
    }

    pub fn ports(&self) -> &'static [Port] {
        self.ports
    }

    /// The port clients connect to.
    pub fn client_port(&self) -> u16 {
        self.ports.first().map_or(0, |p| p.number)
    }

    pub fn data_path(&self) -> &'static str {
        self.data_path
    }

    pub fn scratch_paths(&self) -> &'static [&'static str] {
        self.scratch_paths
    }

    pub fn evicts(&self) -> bool {
        self.evicts
    }

    /// The scratch paths an init container seeds from the image.
    pub fn seeded_paths(&self) -> &'static [&'static str] {
        self.seeded_paths
    }

    /// The memory-backed scratch path and its size for a memory limit of
    /// `limit` bytes.
    pub fn memory_path(&self, limit: u64) -> Option<(&'static str, u64)> {
        self.memory_path.map(|(path, divisor)| (path, limit / divisor))
    }

    pub fn credential_keys(&self) -> &'static [&'static str] {
        self.credential_keys
    }

    pub fn default_requests(&self) -> (Cpu, Bytes) {
        self.default_requests
    }

    /// `Ok` when the engine can run without credentials, else why not.
    pub fn without_auth(&self) -> Result<(), &'static str> {
        self.without_auth
    }

    pub fn settings(&self) -> &'static [Setting] {
        self.settings
    }

    /// The setting `name` written `value`, checked for a datastore whose
    /// memory limit is `memory_limit` bytes: its canonical value (a size in
    /// bytes, a number, a word), or what is wrong and what is allowed.
    pub fn setting(&self, name: &str, value: &str, memory_limit: u64) -> Result<String, SettingError> {
        let Some(s) = self.settings.iter().find(|s| s.name == name) else {
            let allowed = self.settings.iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>();
            return Err(SettingError {
                message: format!("{} has no setting `{name}`", self.name),
                help: if allowed.is_empty() {
                    format!("kubeproof knows no settings of {}: remove `settings`", self.name)
                } else {
                    format!("the settings of {}: {}", self.name, allowed.join(", "))
                },
            });
        };
        s.value.check(name, value, memory_limit)
    }

    /// The server container of the datastore `d`.
    pub fn server(&self, d: &Instance) -> Container {
        let Server { env, command, args, liveness, readiness } = self.server;
        Container { env: env(d), command, args: args(d), liveness, readiness }
    }

    /// What a client service gets besides `PREFIX_HOST` and `PREFIX_PORT`.
    pub fn wiring(&self, prefix: &str, d: &Instance) -> Wiring {
        (self.wiring)(prefix, d)
    }

    pub fn metrics(&self) -> Result<Metrics, &'static str> {
        self.metrics
    }

    pub fn backup(&self) -> Result<Backup, NoBackup> {
        self.backup
    }

    pub fn client_check(&self) -> Option<ClientCheck> {
        self.client_check
    }
}

/// One engine of the registry. Compared, hashed and shown by name; its
/// knowledge is reached through `Deref` to its [`Definition`].
#[derive(Clone, Copy)]
pub struct Engine(&'static Definition);

impl Engine {
    /// Every engine, in registry order.
    pub fn all() -> impl Iterator<Item = Engine> {
        REGISTRY.iter().map(|d| Engine(d))
    }

    /// The engine written `name` in a description.
    pub fn by_name(name: &str) -> Option<Engine> {
        Engine::all().find(|e| e.0.name == name)
    }

    /// The names of every engine, in registry order.
    pub fn names() -> &'static [&'static str] {
        static NAMES: LazyLock<Vec<&'static str>> = LazyLock::new(|| REGISTRY.iter().map(|d| d.name).collect());
        &NAMES
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    pub fn as_str(&self) -> &'static str {
        self.0.name
    }
}

impl Deref for Engine {
    type Target = Definition;

    fn deref(&self) -> &Definition {
        self.0
    }
}

impl PartialEq for Engine {
    fn eq(&self, other: &Engine) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Engine {}

impl Hash for Engine {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.name.hash(state);
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

// ---------------------------------------------------------------- images

/// A datastore recognised by its image in manifests: an engine kubeproof
/// generates, or one of the others it knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The engine's name (`postgres` for `bitnami/postgresql` too).
    pub name: &'static str,
    /// The port its clients connect to.
    pub client_port: u16,
}

/// The datastore an image runs, by its repository's last path segment
/// (registry, tag and digest ignored): a name an engine lists, or that name
/// followed by `-` and a variant (`redis-cluster`, `postgresql-repmgr`) —
/// but `NAME-exporter`, the Prometheus exporter named after it.
pub fn by_image(image: &str) -> Option<Known> {
    let repo = image.split('@').next().unwrap_or(image);
    let last = repo.rsplit('/').next().unwrap_or(repo);
    let name = last.split(':').next().unwrap_or(last).to_ascii_lowercase();
    let runs = |images: &[&str]| {
        images.iter().any(|i| match name.strip_prefix(i) {
            Some("") => true,
            Some(variant) => variant.starts_with('-') && variant != "-exporter",
            None => false,
        })
    };
    REGISTRY
        .iter()
        .find(|d| runs(d.images))
        .map(|d| Known { name: d.name, client_port: d.client_port() })
        .or_else(|| others::OTHERS.iter().find(|o| runs(o.images)).map(|o| o.known))
}

// ---------------------------------------------------------------- shapes

/// An image repository and its default tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Image {
    pub repository: &'static str,
    /// Used when the description gives no `version`.
    pub version: &'static str,
}

impl Image {
    /// `REPOSITORY:VERSION`, the given version or the default.
    pub fn reference(&self, version: Option<&str>) -> String {
        format!("{}:{}", self.repository, version.unwrap_or(self.version))
    }
}

/// A server port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub name: &'static str,
    pub number: u16,
    /// Speaks HTTP (the Service port's `appProtocol`).
    pub http: bool,
}

impl Port {
    pub const fn tcp(name: &'static str, number: u16) -> Port {
        Port { name, number, http: false }
    }

    pub const fn http(name: &'static str, number: u16) -> Port {
        Port { name, number, http: true }
    }
}

/// A setting a description may give an engine.
#[derive(Debug, Clone, Copy)]
pub struct Setting {
    /// The engine's own name for it.
    pub name: &'static str,
    pub value: SettingValue,
}

/// The values a setting takes.
#[derive(Debug, Clone, Copy)]
pub enum SettingValue {
    /// One of these words.
    OneOf(&'static [&'static str]),
    /// A whole number in this range (inclusive).
    Count(u64, u64),
    /// A size (`256Mi`) of at least this many bytes and below the memory
    /// limit: memory the server takes within its container's.
    Memory(u64),
}

/// A setting refused: the message, and what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub message: String,
    pub help: String,
}

impl SettingValue {
    fn check(&self, name: &str, value: &str, memory_limit: u64) -> Result<String, SettingError> {
        let refuse = |help: String| Err(SettingError { message: format!("`{name}: {value}` is not allowed"), help });
        match *self {
            SettingValue::OneOf(words) if words.contains(&value) => Ok(value.to_string()),
            SettingValue::OneOf(words) => refuse(format!("one of: {}", words.join(", "))),
            SettingValue::Count(min, max) => match value.parse::<u64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n.to_string()),
                _ => refuse(format!("a whole number from {min} to {max}")),
            },
            SettingValue::Memory(min) => {
                let limit = Bytes(memory_limit);
                match Bytes::parse(value) {
                    Ok(b) if b.get() >= min && b.get() < memory_limit => Ok(b.get().to_string()),
                    _ => refuse(format!(
                        "a size such as `128Mi`, at least {} and below the memory limit ({limit})",
                        Bytes(min)
                    )),
                }
            }
        }
    }
}

/// The value of the checked setting `name` of `d`, if given.
pub fn given<'a>(d: &'a Instance, name: &str) -> Option<&'a str> {
    d.settings.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// One datastore of an engine, for the settings and texts that name it.
#[derive(Debug, Clone)]
pub struct Instance<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    /// Its client Service's DNS name.
    pub host: String,
    /// The database name (postgres; others ignore it).
    pub database: &'a str,
    /// The server container's memory limit, in bytes (Redis sizes
    /// `maxmemory` from it).
    pub memory_limit: u64,
    /// Its data may be evicted when memory is full (a cache); otherwise
    /// writes fail rather than lose data.
    pub cache: bool,
    /// Clients authenticate (`auth: password`); otherwise there are no
    /// credentials and no secret environment.
    pub auth: bool,
    /// The settings given, checked ([`Definition::setting`]): canonical values.
    pub settings: &'a [(String, String)],
}

/// An environment variable of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Env {
    /// A literal value; `$(NAME)` refers to an earlier variable.
    Value { name: String, value: String },
    /// A key of the datastore's credentials Secret.
    Secret { name: String, key: &'static str },
}

impl Env {
    pub fn value(name: impl Into<String>, value: impl Into<String>) -> Env {
        Env::Value { name: name.into(), value: value.into() }
    }

    pub fn secret(name: impl Into<String>, key: &'static str) -> Env {
        Env::Secret { name: name.into(), key }
    }

    pub fn name(&self) -> &str {
        match self {
            Env::Value { name, .. } | Env::Secret { name, .. } => name,
        }
    }
}

/// How the server container runs: its environment for a datastore, its
/// command and its probes.
#[derive(Debug, Clone, Copy)]
pub struct Server {
    pub env: fn(&Instance) -> Vec<Env>,
    /// The image's entrypoint when `None`.
    pub command: Option<&'static [&'static str]>,
    /// The image's CMD when it returns `None`.
    pub args: fn(&Instance) -> Option<Vec<String>>,
    pub liveness: Probe,
    /// Also the startup probe, with a longer allowance.
    pub readiness: Probe,
}

/// No arguments: the image's CMD.
pub fn image_cmd(_: &Instance) -> Option<Vec<String>> {
    None
}

/// The server container of one datastore: its engine's [`Server`] with the
/// environment computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub env: Vec<Env>,
    pub command: Option<&'static [&'static str]>,
    pub args: Option<Vec<String>>,
    pub liveness: Probe,
    pub readiness: Probe,
}

/// A probe: a check and how often it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Probe {
    pub check: Check,
    pub period: i32,
    pub timeout: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// A shell command (`sh -c`: Kubernetes does not expand `$VAR` in probes).
    Exec(&'static str),
    /// A TCP connection to the named port.
    Tcp(&'static str),
    /// An HTTP GET of `path` on the named port.
    Http { path: &'static str, port: &'static str },
}

/// A client's check that it connects and logs in, run by the engine's own
/// image as its user: a POSIX sh script, exiting non-zero on failure, that
/// reads where to connect and the credentials from its environment.
#[derive(Debug, Clone, Copy)]
pub struct ClientCheck {
    pub script: &'static str,
    /// Host, port and credentials (keys of the client's copy of the
    /// datastore's credentials Secret).
    pub env: fn(&Instance) -> Vec<Env>,
}

/// What a client service gets: ConfigMap settings and environment variables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wiring {
    pub config: Vec<(String, String)>,
    pub env: Vec<Env>,
}

/// A Prometheus endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Metrics {
    pub scrape: Scrape,
    /// The sidecar that serves the endpoint; `None`: the server itself does.
    pub exporter: Option<Exporter>,
    /// Settings the server needs to serve the endpoint.
    pub server_env: &'static [(&'static str, &'static str)],
    /// The series that says the engine is down, and what it means.
    pub down: Down,
}

/// Where Prometheus scrapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scrape {
    /// The pod (and Service) port's name.
    pub port_name: &'static str,
    pub port: u16,
    pub path: &'static str,
}

/// An exporter sidecar reading the engine over localhost.
#[derive(Debug, Clone, Copy)]
pub struct Exporter {
    pub name: &'static str,
    pub image: &'static str,
    /// Path that answers without querying the datastore (liveness).
    pub health: &'static str,
    /// Its environment: how it reaches and logs into the engine.
    pub env: fn(&Instance) -> Vec<Env>,
}

/// The `DatastoreDown` alert's series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Down {
    /// 0 (or absent) when the engine is down.
    pub metric: &'static str,
    /// What 0 means, in the alert's description.
    pub what: &'static str,
}

impl Down {
    /// An endpoint the server serves itself: `up` of its scrape.
    pub const SCRAPE: Down =
        Down { metric: "up", what: "Prometheus cannot scrape the server's metrics endpoint (up 0)" };
}

/// Backups of an engine.
#[derive(Debug, Clone, Copy)]
pub struct Backup {
    pub method: Method,
    /// The environment of the containers on the datastore's side (the
    /// dump and restore steps, or the mirror), besides `BACKUP_DIR`.
    pub env: fn(&Instance) -> Vec<Env>,
    /// The engine dumps only a stopped database from its volume: the backup
    /// and restore pods stop the StatefulSet, run beside its pod and mount
    /// its volume (the image needs sh, wget and jq for that). Otherwise
    /// they connect to the client port.
    pub offline: bool,
    /// The restore serves the dump on this port of its pod and the live
    /// server replicates from it.
    pub restore_port: Option<u16>,
    /// Requests and memory limit of the datastore-side containers, when the
    /// default is too small.
    pub resources: Option<Sizes>,
    /// The runbook's restore section: what a restore does, and the command
    /// that checks the data after it.
    pub runbook: fn(&Instance) -> RestoreText,
}

/// How dumps are taken and restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// The engine's own image writes one file into `$BACKUP_DIR` (named
    /// `TIMESTAMP.EXTENSION`), which `mc` uploads; a restore fetches one
    /// and the image loads it. The scripts are POSIX sh bodies.
    Dump { extension: &'static str, dump: &'static str, restore: &'static str },
    /// `mc` copies the engine's objects (S3 API) to a timestamped prefix and
    /// back: `source` sets the alias `source`, `mirror` copies to
    /// `target/$DEST/STAMP/`, `unmirror` copies `$BACKUP` back.
    Mirror { source: &'static str, mirror: &'static str, unmirror: &'static str },
}

impl Method {
    /// The file extension of a dump (`None`: a folder of objects).
    pub fn extension(&self) -> Option<&'static str> {
        match self {
            Method::Dump { extension, .. } => Some(extension),
            Method::Mirror { .. } => None,
        }
    }
}

/// Requests and a memory limit, as Kubernetes quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizes {
    pub cpu: &'static str,
    pub memory: &'static str,
    pub limit: &'static str,
}

/// The engine's part of a restore section of the runbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreText {
    /// What the restore does to the data.
    pub what: String,
    /// The command that checks the data afterwards.
    pub check: String,
}

/// Why an engine has no backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoBackup {
    /// The error for a description that asks for one.
    pub why: &'static str,
    /// Said in the runbook beside a datastore without backups.
    pub note: Option<&'static str>,
}

const MI: u64 = 1024 * 1024;

/// A datastore for the engines' unit tests.
#[cfg(test)]
fn sample() -> Instance<'static> {
    Instance {
        name: "orders",
        namespace: "shop",
        host: "orders.shop.svc.cluster.local".into(),
        database: "orders",
        memory_limit: 256 * MI,
        cache: false,
        auth: true,
        settings: &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_registry_order() {
        // The JSON Schema lists them in this order; new engines come after.
        assert!(Engine::names().starts_with(&["postgres", "redis", "neo4j", "minio", "rabbitmq"]));
        assert_eq!(Engine::by_name("redis").map(Engine::name), Some("redis"));
        assert_eq!(Engine::by_name("postgress"), None);
        // Engines are compared and hashed by name.
        let mut names = Engine::names().to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Engine::names().len(), "each name once");
    }

    #[test]
    fn every_engine_is_complete() {
        for e in Engine::all() {
            assert!(!e.ports().is_empty(), "{e}: a client port");
            assert!(!e.images().is_empty(), "{e}: image names");
            assert!(!e.credential_keys().is_empty(), "{e}: credentials");
            assert_eq!(by_image(&e.image().reference(None)).map(|k| k.name), Some(e.name()), "{e}: its own image");
        }
    }

    #[test]
    fn every_engine_is_consistent() {
        let d = sample();
        for e in Engine::all() {
            let server = e.server(&d);
            let ports: Vec<&str> = e.ports().iter().map(|p| p.name).collect();
            for p in [server.liveness, server.readiness] {
                if let Check::Tcp(port) | Check::Http { port, .. } = p.check {
                    assert!(ports.contains(&port), "{e}: probe on undeclared port {port}");
                }
            }
            // Every secret a container reads is a key the env file lists.
            let mut envs = vec![server.env, e.wiring("P", &d).env];
            if let Ok(m) = e.metrics() {
                envs.extend(m.exporter.map(|x| (x.env)(&d)));
                if m.exporter.is_none() {
                    assert!(ports.contains(&m.scrape.port_name), "{e}: scrapes its own port");
                }
            }
            if let Ok(b) = e.backup() {
                envs.push((b.env)(&d));
            }
            for env in envs.iter().flatten() {
                if let Env::Secret { key, .. } = env {
                    // A URL reads a credential's percent-encoded form.
                    let raw = key.strip_suffix("_URLENCODED").unwrap_or(key);
                    assert!(e.credential_keys().contains(&raw), "{e}: {key} is not a credential key");
                }
            }
        }
    }

    #[test]
    fn dumps_are_named_by_their_extension() {
        for e in Engine::all() {
            let Ok(Backup { method: Method::Dump { extension, dump, restore }, .. }) = e.backup() else { continue };
            assert!(dump.contains(&format!("$(date -u +%Y%m%dT%H%M%SZ).{extension}\"")), "{e}: {dump}");
            assert!(restore.contains(&format!("\"$BACKUP_DIR\"/*.{extension})")), "{e}: {restore}");
        }
    }

    #[test]
    fn images_by_last_segment_and_variants() {
        let name = |i: &str| by_image(i).map(|k| k.name);
        assert_eq!(name("docker.io/library/postgres:16.4"), Some("postgres"));
        assert_eq!(name("bitnami/postgresql@sha256:0123"), Some("postgres"));
        assert_eq!(name("bitnami/redis-cluster:7"), Some("redis"));
        assert_eq!(name("registry:5000/team/Redis"), Some("redis"));
        assert_eq!(name("ghcr.io/acme/api:1.0"), None);
        assert_eq!(name("ghcr.io/acme/redisx"), None);
        assert_eq!(name("quay.io/prometheuscommunity/postgres-exporter:v0.15.0"), None);
        assert_eq!(name("bitnami/redis-exporter"), None);
        assert_eq!(name("bitnami/postgresql-repmgr"), Some("postgres"));
        assert_eq!(by_image("mysql:8"), Some(Known { name: "mysql", client_port: 3306 }));
        assert_eq!(by_image("bitnami/mongodb"), Some(Known { name: "mongo", client_port: 27017 }));
    }
}
