//! `expose`: the host, path and port a service is reachable at from outside.

use super::super::names::check_host;
use super::super::{Cx, Exposure, defaults};
use super::PortLookup;
use crate::description::value::pos_of;
use crate::description::{Expose, Protocol};
use crate::diag::Pos;

impl Cx<'_> {
    /// `None` when the port is not found (an error says so).
    pub(super) fn exposure(&mut self, e: &Expose, ports: &PortLookup) -> Option<Exposure> {
        let port = match ports.find(&e.port) {
            Ok(p) => p,
            Err(m) => {
                self.err(Pos::UNKNOWN, format!("expose: {m}"), None);
                None
            }
        };
        let host = match &e.host {
            Some(h) => {
                if let Err((m, help)) = check_host(&h.value) {
                    self.err(pos_of(&h.referenced), format!("expose: {m}"), Some(help));
                }
                h.value.clone()
            }
            None => {
                self.err(Pos::UNKNOWN, format!("`expose` of `{}` has no `host`", self.name), None);
                String::new()
            }
        };
        let path = e.path.clone().unwrap_or_else(|| "/".into());
        if !path.starts_with('/') {
            self.err(Pos::UNKNOWN, format!("expose path must start with '/': {path:?}"), None);
        }
        port.map(|p| Exposure {
            host,
            path,
            timeout_seconds: e.timeout.map(|t| t.get()).unwrap_or(if p.protocol == Protocol::Websocket {
                defaults::WS_TIMEOUT
            } else {
                defaults::HTTP_TIMEOUT
            }),
            port_name: p.name,
            rate_limit: e.rate_limit,
        })
    }
}
