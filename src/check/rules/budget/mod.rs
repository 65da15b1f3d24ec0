//! KP7xx: capacity and quotas — what workloads request against the
//! ResourceQuotas and LimitRanges of their namespaces (figures from
//! [`crate::model::resources`], the same as `kubeproof budget`).

use crate::check::Check;

mod quota_below_requests;
mod requests_without_limit_range;

pub const CHECKS: &[&dyn Check] =
    &[&requests_without_limit_range::RequestsWithoutLimitRange, &quota_below_requests::QuotaBelowRequests];
