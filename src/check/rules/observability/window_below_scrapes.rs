use std::collections::{BTreeMap, HashSet};

use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use super::{for_each_rule, parsed, service_job, targets};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::duration::Seconds;
use crate::model::scope::custom_resources;
use crate::model::{At, Value};

/// KP611: a rule's range over a scraped series holds fewer than four scrapes.
pub struct WindowBelowScrapes;

static META: Meta = Meta {
    code: "KP611",
    name: "window-below-scrapes",
    family: Family::Observability,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a rule's range (`rate(x[5m])`) over a scraped job is shorter than four of its scrape intervals",
    what: "For every range selector of a rule (`[5m]` in `rate`, `increase`, `*_over_time`) over a series \
           that is scraped, not recorded (no `:` in its name), selected with `job=\"…\"`: finds the \
           ServiceMonitors (job: the Service's name, or its `spec.jobLabel` label) and PodMonitors (job: \
           `namespace/name`) of the checked set that scrape that job (in the namespace of a \
           `namespace=\"…\"` matcher, if any) with an explicit `interval`, and reports a range shorter than \
           four times the shortest of those intervals.",
    why: "`rate` needs two samples in its range and extrapolates from them: with fewer than four scrapes a \
          single missed scrape leaves the range empty or with one sample, and the series (an error ratio, a \
          burn rate) has gaps in which the alert resolves and fires again. Prometheus' own guidance is a \
          range of at least four scrape intervals; SLO burn-rate alerts read their shortest window (5m) this \
          way.",
    fix: "Widen the range to at least four scrape intervals, or scrape the job more often (the monitor's \
          `interval`).",
    fail: r#"
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app.kubernetes.io/name: api } }
  endpoints: [{ port: metrics, interval: 2m }]
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop, labels: { app.kubernetes.io/name: api } }
spec:
  selector: { app.kubernetes.io/name: api }
  ports: [{ name: metrics, port: 9090 }]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - record: service:request_errors:ratio_rate5m
          expr: sum(rate(http_requests_total{job="api",namespace="shop",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="api",namespace="shop"}[5m]))
"#,
    pass: r#"
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app.kubernetes.io/name: api } }
  endpoints: [{ port: metrics, interval: 30s }]
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop, labels: { app.kubernetes.io/name: api } }
spec:
  selector: { app.kubernetes.io/name: api }
  ports: [{ name: metrics, port: 9090 }]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - record: service:request_errors:ratio_rate5m
          expr: sum(rate(http_requests_total{job="api",namespace="shop",status=~"5.."}[5m])) / sum(rate(http_requests_total{job="api",namespace="shop"}[5m]))
        # A recorded series is evaluated every rule interval, not scraped.
        - record: service:request_errors:ratio_avg1h
          expr: avg_over_time(service:request_errors:ratio_rate5m{job="api"}[1h])
"#,
};

/// A job's shortest explicit scrape interval in seconds, and the monitor
/// that sets it, by (job, namespace).
type Scraped = BTreeMap<(String, String), (u32, usize)>;

fn scraped(cx: &Context) -> Scraped {
    let crs = custom_resources(cx);
    let mut out = Scraped::new();
    for kind in ["ServiceMonitor", "PodMonitor"] {
        for &i in cx.index.of_kind(kind) {
            let Some(t) = targets(cx, &crs, i) else { continue };
            let o = &cx.objects[i];
            let endpoints = if kind == "ServiceMonitor" { "/spec/endpoints" } else { "/spec/podMetricsEndpoints" };
            let shortest = o
                .value
                .at(endpoints)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|e| Seconds::parse(e.get("interval")?.as_str()?).ok())
                .map(Seconds::get)
                .filter(|s| *s > 0)
                .min();
            let Some(interval) = shortest else { continue };
            let job_label = o.value.at("/spec/jobLabel").and_then(Value::as_str);
            let mut add = |job: String, ns: String| {
                let e = out.entry((job, ns)).or_insert((interval, i));
                if interval < e.0 {
                    *e = (interval, i);
                }
            };
            if kind == "PodMonitor" {
                // The Operator names a PodMonitor's job after it; its pods' namespaces are the targets'.
                let job = format!("{}/{}", o.ns(), o.name);
                for &p in &t.selected {
                    add(job.clone(), cx.objects[p].ns().to_string());
                }
                continue;
            }
            for &s in &t.selected {
                let svc = &cx.objects[s];
                let Some(job) = service_job(svc, job_label) else { continue };
                add(job.to_string(), svc.ns().to_string());
            }
        }
    }
    out
}

/// Every range selector over a scraped series with a `job` equality matcher:
/// (metric, job, namespace if matched, range in seconds).
fn ranges(e: &Expr) -> Vec<(String, String, Option<String>, u64)> {
    struct Ranges(Vec<(String, String, Option<String>, u64)>);
    impl promql_parser::util::ExprVisitor for Ranges {
        type Error = ();
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, ()> {
            let Expr::MatrixSelector(ms) = e else { return Ok(true) };
            let vs = &ms.vs;
            let name = vs.name.clone().unwrap_or_default();
            if name.contains(':') {
                return Ok(true);
            }
            let equal = |label: &str| {
                vs.matchers
                    .matchers
                    .iter()
                    .find(|m| m.name == label && matches!(m.op, MatchOp::Equal))
                    .map(|m| m.value.clone())
            };
            if let Some(job) = equal("job") {
                self.0.push((name, job, equal("namespace"), ms.range.as_secs()));
            }
            Ok(true)
        }
    }
    let mut v = Ranges(Vec::new());
    let _ = promql_parser::util::walk_expr(&mut v, e);
    v.0
}

impl Check for WindowBelowScrapes {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let jobs = scraped(cx);
        if jobs.is_empty() {
            return;
        }
        for_each_rule(cx, |r| {
            let Some(expr) = r.expr() else { return };
            let parsed = parsed(cx, &expr);
            let Some(Ok(e)) = parsed.as_ref() else { return };
            let mut seen = HashSet::new();
            for (metric, job, ns, range) in ranges(e) {
                let found = jobs.iter().filter(|((j, n), _)| *j == job && ns.as_ref().is_none_or(|x| x == n));
                let Some((_, &(interval, monitor))) = found.min_by_key(|(_, (s, _))| *s) else { continue };
                if range >= 4 * u64::from(interval) || !seen.insert((metric.clone(), range)) {
                    continue;
                }
                let m = &cx.objects[monitor];
                out.report(
                    r.object,
                    r.at("expr"),
                    format!(
                        "{}{}: the range [{}] over `{metric}` of job `{job}` holds fewer than 4 scrapes of its {} interval ({} `{}/{}`)",
                        r.describe(),
                        r.place(),
                        Seconds::new(u32::try_from(range).unwrap_or(u32::MAX)),
                        Seconds::new(interval),
                        m.kind,
                        m.ns(),
                        m.name
                    ),
                )
                .help(format!(
                    "widen the range to at least {} or scrape the job more often: with fewer scrapes a missed one leaves gaps in the series",
                    Seconds::new(4 * interval)
                ));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::check::check_text;
    use crate::check::config::Config;

    fn findings(text: &str) -> Vec<String> {
        let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        outcome.findings.iter().filter(|f| f.code == "KP611").map(|f| f.message.to_string()).collect()
    }

    /// A rule reading `expr`, and a PodMonitor `worker` in `jobs` scraping every `interval`.
    fn pods(interval: &str, expr: &str) -> String {
        format!(
            r#"
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {{ name: worker, namespace: jobs }}
spec:
  selector: {{ matchLabels: {{ app: worker }} }}
  podMetricsEndpoints: [{{ port: metrics{interval} }}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{ name: worker, namespace: jobs }}
spec:
  selector: {{ matchLabels: {{ app: worker }} }}
  template:
    metadata: {{ labels: {{ app: worker }} }}
    spec: {{ containers: [{{ name: w, image: "worker:1.0.0", ports: [{{ name: metrics, containerPort: 9102 }}] }}] }}
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{ name: worker, namespace: jobs }}
spec:
  groups: [{{ name: w, rules: [{{ record: "jobs:done:rate", expr: '{expr}' }}] }}]
"#
        )
    }

    #[test]
    fn a_pod_monitor_names_its_job_after_itself() {
        let short = pods(", interval: 1m", r#"sum(rate(jobs_done_total{job="jobs/worker"}[3m]))"#);
        let found = findings(&short);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("the range [3m] over `jobs_done_total` of job `jobs/worker` holds fewer than 4 scrapes of its 1m interval (PodMonitor `jobs/worker`)"), "{}", found[0]);
        // Four scrapes exactly are enough.
        assert!(findings(&pods(", interval: 1m", r#"sum(rate(jobs_done_total{job="jobs/worker"}[4m]))"#)).is_empty());
    }

    #[test]
    fn unknown_intervals_jobs_and_namespaces_are_not_judged() {
        // No interval: Prometheus' global one, which the checked set does not say.
        assert!(findings(&pods("", r#"rate(jobs_done_total{job="jobs/worker"}[1m])"#)).is_empty());
        // Another job, another namespace, a regex job matcher.
        for expr in [
            r#"rate(jobs_done_total{job="other"}[1m])"#,
            r#"rate(jobs_done_total{job="jobs/worker",namespace="shop"}[1m])"#,
            r#"rate(jobs_done_total{job=~"jobs/worker"}[1m])"#,
        ] {
            assert!(findings(&pods(", interval: 1m", expr)).is_empty(), "{expr}");
        }
        assert_eq!(
            findings(&pods(", interval: 1m", r#"rate(jobs_done_total{job="jobs/worker",namespace="jobs"}[1m])"#)).len(),
            1
        );
    }
}
