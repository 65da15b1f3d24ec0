//! How many pods a service runs: its replica range, the autoscaler's
//! targets, and the disruption budget that node drains respect.

use super::super::{Cx, MetricsR, PdbR, Scaling, defaults};
use crate::description::Service;
use crate::description::value::pos_of;
use crate::diag::Pos;

impl Cx<'_> {
    /// `(min, max)`; equal when the service does not autoscale.
    pub(super) fn replicas(&mut self, s: &Service) -> (u32, u32) {
        let (min, max, rpos) = match &s.replicas {
            Some(r) => {
                let min = r.value.min.unwrap_or(defaults::REPLICAS);
                (min, r.value.max.unwrap_or(min), pos_of(&r.referenced))
            }
            None => (defaults::REPLICAS, defaults::REPLICAS, Pos::UNKNOWN),
        };
        if min == 0 {
            self.err(rpos, "replicas must be at least 1", None);
        }
        if min > max {
            self.err(
                rpos,
                format!("replicas min {min} is greater than max {max}"),
                Some("make `min` at most `max`".into()),
            );
        }
        (min, max)
    }

    /// The autoscaler's targets; CPU at the default percent when none is written.
    pub(super) fn autoscale(&mut self, s: &Service) -> Scaling {
        let a = s.autoscale.clone().unwrap_or_default();
        let mut autoscale = Scaling {
            cpu: a.cpu,
            memory: a.memory,
            metrics: a.metrics.unwrap_or_default().into_iter().map(|m| (m.name, m.average_value.0)).collect(),
        };
        if autoscale.cpu.is_none() && autoscale.memory.is_none() && autoscale.metrics.is_empty() {
            autoscale.cpu = Some(defaults::HPA_CPU);
        }
        if autoscale.cpu == Some(0) || autoscale.memory == Some(0) {
            self.err(Pos::UNKNOWN, format!("autoscale targets of `{}` must be above 0%", self.name), None);
        }
        autoscale
    }

    /// Every custom metric of the autoscaler is served from a series the
    /// service exports; otherwise the HPA waits forever for a value.
    pub(super) fn check_served(&mut self, a: &Scaling, m: Option<&MetricsR>) {
        for (name, _) in &a.metrics {
            if m.and_then(|m| m.served_from(name)).is_none() {
                let help = format!(
                    "declare the gauge in `metrics: {{ gauges: [{name}] }}`, or name the rate of the request \
                     counter `X_total` as `X_per_second`"
                );
                let msg = format!("`{}`: autoscale metric `{name}` is not served from a series it exports", self.name);
                self.err(Pos::UNKNOWN, msg, Some(help));
            }
        }
    }

    /// The PodDisruptionBudget: one of `minAvailable` and `maxUnavailable`,
    /// neither blocking every drain with `min` replicas.
    pub(super) fn pdb(&mut self, s: &Service, min: u32) -> PdbR {
        let Some(p) = &s.pdb else {
            return PdbR::MaxUnavailable(1);
        };
        let pos = pos_of(&p.referenced);
        match (p.value.min_available, p.value.max_unavailable) {
            (Some(m), None) => {
                if m >= min {
                    self.err(
                        pos,
                        format!(
                            "pdb minAvailable {m} with {min} replica(s){} blocks every node drain",
                            if s.replicas.is_none() { " (the default `replicas`)" } else { "" }
                        ),
                        Some(format!("use minAvailable {} or less, or more replicas", min.saturating_sub(1))),
                    );
                }
                PdbR::MinAvailable(m)
            }
            (None, Some(m)) => {
                if m == 0 {
                    self.err(pos, "pdb maxUnavailable 0 blocks every node drain", Some("use maxUnavailable 1".into()));
                }
                PdbR::MaxUnavailable(m)
            }
            _ => {
                self.err(pos, "pdb needs exactly one of `minAvailable` and `maxUnavailable`", None);
                PdbR::MaxUnavailable(1)
            }
        }
    }
}
