use super::for_each_rule;
use super::routing::{Reach, configs};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP604: an alert that no route of the routing configuration delivers.
pub struct AlertNotRouted;

static META: Meta = Meta {
    code: "KP604",
    name: "alert-not-routed",
    family: Family::Observability,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "an alert's severity (and other fixed labels) reach only receivers that notify no one",
    what: "When the checked set holds a routing configuration (an AlertmanagerConfig, or \
           `alertmanager.yaml`/`alertmanager.yml` in a Secret's `stringData`/`data` or a ConfigMap's \
           `data`), walks its routing tree for every alerting rule as Alertmanager does: child routes in \
           order, `matchers`/`match`/`match_re`, `continue`, and the parent's receiver when no child matches. \
           The labels the rule fixes (`severity`, `team`, …, and `alertname`) are known; a matcher on any \
           other label may match (the series add labels), so both ways are followed. The alert is reported \
           when every way, in every routing configuration of the set, ends at a receiver without \
           notification configs (a \"null\" receiver) or one that is not defined. Without a routing \
           configuration in the set, nothing is reported.",
    why: "Alertmanager accepts such a tree: the alert fires, shows in the Prometheus UI, and nobody is told. \
          A severity spelt differently in the rules and the routes (`crit` and `critical`, `page` and \
          `critical`) is the usual cause, found at the outage the alert was written for.",
    fix: "Give the alert a severity a route handles, or add a route matching it (`matchers: \
          ['severity=\"critical\"']`) with a receiver that notifies someone (`pagerduty_configs`, \
          `slack_configs`, …).",
    fail: r##"
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
          labels: { severity: page }
          annotations: { runbook_url: https://runbooks.example.com/api-down }
---
apiVersion: v1
kind: Secret
metadata: { name: alertmanager-main, namespace: monitoring }
stringData:
  alertmanager.yaml: |
    route:
      receiver: "null"
      group_by: [alertname, namespace]
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty
        - matchers: ['severity=~"warning|info"']
          receiver: slack
    receivers:
      - name: "null"
      - name: pagerduty
        pagerduty_configs: [{ routing_key_file: /etc/alertmanager/secrets/pd/key }]
      - name: slack
        slack_configs: [{ api_url_file: /etc/alertmanager/secrets/slack/url, channel: "#alerts" }]
"##,
    pass: r##"
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
---
apiVersion: v1
kind: Secret
metadata: { name: alertmanager-main, namespace: monitoring }
stringData:
  alertmanager.yaml: |
    route:
      receiver: "null"
      group_by: [alertname, namespace]
      routes:
        - matchers: ['severity="critical"']
          receiver: pagerduty
        - matchers: ['severity=~"warning|info"']
          receiver: slack
    receivers:
      - name: "null"
      - name: pagerduty
        pagerduty_configs: [{ routing_key_file: /etc/alertmanager/secrets/pd/key }]
      - name: slack
        slack_configs: [{ api_url_file: /etc/alertmanager/secrets/slack/url, channel: "#alerts" }]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: { name: api-latency, namespace: shop }
spec:
  groups:
    - name: api-latency
      rules:
        - alert: ApiSlow
          expr: histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 0.5
          for: 15m
          labels: { severity: warning }
          annotations: { runbook_url: https://runbooks.example.com/api-slow }
---
apiVersion: monitoring.coreos.com/v1alpha1
kind: AlertmanagerConfig
metadata: { name: shop, namespace: shop }
spec:
  route:
    receiver: "null"
    routes:
      - matchers: [{ name: severity, value: critical, matchType: "=" }]
        receiver: pagerduty
        continue: true
      - matchers: [{ name: severity, value: "critical|warning", matchType: "=~" }]
        receiver: slack
  receivers:
    - name: "null"
    - name: pagerduty
      pagerdutyConfigs: [{ routingKey: { name: pagerduty, key: routing-key } }]
    - name: slack
      slackConfigs: [{ apiURL: { name: slack, key: url }, channel: "#alerts" }]
"##,
};

impl Check for AlertNotRouted {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let configs = configs(cx);
        if configs.is_empty() {
            return;
        }
        // A configuration none of whose receivers notifies (kube-prometheus
        // ships one to be filled in) is reported once, not for every alert.
        if configs.iter().all(|c| !c.notifies_anyone()) {
            let mut alerts = 0usize;
            for_each_rule(cx, |r| alerts += usize::from(r.alert().is_some()));
            if alerts == 0 {
                return;
            }
            for c in &configs {
                out.report(
                    c.object,
                    &c.ptr,
                    format!(
                        "no receiver of the routing configuration ({}) has notification configs: none of the \
                         {alerts} alert(s) of the checked set notifies anyone",
                        c.name
                    ),
                )
                .help(
                    "add `pagerduty_configs`, `slack_configs`, `email_configs`, `webhook_configs` … to the \
                     receivers the routes use (camelCase in an AlertmanagerConfig)",
                );
            }
            return;
        }
        for_each_rule(cx, |r| {
            let Some(alert) = r.alert() else { return };
            let labels = r.static_labels();
            let mut silent = Vec::new();
            for c in &configs {
                match c.reach(&labels) {
                    Reach::Delivered => return,
                    Reach::Silent(receivers) => silent.push(format!("{} in {}", receivers.join(", "), c.name)),
                }
            }
            let fixed: Vec<String> =
                labels.iter().filter(|(k, _)| **k != "alertname").map(|(k, v)| format!("{k}={v}")).collect();
            let with = if fixed.is_empty() { String::new() } else { format!(" ({})", fixed.join(", ")) };
            let at = if r.label("severity").is_some() { "labels/severity" } else { "alert" };
            let help = match r.label("severity") {
                Some(s) => format!(
                    "add a route matching severity=\"{s}\" with a receiver that has notification configs, or \
                     use a severity the routes handle"
                ),
                None => "add a `severity` label that a route handles, or give the default route a receiver with \
                         notification configs"
                    .to_string(),
            };
            out.report(
                r.object,
                r.at(at),
                format!("alert `{alert}`{with}{} notifies no one: it reaches only {}", r.place(), silent.join("; ")),
            )
            .help(help);
        });
    }
}
