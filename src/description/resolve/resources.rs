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
        self.check_limits(&requests, &limits, (res.cpu.is_none(), res.memory.is_none()));
        self.check_cores(&requests, &limits);
        (requests, limits)
    }

    /// A pod runs on one node: CPU beyond one node's share of
    /// `cluster.capacity.cpu` (all of it when `nodes` is not written) is a
    /// mistake, most often cores meant as millicores (`cpu: 500`).
    fn check_cores(&mut self, r: &Requests, l: &LimitsR) {
        let Some(cap) = &self.cluster.capacity else { return };
        let nodes = cap.nodes.unwrap_or(1).max(1);
        let share = Cpu::from_millis(cap.cpu.millis() / u64::from(nodes));
        let whose = if nodes > 1 {
            format!("one node's share of `cluster.capacity.cpu` ({} cores over {nodes} nodes: {share})", cap.cpu)
        } else if cap.nodes.is_some() {
            format!("`cluster.capacity.cpu` ({share})")
        } else {
            format!("`cluster.capacity.cpu` ({share}; `nodes` not written, so one node is assumed)")
        };
        for (what, cpu) in [("request", Some(r.cpu)), ("limit", l.cpu)] {
            if let Some(cpu) = cpu.filter(|c| *c > share) {
                self.err(
                    Pos::UNKNOWN,
                    format!("cpu {what} {cpu} of `{}` exceeds {whose}", self.name),
                    Some(format!("CPU is in cores: `cpu: {cpu}` is {cpu} cores; write \"{cpu}m\" for millicores")),
                );
            }
        }
    }

    /// Limits at least the requests, and requests above zero. `defaulted`:
    /// whether the cpu and memory requests were left to their defaults,
    /// which an error then names.
    fn check_limits(&mut self, r: &Requests, l: &LimitsR, defaulted: (bool, bool)) {
        let said = |default: bool, what: &str| {
            if default { format!(" (the default; set `resources.{what}`)") } else { String::new() }
        };
        if l.memory < r.memory {
            self.err(
                Pos::UNKNOWN,
                format!(
                    "memory limit {} of `{}` is below its request {}{}",
                    l.memory,
                    self.name,
                    r.memory,
                    said(defaulted.1, "memory")
                ),
                None,
            );
        }
        if let Some(c) = l.cpu
            && c < r.cpu
        {
            self.err(
                Pos::UNKNOWN,
                format!("cpu limit {c} of `{}` is below its request {}{}", self.name, r.cpu, said(defaulted.0, "cpu")),
                None,
            );
        }
        if r.cpu.millis() == 0 || r.memory.0 == 0 {
            self.err(Pos::UNKNOWN, format!("requests of `{}` must be above zero", self.name), None);
        }
    }
}
