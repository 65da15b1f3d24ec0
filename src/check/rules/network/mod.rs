//! KP4xx: network policies — what they select, whether namespaces deny by
//! default, and whether the traffic the configuration implies is allowed.

use crate::check::Check;
use crate::model::selector::Selector;

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

/// `app=web,tier=front` for a selector's `matchLabels` (and `(expressions)`
/// when it has requirements).
fn describe_selector(sel: &Selector) -> String {
    let mut parts: Vec<String> = sel.pairs().iter().map(|(k, v)| format!("{k}={}", v.unwrap_or("?"))).collect();
    if !sel.requirements().is_empty() {
        parts.push("(expressions)".into());
    }
    parts.join(",")
}

#[cfg(test)]
mod tests;
