//! Shutdown: how long a pod drains its connections, and the grace period
//! after which it is killed.

use super::super::{Cx, defaults};
use crate::description::Service;
use crate::diag::Pos;

impl Cx<'_> {
    /// `(drain, grace)` in seconds; websockets get longer defaults.
    pub(super) fn shutdown(&mut self, s: &Service, websocket: bool) -> (u32, u32) {
        let shutdown = s.shutdown.clone().unwrap_or_default();
        let (dd, dg) =
            if websocket { (defaults::WS_DRAIN, defaults::WS_GRACE) } else { (defaults::DRAIN, defaults::GRACE) };
        let drain = shutdown.drain.map_or(dd, |d| d.get());
        let grace = shutdown.grace.map_or(dg.max(drain + 10), |d| d.get());
        if grace <= drain {
            // A drain nobody wrote is a default: say so, or the error names
            // a number found nowhere in the description.
            let drain_said = match (shutdown.drain, websocket) {
                (Some(_), _) => format!("drain {drain}s"),
                (None, false) => format!("drain {drain}s (the default `shutdown.drain`)"),
                (None, true) => format!("drain {drain}s (the default `shutdown.drain` of a websocket service)"),
            };
            self.err(
                Pos::UNKNOWN,
                format!("shutdown grace {grace}s must be longer than {drain_said}"),
                Some(format!(
                    "the app needs time to stop after draining: set `shutdown.grace` above {drain}s, or a shorter \
                     `shutdown.drain`"
                )),
            );
        }
        (drain, grace)
    }
}
