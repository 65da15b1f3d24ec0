//! `metrics`: where Prometheus scrapes the service, and the metric and label
//! names its alerts and dashboards read.

use super::super::{Cx, MetricsR, Port, defaults};
use crate::description::Service;
use crate::description::alerts::is_metric_name;
use crate::diag::Pos;

impl Cx<'_> {
    pub(super) fn metrics(&mut self, s: &Service, ports: &[Port]) -> Option<MetricsR> {
        let m = s.metrics.as_ref()?;
        let metrics = MetricsR {
            path: m.path.clone().unwrap_or_else(|| "/metrics".into()),
            port_name: match m.port {
                Some(n) => ports.iter().find(|p| p.port == n).map_or_else(|| "metrics".into(), |p| p.name.clone()),
                None => ports.first().map_or_else(|| "metrics".into(), |p| p.name.clone()),
            },
            interval: m.interval.map_or(defaults::METRICS_INTERVAL, |i| i.get()),
            requests: m.requests.clone().unwrap_or_else(|| defaults::REQUESTS_METRIC.into()),
            status_label: m.status_label.clone().unwrap_or_else(|| defaults::STATUS_LABEL.into()),
            duration: m.duration.clone().unwrap_or_else(|| defaults::DURATION_METRIC.into()),
            histograms: m.histograms.clone().unwrap_or_default(),
            endpoint_label: m.endpoint_label.clone().unwrap_or_else(|| "handler".into()),
            gauges: m.gauges.clone().unwrap_or_default(),
        };
        self.check_metric_names(&metrics);
        Some(metrics)
    }

    fn check_metric_names(&mut self, m: &MetricsR) {
        let name = self.name.to_string();
        let names = [&m.requests, &m.duration].into_iter().chain(&m.histograms).chain(&m.gauges);
        for metric in names.filter(|n| !is_metric_name(n)) {
            self.err(Pos::UNKNOWN, format!("`{name}`: `{metric}` is not a Prometheus metric name"), None);
        }
        for label in [&m.endpoint_label, &m.status_label] {
            if !is_metric_name(label) || label.contains(':') {
                self.err(Pos::UNKNOWN, format!("`{name}`: `{label}` is not a Prometheus label name"), None);
            }
        }
    }
}
