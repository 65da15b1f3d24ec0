//! Service-mesh traffic settings of a service (`services.NAME.traffic`) and
//! the TLS policy at the edge (`cluster.tls`). They take effect when the
//! environment's mesh is `istio`: routes (VirtualService), upstream policy
//! (DestinationRule), canary releases and JWT validation.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use super::merge::Merge;
use crate::model::duration::Millis;

/// How the mesh routes to a service and how callers treat it. Applied only
/// when the mesh is `istio`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Traffic {
    /// Timeout of a whole request, retries included (e.g. `10s`); none by
    /// default. Not applied to WebSocket ports, whose sessions are long.
    pub timeout: Option<Millis>,
    /// Retries of failed requests.
    pub retries: Option<Retries>,
    /// A canary release: a second Deployment with `image`, receiving the
    /// current step's share of the traffic.
    pub canary: Option<Canary>,
    /// Connection pool limits per caller pod (circuit breaking).
    pub connection_pool: Option<ConnectionPool>,
    /// Ejection of failing pods from the load-balancing pool.
    pub outlier_detection: Option<OutlierDetection>,
    /// Load-balancing algorithm (default: `ROUND_ROBIN`; WebSocket services get
    /// source-IP consistent hashing, so sessions stay on their pod).
    pub load_balancer: Option<LoadBalancer>,
    /// Fault injection for resilience tests. Only generated when written here;
    /// usually set in a test environment only.
    pub fault: Option<Fault>,
    /// Requests through the public gateway must carry a valid JWT from this
    /// issuer (RequestAuthentication and AuthorizationPolicy).
    pub jwt: Option<Jwt>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Retries {
    /// Number of retries (default 2).
    pub attempts: Option<u32>,
    /// Timeout of each attempt (e.g. `2s`).
    pub per_try_timeout: Option<Millis>,
    /// Envoy retry conditions (default `5xx,reset,connect-failure,retriable-status-codes`).
    pub retry_on: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Canary {
    /// Image of the canary Deployment (`NAME-canary`). Pods of the stable and
    /// canary Deployments carry `track: stable` and `track: canary`; the
    /// DestinationRule's subsets select them by that label. The stable
    /// Deployment carries its label with or without a canary, so adding or
    /// removing one never changes its (immutable) selector.
    #[schemars(with = "Option<String>")]
    pub image: Option<Spanned<String>>,
    /// Rollout steps: percent of the traffic sent to the canary, increasing,
    /// e.g. `[10, 25, 50, 100]`.
    #[schemars(with = "Option<Vec<u8>>")]
    pub steps: Option<Spanned<Vec<u8>>>,
    /// The current step, counting from 1 (default 1): the VirtualService
    /// carries that step's split. Advance it to promote the canary.
    pub step: Option<u32>,
    /// Replicas of the canary Deployment (default 1).
    pub replicas: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConnectionPool {
    /// Maximum TCP connections to the service per caller pod.
    pub max_connections: Option<u32>,
    /// Connection timeout (e.g. `5s`).
    pub connect_timeout: Option<Millis>,
    /// Maximum concurrent HTTP/2 requests (and HTTP/1.1 requests in flight).
    pub http2_max_requests: Option<u32>,
    /// Maximum requests queued while waiting for a connection.
    pub http1_max_pending_requests: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OutlierDetection {
    /// Consecutive 5xx responses (or connection errors) before a pod is ejected (default 5).
    pub consecutive5xx_errors: Option<u32>,
    /// How often pods are evaluated (default `10s`).
    pub interval: Option<Millis>,
    /// Minimum ejection time, growing with each ejection (default `30s`).
    pub base_ejection_time: Option<Millis>,
    /// Most pods that may be ejected at once, in percent (default 50).
    pub max_ejection_percent: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LoadBalancer {
    RoundRobin,
    LeastConn,
    LeastRequest,
    Random,
    Passthrough,
}

impl LoadBalancer {
    pub fn as_str(&self) -> &'static str {
        match self {
            LoadBalancer::RoundRobin => "ROUND_ROBIN",
            LoadBalancer::LeastConn => "LEAST_CONN",
            LoadBalancer::LeastRequest => "LEAST_REQUEST",
            LoadBalancer::Random => "RANDOM",
            LoadBalancer::Passthrough => "PASSTHROUGH",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Fault {
    /// Delay a share of the requests.
    pub delay: Option<FaultDelay>,
    /// Fail a share of the requests with an HTTP status.
    pub abort: Option<FaultAbort>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultDelay {
    /// Percent of requests delayed (0–100).
    pub percent: Option<f64>,
    /// The delay (e.g. `2s`).
    pub fixed_delay: Option<Millis>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FaultAbort {
    /// Percent of requests aborted (0–100).
    pub percent: Option<f64>,
    /// The status returned (e.g. 503).
    pub http_status: Option<u16>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Jwt {
    /// The token issuer (`iss`), e.g. `https://auth.example.com`.
    pub issuer: Option<String>,
    /// Where the issuer publishes its keys (default: OpenID discovery from the issuer).
    pub jwks_uri: Option<String>,
    /// Accepted audiences (`aud`); any when empty.
    pub audiences: Option<Vec<String>>,
}

/// TLS versions accepted at the edge (the Istio ingress Gateway).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EdgeTls {
    /// Lowest TLS version accepted: `"1.2"` (default) or `"1.3"`.
    pub min_version: Option<TlsVersion>,
    /// Highest TLS version accepted (default: the newest Envoy supports).
    pub max_version: Option<TlsVersion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, JsonSchema)]
pub enum TlsVersion {
    #[serde(rename = "1.2")]
    V1_2,
    #[serde(rename = "1.3")]
    V1_3,
}

impl TlsVersion {
    pub fn as_str(&self) -> &'static str {
        match self {
            TlsVersion::V1_2 => "1.2",
            TlsVersion::V1_3 => "1.3",
        }
    }

    /// Istio's spelling: `TLSV1_2`.
    pub fn istio(&self) -> &'static str {
        match self {
            TlsVersion::V1_2 => "TLSV1_2",
            TlsVersion::V1_3 => "TLSV1_3",
        }
    }
}

macro_rules! merge_fields {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl Merge for $t {
            fn merge(&mut self, other: Self) {
                let $t { $($f),* } = other;
                $( self.$f.merge($f); )*
            }
        }
    };
}

merge_fields!(Traffic { timeout, retries, canary, connection_pool, outlier_detection, load_balancer, fault, jwt });
merge_fields!(Retries { attempts, per_try_timeout, retry_on });
merge_fields!(Canary { image, steps, step, replicas });
merge_fields!(ConnectionPool { max_connections, connect_timeout, http2_max_requests, http1_max_pending_requests });
merge_fields!(OutlierDetection { consecutive5xx_errors, interval, base_ejection_time, max_ejection_percent });
merge_fields!(Fault { delay, abort });
merge_fields!(FaultDelay { percent, fixed_delay });
merge_fields!(FaultAbort { percent, http_status });
merge_fields!(Jwt { issuer, jwks_uri, audiences });

impl Merge for LoadBalancer {
    fn merge(&mut self, other: Self) {
        *self = other;
    }
}
