//! Neo4j Community Edition: the official image, no metrics endpoint (only
//! Enterprise serves one), and `neo4j-admin database dump` / `load` for
//! backups, which work on a stopped database only (an offline backup).

use super::*;

const PASSWORD: &str = "NEO4J_PASSWORD";
/// The server's variable holding the password: not `NEO4J_*`.
const AUTH_VAR: &str = "AUTH_PASSWORD";
/// The database that is dumped and loaded (Community Edition has one
/// besides `system`).
const DATABASE: &str = "neo4j";

pub static NEO4J: Definition = Definition {
    name: "neo4j",
    image: Image { repository: "docker.io/library/neo4j", version: "5.24.1" },
    images: &["neo4j"],
    user: 7474,
    ports: &[Port::tcp("bolt", 7687), Port::http("http", 7474)],
    data_path: "/data",
    // The image's entrypoint appends a line to conf/neo4j.conf for each
    // NEO4J_* variable: conf is an emptyDir seeded with the image's files.
    scratch_paths: &["/logs", "/var/lib/neo4j/run", "/var/lib/neo4j/conf", "/tmp"],
    seeded_paths: &["/var/lib/neo4j/conf"],
    memory_path: None,
    evicts: false,
    credential_keys: &[PASSWORD],
    without_auth: Err("kubeproof wires neo4j clients with a user and password, and the server's own procedures run as that user: keep a password"),
    settings: &[],
    default_requests: (Cpu::from_millis(500), Bytes(2048 * MI)),
    server: Server {
        // The entrypoint writes every NEO4J_* variable but NEO4J_AUTH into
        // neo4j.conf (and strict validation refuses unknown settings): the
        // password comes under another name, composed into NEO4J_AUTH.
        env: |_| {
            vec![
                Env::secret(AUTH_VAR, PASSWORD),
                Env::value("NEO4J_AUTH", format!("neo4j/$({AUTH_VAR})")),
                Env::value("NEO4J_server_directories_logs", "/logs"),
            ]
        },
        command: None,
        args: image_cmd,
        liveness: Probe { check: Check::Tcp("bolt"), period: 10, timeout: 3 },
        readiness: Probe { check: Check::Http { path: "/", port: "http" }, period: 5, timeout: 3 },
    },
    wiring: |p, _| Wiring {
        config: vec![(format!("{p}_USER"), "neo4j".to_string())],
        env: vec![
            Env::secret(format!("{p}_PASSWORD"), PASSWORD),
            Env::value(format!("{p}_URI"), format!("bolt://$({p}_HOST):$({p}_PORT)")),
        ],
    },
    metrics: Err("Neo4j Community serves no Prometheus endpoint (only Enterprise does)"),
    backup: Ok(Backup {
        method: Method::Dump { extension: "dump", dump: DUMP, restore: RESTORE },
        env: |_| {
            vec![
                Env::value("NEO4J_DATABASE", DATABASE),
                // neo4j-admin's JVM heap; the container's limit leaves room beside it.
                Env::value("HEAP_SIZE", "512m"),
            ]
        },
        offline: true,
        restore_port: None,
        resources: Some(Sizes { cpu: "250m", memory: "768Mi", limit: "1Gi" }),
        runbook: |d| RestoreText {
            what: format!(
                "Neo4j Community Edition dumps and loads only a stopped database. The backup CronJob and the \
                 restore Job run on the node of `{name}-0` and mount its volume; their `hold` container scales \
                 the StatefulSet `{name}` to 0, waits until its pod has exited, and scales it back to 1 when the \
                 pod ends, whether the dump or load worked or not: **`{name}` is down while a backup or restore \
                 runs** (minutes per GB). The restore runs `neo4j-admin database load \
                 --overwrite-destination=true` on the database `{DATABASE}`: the whole database is replaced by \
                 the dump's.",
                name = d.name
            ),
            check: format!(
                "kubectl -n {ns} rollout status statefulset/{name}\n   kubectl -n {ns} exec statefulset/{name} \
                 -- sh -c 'cypher-shell -u neo4j -p \"${AUTH_VAR}\" \"MATCH (n) RETURN count(n)\"'",
                ns = d.namespace,
                name = d.name
            ),
        },
    }),
    client_check: None,
};

const DUMP: &str = r#"name="$(date -u +%Y%m%dT%H%M%SZ).dump"
# The database is stopped (the hold container waited for it); the dump reads
# its store files from the volume.
mkdir "$BACKUP_DIR/out"
neo4j-admin database dump "$NEO4J_DATABASE" --to-path="$BACKUP_DIR/out"
test -s "$BACKUP_DIR/out/$NEO4J_DATABASE.dump"
mv "$BACKUP_DIR/out/$NEO4J_DATABASE.dump" "$BACKUP_DIR/$name"
rmdir "$BACKUP_DIR/out"
echo "dumped $NEO4J_DATABASE to $name ($(wc -c <"$BACKUP_DIR/$name") bytes)"
"#;

const RESTORE: &str = r#"file=$(ls "$BACKUP_DIR"/*.dump)
# `load` reads DATABASE.dump from a folder and replaces the whole database;
# the hold container has stopped it.
mkdir "$BACKUP_DIR/in"
mv "$file" "$BACKUP_DIR/in/$NEO4J_DATABASE.dump"
neo4j-admin database load "$NEO4J_DATABASE" --from-path="$BACKUP_DIR/in" --overwrite-destination=true
echo "restored ${file##*/} into $NEO4J_DATABASE"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_images() {
        assert_eq!(by_image("docker.io/library/neo4j:5.24.1"), Some(Known { name: "neo4j", client_port: 7687 }));
        assert_eq!(by_image("neo4j:5-enterprise").map(|k| k.name), Some("neo4j"));
    }

    #[test]
    fn defaults() {
        assert_eq!(NEO4J.image().reference(None), "docker.io/library/neo4j:5.24.1");
        assert_eq!(NEO4J.user(), 7474);
        assert_eq!(NEO4J.default_requests(), (Cpu::from_millis(500), Bytes(2048 * MI)));
        assert_eq!(NEO4J.client_port(), 7687);
        let w = NEO4J.wiring("GRAPH", &sample());
        assert_eq!(w.config, [("GRAPH_USER".to_string(), "neo4j".to_string())]);
    }

    #[test]
    fn community_edition_has_no_metrics() {
        assert!(NEO4J.metrics().is_err_and(|why| why.contains("only Enterprise")));
    }

    #[test]
    fn backup_is_an_offline_dump_and_load() {
        let b = NEO4J.backup().expect("backups");
        let Method::Dump { extension, dump, restore } = b.method else { panic!("a dump") };
        assert_eq!(extension, "dump");
        assert!(dump.contains("neo4j-admin database dump \"$NEO4J_DATABASE\""));
        assert!(restore.contains("neo4j-admin database load") && restore.contains("--overwrite-destination=true"));
        assert!(b.offline);
        assert!(b.resources.is_some());
        assert!((b.env)(&sample()).contains(&Env::value("NEO4J_DATABASE", "neo4j")));
    }
}
