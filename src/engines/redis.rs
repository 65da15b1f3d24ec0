//! Redis: the official image with a password and an append-only file, a
//! `redis_exporter` sidecar for metrics, and RDB snapshots for backups — a
//! restore serves the snapshot from its own pod and the live server
//! replicates from it.

use super::*;

const PORT: u16 = 6379;
const PASSWORD: &str = "REDIS_PASSWORD";
// Its percent-encoded form for the URL (the kubelet cannot encode).
const PASSWORD_URL: &str = "REDIS_PASSWORD_URLENCODED";
/// The port of the temporary Redis server a restore replicates from.
const RESTORE_PORT: u16 = 6380;

/// PING answered PONG (with the password when the server asks for one); a
/// few tries, as a new pod's network policy may take a moment to apply.
const CLIENT_CHECK: &str = r#"for try in 1 2 3; do
  reply=$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>&1) || true
  if [ "$reply" = PONG ]; then
    echo "PONG from $REDIS_HOST:$REDIS_PORT"
    exit 0
  fi
  echo "$reply" >&2
  [ "$try" = 3 ] || sleep 2
done
exit 1
"#;

/// REDISCLI_AUTH: redis-cli logs in with it, without `-a` on its command line.
fn client_env(d: &Instance) -> Vec<Env> {
    let mut env = vec![Env::value("REDIS_HOST", &d.host), Env::value("REDIS_PORT", PORT.to_string())];
    if d.auth {
        env.push(Env::secret("REDISCLI_AUTH", PASSWORD));
    }
    env
}

pub static REDIS: Definition = Definition {
    name: "redis",
    image: Image { repository: "docker.io/library/redis", version: "7.4.1" },
    images: &["redis"],
    user: 999,
    ports: &[Port::tcp("redis", PORT)],
    data_path: "/data",
    scratch_paths: &["/tmp"],
    seeded_paths: &[],
    memory_path: None,
    evicts: true,
    credential_keys: &[PASSWORD],
    without_auth: Ok(()),
    settings: &[Setting { name: "maxmemory-policy", value: SettingValue::OneOf(POLICIES) }],
    default_requests: (Cpu::from_millis(100), Bytes(256 * MI)),
    server: Server {
        // REDISCLI_AUTH: redis-cli (probes, exec) logs in without `-a`.
        env: |d| {
            if d.auth { vec![Env::secret("REDIS_PASSWORD", PASSWORD), Env::secret("REDISCLI_AUTH", PASSWORD)] } else { vec![] }
        },
        command: Some(&["sh", "-c"]),
        args: |d| Some(vec![start(d)]),
        liveness: Probe { check: Check::Tcp("redis"), period: 10, timeout: 3 },
        readiness: Probe { check: Check::Exec("redis-cli -h 127.0.0.1 ping | grep -q PONG"), period: 5, timeout: 3 },
    },
    wiring: |p, d| {
        if !d.auth {
            let url = Env::value(format!("{p}_URL"), format!("redis://$({p}_HOST):$({p}_PORT)/0"));
            return Wiring { config: Vec::new(), env: vec![url] };
        }
        Wiring {
            config: Vec::new(),
            env: vec![
                Env::secret(format!("{p}_PASSWORD"), PASSWORD),
                Env::secret(format!("{p}_PASSWORD_URLENCODED"), PASSWORD_URL),
                // `default`, the user Redis 6+ logs `requirepass` into: with an
                // empty user (`redis://:PASSWORD@`) redis-cli 7.0 sends `AUTH ""
                // PASSWORD`, which fails (found by tests/wiring_run.rs).
                Env::value(format!("{p}_URL"), format!("redis://default:$({p}_PASSWORD_URLENCODED)@$({p}_HOST):$({p}_PORT)/0")),
            ],
        }
    },
    metrics: Ok(Metrics {
        scrape: Scrape { port_name: "metrics", port: 9121, path: "/metrics" },
        exporter: Some(Exporter {
            name: "redis-exporter",
            image: "docker.io/oliver006/redis_exporter:v1.66.0",
            health: "/health",
            env: |d| {
                let addr = Env::value("REDIS_ADDR", format!("redis://localhost:{PORT}"));
                if d.auth { vec![addr, Env::secret("REDIS_PASSWORD", PASSWORD)] } else { vec![addr] }
            },
        }),
        server_env: &[],
        down: Down { metric: "redis_up", what: "redis-exporter reports Redis unreachable (redis_up 0)" },
    }),
    backup: Ok(Backup {
        method: Method::Dump { extension: "rdb", dump: DUMP, restore: RESTORE },
        env: |d| {
            let mut env = vec![Env::value("REDIS_HOST", &d.host), Env::value("REDIS_PORT", PORT.to_string())];
            if d.auth {
                env.push(Env::secret("REDISCLI_AUTH", PASSWORD));
            }
            env
        },
        offline: false,
        restore_port: Some(RESTORE_PORT),
        resources: None,
        runbook: |d| RestoreText {
            what: format!(
                "The restore Job fetches the snapshot, serves it from a temporary Redis in its own pod (port \
                 {RESTORE_PORT}), and makes `{name}` a replica of it: the full sync replaces the whole dataset \
                 of `{name}` by the snapshot's; then `{name}` is promoted back (`REPLICAOF NO ONE`). Writes made \
                 during the restore are lost.",
                name = d.name
            ),
            check: format!("kubectl -n {} exec statefulset/{} -- redis-cli info keyspace", d.namespace, d.name),
        },
    }),
    client_check: Some(ClientCheck { script: CLIENT_CHECK, env: client_env }),
};

/// The share of the memory limit Redis may fill with data (`maxmemory`):
/// the rest is for what Redis does not count — the copy-on-write pages of
/// the fork that rewrites the append-only file or snapshots, client and
/// replication buffers, allocator fragmentation.
const MAXMEMORY_PERCENT: u64 = 75;

/// The eviction policies of Redis 7 (`maxmemory-policy`).
const POLICIES: &[&str] = &[
    "noeviction",
    "allkeys-lru",
    "allkeys-lfu",
    "allkeys-random",
    "volatile-lru",
    "volatile-lfu",
    "volatile-random",
    "volatile-ttl",
];

/// The server's start: the password reaches `redis-server` on stdin (a
/// configuration read from `-`), never on a command line (`ps`,
/// /proc/PID/cmdline); `exec` keeps Redis the container's main process.
/// `maxmemory` below the limit with an eviction policy for the role: a
/// cache drops its least recently used keys, anything else refuses writes
/// rather than lose data; a `maxmemory-policy` setting overrides it.
/// Without auth, protected mode (which admits only loopback clients when
/// there is no password) is off: the network policy admits the clients.
fn start(d: &Instance) -> String {
    let maxmemory = d.memory_limit * MAXMEMORY_PERCENT / 100;
    let role_policy = if d.cache { "allkeys-lru" } else { "noeviction" };
    let policy = given(d, "maxmemory-policy").unwrap_or(role_policy);
    if !d.auth {
        let flags = format!("--maxmemory {maxmemory} --maxmemory-policy {policy}");
        return format!("exec redis-server --protected-mode no --appendonly yes --dir /data {flags}\n");
    }
    format!(
        r#"# A config line holds the password in double quotes: escape \ and ".
pw=$(printf '%s' "$REDIS_PASSWORD" | sed 's/[\\"]/\\&/g')
exec redis-server - --appendonly yes --dir /data --maxmemory {maxmemory} --maxmemory-policy {policy} <<EOF
requirepass "$pw"
EOF
"#
    )
}

const DUMP: &str = r#"name="$(date -u +%Y%m%dT%H%M%SZ).rdb"
# A snapshot of the whole dataset, streamed from the server (as a replica would).
redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --rdb "$BACKUP_DIR/$name.part" >/dev/null
redis-check-rdb "$BACKUP_DIR/$name.part" >/dev/null
mv "$BACKUP_DIR/$name.part" "$BACKUP_DIR/$name"
echo "snapshot of $REDIS_HOST to $name ($(wc -c <"$BACKUP_DIR/$name") bytes)"
"#;

/// RESTORE_PORT and POD_IP come from the generator (the engine's
/// `restore_port` and the pod's address).
const RESTORE: &str = r#"file=$(ls "$BACKUP_DIR"/*.rdb)
mv "$file" "$BACKUP_DIR/dump.rdb"
# Serve the snapshot from a temporary server in this pod, make the live
# server a replica of it (a full sync replaces its whole dataset), then
# promote the live server again.
redis-server --bind 0.0.0.0 --port "$RESTORE_PORT" --dir "$BACKUP_DIR" --dbfilename dump.rdb \
  --appendonly no --save "" --repl-diskless-sync-delay 0 --requirepass "$REDISCLI_AUTH" &
temp=$!
trap 'kill "$temp" 2>/dev/null || true' EXIT
# Fails, rather than waiting forever, when that server exits (its port
# taken, a snapshot it cannot load); a ping that gets no answer (another
# program on the port) is given up after 5 s.
serving() {
  kill -0 "$temp" 2>/dev/null && return
  echo "the server of the snapshot on port $RESTORE_PORT exited: nothing restored" >&2
  exit 1
}
until timeout 5 redis-cli -h 127.0.0.1 -p "$RESTORE_PORT" ping 2>/dev/null | grep -q PONG; do serving; sleep 1; done
keys=$(redis-cli -h 127.0.0.1 -p "$RESTORE_PORT" dbsize)
live() { redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" "$@"; }
live config set masterauth "$REDISCLI_AUTH" >/dev/null
live replicaof "$POD_IP" "$RESTORE_PORT" >/dev/null
until live info replication | grep -q '^master_link_status:up'; do serving; sleep 1; done
live replicaof no one >/dev/null
live config set masterauth "" >/dev/null
echo "restored ${file##*/} into $REDIS_HOST: $(live dbsize) keys (the snapshot has $keys)"
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_images() {
        for image in ["docker.io/library/redis:7.4.1", "bitnami/redis-cluster:7", "redis/redis-stack-server"] {
            assert_eq!(by_image(image), Some(Known { name: "redis", client_port: 6379 }), "{image}");
        }
        assert_eq!(by_image("bitnami/redis-exporter"), None);
        assert_eq!(by_image("docker.io/oliver006/redis_exporter:v1.66.0"), None);
    }

    #[test]
    fn defaults() {
        assert_eq!(REDIS.image().reference(None), "docker.io/library/redis:7.4.1");
        assert_eq!(REDIS.default_requests(), (Cpu::from_millis(100), Bytes(256 * MI)));
        let server = REDIS.server(&sample());
        assert_eq!(server.command, Some(&["sh", "-c"][..]));
        let args = server.args.expect("a start script");
        let [script] = args.as_slice() else { panic!("one script: {args:?}") };
        // 75% of the sample's 256Mi; a store refuses writes when full.
        assert!(script.contains("--maxmemory 201326592 --maxmemory-policy noeviction"), "{script}");
        assert!(script.contains("exec redis-server - --appendonly yes --dir /data"), "{script}");
        assert!(script.contains("requirepass \"$pw\"") && !script.contains("--requirepass"), "{script}");
        let cache = REDIS.server(&Instance { cache: true, ..sample() });
        assert!(cache.args.is_some_and(|a| a[0].contains("--maxmemory-policy allkeys-lru")));
    }

    #[test]
    fn without_auth_no_password_anywhere_and_no_protected_mode() {
        let d = Instance { auth: false, cache: true, ..sample() };
        let server = REDIS.server(&d);
        assert!(server.env.is_empty(), "{:?}", server.env);
        let script = &server.args.expect("a start script")[0];
        assert!(script.starts_with("exec redis-server --protected-mode no ") && !script.contains("requirepass"), "{script}");
        assert!(script.contains("--maxmemory-policy allkeys-lru"), "{script}");
        let w = REDIS.wiring("CACHE", &d);
        assert_eq!(w.env, [Env::value("CACHE_URL", "redis://$(CACHE_HOST):$(CACHE_PORT)/0")]);
        let exporter = REDIS.metrics().expect("metrics").exporter.expect("an exporter");
        assert!((exporter.env)(&d).iter().all(|e| matches!(e, Env::Value { .. })));
        let backup = (REDIS.backup().expect("backups").env)(&d);
        assert!(backup.iter().all(|e| matches!(e, Env::Value { .. })));
        assert_eq!(REDIS.without_auth(), Ok(()));
    }

    #[test]
    fn a_maxmemory_policy_setting_overrides_the_role() {
        assert_eq!(REDIS.setting("maxmemory-policy", "allkeys-lfu", 1 << 30), Ok("allkeys-lfu".into()));
        let settings = [("maxmemory-policy".to_string(), "volatile-ttl".to_string())];
        let d = Instance { cache: true, settings: &settings, ..sample() };
        let args = REDIS.server(&d).args.expect("a start script");
        assert!(args[0].contains("--maxmemory-policy volatile-ttl"), "{args:?}");
        let e = REDIS.setting("maxmemory-policy", "lru", 1 << 30).expect_err("not a policy");
        assert_eq!(e.message, "`maxmemory-policy: lru` is not allowed");
        assert!(e.help.starts_with("one of: noeviction, allkeys-lru,") && e.help.ends_with("volatile-ttl"), "{}", e.help);
        let e = REDIS.setting("maxmemory", "1Gi", 1 << 30).expect_err("not a setting");
        assert_eq!((e.message.as_str(), e.help.as_str()), ("redis has no setting `maxmemory`", "the settings of redis: `maxmemory-policy`"));
    }

    #[test]
    fn clients_get_a_url_with_the_password() {
        let w = REDIS.wiring("CACHE", &sample());
        assert!(w.config.is_empty());
        assert!(w.env.contains(&Env::value("CACHE_URL", "redis://default:$(CACHE_PASSWORD_URLENCODED)@$(CACHE_HOST):$(CACHE_PORT)/0")));
    }

    #[test]
    fn backup_is_an_rdb_snapshot_restored_by_replication() {
        let b = REDIS.backup().expect("backups");
        let Method::Dump { extension, dump, restore } = b.method else { panic!("a dump") };
        assert_eq!(extension, "rdb");
        assert!(dump.contains("redis-cli -h \"$REDIS_HOST\" -p \"$REDIS_PORT\" --rdb"));
        assert!(restore.contains("replicaof \"$POD_IP\" \"$RESTORE_PORT\"") && restore.contains("replicaof no one"));
        assert_eq!(b.restore_port, Some(6380));
        assert!(!b.offline);
        assert!((b.runbook)(&sample()).what.contains("port 6380"));
    }
}
