//! Requests and limits of a service or datastore: the written values over
//! the defaults, and a memory limit equal to the request unless written.

use super::{Cx, LimitsR, Requests};
use crate::description::{Bytes, Cpu, Resources};
use crate::diag::Pos;

impl Cx<'_> {
    /// `default` is the requests when none are written: kubeproof's for a
    /// service, the engine's for a datastore.
    pub(super) fn resources(&mut self, written: Option<&Resources>, default: (Cpu, Bytes)) -> (Requests, LimitsR) {
        let res = written.cloned().unwrap_or_default();
        let requests = Requests { cpu: res.cpu.unwrap_or(default.0), memory: res.memory.unwrap_or(default.1) };
        let lim = res.limits.unwrap_or_default();
        let limits = LimitsR { cpu: lim.cpu, memory: lim.memory.unwrap_or(requests.memory) };
        self.check_limits(&requests, &limits);
        (requests, limits)
    }

    /// Limits at least the requests, and requests above zero.
    fn check_limits(&mut self, r: &Requests, l: &LimitsR) {
        if l.memory < r.memory {
            self.err(
                Pos::UNKNOWN,
                format!("memory limit {} of `{}` is below its request {}", l.memory, self.name, r.memory),
                None,
            );
        }
        if let Some(c) = l.cpu
            && c < r.cpu
        {
            self.err(Pos::UNKNOWN, format!("cpu limit {c} of `{}` is below its request {}", self.name, r.cpu), None);
        }
        if r.cpu.millis() == 0 || r.memory.0 == 0 {
            self.err(Pos::UNKNOWN, format!("requests of `{}` must be above zero", self.name), None);
        }
    }
}
