//! MinIO: the official server image, its own Prometheus endpoint, and
//! `mc mirror` of every bucket to a timestamped prefix for backups.

use super::*;

const PORT: u16 = 9000;
const USER: &str = "MINIO_ROOT_USER";
const PASSWORD: &str = "MINIO_ROOT_PASSWORD";

pub static MINIO: Definition = Definition {
    name: "minio",
    image: Image { repository: "quay.io/minio/minio", version: "RELEASE.2024-10-13T13-34-11Z" },
    images: &["minio"],
    user: 1000,
    ports: &[Port::http("s3", PORT), Port::http("console", 9001)],
    data_path: "/data",
    scratch_paths: &["/tmp"],
    seeded_paths: &[],
    memory_path: None,
    evicts: false,
    credential_keys: &[USER, PASSWORD],
    without_auth: Err("MinIO always has a root user and password; without them it does not start: keep a password"),
    settings: &[],
    default_requests: (Cpu::from_millis(250), Bytes(512 * MI)),
    server: Server {
        env: |_| vec![Env::secret("MINIO_ROOT_USER", USER), Env::secret("MINIO_ROOT_PASSWORD", PASSWORD)],
        command: Some(&["minio"]),
        // MinIO creates its certificates directory at start, by default
        // `$HOME/.minio/certs` on the read-only root: it goes to /tmp.
        args: |_| {
            Some(
                ["server", "/data", "--console-address", ":9001", "--certs-dir", "/tmp/certs"]
                    .map(String::from)
                    .to_vec(),
            )
        },
        liveness: Probe { check: Check::Http { path: "/minio/health/live", port: "s3" }, period: 10, timeout: 3 },
        readiness: Probe { check: Check::Http { path: "/minio/health/ready", port: "s3" }, period: 5, timeout: 3 },
    },
    wiring: |p, _| Wiring {
        config: Vec::new(),
        env: vec![
            Env::secret(format!("{p}_ACCESS_KEY"), USER),
            Env::secret(format!("{p}_SECRET_KEY"), PASSWORD),
            Env::value(format!("{p}_ENDPOINT"), format!("http://$({p}_HOST):$({p}_PORT)")),
        ],
    },
    metrics: Ok(Metrics {
        scrape: Scrape { port_name: "s3", port: PORT, path: "/minio/v2/metrics/cluster" },
        exporter: None,
        // Prometheus scrapes without a bearer token (the NetworkPolicy
        // admits only the monitoring namespace to it besides the clients).
        server_env: &[("MINIO_PROMETHEUS_AUTH_TYPE", "public")],
        down: Down::SCRAPE,
    }),
    backup: Ok(Backup {
        method: Method::Mirror { source: SOURCE, mirror: MIRROR, unmirror: UNMIRROR },
        env: |d| {
            vec![
                Env::value("SOURCE_URL", format!("http://{}:{PORT}", d.host)),
                Env::secret("MINIO_ROOT_USER", USER),
                Env::secret("MINIO_ROOT_PASSWORD", PASSWORD),
            ]
        },
        offline: false,
        restore_port: None,
        resources: None,
        runbook: |d| RestoreText {
            what: "The restore Job mirrors the chosen snapshot prefix back into the datastore's buckets (`mc \
                   mirror --overwrite`): objects of the snapshot are restored, objects created since are kept."
                .to_string(),
            check: format!("kubectl -n {} logs job/{}-restore-run", d.namespace, d.name),
        },
    }),
    client_check: None,
};

const SOURCE: &str = "mc alias set source \"$SOURCE_URL\" \"$MINIO_ROOT_USER\" \"$MINIO_ROOT_PASSWORD\" >/dev/null\n";

const MIRROR: &str = "stamp=$(date -u +%Y%m%dT%H%M%SZ)\nmc mirror --quiet source/ \"target/$DEST/$stamp/\"\n\
                      echo \"mirrored to $DEST/$stamp/\"\n";

const UNMIRROR: &str =
    "mc mirror --quiet --overwrite \"target/$DEST/${BACKUP%/}/\" source/\necho \"restored $BACKUP from $DEST\"\n";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_images() {
        assert_eq!(by_image("quay.io/minio/minio:RELEASE.2024-10-13T13-34-11Z"), Some(Known { name: "minio", client_port: 9000 }));
        assert_eq!(by_image("bitnami/minio:2024").map(|k| k.name), Some("minio"));
    }

    #[test]
    fn defaults() {
        assert_eq!(MINIO.image().reference(None), "quay.io/minio/minio:RELEASE.2024-10-13T13-34-11Z");
        assert_eq!(MINIO.user(), 1000);
        assert!(MINIO.ports().iter().all(|p| p.http));
        let w = MINIO.wiring("FILES", &sample());
        assert!(w.env.contains(&Env::value("FILES_ENDPOINT", "http://$(FILES_HOST):$(FILES_PORT)")));
    }

    #[test]
    fn metrics_from_the_server_without_a_token() {
        let m = MINIO.metrics().expect("metrics");
        assert!(m.exporter.is_none());
        assert_eq!(m.scrape.path, "/minio/v2/metrics/cluster");
        assert_eq!(m.server_env, [("MINIO_PROMETHEUS_AUTH_TYPE", "public")]);
        assert_eq!(m.down, Down::SCRAPE);
    }

    #[test]
    fn backup_mirrors_the_buckets() {
        let b = MINIO.backup().expect("backups");
        let Method::Mirror { source, mirror, unmirror } = b.method else { panic!("a mirror") };
        assert_eq!(b.method.extension(), None);
        assert!(source.starts_with("mc alias set source \"$SOURCE_URL\""));
        assert!(mirror.contains("mc mirror --quiet source/ \"target/$DEST/$stamp/\""));
        assert!(unmirror.contains("mc mirror --quiet --overwrite") && unmirror.ends_with('\n'));
        assert!((b.env)(&sample()).contains(&Env::value("SOURCE_URL", "http://orders.shop.svc.cluster.local:9000")));
    }
}
