use super::for_each_rule;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP603: an alerting rule without a `runbook_url` annotation.
pub struct AlertWithoutRunbook;

static META: Meta = Meta {
    code: "KP603",
    name: "alert-without-runbook",
    family: Family::Observability,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "an alerting rule has no `runbook_url` annotation",
    what: "Reports alerting rules (PrometheusRule objects and rule files in ConfigMaps) whose `annotations` \
           have neither `runbook_url` nor `runbook`.",
    why: "The person paged at night gets the alert's name and annotations, nothing else: without a link to \
          what the alert means and what to do, the response starts with guesswork. The Prometheus \
          community mixins (kube-prometheus, the kubernetes-mixin) give every alert a `runbook_url`.",
    fix: "Add `annotations: { runbook_url: https://… }` pointing at the page that explains the alert and \
          its first steps, or disable KP603 in `.kubeproof.yaml` if the team keeps runbooks elsewhere.",
    fail: r#"
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
          annotations:
            summary: "the API is down"
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
          annotations:
            summary: "the API is down"
            runbook_url: https://runbooks.example.com/api-down
"#,
};

impl Check for AlertWithoutRunbook {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for_each_rule(cx, |r| {
            let Some(alert) = r.alert() else { return };
            let annotations = r.value.get("annotations");
            let has = |k: &str| {
                annotations.and_then(|a| a.get(k)).and_then(|v| v.as_str()).is_some_and(|v| !v.trim().is_empty())
            };
            if has("runbook_url") || has("runbook") {
                return;
            }
            let at = if annotations.is_some() { "annotations" } else { "alert" };
            out.report(r.object, r.at(at), format!("alert `{alert}`{} has no `runbook_url` annotation", r.place()))
                .help(
                    "add `runbook_url: https://…` under `annotations`, linking to what the alert means and what to do",
                );
        });
    }
}
