//! KP5xx: the Istio service mesh — routes that lead nowhere (hosts, subsets,
//! gateways), traffic splits, mutual TLS settings that contradict each other,
//! authorization policies naming identities that do not exist, and hosts
//! claimed twice.

use crate::model::At;
use crate::model::selector::Selector;
use std::collections::HashSet;

use crate::model::Value;

use crate::check::{Check, Context};

mod destination_not_found;
mod gateway_not_found;
mod host_claimed_twice;
mod principal_not_found;
mod subset_not_defined;
mod subset_selects_nothing;
mod tls_contradicts_peer_authentication;
mod weights_not_100;

pub const CHECKS: &[&dyn Check] = &[
    &destination_not_found::DestinationNotFound,
    &subset_not_defined::SubsetNotDefined,
    &gateway_not_found::GatewayNotFound,
    &weights_not_100::WeightsNot100,
    &tls_contradicts_peer_authentication::TlsContradictsPeerAuthentication,
    &principal_not_found::PrincipalNotFound,
    &host_claimed_twice::HostClaimedTwice,
    &subset_selects_nothing::SubsetSelectsNothing,
];

/// Namespaces holding at least one Service in the checked set: only there can
/// a missing Service be told from one defined elsewhere.
pub fn service_namespaces<'a>(cx: &'a Context) -> HashSet<&'a str> {
    cx.index.of_kind("Service").iter().map(|&i| cx.objects[i].ns()).collect()
}

const SUFFIX: &str = ".svc.cluster.local";

/// The Kubernetes Service a mesh host written in namespace `ns` names, as
/// (name, namespace): `name` (Istio expands it in the object's namespace),
/// `name.namespace.svc.cluster.local`, or `name.namespace` when that
/// namespace holds Services in the checked set (otherwise `a.b` is read as
/// an outside name such as `example.com`). `None` for other hosts and
/// wildcards.
pub fn service_of<'a>(host: &'a str, ns: &'a str, service_ns: &HashSet<&str>) -> Option<(&'a str, &'a str)> {
    if host.contains('*') || host.is_empty() {
        return None;
    }
    if let Some(rest) = host.strip_suffix(SUFFIX) {
        return rest.split_once('.').filter(|(_, n)| !n.contains('.'));
    }
    match host.split_once('.') {
        None => Some((host, ns)),
        Some((name, n)) if !n.contains('.') && service_ns.contains(n) => Some((name, n)),
        Some(_) => None,
    }
}

/// A host as Istio compares it: the Service's full name, or the host as written.
pub fn canonical(host: &str, ns: &str, service_ns: &HashSet<&str>) -> String {
    match service_of(host, ns, service_ns) {
        Some((name, n)) => format!("{name}.{n}{SUFFIX}"),
        None => host.to_string(),
    }
}

/// One destination of a VirtualService route.
pub struct Destination<'a> {
    /// Pointer to the `destination` mapping.
    pub pointer: String,
    pub host: &'a str,
    pub subset: Option<&'a str>,
}

/// Every route list of a VirtualService (`/spec/http/0/route`, …) with its entries.
pub fn route_lists(vs: &Value) -> Vec<(String, &[Value])> {
    let mut out = Vec::new();
    for kind in ["http", "tcp", "tls"] {
        let Some(rules) = vs.at(&format!("/spec/{kind}")).and_then(Value::as_array) else { continue };
        for (i, rule) in rules.iter().enumerate() {
            if let Some(route) = rule.get("route").and_then(Value::as_array) {
                out.push((format!("/spec/{kind}/{i}/route"), route));
            }
        }
    }
    out
}

/// Every route destination of a VirtualService (and the HTTP mirror).
pub fn destinations(vs: &Value) -> Vec<Destination<'_>> {
    let mut out = Vec::new();
    for (pointer, entries) in route_lists(vs) {
        for (j, e) in entries.iter().enumerate() {
            if let Some(d) = e.get("destination") {
                push(&mut out, format!("{pointer}/{j}/destination"), d);
            }
        }
    }
    if let Some(rules) = vs.at("/spec/http").and_then(Value::as_array) {
        for (i, rule) in rules.iter().enumerate() {
            if let Some(d) = rule.get("mirror") {
                push(&mut out, format!("/spec/http/{i}/mirror"), d);
            }
        }
    }
    out
}

fn push<'a>(out: &mut Vec<Destination<'a>>, pointer: String, d: &'a Value) {
    let Some(host) = d.get("host").and_then(Value::as_str) else { return };
    out.push(Destination { pointer, host, subset: d.get("subset").and_then(Value::as_str) });
}

/// The gateways a VirtualService names, with their pointers: `spec.gateways`
/// and the `gateways` of each match. Empty `spec.gateways` means `mesh`.
pub fn gateway_refs(vs: &Value) -> Vec<(String, &str)> {
    fn add<'a>(out: &mut Vec<(String, &'a str)>, base: String, list: Option<&'a Value>) {
        for (j, g) in list.and_then(Value::as_array).into_iter().flatten().enumerate() {
            if let Some(g) = g.as_str() {
                out.push((format!("{base}/{j}"), g));
            }
        }
    }
    let mut out = Vec::new();
    add(&mut out, "/spec/gateways".into(), vs.at("/spec/gateways"));
    for kind in ["http", "tcp", "tls"] {
        for (i, rule) in vs.at(&format!("/spec/{kind}")).and_then(Value::as_array).into_iter().flatten().enumerate() {
            for (k, m) in rule.get("match").and_then(Value::as_array).into_iter().flatten().enumerate() {
                add(&mut out, format!("/spec/{kind}/{i}/match/{k}/gateways"), m.get("gateways"));
            }
        }
    }
    out
}

/// A gateway reference as (namespace, name): `ns/name`, or `name` in the
/// VirtualService's namespace. `None` for the reserved `mesh`.
pub fn gateway_of<'a>(reference: &'a str, ns: &'a str) -> Option<(&'a str, &'a str)> {
    if reference == "mesh" {
        return None;
    }
    // `name.ns.svc.cluster.local` is an older form of the same reference.
    if let Some(rest) = reference.strip_suffix(SUFFIX)
        && let Some((name, n)) = rest.split_once('.')
    {
        return Some((n, name));
    }
    Some(reference.split_once('/').unwrap_or((ns, reference)))
}

/// The pod templates a Service selects (empty without a selector).
pub fn service_pods<'a>(cx: &'a Context, svc: usize) -> Vec<&'a crate::model::index::PodTemplate> {
    let o = &cx.objects[svc];
    match o.value.at("/spec/selector").and_then(Value::as_object) {
        Some(sel) if !sel.is_empty() => cx.index.selected(o.ns(), &Selector::of_labels(sel)),
        _ => Vec::new(),
    }
}
