use std::collections::HashSet;

use crate::model::{At, Value};

use super::{dashboards, for_each_rule, metric_names, parsed};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP608: a rule or dashboard queries a metric nothing is known to produce.
pub struct UnknownMetric;

/// Metric families of well-known exporters and of Prometheus itself.
pub const KNOWN_PREFIXES: &[&str] = &[
    // kube-state-metrics, cAdvisor, node-exporter, the kubelet and the control plane
    "kube_",
    "container_",
    "machine_",
    "node_",
    "kubelet_",
    "kubeproxy_",
    "kubernetes_",
    "apiserver_",
    "etcd_",
    "scheduler_",
    "workqueue_",
    "rest_client_",
    "storage_operation_",
    "volume_manager_",
    "coredns_",
    "aggregator_",
    "apiextensions_",
    "authenticated_user_requests",
    "leader_election_",
    "csi_",
    // controller-runtime, so every kubebuilder operator; gRPC servers and clients
    "controller_runtime_",
    "grpc_server_",
    "grpc_client_",
    // config reloaders beside Prometheus and Alertmanager (prometheus-operator's, configmap-reload)
    "reloader_",
    "configmap_reload_",
    // Prometheus, Alertmanager, Grafana, the mesh, cert-manager, Velero, ingress-nginx
    "prometheus_",
    "alertmanager_",
    "scrape_",
    "net_conntrack_",
    "promhttp_",
    "grafana_",
    "istio_",
    "envoy_",
    "pilot_",
    // istiod's validation and injection webhooks, ztunnel's workload manager
    "galley_",
    "sidecar_injection_",
    "citadel_",
    "workload_manager_",
    "certmanager_",
    "velero_",
    "nginx_ingress_controller_",
    // the logging, tracing and GitOps stacks
    "thanos_",
    "loki_",
    "promtail_",
    "tempo_",
    "jaeger_",
    "otelcol_",
    "kiali_",
    "argocd_",
    // client libraries' process and runtime metrics
    "process_",
    "go_",
    "http_request_duration_seconds",
    // common datastore and probe exporters
    "pg_",
    "redis_",
    "mysql_",
    "mongodb_",
    "rabbitmq_",
    "minio_",
    "probe_",
];

/// Exporters whose metrics do not share a family prefix with their name,
/// known once the set shows the exporter: an object, label, selector or image
/// that names it (a ServiceMonitor for a GPU operator's exporter, say).
const EXPORTERS: &[(&str, &[&str])] = &[
    ("dcgm-exporter", &["DCGM_FI_", "DCGM_EXP_"]),
    ("kafka-exporter", &["kafka_"]),
    ("elasticsearch-exporter", &["elasticsearch_"]),
    ("memcached-exporter", &["memcached_"]),
    ("nats-exporter", &["gnatsd_", "nats_"]),
];

/// Single well-known series.
pub const KNOWN_NAMES: &[&str] = &["up", "ALERTS", "ALERTS_FOR_STATE", "http_requests_total"];

/// Suffixes a histogram, summary or counter adds to its name.
const SERIES_SUFFIXES: &[&str] = &["_bucket", "_sum", "_count", "_total", "_created"];

static META: Meta = Meta {
    code: "KP608",
    name: "unknown-metric",
    family: Family::Observability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a rule or dashboard queries a metric that no rule records and no known exporter exports",
    what: "Collects the metric names that the expressions of alerting and recording rules, and the \
           Prometheus queries of Grafana dashboards, select (`name{…}` or `{__name__=\"name\"}`), and \
           reports those that are neither recorded by a recording rule of the checked set, nor declared in \
           `.kubeproof.yaml` (`metrics: [name, prefix_*]`; a histogram's name covers its `_bucket`, `_sum` \
           and `_count`), nor a metric of a well-known exporter: kube-state-metrics `kube_*`, cAdvisor \
           `container_*`/`machine_*`, node-exporter `node_*`, the kubelet and control plane \
           (`kubelet_*`, `apiserver_*`, `etcd_*`, `coredns_*`, …), Prometheus, Alertmanager, Grafana, Istio \
           (istiod, ztunnel) and Envoy, cert-manager, Velero, ingress-nginx, controller-runtime, config reloaders, Thanos, \
           Loki, Tempo, Jaeger, the OpenTelemetry Collector, Kiali, Argo CD, `process_*`, `go_*`, `http_requests_total`, \
           `http_request_duration_seconds*`, `up`, `ALERTS`, and the postgres, redis, mysql, mongodb, \
           rabbitmq, minio and blackbox exporters (`pg_*`, `redis_*`, …, `probe_*`). Exporters whose metrics \
           are named otherwise (NVIDIA's `dcgm-exporter`: `DCGM_FI_*`; the kafka, elasticsearch, memcached \
           and NATS exporters) count once the set names them in an object's name, a label, a selector or \
           an image. Expressions that do not parse are left to KP601.",
    why: "A selector on a metric nobody exports returns nothing, without error: the alert never fires, \
          the recording rule records nothing, the panel says \"No data\". A typo in a recording rule's name, \
          or a rule copied from another service, is found at the outage.",
    fix: "Correct the metric name, add the recording rule that produces it, or declare the metrics your \
          services export in `.kubeproof.yaml`: `metrics: [orders_created_total, \"shop_*\"]`.",
    fail: r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - record: job:http_requests:rate5m
          expr: sum by (job) (rate(http_requests_total[5m]))
        - alert: ApiTrafficStopped
          expr: job:http_request:rate5m{job="api"} == 0
          for: 10m
          labels: { severity: warning }
          annotations: { runbook_url: https://runbooks.example.com/api-traffic }
        - alert: ApiSlow
          expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5
          for: 15m
          labels: { severity: warning }
          annotations: { runbook_url: https://runbooks.example.com/api-slow }
"#,
    pass: r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - record: job:http_requests:rate5m
          expr: sum by (job) (rate(http_requests_total[5m]))
        - alert: ApiTrafficStopped
          expr: job:http_requests:rate5m{job="api"} == 0
          for: 10m
          labels: { severity: warning }
          annotations: { runbook_url: https://runbooks.example.com/api-traffic }
        - alert: ApiSlow
          expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5
          for: 15m
          labels: { severity: warning }
          annotations: { runbook_url: https://runbooks.example.com/api-slow }
"#,
};

/// What is known to exist.
struct Known {
    exact: HashSet<String>,
    prefixes: Vec<String>,
    helps: std::cell::RefCell<std::collections::HashMap<String, String>>,
}

impl Known {
    fn build(cx: &Context) -> Known {
        let mut exact: HashSet<String> = KNOWN_NAMES.iter().map(|s| s.to_string()).collect();
        let mut prefixes: Vec<String> = KNOWN_PREFIXES.iter().map(|s| s.to_string()).collect();
        for m in &cx.config.metrics {
            match m.strip_suffix('*') {
                Some(p) if !p.is_empty() => prefixes.push(p.to_string()),
                Some(_) => {}
                None => {
                    exact.insert(m.clone());
                }
            }
        }
        for_each_rule(cx, |r| {
            if let Some(rec) = r.record() {
                exact.insert(rec.to_string());
            }
        });
        prefixes.extend(exporters_shown(cx).map(str::to_string));
        Known { exact, prefixes, helps: Default::default() }
    }

    fn has(&self, name: &str) -> bool {
        self.exact.contains(name)
            || SERIES_SUFFIXES.iter().any(|s| name.strip_suffix(s).is_some_and(|base| self.exact.contains(base)))
            || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }

    /// The help for an unknown name, computed once per name (a suggestion
    /// compares the name with every known one of about its length).
    fn help(&self, name: &str) -> String {
        if let Some(h) = self.helps.borrow().get(name) {
            return h.clone();
        }
        let h = self.compute_help(name);
        self.helps.borrow_mut().insert(name.to_string(), h.clone());
        h
    }

    fn compute_help(&self, name: &str) -> String {
        let close = self
            .exact
            .iter()
            .map(String::as_str)
            .filter(|k| k.len().abs_diff(name.len()) <= 3 && k.as_bytes().first() == name.as_bytes().first());
        if let Some(s) = crate::diag::did_you_mean(name, close) {
            return format!("did you mean `{s}`?");
        }
        format!(
            "if a service exports it, declare it in .kubeproof.yaml (`metrics: [{name}]`, or a prefix such as \
             `{}*`); otherwise correct the name or add the recording rule that produces it",
            name.split_inclusive(['_', ':']).next().unwrap_or(name)
        )
    }
}

/// The metric prefixes of the [`EXPORTERS`] the set names somewhere: in an
/// object's name, a label or selector value, or a container image.
fn exporters_shown(cx: &Context) -> impl Iterator<Item = &'static str> {
    // One pass over the objects, each text tried against the exporters not
    // found yet (a pass per exporter read every object's fields 30 times).
    let mut found = vec![false; EXPORTERS.len()];
    let try_text = |text: &str, found: &mut [bool]| {
        for (i, (key, _)) in EXPORTERS.iter().enumerate() {
            found[i] |= text.contains(key);
        }
    };
    for o in cx.objects {
        try_text(&o.name, &mut found);
        for p in ["/metadata/labels", "/spec/selector/matchLabels"] {
            for v in o.value.at(p).and_then(Value::as_object).into_iter().flat_map(|m| m.values()) {
                if let Some(v) = v.as_str() {
                    try_text(v, &mut found);
                }
            }
        }
        if found.iter().all(|f| *f) {
            break;
        }
    }
    for p in cx.pods() {
        for c in p.containers() {
            if let Some(image) = c.get("/image").and_then(Value::as_str) {
                try_text(image, &mut found);
            }
        }
    }
    EXPORTERS.iter().zip(found).filter(|(_, f)| *f).flat_map(|((_, prefixes), _)| prefixes.iter().copied())
}

impl Check for UnknownMetric {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        // Built at the first query: a set without rules or dashboards needs no pass over its objects.
        let known = std::cell::OnceCell::new();
        let known = || known.get_or_init(|| Known::build(cx));
        for_each_rule(cx, |r| {
            let Some(expr) = r.expr() else { return };
            let parsed = parsed(cx, &expr);
            let Some(Ok(parsed)) = parsed.as_ref() else { return };
            let known = known();
            for name in metric_names(parsed).into_iter().filter(|n| !known.has(n)) {
                out.report(
                    r.object,
                    r.at("expr"),
                    format!(
                        "{}{} queries metric `{name}`, which no recording rule of the checked set records and no \
                         known exporter exports: the selector may match nothing",
                        r.describe(),
                        r.place()
                    ),
                )
                .help(known.help(&name));
            }
        });
        for d in dashboards(cx) {
            let read = d.read(cx);
            let Ok(queries) = read.as_ref() else { continue };
            let mut seen = HashSet::new();
            for q in queries {
                let Some(promql) = q.promql.as_deref() else { continue };
                let parsed = parsed(cx, promql);
                let Some(Ok(parsed)) = parsed.as_ref() else { continue };
                let known = known();
                for name in metric_names(parsed).into_iter().filter(|n| !known.has(n)) {
                    if !seen.insert(name.clone()) {
                        continue;
                    }
                    out.report(
                        d.object,
                        &d.ptr,
                        format!(
                            "{} of dashboard `{}` queries metric `{name}`, which no recording rule of the checked \
                             set records and no known exporter exports: the panel may show no data",
                            q.label, d.key
                        ),
                    )
                    .help(known.help(&name));
                }
            }
        }
    }
}
