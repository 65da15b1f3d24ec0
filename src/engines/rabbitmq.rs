//! RabbitMQ: the official image with the management plugin, its own
//! Prometheus endpoint (the `rabbitmq_prometheus` plugin), and no backups:
//! queues hold messages in flight, not data to dump.

use super::*;

pub struct Rabbitmq;

const USER: &str = "RABBITMQ_DEFAULT_USER";
const PASSWORD: &str = "RABBITMQ_DEFAULT_PASS";

impl Definition for Rabbitmq {
    fn name(&self) -> &'static str {
        "rabbitmq"
    }

    fn image(&self) -> Image {
        Image { repository: "docker.io/library/rabbitmq", version: "3.13.7-management" }
    }

    fn images(&self) -> &'static [&'static str] {
        &["rabbitmq"]
    }

    fn user(&self) -> u32 {
        999
    }

    fn ports(&self) -> &'static [Port] {
        const { &[Port::tcp("amqp", 5672), Port::http("management", 15672), Port::http("prometheus", 15692)] }
    }

    fn data_path(&self) -> &'static str {
        "/var/lib/rabbitmq"
    }

    fn scratch_paths(&self) -> &'static [&'static str] {
        &["/tmp"]
    }

    fn credential_keys(&self) -> &'static [&'static str] {
        &[USER, PASSWORD]
    }

    fn default_requests(&self) -> (Cpu, Bytes) {
        (Cpu::from_millis(250), Bytes(512 * MI))
    }

    fn server(&self, _: &Instance) -> Server {
        Server {
            env: vec![Env::secret("RABBITMQ_DEFAULT_USER", USER), Env::secret("RABBITMQ_DEFAULT_PASS", PASSWORD)],
            command: None,
            args: None,
            liveness: Probe { check: Check::Exec("rabbitmq-diagnostics -q ping"), period: 30, timeout: 15 },
            readiness: Probe { check: Check::Tcp("amqp"), period: 10, timeout: 3 },
        }
    }

    fn wiring(&self, p: &str, _: &Instance) -> Wiring {
        Wiring {
            config: Vec::new(),
            env: vec![
                Env::secret(format!("{p}_USER"), USER),
                Env::secret(format!("{p}_PASSWORD"), PASSWORD),
                Env::value(format!("{p}_URL"), format!("amqp://$({p}_USER):$({p}_PASSWORD)@$({p}_HOST):$({p}_PORT)/")),
            ],
        }
    }

    fn metrics(&self) -> Result<Metrics, &'static str> {
        Ok(Metrics {
            // The rabbitmq_prometheus plugin, enabled in the official image.
            scrape: Scrape { port_name: "prometheus", port: 15692, path: "/metrics" },
            exporter: None,
            server_env: &[],
            down: Down::SCRAPE,
        })
    }

    fn backup(&self) -> Result<Backup, NoBackup> {
        Err(NoBackup {
            why: "RabbitMQ keeps messages, not data worth a dump",
            note: Some("queues hold messages in flight, not data to dump"),
        })
    }
}

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
        assert_eq!(Rabbitmq.image().reference(None), "docker.io/library/rabbitmq:3.13.7-management");
        assert_eq!(Rabbitmq.data_path(), "/var/lib/rabbitmq");
        let w = Rabbitmq.wiring("QUEUE", &sample());
        assert!(w.env.contains(&Env::value("QUEUE_URL", "amqp://$(QUEUE_USER):$(QUEUE_PASSWORD)@$(QUEUE_HOST):$(QUEUE_PORT)/")));
    }

    #[test]
    fn metrics_from_its_plugin() {
        let m = Rabbitmq.metrics().expect("metrics");
        assert_eq!((m.scrape.port_name, m.scrape.port), ("prometheus", 15692));
    }

    #[test]
    fn no_backup_with_a_reason() {
        let no = Rabbitmq.backup().expect_err("no backups");
        assert!(no.why.contains("keeps messages"));
        assert!(no.note.is_some());
    }
}
