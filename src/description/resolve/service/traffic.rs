//! Mesh traffic settings: fault injection, JWT, outlier detection, and the
//! canary release.

use super::super::names::check_image;
use super::super::{CanaryR, Cx};
use crate::description::Traffic;
use crate::description::traffic::{Canary, Fault};
use crate::description::value::pos_of;
use crate::diag::Pos;

impl Cx<'_> {
    /// Checks the mesh traffic settings; returns the canary release, if any.
    pub(super) fn traffic(&mut self, t: &Traffic) -> Option<CanaryR> {
        let name = self.name.to_string();
        if let Some(f) = &t.fault {
            self.fault(f);
        }
        if let Some(j) = &t.jwt
            && j.issuer.as_deref().is_none_or(str::is_empty)
        {
            self.err(Pos::UNKNOWN, format!("traffic.jwt of `{name}` has no `issuer`"), None);
        }
        if let Some(o) = &t.outlier_detection
            && o.max_ejection_percent.is_some_and(|p| p > 100)
        {
            self.err(
                Pos::UNKNOWN,
                format!("traffic.outlierDetection of `{name}`: maxEjectionPercent is above 100"),
                None,
            );
        }
        self.canary(t.canary.as_ref()?)
    }

    /// Fault injection: percents within 0-100, a delay with its length, an abort with its status.
    fn fault(&mut self, f: &Fault) {
        let name = self.name.to_string();
        let percents = [f.delay.as_ref().and_then(|d| d.percent), f.abort.as_ref().and_then(|a| a.percent)];
        if percents.into_iter().flatten().any(|p| !(0.0..=100.0).contains(&p)) {
            self.err(Pos::UNKNOWN, format!("traffic.fault of `{name}`: percent must be between 0 and 100"), None);
        }
        if let Some(d) = &f.delay
            && d.fixed_delay.is_none()
        {
            self.err(Pos::UNKNOWN, format!("traffic.fault.delay of `{name}` has no `fixedDelay`"), None);
        }
        if let Some(a) = &f.abort
            && !a.http_status.is_some_and(|s| (200..=599).contains(&s))
        {
            self.err(
                Pos::UNKNOWN,
                format!("traffic.fault.abort of `{name}` needs an `httpStatus` between 200 and 599"),
                Some("e.g. `abort: { percent: 5, httpStatus: 503 }`".into()),
            );
        }
    }

    /// The canary's image, and its weight at the current step.
    fn canary(&mut self, c: &Canary) -> Option<CanaryR> {
        let name = self.name.to_string();
        let image = match &c.image {
            Some(i) => {
                if let Err(m) = check_image(&i.value) {
                    self.err(pos_of(&i.referenced), m, Some("pin the canary's version tag or digest".into()));
                }
                i.value.clone()
            }
            None => {
                self.err(
                    Pos::UNKNOWN,
                    format!("traffic.canary of `{name}` has no `image`"),
                    Some("the canary Deployment runs the new version: `image: registry/app:NEW`".into()),
                );
                return None;
            }
        };
        let (steps, pos) = match &c.steps {
            Some(s) => (s.value.clone(), pos_of(&s.referenced)),
            None => (vec![10, 25, 50, 100], Pos::UNKNOWN),
        };
        if steps.is_empty() || steps.iter().any(|&s| s == 0 || s > 100) || steps.windows(2).any(|w| w[0] >= w[1]) {
            self.err(
                pos,
                format!("traffic.canary.steps of `{name}` must be increasing percentages from 1 to 100"),
                Some("e.g. `steps: [10, 25, 50, 100]`".into()),
            );
            return None;
        }
        let step = c.step.unwrap_or(1);
        let Some(&weight) = steps.get((step as usize).wrapping_sub(1)) else {
            self.err(
                pos,
                format!("traffic.canary.step {step} of `{name}`: there are {} steps", steps.len()),
                Some(format!("use a step from 1 to {}", steps.len())),
            );
            return None;
        };
        let replicas = c.replicas.unwrap_or(1);
        if replicas == 0 {
            self.err(Pos::UNKNOWN, format!("traffic.canary.replicas of `{name}` must be at least 1"), None);
        }
        Some(CanaryR { image, weight, replicas })
    }
}
