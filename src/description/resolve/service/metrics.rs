//! `metrics`: where Prometheus scrapes the service, and the metric and label
//! names its alerts and dashboards read. An off-the-shelf component's names
//! are its own (`prometheus_http_requests_total`), not the defaults a
//! service of ours is assumed to export; what the description writes wins.

use super::super::{Cx, MetricsR, Port, defaults};
use crate::components::Http;
use crate::description::alerts::is_metric_name;
use crate::description::{Component, Service};
use crate::diag::Pos;

impl Cx<'_> {
    pub(super) fn metrics(
        &mut self,
        s: &Service,
        ports: &[Port],
        component: Option<Component>,
        worker: bool,
    ) -> Option<MetricsR> {
        let m = s.metrics.as_ref()?;
        // A service of ours exports the default family; a component its own, or none.
        let generic = Http {
            requests: defaults::REQUESTS_METRIC,
            errors: Some((defaults::STATUS_LABEL, defaults::SERVER_ERRORS)),
            duration: defaults::DURATION_METRIC,
            per_second: 1,
            endpoint: "handler",
            served: None,
        };
        let known = component.map_or(Some(generic), Component::http);
        let declared = m.requests.is_some() || m.duration.is_some() || m.status_label.is_some();
        let fam = known.unwrap_or(generic);
        // A status label written means our convention: 5xx as three digits.
        let errors = match &m.status_label {
            Some(l) => Some((l.clone(), defaults::SERVER_ERRORS.to_string())),
            None => fam.errors.map(|(l, e)| (l.to_string(), e.to_string())),
        };
        let metrics = MetricsR {
            path: m.path.clone().unwrap_or_else(|| "/metrics".into()),
            port_name: match m.port {
                Some(n) => ports.iter().find(|p| p.port == n).map_or_else(|| "metrics".into(), |p| p.name.clone()),
                None => ports.first().map_or_else(|| "metrics".into(), |p| p.name.clone()),
            },
            interval: m.interval.map_or(defaults::METRICS_INTERVAL, |i| i.get()),
            requests: m.requests.clone().unwrap_or_else(|| fam.requests.into()),
            status_label: errors.as_ref().map_or_else(|| defaults::STATUS_LABEL.into(), |(l, _)| l.clone()),
            duration: m.duration.clone().unwrap_or_else(|| fam.duration.into()),
            // Our own services' client libraries' defaults; a component's are its own.
            buckets: m.buckets.clone().unwrap_or_else(|| {
                if component.is_none() || m.duration.is_some() { defaults::BUCKETS.to_vec() } else { Vec::new() }
            }),
            histograms: m.histograms.clone().unwrap_or_default(),
            endpoint_label: m.endpoint_label.clone().unwrap_or_else(|| fam.endpoint.into()),
            gauges: m.gauges.clone().unwrap_or_default(),
            // A worker serves no requests: no request alerts unless it says
            // which counter it keeps.
            http: (known.is_some() && !worker) || declared,
            errors: errors.map(|(_, e)| e),
            per_second: if m.duration.is_some() { 1 } else { fam.per_second },
            served: if declared { None } else { fam.served.map(str::to_string) },
        };
        self.check_metric_names(&metrics);
        // `le` boundaries: a histogram's are increasing and above 0.
        let b = &metrics.buckets;
        if b.iter().any(|x| !(x.is_finite() && *x > 0.0)) || b.windows(2).any(|w| w[0] >= w[1]) {
            let name = self.name.to_string();
            self.err(
                Pos::UNKNOWN,
                format!("`{name}`: metrics.buckets must be increasing numbers of seconds above 0"),
                Some("e.g. `buckets: [0.05, 0.1, 0.3, 1]`".into()),
            );
        }
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
