//! A service's ports: as written (`port` or `ports`), named and checked, and
//! how probes and `expose` find one of them.

use super::super::names::is_label;
use super::super::{Cx, Port};
use crate::description::value::pos_of;
use crate::description::{PortRef, Protocol, Service};
use crate::diag::Pos;

/// One port as written, before its defaults.
struct WrittenPort {
    name: Option<String>,
    port: u16,
    pos: Pos,
    service_port: Option<u16>,
    protocol: Option<Protocol>,
}

impl Cx<'_> {
    /// The service's ports, and a `metrics` port when metrics are served on
    /// a port of their own. A worker (no port written) needs `metrics.port`
    /// to be scraped at all.
    pub(super) fn ports_with_metrics(&mut self, s: &Service) -> Vec<Port> {
        let mut ports = self.ports(s);
        if ports.is_empty()
            && let Some(m) = &s.metrics
            && m.port.is_none()
        {
            self.err(
                Pos::UNKNOWN,
                format!("`{}` is a worker (no `port`), so its `metrics` need a port of their own", self.name),
                Some("add `metrics: { port: 9090 }` (the port the process serves /metrics on)".into()),
            );
        }
        if let Some(n) = s.metrics.as_ref().and_then(|m| m.port)
            && !ports.iter().any(|p| p.port == n)
        {
            ports.push(Port { name: "metrics".into(), port: n, service_port: n, protocol: Protocol::Http });
        }
        ports
    }

    fn ports(&mut self, s: &Service) -> Vec<Port> {
        let mut out: Vec<Port> = Vec::new();
        for written in self.written_ports(s) {
            let port = self.port(written, &out);
            out.push(port);
        }
        out
    }

    /// `port` (with `servicePort` and `protocol` beside it) or `ports`, not both.
    fn written_ports(&mut self, s: &Service) -> Vec<WrittenPort> {
        let name = self.name.to_string();
        match (&s.port, &s.ports) {
            (Some(p), None) => vec![WrittenPort {
                name: None,
                port: p.value,
                pos: pos_of(&p.referenced),
                service_port: s.service_port,
                protocol: s.protocol,
            }],
            (None, Some(list)) => {
                if s.service_port.is_some() || s.protocol.is_some() {
                    self.err(
                        Pos::UNKNOWN,
                        format!("`{name}`: `servicePort` and `protocol` go inside each entry of `ports`"),
                        None,
                    );
                }
                list.iter()
                    .map(|p| WrittenPort {
                        name: p.name.clone(),
                        port: p.port.value,
                        pos: pos_of(&p.port.referenced),
                        service_port: p.service_port,
                        protocol: p.protocol,
                    })
                    .collect()
            }
            (Some(p), Some(_)) => {
                self.err(
                    pos_of(&p.referenced),
                    format!("`{name}` sets both `port` and `ports`"),
                    Some("use `port` for one port, `ports` for several".into()),
                );
                Vec::new()
            }
            // A worker: it serves nothing.
            (None, None) => Vec::new(),
        }
    }

    /// One port with its default name and protocol, checked against those before it.
    fn port(&mut self, written: WrittenPort, before: &[Port]) -> Port {
        let WrittenPort { name: pname, port, pos, service_port, protocol } = written;
        let protocol = protocol.unwrap_or(Protocol::Http);
        let pname = pname.unwrap_or_else(|| {
            let base = match protocol {
                Protocol::Http | Protocol::Websocket => "http",
                Protocol::Grpc => "grpc",
                Protocol::Tcp => "tcp",
            };
            if before.iter().any(|p| p.name == base) { format!("{base}-{port}") } else { base.to_string() }
        });
        if port == 0 {
            self.err(pos, "port 0 is not a valid port", None);
        }
        if pname.len() > 15 || !is_label(&pname) || !pname.chars().any(|c| c.is_ascii_lowercase()) {
            self.err(
                pos,
                format!("invalid port name `{pname}`"),
                Some("at most 15 lower-case letters, digits and '-', with at least one letter".into()),
            );
        }
        if before.iter().any(|p| p.name == pname || p.port == port) {
            self.err(pos, format!("duplicate port `{pname}` ({port}) on `{}`", self.name), None);
        }
        Port { name: pname, port, service_port: service_port.unwrap_or(port), protocol }
    }
}

/// Finds the port a probe or `expose` names (by name or number); none named
/// means the first.
pub(super) struct PortLookup<'a> {
    ports: &'a [Port],
}

impl<'a> PortLookup<'a> {
    pub(super) fn new(ports: &'a [Port]) -> Self {
        PortLookup { ports }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.ports.is_empty()
    }

    pub(super) fn find(&self, r: &Option<PortRef>) -> Result<Option<Port>, String> {
        match r {
            None => Ok(self.ports.first().cloned()),
            Some(PortRef::Name(n)) => self.ports.iter().find(|p| &p.name == n).cloned().map(Some).ok_or_else(|| {
                let names: Vec<&str> = self.ports.iter().map(|p| p.name.as_str()).collect();
                format!("no port named `{n}` (ports: {})", names.join(", "))
            }),
            Some(PortRef::Number(n)) => self
                .ports
                .iter()
                .find(|p| p.port == *n || p.service_port == *n)
                .cloned()
                .map(Some)
                .ok_or_else(|| format!("no port {n} on the service")),
        }
    }
}
