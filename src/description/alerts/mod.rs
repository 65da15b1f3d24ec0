//! Alerting in the description: per-service thresholds and custom alerts,
//! service-level objectives, and the platform's routing to receivers — and
//! their resolved form (every default filled in) for the monitoring generator.
//!
//! This file holds the written form; `resolved.rs` the resolved one;
//! `service.rs` and `platform.rs` resolve a service's alerts and the
//! platform's alerting.

mod platform;
mod resolved;
mod service;

pub use platform::platform;
pub use resolved::{Alerting, CustomR, LatencyRule, LatencySlo, ReceiverR, Rule, SECRETS_DIR, SvcAlerts};
pub use service::service;

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::{Bytes, EnvValue, Millis, Name, Seconds};

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

/// Service-level objectives: availability, and latency with `under` and
/// `target`, each with recording rules per window and over the period, meta
/// series for dashboards, page and ticket burn-rate alerts and an alert when
/// its series is absent.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Slo {
    /// Percent of requests that must not fail, as a string: `"99.9"`.
    pub availability: Option<EnvValue>,
    /// Latency targets, e.g. `{ p99: 500ms }` (the `HighLatency` thresholds),
    /// and a latency objective `{ under: 300ms, target: "99" }`.
    pub latency: Option<LatencyTarget>,
    /// The period the objectives hold over (default 30d, from 7d to 90d);
    /// the burn-rate factors follow from it.
    pub period: Option<Seconds>,
    /// Requests per second over an alert's long window below which the
    /// burn-rate alerts stay silent (off unless set): a few failures of
    /// little traffic page no one.
    pub min_rate: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LatencyTarget {
    pub p50: Option<Millis>,
    pub p90: Option<Millis>,
    pub p95: Option<Millis>,
    pub p99: Option<Millis>,
    /// The latency objective's threshold: a request slower than this fails
    /// it. It must be a bucket boundary (`le`) of the duration histogram
    /// (`metrics.buckets`), or the ratio cannot be read.
    #[schemars(with = "Option<Millis>")]
    pub under: Option<Spanned<Millis>>,
    /// Percent of requests that must be faster than `under`, as a string: `"99"`.
    pub target: Option<EnvValue>,
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
/// webhook URL, SMTP password, a webhook's URL) are never written here: Alertmanager reads
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
    /// Webhook address `https://HOST[:PORT]` (required for webhooks): where
    /// Alertmanager connects. The URL it posts to (path, query, user) is
    /// read from the Secret's file of the receiver's name, never written here.
    pub url: Option<String>,
}

pub mod defaults {
    pub const ERROR_RATE: f64 = 5.0;
    pub const RESTARTS: f64 = 5.0;
    pub const CPU: f64 = 90.0;
    pub const MEMORY: f64 = 90.0;
    pub const VOLUMES: f64 = 85.0;
    pub const NODE_DISK_FREE: f64 = 10.0;
    pub const NODE_MEMORY: f64 = 90.0;
    pub const LATENCY_P99_MS: u64 = 1000;
    /// The objectives' period: 30 days, in seconds.
    pub const SLO_PERIOD: u32 = 30 * 86_400;
    pub const BACKUP_RUNS: f64 = 2.0;
    pub const RUNBOOK: &str = "RUNBOOK.md";
}

/// A standard alert: what is written over the alert's defaults.
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
