//! RabbitMQ: the official image with the management plugin, its own
//! Prometheus endpoint (the `rabbitmq_prometheus` plugin), and no backups:
//! queues hold messages in flight, not data to dump.

use super::*;

const USER: &str = "RABBITMQ_DEFAULT_USER";
const PASSWORD: &str = "RABBITMQ_DEFAULT_PASS";
// Their percent-encoded forms for the URL (the kubelet cannot encode).
const USER_URL: &str = "RABBITMQ_DEFAULT_USER_URLENCODED";
const PASSWORD_URL: &str = "RABBITMQ_DEFAULT_PASS_URLENCODED";

pub static RABBITMQ: Definition = Definition {
    name: "rabbitmq",
    image: Image { repository: "docker.io/library/rabbitmq", version: "3.13.7-management" },
    images: &["rabbitmq"],
    user: 999,
    ports: &[Port::tcp("amqp", 5672), Port::http("management", 15672), Port::http("prometheus", 15692)],
    data_path: "/var/lib/rabbitmq",
    // The server writes its upgrade log and Erlang crash dumps under
    // /var/log/rabbitmq even when it logs to stdout (RABBITMQ_LOGS=-), and
    // fails to start when it cannot (found by tests/datastores_run.rs).
    scratch_paths: &["/var/log/rabbitmq", "/tmp"],
    seeded_paths: &[],
    memory_path: None,
    evicts: false,
    credential_keys: &[USER, PASSWORD],
    without_auth: Err("RabbitMQ lets the `guest` user in from localhost only: clients in other pods need a user and password"),
    settings: &[],
    default_requests: (Cpu::from_millis(250), Bytes(512 * MI)),
    server: Server {
        env: |_| vec![Env::secret("RABBITMQ_DEFAULT_USER", USER), Env::secret("RABBITMQ_DEFAULT_PASS", PASSWORD)],
        command: None,
        args: image_cmd,
        liveness: Probe { check: Check::Exec("rabbitmq-diagnostics -q ping"), period: 30, timeout: 15 },
        readiness: Probe { check: Check::Tcp("amqp"), period: 10, timeout: 3 },
    },
    wiring: |p, _| Wiring {
        config: Vec::new(),
        env: vec![
            Env::secret(format!("{p}_USER"), USER),
            Env::secret(format!("{p}_PASSWORD"), PASSWORD),
            Env::secret(format!("{p}_USER_URLENCODED"), USER_URL),
            Env::secret(format!("{p}_PASSWORD_URLENCODED"), PASSWORD_URL),
            Env::value(
                format!("{p}_URL"),
                format!("amqp://$({p}_USER_URLENCODED):$({p}_PASSWORD_URLENCODED)@$({p}_HOST):$({p}_PORT)/"),
            ),
        ],
    },
    metrics: Ok(Metrics {
        // The rabbitmq_prometheus plugin, enabled in the official image.
        scrape: Scrape { port_name: "prometheus", port: 15692, path: "/metrics" },
        exporter: None,
        server_env: &[],
        down: Down::SCRAPE,
    }),
    backup: Err(NoBackup {
        why: "RabbitMQ keeps messages, not data worth a dump",
        note: Some("queues hold messages in flight, not data to dump"),
    }),
    client_check: None,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_its_images() {
        assert_eq!(by_image("docker.io/library/rabbitmq:3.13.7-management"), Some(Known { name: "rabbitmq", client_port: 5672 }));
        assert_eq!(by_image("bitnami/rabbitmq-exporter"), None);
    }

    #[test]
    fn defaults() {
        assert_eq!(RABBITMQ.image().reference(None), "docker.io/library/rabbitmq:3.13.7-management");
        assert_eq!(RABBITMQ.data_path(), "/var/lib/rabbitmq");
        let w = RABBITMQ.wiring("QUEUE", &sample());
        assert!(w.env.contains(&Env::value("QUEUE_URL", "amqp://$(QUEUE_USER_URLENCODED):$(QUEUE_PASSWORD_URLENCODED)@$(QUEUE_HOST):$(QUEUE_PORT)/")));
    }

    #[test]
    fn metrics_from_its_plugin() {
        let m = RABBITMQ.metrics().expect("metrics");
        assert_eq!((m.scrape.port_name, m.scrape.port), ("prometheus", 15692));
    }

    #[test]
    fn no_backup_with_a_reason() {
        let no = RABBITMQ.backup().expect_err("no backups");
        assert!(no.why.contains("keeps messages"));
        assert!(no.note.is_some());
    }
}
