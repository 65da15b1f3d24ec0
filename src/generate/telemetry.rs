//! Traces and logs: the OpenTelemetry Collector configuration
//! (`monitoring/otel-collector.yaml`: OTLP in, probabilistic sampling, OTLP out
//! to Jaeger or another OTLP endpoint) and the log shipping configuration.
//!
//! Logs are shipped by Fluent Bit (`monitoring/fluent-bit.yaml`, its YAML
//! configuration format): one small C binary per node with native Loki and
//! Elasticsearch outputs, so one shipper serves both backends; Promtail is
//! end-of-life in favour of Grafana Alloy, which only ships to Loki well.
//! Retention lives in the backend: `monitoring/loki.yaml` (the compactor's
//! retention and `limits_config.retention_period`, to merge into Loki's
//! configuration) or `monitoring/elasticsearch-ilm.json` (an index lifecycle
//! policy that deletes indices after the retention).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::Stack;
use crate::description::resolve::{Resolved, Svc};
use crate::description::telemetry::{LogBackend, LogsR, TraceExporter, TracingR};

/// The files, by path under `monitoring/`; `.json` files are written as JSON,
/// the others as YAML.
pub type Files = BTreeMap<String, Value>;

pub fn telemetry(r: &Resolved, stack: &mut Stack) {
    let mut files = Files::new();
    if let Some(t) = &r.telemetry.tracing {
        files.insert("otel-collector.yaml".into(), collector(t));
    }
    if let Some(l) = &r.telemetry.logs {
        files.insert("fluent-bit.yaml".into(), fluent_bit(r, l));
        match l.backend {
            LogBackend::Loki => files.insert("loki.yaml".into(), loki(l)),
            LogBackend::Elasticsearch => files.insert("elasticsearch-ilm.json".into(), ilm(l)),
        };
    }
    stack.telemetry = files;
}

/// Where a service sends its spans, as the OpenTelemetry SDKs read it
/// (`OTEL_EXPORTER_OTLP_*`, `OTEL_SERVICE_NAME`), when the description
/// declares `tracing:`. The endpoint is the platform's own collector when it
/// runs one (a service that is the `otel-collector` component), else the
/// tracing endpoint itself (Jaeger reads OTLP). The SDK spec wants a URL
/// with a scheme: `http://` inside the cluster (a mesh adds mTLS), `https://`
/// outside; the protocol is said because SDKs differ in their default
/// (`http/protobuf` on 4318 per the spec, gRPC in some) and 4317 is gRPC.
/// Off-the-shelf components get none: they are not built on the SDK and
/// configure their own tracing, if any.
pub fn otel_env(r: &Resolved, svc: &Svc) -> BTreeMap<String, String> {
    let Some(t) = r.telemetry.tracing.as_ref().filter(|_| svc.component.is_none()) else { return BTreeMap::new() };
    let collector = r.services.iter().find(|s| s.component.is_some_and(|c| c.name() == "otel-collector"));
    let target = match collector {
        Some(c) => {
            let port =
                c.ports.iter().find(|p| p.name == "otlp-grpc" || p.port == 4317).map_or(4317, |p| p.service_port);
            format!("{}:{port}", super::fqdn(&c.name, &c.namespace))
        }
        None => t.endpoint.clone(),
    };
    let url = if target.contains("://") {
        target
    } else {
        let (host, port) = split(&target, 4317);
        match host.split_once('.') {
            // `name.namespace`: the Service's full name, which every reader
            // (and `kubeproof graph`) knows for a cluster one.
            Some((name, ns)) if !ns.contains('.') => format!("http://{}:{port}", super::fqdn(name, ns)),
            _ => format!("{}://{target}", if in_cluster(&host) { "http" } else { "https" }),
        }
    };
    let [endpoint, protocol, name] = crate::description::telemetry::OTEL_VARIABLES;
    BTreeMap::from([
        (endpoint.to_string(), url),
        (protocol.to_string(), "grpc".to_string()),
        (name.to_string(), svc.name.clone()),
    ])
}

/// `host:port` → (host, port), the port defaulting to `default`.
fn split(endpoint: &str, default: u16) -> (String, u16) {
    let e = endpoint.trim_start_matches("http://").trim_start_matches("https://");
    match e.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().unwrap_or(default)),
        None => (e.to_string(), default),
    }
}

/// A host inside the cluster (`name.namespace`, `*.svc`, `*.svc.cluster.local`):
/// plain gRPC there (a mesh adds mTLS); TLS for anything outside.
fn in_cluster(host: &str) -> bool {
    host.matches('.').count() <= 1 || host.ends_with(".svc") || host.ends_with(".svc.cluster.local")
}

fn collector(t: &TracingR) -> Value {
    let (host, _) = split(&t.endpoint, 4317);
    let name = match t.exporter {
        TraceExporter::Jaeger => "otlp/jaeger",
        TraceExporter::Otlp => "otlp",
    };
    let mut exporter = json!({ "endpoint": t.endpoint });
    if in_cluster(&host) {
        exporter["tls"] = json!({ "insecure": true });
    }
    json!({
        "receivers": { "otlp": { "protocols": {
            "grpc": { "endpoint": "0.0.0.0:4317" },
            "http": { "endpoint": "0.0.0.0:4318" },
        } } },
        "processors": {
            // First in the pipeline: refuses data before the collector runs out of memory.
            "memory_limiter": { "check_interval": "1s", "limit_percentage": 80, "spike_limit_percentage": 25 },
            "probabilistic_sampler": { "sampling_percentage": t.sampling },
            "batch": { "send_batch_size": 8192, "timeout": "5s" },
        },
        "exporters": { name: exporter },
        "extensions": { "health_check": { "endpoint": "0.0.0.0:13133" } },
        "service": {
            "extensions": ["health_check"],
            "pipelines": { "traces": {
                "receivers": ["otlp"],
                "processors": ["memory_limiter", "probabilistic_sampler", "batch"],
                "exporters": [name],
            } },
        },
    })
}

fn fluent_bit(r: &Resolved, l: &LogsR) -> Value {
    // Only the platform's namespaces: /var/log/containers/POD_NAMESPACE_CONTAINER-ID.log
    let paths: Vec<String> = r.namespaces().iter().map(|ns| format!("/var/log/containers/*_{ns}_*.log")).collect();
    let output = match l.backend {
        LogBackend::Loki => {
            let (host, port) = split(&l.endpoint, 80);
            json!({
                "name": "loki",
                "match": "kube.*",
                "host": host,
                "port": port,
                "labels": format!(
                    "job=fluent-bit, platform={}, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']",
                    r.platform
                ),
                "line_format": "json",
            })
        }
        LogBackend::Elasticsearch => {
            let (host, port) = split(&l.endpoint, 9200);
            json!({
                "name": "es",
                "match": "kube.*",
                "host": host,
                "port": port,
                "logstash_format": "on",
                "logstash_prefix": r.platform,
                "suppress_type_name": "on",
                "replace_dots": "on",
                // Credentials from the environment (a Secret), never from here.
                "http_user": "${ELASTICSEARCH_USER}",
                "http_passwd": "${ELASTICSEARCH_PASSWORD}",
                "tls": "on",
            })
        }
    };
    json!({
        "service": {
            "flush": 1,
            "log_level": "info",
            "http_server": "on",
            "http_listen": "0.0.0.0",
            "http_port": 2020,
            "health_check": "on",
        },
        "pipeline": {
            "inputs": [{
                "name": "tail",
                "tag": "kube.*",
                "path": paths.join(","),
                "multiline.parser": "cri, docker",
                "db": "/var/fluent-bit/state/flb_kube.db",
                "mem_buf_limit": "50MB",
                "skip_long_lines": "on",
                "refresh_interval": 10,
            }],
            "filters": [{
                "name": "kubernetes",
                "match": "kube.*",
                // JSON log lines become fields.
                "merge_log": "on",
                "keep_log": "off",
                "k8s-logging.parser": "on",
                "k8s-logging.exclude": "on",
            }],
            "outputs": [output],
        },
    })
}

/// Hours, as Loki's durations accept them (`168h`).
fn hours(secs: u32) -> String {
    format!("{}h", secs.div_ceil(3600))
}

fn loki(l: &LogsR) -> Value {
    json!({
        "compactor": {
            "working_directory": "/var/loki/compactor",
            "retention_enabled": true,
            "delete_request_store": "filesystem",
        },
        "limits_config": { "retention_period": hours(l.retention) },
    })
}

fn ilm(l: &LogsR) -> Value {
    json!({ "policy": { "phases": {
        // Daily indices (logstash_format): no rollover, only deletion by age.
        "hot": { "min_age": "0ms", "actions": {} },
        "delete": { "min_age": hours(l.retention), "actions": { "delete": {} } },
    } } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        assert_eq!(split("loki-gateway.monitoring:80", 3100), ("loki-gateway.monitoring".into(), 80));
        assert_eq!(split("https://es.example.com", 9200), ("es.example.com".into(), 9200));
        assert!(in_cluster("jaeger-collector.monitoring"));
        assert!(in_cluster("jaeger-collector.monitoring.svc.cluster.local"));
        assert!(!in_cluster("otlp.example.com"));
        assert_eq!(hours(7 * 86400), "168h");
    }

    fn starter() -> Resolved {
        let path = std::path::Path::new("platform.yaml");
        let p = crate::description::parse(crate::description::starter::STARTER, path).expect("the starter parses");
        crate::description::resolve::resolve(&p, None, path).expect("the starter resolves")
    }

    fn tracing(endpoint: &str) -> Option<TracingR> {
        Some(TracingR { exporter: TraceExporter::Jaeger, endpoint: endpoint.into(), sampling: 100.0 })
    }

    #[test]
    fn services_send_spans_over_grpc_to_a_url_with_a_scheme() {
        let mut r = starter();
        let svc = r.services[0].clone();
        r.telemetry.tracing = None;
        assert!(otel_env(&r, &svc).is_empty(), "no tracing: nothing to tell");
        r.telemetry.tracing = tracing("jaeger-collector.monitoring:4317");
        let env = otel_env(&r, &svc);
        assert_eq!(env["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://jaeger-collector.monitoring.svc.cluster.local:4317");
        assert_eq!(env["OTEL_EXPORTER_OTLP_PROTOCOL"], "grpc");
        assert_eq!(env["OTEL_SERVICE_NAME"], svc.name);
        r.telemetry.tracing = tracing("otlp.vendor.example.com:4317");
        assert_eq!(otel_env(&r, &svc)["OTEL_EXPORTER_OTLP_ENDPOINT"], "https://otlp.vendor.example.com:4317");
        let mut grafana = svc.clone();
        grafana.component = crate::components::Component::by_name("grafana");
        assert!(otel_env(&r, &grafana).is_empty(), "a component configures its own tracing");
    }

    #[test]
    fn the_platforms_own_collector_receives_them_when_it_runs_one() {
        let mut r = starter();
        r.telemetry.tracing = tracing("jaeger-collector.monitoring:4317");
        let mut collector = r.services[0].clone();
        collector.name = "otel".into();
        collector.namespace = "telemetry".into();
        collector.component = crate::components::Component::by_name("otel-collector");
        collector.ports = vec![crate::description::resolve::Port {
            name: "otlp-grpc".into(),
            port: 4317,
            service_port: 4317,
            protocol: crate::description::Protocol::Grpc,
        }];
        r.services.push(collector);
        let svc = r.services[0].clone();
        assert_eq!(otel_env(&r, &svc)["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://otel.telemetry.svc.cluster.local:4317");
    }
}
