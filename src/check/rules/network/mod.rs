//! KP4xx: network policies — what they select, whether namespaces deny by
//! default, and whether the traffic the configuration implies is allowed.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::check::{Check, Context};

mod datastore_open;
mod egress_blocks_dns;
pub mod hosts;
mod no_default_deny;
mod peer_selects_nothing;
pub use crate::model::netpol;
mod policy_allows_all;
mod policy_selects_nothing;
pub mod service_unreachable;

pub const CHECKS: &[&dyn Check] = &[
    &policy_selects_nothing::PolicySelectsNothing,
    &no_default_deny::NoDefaultDeny,
    &egress_blocks_dns::EgressBlocksDns,
    &peer_selects_nothing::PeerSelectsNothing,
    &service_unreachable::ServiceUnreachable,
    &datastore_open::DatastoreOpen,
    &policy_allows_all::PolicyAllowsAll,
];

/// Why a label selector selects no pod template of `ns`: the first
/// `matchLabels` pair no pod has, with the closest value pods do have.
pub fn selector_hint(cx: &Context, ns: &str, selector: &Value) -> String {
    let everything = serde_json::Map::new();
    let in_ns = cx.index.with_labels(ns, &everything);
    for (k, v) in selector.get("matchLabels").and_then(Value::as_object).into_iter().flatten() {
        let v = v.as_str().unwrap_or("");
        if in_ns.iter().any(|t| t.labels.get(k).map(String::as_str) == Some(v)) {
            continue;
        }
        let values: BTreeSet<&str> = in_ns.iter().filter_map(|t| t.labels.get(k)).map(String::as_str).collect();
        return match crate::diag::did_you_mean(v, values.iter().copied()) {
            Some(s) => format!("no pod of {ns} has {k}={v}; did you mean {k}={s}?"),
            None if values.is_empty() => format!("no pod template of {ns} has the label {k}"),
            None => format!(
                "no pod of {ns} has {k}={v}; pods there have {k}={}",
                values.into_iter().collect::<Vec<_>>().join(", ")
            ),
        };
    }
    format!("no pod template of {ns} has labels matching this selector")
}

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
