//! Liveness, readiness and startup probes: the handler follows the port's
//! protocol unless `path` or `exec` says otherwise.

use super::super::{Cx, Handler, ProbeR};
use super::PortLookup;
use crate::description::{Probe, Protocol, Service};
use crate::diag::Pos;

impl Cx<'_> {
    /// The live, ready and startup probes; `None` for one whose port is missing.
    pub(super) fn probes(
        &mut self,
        s: &Service,
        ports: &PortLookup,
    ) -> (Option<ProbeR>, Option<ProbeR>, Option<ProbeR>) {
        let probes = s.probes.clone().unwrap_or_default();
        let live = self.probe(&probes.live, 10, 3, None, ports);
        let ready = self.probe(&probes.ready, 5, 3, None, ports);
        let startup = self.probe(&probes.startup, 5, 30, live.as_ref(), ports);
        for (which, p) in [("live", &live), ("ready", &ready), ("startup", &startup)] {
            if let Some(p) = p
                && (p.period == 0 || p.timeout == 0 || p.failure_threshold == 0)
            {
                self.err(
                    Pos::UNKNOWN,
                    format!("probe `{which}` of `{}`: period, timeout and failureThreshold must be above 0", self.name),
                    None,
                );
            }
        }
        (live, ready, startup)
    }

    /// One probe with `period` and `failure` as defaults; an unwritten probe
    /// with a `fallback` (the startup probe) copies it with a start-up budget.
    fn probe(
        &mut self,
        p: &Option<Probe>,
        period: u32,
        failure: u32,
        fallback: Option<&ProbeR>,
        ports: &PortLookup,
    ) -> Option<ProbeR> {
        let spec = match (p, fallback) {
            (None, Some(f)) => {
                return Some(ProbeR { initial_delay: 0, period: 5, failure_threshold: 30, ..f.clone() });
            }
            (None, None) => Probe::default(),
            (Some(p), _) => p.clone(),
        };
        let port = match ports.find(&spec.port) {
            Ok(p) => p?,
            Err(m) => {
                self.err(Pos::UNKNOWN, format!("probe: {m}"), None);
                return None;
            }
        };
        let handler = if let Some(cmd) = spec.exec {
            Handler::Exec(cmd)
        } else if let Some(path) = spec.path {
            Handler::Http { path, port: port.name.clone() }
        } else if port.protocol == Protocol::Grpc {
            Handler::Grpc { port: port.port }
        } else {
            Handler::Tcp { port: port.name.clone() }
        };
        Some(ProbeR {
            handler,
            initial_delay: spec.initial_delay.map_or(0, |d| d.get()),
            period: spec.period.map_or(period, |d| d.get()),
            timeout: spec.timeout.map_or(3, |d| d.get()),
            failure_threshold: spec.failure_threshold.unwrap_or(failure),
        })
    }
}
