//! Defaults, in one place so docs and code agree.

pub const REPLICAS: u32 = 2;
pub const CPU_MILLIS: u64 = 100;
pub const MEMORY: u64 = 128 * 1024 * 1024;
pub const RUN_AS_USER: u32 = 10001;
pub const HPA_CPU: u8 = 70;
pub const INGRESS_CLASS: &str = "nginx";
pub const INGRESS_NAMESPACE: &str = "ingress-nginx";
/// Where the Istio ingress gateway runs.
pub const ISTIO_NAMESPACE: &str = "istio-system";
pub const MONITORING_NAMESPACE: &str = "monitoring";
pub const ISSUER: &str = "letsencrypt-prod";
pub const DRAIN: u32 = 5;
pub const GRACE: u32 = 30;
/// Websockets: connections live long; give them time to move.
pub const WS_DRAIN: u32 = 30;
pub const WS_GRACE: u32 = 120;
pub const WS_TIMEOUT: u32 = 3600;
pub const HTTP_TIMEOUT: u32 = 60;
pub const METRICS_INTERVAL: u32 = 30;
/// The request-duration buckets (seconds) of the Prometheus client libraries.
pub const BUCKETS: [f64; 11] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
pub const S3_ENDPOINT: &str = "https://s3.amazonaws.com";
pub const BACKUP_CREDENTIALS: &str = "backup-credentials";
pub const VELERO_NAMESPACE: &str = "velero";
pub const VELERO_DAILY_AT: &str = "02:00";
pub const VELERO_HOURLY_AT: &str = ":30";
pub const REQUESTS_METRIC: &str = "http_requests_total";
pub const STATUS_LABEL: &str = "status";
pub const DURATION_METRIC: &str = "http_request_duration_seconds";
/// The values of [`STATUS_LABEL`] that are server errors: three-digit 5xx codes.
pub const SERVER_ERRORS: &str = "5..";
