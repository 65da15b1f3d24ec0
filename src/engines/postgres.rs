//! PostgreSQL: the official image, a `postgres-exporter` sidecar for
//! metrics, and `pg_dump` / `pg_restore` in custom format for backups.

use super::*;

const PORT: u16 = 5432;
const USER: &str = "POSTGRES_USER";
const PASSWORD: &str = "POSTGRES_PASSWORD";
// Their percent-encoded forms, filled beside them: the kubelet's `$(VAR)`
// cannot encode, and a raw `@` or `/` breaks the URL.
const USER_URL: &str = "POSTGRES_USER_URLENCODED";
const PASSWORD_URL: &str = "POSTGRES_PASSWORD_URLENCODED";
const READY: Check = Check::Exec("pg_isready -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\"");

/// The server accepts connections, and the client's credentials log in to
/// its database; a few tries, as a new pod's network policy may take a
/// moment to apply.
const CLIENT_CHECK: &str = r#"for try in 1 2 3; do
  if pg_isready -t 5 && psql -v ON_ERROR_STOP=1 -qtAc 'SELECT 1' >/dev/null; then
    echo "logged in to $PGDATABASE at $PGHOST:$PGPORT"
    exit 0
  fi
  [ "$try" = 3 ] || sleep 2
done
exit 1
"#;

/// libpq's own variables, which pg_isready and psql read.
fn client_env(d: &Instance) -> Vec<Env> {
    vec![
        Env::value("PGHOST", &d.host),
        Env::value("PGPORT", PORT.to_string()),
        Env::value("PGDATABASE", d.database),
        Env::value("PGCONNECT_TIMEOUT", "5"),
        Env::secret("PGUSER", USER),
        Env::secret("PGPASSWORD", PASSWORD),
    ]
}

pub static POSTGRES: Definition = Definition {
    name: "postgres",
    image: Image { repository: "docker.io/library/postgres", version: "16.4" },
    // `postgresql`: Bitnami's name for the same server.
    images: &["postgres", "postgresql"],
    user: 999,
    ports: &[Port::tcp("postgres", PORT)],
    data_path: "/var/lib/postgresql/data",
    scratch_paths: &["/var/run/postgresql", "/tmp"],
    seeded_paths: &[],
    // Parallel queries exchange tuples through dynamic shared memory in
    // /dev/shm, which container runtimes cap at 64 MiB: a tmpfs a quarter
    // of the memory limit (it is charged to the same limit).
    memory_path: Some(("/dev/shm", 4)),
    evicts: false,
    credential_keys: &[USER, PASSWORD],
    without_auth: Err("PostgreSQL `trust` admits anyone who reaches the port as any role, superuser included: keep a password (the network policy still limits who reaches it)"),
    settings: &[
        // Below 4 the server refuses to start: 3 connections are reserved for superusers.
        Setting { name: "max_connections", value: SettingValue::Count(4, 262_143) },
        // PostgreSQL's own minimum is 128kB.
        Setting { name: "shared_buffers", value: SettingValue::Memory(128 * 1024) },
    ],
    default_requests: (Cpu::from_millis(250), Bytes(512 * MI)),
    server: Server {
        env: |d| {
            vec![
                Env::secret("POSTGRES_USER", USER),
                Env::secret("POSTGRES_PASSWORD", PASSWORD),
                Env::value("POSTGRES_DB", d.database),
                // A subdirectory: the volume root may hold lost+found.
                Env::value("PGDATA", "/var/lib/postgresql/data/pgdata"),
            ]
        },
        command: None,
        args: |d| Some(args(d)),
        liveness: Probe { check: READY, period: 10, timeout: 5 },
        readiness: Probe { check: READY, period: 5, timeout: 3 },
    },
    wiring: |p, d| Wiring {
        config: vec![(format!("{p}_DATABASE"), d.database.to_string())],
        env: vec![
            Env::secret(format!("{p}_USER"), USER),
            Env::secret(format!("{p}_PASSWORD"), PASSWORD),
            Env::secret(format!("{p}_USER_URLENCODED"), USER_URL),
            Env::secret(format!("{p}_PASSWORD_URLENCODED"), PASSWORD_URL),
            Env::value(
                format!("{p}_URL"),
                format!(
                    "postgresql://$({p}_USER_URLENCODED):$({p}_PASSWORD_URLENCODED)@$({p}_HOST):$({p}_PORT)/$({p}_DATABASE)"
                ),
            ),
        ],
    },
    metrics: Ok(Metrics {
        scrape: Scrape { port_name: "metrics", port: 9187, path: "/metrics" },
        exporter: Some(Exporter {
            name: "postgres-exporter",
            image: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
            health: "/",
            env: |d| {
                vec![
                    Env::value("DATA_SOURCE_URI", format!("localhost:{PORT}/{}?sslmode=disable", d.database)),
                    Env::secret("DATA_SOURCE_USER", USER),
                    Env::secret("DATA_SOURCE_PASS", PASSWORD),
                ]
            },
        }),
        server_env: &[],
        down: Down { metric: "pg_up", what: "postgres-exporter reports PostgreSQL unreachable (pg_up 0)" },
    }),
    backup: Ok(Backup {
        method: Method::Dump { extension: "dump", dump: DUMP, restore: RESTORE },
        env: |d| {
            vec![
                Env::value("PGHOST", &d.host),
                Env::value("PGPORT", PORT.to_string()),
                Env::value("PGDATABASE", d.database),
                Env::secret("PGUSER", USER),
                Env::secret("PGPASSWORD", PASSWORD),
            ]
        },
        offline: false,
        restore_port: None,
        resources: None,
        runbook: |d| RestoreText {
            what: format!(
                "The restore Job fetches the dump and runs `pg_restore --clean --if-exists --single-transaction` \
                 into the database `{}`: every table, sequence and function of the dump is dropped and \
                 recreated, in one transaction (all or nothing). Objects created after the dump and absent from \
                 it are kept.",
                d.database
            ),
            check: format!(
                "kubectl -n {} exec statefulset/{} -- sh -c 'psql -U \"$POSTGRES_USER\" -d {} -c \"\\\\dt+\"'",
                d.namespace, d.name, d.database
            ),
        },
    }),
    client_check: Some(ClientCheck { script: CLIENT_CHECK, env: client_env }),
};

/// The image's CMD (`postgres`, which its entrypoint runs as the server)
/// with the settings: `shared_buffers` given or a quarter of the memory
/// limit (the image's 128MB default ignores the limit), `max_connections`
/// when given. Sizes in kB, PostgreSQL's unit.
fn args(d: &Instance) -> Vec<String> {
    let buffers = given(d, "shared_buffers").and_then(|b| b.parse::<u64>().ok()).unwrap_or(d.memory_limit / 4);
    let mut args = vec!["postgres".to_string(), "-c".into(), format!("shared_buffers={}kB", buffers / 1024)];
    if let Some(n) = given(d, "max_connections") {
        args.extend(["-c".into(), format!("max_connections={n}")]);
    }
    args
}

const DUMP: &str = r#"name="$(date -u +%Y%m%dT%H%M%SZ).dump"
# Custom format (compressed, restorable table by table with pg_restore).
pg_dump --format=custom --compress=6 --file="$BACKUP_DIR/$name.part"
# A dump pg_restore cannot list is no backup.
pg_restore --list "$BACKUP_DIR/$name.part" >/dev/null
mv "$BACKUP_DIR/$name.part" "$BACKUP_DIR/$name"
echo "dumped $PGDATABASE to $name ($(wc -c <"$BACKUP_DIR/$name") bytes)"
"#;

const RESTORE: &str = r#"file=$(ls "$BACKUP_DIR"/*.dump)
# Drops and recreates every object of the dump, in one transaction: either
# the whole dump is restored or nothing changes.
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$PGDATABASE" "$file"
echo "restored ${file##*/} into $PGDATABASE"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_images() {
        for image in ["docker.io/library/postgres:16.4", "bitnami/postgresql:16", "bitnami/postgresql-repmgr"] {
            assert_eq!(by_image(image), Some(Known { name: "postgres", client_port: 5432 }), "{image}");
        }
        assert_eq!(by_image("quay.io/prometheuscommunity/postgres-exporter:v0.15.0"), None);
    }

    #[test]
    fn defaults() {
        assert_eq!(POSTGRES.image().reference(None), "docker.io/library/postgres:16.4");
        assert_eq!(POSTGRES.image().reference(Some("15.8")), "docker.io/library/postgres:15.8");
        assert_eq!(POSTGRES.default_requests(), (Cpu::from_millis(250), Bytes(512 * MI)));
        assert_eq!(POSTGRES.user(), 999);
        let server = POSTGRES.server(&sample());
        assert!(server.env.contains(&Env::value("POSTGRES_DB", "orders")));
        assert!(matches!(server.readiness.check, Check::Exec(c) if c.starts_with("pg_isready")));
    }

    #[test]
    fn shared_buffers_a_quarter_of_the_limit_unless_set() {
        // The sample's limit is 256Mi: 64Mi of buffers, in kB.
        let args = POSTGRES.server(&sample()).args.expect("args");
        assert_eq!(args, ["postgres", "-c", "shared_buffers=65536kB"]);
        let settings: Vec<(String, String)> = [("max_connections", "40"), ("shared_buffers", "33554432")]
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .into();
        let args = POSTGRES.server(&Instance { settings: &settings, ..sample() }).args.expect("args");
        assert_eq!(args, ["postgres", "-c", "shared_buffers=32768kB", "-c", "max_connections=40"]);
    }

    #[test]
    fn settings_are_checked() {
        const GI: u64 = 1 << 30;
        assert_eq!(POSTGRES.setting("shared_buffers", "256Mi", GI), Ok((256 * MI).to_string()));
        assert_eq!(POSTGRES.setting("max_connections", "200", GI), Ok("200".into()));
        let e = POSTGRES.setting("shared_buffers", "1Gi", GI).expect_err("the whole limit");
        assert_eq!(e.help, "a size such as `128Mi`, at least 128Ki and below the memory limit (1Gi)");
        assert!(POSTGRES.setting("shared_buffers", "64", GI).is_err(), "64 bytes");
        let e = POSTGRES.setting("max_connections", "3", GI).expect_err("below the reserved");
        assert_eq!(e.help, "a whole number from 4 to 262143");
        assert!(POSTGRES.setting("max_connections", "many", GI).is_err());
        let e = POSTGRES.setting("work_mem", "4Mi", GI).expect_err("unknown");
        assert_eq!(e.help, "the settings of postgres: `max_connections`, `shared_buffers`");
        assert!(POSTGRES.without_auth().is_err_and(|why| why.contains("trust")));
    }

    #[test]
    fn clients_get_a_url_with_the_database() {
        let w = POSTGRES.wiring("DB", &sample());
        assert_eq!(w.config, [("DB_DATABASE".to_string(), "orders".to_string())]);
        assert!(w.env.contains(&Env::value("DB_URL", "postgresql://$(DB_USER_URLENCODED):$(DB_PASSWORD_URLENCODED)@$(DB_HOST):$(DB_PORT)/$(DB_DATABASE)")));
    }

    #[test]
    fn metrics_by_exporter_reading_the_database() {
        let m = POSTGRES.metrics().expect("metrics");
        assert_eq!((m.scrape.port, m.down.metric), (9187, "pg_up"));
        let env = (m.exporter.expect("an exporter").env)(&sample());
        assert!(env.contains(&Env::value("DATA_SOURCE_URI", "localhost:5432/orders?sslmode=disable")));
    }

    #[test]
    fn backup_is_a_custom_format_dump_restored_in_one_transaction() {
        let b = POSTGRES.backup().expect("backups");
        let Method::Dump { extension, dump, restore } = b.method else { panic!("a dump") };
        assert_eq!(extension, "dump");
        assert!(dump.contains("pg_dump --format=custom") && dump.contains("pg_restore --list"));
        assert!(restore.contains("pg_restore --clean --if-exists") && restore.contains("--single-transaction"));
        assert!(!b.offline && b.restore_port.is_none());
        let env = (b.env)(&sample());
        assert!(env.contains(&Env::value("PGHOST", "orders.shop.svc.cluster.local")));
        assert!(env.contains(&Env::value("PGDATABASE", "orders")));
        let text = (b.runbook)(&sample());
        assert!(text.what.contains("database `orders`") && text.check.contains("psql"));
    }
}
