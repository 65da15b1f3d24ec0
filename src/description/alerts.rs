//! Alerting in the description: per-service thresholds and custom alerts,
//! service-level objectives, and the platform's routing to receivers — and
//! their resolved form (every default filled in) for the monitoring generator.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::{Bytes, EnvValue, Millis, Name, Seconds};
use crate::diag::{Diagnostic, Pos};

/// How urgent an alert is; routes pick receivers by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    Warning,
    Info,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Critical, Severity::Warning, Severity::Info];

    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// One standard alert's settings: a number (the threshold), `false` (off), or
/// the full form.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ThresholdMap {
    /// The limit; its unit is the alert's (percent, restarts per hour, …).
    pub threshold: Option<f64>,
    /// How long the condition must hold before the alert fires.
    #[serde(rename = "for")]
    pub for_: Option<Seconds>,
    pub severity: Option<Severity>,
    /// `false` turns the alert off.
    pub enabled: Option<bool>,
}

/// See [`ThresholdMap`]; also written as a plain number or `false`.
#[derive(Debug, Clone, Default)]
pub struct Threshold(pub ThresholdMap);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Threshold;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number (the threshold), false, or a map with threshold, for, severity")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Threshold, E> {
                Ok(Threshold(ThresholdMap { threshold: Some(v), ..ThresholdMap::default() }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Threshold, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Threshold, E> {
                self.visit_f64(v as f64)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Threshold, E> {
                Ok(Threshold(ThresholdMap { enabled: Some(v), ..ThresholdMap::default() }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Threshold, A::Error> {
                ThresholdMap::deserialize(de::value::MapAccessDeserializer::new(map)).map(Threshold)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Threshold {
    fn schema_name() -> Cow<'static, str> {
        "Threshold".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let inner = g.subschema_for::<ThresholdMap>();
        json_schema!({ "anyOf": [ { "type": "number" }, { "type": "boolean" }, inner ] })
    }
}

/// A latency alert: one or more percentiles and their limits, e.g. `{ p99: 1s }`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyAlert {
    pub p50: Option<Millis>,
    pub p90: Option<Millis>,
    pub p95: Option<Millis>,
    pub p99: Option<Millis>,
    #[serde(rename = "for")]
    pub for_: Option<Seconds>,
    pub severity: Option<Severity>,
    /// `false` turns the alert off.
    pub enabled: Option<bool>,
}

/// Memory working set above an absolute size, e.g. `{ threshold: 1024Mi }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BytesAlert {
    pub threshold: Bytes,
    #[serde(rename = "for")]
    pub for_: Option<Seconds>,
    pub severity: Option<Severity>,
}

/// How a custom alert reads its metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// Fires when the counter increased by more than `threshold` over `window`.
    Counter,
    /// Fires when the value is above `threshold`.
    Gauge,
    /// Fires when the `quantile` of the histogram (seconds) is above `threshold`.
    Histogram,
}

/// An alert on one of the service's own metrics.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CustomAlert {
    /// Alert name, CamelCase (e.g. `ModelLoadingFailure`).
    pub name: String,
    /// The metric name the service exports (for a histogram: the base name, without `_bucket`).
    pub metric: String,
    /// `counter`, `gauge` (default) or `histogram`.
    pub kind: Option<MetricKind>,
    /// Histogram quantile, between 0 and 1 (default 0.99).
    pub quantile: Option<f64>,
    /// Fires above this value (a counter's increase; a histogram's quantile in seconds).
    pub threshold: f64,
    /// Range of `increase`/`rate` (default 5m; counters 15m).
    pub window: Option<Seconds>,
    #[serde(rename = "for")]
    pub for_: Option<Seconds>,
    /// Default `warning`.
    pub severity: Option<Severity>,
    /// One line saying what is wrong (default: from the metric and threshold).
    pub summary: Option<String>,
}

/// Per-service alerts. Every standard alert is on by default with the
/// documented threshold; set a number to change it, `false` to turn it off.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ServiceAlerts {
    /// `ServiceDown`: no metrics target up, or no replica available (critical).
    pub down: Option<Threshold>,
    /// `HighErrorRatio`: percent of responses with a 5xx status (default 5, warning).
    pub error_rate: Option<Threshold>,
    /// `HighLatency`: request duration percentiles (default: the SLO's, else p99 above 1s).
    pub latency: Option<LatencyAlert>,
    /// `CrashLooping`: container restarts per hour (default 5, warning).
    pub restarts: Option<Threshold>,
    /// `HighCpuUsage`: percent of the CPU limit, or of the request without a limit (default 90).
    pub cpu: Option<Threshold>,
    /// `MemoryNearLimit`: percent of the memory limit (default 90).
    pub memory: Option<Threshold>,
    /// `MemoryAboveThreshold`: working set above a size (off unless set).
    pub memory_bytes: Option<BytesAlert>,
    /// `ReplicasUnavailable`: unavailable replicas above this count for 10m (default 0).
    pub replicas: Option<Threshold>,
    /// `HpaAtMaximum`: the autoscaler at its maximum for 15m (info).
    pub hpa_max: Option<Threshold>,
    /// Alerts on the service's own metrics.
    pub custom: Option<Vec<CustomAlert>>,
}

/// A service-level objective; availability adds multi-window burn-rate alerts.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Slo {
    /// Percent of requests that must not fail, as a string: `"99.9"`.
    pub availability: Option<EnvValue>,
    /// Latency targets, e.g. `{ p99: 500ms }` (the `HighLatency` thresholds).
    pub latency: Option<LatencyTarget>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyTarget {
    pub p50: Option<Millis>,
    pub p90: Option<Millis>,
    pub p95: Option<Millis>,
    pub p99: Option<Millis>,
}

/// Platform-wide alerting: which receivers get each severity, and alerts
/// that belong to no single service.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PlatformAlerts {
    /// Receivers of critical alerts (names from `receivers`, or pagerduty, slack, email).
    #[schemars(with = "Option<Vec<String>>")]
    pub critical: Option<Vec<Name>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub warning: Option<Vec<Name>>,
    #[schemars(with = "Option<Vec<String>>")]
    pub info: Option<Vec<Name>>,
    /// Where RUNBOOK.md is published; alerts link to `<runbookBase>#<alert>` (default `RUNBOOK.md`).
    pub runbook_base: Option<String>,
    /// `VolumeFillingUp`: percent of a PersistentVolumeClaim used (default 85).
    pub volumes: Option<Threshold>,
    /// Node alerts (need node-exporter); off unless set.
    pub nodes: Option<NodeAlerts>,
    /// `BackupTooOld`: a backup CronJob's last success older than this many runs (default 2).
    pub backup_runs: Option<Threshold>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeAlerts {
    /// `NodeDiskLow`: percent of a node filesystem still free, below which it fires (default 10).
    pub disk_free: Option<Threshold>,
    /// `NodeMemoryHigh`: percent of a node's memory in use (default 90).
    pub memory: Option<Threshold>,
}

/// The kind of an Alertmanager receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReceiverKind {
    Pagerduty,
    Slack,
    Email,
    Webhook,
}

impl ReceiverKind {
    fn from_name(name: &str) -> Option<ReceiverKind> {
        match name {
            "pagerduty" => Some(ReceiverKind::Pagerduty),
            "slack" => Some(ReceiverKind::Slack),
            "email" => Some(ReceiverKind::Email),
            "webhook" => Some(ReceiverKind::Webhook),
            _ => None,
        }
    }
}

/// An Alertmanager receiver. Credentials (PagerDuty routing key, Slack
/// webhook URL, SMTP password) are never written here: Alertmanager reads
/// them from files of a Secret (see the generated monitoring/README.md).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Receiver {
    /// `pagerduty`, `slack`, `email` or `webhook` (default: the receiver's name).
    pub kind: Option<ReceiverKind>,
    /// Slack channel (default `#<platform>-alerts`).
    pub channel: Option<String>,
    /// Email recipient (default `oncall@<domain>`).
    pub to: Option<String>,
    /// Email sender (default `alertmanager@<domain>`).
    pub from: Option<String>,
    /// SMTP server `host:port` (default `smtp.<domain>:587`).
    pub smarthost: Option<String>,
    /// Webhook URL (required for webhooks).
    pub url: Option<String>,
}

// ---- resolved --------------------------------------------------------------

/// One standard alert, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub enabled: bool,
    pub threshold: f64,
    pub for_seconds: u32,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LatencyRule {
    /// `p99`
    pub name: &'static str,
    pub quantile: f64,
    pub seconds: f64,
    pub for_seconds: u32,
    pub severity: Severity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomR {
    pub name: String,
    pub metric: String,
    pub kind: MetricKind,
    pub quantile: f64,
    pub threshold: f64,
    pub window: u32,
    pub for_seconds: u32,
    pub severity: Severity,
    pub summary: Option<String>,
}

/// A service's alerts with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct SvcAlerts {
    pub down: Rule,
    pub error_rate: Rule,
    pub latency: Vec<LatencyRule>,
    pub restarts: Rule,
    pub cpu: Rule,
    pub memory: Rule,
    pub memory_bytes: Option<Rule>,
    pub replicas: Rule,
    pub hpa_max: Rule,
    pub custom: Vec<CustomR>,
    /// Availability objective in percent (`99.9`).
    pub availability: Option<f64>,
}

/// A receiver with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceiverR {
    pub name: String,
    pub kind: ReceiverKind,
    pub channel: String,
    pub to: String,
    pub from: String,
    pub smarthost: String,
    pub url: String,
}

/// The platform's alerting, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Alerting {
    /// Receivers per severity, as the description lists them (empty: not routed).
    pub routes: Vec<(Severity, Vec<String>)>,
    pub receivers: Vec<ReceiverR>,
    pub runbook_base: String,
    pub volumes: Rule,
    pub node_disk_free: Option<Rule>,
    pub node_memory: Option<Rule>,
    pub backup_runs: Rule,
    /// Name of the Secret whose files hold receiver credentials.
    pub secret: String,
}

impl Alerting {
    /// Whether the description routes alerts anywhere (then alertmanager.yml is written).
    pub fn routed(&self) -> bool {
        self.routes.iter().any(|(_, r)| !r.is_empty())
    }
}

/// Where Alertmanager finds the credential files: the Prometheus Operator
/// mounts each Secret of `Alertmanager.spec.secrets` at this path + its name.
pub const SECRETS_DIR: &str = "/etc/alertmanager/secrets";

pub mod defaults {
    pub const ERROR_RATE: f64 = 5.0;
    pub const RESTARTS: f64 = 5.0;
    pub const CPU: f64 = 90.0;
    pub const MEMORY: f64 = 90.0;
    pub const VOLUMES: f64 = 85.0;
    pub const NODE_DISK_FREE: f64 = 10.0;
    pub const NODE_MEMORY: f64 = 90.0;
    pub const LATENCY_P99_MS: u64 = 1000;
    pub const BACKUP_RUNS: f64 = 2.0;
    pub const RUNBOOK: &str = "RUNBOOK.md";
}

fn rule(t: Option<&Threshold>, threshold: f64, for_seconds: u32, severity: Severity) -> Rule {
    let m = t.map(|t| &t.0);
    Rule {
        enabled: m.and_then(|m| m.enabled).unwrap_or(true),
        threshold: m.and_then(|m| m.threshold).unwrap_or(threshold),
        for_seconds: m.and_then(|m| m.for_).map_or(for_seconds, |s| s.get()),
        severity: m.and_then(|m| m.severity).unwrap_or(severity),
    }
}

/// A Prometheus metric name.
pub fn is_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_alphabetic() || x == '_' || x == ':')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ':')
}

fn is_alert_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_uppercase()) && c.all(|x| x.is_ascii_alphanumeric())
}

/// Resolves a service's `alerts` and `slo`; errors point at the service.
pub fn service(
    alerts: Option<&ServiceAlerts>,
    slo: Option<&Slo>,
    pos: Pos,
    name: &str,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> SvcAlerts {
    let mut err = |msg: String, help: &str| {
        let d = Diagnostic::error(file, pos, msg);
        errors.push(if help.is_empty() { d } else { d.with_help(help.to_string()) });
    };
    let a = alerts.cloned().unwrap_or_default();
    let percent = |r: Rule, what: &str, err: &mut dyn FnMut(String, &str)| {
        if r.enabled && !(r.threshold > 0.0 && r.threshold < 100.0) {
            err(
                format!("`{name}`: the {what} alert threshold {} must be a percent above 0 and below 100", r.threshold),
                "e.g. `5` for 5%",
            );
        }
        r
    };
    let availability = match slo.and_then(|s| s.availability.as_ref()) {
        None => None,
        Some(v) => match v.0.trim_end_matches('%').parse::<f64>() {
            Ok(x) if (95.0..100.0).contains(&x) => Some(x),
            _ => {
                err(
                    format!(
                        "`{name}`: slo availability {:?} must be a percent from 95 to below 100 (below 95 a 14.4× burn rate exceeds 100% errors)",
                        v.0
                    ),
                    "e.g. `availability: \"99.9\"`",
                );
                None
            }
        },
    };

    let lat = a.latency.clone().unwrap_or_default();
    let target = slo.and_then(|s| s.latency.clone()).unwrap_or_default();
    let mut latency = Vec::new();
    if lat.enabled != Some(false) {
        let pick = [
            ("p50", 0.5, lat.p50.or(target.p50)),
            ("p90", 0.9, lat.p90.or(target.p90)),
            ("p95", 0.95, lat.p95.or(target.p95)),
            ("p99", 0.99, lat.p99.or(target.p99)),
        ];
        let any = pick.iter().any(|(_, _, m)| m.is_some());
        for (pname, quantile, ms) in pick {
            let ms = match ms {
                Some(m) => m.get(),
                None if !any && pname == "p99" => defaults::LATENCY_P99_MS,
                None => continue,
            };
            if ms == 0 {
                err(format!("`{name}`: the {pname} latency threshold must be above 0"), "");
            }
            latency.push(LatencyRule {
                name: pname,
                quantile,
                seconds: ms as f64 / 1000.0,
                for_seconds: lat.for_.map_or(600, |s| s.get()),
                severity: lat.severity.unwrap_or(Severity::Warning),
            });
        }
    }

    let mut custom = Vec::new();
    for c in a.custom.iter().flatten() {
        if !is_alert_name(&c.name) {
            err(
                format!("`{name}`: custom alert name `{}` must be CamelCase letters and digits", c.name),
                "e.g. `ModelLoadingFailure`",
            );
        }
        if custom.iter().any(|x: &CustomR| x.name == c.name) {
            err(format!("`{name}`: duplicate custom alert `{}`", c.name), "");
        }
        if !is_metric_name(&c.metric) {
            err(format!("`{name}`: `{}` is not a Prometheus metric name", c.metric), "");
        }
        let kind = c.kind.unwrap_or(MetricKind::Gauge);
        let quantile = c.quantile.unwrap_or(0.99);
        if !(quantile > 0.0 && quantile < 1.0) {
            err(format!("`{name}`: quantile {quantile} of `{}` must be between 0 and 1", c.name), "e.g. 0.99");
        }
        if !c.threshold.is_finite() || c.threshold < 0.0 {
            err(format!("`{name}`: the threshold of `{}` must be a number of at least 0", c.name), "");
        }
        let window = c.window.map_or(if kind == MetricKind::Counter { 900 } else { 300 }, |w| w.get());
        if window < 60 {
            err(format!("`{name}`: the window of `{}` must be at least 1m", c.name), "");
        }
        custom.push(CustomR {
            name: c.name.clone(),
            metric: c.metric.clone(),
            kind,
            quantile,
            threshold: c.threshold,
            window,
            for_seconds: c.for_.map_or(300, |s| s.get()),
            severity: c.severity.unwrap_or(Severity::Warning),
            summary: c.summary.clone(),
        });
    }

    let restarts = rule(a.restarts.as_ref(), defaults::RESTARTS, 300, Severity::Warning);
    if restarts.enabled && !(restarts.threshold >= 0.0 && restarts.threshold.is_finite()) {
        err(format!("`{name}`: the restarts threshold must be a count of at least 0"), "");
    }
    let replicas = rule(a.replicas.as_ref(), 0.0, 600, Severity::Warning);
    if replicas.enabled && !(replicas.threshold >= 0.0 && replicas.threshold.is_finite()) {
        err(format!("`{name}`: the replicas threshold must be a count of at least 0"), "");
    }
    SvcAlerts {
        down: rule(a.down.as_ref(), 0.0, 120, Severity::Critical),
        error_rate: percent(
            rule(a.error_rate.as_ref(), defaults::ERROR_RATE, 300, Severity::Warning),
            "error rate",
            &mut err,
        ),
        latency,
        restarts,
        cpu: percent(rule(a.cpu.as_ref(), defaults::CPU, 900, Severity::Warning), "cpu", &mut err),
        memory: percent(rule(a.memory.as_ref(), defaults::MEMORY, 900, Severity::Warning), "memory", &mut err),
        memory_bytes: a.memory_bytes.as_ref().map(|b| Rule {
            enabled: true,
            threshold: b.threshold.get() as f64,
            for_seconds: b.for_.map_or(900, |s| s.get()),
            severity: b.severity.unwrap_or(Severity::Warning),
        }),
        replicas,
        hpa_max: rule(a.hpa_max.as_ref(), 0.0, 900, Severity::Info),
        custom,
        availability,
    }
}

/// Resolves the platform's `alerts` and `receivers`; a route naming a
/// receiver that is neither declared nor a known kind is an error at its name.
pub fn platform(
    alerts: Option<&PlatformAlerts>,
    receivers: &BTreeMap<Name, Receiver>,
    platform: &str,
    domain: Option<&str>,
    file: &Path,
) -> Result<Alerting, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let a = alerts.cloned().unwrap_or_default();
    let mut out_receivers: Vec<ReceiverR> = Vec::new();
    let resolve_receiver = |name: &Name, r: Option<&Receiver>, errors: &mut Vec<Diagnostic>| -> Option<ReceiverR> {
        let r = r.cloned().unwrap_or_default();
        let Some(kind) = r.kind.or_else(|| ReceiverKind::from_name(name)) else {
            errors.push(
                Diagnostic::error(file, name.pos(), format!("receiver `{name}` has no `kind`"))
                    .with_help("declare it under `receivers:` with `kind: pagerduty`, `slack`, `email` or `webhook`"),
            );
            return None;
        };
        let need_domain = |what: &str, errors: &mut Vec<Diagnostic>| -> String {
            match domain {
                Some(d) => d.to_string(),
                None => {
                    errors.push(
                        Diagnostic::error(file, name.pos(), format!("email receiver `{name}` has no `{what}`"))
                            .with_help("set `to`, `from` and `smarthost`, or the platform's `domain` for defaults"),
                    );
                    String::new()
                }
            }
        };
        let mut out = ReceiverR {
            name: name.to_string(),
            kind,
            channel: r.channel.clone().unwrap_or_else(|| format!("#{platform}-alerts")),
            to: String::new(),
            from: String::new(),
            smarthost: String::new(),
            url: r.url.clone().unwrap_or_default(),
        };
        if kind == ReceiverKind::Email {
            out.to = r.to.clone().unwrap_or_else(|| format!("oncall@{}", need_domain("to", errors)));
            out.from = r.from.clone().unwrap_or_else(|| format!("alertmanager@{}", need_domain("from", errors)));
            out.smarthost =
                r.smarthost.clone().unwrap_or_else(|| format!("smtp.{}:587", need_domain("smarthost", errors)));
        }
        if kind == ReceiverKind::Webhook && !(out.url.starts_with("https://") || out.url.starts_with("http://")) {
            errors.push(
                Diagnostic::error(
                    file,
                    name.pos(),
                    format!("webhook receiver `{name}` needs a `url` (http:// or https://)"),
                )
                .with_help("e.g. `url: https://hooks.example.com/alerts`"),
            );
        }
        Some(out)
    };
    let mut routes = Vec::new();
    for (sev, list) in [(Severity::Critical, &a.critical), (Severity::Warning, &a.warning), (Severity::Info, &a.info)] {
        let mut names = Vec::new();
        for n in list.iter().flatten() {
            if names.contains(&n.to_string()) {
                errors.push(Diagnostic::error(
                    file,
                    n.pos(),
                    format!("receiver `{n}` is listed twice for {}", sev.as_str()),
                ));
                continue;
            }
            if !out_receivers.iter().any(|r| r.name == n.as_str()) {
                let declared = receivers.get(n.as_str());
                if declared.is_none() && ReceiverKind::from_name(n).is_none() {
                    let d = Diagnostic::error(file, n.pos(), format!("unknown receiver `{n}`"));
                    let known: Vec<&str> = receivers
                        .keys()
                        .map(|k| k.as_str())
                        .chain(["pagerduty", "slack", "email", "webhook"])
                        .collect();
                    let d = match crate::diag::did_you_mean(n, known) {
                        Some(s) => d.with_help(format!("did you mean `{s}`? (or declare `{n}` under `receivers:`)")),
                        None => d.with_help(format!("declare `{n}` under `receivers:`")),
                    };
                    errors.push(d);
                    continue;
                }
                if let Some(r) = resolve_receiver(n, declared, &mut errors) {
                    out_receivers.push(r);
                }
            }
            names.push(n.to_string());
        }
        routes.push((sev, names));
    }
    // Declared receivers that no route uses are still written (a person may route to them by hand).
    for (n, r) in receivers {
        if !out_receivers.iter().any(|x| x.name == n.as_str())
            && let Some(r) = resolve_receiver(n, Some(r), &mut errors)
        {
            out_receivers.push(r);
        }
    }
    out_receivers.sort_by(|a, b| a.name.cmp(&b.name));

    let volumes = rule(a.volumes.as_ref(), defaults::VOLUMES, 900, Severity::Warning);
    let nodes = a.nodes.clone();
    let node_disk_free = nodes
        .as_ref()
        .and_then(|n| n.disk_free.as_ref())
        .map(|t| rule(Some(t), defaults::NODE_DISK_FREE, 900, Severity::Warning))
        .filter(|r| r.enabled);
    let node_memory = nodes
        .as_ref()
        .and_then(|n| n.memory.as_ref())
        .map(|t| rule(Some(t), defaults::NODE_MEMORY, 900, Severity::Warning))
        .filter(|r| r.enabled);
    for (what, r) in [
        ("volumes", Some(&volumes)),
        ("nodes.diskFree", node_disk_free.as_ref()),
        ("nodes.memory", node_memory.as_ref()),
    ] {
        if let Some(r) = r
            && r.enabled
            && !(r.threshold > 0.0 && r.threshold < 100.0)
        {
            errors.push(Diagnostic::error(
                file,
                Pos::UNKNOWN,
                format!("alerts.{what}: threshold {} must be a percent above 0 and below 100", r.threshold),
            ));
        }
    }
    let backup_runs = rule(a.backup_runs.as_ref(), defaults::BACKUP_RUNS, 0, Severity::Critical);
    if !(backup_runs.threshold >= 1.0 && backup_runs.threshold.is_finite()) {
        errors.push(Diagnostic::error(file, Pos::UNKNOWN, "alerts.backupRuns must be at least 1"));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Alerting {
        routes,
        receivers: out_receivers,
        runbook_base: a.runbook_base.clone().unwrap_or_else(|| defaults::RUNBOOK.to_string()),
        volumes,
        node_disk_free,
        node_memory,
        backup_runs,
        secret: format!("{platform}-alertmanager"),
    })
}
