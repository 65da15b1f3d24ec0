//! `expose`: the ports a service publishes, and how: the host, path and
//! port it is reachable at from outside, through which edge.

use super::super::names::check_host;
use super::super::{Cx, Exposure, Port, defaults};
use super::PortLookup;
use crate::description::value::pos_of;
use crate::description::{Expose, ExposeKind, Protocol, Service};
use crate::diag::Pos;

impl Cx<'_> {
    /// The service's `expose` (its `port`, else the first port) and each
    /// port's own; `internal` ones are checked and left out.
    pub(super) fn exposures(&mut self, s: &Service, ports: &[Port], lookup: &PortLookup) -> Vec<Exposure> {
        let mut out: Vec<Exposure> = Vec::new();
        if let Some(e) = &s.expose {
            match lookup.find(&e.port) {
                Ok(Some(p)) => out.extend(self.exposure(e, &p)),
                Ok(None) => {}
                Err(m) => self.err(Pos::UNKNOWN, format!("expose: {m}"), None),
            }
        }
        for spec in s.ports.iter().flatten() {
            let Some(e) = &spec.expose else { continue };
            let pos = pos_of(&spec.port.referenced);
            if e.port.is_some() {
                let help = "remove `port` from it, or move `expose` to the service";
                self.err(pos, "`expose` inside a port publishes that port; it names no other", Some(help.into()));
            }
            let Some(p) = ports.iter().find(|p| p.port == spec.port.value) else { continue };
            if out.iter().any(|x| x.port_name == p.name) {
                let help = "keep one of the two: the service's `expose` publishes its first port unless it names one";
                self.err(pos, format!("port `{}` is exposed twice", p.name), Some(help.into()));
                continue;
            }
            out.extend(self.exposure(e, p));
        }
        out.retain(|e| e.kind != ExposeKind::Internal);
        out
    }

    /// One exposure of port `p`, checked for its kind. An `internal` one is
    /// returned (so that a port is not published twice) and dropped by the caller.
    fn exposure(&mut self, e: &Expose, p: &Port) -> Option<Exposure> {
        let kind = e.kind.as_ref().map_or(ExposeKind::Ingress, |k| k.value);
        let kind_pos = e.kind.as_ref().map_or(Pos::UNKNOWN, |k| pos_of(&k.referenced));
        let before = self.errors.len();
        let host = match kind {
            ExposeKind::Ingress | ExposeKind::Gateway => self.routed(e, p, kind, kind_pos),
            ExposeKind::LoadBalancer | ExposeKind::NodePort => {
                self.published_as_is(e, kind, kind_pos);
                String::new()
            }
            ExposeKind::Internal => String::new(),
        };
        if self.errors.len() > before {
            return None;
        }
        let websocket = p.protocol == Protocol::Websocket;
        Some(Exposure {
            kind,
            host,
            path: e.path.clone().unwrap_or_else(|| "/".into()),
            timeout_seconds: e.timeout.map(|t| t.get()).unwrap_or(if websocket {
                defaults::WS_TIMEOUT
            } else {
                defaults::HTTP_TIMEOUT
            }),
            port_name: p.name.clone(),
            rate_limit: e.rate_limit,
        })
    }

    /// An HTTP route at the edge (Ingress, Istio gateway, Gateway API): its
    /// host, checked; its path; what the kind supports.
    fn routed(&mut self, e: &Expose, p: &Port, kind: ExposeKind, kind_pos: Pos) -> String {
        let host = match &e.host {
            Some(h) => {
                if let Err((m, help)) = check_host(&h.value) {
                    self.err(pos_of(&h.referenced), format!("expose: {m}"), Some(help));
                }
                h.value.clone()
            }
            None => {
                let help = format!(
                    "add `host: {}.example.com`, or publish the port as it is with `type: loadBalancer`",
                    self.name
                );
                self.err(kind_pos, format!("`expose` of `{}` has no `host`", self.name), Some(help));
                String::new()
            }
        };
        if let Some(path) = e.path.as_deref().filter(|p| !p.starts_with('/')) {
            self.err(Pos::UNKNOWN, format!("expose path must start with '/': {path:?}"), None);
        }
        if kind == ExposeKind::Gateway {
            self.gateway_route(e, p, kind_pos);
        }
        host
    }

    /// What an HTTPRoute on `cluster.gateway` cannot say.
    fn gateway_route(&mut self, e: &Expose, p: &Port, kind_pos: Pos) {
        if self.cluster.gateway.is_none() {
            let help = "name the Gateway installed in the cluster: `cluster: { gateway: { name: public, namespace: gateway } }`";
            self.err(kind_pos, "`type: gateway` needs `cluster.gateway`", Some(help.into()));
        }
        let unroutable = match p.protocol {
            Protocol::Grpc => Some("gRPC"),
            Protocol::Tcp => Some("TCP"),
            Protocol::Http | Protocol::Websocket => None,
        };
        if let Some(proto) = unroutable {
            let help = "publish it with `type: ingress` or `type: loadBalancer`";
            let m = format!("`type: gateway` writes an HTTPRoute, which cannot carry {proto} port `{}`", p.name);
            self.err(kind_pos, m, Some(help.into()));
        }
        if e.rate_limit.is_some() || e.timeout.is_some() {
            let help = "set them on the Gateway's implementation, or use `type: ingress`";
            self.err(
                kind_pos,
                "`rateLimit` and `timeout` are not part of the Gateway API's HTTPRoute",
                Some(help.into()),
            );
        }
    }

    /// A port published as it is by a Service of its own: nothing of HTTP applies.
    fn published_as_is(&mut self, e: &Expose, kind: ExposeKind, kind_pos: Pos) {
        let http = [
            ("host", e.host.is_some()),
            ("path", e.path.is_some()),
            ("rateLimit", e.rate_limit.is_some()),
            ("timeout", e.timeout.is_some()),
        ];
        let set: Vec<String> = http.iter().filter(|(_, on)| *on).map(|(f, _)| format!("`{f}`")).collect();
        if !set.is_empty() {
            let help = "remove them, or use `type: ingress` (or `gateway`) to route HTTP by host and path";
            let m = format!(
                "{} set with `type: {}`: a {} Service publishes the port as it is, with no host, path or HTTP settings",
                set.join(", "),
                kind.as_str(),
                if kind == ExposeKind::LoadBalancer { "LoadBalancer" } else { "NodePort" }
            );
            self.err(kind_pos, m, Some(help.into()));
        }
    }
}
