//! KP4xx: network policies — what they select, whether namespaces deny by
//! default, and whether the traffic the configuration implies is allowed.

use serde_json::Value;

use crate::check::Check;

mod datastore_open;
mod egress_blocks_dns;

mod no_default_deny;
mod peer_selects_nothing;

mod policy_allows_all;
mod policy_selects_nothing;
mod service_unreachable;

pub const CHECKS: &[&dyn Check] = &[
    &policy_selects_nothing::PolicySelectsNothing,
    &no_default_deny::NoDefaultDeny,
    &egress_blocks_dns::EgressBlocksDns,
    &peer_selects_nothing::PeerSelectsNothing,
    &service_unreachable::ServiceUnreachable,
    &datastore_open::DatastoreOpen,
    &policy_allows_all::PolicyAllowsAll,
];

/// `app=web,tier=front` for a selector's `matchLabels` (and `…` for expressions).
pub fn describe_selector(sel: &Value) -> String {
    let mut parts: Vec<String> = sel
        .get("matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?")))
        .collect();
    if sel.get("matchExpressions").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
        parts.push("(expressions)".into());
    }
    parts.join(",")
}

#[cfg(test)]
mod tests;
