//! The SLO family: an availability objective's multi-window, multi-burn-rate
//! alerts (`ErrorBudgetBurn` pages, `ErrorBudgetBurnSlow` is a ticket), read
//! from the error ratios the recording rules keep for [`WINDOWS`]. They are
//! written in the service's group, after its latency alerts.

use super::alert::{Alert, Series, Test, between, dur, num, series, with};
use super::service::{app, app_selector, static_labels, statuses};
use crate::description::alerts::Severity;
use crate::description::resolve::{MetricsR, Svc};

const RUNBOOK: [&str; 3] = [
    "The service fails requests faster than its availability objective allows (multi-window, multi-burn-rate: the long window proves it matters, the short one that it is still happening).",
    "The error ratio per window (`service:request_errors:ratio_rate1h`, `…5m`, `…6h`); which endpoints fail; recent deploys and incidents of dependencies.",
    "Stop the burn first (roll back, fail over, shed load), then find the cause; a fast burn (critical) pages, a slow one (warning) is a ticket for this week.",
];

/// Long window, short window (seconds) and burn rate: either pair fires.
type Burn = [(u32, u32, f64); 2];

/// Pages: 2% of a 30-day budget in an hour, or 5% in six hours.
const FAST: Burn = [(3600, 300, 14.4), (21600, 1800, 6.0)];
/// A ticket: 10% of the budget in a day, or all of it over three days.
const SLOW: Burn = [(86400, 7200, 3.0), (259200, 21600, 1.0)];

/// The error-ratio windows recorded for a service with an availability
/// objective: 5m (as without one) and every window of [`FAST`] and [`SLOW`].
pub(super) const WINDOWS: [u32; 7] = [300, 1800, 3600, 7200, 21600, 86400, 259200];

/// `ErrorBudgetBurn`: burning the budget at 14.4× over 1h and 5m, or 6× over 6h and 30m.
pub fn fast_burn(svc: &Svc) -> Option<Alert> {
    let (m, slo) = (served(svc)?, svc.alerts.availability?);
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let b = (100.0 - slo) / 100.0;
    let budget = num(b);
    let n = 90;
    Some(Alert {
        name: "ErrorBudgetBurn".into(),
        expr: burning(svc, &budget, FAST),
        for_seconds: 120,
        severity: Severity::Critical,
        labels: static_labels(svc, Severity::Critical),
        summary: format!("{name} is burning its {}% availability error budget fast", num(slo)),
        description: format!(
            "{name} in {ns} fails requests at 14.4 times its error budget over 1h and 5m (or 6 times over 6h and 30m): at this rate the 30-day budget of the {}% objective is gone within days.",
            num(slo)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: {}% objective, budget {budget}; page at 14.4× (1h, 5m) or 6× (6h, 30m)", num(slo)),
        test: Test {
            interval: 60,
            fire: requests(svc, m, (20.0 * b).min(between(14.4 * b, 1.0)), n),
            quiet: requests(svc, m, 3.0 * b, n),
            at: 75 * 60,
            out: app(svc),
        },
    })
}

/// `ErrorBudgetBurnSlow`: burning the budget at 3× over 1d and 2h, or 1× over 3d and 6h.
pub fn slow_burn(svc: &Svc) -> Option<Alert> {
    let (m, slo) = (served(svc)?, svc.alerts.availability?);
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let b = (100.0 - slo) / 100.0;
    let n = 170;
    Some(Alert {
        name: "ErrorBudgetBurnSlow".into(),
        expr: burning(svc, &num(b), SLOW),
        for_seconds: 900,
        severity: Severity::Warning,
        labels: static_labels(svc, Severity::Warning),
        summary: format!("{name} is using its {}% availability error budget too fast", num(slo)),
        description: format!(
            "{name} in {ns} fails requests at 3 times its error budget over 1d and 2h (or at least the budget over 3d and 6h): the 30-day budget of the {}% objective will not last the month.",
            num(slo)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}`: {}% objective; ticket at 3× (1d, 2h) or 1× (3d, 6h)", num(slo)),
        test: Test {
            interval: 600,
            fire: requests(svc, m, (4.0 * b).min(between(3.0 * b, 1.0)), n),
            quiet: requests(svc, m, 0.5 * b, n),
            at: 26 * 3600,
            out: app(svc),
        },
    })
}

/// The metrics of a service whose requests carry their status: the error
/// ratio needs it.
fn served(svc: &Svc) -> Option<&MetricsR> {
    svc.metrics.as_ref().filter(|m| m.http && m.errors.is_some())
}

/// Both windows of either pair above their burn rate times the budget.
fn burning(svc: &Svc, budget: &str, pairs: Burn) -> String {
    let ratio = |w: u32| format!("service:request_errors:ratio_rate{}{{{}}}", dur(w), app_selector(svc));
    let both = |(long, short, rate): (u32, u32, f64)| {
        let rate = num(rate);
        format!("{} > ({rate} * {budget}) and {} > ({rate} * {budget})", ratio(long), ratio(short))
    };
    format!("({}) or ({})", both(pairs[0]), both(pairs[1]))
}

/// `n` samples of requests of which the share `ratio` fails.
fn requests(svc: &Svc, m: &MetricsR, ratio: f64, n: u32) -> Vec<Series> {
    let req = |status: &str| series(&m.requests, &with(&app(svc), &m.status_label, status));
    let (bad, good) = statuses(m.errors.as_deref().unwrap_or_default());
    vec![
        (req(&bad), format!("0+{}x{n}", num(ratio * 1000.0))),
        (req(&good), format!("0+{}x{n}", num((1.0 - ratio) * 1000.0))),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::recording::records;
    use super::super::testing::{assert_well_formed, metrics, service, step, thresholds, values};
    use super::*;

    /// The share of failed requests of a test input.
    fn failing(input: &[Series]) -> f64 {
        let bad = step(values(input, "http_requests_total", &[("status", "500")]));
        bad / (bad + step(values(input, "http_requests_total", &[("status", "200")])))
    }

    /// `99.9`: a budget of 0.001.
    const BUDGET: f64 = 0.001;

    #[test]
    fn every_burn_window_is_recorded() {
        let svc = service("api");
        let recorded: Vec<String> = records(&svc).into_iter().map(|(r, _)| r).collect();
        for (long, short, _) in FAST.into_iter().chain(SLOW) {
            for w in [long, short] {
                let name = format!("service:request_errors:ratio_rate{}", dur(w));
                assert!(recorded.contains(&name), "{name} is not recorded");
                assert!(WINDOWS.contains(&w));
            }
        }
    }

    #[test]
    fn the_fast_burn_pages_at_fourteen_times_the_budget_over_an_hour() {
        let svc = service("api");
        let Some(a) = fast_burn(&svc) else { panic!("api has an availability objective") };
        assert_well_formed(&a, &records(&svc));
        let windows = ["1h", "5m", "6h", "30m"].map(|w| format!("service:request_errors:ratio_rate{w}"));
        assert_eq!(metrics(&a.expr), windows);
        assert!(a.expr.contains("> (14.4 * 0.001)") && a.expr.contains("> (6 * 0.001)"), "{}", a.expr);
        assert_eq!((a.severity, a.for_seconds), (Severity::Critical, 120));
        assert!(failing(&a.test.fire) > 14.4 * BUDGET);
        assert!(failing(&a.test.quiet) < 6.0 * BUDGET);
        // The hour-long window is full, and the condition held for `for`.
        assert!(a.test.at >= 3600 + a.for_seconds);
    }

    #[test]
    fn the_slow_burn_is_a_ticket_at_three_times_the_budget_over_a_day() {
        let svc = service("api");
        let Some(a) = slow_burn(&svc) else { panic!("api has an availability objective") };
        assert_well_formed(&a, &records(&svc));
        let windows = ["1d", "2h", "3d", "6h"].map(|w| format!("service:request_errors:ratio_rate{w}"));
        assert_eq!(metrics(&a.expr), windows);
        assert!(a.expr.contains("> (3 * 0.001)") && a.expr.contains("> (1 * 0.001)"), "{}", a.expr);
        assert!(thresholds(&a.expr).is_empty(), "the limits are products, not literals");
        assert_eq!((a.severity, a.for_seconds), (Severity::Warning, 900));
        assert!(failing(&a.test.fire) > 3.0 * BUDGET);
        assert!(failing(&a.test.quiet) < BUDGET);
        assert!(a.test.at >= 86400 + a.for_seconds);
    }

    #[test]
    fn only_with_metrics_and_an_availability_objective() {
        assert!(fast_burn(&service("worker")).is_none());
        let mut svc = service("api");
        svc.alerts.availability = None;
        assert!(fast_burn(&svc).is_none() && slow_burn(&svc).is_none());
    }
}
