use super::{dashboards, for_each_rule, parsed};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP601: a rule's or a dashboard's PromQL expression does not parse.
pub struct PromqlInvalid;

static META: Meta = Meta {
    code: "KP601",
    name: "promql-invalid",
    family: Family::Observability,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a PromQL expression of a rule or a dashboard does not parse",
    what: "Parses with a PromQL parser the `expr` of every alerting and recording rule (PrometheusRule \
           objects, rule files held in ConfigMaps, and bare rule files in promtool's format) and of every \
           Prometheus query of a Grafana dashboard (ConfigMaps labelled `grafana_dashboard`, any ConfigMap \
           value that parses as a dashboard, GrafanaDashboard objects, bare dashboard files). Grafana \
           variables are \
           replaced first (`$__rate_interval` by a duration, variables inside quotes by a value); a query \
           with a variable where no placeholder fits, and queries of Loki or other data sources, are not \
           judged. `holt_winters` (Prometheus 2) is accepted. \
           A finding points inside the expression when the source shows it exactly (plain, quoted and \
           literal `|` scalars): where the lexer stopped, the bracket left open, or the call of a function \
           the error names; else (folded scalars, grammar errors such as `up == == 1`, for which the parser \
           gives no place) at `expr:`.",
    why: "The Prometheus Operator's admission webhook rejects a PrometheusRule with a broken expression, and \
          without the webhook Prometheus refuses to load the whole rule file: every alert of it is gone, not \
          only the broken one. A dashboard panel with a broken query shows an error instead of the graph \
          someone needs during an incident.",
    fix: "Correct the expression (`promtool check rules` on the groups, or the Prometheus query page, shows \
          the same error).",
    fail: r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - alert: ApiErrors
          expr: sum(rate(http_requests_total{code=~"5.."}[5m]) / sum(rate(http_requests_total[5m])) > 0.05
          for: 10m
          labels: { severity: critical }
          annotations: { runbook_url: https://runbooks.example.com/api-errors }
"#,
    pass: r#"
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api, namespace: shop }
spec:
  groups:
    - name: api
      rules:
        - alert: ApiErrors
          expr: sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.05
          for: 10m
          labels: { severity: critical }
          annotations: { runbook_url: https://runbooks.example.com/api-errors }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-dashboard
  namespace: monitoring
  labels: { grafana_dashboard: "1" }
data:
  api.json: |
    {"title": "API", "panels": [{"title": "Requests", "targets": [
      {"refId": "A", "expr": "sum by (code) (rate(http_requests_total{job=\"$job\"}[$__rate_interval]))"},
      {"refId": "B", "datasource": {"type": "loki"}, "expr": "{app=\"api\"} |= \"error\""}]}]}
"#,
};

/// The most findings placed inside their expression in one run.
const LOCATED_MAX: usize = 100;

/// Where inside the `expr:` value the parser stopped, when the source
/// shows it exactly (else the finding stays at `expr:`).
fn inside(cx: &Context, object: usize, pointer: &str, expr: &str, error: &str) -> Option<crate::diag::Pos> {
    if !pointer.ends_with("/expr") {
        return None; // inside embedded text: the key holding it is shown
    }
    let offset = crate::model::promql::error_offset(expr, error)?;
    let o = &cx.objects[object];
    let (_, text) = cx.sources.get(o.source)?;
    crate::model::load::inside::position_in_scalar(text, o.pos(pointer), expr, offset)
}

impl Check for PromqlInvalid {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut located = 0;
        for_each_rule(cx, |r| {
            let Some(expr) = r.expr() else { return };
            let parsed = parsed(cx, &expr);
            let Some(Err(e)) = parsed.as_ref() else { return };
            let pointer = r.at("expr");
            // Each place costs a search (see `error_offset`): a set of
            // thousands of broken expressions gets the first ones placed.
            // (Counted as tried, placed or not.)
            let inside = if located < LOCATED_MAX { inside(cx, r.object, &pointer, &expr, e) } else { None };
            located += 1;
            out.report(
                r.object,
                pointer,
                format!("the expression of {}{} does not parse: {e}", r.describe(), r.place()),
            )
            .at(inside)
            .help(
                "Prometheus refuses to load the whole rule file, and the operator's webhook rejects the whole \
                     PrometheusRule: correct the expression",
            );
        });
        for d in dashboards(cx) {
            let read = d.read(cx);
            let Ok(queries) = read.as_ref() else { continue };
            for q in queries {
                let Some(promql) = &q.promql else { continue };
                let parsed = parsed(cx, promql);
                let Some(Err(e)) = parsed.as_ref() else { continue };
                out.report(d.object, &d.ptr, format!("{} of dashboard `{}` does not parse: {e}", q.label, d.key))
                    .help(format!("the panel shows an error instead of data; correct the query `{}`", q.expr.trim()));
            }
        }
    }
}
