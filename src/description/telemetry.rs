//! Traces and logs: where the OpenTelemetry Collector sends spans and with
//! which sampling ratio, and where container logs are shipped and for how long
//! they are kept. Both sections are optional; without them no collector or
//! shipper configuration is written.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use crate::model::duration::Seconds;

/// Traces: the OpenTelemetry Collector receives OTLP from the services and
/// exports to Jaeger (which reads OTLP since 1.35) or any OTLP endpoint.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Tracing {
    /// `jaeger` (default) or `otlp`.
    pub exporter: Option<TraceExporter>,
    /// OTLP gRPC endpoint `host:port` (default `jaeger-collector.<monitoringNamespace>:4317`
    /// for Jaeger, `otlp-gateway.<monitoringNamespace>:4317` otherwise).
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// Share of traces kept, as `"10%"` or a number of percent (default `100%`).
    pub sampling: Option<Percent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TraceExporter {
    Jaeger,
    Otlp,
}

/// Container logs: shipped by Fluent Bit (a DaemonSet) to Loki or Elasticsearch.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Logs {
    /// `loki` (default) or `elasticsearch`.
    pub backend: Option<LogBackend>,
    /// `host:port` of the backend (default `loki-gateway.<monitoringNamespace>:80`
    /// or `elasticsearch-master.<monitoringNamespace>:9200`).
    #[schemars(with = "Option<String>")]
    pub endpoint: Option<Spanned<String>>,
    /// How long logs are kept (default 7d); Loki's `retention_period`, or the
    /// Elasticsearch index lifecycle's delete phase.
    pub retention: Option<Seconds>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogBackend {
    Loki,
    Elasticsearch,
}

/// A percentage above 0 and at most 100: `"10%"`, `"12.5%"` or `10`.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Percent(f64);

impl Percent {
    pub fn get(self) -> f64 {
        self.0
    }

    pub fn parse(s: &str) -> Result<Percent, String> {
        let t = s.trim();
        let n = t.strip_suffix('%').unwrap_or(t).trim();
        let v: f64 = n.parse().map_err(|_| format!("invalid percentage {s:?}: write it as \"10%\" or 10"))?;
        Percent::new(v)
    }

    fn new(v: f64) -> Result<Percent, String> {
        if v.is_finite() && v > 0.0 && v <= 100.0 {
            Ok(Percent(v))
        } else {
            Err(format!("percentage {v} is out of range: it must be above 0 and at most 100"))
        }
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Percent;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a percentage such as \"10%\" or 10")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent, E> {
                Percent::new(v).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent, E> {
                self.visit_f64(v as f64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Percent, E> {
                Percent::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Percent {
    fn schema_name() -> Cow<'static, str> {
        "Percent".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                { "type": "number", "exclusiveMinimum": 0, "maximum": 100 },
                { "type": "string", "pattern": "^[0-9]+(\\.[0-9]+)?%$" }
            ]
        })
    }
}

/// Default log retention: 7 days.
/// The variables the generator sets in each application service (not an
/// off-the-shelf component) when the platform has `tracing`: the
/// collector's endpoint, its protocol, the service's name.
pub const OTEL_VARIABLES: [&str; 3] =
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_SERVICE_NAME"];

pub const LOG_RETENTION: u32 = 7 * 24 * 3600;

/// Traces and logs with defaults applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Telemetry {
    pub tracing: Option<TracingR>,
    pub logs: Option<LogsR>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TracingR {
    pub exporter: TraceExporter,
    pub endpoint: String,
    /// Percent of traces kept.
    pub sampling: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogsR {
    pub backend: LogBackend,
    pub endpoint: String,
    pub retention: u32,
}

/// Applies the defaults; `monitoring` is the namespace of the backends.
pub fn resolve(tracing: Option<&Tracing>, logs: Option<&Logs>, monitoring: &str) -> Telemetry {
    Telemetry {
        tracing: tracing.map(|t| {
            let exporter = t.exporter.unwrap_or(TraceExporter::Jaeger);
            let host = match exporter {
                TraceExporter::Jaeger => "jaeger-collector",
                TraceExporter::Otlp => "otlp-gateway",
            };
            TracingR {
                exporter,
                endpoint: t
                    .endpoint
                    .as_ref()
                    .map(|e| e.value.clone())
                    .unwrap_or_else(|| format!("{host}.{monitoring}:4317")),
                sampling: t.sampling.map_or(100.0, Percent::get),
            }
        }),
        logs: logs.map(|l| {
            let backend = l.backend.unwrap_or(LogBackend::Loki);
            let default = match backend {
                LogBackend::Loki => format!("loki-gateway.{monitoring}:80"),
                LogBackend::Elasticsearch => format!("elasticsearch-master.{monitoring}:9200"),
            };
            LogsR {
                backend,
                endpoint: l.endpoint.as_ref().map(|e| e.value.clone()).unwrap_or(default),
                retention: l.retention.map_or(LOG_RETENTION, Seconds::get),
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(Percent::parse("10%").map(Percent::get), Ok(10.0));
        assert_eq!(Percent::parse("12.5 %").map(Percent::get), Ok(12.5));
        assert_eq!(Percent::parse("100").map(Percent::get), Ok(100.0));
        assert!(Percent::parse("0%").is_err());
        assert!(Percent::parse("120%").is_err());
        assert!(Percent::parse("ten").is_err());
    }
}
