//! What the alert tests share: a resolved description that switches every
//! alert on, and readers of the generated PromQL and promtool series, so a
//! test asserts what an alert selects and that its test series fire it.

use std::collections::BTreeMap;
use std::path::Path;

use promql_parser::label::Matcher;
use promql_parser::parser::{BinaryExpr, Expr, VectorSelector};
use promql_parser::util::{ExprVisitor, walk_expr};

use super::alert::{Alert, Series};
use crate::description::resolve::{Resolved, Svc, resolve};

/// `api` has metrics, an availability and latency objective, a memory size
/// limit and one custom alert per kind; `worker` has no metrics; the
/// datastores are scraped, `db` and `cache` backed up.
pub const SHOP: &str = r#"
apiVersion: kubeproof.dev/v1alpha1
name: shop
cluster: { kubernetes: "1.30" }
services:
  api:
    namespace: shop
    image: ghcr.io/example/api:1.0.0
    port: 8000
    replicas: { min: 2, max: 4 }
    autoscale: { cpu: 70 }
    resources: { cpu: 250m, memory: 256Mi, limits: { cpu: "1", memory: 512Mi } }
    metrics: /metrics
    slo: { availability: "99.9", latency: { p99: 500ms, under: 250ms, target: "99" } }
    alerts:
      memoryBytes: { threshold: 400Mi }
      custom:
        - { name: QueueBacklog, metric: queue_depth, kind: gauge, threshold: 100 }
        - { name: JobsFailing, metric: jobs_failed_total, kind: counter, threshold: 3, window: 15m }
        - { name: SlowImports, metric: import_duration_seconds, kind: histogram, threshold: 2, quantile: 0.9 }
  worker:
    namespace: jobs
    image: ghcr.io/example/worker:1.0.0
    port: 9000
    replicas: 1
    resources: { cpu: 100m, memory: 128Mi }
datastores:
  db: { engine: postgres, version: "16.4", namespace: shop, storage: 10Gi, backup: { every: 6h, keep: 7d }, metrics: true }
  cache: { engine: redis, version: "7.4.1", namespace: shop, storage: 1Gi, backup: { every: 30m, keep: 1d }, metrics: true }
  files: { engine: minio, namespace: shop, storage: 5Gi, metrics: true }
backup:
  bucket: s3://shop-backups
alerts:
  nodes: { diskFree: 10, memory: 90 }
  critical: [pagerduty, slack]
  warning: [slack]
"#;

/// The description `text`, resolved for its base.
pub fn resolved(text: &str) -> Resolved {
    let file = Path::new("shop.yaml");
    let p = match crate::description::load::parse(text, file) {
        Ok(p) => p,
        Err(e) => panic!("the test description does not load: {e:?}"),
    };
    match resolve(&p, None, file) {
        Ok(r) => r,
        Err(e) => panic!("the test description does not resolve: {e:?}"),
    }
}

/// [`SHOP`], resolved.
pub fn shop() -> Resolved {
    resolved(SHOP)
}

/// A service of [`SHOP`].
pub fn service(name: &str) -> Svc {
    match shop().services.into_iter().find(|s| s.name == name) {
        Some(s) => s,
        None => panic!("no service {name} in SHOP"),
    }
}

pub fn parse(expr: &str) -> Expr {
    match promql_parser::parser::parse(expr) {
        Ok(e) => e,
        Err(e) => panic!("`{expr}` is not PromQL: {e}"),
    }
}

/// Every vector selector of `expr`, also those inside range selectors.
pub fn selectors(expr: &str) -> Vec<VectorSelector> {
    struct All(Vec<VectorSelector>);
    impl ExprVisitor for All {
        type Error = ();
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, ()> {
            match e {
                Expr::VectorSelector(vs) => self.0.push(vs.clone()),
                Expr::MatrixSelector(ms) => self.0.push(ms.vs.clone()),
                _ => {}
            }
            Ok(true)
        }
    }
    let mut all = All(Vec::new());
    let _ = walk_expr(&mut all, &parse(expr));
    all.0
}

/// The metric names `expr` selects, once each, in order.
pub fn metrics(expr: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for s in selectors(expr) {
        if let Some(n) = s.name
            && !names.contains(&n)
        {
            names.push(n);
        }
    }
    names
}

/// The label matchers of the selectors of `metric` in `expr`, as `name op value`.
pub fn matchers(expr: &str, metric: &str) -> Vec<String> {
    let mut out = Vec::new();
    for s in selectors(expr).into_iter().filter(|s| s.name.as_deref() == Some(metric)) {
        for m in &s.matchers.matchers {
            let text = m.to_string();
            if !out.contains(&text) {
                out.push(text);
            }
        }
    }
    out
}

/// The numbers `expr` compares against, in order (`x > 0.05` gives 0.05).
pub fn thresholds(expr: &str) -> Vec<f64> {
    struct Numbers(Vec<f64>);
    impl ExprVisitor for Numbers {
        type Error = ();
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, ()> {
            if let Expr::Binary(BinaryExpr { op, rhs, .. }) = e
                && op.is_comparison_operator()
                && let Expr::NumberLiteral(n) = rhs.as_ref()
            {
                self.0.push(n.val);
            }
            Ok(true)
        }
    }
    let mut numbers = Numbers(Vec::new());
    let _ = walk_expr(&mut numbers, &parse(expr));
    numbers.0
}

/// The name and labels of an input series (`name{a="1"}`).
pub fn series_labels(series: &str) -> (String, BTreeMap<String, String>) {
    let vs = match parse(series) {
        Expr::VectorSelector(vs) => vs,
        other => panic!("`{series}` is not a series: {other:?}"),
    };
    let labels = vs.matchers.matchers.iter().map(|m| (m.name.clone(), m.value.clone())).collect();
    (vs.name.unwrap_or_default(), labels)
}

fn matches(m: &Matcher, labels: &BTreeMap<String, String>) -> bool {
    m.is_match(labels.get(&m.name).map_or("", String::as_str))
}

/// Whether some series of `input` is selected by `selector`.
fn fed(selector: &VectorSelector, input: &[Series]) -> bool {
    input.iter().any(|(s, _)| {
        let (name, labels) = series_labels(s);
        selector.name.as_deref().is_none_or(|n| n == name)
            && selector.matchers.matchers.iter().all(|m| matches(m, &labels))
    })
}

/// The selectors of `expr` with recorded series replaced by the selectors of
/// their recording rules (`records`: name → expression).
fn raw_selectors(expr: &str, records: &[(String, String)]) -> Vec<VectorSelector> {
    let mut out = Vec::new();
    for s in selectors(expr) {
        match records.iter().find(|(r, _)| Some(r.as_str()) == s.name.as_deref()) {
            Some((_, e)) => out.extend(raw_selectors(e, records)),
            None => out.push(s),
        }
    }
    out
}

/// What every alert's own test must assert: its expression is PromQL, both
/// inputs feed every series the expression reads (through `records`), the
/// samples last until the evaluation, and the firing input carries the
/// labels the test expects on the alert.
pub fn assert_well_formed(a: &Alert, records: &[(String, String)]) {
    parse(&a.expr);
    assert!(!a.summary.is_empty() && !a.description.is_empty() && !a.scope.is_empty(), "{}: text", a.name);
    assert!(a.runbook.iter().all(|t| !t.is_empty()), "{}: runbook text", a.name);
    assert_eq!(a.labels.get("severity").map(String::as_str), Some(a.severity.as_str()), "{}: severity label", a.name);
    let t = &a.test;
    for (case, input) in [("fire", &t.fire), ("quiet", &t.quiet)] {
        for s in raw_selectors(&a.expr, records) {
            assert!(fed(&s, input), "{}: the {case} input has no series for {s}", a.name);
        }
        for (series, values) in input {
            let covered = t.interval * samples(values).saturating_sub(1);
            assert!(covered >= t.at, "{}: {series} `{values}` ends before the evaluation at {}s", a.name, t.at);
        }
    }
    for (k, v) in &t.out {
        let carried = t.fire.iter().any(|(s, _)| series_labels(s).1.get(k) == Some(v));
        assert!(carried, "{}: no firing series carries {k}={v}", a.name);
    }
}

/// The segments of promtool's expanding notation: `a+bxN` as (a, b, N), `vxN` as (v, 0, N).
fn segments(values: &str) -> Vec<(f64, f64, u32)> {
    values
        .split_whitespace()
        .map(|seg| {
            let (head, n) = seg.rsplit_once('x').unwrap_or((seg, "0"));
            let n: u32 = n.parse().unwrap_or_else(|_| panic!("`{seg}`: count"));
            let num = |s: &str| s.parse::<f64>().unwrap_or_else(|_| panic!("`{seg}`: number `{s}`"));
            match head.split_once('+') {
                Some((a, b)) if !a.is_empty() => (num(a), num(b), n),
                _ => (num(head), 0.0, n),
            }
        })
        .collect()
}

/// How many samples `values` holds (`vxN` is N + 1 samples).
pub fn samples(values: &str) -> u32 {
    segments(values).iter().map(|(_, _, n)| n + 1).sum()
}

/// The value the series holds at its end.
pub fn last(values: &str) -> f64 {
    segments(values).last().map_or(0.0, |(a, b, n)| a + b * f64::from(*n))
}

/// How much a counter grows per sample in its last segment.
pub fn step(values: &str) -> f64 {
    segments(values).last().map_or(0.0, |(_, b, _)| *b)
}

/// The values of the input series named `metric` (first match), with the labels `with`.
pub fn values<'a>(input: &'a [Series], metric: &str, with: &[(&str, &str)]) -> &'a str {
    let found = input.iter().find(|(s, _)| {
        let (name, labels) = series_labels(s);
        name == metric && with.iter().all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
    });
    match found {
        Some((_, v)) => v,
        None => panic!("no series {metric} {with:?} in {input:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_promtool_notation() {
        assert_eq!(samples("0+5x10"), 11);
        assert_eq!(step("0+5x10"), 5.0);
        assert_eq!(last("0+5x10"), 50.0);
        assert_eq!(last("3x4"), 3.0);
        assert_eq!(samples("0x60 2x70"), 132);
        assert_eq!(last("0x60 2x70"), 2.0);
        assert_eq!(last("-5x3"), -5.0);
    }

    #[test]
    fn reads_selectors_and_thresholds() {
        let e = "sum by (job) (rate(http_requests_total{job=\"api\",code=~\"5..\"}[5m])) > 0.05";
        assert_eq!(metrics(e), ["http_requests_total"]);
        assert_eq!(matchers(e, "http_requests_total"), ["job=\"api\"", "code=~\"5..\""]);
        assert_eq!(thresholds(e), [0.05]);
    }

    #[test]
    fn the_shop_resolves_with_every_alert_on() {
        let r = shop();
        let api = service("api");
        assert!(api.metrics.is_some() && api.alerts.availability.is_some() && api.alerts.memory_bytes.is_some());
        assert_eq!(api.alerts.custom.len(), 3);
        assert!(r.alerting.node_disk_free.is_some() && r.alerting.node_memory.is_some());
        assert_eq!(r.datastores.len(), 3);
    }
}
