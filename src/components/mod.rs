//! Off-the-shelf components a platform runs as services of its own — the
//! monitoring stack (Prometheus, Alertmanager, Grafana), log and trace
//! backends (Loki, Jaeger, Tempo), collectors and shippers — as data: what
//! each does, the images that run it and the ports it serves by default.
//!
//! A service of the description is one of them when it says so
//! (`component: prometheus`) or when its image is one of theirs; the
//! generator then wires it as that component (its configuration, the
//! connections it needs), and alerts query the metrics it really exports.
//! Adding a component is one entry in [`REGISTRY`].

use std::fmt;

/// Everything kubeproof knows about one component.
#[derive(Debug)]
pub struct Definition {
    /// The `component:` value of a description.
    pub name: &'static str,
    /// What it does, for people (`metrics`, `log aggregation`).
    pub does: &'static str,
    /// Image repository names that run it: the last path segment without
    /// tag (`prom/prometheus` → `prometheus`).
    pub images: &'static [&'static str],
    /// A word the repository path must hold too, when the last segment
    /// alone does not name it (`jaegertracing/all-in-one`).
    pub needs: Option<&'static str>,
    /// The ports it serves by default, the first being its main one; the
    /// description's ports are what its pods really open.
    pub ports: &'static [(&'static str, u16)],
}

/// The components, in the order the JSON Schema lists their names.
pub static REGISTRY: &[Definition] = &[
    Definition { name: "prometheus", does: "metrics", images: &["prometheus"], needs: None, ports: &[("http", 9090)] },
    Definition {
        name: "alertmanager",
        does: "alerting",
        images: &["alertmanager"],
        needs: None,
        ports: &[("http", 9093), ("cluster", 9094)],
    },
    Definition { name: "grafana", does: "dashboards", images: &["grafana"], needs: None, ports: &[("http", 3000)] },
    Definition {
        name: "loki",
        does: "log aggregation",
        images: &["loki"],
        needs: None,
        ports: &[("http", 3100), ("grpc", 9095)],
    },
    Definition {
        name: "jaeger",
        does: "tracing",
        images: &["jaeger", "all-in-one"],
        needs: Some("jaeger"),
        ports: &[("otlp-grpc", 4317), ("otlp-http", 4318), ("query", 16686), ("admin", 14269)],
    },
    Definition {
        name: "tempo",
        does: "tracing",
        images: &["tempo"],
        needs: None,
        ports: &[("http", 3200), ("otlp-grpc", 4317), ("otlp-http", 4318)],
    },
    Definition {
        name: "otel-collector",
        does: "telemetry collection",
        images: &[
            "opentelemetry-collector",
            "opentelemetry-collector-contrib",
            "opentelemetry-collector-k8s",
            "otelcol",
            "otelcol-contrib",
        ],
        needs: None,
        ports: &[("otlp-grpc", 4317), ("otlp-http", 4318), ("metrics", 8888), ("health", 13133)],
    },
    Definition {
        name: "log-shipper",
        does: "log shipping",
        images: &["fluent-bit", "promtail", "vector", "alloy"],
        needs: None,
        ports: &[("http", 2020)],
    },
];

/// One component of the registry; compared and shown by name.
#[derive(Clone, Copy)]
pub struct Component(&'static Definition);

impl Component {
    pub fn all() -> impl Iterator<Item = Component> {
        REGISTRY.iter().map(Component)
    }

    pub fn by_name(name: &str) -> Option<Component> {
        REGISTRY.iter().find(|d| d.name == name).map(Component)
    }

    /// The names of every component, in registry order.
    pub fn names() -> &'static [&'static str] {
        static NAMES: std::sync::LazyLock<Vec<&'static str>> =
            std::sync::LazyLock::new(|| REGISTRY.iter().map(|d| d.name).collect());
        &NAMES
    }

    /// The component an image runs, by its repository (registry, tag and
    /// digest ignored).
    pub fn by_image(image: &str) -> Option<Component> {
        let repo = image.split('@').next().unwrap_or(image);
        // A tag follows the last `:` after the last `/` (a registry may have a port).
        let repo = match repo.rsplit_once(':') {
            Some((r, tag)) if !tag.contains('/') => r,
            _ => repo,
        };
        let last = repo.rsplit('/').next().unwrap_or(repo);
        REGISTRY.iter().find(|d| d.images.contains(&last) && d.needs.is_none_or(|w| repo.contains(w))).map(Component)
    }

    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// What it does, for people.
    pub fn does(self) -> &'static str {
        self.0.does
    }

    /// Its default port named `name`.
    pub fn port(self, name: &str) -> Option<u16> {
        self.0.ports.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
    }

    /// Its main port, by default.
    pub fn main_port(self) -> u16 {
        self.0.ports.first().map_or(0, |(_, p)| *p)
    }
}

impl PartialEq for Component {
    fn eq(&self, other: &Component) -> bool {
        self.0.name == other.0.name
    }
}

impl Eq for Component {}

impl fmt::Debug for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

impl fmt::Display for Component {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognised_by_image() {
        let name = |i: &str| Component::by_image(i).map(Component::name);
        assert_eq!(name("docker.io/prom/prometheus:v2.55.1"), Some("prometheus"));
        assert_eq!(name("quay.io/prometheus/alertmanager:v0.27.0"), Some("alertmanager"));
        assert_eq!(name("docker.io/grafana/grafana:11.3.0"), Some("grafana"));
        assert_eq!(name("docker.io/grafana/loki:3.2.1"), Some("loki"));
        assert_eq!(name("docker.io/jaegertracing/all-in-one:1.62.0"), Some("jaeger"));
        assert_eq!(name("registry:5000/otel/opentelemetry-collector-contrib:0.112.0"), Some("otel-collector"));
        assert_eq!(name("cr.fluentbit.io/fluent/fluent-bit:3.1"), Some("log-shipper"));
        assert_eq!(name("ghcr.io/example/all-in-one:1.0"), None, "all-in-one alone is not Jaeger");
        assert_eq!(name("ghcr.io/example/api:1.0"), None);
    }

    #[test]
    fn names_in_registry_order_and_unique() {
        let names = Component::names();
        assert_eq!(names[0], "prometheus");
        let mut sorted = names.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len());
    }

    #[test]
    fn ports() {
        let c = Component::by_name("alertmanager").expect("registered");
        assert_eq!((c.main_port(), c.port("cluster")), (9093, Some(9094)));
    }
}
