//! A service's alerts: the standard ones with their thresholds, latency
//! percentiles (from `alerts.latency` or the SLO), custom alerts on the
//! service's own metrics, and the availability objective.

use std::path::Path;

use super::{
    CustomAlert, CustomR, LatencyAlert, LatencyRule, LatencySlo, MetricKind, Rule, ServiceAlerts, Severity, Slo,
    SvcAlerts, defaults, is_metric_name, rule,
};
use crate::diag::{Diagnostic, Pos};

/// Where a service's alert errors go: every one points at the service.
struct Errors<'a> {
    file: &'a Path,
    pos: Pos,
    /// The service's name, which each message starts with.
    name: &'a str,
    out: &'a mut Vec<Diagnostic>,
}

impl Errors<'_> {
    /// `help` may be empty.
    fn push(&mut self, msg: String, help: &str) {
        let d = Diagnostic::error(self.file, self.pos, msg);
        self.out.push(if help.is_empty() { d } else { d.with_help(help.to_string()) });
    }
}

/// Resolves a service's `alerts` and `slo`; errors point at the service.
pub fn service(
    alerts: Option<&ServiceAlerts>,
    slo: Option<&Slo>,
    pos: Pos,
    name: &str,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> SvcAlerts {
    let mut e = Errors { file, pos, name, out: errors };
    let a = alerts.cloned().unwrap_or_default();
    let availability = availability(slo, &mut e);
    let period = period(slo, &mut e);
    let latency_slo = latency_objective(slo, &mut e);
    for (what, p) in
        availability.map(|a| ("availability", a)).into_iter().chain(latency_slo.as_ref().map(|l| ("latency", l.target)))
    {
        pageable(what, p, period, &mut e);
    }
    let min_rate = slo.and_then(|s| s.min_rate);
    if min_rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        e.push(format!("`{name}`: slo minRate must be a number of requests per second above 0"), "e.g. `minRate: 1`");
    }
    let latency = latency(a.latency.clone().unwrap_or_default(), slo, &mut e);
    let custom = custom(a.custom.iter().flatten(), &mut e);
    let restarts = count(rule(a.restarts.as_ref(), defaults::RESTARTS, 300, Severity::Warning), "restarts", &mut e);
    let replicas = count(rule(a.replicas.as_ref(), 0.0, 600, Severity::Warning), "replicas", &mut e);
    SvcAlerts {
        down: rule(a.down.as_ref(), 0.0, 120, Severity::Critical),
        error_rate: percent(
            rule(a.error_rate.as_ref(), defaults::ERROR_RATE, 300, Severity::Warning),
            "error rate",
            &mut e,
        ),
        latency,
        restarts,
        cpu: percent(rule(a.cpu.as_ref(), defaults::CPU, 900, Severity::Warning), "cpu", &mut e),
        memory: percent(rule(a.memory.as_ref(), defaults::MEMORY, 900, Severity::Warning), "memory", &mut e),
        memory_bytes: a.memory_bytes.as_ref().map(|b| Rule {
            enabled: true,
            threshold: b.threshold.get() as f64,
            for_seconds: b.for_.map_or(900, |s| s.get()),
            severity: b.severity.unwrap_or(Severity::Warning),
        }),
        replicas,
        hpa_max: rule(a.hpa_max.as_ref(), 0.0, 900, Severity::Info),
        custom,
        availability,
        latency_slo,
        period,
        min_rate,
    }
}

/// A rule whose threshold is a percent, checked when the rule is on.
fn percent(r: Rule, what: &str, e: &mut Errors) -> Rule {
    if r.enabled && !(r.threshold > 0.0 && r.threshold < 100.0) {
        e.push(
            format!("`{}`: the {what} alert threshold {} must be a percent above 0 and below 100", e.name, r.threshold),
            "e.g. `5` for 5%",
        );
    }
    r
}

/// A rule whose threshold is a count, checked when the rule is on.
fn count(r: Rule, what: &str, e: &mut Errors) -> Rule {
    if r.enabled && !(r.threshold >= 0.0 && r.threshold.is_finite()) {
        e.push(format!("`{}`: the {what} threshold must be a count of at least 0", e.name), "");
    }
    r
}

/// The availability objective in percent, from 95 to below 100.
fn availability(slo: Option<&Slo>, e: &mut Errors) -> Option<f64> {
    let v = slo.and_then(|s| s.availability.as_ref())?;
    match v.0.trim_end_matches('%').parse::<f64>() {
        Ok(x) if (95.0..100.0).contains(&x) => Some(x),
        _ => {
            e.push(
                format!(
                    "`{}`: slo availability {:?} must be a percent from 95 to below 100 (below 95 a 14.4× burn rate exceeds 100% errors)",
                    e.name, v.0
                ),
                "e.g. `availability: \"99.9\"`",
            );
            None
        }
    }
}

/// The period of the objectives, from 7 to 90 days (30 unless written): the
/// ticket's longest window is 3 days, and past 90 days a page would need
/// nearly every request to fail.
fn period(slo: Option<&Slo>, e: &mut Errors) -> u32 {
    let Some(p) = slo.and_then(|s| s.period) else { return defaults::SLO_PERIOD };
    let secs = p.get();
    if !(7 * DAY..=90 * DAY).contains(&secs) || !secs.is_multiple_of(DAY) {
        e.push(
            format!("`{}`: the slo period must be whole days from 7d to 90d", e.name),
            "e.g. `period: 28d` or `period: 30d`",
        );
        return defaults::SLO_PERIOD;
    }
    secs
}

const DAY: u32 = 86_400;

/// The latency objective: `under` and `target` together.
fn latency_objective(slo: Option<&Slo>, e: &mut Errors) -> Option<LatencySlo> {
    let l = slo.and_then(|s| s.latency.as_ref())?;
    let (under, target) = match (&l.under, &l.target) {
        (None, None) => return None,
        (Some(u), Some(t)) => (u, t),
        _ => {
            e.push(
                format!("`{}`: a latency objective needs both `under` and `target`", e.name),
                "e.g. `latency: { under: 300ms, target: \"99\" }`",
            );
            return None;
        }
    };
    let ms = under.value.get();
    let target = match target.0.trim_end_matches('%').parse::<f64>() {
        Ok(x) if x > 0.0 && x < 100.0 && ms > 0 => x,
        _ => {
            e.push(
                format!(
                    "`{}`: the latency objective needs `under` above 0 and `target` a percent above 0 and below 100 (got {:?})",
                    e.name, target.0
                ),
                "e.g. `latency: { under: 300ms, target: \"99\" }`",
            );
            return None;
        }
    };
    Some(LatencySlo { seconds: ms as f64 / 1000.0, target })
}

/// The page's burn rate over an hour must be a possible error ratio: 2% of
/// the period's budget in an hour is `0.02 × period / 1h` times the budget.
fn pageable(what: &str, percent: f64, period: u32, e: &mut Errors) {
    let factor = 0.02 * f64::from(period) / 3600.0;
    let budget = (100.0 - percent) / 100.0;
    if factor * budget >= 1.0 {
        e.push(
            format!(
                "`{}`: a {percent}% {what} objective over {} days cannot page: its page burn rate ({factor:.1}× the budget) is more than every request failing",
                e.name,
                period / DAY
            ),
            "raise the target or shorten the period",
        );
    }
}

/// One rule per percentile written in the alert or, failing that, in the
/// SLO; p99 above the default when neither names one.
fn latency(lat: LatencyAlert, slo: Option<&Slo>, e: &mut Errors) -> Vec<LatencyRule> {
    let mut latency = Vec::new();
    if lat.enabled == Some(false) {
        return latency;
    }
    let target = slo.and_then(|s| s.latency.clone()).unwrap_or_default();
    let pick = [
        ("p50", 0.5, lat.p50.or(target.p50)),
        ("p90", 0.9, lat.p90.or(target.p90)),
        ("p95", 0.95, lat.p95.or(target.p95)),
        ("p99", 0.99, lat.p99.or(target.p99)),
    ];
    let any = pick.iter().any(|(_, _, m)| m.is_some());
    for (pname, quantile, ms) in pick {
        let ms = match ms {
            Some(m) => m.get(),
            None if !any && pname == "p99" => defaults::LATENCY_P99_MS,
            None => continue,
        };
        if ms == 0 {
            e.push(format!("`{}`: the {pname} latency threshold must be above 0", e.name), "");
        }
        latency.push(LatencyRule {
            name: pname,
            quantile,
            seconds: ms as f64 / 1000.0,
            for_seconds: lat.for_.map_or(600, |s| s.get()),
            severity: lat.severity.unwrap_or(Severity::Warning),
        });
    }
    latency
}

fn custom<'c>(written: impl Iterator<Item = &'c CustomAlert>, e: &mut Errors) -> Vec<CustomR> {
    let mut custom = Vec::new();
    for c in written {
        let resolved = custom_alert(c, &custom, e);
        custom.push(resolved);
    }
    custom
}

/// One custom alert with its defaults, its name unique among those `before` it.
fn custom_alert(c: &CustomAlert, before: &[CustomR], e: &mut Errors) -> CustomR {
    let name = e.name;
    if !is_alert_name(&c.name) {
        e.push(
            format!("`{name}`: custom alert name `{}` must be CamelCase letters and digits", c.name),
            "e.g. `ModelLoadingFailure`",
        );
    }
    if before.iter().any(|x| x.name == c.name) {
        e.push(format!("`{name}`: duplicate custom alert `{}`", c.name), "");
    }
    if !is_metric_name(&c.metric) {
        e.push(format!("`{name}`: `{}` is not a Prometheus metric name", c.metric), "");
    }
    let kind = c.kind.unwrap_or(MetricKind::Gauge);
    let quantile = c.quantile.unwrap_or(0.99);
    if !(quantile > 0.0 && quantile < 1.0) {
        e.push(format!("`{name}`: quantile {quantile} of `{}` must be between 0 and 1", c.name), "e.g. 0.99");
    }
    if !c.threshold.is_finite() || c.threshold < 0.0 {
        e.push(format!("`{name}`: the threshold of `{}` must be a number of at least 0", c.name), "");
    }
    let window = c.window.map_or(if kind == MetricKind::Counter { 900 } else { 300 }, |w| w.get());
    if window < 60 {
        e.push(format!("`{name}`: the window of `{}` must be at least 1m", c.name), "");
    }
    CustomR {
        name: c.name.clone(),
        metric: c.metric.clone(),
        kind,
        quantile,
        threshold: c.threshold,
        window,
        for_seconds: c.for_.map_or(300, |s| s.get()),
        severity: c.severity.unwrap_or(Severity::Warning),
        summary: c.summary.clone(),
    }
}

/// An alert name: CamelCase letters and digits.
fn is_alert_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(x) if x.is_ascii_uppercase()) && c.all(|x| x.is_ascii_alphanumeric())
}
