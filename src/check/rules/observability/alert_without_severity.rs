use super::for_each_rule;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP602: an alerting rule without a `severity` label.
pub struct AlertWithoutSeverity;

static META: Meta = Meta {
    code: "KP602",
    name: "alert-without-severity",
    family: Family::Observability,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "an alerting rule has no `severity` label",
    what: "Reports alerting rules (PrometheusRule objects and rule files in ConfigMaps) whose `labels` have \
           no `severity`. A templated value (`{{ $labels.severity }}`) counts as one.",
    why: "Alertmanager routes by labels, and `severity` is the one every routing tree, silence and \
          inhibition rule keys on: an alert without it falls through to the default route, which usually \
          notifies nobody or the wrong people. (KP604 reports alerts that no route delivers when the \
          routing configuration is in the checked set.)",
    fix: "Add `labels: { severity: critical | warning | info }` to the rule, matching a route of the \
          Alertmanager configuration.",
    fail: r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - alert: ApiDown
          expr: up{job="api"} == 0
          for: 5m
          annotations: { runbook_url: https://runbooks.example.com/api-down }
"#,
    pass: r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - record: job:http_requests:rate5m
          expr: sum by (job) (rate(http_requests_total[5m]))
        - alert: ApiDown
          expr: up{job="api"} == 0
          for: 5m
          labels: { severity: critical }
          annotations: { runbook_url: https://runbooks.example.com/api-down }
"#,
};

impl Check for AlertWithoutSeverity {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for_each_rule(cx, |r| {
            let Some(alert) = r.alert() else { return };
            if r.label("severity").is_some_and(|s| !s.trim().is_empty()) {
                return;
            }
            let at = if r.value.get("labels").is_some() { "labels" } else { "alert" };
            out.report(r.object, r.at(at), format!("alert `{alert}`{} has no `severity` label", r.place()))
                .help("add `severity: critical`, `warning` or `info` under `labels` so that Alertmanager routes it");
        });
    }
}
