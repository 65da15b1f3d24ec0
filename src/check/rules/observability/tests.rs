use std::collections::BTreeMap;

use super::routing::parse_matchers;
use super::{metric_names, parse, substitute};

#[test]
fn grafana_variables_are_replaced_where_a_placeholder_keeps_promql() {
    assert_eq!(
        substitute(r#"sum(rate(x{job="$job",ns=~"${ns:regex}"}[$__rate_interval]))"#).as_deref(),
        Some(r#"sum(rate(x{job="x",ns=~"x"}[5m]))"#)
    );
    assert_eq!(substitute("rate(x[$window])").as_deref(), Some("rate(x[5m])"));
    assert_eq!(substitute("x offset $__interval").as_deref(), Some("x offset 5m"));
    assert_eq!(substitute(r#"x{a="[[v]]"}"#).as_deref(), Some(r#"x{a="x"}"#));
    assert_eq!(substitute("topk($n, x)"), None);
    assert_eq!(substitute("$metric"), None);
    assert_eq!(substitute(r#"x{a="\"$v"}"#).as_deref(), Some(r#"x{a="\"x"}"#));
}

#[test]
fn metric_names_come_from_selectors_and_name_matchers() {
    let e = parse(
        r#"sum(rate(a_total[5m])) / on(job) group_left b + {__name__="c"} + absent(a_total) + sum_over_time(d[5m:1m])"#,
    );
    let Some(Ok(e)) = e else { panic!("{e:?}") };
    assert_eq!(metric_names(&e), ["a_total", "b", "c", "d"]);
    assert!(matches!(parse("holt_winters(x[5m], 0.5, 0.5)"), Some(Ok(_))));
    assert!(parse(&"(".repeat(1000)).is_none());
}

#[test]
fn matchers_strings_are_read_like_alertmanager() {
    let labels: BTreeMap<&str, &str> = [("severity", "critical"), ("team", "ops")].into_iter().collect();
    let eval = |s: &str| parse_matchers(s).iter().map(|m| m.eval(&labels)).collect::<Vec<_>>();
    assert_eq!(eval(r#"severity="critical""#), [Some(true)]);
    assert_eq!(eval("severity = critical"), [Some(true)]);
    assert_eq!(eval(r#"severity=~"warn.*|crit.*""#), [Some(true)]);
    assert_eq!(eval(r#"severity=~"crit""#), [Some(false)]);
    assert_eq!(eval(r#"{severity!="critical", team="ops"}"#), [Some(false), Some(true)]);
    assert_eq!(eval(r#"env="prod""#), [None]);
    assert_eq!(eval(r#"team!~"a,b""#), [Some(true)]);
}
