//! Requests and limits.

use super::{Cx, LimitsR, Requests};
use crate::diag::Pos;

impl Cx<'_> {
    pub(super) fn check_limits(&mut self, r: &Requests, l: &LimitsR) {
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
