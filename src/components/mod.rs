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
    /// The HTTP request metrics it exports under its own names, which its
    /// service alerts read; `None` when it has no such family (its request
    /// alerts are left out, the runbook says why).
    pub http: Option<Http>,
}

/// A component's HTTP request metric family, as its `/metrics` exports it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Http {
    /// Counter of handled requests: a counter, or a histogram's `_count`
    /// when the histogram is all it exports.
    pub requests: &'static str,
    /// The label of `requests` holding the response status and the value
    /// (a regex, anchored as PromQL anchors it) of a server error; `None`
    /// when its request series carry no status.
    pub errors: Option<(&'static str, &'static str)>,
    /// Histogram of request durations, base name.
    pub duration: &'static str,
    /// Units of `duration` per second: 1, or 1000 for milliseconds.
    pub per_second: u32,
    /// The label of `requests` naming the endpoint.
    pub endpoint: &'static str,
    /// A matcher keeping only the served traffic, when the family counts
    /// the component's own admin requests too (Envoy's admin listener
    /// answers the probes and the scrapes).
    pub served: Option<&'static str>,
}

/// `NAME_bucket`, `_sum` and `_count` of a histogram `NAME`, what the
/// histogram family `NAME` is made of.
pub const HISTOGRAM_SERIES: [&str; 3] = ["_bucket", "_sum", "_count"];

impl Http {
    /// Every series name of the family: the request counter and the duration histogram's series.
    pub fn series(&self) -> Vec<String> {
        let mut names = vec![self.requests.to_string()];
        names.extend(HISTOGRAM_SERIES.map(|x| format!("{}{x}", self.duration)));
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The request family of the dskit/weaveworks HTTP middleware Loki and
/// Tempo share: `<ns>_request_duration_seconds{method,route,status_code,ws}`
/// (a histogram; its `_count` counts the requests).
const fn dskit(requests: &'static str, duration: &'static str) -> Http {
    Http { requests, errors: Some(("status_code", "5..")), duration, per_second: 1, endpoint: "route", served: None }
}

/// The components, in the order the JSON Schema lists their names.
pub static REGISTRY: &[Definition] = &[
    Definition {
        name: "prometheus",
        does: "metrics",
        images: &["prometheus"],
        needs: None,
        ports: &[("http", 9090)],
        // web/web.go: `prometheus_http_requests_total{handler,code}` and the
        // histogram `prometheus_http_request_duration_seconds{handler}`.
        http: Some(Http {
            requests: "prometheus_http_requests_total",
            errors: Some(("code", "5..")),
            duration: "prometheus_http_request_duration_seconds",
            per_second: 1,
            endpoint: "handler",
            served: None,
        }),
    },
    Definition {
        name: "alertmanager",
        does: "alerting",
        images: &["alertmanager"],
        needs: None,
        ports: &[("http", 9093), ("cluster", 9094)],
        // cmd/alertmanager/main.go: the histogram
        // `alertmanager_http_request_duration_seconds{handler,method}` (and the
        // gauge `alertmanager_http_requests_in_flight`): no status label, so
        // no error ratio.
        http: Some(Http {
            requests: "alertmanager_http_request_duration_seconds_count",
            errors: None,
            duration: "alertmanager_http_request_duration_seconds",
            per_second: 1,
            endpoint: "handler",
            served: None,
        }),
    },
    Definition {
        name: "grafana",
        does: "dashboards",
        images: &["grafana"],
        needs: None,
        ports: &[("http", 3000)],
        // pkg/middleware/request_metrics.go: the histogram
        // `grafana_http_request_duration_seconds{handler,method,status_code}`.
        http: Some(Http {
            requests: "grafana_http_request_duration_seconds_count",
            errors: Some(("status_code", "5..")),
            duration: "grafana_http_request_duration_seconds",
            per_second: 1,
            endpoint: "handler",
            served: None,
        }),
    },
    Definition {
        name: "loki",
        does: "log aggregation",
        images: &["loki"],
        needs: None,
        ports: &[("http", 3100), ("grpc", 9095)],
        http: Some(dskit("loki_request_duration_seconds_count", "loki_request_duration_seconds")),
    },
    Definition {
        name: "jaeger",
        does: "tracing",
        images: &["jaeger", "all-in-one"],
        needs: Some("jaeger"),
        ports: &[("otlp-grpc", 4317), ("otlp-http", 4318), ("query", 16686), ("admin", 14269)],
        // v1 exports span counters (`jaeger_collector_spans_received_total`)
        // and storage reads (`jaeger_query_requests_total{operation,result}`),
        // no HTTP request family with a status.
        http: None,
    },
    Definition {
        name: "tempo",
        does: "tracing",
        images: &["tempo"],
        needs: None,
        ports: &[("http", 3200), ("otlp-grpc", 4317), ("otlp-http", 4318)],
        http: Some(dskit("tempo_request_duration_seconds_count", "tempo_request_duration_seconds")),
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
        // Its telemetry on :8888 counts spans and points
        // (`otelcol_receiver_accepted_spans`, `otelcol_exporter_send_failed_spans`),
        // not HTTP requests with a status.
        http: None,
    },
    Definition {
        name: "log-shipper",
        does: "log shipping",
        images: &["fluent-bit", "promtail", "vector", "alloy"],
        needs: None,
        ports: &[("http", 2020)],
        // Four shippers, four metric vocabularies: none to rely on.
        http: None,
    },
    Definition {
        name: "envoy",
        does: "proxy",
        images: &["envoy", "envoy-distroless"],
        needs: None,
        ports: &[("http", 10000), ("admin", 9901)],
        // `/stats/prometheus` on the admin port: `http.<prefix>.downstream_rq_5xx`
        // becomes `envoy_http_downstream_rq_xx{envoy_response_code_class="5",
        // envoy_http_conn_manager_prefix}` (a counter) and `downstream_rq_time`
        // the histogram `envoy_http_downstream_rq_time`, in milliseconds.
        http: Some(Http {
            requests: "envoy_http_downstream_rq_xx",
            errors: Some(("envoy_response_code_class", "5")),
            duration: "envoy_http_downstream_rq_time",
            per_second: 1000,
            endpoint: "envoy_http_conn_manager_prefix",
            served: Some("envoy_http_conn_manager_prefix!=\"admin\""),
        }),
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

    /// Its HTTP request metrics, when it exports a family alerts can read.
    pub fn http(self) -> Option<Http> {
        self.0.http
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
        assert_eq!(name("docker.io/envoyproxy/envoy-distroless:v1.31.2"), Some("envoy"));
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
    fn request_families_by_their_real_names() {
        let http = |n: &str| Component::by_name(n).and_then(Component::http);
        let Some(p) = http("prometheus") else { panic!("Prometheus exports HTTP metrics") };
        assert_eq!((p.requests, p.errors), ("prometheus_http_requests_total", Some(("code", "5.."))));
        let Some(g) = http("grafana") else { panic!("Grafana exports HTTP metrics") };
        assert_eq!(g.errors, Some(("status_code", "5..")));
        assert_eq!(g.requests, format!("{}_count", g.duration), "Grafana counts requests in its histogram");
        let Some(a) = http("alertmanager") else { panic!("Alertmanager exports HTTP metrics") };
        assert_eq!(a.errors, None, "Alertmanager's request histogram has no status label");
        let Some(e) = http("envoy") else { panic!("Envoy exports HTTP metrics") };
        assert_eq!((e.errors, e.per_second), (Some(("envoy_response_code_class", "5")), 1000));
        assert_eq!(http("jaeger"), None);
        assert_eq!(
            p.series(),
            [
                "prometheus_http_request_duration_seconds_bucket",
                "prometheus_http_request_duration_seconds_count",
                "prometheus_http_request_duration_seconds_sum",
                "prometheus_http_requests_total",
            ]
        );
        assert_eq!(g.series().len(), 3, "the request counter is one of the histogram's series");
    }

    #[test]
    fn ports() {
        let c = Component::by_name("alertmanager").expect("registered");
        assert_eq!((c.main_port(), c.port("cluster")), (9093, Some(9094)));
    }
}
