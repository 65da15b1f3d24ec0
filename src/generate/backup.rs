//! Backups: per datastore a CronJob that dumps it and uploads the dump to the
//! platform's S3-compatible bucket (deleting dumps older than `keep`), a
//! restore CronJob that never runs by itself (suspended, never due) from
//! which the operator starts the restore Job, and the ConfigMap that says
//! which dump it restores; for the platform, Velero Schedules with volume snapshots.
//!
//! What to dump and how comes from the engine ([`crate::engines::Backup`]);
//! this module builds the pods around it. An engine that dumps only a
//! stopped database (an offline backup: Neo4j Community Edition) has its
//! backup pod run beside the datastore's pod (same node, same volume), and a
//! `hold` container stops the StatefulSet through the Kubernetes API for the
//! dump's duration and starts it again when the pod ends, whether the dump
//! worked or not.
//!
//! The scripts are small POSIX sh programs configured by environment
//! variables only, so that the same text runs in the cluster and in the test
//! suite (tests/backup_restore.rs runs them against a real PostgreSQL and
//! Redis). Dumps are written by the datastore's own image (the same client
//! version as the server); uploads, listing and pruning use the MinIO client
//! `mc`, which speaks to any S3-compatible store.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::api::rbac::v1 as rbac;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::json;

use super::datastores::env_var;
use super::*;
use crate::description::resolve::{BackupTarget, Resolved, Store, StoreBackup};
use crate::engines::{Backup, Engine, Method, Sizes};

/// The S3 client image (MinIO client, pinned).
pub const MC_IMAGE: &str = "quay.io/minio/mc:RELEASE.2024-10-08T09-37-26Z";
/// Where dumps are written inside backup and restore pods (an emptyDir).
const BACKUP_DIR: &str = "/backup";
/// Which datastores get a backup CronJob.
pub fn supported(engine: Engine) -> bool {
    engine.backup().is_ok()
}

/// Whether the backup and restore pods connect to the datastore over the
/// network (an offline backup reads and writes its volume instead).
pub fn connects(engine: Engine) -> bool {
    engine.backup().is_ok_and(|b| !b.offline)
}

/// Where the `hold` container of an offline backup marks the database as
/// stopped (an emptyDir, not BACKUP_DIR: everything there is uploaded).
const HOLD_DIR: &str = "/hold";
/// Where the `hold` container alone finds its service account token.
const TOKEN_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The object key prefix of a datastore's dumps: `[PREFIX/]PLATFORM[/ENV]/DATASTORE`.
pub fn key_prefix(r: &Resolved, t: &BackupTarget, store: &Store) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if !t.prefix.is_empty() {
        parts.push(&t.prefix);
    }
    parts.push(&r.platform);
    if let Some(env) = &r.env {
        parts.push(env);
    }
    parts.push(&store.name);
    format!("{}/{}", t.bucket, parts.join("/"))
}

// ---- scripts ---------------------------------------------------------------

/// Connects `mc` to the bucket (alias `target`); HOME is an emptyDir.
const MC_TARGET: &str = r#"mc alias set target "$S3_ENDPOINT" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >/dev/null
"#;

/// Deletes the dumps under `target/$DEST/` whose UTC timestamp (the start of
/// each name, `YYYYMMDDTHHMMSSZ`) is older than KEEP_SECONDS. Other names are
/// left alone.
const PRUNE: &str = r#"# Retention: delete the dumps older than KEEP_SECONDS, by the UTC timestamp
# that starts each name (YYYYMMDDTHHMMSSZ); other objects are left alone.
cutoff=$(date -u -d "@$(( $(date +%s) - KEEP_SECONDS ))" +%Y%m%d%H%M%S)
mc ls "target/$DEST/" | while IFS= read -r line; do
  name=${line##* }
  stamp=${name%%[./]*}
  case $stamp in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) ;;
    *) continue ;;
  esac
  day=${stamp%T*}
  time=${stamp#*T}
  if [ "$day${time%Z}" -lt "$cutoff" ]; then
    mc rm --recursive --force "target/$DEST/$name" >/dev/null
    echo "pruned $name (older than $KEEP_SECONDS s)"
  fi
done
"#;

/// Sets BACKUP to the newest dump under `target/$DEST/` when it is `latest`.
const PICK: &str = r#"if [ "$BACKUP" = latest ]; then
  BACKUP=$(mc ls "target/$DEST/" | while IFS= read -r line; do
    name=${line##* }
    case $name in [0-9]*T*Z*) printf '%s\n' "$name" ;; esac
  done | sort | tail -n 1)
fi
if [ -z "$BACKUP" ]; then
  echo "no backup under $DEST" >&2
  exit 1
fi
"#;

/// A step run by the datastore's own image: an engine's dump (one file named
/// after the UTC time into BACKUP_DIR, checked before it is kept) or restore
/// (of the fetched file).
fn engine_script(body: &str) -> String {
    format!("set -eu\n{body}")
}

/// Offline backups: the `hold` container (a native sidecar, the datastore's
/// own image, which offers sh, wget and jq; `--no-hsts`: wget would otherwise try to write its HSTS
/// file into the read-only home). It scales the StatefulSet to 0 through the Kubernetes API,
/// waits until no pod is left, marks HOLD_DIR/stopped (its startup probe,
/// which lets the next containers start), and on SIGTERM — sent when the
/// pod's work ends, failed or not, or its deadline passes — scales it back
/// to REPLICAS, the generated count (not the count it found: a restarted
/// hold would find 0).
pub fn hold_script() -> String {
    format!(
        r#"set -eu
api=https://kubernetes.default.svc
sts="$api/apis/apps/v1/namespaces/$NAMESPACE/statefulsets/$STATEFULSET"
call() {{
  wget -q -O- --no-hsts --ca-certificate={TOKEN_DIR}/ca.crt \
    --header="Authorization: Bearer $(cat {TOKEN_DIR}/token)" "$@"
}}
scale() {{
  call --method=PATCH --header='Content-Type: application/merge-patch+json' \
    --body-data="{{\"spec\":{{\"replicas\":$1}}}}" "$sts/scale" >/dev/null
}}
restart() {{
  trap - TERM INT
  until scale "$REPLICAS"; do sleep 2; done
  echo "scaled $STATEFULSET back to $REPLICAS"
  exit 0
}}
trap restart TERM INT
scale 0
echo "scaled $STATEFULSET to 0; waiting for its pods to exit"
# (Compared as text: jq 1.6, in Neo4j's image, exits 0 on empty input.)
until [ "$(call "$sts" | jq -r '.status.replicas // 0')" = 0 ]; do sleep 2; done
touch "$HOLD_DIR/stopped"
echo "$STATEFULSET is stopped"
while :; do sleep 1; done
"#
    )
}

/// The upload step (the `mc` image): every file of BACKUP_DIR to the bucket,
/// then retention.
pub fn upload_script() -> String {
    format!(
        "set -eu\n{MC_TARGET}for file in \"$BACKUP_DIR\"/*; do\n  mc cp --quiet \"$file\" \"target/$DEST/${{file##*/}}\" >/dev/null\n  \
         echo \"uploaded ${{file##*/}} to $DEST\"\ndone\n{PRUNE}"
    )
}

/// Mirror backups: the engine's `source` alias and `mirror` copy, then retention.
fn mirror_script(source: &str, mirror: &str) -> String {
    format!("set -eu\n{MC_TARGET}{source}{mirror}{PRUNE}")
}

/// The fetch step of a restore (the `mc` image): BACKUP (a name, or
/// `latest`) from the bucket into BACKUP_DIR.
pub fn fetch_script() -> String {
    format!(
        "set -eu\n{MC_TARGET}{PICK}mc cp --quiet \"target/$DEST/$BACKUP\" \"$BACKUP_DIR/$BACKUP\" >/dev/null\n\
         echo \"fetched $BACKUP from $DEST\"\n"
    )
}

/// Mirror restores: the engine's `source` alias, the chosen prefix, and its
/// `unmirror` copy back into the datastore.
fn unmirror_script(source: &str, unmirror: &str) -> String {
    format!("set -eu\n{MC_TARGET}{source}{PICK}{unmirror}")
}

// ---- objects ---------------------------------------------------------------

/// Title of the RUNBOOK.md section that restores datastore `name`; the backup
/// alerts link to it.
pub fn restore_title(name: &str) -> String {
    format!("Restore {name}")
}

/// Also the name of the ServiceAccount of the backup and restore pods.
pub fn backup_name(store: &Store) -> String {
    format!("{}-backup", store.name)
}

pub fn restore_name(store: &Store) -> String {
    format!("{}-restore", store.name)
}

/// Whether CronJob `namespace/name` is the restore template of one of the
/// datastores: it never runs, so alerts and dashboards about backups leave
/// it out even when the datastore's name says backup.
pub fn is_restore(r: &Resolved, namespace: &str, name: &str) -> bool {
    r.datastores.iter().any(|d| d.namespace == namespace && restore_name(d) == name)
}

/// Pods of the backup CronJob and the restore Job of `store`.
fn pods_selector(r: &Resolved, store: &Store) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([("app.kubernetes.io/part-of".to_string(), r.platform.clone())])),
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: "app.kubernetes.io/name".into(),
            operator: "In".into(),
            values: Some(vec![backup_name(store), restore_name(store)]),
        }]),
    }
}

fn ns_selector(ns: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())])),
        ..Default::default()
    }
}

fn tcp_port(port: u16) -> net::NetworkPolicyPort {
    net::NetworkPolicyPort {
        port: Some(IntOrString::Int(port.into())),
        protocol: Some("TCP".into()),
        ..Default::default()
    }
}

/// The rules a datastore's own policy needs for its backups: ingress from
/// the backup and restore pods on its client port, and egress to the
/// restore pod when the engine's restore replicates from it (Redis).
pub fn datastore_rules(
    r: &Resolved,
    store: &Store,
) -> (Vec<net::NetworkPolicyIngressRule>, Vec<net::NetworkPolicyEgressRule>) {
    let Ok(engine) = store.engine.backup() else { return (Vec::new(), Vec::new()) };
    if r.backup.is_none() || store.backup.is_none() || engine.offline {
        return (Vec::new(), Vec::new());
    }
    let peer = net::NetworkPolicyPeer {
        namespace_selector: Some(ns_selector(&store.namespace)),
        pod_selector: Some(pods_selector(r, store)),
        ..Default::default()
    };
    let ingress = vec![net::NetworkPolicyIngressRule {
        from: Some(vec![peer.clone()]),
        ports: Some(vec![tcp_port(store.engine.client_port())]),
    }];
    let egress = match engine.restore_port {
        Some(port) => vec![net::NetworkPolicyEgressRule { to: Some(vec![peer]), ports: Some(vec![tcp_port(port)]) }],
        None => Vec::new(),
    };
    (ingress, egress)
}

/// The bucket endpoint's host and port.
fn endpoint_port(endpoint: &str) -> u16 {
    let (https, rest) = match endpoint.strip_prefix("https://") {
        Some(rest) => (true, rest),
        None => (false, endpoint.strip_prefix("http://").unwrap_or(endpoint)),
    };
    rest.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or(if https { 443 } else { 80 })
}

/// Everything for the backups of one environment.
pub fn backups(r: &Resolved, stack: &mut Stack) {
    let Some(t) = &r.backup else { return };
    let mut namespaces: Vec<&str> = Vec::new();
    for store in &r.datastores {
        let Some(b) = &store.backup else { continue };
        let Ok(engine) = store.engine.backup() else { continue };
        datastore_backup(r, t, store, b, engine, stack);
        namespaces.push(&store.namespace);
    }
    namespaces.sort_unstable();
    namespaces.dedup();
    for ns in namespaces {
        stack.secrets.push(SecretSource {
            name: t.credentials.clone(),
            namespace: ns.to_string(),
            file: format!("{}.env", t.credentials),
            keys: vec!["AWS_ACCESS_KEY_ID".into(), "AWS_SECRET_ACCESS_KEY".into()],
        });
    }
    velero(r, t, stack);
}

/// Velero Schedules: every namespace of the platform, with volume snapshots.
fn velero(r: &Resolved, t: &BackupTarget, stack: &mut Stack) {
    let namespaces: Vec<String> = r.namespaces().into_iter().map(str::to_string).collect();
    for (kind, cron, keep) in &t.velero {
        let name = format!("{}-{kind}", r.platform);
        let labels = labels(&r.platform, &name, "backup");
        let hours = keep.get() / 3600;
        let rest = keep.get() % 3600;
        let ttl = format!("{hours}h{}m{}s", rest / 60, rest % 60);
        let value = json!({
            "apiVersion": "velero.io/v1",
            "kind": "Schedule",
            "metadata": { "name": name, "namespace": t.velero_namespace, "labels": labels },
            "spec": {
                // Velero reads the schedule in the server's time zone: UTC in its image.
                "schedule": cron,
                "useOwnerReferencesInBackup": false,
                "template": {
                    "includedNamespaces": namespaces,
                    "includeClusterResources": false,
                    "snapshotVolumes": true,
                    "ttl": ttl,
                    "metadata": { "labels": labels },
                },
            },
        });
        stack.objects.push(Object {
            api_version: "velero.io/v1".into(),
            kind: "Schedule".into(),
            name,
            namespace: Some(t.velero_namespace.clone()),
            value,
        });
    }
}

struct Pieces {
    volumes: Vec<core::Volume>,
    mounts: Vec<core::VolumeMount>,
}

/// What the backup CronJob, the restore Job and their NetworkPolicy of one
/// datastore share.
struct Pods<'a> {
    r: &'a Resolved,
    store: &'a Store,
    engine: Backup,
    /// The bucket's side (the mc containers) and the datastore's side (the
    /// datastore's image): each container gets only the credentials it uses.
    bucket_env: Vec<core::EnvVar>,
    store_env: Vec<core::EnvVar>,
    pieces: Pieces,
    /// Offline backups: the hold container, and the mounts of the
    /// containers that read the datastore's volume (see `offline_pod`).
    hold: Option<core::Container>,
    volume_mounts: Vec<core::VolumeMount>,
}

fn datastore_backup(r: &Resolved, t: &BackupTarget, store: &Store, b: &StoreBackup, engine: Backup, stack: &mut Stack) {
    let pods = Pods::new(r, t, store, engine, stack);
    let sa = backup_name(store);
    stack.push(&core::ServiceAccount {
        metadata: meta(&sa, &store.namespace, &labels(&r.platform, &sa, "backup")),
        automount_service_account_token: Some(false),
        ..Default::default()
    });
    pods.cron_job(b, stack);
    pods.restore_job(stack);
    pods.network_policy(t, stack);
}

impl<'a> Pods<'a> {
    fn new(r: &'a Resolved, t: &BackupTarget, store: &'a Store, engine: Backup, stack: &mut Stack) -> Pods<'a> {
        let secret = format!("{}-credentials", store.name);
        let bucket_env = vec![
            env_value("BACKUP_DIR", BACKUP_DIR),
            env_value("DEST", &key_prefix(r, t, store)),
            env_value("S3_ENDPOINT", &t.endpoint),
            env_secret("AWS_ACCESS_KEY_ID", &t.credentials, "AWS_ACCESS_KEY_ID"),
            env_secret("AWS_SECRET_ACCESS_KEY", &t.credentials, "AWS_SECRET_ACCESS_KEY"),
            env_value("HOME", "/tmp"),
        ];
        let mut store_env = vec![env_value("BACKUP_DIR", BACKUP_DIR)];
        store_env.extend((engine.env)(&store.instance()).iter().map(|e| env_var(e, &secret)));
        let (v_backup, m_backup) = scratch("backup", BACKUP_DIR);
        let (v_tmp, m_tmp) = scratch("tmp", "/tmp");
        // The dump may be as large as the data.
        let v_backup = core::Volume {
            empty_dir: Some(core::EmptyDirVolumeSource {
                size_limit: store.storage.map(quantity),
                ..Default::default()
            }),
            ..v_backup
        };
        let mut pieces = Pieces { volumes: vec![v_backup, v_tmp], mounts: vec![m_backup, m_tmp] };
        let (hold, volume_mounts) =
            if engine.offline { offline_pod(r, store, &mut pieces, stack) } else { Default::default() };
        Pods { r, store, engine, bucket_env, store_env, pieces, hold, volume_mounts }
    }

    /// A mirror's single mc container works on both sides.
    fn both_env(&self) -> Vec<core::EnvVar> {
        let mut e = self.bucket_env.clone();
        e.extend(self.store_env.iter().filter(|v| v.name != "BACKUP_DIR").cloned());
        e
    }

    /// A container of the datastore's image (an engine's dump or restore).
    fn store_container(&self, name: &str, body: &str, env: &[core::EnvVar]) -> core::Container {
        let mut c = container(name, &self.store.image, engine_script(body), env, &self.pieces.mounts);
        if !self.volume_mounts.is_empty() {
            c.volume_mounts = Some([self.pieces.mounts.clone(), self.volume_mounts.clone()].concat());
        }
        if let Some(Sizes { cpu, memory, limit }) = self.engine.resources {
            c.resources = Some(resources(cpu, memory, limit));
        }
        c
    }

    /// The backup: dump (datastore image), then upload and prune (mc); or
    /// one mirror (mc).
    fn cron_job(&self, b: &StoreBackup, stack: &mut Stack) {
        let mounts = &self.pieces.mounts;
        let keep = env_value("KEEP_SECONDS", &b.keep.get().to_string());
        let (init, main) = match self.engine.method {
            Method::Mirror { source, mirror, .. } => {
                let env = [self.both_env(), vec![keep]].concat();
                (Vec::new(), container("mirror", MC_IMAGE, mirror_script(source, mirror), &env, mounts))
            }
            Method::Dump { dump, .. } => {
                let env = [self.bucket_env.clone(), vec![keep]].concat();
                let dump = self.store_container("dump", dump, &self.store_env);
                let init = match &self.hold {
                    Some(h) => vec![h.clone(), dump],
                    None => vec![dump],
                };
                (init, container("upload", MC_IMAGE, upload_script(), &env, mounts))
            }
        };
        let name = backup_name(self.store);
        let labels = labels(&self.r.platform, &name, "backup");
        let deadline = i64::from(b.every.get().clamp(600, 6 * 3600));
        stack.push(&batch::CronJob {
            metadata: meta(&name, &self.store.namespace, &labels),
            spec: Some(batch::CronJobSpec {
                schedule: b.cron.clone(),
                time_zone: Some("Etc/UTC".into()),
                concurrency_policy: Some("Forbid".into()),
                starting_deadline_seconds: Some(600),
                successful_jobs_history_limit: Some(3),
                failed_jobs_history_limit: Some(3),
                job_template: batch::JobTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(labels.clone()), ..Default::default() }),
                    spec: Some(self.job_spec(&labels, init, main, deadline)),
                },
                ..Default::default()
            }),
            ..Default::default()
        });
    }

    /// The restore: fetch (mc), then restore (datastore image); or one
    /// mirror back (mc). Which dump is read from a ConfigMap, so that it can
    /// be changed without touching the Job (whose template is immutable).
    fn restore_job(&self, stack: &mut Stack) {
        let (store, mounts) = (self.store, &self.pieces.mounts);
        let rname = restore_name(store);
        let labels = labels(&self.r.platform, &rname, "backup");
        stack.push(&core::ConfigMap {
            metadata: meta(&rname, &store.namespace, &labels),
            data: Some(BTreeMap::from([("BACKUP".to_string(), "latest".to_string())])),
            ..Default::default()
        });
        let which = core::EnvVar {
            name: "BACKUP".into(),
            value_from: Some(core::EnvVarSource {
                config_map_key_ref: Some(core::ConfigMapKeySelector {
                    name: rname.clone(),
                    key: "BACKUP".into(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let (init, mut main) = match self.engine.method {
            Method::Mirror { source, unmirror, .. } => {
                let env = [self.both_env(), vec![which]].concat();
                (Vec::new(), container("restore", MC_IMAGE, unmirror_script(source, unmirror), &env, mounts))
            }
            Method::Dump { restore, .. } => {
                let env = [self.bucket_env.clone(), vec![which]].concat();
                let fetch = container("fetch", MC_IMAGE, fetch_script(), &env, mounts);
                let init = match &self.hold {
                    Some(h) => vec![fetch, h.clone()],
                    None => vec![fetch],
                };
                (init, self.store_container("restore", restore, &self.restore_env()))
            }
        };
        if let Some(port) = self.engine.restore_port {
            main.ports = Some(vec![core::ContainerPort {
                name: Some("restore".into()),
                container_port: port.into(),
                protocol: Some("TCP".into()),
                ..Default::default()
            }]);
        }
        // A suspended CronJob that never comes due, as a template: the
        // operator starts a Job from it (RUNBOOK.md). A Job applied with the
        // stack would be refused at the next version bump (its template is
        // immutable); a CronJob's job template changes in place.
        stack.push(&batch::CronJob {
            metadata: meta(&rname, &store.namespace, &labels),
            spec: Some(batch::CronJobSpec {
                schedule: crate::model::cron::NEVER.into(),
                suspend: Some(true),
                job_template: batch::JobTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(labels.clone()), ..Default::default() }),
                    spec: Some(self.job_spec(&labels, init, main, 4 * 3600)),
                },
                ..Default::default()
            }),
            ..Default::default()
        });
    }

    /// The restore step's environment: a restore the live server replicates
    /// from serves on RESTORE_PORT at POD_IP.
    fn restore_env(&self) -> Vec<core::EnvVar> {
        let mut env = self.store_env.clone();
        if let Some(port) = self.engine.restore_port {
            env.push(env_value("RESTORE_PORT", &port.to_string()));
            env.push(core::EnvVar {
                name: "POD_IP".into(),
                value_from: Some(core::EnvVarSource {
                    field_ref: Some(core::ObjectFieldSelector {
                        field_path: "status.podIP".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        env
    }

    /// Network: DNS comes from the namespace's allow-dns policy; these pods
    /// reach their datastore (offline: the Kubernetes API) and the bucket,
    /// and the datastore reaches a restore it replicates from.
    fn network_policy(&self, t: &BackupTarget, stack: &mut Stack) {
        let (r, store) = (self.r, self.store);
        let ns = store.namespace.as_str();
        let peer_store = net::NetworkPolicyPeer {
            namespace_selector: Some(ns_selector(ns)),
            pod_selector: Some(selector(&r.platform, &store.name)),
            ..Default::default()
        };
        let datastore_or_api = if self.engine.offline {
            // The Kubernetes API, for the hold container: its address is the
            // cluster's, so only its ports can be opened (443 through the
            // `kubernetes` Service, 6443 direct).
            net::NetworkPolicyEgressRule { to: None, ports: Some(vec![tcp_port(443), tcp_port(6443)]) }
        } else {
            net::NetworkPolicyEgressRule {
                to: Some(vec![peer_store.clone()]),
                ports: Some(vec![tcp_port(store.engine.client_port())]),
            }
        };
        let mut egress = vec![
            datastore_or_api,
            net::NetworkPolicyEgressRule {
                to: Some(vec![bucket_peer(r, t)]),
                ports: Some(vec![tcp_port(endpoint_port(&t.endpoint))]),
            },
        ];
        egress.dedup();
        let ingress: Vec<_> = self
            .engine
            .restore_port
            .map(|port| net::NetworkPolicyIngressRule {
                from: Some(vec![peer_store]),
                ports: Some(vec![tcp_port(port)]),
            })
            .into_iter()
            .collect();
        let mut types = vec!["Egress".to_string()];
        if !ingress.is_empty() {
            types.insert(0, "Ingress".into());
        }
        let name = backup_name(store);
        stack.push(&net::NetworkPolicy {
            metadata: meta(&name, ns, &labels(&r.platform, &name, "network-policy")),
            spec: Some(net::NetworkPolicySpec {
                pod_selector: Some(pods_selector(r, store)),
                policy_types: Some(types),
                ingress: (!ingress.is_empty()).then_some(ingress),
                egress: Some(egress),
            }),
        });
    }

    fn job_spec(
        &self,
        labels: &BTreeMap<String, String>,
        init: Vec<core::Container>,
        main: core::Container,
        deadline: i64,
    ) -> batch::JobSpec {
        // Under Istio the datastores accept mutual TLS only (PeerAuthentication
        // STRICT), so these pods need a sidecar; a classic one would keep the Job
        // running forever and start after the init containers that dump. A
        // native sidecar (an init container that keeps running, Kubernetes 1.28+)
        // starts first and stops with the Job.
        let annotations = (self.r.mesh == crate::description::Mesh::Istio)
            .then(|| BTreeMap::from([("sidecar.istio.io/nativeSidecar".to_string(), "true".to_string())]));
        let spec = batch::JobSpec {
            backoff_limit: Some(2),
            active_deadline_seconds: Some(deadline),
            template: core::PodTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels.clone()), annotations, ..Default::default() }),
                spec: Some(core::PodSpec {
                    restart_policy: Some("Never".into()),
                    service_account_name: Some(backup_name(self.store)),
                    automount_service_account_token: Some(false),
                    security_context: Some(pod_security(self.store.engine.user())),
                    init_containers: (!init.is_empty()).then_some(init),
                    containers: vec![main],
                    volumes: Some(self.pieces.volumes.clone()),
                    enable_service_links: Some(false),
                    ..Default::default()
                }),
            },
            ..Default::default()
        };
        if self.engine.offline { beside(self.r, self.store, spec) } else { spec }
    }
}

/// Requests and a memory limit.
fn resources(cpu: &str, memory: &str, limit: &str) -> core::ResourceRequirements {
    core::ResourceRequirements {
        requests: Some(BTreeMap::from([("cpu".to_string(), quantity(cpu)), ("memory".to_string(), quantity(memory))])),
        limits: Some(BTreeMap::from([("memory".to_string(), quantity(limit))])),
        ..Default::default()
    }
}

/// An offline backup's pods: adds to `pieces` the datastore's volume claim,
/// the engine's scratch paths (its tools write there too), the hold
/// container's marker folder and its token; pushes the Role and RoleBinding
/// that let the hold container scale the StatefulSet (and nothing else).
/// Returns the hold container and the mounts of the containers that read
/// the volume.
fn offline_pod(
    r: &Resolved,
    store: &Store,
    pieces: &mut Pieces,
    stack: &mut Stack,
) -> (Option<core::Container>, Vec<core::VolumeMount>) {
    let mounts = volume_mounts(store, pieces);
    let (v_hold, m_hold) = scratch("hold", HOLD_DIR);
    pieces.volumes.push(v_hold);
    // The pod mounts no token; this volume gives one to the hold container alone.
    pieces.volumes.push(token_volume());
    let hold = hold_container(store, m_hold);
    scale_role(r, store, stack);
    (Some(hold), mounts)
}

/// The datastore's volume claim and the engine's scratch paths, as volumes
/// of the pod and mounts of the containers that read the volume.
fn volume_mounts(store: &Store, pieces: &mut Pieces) -> Vec<core::VolumeMount> {
    // The volume claim of pod 0 (the datastore runs one replica): ReadWriteOnce
    // lets pods on the same node share it, hence `beside`.
    pieces.volumes.push(core::Volume {
        name: "data".into(),
        persistent_volume_claim: Some(core::PersistentVolumeClaimVolumeSource {
            claim_name: format!("data-{}-0", store.name),
            read_only: None,
        }),
        ..Default::default()
    });
    let mut mounts = vec![core::VolumeMount {
        name: "data".into(),
        mount_path: store.engine.data_path().into(),
        ..Default::default()
    }];
    // The image's own scratch paths, but /tmp, which every backup pod mounts
    // already.
    let mounted: Vec<String> = pieces.mounts.iter().map(|m| m.mount_path.clone()).collect();
    let paths = store.engine.scratch_paths().iter().filter(|p| !mounted.iter().any(|m| m == *p));
    for (i, path) in paths.enumerate() {
        let (v, m) = scratch(&format!("{}-{i}", store.engine.name()), path);
        pieces.volumes.push(v);
        mounts.push(m);
    }
    mounts
}

/// A service account token and the cluster's CA, projected for the hold
/// container (the pod mounts none).
fn token_volume() -> core::Volume {
    core::Volume {
        name: "token".into(),
        projected: Some(core::ProjectedVolumeSource {
            sources: Some(vec![
                core::VolumeProjection {
                    service_account_token: Some(core::ServiceAccountTokenProjection {
                        path: "token".into(),
                        expiration_seconds: Some(3600),
                        audience: None,
                    }),
                    ..Default::default()
                },
                core::VolumeProjection {
                    config_map: Some(core::ConfigMapProjection {
                        name: "kube-root-ca.crt".into(),
                        items: Some(vec![core::KeyToPath { key: "ca.crt".into(), path: "ca.crt".into(), mode: None }]),
                        optional: None,
                    }),
                    ..Default::default()
                },
            ]),
            default_mode: None,
        }),
        ..Default::default()
    }
}

/// The hold container: scales the StatefulSet to 0, marks it stopped, and
/// scales it back when the pod is done.
fn hold_container(store: &Store, marker: core::VolumeMount) -> core::Container {
    let env = vec![
        env_value("NAMESPACE", &store.namespace),
        env_value("STATEFULSET", &store.name),
        env_value("REPLICAS", "1"),
        env_value("HOLD_DIR", HOLD_DIR),
    ];
    let token = core::VolumeMount {
        name: "token".into(),
        mount_path: TOKEN_DIR.into(),
        read_only: Some(true),
        ..Default::default()
    };
    let mut hold = container("hold", &store.image, hold_script(), &env, &[marker, token]);
    hold.resources = Some(resources("10m", "32Mi", "64Mi"));
    // A native sidecar: it keeps running beside the next containers, which
    // start once its startup probe passes (the database is stopped), and
    // it is stopped (SIGTERM) when they are done.
    hold.restart_policy = Some("Always".into());
    hold.startup_probe = Some(core::Probe {
        exec: Some(core::ExecAction { command: Some(vec!["test".into(), "-e".into(), format!("{HOLD_DIR}/stopped")]) }),
        period_seconds: Some(2),
        failure_threshold: Some(300),
        ..Default::default()
    });
    hold
}

/// The Role and RoleBinding that let the backup pods' account read the
/// StatefulSet and patch its scale, and nothing else.
fn scale_role(r: &Resolved, store: &Store, stack: &mut Stack) {
    let ns = store.namespace.as_str();
    let sa = backup_name(store);
    let labels = labels(&r.platform, &sa, "backup");
    let role = format!("{}-scale", sa);
    let rules = vec![
        rbac::PolicyRule {
            api_groups: Some(vec!["apps".into()]),
            resources: Some(vec!["statefulsets".into()]),
            resource_names: Some(vec![store.name.clone()]),
            verbs: vec!["get".into()],
            ..Default::default()
        },
        rbac::PolicyRule {
            api_groups: Some(vec!["apps".into()]),
            resources: Some(vec!["statefulsets/scale".into()]),
            resource_names: Some(vec![store.name.clone()]),
            verbs: vec!["get".into(), "patch".into()],
            ..Default::default()
        },
    ];
    stack.push_role(meta(&role, ns, &labels), rules, &sa, ns);
}

/// Offline backups: the pod must run on the node of the datastore's pod, to
/// mount its ReadWriteOnce volume.
fn beside(r: &Resolved, store: &Store, mut spec: batch::JobSpec) -> batch::JobSpec {
    let Some(pod) = spec.template.spec.as_mut() else { return spec };
    pod.affinity = Some(core::Affinity {
        pod_affinity: Some(core::PodAffinity {
            required_during_scheduling_ignored_during_execution: Some(vec![core::PodAffinityTerm {
                label_selector: Some(selector(&r.platform, &store.name)),
                topology_key: "kubernetes.io/hostname".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    });
    spec
}

/// The bucket's address for a network policy: a datastore of the platform
/// when the endpoint is its in-cluster name, otherwise any public address.
fn bucket_peer(r: &Resolved, t: &BackupTarget) -> net::NetworkPolicyPeer {
    let host = t.endpoint.split("://").nth(1).unwrap_or("").split(':').next().unwrap_or("");
    for d in &r.datastores {
        if host == fqdn(&d.name, &d.namespace) || host == format!("{}.{}.svc", d.name, d.namespace) {
            return net::NetworkPolicyPeer {
                namespace_selector: Some(ns_selector(&d.namespace)),
                pod_selector: Some(selector(&r.platform, &d.name)),
                ..Default::default()
            };
        }
    }
    net::NetworkPolicyPeer {
        ip_block: Some(net::IPBlock {
            cidr: "0.0.0.0/0".into(),
            except: Some(super::network::PRIVATE.iter().map(|c| c.to_string()).collect()),
        }),
        ..Default::default()
    }
}

fn container(
    name: &str,
    image: &str,
    script: String,
    env: &[core::EnvVar],
    mounts: &[core::VolumeMount],
) -> core::Container {
    core::Container {
        name: name.into(),
        image: Some(image.into()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: Some(vec!["sh".into(), "-c".into(), script]),
        env: Some(env.to_vec()),
        resources: Some(resources("100m", "128Mi", "512Mi")),
        security_context: Some(container_security()),
        volume_mounts: Some(mounts.to_vec()),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}
