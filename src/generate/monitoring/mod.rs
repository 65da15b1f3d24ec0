//! Monitoring: a ServiceMonitor per service with metrics, a PodMonitor per
//! datastore with `metrics: true`, one PrometheusRule for the platform
//! (recording rules, standard alerts, SLO burn-rate alerts, volume, node,
//! datastore and backup alerts), and the plain files for clusters without
//! the Prometheus Operator: the rule groups, a promtool unit test per alert
//! (it fires above its threshold and stays silent below), a scrape
//! configuration and the Alertmanager routing. Every alert links to its
//! section of the generated runbook.

mod alert;
mod alertmanager;
mod operator;
mod rules;
mod runbook;
mod scrape;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Stack;
use crate::description::Engine;
use crate::description::alerts::{MetricKind, Rule, Severity};
use crate::description::resolve::{Resolved, Svc};
use alert::{Alert, Group, Test, between, lbl, num, series, timing, with};

pub use alert::dur;
pub use rules::anchor;

/// The plain monitoring files of one environment (values serialized as YAML).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Monitoring {
    /// `rules.yaml`: the `groups:` file promtool and Prometheus read.
    pub rules: Value,
    /// `rules.test.yaml`: `promtool test rules` input, next to `rules.yaml`.
    pub tests: Value,
    /// `prometheus.yml`: scrape configuration without the Operator.
    pub scrape: Value,
    /// `alertmanager.yml`, when the description routes alerts.
    pub alertmanager: Option<Value>,
    /// Alert name → severity, for summaries and tests.
    pub alerts: BTreeMap<String, Vec<Severity>>,
}

/// The file name the tests refer to; they live in the same directory.
pub const RULES_FILE: &str = "rules.yaml";

/// Writes the ServiceMonitors and PrometheusRule into `stack`, and the plain
/// files and runbook sections beside it.
pub fn monitoring(r: &Resolved, stack: &mut Stack) {
    let mut groups = Vec::new();
    for svc in &r.services {
        groups.push(service_group(svc));
    }
    groups.push(platform_group(r));
    groups.push(datastore_group(r));
    groups.push(backup_group(r, stack));
    groups.retain(|g| !g.is_empty());

    let base = &r.alerting.runbook_base;
    let rules = rules::rules(&groups, base);
    let tests = rules::tests(&groups, base);
    if r.prometheus_operator {
        operator::objects(r, &rules, !groups.is_empty(), stack);
    }

    let mut alerts: BTreeMap<String, Vec<Severity>> = BTreeMap::new();
    for a in groups.iter().flat_map(|g| &g.alerts) {
        alerts.entry(a.name.clone()).or_default().push(a.severity);
    }
    stack.runbook.extend(runbook::sections(&groups));
    stack.monitoring = Some(Monitoring {
        rules,
        tests,
        scrape: scrape::config(r),
        alertmanager: r.alerting.routed().then(|| alertmanager::config(&r.alerting)),
        alerts,
    });
}

// ---- per service ------------------------------------------------------------

fn service_group(svc: &Svc) -> Group {
    let mut g = Group { name: format!("{}.rules", svc.name), ..Group::default() };
    let a = &svc.alerts;
    let ns = svc.namespace.as_str();
    let name = svc.name.as_str();
    let app = lbl(&[("job", name), ("namespace", ns)]);
    let app_sel = format!("job=\"{name}\",namespace=\"{ns}\"");
    let pod_sel = format!("namespace=\"{ns}\",container=\"{name}\"");
    let pod = format!("{name}-7d9f8c6b5-x2x4q");
    let static_labels = |sev: Severity| lbl(&[("severity", sev.as_str()), ("service", name)]);
    g.record_labels = lbl(&[("service", name)]);

    if let Some(m) = &svc.metrics {
        let req = &m.requests;
        let st = &m.status_label;
        let by = "sum by (namespace, job)";
        g.records.push(("service:requests:rate5m".into(), format!("{by} (rate({req}{{{app_sel}}}[5m]))")));
        let mut windows = vec![300u32];
        if a.availability.is_some() {
            windows = vec![300, 1800, 3600, 7200, 21600, 86400, 259200];
        }
        for w in windows {
            let d = dur(w);
            g.records.push((
                format!("service:request_errors:ratio_rate{d}"),
                format!("{by} (rate({req}{{{app_sel},{st}=~\"5..\"}}[{d}])) / {by} (rate({req}{{{app_sel}}}[{d}]))"),
            ));
        }
        let mut quantiles: Vec<(&str, f64)> = vec![("p50", 0.5), ("p95", 0.95), ("p99", 0.99)];
        for l in &a.latency {
            if !quantiles.iter().any(|(n, _)| *n == l.name) {
                quantiles.push((l.name, l.quantile));
            }
        }
        for h in std::iter::once(&m.duration).chain(&m.histograms) {
            let base = if h == &m.duration { "request_duration_seconds".to_string() } else { h.clone() };
            for (qn, q) in &quantiles {
                g.records.push((
                    format!("service:{base}:{qn}"),
                    format!(
                        "histogram_quantile({}, sum by (namespace, job, le) (rate({h}_bucket{{{app_sel}}}[5m])))",
                        num(*q)
                    ),
                ));
            }
        }

        // Down: no target up (or none at all: the ServiceMonitor matched nothing).
        if a.down.enabled {
            let (at, n) = timing(a.down.for_seconds, 0);
            let up = series("up", &with(&app, "instance", "10.0.0.1:8000"));
            g.alerts.push(Alert {
                name: "ServiceDown".into(),
                expr: format!("sum by (namespace, job) (up{{{app_sel}}}) == 0 or absent(up{{{app_sel}}})"),
                for_seconds: a.down.for_seconds,
                severity: a.down.severity,
                labels: static_labels(a.down.severity),
                summary: format!("{name} is down: Prometheus scrapes no healthy target"),
                description: format!(
                    "No target of job {name} in namespace {ns} has been up for {}.",
                    dur(a.down.for_seconds)
                ),
                runbook: DOWN,
                scope: format!("`{name}`: every target down, or none scraped, for {}", dur(a.down.for_seconds)),
                test: Test {
                    interval: 60,
                    fire: vec![(up.clone(), format!("0x{n}"))],
                    quiet: vec![(up, format!("1x{n}"))],
                    at,
                    out: app.clone(),
                },
            });
        }
        if a.error_rate.enabled {
            let r = &a.error_rate;
            let t = r.threshold;
            let (at, n) = timing(r.for_seconds, 300);
            let req_series = |status: &str| series(req, &with(&app, st, status));
            let case = |pct: f64| {
                vec![
                    (req_series("500"), format!("0+{}x{n}", num(pct))),
                    (req_series("200"), format!("0+{}x{n}", num(100.0 - pct))),
                ]
            };
            g.alerts.push(Alert {
                name: "HighErrorRatio".into(),
                expr: format!("service:request_errors:ratio_rate5m{{{app_sel}}} > {}", num(t / 100.0)),
                for_seconds: r.for_seconds,
                severity: r.severity,
                labels: static_labels(r.severity),
                summary: format!("{name}: more than {}% of requests fail", num(t)),
                description: format!(
                    "Over 5 minutes more than {}% of the requests to {name} in {ns} answered with a 5xx status.",
                    num(t)
                ),
                runbook: ERRORS,
                scope: format!("`{name}`: 5xx above {}% for {}", num(t), dur(r.for_seconds)),
                test: Test { interval: 60, fire: case(between(t, 100.0)), quiet: case(t / 2.0), at, out: app.clone() },
            });
        }
        for l in &a.latency {
            let t = l.seconds;
            let (at, n) = timing(l.for_seconds, 300);
            let rec = format!("service:request_duration_seconds:{}", l.name);
            g.alerts.push(Alert {
                name: format!("HighLatency{}", l.name.to_ascii_uppercase()),
                expr: format!("{rec}{{{app_sel}}} > {}", num(t)),
                for_seconds: l.for_seconds,
                severity: l.severity,
                labels: static_labels(l.severity),
                summary: format!("{name}: {} latency above {}s", l.name.to_ascii_uppercase(), num(t)),
                description: format!(
                    "The {} request duration of {name} in {ns} has been above {}s for {}.",
                    l.name.to_ascii_uppercase(),
                    num(t),
                    dur(l.for_seconds)
                ),
                runbook: LATENCY,
                scope: format!("`{name}`: {} above {}s for {}", l.name, num(t), dur(l.for_seconds)),
                test: histogram_test(&m.duration, &app, t, at, n),
            });
        }
        if let Some(slo) = a.availability {
            let budget = num((100.0 - slo) / 100.0);
            let b = (100.0 - slo) / 100.0;
            let r = |w: &str| format!("service:request_errors:ratio_rate{w}{{{app_sel}}}");
            let page = format!(
                "({} > (14.4 * {budget}) and {} > (14.4 * {budget})) or ({} > (6 * {budget}) and {} > (6 * {budget}))",
                r("1h"),
                r("5m"),
                r("6h"),
                r("30m")
            );
            let ticket = format!(
                "({} > (3 * {budget}) and {} > (3 * {budget})) or ({} > (1 * {budget}) and {} > (1 * {budget}))",
                r("1d"),
                r("2h"),
                r("3d"),
                r("6h")
            );
            let req_series = |status: &str| series(req, &with(&app, st, status));
            let case = |ratio: f64, n: u32| {
                vec![
                    (req_series("500"), format!("0+{}x{n}", num(ratio * 1000.0))),
                    (req_series("200"), format!("0+{}x{n}", num((1.0 - ratio) * 1000.0))),
                ]
            };
            let n = 90;
            g.alerts.push(Alert {
                name: "ErrorBudgetBurn".into(),
                expr: page,
                for_seconds: 120,
                severity: Severity::Critical,
                labels: static_labels(Severity::Critical),
                summary: format!("{name} is burning its {}% availability error budget fast", num(slo)),
                description: format!(
                    "{name} in {ns} fails requests at 14.4 times its error budget over 1h and 5m (or 6 times over 6h and 30m): at this rate the 30-day budget of the {}% objective is gone within days.",
                    num(slo)
                ),
                runbook: BURN,
                scope: format!("`{name}`: {}% objective, budget {budget}; page at 14.4× (1h, 5m) or 6× (6h, 30m)", num(slo)),
                test: Test {
                    interval: 60,
                    fire: case((20.0 * b).min(between(14.4 * b, 1.0)), n),
                    quiet: case(3.0 * b, n),
                    at: 75 * 60,
                    out: app.clone(),
                },
            });
            let n = 170;
            g.alerts.push(Alert {
                name: "ErrorBudgetBurnSlow".into(),
                expr: ticket,
                for_seconds: 900,
                severity: Severity::Warning,
                labels: static_labels(Severity::Warning),
                summary: format!("{name} is using its {}% availability error budget too fast", num(slo)),
                description: format!(
                    "{name} in {ns} fails requests at 3 times its error budget over 1d and 2h (or at least the budget over 3d and 6h): the 30-day budget of the {}% objective will not last the month.",
                    num(slo)
                ),
                runbook: BURN,
                scope: format!("`{name}`: {}% objective; ticket at 3× (1d, 2h) or 1× (3d, 6h)", num(slo)),
                test: Test {
                    interval: 600,
                    fire: case((4.0 * b).min(between(3.0 * b, 1.0)), n),
                    quiet: case(0.5 * b, n),
                    at: 26 * 3600,
                    out: app.clone(),
                },
            });
        }
        for c in &a.custom {
            let metric = &c.metric;
            let w = dur(c.window);
            let t = c.threshold;
            let (at, n) = timing(c.for_seconds, c.window);
            let (expr, what, test) = match c.kind {
                MetricKind::Counter => {
                    let per_min = |total: f64| num(total * 60.0 / c.window as f64);
                    let s = series(metric, &app);
                    let quiet = if t > 0.0 { format!("0+{}x{n}", per_min(t / 2.0)) } else { format!("0x{n}") };
                    (
                        format!("sum by (namespace, job) (increase({metric}{{{app_sel}}}[{w}])) > {}", num(t)),
                        format!("{metric} increased by more than {} in {w}", num(t)),
                        Test {
                            interval: 60,
                            fire: vec![(s.clone(), format!("0+{}x{n}", per_min(2.0 * t + 1.0)))],
                            quiet: vec![(s, quiet)],
                            at,
                            out: app.clone(),
                        },
                    )
                }
                MetricKind::Gauge => {
                    let s = series(metric, &with(&app, "instance", "10.0.0.1:8000"));
                    (
                        format!("max by (namespace, job) ({metric}{{{app_sel}}}) > {}", num(t)),
                        format!("{metric} above {}", num(t)),
                        Test {
                            interval: 60,
                            fire: vec![(s.clone(), format!("{}x{n}", num(t * 1.5 + 1.0)))],
                            quiet: vec![(s, format!("{}x{n}", num(t / 2.0)))],
                            at,
                            out: app.clone(),
                        },
                    )
                }
                MetricKind::Histogram => (
                    format!(
                        "histogram_quantile({}, sum by (namespace, job, le) (rate({metric}_bucket{{{app_sel}}}[{w}]))) > {}",
                        num(c.quantile),
                        num(t)
                    ),
                    format!("the {} quantile of {metric} above {}s", num(c.quantile), num(t)),
                    histogram_test(metric, &app, t, at, n),
                ),
            };
            g.alerts.push(Alert {
                name: c.name.clone(),
                expr,
                for_seconds: c.for_seconds,
                severity: c.severity,
                labels: static_labels(c.severity),
                summary: c.summary.clone().unwrap_or_else(|| format!("{name}: {what}")),
                description: format!("{name} in {ns}: {what} for {}.", dur(c.for_seconds)),
                runbook: CUSTOM,
                scope: format!("`{name}`: {what} for {}", dur(c.for_seconds)),
                test,
            });
        }
    } else if a.down.enabled {
        let (at, n) = timing(a.down.for_seconds, 0);
        let out = lbl(&[("deployment", name), ("namespace", ns)]);
        let s = series("kube_deployment_status_replicas_available", &out);
        g.alerts.push(Alert {
            name: "ServiceDown".into(),
            expr: format!(
                "sum by (namespace, deployment) (kube_deployment_status_replicas_available{{namespace=\"{ns}\",deployment=\"{name}\"}}) == 0"
            ),
            for_seconds: a.down.for_seconds,
            severity: a.down.severity,
            labels: static_labels(a.down.severity),
            summary: format!("{name} is down: no replica available"),
            description: format!("Deployment {name} in {ns} has had no available replica for {}.", dur(a.down.for_seconds)),
            runbook: DOWN,
            scope: format!("`{name}`: no available replica for {}", dur(a.down.for_seconds)),
            test: Test { interval: 60, fire: vec![(s.clone(), format!("0x{n}"))], quiet: vec![(s, format!("2x{n}"))], at, out },
        });
    }

    // Pod-level alerts from kube-state-metrics and cAdvisor.
    let out = lbl(&[("namespace", ns), ("pod", &pod)]);
    let pod_labels = lbl(&[("namespace", ns), ("pod", &pod), ("container", name)]);
    if a.restarts.enabled {
        let r = &a.restarts;
        let t = r.threshold;
        let (at, n) = timing(r.for_seconds, 3600);
        let s = series("kube_pod_container_status_restarts_total", &pod_labels);
        let per_min = ((2.0 * t + 2.0) / 60.0).ceil().max(1.0);
        let low = (t / 2.0).floor();
        g.alerts.push(Alert {
            name: "CrashLooping".into(),
            expr: format!(
                "sum by (namespace, pod) (increase(kube_pod_container_status_restarts_total{{{pod_sel}}}[1h])) > {}",
                num(t)
            ),
            for_seconds: r.for_seconds,
            severity: r.severity,
            labels: static_labels(r.severity),
            summary: format!("{name}: a container restarts more than {} times an hour", num(t)),
            description: format!(
                "Container {name} of pod {{{{ $labels.pod }}}} in {ns} restarted more than {} times in the last hour.",
                num(t)
            ),
            runbook: RESTARTS,
            scope: format!("`{name}`: more than {} restarts in 1h", num(t)),
            test: Test {
                interval: 60,
                fire: vec![(s.clone(), format!("0+{}x{n}", num(per_min)))],
                quiet: vec![(s, format!("0x60 {}x{n}", num(low)))],
                at,
                out: out.clone(),
            },
        });
    }
    if a.cpu.enabled {
        let r = &a.cpu;
        let t = r.threshold;
        let of = if svc.limits.cpu.is_some() { "limits" } else { "requests" };
        let (at, n) = timing(r.for_seconds, 300);
        let usage = series("container_cpu_usage_seconds_total", &pod_labels);
        let limit = series(
            &format!("kube_pod_container_resource_{of}"),
            &with(&with(&pod_labels, "resource", "cpu"), "unit", "core"),
        );
        let case =
            |f: f64| vec![(usage.clone(), format!("0+{}x{n}", num(60.0 * f))), (limit.clone(), format!("1x{n}"))];
        g.alerts.push(Alert {
            name: "HighCpuUsage".into(),
            expr: format!(
                "sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{{pod_sel}}}[5m])) / sum by (namespace, pod) (kube_pod_container_resource_{of}{{{pod_sel},resource=\"cpu\"}}) > {}",
                num(t / 100.0)
            ),
            for_seconds: r.for_seconds,
            severity: r.severity,
            labels: static_labels(r.severity),
            summary: format!("{name}: CPU above {}% of its {}", num(t), &of[..of.len() - 1]),
            description: format!(
                "Pod {{{{ $labels.pod }}}} of {name} in {ns} has used more than {}% of its CPU {} for {}.",
                num(t),
                &of[..of.len() - 1],
                dur(r.for_seconds)
            ),
            runbook: CPU,
            scope: format!("`{name}`: above {}% of the CPU {} for {}", num(t), &of[..of.len() - 1], dur(r.for_seconds)),
            test: Test { interval: 60, fire: case(t * 1.2 / 100.0), quiet: case(t / 200.0), at, out: out.clone() },
        });
    }
    if a.memory.enabled {
        let r = &a.memory;
        let t = r.threshold;
        let (at, n) = timing(r.for_seconds, 0);
        let usage = series("container_memory_working_set_bytes", &pod_labels);
        let limit = series(
            "kube_pod_container_resource_limits",
            &with(&with(&pod_labels, "resource", "memory"), "unit", "byte"),
        );
        let case =
            |f: f64| vec![(usage.clone(), format!("{}x{n}", num(1e9 * f))), (limit.clone(), format!("1000000000x{n}"))];
        g.alerts.push(Alert {
            name: "MemoryNearLimit".into(),
            expr: format!(
                "sum by (namespace, pod) (container_memory_working_set_bytes{{{pod_sel}}}) / sum by (namespace, pod) (kube_pod_container_resource_limits{{{pod_sel},resource=\"memory\"}}) > {}",
                num(t / 100.0)
            ),
            for_seconds: r.for_seconds,
            severity: r.severity,
            labels: static_labels(r.severity),
            summary: format!("{name}: memory above {}% of its limit", num(t)),
            description: format!(
                "Pod {{{{ $labels.pod }}}} of {name} in {ns} has used more than {}% of its memory limit for {}; next comes the OOM killer.",
                num(t),
                dur(r.for_seconds)
            ),
            runbook: MEMORY,
            scope: format!("`{name}`: above {}% of the memory limit for {}", num(t), dur(r.for_seconds)),
            test: Test {
                interval: 60,
                fire: case(between(t, 100.0) / 100.0),
                quiet: case(t / 200.0),
                at,
                out: out.clone(),
            },
        });
    }
    if let Some(r) = &a.memory_bytes {
        let t = r.threshold;
        let (at, n) = timing(r.for_seconds, 0);
        let usage = series("container_memory_working_set_bytes", &pod_labels);
        let mib = num(t / 1048576.0);
        g.alerts.push(Alert {
            name: "MemoryAboveThreshold".into(),
            expr: format!("sum by (namespace, pod) (container_memory_working_set_bytes{{{pod_sel}}}) > {}", num(t)),
            for_seconds: r.for_seconds,
            severity: r.severity,
            labels: static_labels(r.severity),
            summary: format!("{name}: container memory above {mib}Mi"),
            description: format!(
                "Pod {{{{ $labels.pod }}}} of {name} in {ns} has had a working set above {mib}Mi for {}.",
                dur(r.for_seconds)
            ),
            runbook: MEMORY,
            scope: format!("`{name}`: working set above {mib}Mi for {}", dur(r.for_seconds)),
            test: Test {
                interval: 60,
                fire: vec![(usage.clone(), format!("{}x{n}", num((t * 1.2).round())))],
                quiet: vec![(usage, format!("{}x{n}", num((t / 2.0).round())))],
                at,
                out: out.clone(),
            },
        });
    }
    let dep = lbl(&[("deployment", name), ("namespace", ns)]);
    if a.replicas.enabled {
        let r = &a.replicas;
        let t = r.threshold.floor();
        let (at, n) = timing(r.for_seconds, 0);
        let s = series("kube_deployment_status_replicas_unavailable", &dep);
        g.alerts.push(Alert {
            name: "ReplicasUnavailable".into(),
            expr: format!(
                "sum by (namespace, deployment) (kube_deployment_status_replicas_unavailable{{namespace=\"{ns}\",deployment=\"{name}\"}}) > {}",
                num(t)
            ),
            for_seconds: r.for_seconds,
            severity: r.severity,
            labels: static_labels(r.severity),
            summary: format!("{name}: fewer replicas available than desired"),
            description: format!(
                "Deployment {name} in {ns} has had more than {} unavailable replica(s) for {}.",
                num(t),
                dur(r.for_seconds)
            ),
            runbook: REPLICAS,
            scope: format!("`{name}`: more than {} unavailable for {}", num(t), dur(r.for_seconds)),
            test: Test {
                interval: 60,
                fire: vec![(s.clone(), format!("{}x{n}", num(t + 1.0)))],
                quiet: vec![(s, format!("{}x{n}", num(t)))],
                at,
                out: dep.clone(),
            },
        });
    }
    if a.hpa_max.enabled && svc.autoscaled() {
        let r = &a.hpa_max;
        let (at, n) = timing(r.for_seconds, 0);
        let hl = lbl(&[("horizontalpodautoscaler", name), ("namespace", ns)]);
        let cur = series("kube_horizontalpodautoscaler_status_current_replicas", &hl);
        let max = series("kube_horizontalpodautoscaler_spec_max_replicas", &hl);
        let m = svc.max_replicas;
        let sel = format!("namespace=\"{ns}\",horizontalpodautoscaler=\"{name}\"");
        g.alerts.push(Alert {
            name: "HpaAtMaximum".into(),
            expr: format!(
                "sum by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{{{sel}}}) >= sum by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{{{sel}}})"
            ),
            for_seconds: r.for_seconds,
            severity: r.severity,
            labels: static_labels(r.severity),
            summary: format!("{name}: the autoscaler is at its maximum"),
            description: format!(
                "HorizontalPodAutoscaler {name} in {ns} has run at its maximum replica count for {}: it cannot absorb more load.",
                dur(r.for_seconds)
            ),
            runbook: HPA,
            scope: format!("`{name}`: at max replicas for {}", dur(r.for_seconds)),
            test: Test {
                interval: 60,
                fire: vec![(cur.clone(), format!("{m}x{n}")), (max.clone(), format!("{m}x{n}"))],
                quiet: vec![(cur, format!("{}x{n}", m.saturating_sub(1))), (max, format!("{m}x{n}"))],
                at,
                out: hl,
            },
        });
    }
    g
}

/// Observations all in the bucket above `t` (fires) or all below `t / 2` (silent).
fn histogram_test(metric: &str, app: &BTreeMap<String, String>, t: f64, at: u32, n: u32) -> Test {
    let les = [num(t / 2.0), num(t), num(t * 2.0), "+Inf".to_string()];
    let bucket = |le: &str| series(&format!("{metric}_bucket"), &with(app, "le", le));
    let fire = les
        .iter()
        .enumerate()
        .map(|(i, le)| (bucket(le), if i < 2 { format!("0x{n}") } else { format!("0+10x{n}") }))
        .collect();
    let quiet = les.iter().map(|le| (bucket(le), format!("0+10x{n}"))).collect();
    Test { interval: 60, fire, quiet, at, out: app.clone() }
}

// ---- platform ----------------------------------------------------------------

fn platform_group(r: &Resolved) -> Group {
    let mut g = Group { name: format!("{}.platform", r.platform), ..Group::default() };
    let sev = |rule: &Rule| lbl(&[("severity", rule.severity.as_str())]);
    let v = &r.alerting.volumes;
    if v.enabled {
        for ns in r.namespaces() {
            let (at, n) = timing(v.for_seconds, 0);
            let l = lbl(&[("namespace", ns), ("persistentvolumeclaim", "data-0")]);
            let used = series("kubelet_volume_stats_used_bytes", &l);
            let cap = series("kubelet_volume_stats_capacity_bytes", &l);
            let case = |p: f64| vec![(used.clone(), format!("{}x{n}", num(p))), (cap.clone(), format!("100x{n}"))];
            let sel = format!("namespace=\"{ns}\"");
            g.alerts.push(Alert {
                name: "VolumeFillingUp".into(),
                expr: format!(
                    "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes{{{sel}}} / kubelet_volume_stats_capacity_bytes{{{sel}}}) > {}",
                    num(v.threshold / 100.0)
                ),
                for_seconds: v.for_seconds,
                severity: v.severity,
                labels: with(&sev(v), "namespace", ns),
                summary: format!("A volume in {ns} is more than {}% full", num(v.threshold)),
                description: format!(
                    "PersistentVolumeClaim {{{{ $labels.persistentvolumeclaim }}}} in {ns} has been more than {}% full for {}.",
                    num(v.threshold),
                    dur(v.for_seconds)
                ),
                runbook: VOLUME,
                scope: format!("namespace `{ns}`: above {}% used for {}", num(v.threshold), dur(v.for_seconds)),
                test: Test {
                    interval: 60,
                    fire: case(between(v.threshold, 100.0)),
                    quiet: case(v.threshold / 2.0),
                    at,
                    out: l.clone(),
                },
            });
        }
    }
    if let Some(d) = &r.alerting.node_disk_free {
        let (at, n) = timing(d.for_seconds, 0);
        let l = lbl(&[("device", "/dev/sda1"), ("fstype", "ext4"), ("instance", "node-1"), ("mountpoint", "/")]);
        let avail = series("node_filesystem_avail_bytes", &l);
        let size = series("node_filesystem_size_bytes", &l);
        let case = |p: f64| vec![(avail.clone(), format!("{}x{n}", num(p))), (size.clone(), format!("100x{n}"))];
        let fs = "fstype!~\"tmpfs|overlay|squashfs\"";
        g.alerts.push(Alert {
            name: "NodeDiskLow".into(),
            expr: format!(
                "min by (instance, mountpoint) (node_filesystem_avail_bytes{{{fs}}} / node_filesystem_size_bytes{{{fs}}}) < {}",
                num(d.threshold / 100.0)
            ),
            for_seconds: d.for_seconds,
            severity: d.severity,
            labels: sev(d),
            summary: format!("A node filesystem has less than {}% free", num(d.threshold)),
            description: format!(
                "Filesystem {{{{ $labels.mountpoint }}}} of node {{{{ $labels.instance }}}} has had less than {}% free space for {}.",
                num(d.threshold),
                dur(d.for_seconds)
            ),
            runbook: NODE_DISK,
            scope: format!("every node: below {}% free for {}", num(d.threshold), dur(d.for_seconds)),
            test: Test {
                interval: 60,
                fire: case(d.threshold / 2.0),
                quiet: case(between(d.threshold, 100.0)),
                at,
                out: lbl(&[("instance", "node-1"), ("mountpoint", "/")]),
            },
        });
    }
    if let Some(m) = &r.alerting.node_memory {
        let (at, n) = timing(m.for_seconds, 0);
        let l = lbl(&[("instance", "node-1")]);
        let avail = series("node_memory_MemAvailable_bytes", &l);
        let total = series("node_memory_MemTotal_bytes", &l);
        let case = |used: f64| {
            vec![(avail.clone(), format!("{}x{n}", num(100.0 - used))), (total.clone(), format!("100x{n}"))]
        };
        g.alerts.push(Alert {
            name: "NodeMemoryHigh".into(),
            expr: format!(
                "(1 - max by (instance) (node_memory_MemAvailable_bytes) / max by (instance) (node_memory_MemTotal_bytes)) > {}",
                num(m.threshold / 100.0)
            ),
            for_seconds: m.for_seconds,
            severity: m.severity,
            labels: sev(m),
            summary: format!("A node uses more than {}% of its memory", num(m.threshold)),
            description: format!(
                "Node {{{{ $labels.instance }}}} has used more than {}% of its memory for {}.",
                num(m.threshold),
                dur(m.for_seconds)
            ),
            runbook: NODE_MEMORY,
            scope: format!("every node: above {}% used for {}", num(m.threshold), dur(m.for_seconds)),
            test: Test {
                interval: 60,
                fire: case(between(m.threshold, 100.0)),
                quiet: case(m.threshold / 2.0),
                at,
                out: l.clone(),
            },
        });
    }
    g
}

/// Scrape interval of datastore metrics, in seconds (the services' default).
const DATASTORE_INTERVAL: u32 = crate::description::resolve::defaults::METRICS_INTERVAL;

/// `DatastoreDown` for every datastore with `metrics: true`: the exporter's
/// `pg_up` / `redis_up` (0 when it cannot reach the engine), or `up` of the
/// engine's own endpoint (minio, rabbitmq); absent when nothing is scraped.
fn datastore_group(r: &Resolved) -> Group {
    let mut g = Group { name: format!("{}.datastores", r.platform), ..Group::default() };
    for d in &r.datastores {
        let Some(scrape) = super::datastores::store_scrape(d) else { continue };
        let (name, ns) = (d.name.as_str(), d.namespace.as_str());
        let (metric, what) = match d.engine {
            Engine::Postgres => ("pg_up", "postgres-exporter reports PostgreSQL unreachable (pg_up 0)"),
            Engine::Redis => ("redis_up", "redis-exporter reports Redis unreachable (redis_up 0)"),
            _ => ("up", "Prometheus cannot scrape the server's metrics endpoint (up 0)"),
        };
        let sel = format!("job=\"{name}\",namespace=\"{ns}\"");
        let out = lbl(&[("job", name), ("namespace", ns)]);
        let s = series(metric, &with(&out, "instance", &format!("10.0.0.1:{}", scrape.port)));
        let for_seconds = 300;
        let (at, n) = timing(for_seconds, 0);
        // When the data itself is lost: its restore procedure, if it has backups.
        let restore = if d.backup.is_some() && r.backup.is_some() && super::backup::supported(d.engine) {
            let title = super::backup::restore_title(name);
            format!("; if the data is lost: [{title}](#{})", anchor(&title))
        } else {
            String::new()
        };
        g.alerts.push(Alert {
            name: "DatastoreDown".into(),
            expr: format!("max by (namespace, job) ({metric}{{{sel}}}) == 0 or absent({metric}{{{sel}}})"),
            for_seconds,
            severity: Severity::Critical,
            labels: lbl(&[("severity", "critical"), ("service", name)]),
            summary: format!("Datastore {name} ({}) is down", d.engine.as_str()),
            description: format!(
                "Datastore {name} in {ns}: {what}, or no target is scraped at all, for {}; the services using it fail.",
                dur(for_seconds)
            ),
            runbook: DATASTORE_DOWN,
            scope: format!(
                "`{name}` ({}): `{metric}` 0 or absent for {}{restore}",
                d.engine.as_str(),
                dur(for_seconds)
            ),
            test: Test {
                interval: 60,
                fire: vec![(s.clone(), format!("0x{n}"))],
                quiet: vec![(s, format!("1x{n}"))],
                at,
                out,
            },
        });
    }
    g
}

/// Seconds between runs of a cron schedule, for the common forms
/// (`*/N * * * *`, `M * * * *`, `M */N * * *`, `M H * * *`, `M H * * D`).
pub fn cron_interval(schedule: &str) -> Option<u32> {
    let f: Vec<&str> = schedule.split_whitespace().collect();
    let [min, hour, dom, mon, dow] = f.as_slice() else { return None };
    let step = |s: &str| s.strip_prefix("*/").and_then(|n| n.parse::<u32>().ok()).filter(|n| *n > 0);
    let fixed = |s: &str| s.parse::<u32>().is_ok();
    if *dom != "*" || *mon != "*" {
        return None;
    }
    // A step that does not divide the hour (day) leaves a shorter gap at its
    // end; a day of the week only combines with a fixed time of day.
    let period = match (*min, *hour) {
        (m, "*") if step(m).is_some() => step(m).filter(|n| 60 % n == 0).map(|n| n * 60)?,
        (m, "*") if fixed(m) => 3600,
        (m, h) if fixed(m) && step(h).is_some() => step(h).filter(|n| 24 % n == 0).map(|n| n * 3600)?,
        (m, h) if fixed(m) && fixed(h) => 86400,
        _ => return None,
    };
    match *dow {
        "*" => Some(period),
        d if fixed(d) && period == 86400 => Some(7 * 86400),
        _ => None,
    }
}

/// Failure and staleness alerts for every backup CronJob in the stack, from
/// kube-state-metrics (no exporter of our own).
fn backup_group(r: &Resolved, stack: &Stack) -> Group {
    let mut g = Group { name: format!("{}.backups", r.platform), ..Group::default() };
    let runs = r.alerting.backup_runs.threshold;
    for o in stack.objects.iter().filter(|o| o.kind == "CronJob" && o.name.contains("backup")) {
        let ns = o.namespace.as_deref().unwrap_or("default");
        let name = o.name.as_str();
        let schedule = o.value.pointer("/spec/schedule").and_then(Value::as_str).unwrap_or("");
        // The datastore this CronJob dumps, whose restore procedure is in the runbook.
        let store = r
            .datastores
            .iter()
            .find(|d| d.namespace == ns && super::backup::backup_name(d) == name && super::backup::supported(d.engine));
        let restore = store.map_or_else(String::new, |d| {
            let title = super::backup::restore_title(&d.name);
            format!("; restore from a backup: [{title}](#{})", anchor(&title))
        });
        // The Job's Failed condition, not `kube_job_status_failed` (failed
        // pods): a pod that fails and is retried successfully (backoffLimit)
        // is not a missing backup.
        let jl = lbl(&[("job_name", &format!("{name}-28000000")), ("namespace", ns)]);
        let s = series("kube_job_failed", &with(&jl, "condition", "true"));
        let retried = series("kube_job_status_failed", &jl);
        g.alerts.push(Alert {
            name: "BackupFailed".into(),
            expr: format!(
                "max by (namespace, job_name) (kube_job_failed{{namespace=\"{ns}\",job_name=~\"{name}-[0-9]+\",condition=\"true\"}}) > 0"
            ),
            for_seconds: 0,
            severity: Severity::Warning,
            labels: lbl(&[("severity", "warning"), ("service", name)]),
            summary: format!("Backup {name} failed"),
            description: format!("Job {{{{ $labels.job_name }}}} of the backup CronJob {name} in {ns} failed."),
            runbook: BACKUP_FAILED,
            scope: format!("CronJob `{name}` (namespace `{ns}`): a failed run{restore}"),
            test: Test {
                interval: 60,
                fire: vec![(s.clone(), "1x10".into())],
                quiet: vec![(s, "0x10".into()), (retried, "1x10".into())],
                at: 300,
                out: jl.clone(),
            },
        });
        // Our own backups run every `backup.every` (their cron schedule says the
        // same); another CronJob's period is read from its schedule.
        let every = store.and_then(|d| d.backup.as_ref()).map(|b| b.every.get()).or_else(|| cron_interval(schedule));
        let Some(every) = every else { continue };
        let max_age = (runs * every as f64).round() as u32;
        // The unit tests evaluate at 10m whatever the period (evaluating every
        // minute up to 2 × 1d would take minutes): the last success is a
        // minute beyond the limit when it fires, a minute within when it does
        // not (timestamps before the epoch are fine). The same instant and
        // interval for every BackupTooOld test, because each test also feeds
        // the other CronJobs' healthy series.
        let (step, at) = (60, 600);
        let n = at / step + 2;
        let stamp = |age: i64| format!("{}x{n}", i64::from(at) - age);
        let cl = lbl(&[("cronjob", name), ("namespace", ns)]);
        let s = series("kube_cronjob_status_last_successful_time", &cl);
        g.alerts.push(Alert {
            name: "BackupTooOld".into(),
            expr: format!(
                "time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{{namespace=\"{ns}\",cronjob=\"{name}\"}}) > {max_age}"
            ),
            // A page holds for 5 minutes first (KP605), though the age only grows.
            for_seconds: 300,
            severity: r.alerting.backup_runs.severity,
            labels: lbl(&[("severity", r.alerting.backup_runs.severity.as_str()), ("service", name)]),
            summary: format!("The last successful backup {name} is older than {}", dur(max_age)),
            description: format!(
                "CronJob {name} in {ns} runs every {} ({schedule}) but has not succeeded for {}: the recovery point objective is at risk.",
                dur(every),
                dur(max_age)
            ),
            runbook: BACKUP_OLD,
            scope: format!(
                "CronJob `{name}` (namespace `{ns}`, every {}): no success for {}{restore}",
                dur(every),
                dur(max_age)
            ),
            test: Test {
                interval: step,
                // Past the limit for the whole 10 minutes, so beyond `for`.
                fire: vec![(s.clone(), stamp(i64::from(max_age) + 660))],
                quiet: vec![(s, stamp(i64::from(max_age) - 60))],
                at,
                out: cl,
            },
        });
    }
    g
}

/// The metric names the services of `r` declare: request counter, gauges,
/// histograms (as their `_bucket`, `_sum` and `_count` series) and the
/// metrics of custom alerts.
pub fn declared_metrics(r: &Resolved) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for s in &r.services {
        if let Some(m) = &s.metrics {
            names.insert(m.requests.clone());
            names.extend(m.gauges.iter().cloned());
            for h in std::iter::once(&m.duration).chain(&m.histograms) {
                names.extend(["_bucket", "_sum", "_count"].map(|x| format!("{h}{x}")));
            }
        }
        for c in &s.alerts.custom {
            names.insert(c.metric.clone());
            names.extend(["_bucket", "_sum", "_count"].map(|x| format!("{}{x}", c.metric)));
        }
    }
    names
}

const DOWN: [&str; 3] = [
    "Prometheus cannot scrape a single healthy target of the service: every pod is down, or the ServiceMonitor / scrape job selects nothing. Users get errors.",
    "`kubectl -n NS get pods -l app.kubernetes.io/name=SERVICE`; `kubectl -n NS describe deploy SERVICE` (events); the Prometheus targets page for the job; the last logs: `kubectl -n NS logs deploy/SERVICE --previous`.",
    "Roll back the last change (`kubectl -n NS rollout undo deploy/SERVICE`) if it started with a deploy; otherwise fix what the events and logs show (image pull, crash, failing readiness probe, NetworkPolicy blocking the scrape).",
];
const ERRORS: [&str; 3] = [
    "A larger share of requests than the threshold answers with a 5xx status over 5 minutes.",
    "Which endpoints fail (the request rate by endpoint and status on the dashboard); the logs of the service at error level; the health of what it uses (datastores, external APIs).",
    "Roll back a bad deploy; restore the failing dependency; scale out if the errors come from overload (timeouts, 503).",
];
const LATENCY: [&str; 3] = [
    "The given percentile of request duration is above its limit: a share of users waits too long.",
    "CPU throttling and saturation of the pods; latency of the datastores and external calls; a recent deploy.",
    "Scale out (raise replicas or the autoscaler maximum), remove the slow dependency call, or roll back.",
];
const BURN: [&str; 3] = [
    "The service fails requests faster than its availability objective allows (multi-window, multi-burn-rate: the long window proves it matters, the short one that it is still happening).",
    "The error ratio per window (`service:request_errors:ratio_rate1h`, `…5m`, `…6h`); which endpoints fail; recent deploys and incidents of dependencies.",
    "Stop the burn first (roll back, fail over, shed load), then find the cause; a fast burn (critical) pages, a slow one (warning) is a ticket for this week.",
];
const RESTARTS: [&str; 3] = [
    "A container keeps restarting: it crashes or fails its liveness probe.",
    "`kubectl -n NS describe pod POD` (last state, exit code, OOMKilled); `kubectl -n NS logs POD --previous`.",
    "Fix the crash (configuration, missing secret, dependency unreachable); raise the memory limit if OOMKilled; relax a liveness probe that is too strict.",
];
const CPU: [&str; 3] = [
    "Pods use most of their CPU limit (or request): they are throttled or close to it, and latency rises.",
    "CPU per pod on the dashboard; throttling (`container_cpu_cfs_throttled_periods_total`); whether load grew or a deploy made it costlier.",
    "Scale out, raise the CPU limit and request in the description, or find the hot path.",
];
const MEMORY: [&str; 3] = [
    "A pod's memory working set is close to its limit (or above the set size): the OOM killer will restart it soon.",
    "Memory per pod over days (a steady climb is a leak); recent deploys; the load.",
    "Raise the memory limit in the description, fix the leak, or spread the load over more replicas.",
];
const REPLICAS: [&str; 3] = [
    "The Deployment has fewer available replicas than desired: capacity and redundancy are reduced.",
    "`kubectl -n NS get pods -l app.kubernetes.io/name=SERVICE -o wide` (Pending? CrashLoopBackOff?); events; node capacity and quota.",
    "Free capacity (nodes, ResourceQuota), fix the failing pods, or lower requests that do not fit.",
];
const HPA: [&str; 3] = [
    "The autoscaler has run at its maximum replica count for a while: more load cannot be absorbed.",
    "Request rate and CPU per pod; whether the load is legitimate (a client retrying in a loop?).",
    "Raise `replicas.max` in the description if the cluster has room (`kubeproof budget`), or make requests cheaper.",
];
const VOLUME: [&str; 3] = [
    "A PersistentVolumeClaim is almost full; writes will fail when it is.",
    "`kubectl -n NS get pvc`; what grows (data, logs, WAL, old backups).",
    "Delete what is not needed, or expand the volume (raise the size in the description; the StorageClass must allow expansion).",
];
const NODE_DISK: [&str; 3] = [
    "A node filesystem is almost full: the kubelet will evict pods and images soon.",
    "`kubectl describe node NODE` (DiskPressure); large images and logs on the node.",
    "Clean up images and logs, or give the node a larger disk.",
];
const NODE_MEMORY: [&str; 3] = [
    "A node uses most of its memory: pods will be evicted or OOM-killed.",
    "`kubectl top pods -A --sort-by=memory` on that node; pods without memory limits.",
    "Set or lower memory limits, spread pods, or add nodes.",
];
const CUSTOM: [&str; 3] = [
    "An alert on the service's own metric, declared in the platform description.",
    "The metric on the dashboard and the service's logs around the time it started.",
    "Depends on the metric: see the service's own documentation.",
];
const DATASTORE_DOWN: [&str; 3] = [
    "A datastore does not answer: its exporter reports the engine down (`pg_up`, `redis_up` at 0), its own metrics endpoint cannot be scraped, or no target is scraped at all (pod gone, NetworkPolicy or PodMonitor wrong). The services that use it fail.",
    "`kubectl -n NS get pods -l app.kubernetes.io/name=DATASTORE` (Pending? CrashLoopBackOff? not Ready?); `kubectl -n NS describe statefulset DATASTORE` (events, volume attach); `kubectl -n NS logs DATASTORE-0 -c ENGINE --previous`; the exporter's own log (`-c postgres-exporter` / `-c redis-exporter`) for authentication errors; the volume (`kubectl -n NS get pvc`): a full disk stops PostgreSQL.",
    "Fix what the events and logs show (volume full or not attached, credentials changed in the Secret but not in the database, out of memory: raise `resources` in the description); restart the pod (`kubectl -n NS delete pod DATASTORE-0`) once the cause is gone. Data lives on the volume, which survives the pod; if the data itself is lost, restore it (the link above, when the datastore has backups).",
];
const BACKUP_FAILED: [&str; 3] = [
    "A run of a backup CronJob failed: this backup point is missing.",
    "`kubectl -n NS get jobs` and `kubectl -n NS logs job/JOB` (credentials, storage full, datastore unreachable).",
    "Fix the cause and start a run by hand: `kubectl -n NS create job --from=cronjob/CRONJOB CRONJOB-manual`. The alert lasts as long as the failed Job exists (the CronJob keeps the last 3): delete it once understood, `kubectl -n NS delete job JOB`.",
];
const BACKUP_OLD: [&str; 3] = [
    "No backup has succeeded for longer than the allowed number of runs: the recovery point objective is breached if data is lost now.",
    "`kubectl -n NS get cronjob CRONJOB` (suspended? last schedule time); the last jobs and their logs.",
    "Resume or fix the CronJob and run a backup by hand now; then check that a restore from it works.",
];
