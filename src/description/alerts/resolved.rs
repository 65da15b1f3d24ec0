//! Alerting with every default filled in, for the monitoring generator.

use super::{MetricKind, ReceiverKind, Severity};

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
    /// Latency objective: the share of requests faster than a bucket boundary.
    pub latency_slo: Option<LatencySlo>,
    /// The objectives' period in seconds (30 days unless written).
    pub period: u32,
    /// Requests per second over the long window below which the burn-rate alerts stay silent.
    pub min_rate: Option<f64>,
}

/// A latency objective: `target` percent of requests within `seconds`.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySlo {
    /// The bucket boundary, in seconds.
    pub seconds: f64,
    /// Percent (`99`).
    pub target: f64,
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
