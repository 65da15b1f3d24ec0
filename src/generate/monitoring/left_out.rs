//! The runbook section naming the service alerts that cannot be expressed
//! on what a target exports: an off-the-shelf component with no HTTP
//! request family (Jaeger v1, the OpenTelemetry Collector, log shippers) has
//! no error-ratio, latency or SLO alerts (availability and latency
//! objectives alike); one whose request metrics carry no
//! status (Alertmanager) has no error-ratio or SLO alerts. An alert on a
//! series that does not exist would stay silent forever; the section makes
//! the gap known instead.

use std::fmt::Write;

use super::super::RunbookSection;
use crate::description::resolve::{Resolved, Svc};

pub(super) const TITLE: &str = "Alerts left out";

/// The section, when some service lacks an alert its description asks for.
pub(super) fn section(r: &Resolved) -> Option<RunbookSection> {
    let lines: Vec<String> = r.services.iter().filter_map(line).collect();
    if lines.is_empty() {
        return None;
    }
    let mut body = String::from(
        "These alerts are on by default or asked for by the description, but the service does not export \
         the series they would read, so they are not generated. `ServiceDown` (from `up`) and the pod alerts \
         (restarts, CPU, memory, replicas) still watch it.\n\n",
    );
    for l in lines {
        let _ = writeln!(body, "- {l}");
    }
    body.pop();
    Some(RunbookSection { title: TITLE.to_string(), body })
}

/// `svc`'s alerts left out and why, if any.
fn line(svc: &Svc) -> Option<String> {
    let m = svc.metrics.as_ref()?;
    let a = &svc.alerts;
    let no_errors = !m.http || m.errors.is_none();
    let mut missing: Vec<String> = Vec::new();
    if no_errors && a.error_rate.enabled {
        missing.push("HighErrorRatio".into());
    }
    if !m.http {
        missing.extend(a.latency.iter().map(|l| format!("HighLatency{}", l.name.to_ascii_uppercase())));
    }
    if no_errors && a.availability.is_some() {
        missing.extend(["ErrorBudgetBurn".to_string(), "ErrorBudgetBurnSlow".to_string()]);
    }
    if !m.http && a.latency_slo.is_some() {
        missing.extend(["LatencyBudgetBurn".to_string(), "LatencyBudgetBurnSlow".to_string()]);
    }
    if missing.is_empty() {
        return None;
    }
    let what = svc.component.map_or_else(String::new, |c| format!(" ({c})"));
    let why = if m.http {
        format!("its request metrics (`{}`) carry no status code", m.requests)
    } else {
        "it exports no HTTP request metrics with a status and a duration".to_string()
    };
    Some(format!("`{}`{what}: no {}: {why}.", svc.name, missing.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::super::testing::service;
    use super::*;

    #[test]
    fn names_the_alerts_a_component_cannot_have_and_why() {
        let mut svc = service("api");
        assert_eq!(line(&svc), None, "a service of ours has its whole family");
        let Some(m) = svc.metrics.as_mut() else { panic!("api has metrics") };
        m.errors = None;
        let Some(l) = line(&svc) else { panic!("no status: no error ratio") };
        assert!(l.starts_with("`api`: no HighErrorRatio, ErrorBudgetBurn, ErrorBudgetBurnSlow: "), "{l}");
        assert!(l.contains("carry no status code"), "{l}");
        if let Some(m) = svc.metrics.as_mut() {
            m.http = false;
        }
        let Some(l) = line(&svc) else { panic!("no family") };
        assert!(l.contains("HighErrorRatio, HighLatencyP99, ErrorBudgetBurn"), "{l}");
        assert!(l.contains("ErrorBudgetBurnSlow, LatencyBudgetBurn, LatencyBudgetBurnSlow: "), "{l}");
        assert!(l.contains("exports no HTTP request metrics"), "{l}");
        assert_eq!(line(&service("worker")), None, "no metrics: nothing was asked");
    }
}
