//! The SLO family, as Sloth and Pyrra write it: per objective (availability:
//! requests that fail; latency: requests slower than a bucket boundary) the
//! error ratio over every burn-rate window and over the period, the meta
//! series dashboards read, a page (`ErrorBudgetBurn`, `LatencyBudgetBurn`)
//! and a ticket (`…Slow`) whose burn-rate factors follow from the period, an
//! optional low-traffic guard, and `SLOMetricAbsent` when the series the
//! objective reads disappears. The alerts are written in the service's
//! group, after its latency alerts; the period and meta series in a group of
//! the objective's own, labelled with it.

use std::collections::BTreeMap;

use super::alert::{Alert, Group, Series, Test, dur, lbl, num, series, with};
use super::service::{app, app_selector, static_labels, statuses};
use crate::description::alerts::Severity;
use crate::description::resolve::{MetricsR, Svc};

const RUNBOOK: [&str; 3] = [
    "The service spends its error budget faster than its objective allows (multi-window, multi-burn-rate: the long window proves it matters, the short one that it is still happening). An availability objective counts failed requests, a latency objective requests slower than its threshold.",
    "The ratio per window (`service:request_errors:ratio_rate1h`, or `service:request_slow:…` for latency; `…5m`, `…6h`) and the budget left (`slo:period_error_budget_remaining:ratio`) on the SLO dashboard; which endpoints fail or are slow; recent deploys and incidents of dependencies.",
    "Stop the burn first (roll back, fail over, shed load), then find the cause; a fast burn (critical) pages, a slow one (warning) is a ticket for this week.",
];

const ABSENT_RUNBOOK: [&str; 3] = [
    "The series an objective is computed from has disappeared while the alert watches: the SLO is blind, and its burn-rate alerts cannot fire whatever happens to users.",
    "Whether the target is scraped at all (ServiceDown fires too if not); whether the metric or one of its labels was renamed in a release (`/metrics` of a pod); for a latency objective, whether the histogram still has the threshold's bucket.",
    "Restore the metric (or its bucket) in the service, or update the description to its new name and regenerate.",
];

/// What fails an objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A request answered with a server error.
    Availability,
    /// A request slower than the threshold's bucket.
    Latency,
}

/// One objective of a service, with what its rules need.
pub(super) struct Objective<'a> {
    pub kind: Kind,
    /// Percent of good requests (`99.9`).
    pub percent: f64,
    /// Seconds.
    pub period: u32,
    pub min_rate: Option<f64>,
    /// The latency threshold in seconds (the `le` of its bucket).
    pub under: f64,
    svc: &'a Svc,
    m: &'a MetricsR,
}

/// Long and short window (seconds) and the share of the period's budget the
/// long window may spend: either pair fires. The burn-rate factor is that
/// share × period ÷ long window (14.4, 6, 3 and 1 for 30 days).
type Burn = [(u32, u32, f64); 2];

/// Pages: 2% of the budget in an hour, or 5% in six hours.
const PAGE: Burn = [(3600, 300, 0.02), (21600, 1800, 0.05)];
/// A ticket: 10% of the budget in a day, or in three days.
const TICKET: Burn = [(86400, 7200, 0.10), (259200, 21600, 0.10)];

/// The ratio windows recorded for a service with an objective: 5m (as
/// without one) and every window of [`PAGE`] and [`TICKET`].
pub(super) const WINDOWS: [u32; 7] = [300, 1800, 3600, 7200, 21600, 86400, 259200];

/// How long the objective's series may be missing before `SLOMetricAbsent` fires.
const ABSENT_FOR: u32 = 600;

impl Objective<'_> {
    /// The share of requests that may fail (`0.001`).
    pub fn budget(&self) -> f64 {
        (100.0 - self.percent) / 100.0
    }

    /// `availability` or `latency`: the `slo` label.
    pub fn label(&self) -> &'static str {
        match self.kind {
            Kind::Availability => "availability",
            Kind::Latency => "latency",
        }
    }

    /// The recorded ratio's middle part: `service:<sli>:ratio_rate5m`.
    fn sli(&self) -> &'static str {
        match self.kind {
            Kind::Availability => "request_errors",
            Kind::Latency => "request_slow",
        }
    }

    pub fn ratio(&self, window: u32) -> String {
        format!("service:{}:ratio_rate{}", self.sli(), dur(window))
    }

    /// The burn-rate factor of a pair's long window: the budget's `share`
    /// spent in `long` seconds, as a multiple of the even pace.
    pub fn factor(&self, long: u32, share: f64) -> f64 {
        share * f64::from(self.period) / f64::from(long)
    }

    /// The matchers of the requests the objective counts: served traffic only.
    fn selector(&self) -> String {
        let app = app_selector(self.svc);
        self.m.served.as_ref().map_or(app.clone(), |x| format!("{app},{x}"))
    }

    /// The matcher of the threshold's bucket, in the histogram's unit. A
    /// whole number is written `1` by some clients and `1.0` by others.
    fn le(&self) -> String {
        let le = self.under * f64::from(self.m.per_second);
        if le.fract() == 0.0 { format!("le=~\"{0}|{0}\\\\.0\"", num(le)) } else { format!("le=\"{}\"", num(le)) }
    }

    /// The series counting every request: its rate is the traffic.
    fn requests(&self) -> String {
        match self.kind {
            Kind::Availability => self.m.requests.clone(),
            Kind::Latency => format!("{}_count", self.m.duration),
        }
    }

    /// The error ratio over `window`, from the raw series; no sample without
    /// traffic: 0/0 would record NaN, and one NaN in the period's average
    /// makes the period's ratio and budget NaN for the whole period.
    fn ratio_expr(&self, window: u32) -> String {
        let (sel, d, by) = (self.selector(), dur(window), "sum by (namespace, job)");
        let all = format!("{by} (rate({}{{{sel}}}[{d}]))", self.requests());
        match self.kind {
            Kind::Availability => {
                let errors = self.m.errors.as_deref().unwrap_or_default();
                format!(
                    "{by} (rate({}{{{sel},{}=~\"{errors}\"}}[{d}])) / ({all} > 0)",
                    self.m.requests, self.m.status_label
                )
            }
            Kind::Latency => {
                let fast = format!("{by} (rate({}_bucket{{{sel},{}}}[{d}]))", self.m.duration, self.le());
                format!("({all} - {fast}) / ({all} > 0)")
            }
        }
    }
}

/// The objectives of a service whose metrics can measure them: availability
/// needs the requests' status, latency the request histogram.
pub(super) fn objectives(svc: &Svc) -> Vec<Objective<'_>> {
    let Some(m) = svc.metrics.as_ref().filter(|m| m.http) else { return Vec::new() };
    let a = &svc.alerts;
    let one = |kind, percent, under| Objective { kind, percent, period: a.period, min_rate: a.min_rate, under, svc, m };
    let mut out = Vec::new();
    if let Some(p) = a.availability.filter(|_| m.errors.is_some()) {
        out.push(one(Kind::Availability, p, 0.0));
    }
    if let Some(l) = &a.latency_slo {
        out.push(one(Kind::Latency, l.target, l.seconds));
    }
    out
}

/// The error ratio of each objective over every window, for the service's group.
pub(super) fn window_records(svc: &Svc) -> Vec<(String, String)> {
    objectives(svc).iter().flat_map(|o| WINDOWS.map(|w| (o.ratio(w), o.ratio_expr(w)))).collect()
}

/// A group per objective: its ratio over the period (the 5m ratio averaged,
/// as Sloth does: a rate over 30 days would weigh the busy hours, and
/// reads a month of raw samples at every evaluation) and its meta series,
/// labelled `service` and `slo`.
pub(super) fn groups(svc: &Svc) -> Vec<Group> {
    objectives(svc)
        .iter()
        .map(|o| {
            let (period, b) = (o.period, num(o.budget()));
            let sel = app_selector(svc);
            let five = format!("{}{{{sel}}}", o.ratio(300));
            let mine = format!("{{service=\"{}\",slo=\"{}\"}}", svc.name, o.label());
            let p = dur(period);
            let records = vec![
                (o.ratio(period), format!("sum_over_time({five}[{p}]) / count_over_time({five}[{p}])")),
                ("slo:objective:ratio".into(), format!("vector({})", num(o.percent / 100.0))),
                ("slo:error_budget:ratio".into(), format!("vector({b})")),
                ("slo:time_period:days".into(), format!("vector({})", period / 86400)),
                ("slo:current_burn_rate:ratio".into(), format!("{five} / {b}")),
                ("slo:period_burn_rate:ratio".into(), format!("{}{{{sel}}} / {b}", o.ratio(period))),
                ("slo:period_error_budget_remaining:ratio".into(), format!("1 - slo:period_burn_rate:ratio{mine}")),
            ];
            Group {
                name: format!("{}.slo.{}", svc.name, o.label()),
                records,
                record_labels: lbl(&[("service", &svc.name), ("slo", o.label())]),
                alerts: Vec::new(),
            }
        })
        .collect()
}

/// The page of each objective: 2% of the budget in 1h (and 5m), or 5% in 6h (and 30m).
pub fn fast_burn(svc: &Svc) -> Vec<Alert> {
    objectives(svc).iter().map(|o| burn(o, true)).collect()
}

/// The ticket of each objective: 10% of the budget in 1d (and 2h), or in 3d (and 6h).
pub fn slow_burn(svc: &Svc) -> Vec<Alert> {
    objectives(svc).iter().map(|o| burn(o, false)).collect()
}

fn burn(o: &Objective, page: bool) -> Alert {
    let svc = o.svc;
    let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
    let (pairs, severity, for_seconds) =
        if page { (PAGE, Severity::Critical, 120) } else { (TICKET, Severity::Warning, 900) };
    let b = o.budget();
    let f = [o.factor(pairs[0].0, pairs[0].2), o.factor(pairs[1].0, pairs[1].2)];
    let (what, prefix) = match o.kind {
        Kind::Availability => (format!("{}% availability", num(o.percent)), "ErrorBudgetBurn"),
        Kind::Latency => (format!("{}% under {} latency", num(o.percent), ms(o.under)), "LatencyBudgetBurn"),
    };
    let alert = if page { prefix.to_string() } else { format!("{prefix}Slow") };
    let pace = format!(
        "{}× over {} and {} (or {}× over {} and {})",
        num(f[0]),
        dur(pairs[0].0),
        dur(pairs[0].1),
        num(f[1]),
        dur(pairs[1].0),
        dur(pairs[1].1)
    );
    let guard = o.min_rate.map_or(String::new(), |r| format!(", with at least {} requests/s", num(r)));
    let period = format!("{}-day", o.period / 86400);
    // Fast burns are seen in minutes, slow ones need a day of samples.
    let (interval, at, n) = if page { (60, 75 * 60, 90) } else { (600, 26 * 3600, 170) };
    // Firing: above the first pair's limit; silent: half the lower limit of the two.
    let (fire, quiet) = (between_f(f[0], b), f[0].min(f[1]) * b / 2.0);
    let rate = traffic(o, interval);
    let also_quiet = o.min_rate.map_or_else(Vec::new, |r| {
        // The firing share of errors, on half the least traffic that counts.
        vec![("below its minimum request rate".to_string(), input(o, fire, r / 2.0 * f64::from(interval), n))]
    });
    Alert {
        name: alert,
        expr: burning(o, pairs),
        for_seconds,
        severity,
        labels: with(&static_labels(svc, severity), "slo", o.label()),
        summary: format!(
            "{name} is {} its {what} error budget{}",
            if page { "burning" } else { "using" },
            if page { " fast" } else { " too fast" }
        ),
        description: format!(
            "{name} in {ns} spends the error budget of its {what} objective at {pace}{guard}: {}",
            if page {
                format!("at this rate the {period} budget is gone within days.")
            } else {
                format!("the {period} budget will not last the period.")
            }
        ),
        runbook: RUNBOOK,
        scope: format!(
            "`{name}` {}: {what} over {}d, budget {}; {} at {pace}{guard}{}",
            o.label(),
            o.period / 86400,
            num(b),
            if page { "page" } else { "ticket" },
            if page { outage(o, for_seconds) } else { String::new() }
        ),
        test: Test {
            interval,
            fire: input(o, fire, rate, n),
            quiet: input(o, quiet, rate, n),
            at,
            out: app(svc),
            also_quiet,
        },
    }
}

/// What the budget means for paging: a total outage spends all of it in
/// budget × period, and the page comes a scrape (the first failed requests
/// in a rate) plus `for` after the outage starts. At 99.99% over 30 days that
/// is 4.3 minutes, more than half of it gone before anyone is paged.
fn outage(o: &Objective, for_seconds: u32) -> String {
    let budget = o.budget() * f64::from(o.period);
    let page = f64::from(o.m.interval + for_seconds);
    let all = match o.kind {
        Kind::Availability => "total outage".to_string(),
        Kind::Latency => format!("every request slower than {}", ms(o.under)),
    };
    format!(
        ". The budget is {:.1} minutes of {all}; in one, the page comes about {} in (a {}s scrape and `for`), when {:.0}% of the budget is gone{}",
        budget / 60.0,
        dur(o.m.interval + for_seconds),
        o.m.interval,
        (100.0 * page / budget).min(100.0),
        if page >= budget / 2.0 {
            ": at this objective a page reports a budget spent, it cannot save it; what protects it is deploying in small steps with automatic rollback"
        } else {
            ""
        }
    )
}

/// `SLOMetricAbsent` (Pyrra's): the series the objective reads has been gone
/// for 10m. A warning: users may be fine, but the objective is blind.
pub fn absent(svc: &Svc) -> Vec<Alert> {
    objectives(svc)
        .iter()
        .map(|o| {
            let (name, ns) = (svc.name.as_str(), svc.namespace.as_str());
            let sel = app_selector(svc);
            let (metric, matcher) = match o.kind {
                Kind::Availability => (o.m.requests.clone(), sel),
                Kind::Latency => (format!("{}_bucket", o.m.duration), format!("{sel},{}", o.le())),
            };
            let severity = Severity::Warning;
            // The series stops after 5 minutes; Prometheus forgets it 5
            // minutes later, then `for` runs.
            let at = 300 + 300 + ABSENT_FOR + 300;
            let s = series(&metric, &absent_series_labels(o));
            Alert {
                name: "SLOMetricAbsent".into(),
                expr: format!("absent({metric}{{{matcher}}})"),
                for_seconds: ABSENT_FOR,
                severity,
                labels: with(&static_labels(svc, severity), "slo", o.label()),
                summary: format!("{name}: the series of its {} objective is missing", o.label()),
                description: format!(
                    "{metric} of {name} in {ns} has not been scraped for {}: the {} objective cannot be measured and its burn-rate alerts cannot fire.",
                    dur(ABSENT_FOR),
                    o.label()
                ),
                runbook: ABSENT_RUNBOOK,
                scope: format!("`{name}` {}: `{metric}` absent for {}", o.label(), dur(ABSENT_FOR)),
                test: Test {
                    interval: 60,
                    fire: vec![(s.clone(), "0+10x5".into())],
                    quiet: vec![(s, format!("0+10x{}", at / 60 + 5))],
                    at,
                    out: absent_labels(o),
                    also_quiet: Vec::new(),
                },
            }
        })
        .collect()
}

/// The labels `absent` gives: the equality matchers of its selector.
fn absent_labels(o: &Objective) -> BTreeMap<String, String> {
    let l = app(o.svc);
    match o.kind {
        Kind::Latency if o.le().starts_with("le=\"") => with(&l, "le", &num(o.under * f64::from(o.m.per_second))),
        _ => l,
    }
}

/// The labels of the series the absent alert's test feeds.
fn absent_series_labels(o: &Objective) -> BTreeMap<String, String> {
    match o.kind {
        Kind::Availability => {
            let (_, good) = statuses(o.m.errors.as_deref().unwrap_or_default());
            with(&app(o.svc), &o.m.status_label, &good)
        }
        Kind::Latency => with(&app(o.svc), "le", &num(o.under * f64::from(o.m.per_second))),
    }
}

/// Both windows of either pair above their factor times the budget, and,
/// with a minimum rate, at least that traffic over the long window.
fn burning(o: &Objective, pairs: Burn) -> String {
    let sel = app_selector(o.svc);
    let budget = num(o.budget());
    let both = |(long, short, share): (u32, u32, f64)| {
        let f = num(o.factor(long, share));
        let mut e =
            format!("{}{{{sel}}} > ({f} * {budget}) and {}{{{sel}}} > ({f} * {budget})", o.ratio(long), o.ratio(short));
        if let Some(r) = o.min_rate {
            e.push_str(&format!(
                " and on (namespace, job) sum by (namespace, job) (rate({}{{{}}}[{}])) >= {}",
                o.requests(),
                o.selector(),
                dur(long),
                num(r)
            ));
        }
        e
    };
    format!("({}) or ({})", both(pairs[0]), both(pairs[1]))
}

/// A share of errors above the first factor times the budget and below every
/// request failing.
fn between_f(factor: f64, budget: f64) -> f64 {
    let t = factor * budget;
    (t * 20.0 / 14.4).min(t + (1.0 - t) / 2.0)
}

/// Requests per sample of a test: 1,000, or more when the minimum rate asks
/// for more (twice it, so the guard lets the firing input through).
fn traffic(o: &Objective, interval: u32) -> f64 {
    let least = o.min_rate.map_or(0.0, |r| 2.0 * r * f64::from(interval));
    (least / 1000.0).ceil().max(1.0) * 1000.0
}

/// `n` samples of `per_sample` requests of which the share `ratio` fails.
fn input(o: &Objective, ratio: f64, per_sample: f64, n: u32) -> Vec<Series> {
    let app = app(o.svc);
    let m = o.m;
    match o.kind {
        Kind::Availability => {
            let req = |status: &str| series(&m.requests, &with(&app, &m.status_label, status));
            let (bad, good) = statuses(m.errors.as_deref().unwrap_or_default());
            vec![
                (req(&bad), format!("0+{}x{n}", num(ratio * per_sample))),
                (req(&good), format!("0+{}x{n}", num((1.0 - ratio) * per_sample))),
            ]
        }
        Kind::Latency => {
            let le = num(o.under * f64::from(m.per_second));
            vec![
                (
                    series(&format!("{}_bucket", m.duration), &with(&app, "le", &le)),
                    format!("0+{}x{n}", num((1.0 - ratio) * per_sample)),
                ),
                (series(&format!("{}_count", m.duration), &app), format!("0+{}x{n}", num(per_sample))),
            ]
        }
    }
}

/// `0.3` seconds as `300ms`.
fn ms(seconds: f64) -> String {
    format!("{}ms", num(seconds * 1000.0))
}

#[cfg(test)]
mod tests {
    use super::super::recording::records;
    use super::super::testing::{assert_well_formed, metrics, service, step, thresholds, values};
    use super::*;

    #[test]
    fn the_firing_share_of_errors_is_above_the_burn_and_below_every_request_failing() {
        // A tight budget: 20/14.4 of the burn; a loose one: halfway to 100 %.
        for (budget, want) in [(0.001, 0.0144 * 20.0 / 14.4), (0.05, 0.72 + 0.28 / 2.0)] {
            let share = between_f(14.4, budget);
            assert!((share - want).abs() < 1e-12, "{budget}: {share}");
            assert!(share > 14.4 * budget && share < 1.0, "{budget}: {share}");
        }
    }

    /// The share of failed requests of a test input.
    fn failing(input: &[Series]) -> f64 {
        let bad = step(values(input, "http_requests_total", &[("status", "500")]));
        bad / (bad + step(values(input, "http_requests_total", &[("status", "200")])))
    }

    /// The share of requests slower than 250ms of a test input.
    fn slow(input: &[Series]) -> f64 {
        let fast = step(values(input, "http_request_duration_seconds_bucket", &[("le", "0.25")]));
        1.0 - fast / step(values(input, "http_request_duration_seconds_count", &[]))
    }

    /// Requests per second of a test input sampled every `interval`.
    fn per_second(input: &[Series], interval: u32) -> f64 {
        let all: f64 = input.iter().filter(|(s, _)| s.starts_with("http_requests_total")).map(|(_, v)| step(v)).sum();
        all / f64::from(interval)
    }

    /// `99.9`: a budget of 0.001.
    const BUDGET: f64 = 0.001;

    fn availability(alerts: Vec<Alert>) -> Alert {
        match alerts.into_iter().find(|a| a.labels.get("slo").map(String::as_str) == Some("availability")) {
            Some(a) => a,
            None => panic!("api has an availability objective"),
        }
    }

    fn latency(alerts: Vec<Alert>) -> Alert {
        match alerts.into_iter().find(|a| a.labels.get("slo").map(String::as_str) == Some("latency")) {
            Some(a) => a,
            None => panic!("api has a latency objective"),
        }
    }

    #[test]
    fn the_factors_follow_from_the_period() {
        let mut svc = service("api");
        let factors = |svc: &Svc| {
            let o = &objectives(svc)[0];
            PAGE.into_iter().chain(TICKET).map(|(long, _, share)| num(o.factor(long, share))).collect::<Vec<_>>()
        };
        assert_eq!(factors(&svc), ["14.4", "6", "3", "1"]);
        svc.alerts.period = 28 * 86400;
        assert_eq!(factors(&svc), ["13.44", "5.6", "2.8", "0.9333333333"]);
        let a = availability(fast_burn(&svc));
        assert!(a.expr.contains("> (13.44 * 0.001)") && a.expr.contains("> (5.6 * 0.001)"), "{}", a.expr);
        assert!(a.description.contains("28-day"), "{}", a.description);
    }

    #[test]
    fn every_burn_window_is_recorded() {
        let svc = service("api");
        let recorded: Vec<String> = records(&svc).into_iter().map(|(r, _)| r).collect();
        for o in objectives(&svc) {
            for (long, short, _) in PAGE.into_iter().chain(TICKET) {
                for w in [long, short] {
                    assert!(recorded.contains(&o.ratio(w)), "{} is not recorded", o.ratio(w));
                    assert!(WINDOWS.contains(&w));
                }
            }
        }
    }

    #[test]
    fn the_period_and_meta_series_are_recorded_per_objective() {
        let svc = service("api");
        let g = groups(&svc);
        let names: Vec<&str> = g.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["api.slo.availability", "api.slo.latency"]);
        let recorded: Vec<&str> = g[0].records.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(
            recorded,
            [
                "service:request_errors:ratio_rate30d",
                "slo:objective:ratio",
                "slo:error_budget:ratio",
                "slo:time_period:days",
                "slo:current_burn_rate:ratio",
                "slo:period_burn_rate:ratio",
                "slo:period_error_budget_remaining:ratio",
            ]
        );
        let expr = |g: &Group, r: &str| g.records.iter().find(|(n, _)| n == r).map(|(_, e)| e.clone());
        assert_eq!(
            expr(&g[0], "service:request_errors:ratio_rate30d").as_deref(),
            Some(
                "sum_over_time(service:request_errors:ratio_rate5m{job=\"api\",namespace=\"shop\"}[30d]) / count_over_time(service:request_errors:ratio_rate5m{job=\"api\",namespace=\"shop\"}[30d])"
            )
        );
        assert_eq!(expr(&g[0], "slo:objective:ratio").as_deref(), Some("vector(0.999)"));
        assert_eq!(expr(&g[1], "slo:error_budget:ratio").as_deref(), Some("vector(0.01)"));
        assert_eq!(expr(&g[1], "slo:time_period:days").as_deref(), Some("vector(30)"));
        assert_eq!(g[1].record_labels, lbl(&[("service", "api"), ("slo", "latency")]));
        assert!(g.iter().all(|g| g.alerts.is_empty()));
    }

    #[test]
    fn the_latency_ratio_counts_requests_above_the_bucket() {
        let svc = service("api");
        let Some((_, e)) = records(&svc).into_iter().find(|(r, _)| r == "service:request_slow:ratio_rate1h") else {
            panic!("the latency objective's 1h ratio is recorded")
        };
        assert_eq!(
            e,
            "(sum by (namespace, job) (rate(http_request_duration_seconds_count{job=\"api\",namespace=\"shop\"}[1h])) - sum by (namespace, job) (rate(http_request_duration_seconds_bucket{job=\"api\",namespace=\"shop\",le=\"0.25\"}[1h]))) / (sum by (namespace, job) (rate(http_request_duration_seconds_count{job=\"api\",namespace=\"shop\"}[1h])) > 0)"
        );
    }

    #[test]
    fn a_whole_second_threshold_matches_either_way_clients_write_it() {
        let mut svc = service("api");
        if let Some(l) = svc.alerts.latency_slo.as_mut() {
            l.seconds = 1.0;
        }
        let o = objectives(&svc).into_iter().find(|o| o.kind == Kind::Latency);
        assert_eq!(o.map(|o| o.le()).as_deref(), Some("le=~\"1|1\\\\.0\""));
    }

    #[test]
    fn a_histogram_in_milliseconds_gets_its_threshold_in_milliseconds() {
        let mut svc = service("api");
        if let Some(m) = svc.metrics.as_mut() {
            m.per_second = 1000;
        }
        let o = objectives(&svc).into_iter().find(|o| o.kind == Kind::Latency);
        assert_eq!(o.map(|o| o.le()).as_deref(), Some("le=~\"250|250\\\\.0\""));
        let all = absent(&svc);
        let Some(a) = all.iter().find(|a| a.labels.get("slo").map(String::as_str) == Some("latency")) else {
            panic!("a latency objective")
        };
        // A regex matcher gives `absent` no `le` label.
        assert!(!a.test.out.contains_key("le"), "{:?}", a.test.out);
        assert!(a.test.fire[0].0.contains("le=\"250\""), "{:?}", a.test.fire);
    }

    #[test]
    fn the_fast_burn_pages_at_fourteen_times_the_budget_over_an_hour() {
        let svc = service("api");
        let a = availability(fast_burn(&svc));
        assert_well_formed(&a, &records(&svc));
        let windows = ["1h", "5m", "6h", "30m"].map(|w| format!("service:request_errors:ratio_rate{w}"));
        assert_eq!(metrics(&a.expr), windows);
        assert!(a.expr.contains("> (14.4 * 0.001)") && a.expr.contains("> (6 * 0.001)"), "{}", a.expr);
        assert_eq!((a.severity, a.for_seconds), (Severity::Critical, 120));
        assert_eq!(a.labels.get("slo").map(String::as_str), Some("availability"));
        assert!(failing(&a.test.fire) > 14.4 * BUDGET);
        assert!(failing(&a.test.quiet) < 6.0 * BUDGET);
        // The hour-long window is full, and the condition held for `for`.
        assert!(a.test.at >= 3600 + a.for_seconds);
        assert!(a.test.also_quiet.is_empty(), "no minimum rate, no low-traffic case");
        let l = latency(fast_burn(&svc));
        assert!(
            l.scope.contains("The budget is 432.0 minutes of every request slower than 250ms; in one"),
            "{}",
            l.scope
        );
        // 0.1% of 30 days is 43.2 minutes; the page comes 2m30s in (a 30s scrape and 2m).
        assert!(
            a.scope.ends_with("The budget is 43.2 minutes of total outage; in one, the page comes about 150s in (a 30s scrape and `for`), when 6% of the budget is gone"),
            "{}",
            a.scope
        );
    }

    #[test]
    fn at_four_nines_the_page_reports_a_spent_budget() {
        let mut svc = service("api");
        svc.alerts.availability = Some(99.99);
        let a = availability(fast_burn(&svc));
        assert!(a.scope.contains("The budget is 4.3 minutes of total outage"), "{}", a.scope);
        assert!(a.scope.contains("when 58% of the budget is gone: at this objective a page reports"), "{}", a.scope);
    }

    #[test]
    fn the_slow_burn_is_a_ticket_at_three_times_the_budget_over_a_day() {
        let svc = service("api");
        let a = availability(slow_burn(&svc));
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
    fn the_latency_objective_pages_on_slow_requests() {
        let svc = service("api");
        let a = latency(fast_burn(&svc));
        assert_eq!(a.name, "LatencyBudgetBurn");
        assert_well_formed(&a, &records(&svc));
        let windows = ["1h", "5m", "6h", "30m"].map(|w| format!("service:request_slow:ratio_rate{w}"));
        assert_eq!(metrics(&a.expr), windows);
        // 99% under 250ms: a budget of 1%.
        assert!(a.expr.contains("> (14.4 * 0.01)"), "{}", a.expr);
        assert!(slow(&a.test.fire) > 14.4 * 0.01 && slow(&a.test.fire) < 1.0);
        assert!(slow(&a.test.quiet) < 6.0 * 0.01);
        let t = latency(slow_burn(&svc));
        assert_eq!(t.name, "LatencyBudgetBurnSlow");
        assert!(slow(&t.test.fire) > 3.0 * 0.01 && slow(&t.test.quiet) < 0.01);
    }

    #[test]
    fn a_minimum_rate_keeps_the_alerts_silent_on_little_traffic() {
        let mut svc = service("api");
        svc.alerts.min_rate = Some(50.0);
        let a = availability(fast_burn(&svc));
        assert_well_formed(&a, &records(&svc));
        assert!(
            a.expr.contains(" and on (namespace, job) sum by (namespace, job) (rate(http_requests_total{job=\"api\",namespace=\"shop\"}[1h])) >= 50) or ("),
            "{}",
            a.expr
        );
        assert!(a.expr.contains("[6h])) >= 50)"), "{}", a.expr);
        assert!(per_second(&a.test.fire, a.test.interval) >= 100.0, "the firing input passes the guard");
        let [(why, low)] = a.test.also_quiet.as_slice() else { panic!("one low-traffic case") };
        assert_eq!(why, "below its minimum request rate");
        assert!(failing(low) > 14.4 * BUDGET, "it burns as fast as the firing input");
        assert_eq!(per_second(low, a.test.interval), 25.0);
    }

    #[test]
    fn the_absent_alert_reads_what_each_objective_reads() {
        let svc = service("api");
        let all = absent(&svc);
        let exprs: Vec<&str> = all.iter().map(|a| a.expr.as_str()).collect();
        assert_eq!(
            exprs,
            [
                "absent(http_requests_total{job=\"api\",namespace=\"shop\"})",
                "absent(http_request_duration_seconds_bucket{job=\"api\",namespace=\"shop\",le=\"0.25\"})",
            ]
        );
        for a in &all {
            assert_eq!((a.name.as_str(), a.severity, a.for_seconds), ("SLOMetricAbsent", Severity::Warning, 600));
            // The firing series stops at 5m: gone for good 5m later, then `for`.
            let [(_, fire)] = a.test.fire.as_slice() else { panic!("one series") };
            assert_eq!(fire, "0+10x5");
            assert!(a.test.at >= 300 + 300 + a.for_seconds);
            let [(_, quiet)] = a.test.quiet.as_slice() else { panic!("one series") };
            assert!(super::super::testing::samples(quiet) * 60 > a.test.at);
        }
        assert_eq!(all[1].test.out.get("le").map(String::as_str), Some("0.25"));
    }

    #[test]
    fn only_with_metrics_and_an_objective() {
        assert!(fast_burn(&service("worker")).is_empty());
        let mut svc = service("api");
        svc.alerts.availability = None;
        svc.alerts.latency_slo = None;
        assert!(fast_burn(&svc).is_empty() && slow_burn(&svc).is_empty() && absent(&svc).is_empty());
        assert!(groups(&svc).is_empty() && window_records(&svc).is_empty());
    }
}
