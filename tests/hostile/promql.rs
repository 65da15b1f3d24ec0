//! PromQL that would crash or stall the parser (issue 14, point 3): an
//! expression past kubeproof's bounds is a KP610 finding, never a stack
//! overflow or minutes of type checking; the deepest expression within the
//! bounds is judged like any other, also on the worker threads that run the
//! checks when a run holds many objects.

use std::ffi::OsStr;
use std::path::Path;

use super::harness::{Run, kp, temp, write};

/// A PrometheusRule alerting on `expr` (YAML-quoted), followed by `extra`
/// ConfigMaps: 64 objects or more make the checks run on worker threads.
fn rule(expr: &str, extra: usize) -> String {
    let quoted = serde_json::to_string(expr).expect("a string");
    let mut s = format!(
        "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata: {{name: api, namespace: shop}}\n\
         spec:\n  groups:\n    - name: api\n      rules:\n        - alert: Hostile\n          expr: {quoted}\n          \
         for: 5m\n          labels: {{severity: warning}}\n          \
         annotations: {{runbook_url: https://runbooks.example.com/hostile}}\n"
    );
    for i in 0..extra {
        s.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cm-{i}, namespace: shop}}\ndata: {{a: b}}\n"
        ));
    }
    s
}

/// `kubeproof check` of [`rule`].
fn check(dir: &Path, expr: &str, extra: usize) -> Run {
    let file = write(dir, "rule.yaml", rule(expr, extra));
    kp(dir, [OsStr::new("check"), file.as_os_str()]).run()
}

/// `n` terms `up` joined by `op`.
fn chain(op: &str, n: usize) -> String {
    vec!["up"; n].join(op)
}

#[test]
fn a_long_power_chain_is_a_finding_not_a_stack_overflow() {
    let dir = temp();
    check(dir.path(), &chain(" ^ ", 150_000), 0).expect(1, "KP610").expect(1, "rule.yaml:9:");
}

#[test]
fn a_power_chain_on_worker_threads_is_a_finding_not_a_stack_overflow() {
    let dir = temp();
    check(dir.path(), &chain(" ^ ", 40_000), 80).expect(1, "KP610");
}

#[test]
fn a_long_sum_chain_is_refused_before_the_quadratic_type_check() {
    let dir = temp();
    let run = check(dir.path(), &chain(" + ", 40_000), 0);
    run.expect(1, "KP610");
    assert!(run.elapsed.as_secs() < 10, "took {:?}", run.elapsed);
}

#[test]
fn a_hundred_thousand_unary_minuses_are_refused_quickly() {
    let dir = temp();
    let run = check(dir.path(), &format!("{}up", "-".repeat(100_000)), 0);
    run.expect(1, "KP610");
    assert!(run.elapsed.as_secs() < 10, "took {:?}", run.elapsed);
}

#[test]
fn the_deepest_expressions_within_the_bounds_are_judged_on_worker_threads() {
    // 81 objects: the checks run on worker threads wherever there are two cores.
    let dir = temp();
    // 1,024 operators: a right-associative chain and a tower of unary minuses.
    for expr in [chain("^", 1025), format!("{}up", "-".repeat(1024))] {
        let run = check(dir.path(), &expr, 80);
        assert_eq!(run.code, 0, "{}", run.all());
        assert!(!run.all().contains("KP610") && !run.all().contains("KP601"), "{}", run.all());
    }
    // One more is past the bound.
    check(dir.path(), &chain("^", 1026), 80).expect(1, "has 1025 operators and brackets");
}

/// The promql fuzzer's find (CI, 2026-12-03): promql-parser turns a unitless
/// number in a range into a `Duration` with a panic when it is past 2^64
/// seconds; `check` reports it as a PromQL error instead.
#[test]
fn a_range_of_more_seconds_than_a_duration_holds_is_a_finding_not_a_panic() {
    let dir = temp();
    let expr = format!("max_over_time(deriv(rate(x_total[{}6])[5m:1m])", "1".repeat(120));
    let run = check(dir.path(), &expr, 0);
    assert!(!run.all().contains("panicked"), "{}", run.all());
    run.expect(1, "KP601").expect(1, "is out of range");
}
