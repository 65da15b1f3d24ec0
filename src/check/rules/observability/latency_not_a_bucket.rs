use std::collections::{BTreeMap, HashSet};

use promql_parser::label::MatchOp;
use promql_parser::parser::Expr;

use super::{for_each_rule, parsed, selectors, service_job, targets};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::histogram::{self, Declared};
use crate::model::pointer::escape;
use crate::model::scope::custom_resources;
use crate::model::{At, Value};

/// KP612: a rule selects a histogram bucket its target does not export.
pub struct LatencyNotABucket;

static META: Meta = Meta {
    code: "KP612",
    name: "latency-not-a-bucket",
    family: Family::Observability,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a rule selects a histogram bucket (`le=\"0.3\"`) that the scraped Service declares it does not export",
    what: "Reads the buckets Services declare in a `kubeproof.dev/histogram-buckets` annotation (a JSON \
           object of histogram name to its finite upper bounds, in the histogram's unit: what `gen` writes \
           from `metrics.buckets`), and every selector of a rule over `<histogram>_bucket` with a `job=\"…\"` \
           matcher and an `le` matcher that names one number (`le=\"0.3\"`, `le=~\"1|1\\\\.0\"`). The job's \
           Services are the one named after it and those whose ServiceMonitor's `jobLabel` gives it (in \
           the namespace of a `namespace=\"…\"` matcher, if any). Reports an `le` that is not one of the \
           declared bounds (or `+Inf`), and an annotation that cannot be read.",
    why: "A latency objective (`slo: { latency: { under: 300ms } }`) or alert reads the share of requests \
          in the bucket of its threshold. A histogram has series only for the bounds compiled into the \
          application: a threshold between two of them selects nothing, so the ratio is empty and its page \
          and ticket alerts can never fire. promtool and Prometheus accept the rule; nothing says it is \
          blind until an incident.",
    fix: "Use one of the declared bounds as the threshold, or add the bound to the application's histogram \
          (and to the annotation).",
    fail: r#"
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  annotations:
    kubeproof.dev/histogram-buckets: '{"http_request_duration_seconds":[0.1,0.25,0.5,1]}'
spec:
  selector: { app: api }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api-slo, namespace: shop }
spec:
  groups:
    - name: api-latency
      rules:
        - record: slo:sli_error:ratio_rate5m
          expr: 1 - sum(rate(http_request_duration_seconds_bucket{job="api",namespace="shop",le="0.3"}[5m])) / sum(rate(http_request_duration_seconds_count{job="api",namespace="shop"}[5m]))
"#,
    pass: r#"
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  annotations:
    kubeproof.dev/histogram-buckets: '{"http_request_duration_seconds":[0.1,0.25,0.5,1]}'
spec:
  selector: { app: api }
  ports: [{ name: http, port: 80, targetPort: 8080 }]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api-slo, namespace: shop }
spec:
  groups:
    - name: api-latency
      rules:
        - record: slo:sli_error:ratio_rate5m
          expr: 1 - sum(rate(http_request_duration_seconds_bucket{job="api",namespace="shop",le="0.25"}[5m])) / sum(rate(http_request_duration_seconds_count{job="api",namespace="shop"}[5m]))
"#,
};

/// The buckets each job's Services declare: (job, namespace) → the
/// Service and what it declares.
type Jobs = BTreeMap<(String, String), Vec<(usize, Declared)>>;

/// Reads every annotated Service (reporting what cannot be read) and the
/// jobs it is scraped as.
fn declared(cx: &Context, out: &mut Sink) -> Jobs {
    let pointer = format!("/metadata/annotations/{}", escape(histogram::ANNOTATION));
    let mut services = BTreeMap::new();
    for &s in cx.index.of_kind("Service") {
        let o = &cx.objects[s];
        if o.group() != "" {
            continue;
        }
        let Some(text) = o.value.at(&pointer).and_then(Value::as_str) else { continue };
        match histogram::parse(text) {
            Ok(d) => {
                services.insert(s, d);
            }
            Err(e) => {
                out.report(s, pointer.clone(), format!("the `{}` annotation cannot be read: {e}", histogram::ANNOTATION))
                    .help(r#"write a JSON object of histogram names to increasing bounds: '{"http_request_duration_seconds":[0.1,0.3,1]}'"#);
            }
        }
    }
    let mut jobs = Jobs::new();
    if services.is_empty() {
        return jobs;
    }
    let add = |job: &str, s: usize, jobs: &mut Jobs| {
        let entry = jobs.entry((job.to_string(), cx.objects[s].ns().to_string())).or_default();
        if !entry.iter().any(|(i, _)| *i == s) {
            entry.push((s, services[&s].clone()));
        }
    };
    for &s in services.keys() {
        add(&cx.objects[s].name, s, &mut jobs);
    }
    // A ServiceMonitor's `jobLabel` names the job after a label of the Service.
    let crs = custom_resources(cx);
    for &m in cx.index.of_kind("ServiceMonitor") {
        let Some(label) = cx.objects[m].value.at("/spec/jobLabel").and_then(Value::as_str) else { continue };
        let Some(t) = targets(cx, &crs, m) else { continue };
        for &s in t.selected.iter().filter(|s| services.contains_key(s)) {
            if let Some(job) = service_job(&cx.objects[s], Some(label)) {
                add(job, s, &mut jobs);
            }
        }
    }
    jobs
}

/// A selector of `<histogram>_bucket` for one job and one `le`.
struct Bucket {
    histogram: String,
    job: String,
    namespace: Option<String>,
    le: f64,
    written: String,
}

fn buckets(e: &Expr) -> Vec<Bucket> {
    let mut out = Vec::new();
    selectors(e, |vs| {
        let Some(histogram) = vs.name.as_deref().and_then(|n| n.strip_suffix("_bucket")) else { return };
        let matcher = |label: &str| vs.matchers.matchers.iter().find(|m| m.name == label);
        let equal = |label: &str| matcher(label).filter(|m| matches!(m.op, MatchOp::Equal)).map(|m| m.value.clone());
        let (Some(job), Some(le)) = (equal("job"), matcher("le")) else { return };
        let value = match le.op {
            MatchOp::Equal => histogram::selected_le(false, &le.value),
            MatchOp::Re(_) => histogram::selected_le(true, &le.value),
            _ => None,
        };
        if let Some(value) = value {
            let op = if matches!(le.op, MatchOp::Equal) { "=" } else { "=~" };
            out.push(Bucket {
                histogram: histogram.to_string(),
                job,
                namespace: equal("namespace"),
                le: value,
                written: format!("le{op}\"{}\"", le.value),
            });
        }
    });
    out
}

/// `0.1, 0.25, 0.5, 1`
fn list(bounds: &[f64]) -> String {
    bounds.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
}

impl Check for LatencyNotABucket {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let jobs = declared(cx, out);
        if jobs.is_empty() {
            return;
        }
        for_each_rule(cx, |r| {
            let Some(expr) = r.expr() else { return };
            let parsed = parsed(cx, &expr);
            let Some(Ok(e)) = parsed.as_ref() else { return };
            let mut seen = HashSet::new();
            for b in buckets(e) {
                let declaring = jobs
                    .iter()
                    .filter(|((j, n), _)| *j == b.job && b.namespace.as_ref().is_none_or(|x| x == n))
                    .flat_map(|(_, v)| v)
                    .filter_map(|(s, d)| Some((*s, d.get(&b.histogram)?)));
                // Judged only when every Service of the job declares the
                // histogram and none of them exports the bucket.
                let declaring: Vec<(usize, &Vec<f64>)> = declaring.collect();
                let Some(&(s, bounds)) = declaring.first() else { continue };
                if declaring.iter().any(|(_, bounds)| histogram::is_boundary(b.le, bounds))
                    || !seen.insert((b.histogram.clone(), b.written.clone()))
                {
                    continue;
                }
                let svc = &cx.objects[s];
                out.report(
                    r.object,
                    r.at("expr"),
                    format!(
                        "{}{}: `{}_bucket{{{}}}` of job `{}` is not a bucket Service `{}/{}` declares ({}): it selects no series, so the ratio is empty and alerts on it never fire",
                        r.describe(),
                        r.place(),
                        b.histogram,
                        b.written,
                        b.job,
                        svc.ns(),
                        svc.name,
                        list(bounds)
                    ),
                )
                .help(format!(
                    "use one of the declared bounds ({}) as the threshold, or add {} to the application's histogram and to the annotation",
                    list(bounds),
                    b.le
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
        outcome.findings.iter().filter(|f| f.code == "KP612").map(|f| f.message.to_string()).collect()
    }

    /// A Service `api` in `shop` declaring `annotation` (if any), labelled
    /// `svc: <label>`, and a rule reading `expr`.
    fn set(annotation: Option<&str>, expr: &str, extra: &str) -> String {
        let annotations = annotation
            .map(|a| format!("\n  annotations: {{ kubeproof.dev/histogram-buckets: '{a}' }}"))
            .unwrap_or_default();
        format!(
            r#"
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
  labels: {{ svc: public-api }}{annotations}
spec:
  selector: {{ app: api }}
  ports: [{{ name: http, port: 80 }}]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {{ name: api, namespace: shop }}
spec:
  groups: [{{ name: g, rules: [{{ alert: SlowRequests, expr: '{expr}', labels: {{ severity: page }} }}] }}]
{extra}"#
        )
    }

    const BUCKETS: &str = r#"{"http_request_duration_seconds":[0.1,0.25,0.5,1]}"#;

    #[test]
    fn a_threshold_between_two_bounds_is_reported_once_per_selector() {
        let expr = r#"sum(rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[5m])) / sum(rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[1h])) < 0.99"#;
        let found = findings(&set(Some(BUCKETS), expr, ""));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].contains(r#"alert `SlowRequests`: `http_request_duration_seconds_bucket{le="0.3"}` of job `api` is not a bucket Service `shop/api` declares (0.1, 0.25, 0.5, 1)"#),
            "{}",
            found[0]
        );
    }

    #[test]
    fn bounds_are_compared_as_numbers_in_every_spelling() {
        for le in [r#"le="1""#, r#"le="1.0""#, r#"le=~"1|1\\.0""#, r#"le="+Inf""#, r#"le="0.25""#] {
            let expr = format!(r#"rate(http_request_duration_seconds_bucket{{job="api",{le}}}[5m]) > 0"#);
            assert!(findings(&set(Some(BUCKETS), &expr, "")).is_empty(), "{le}");
        }
        let expr = r#"rate(http_request_duration_seconds_bucket{job="api",le=~"0\\.3|0\\.30"}[5m]) > 0"#;
        assert_eq!(findings(&set(Some(BUCKETS), expr, "")).len(), 1);
    }

    #[test]
    fn what_is_not_declared_or_not_one_bucket_is_not_judged() {
        let off = r#"rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[5m]) > 0"#;
        // No annotation; another job; another namespace; another histogram;
        // a pattern of buckets; no job matcher.
        assert!(findings(&set(None, off, "")).is_empty());
        for expr in [
            r#"rate(http_request_duration_seconds_bucket{job="web",le="0.3"}[5m]) > 0"#,
            r#"rate(http_request_duration_seconds_bucket{job="api",namespace="other",le="0.3"}[5m]) > 0"#,
            r#"rate(grpc_server_handling_seconds_bucket{job="api",le="0.3"}[5m]) > 0"#,
            r#"rate(http_request_duration_seconds_bucket{job="api",le=~"0\\.3.*"}[5m]) > 0"#,
            r#"rate(http_request_duration_seconds_bucket{le="0.3"}[5m]) > 0"#,
        ] {
            assert!(findings(&set(Some(BUCKETS), expr, "")).is_empty(), "{expr}");
        }
        let ns = r#"rate(http_request_duration_seconds_bucket{job="api",namespace="shop",le="0.3"}[5m]) > 0"#;
        assert_eq!(findings(&set(Some(BUCKETS), ns, "")).len(), 1);
    }

    #[test]
    fn a_service_monitor_job_label_names_the_job() {
        let monitor = r#"---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api, namespace: shop }
spec:
  jobLabel: svc
  selector: { matchLabels: { svc: public-api } }
  endpoints: [{ port: http }]
"#;
        let expr = r#"rate(http_request_duration_seconds_bucket{job="public-api",le="0.3"}[5m]) > 0"#;
        assert_eq!(findings(&set(Some(BUCKETS), expr, monitor)).len(), 1);
        assert!(findings(&set(Some(BUCKETS), expr, "")).is_empty());
    }

    #[test]
    fn a_bucket_any_service_of_the_job_exports_is_not_reported() {
        // `api` by its name, `api-canary` through the monitor's `jobLabel`.
        let canary = r#"---
apiVersion: v1
kind: Service
metadata:
  name: api-canary
  namespace: shop
  labels: { svc: api }
  annotations: { kubeproof.dev/histogram-buckets: '{"http_request_duration_seconds":[0.1,0.3,1]}' }
spec:
  selector: { app: api, track: canary }
  ports: [{ name: http, port: 80 }]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: api-canary, namespace: shop }
spec:
  jobLabel: svc
  selector: { matchLabels: { svc: api } }
  endpoints: [{ port: http }]
"#;
        let expr = r#"rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[5m]) > 0"#;
        assert_eq!(findings(&set(Some(BUCKETS), expr, "")).len(), 1);
        assert!(findings(&set(Some(BUCKETS), expr, canary)).is_empty());
    }

    #[test]
    fn an_unreadable_annotation_is_reported_at_the_service() {
        let expr = r#"rate(http_request_duration_seconds_bucket{job="api",le="0.3"}[5m]) > 0"#;
        let found = findings(&set(Some("0.1, 0.3"), expr, ""));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("the `kubeproof.dev/histogram-buckets` annotation cannot be read"),
            "{}",
            found[0]
        );
    }
}
