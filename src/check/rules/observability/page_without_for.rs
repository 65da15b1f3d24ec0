use crate::model::Value;

use super::{for_each_rule, pages};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP605: a paging alert that fires on the first evaluation.
pub struct PageWithoutFor;

static META: Meta = Meta {
    code: "KP605",
    name: "page-without-for",
    family: Family::Observability,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a paging alert (severity critical or page) has no `for:` duration",
    what: "Reports alerting rules whose `severity` label is `critical`, `page`, `pager`, `paging` or \
           `emergency` and that have no `for`, or `for: 0s`.",
    why: "Without `for`, the alert fires on the first evaluation where the expression holds: one failed \
          scrape, one slow minute, a rollout's restart. Pages that resolve before anyone looks teach people \
          to ignore pages.",
    fix: "Add `for: 5m` (or longer: how long the condition must hold before someone is woken), or lower the \
          severity if the alert must fire at once but need not page.",
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
          labels: { severity: critical }
          annotations: { runbook_url: https://runbooks.example.com/api-down }
        - alert: ApiErrors
          expr: sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05
          for: 0s
          labels: { severity: page }
          annotations: { runbook_url: https://runbooks.example.com/api-errors }
        - alert: CertificateExpiresSoon
          expr: certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 86400
          labels: { severity: warning }
          annotations: { runbook_url: https://runbooks.example.com/cert-expiry }
"#,
    pass: r#"
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
          labels: { severity: critical }
          annotations: { runbook_url: https://runbooks.example.com/api-down }
        - alert: ApiErrors
          expr: sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05
          for: 5m
          labels: { severity: page }
          annotations: { runbook_url: https://runbooks.example.com/api-errors }
        - alert: CertificateExpiresSoon
          expr: certmanager_certificate_expiration_timestamp_seconds - time() < 14 * 86400
          labels: { severity: warning }
          annotations: { runbook_url: https://runbooks.example.com/cert-expiry }
"#,
};

/// Whether a Prometheus duration is zero (`0`, `0s`, `0m0s`).
fn zero(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => {
            let s = s.trim();
            !s.is_empty() && s.chars().all(|c| c == '0' || c.is_ascii_alphabetic())
        }
        _ => false,
    }
}

impl Check for PageWithoutFor {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for_each_rule(cx, |r| {
            let Some(alert) = r.alert() else { return };
            let Some(severity) = r.label("severity").filter(|s| pages(s)) else { return };
            let (at, what) = match r.value.get("for") {
                None | Some(Value::Null) => ("alert", "has no `for:`".to_string()),
                Some(v) if zero(v) => {
                    ("for", format!("has `for: {}`", v.as_str().map_or_else(|| v.to_string(), str::to_string)))
                }
                Some(_) => return,
            };
            out.report(
                r.object,
                r.at(at),
                format!(
                    "alert `{alert}`{} pages (severity {severity}) but {what}: it fires on the first evaluation",
                    r.place()
                ),
            )
            .help("add `for: 5m` (how long the condition must hold before someone is paged)");
        });
    }
}
