//! `alertmanager.yml`, when the description routes alerts: routes by
//! severity (one child route per receiver, `continue: true`, so a severity
//! reaches exactly the receivers listed), inhibition of lower severities by a
//! higher one for the same service, credentials from files.

use serde_json::{Value, json};

use crate::description::alerts::{Alerting, ReceiverKind, ReceiverR, SECRETS_DIR, Severity};

pub(super) fn config(a: &Alerting) -> Value {
    let dir = format!("{SECRETS_DIR}/{}", a.secret);
    let receivers: Vec<Value> = a.receivers.iter().map(|r| receiver(r, &dir)).collect();
    json!({
        "global": { "resolve_timeout": "5m" },
        "route": {
            "receiver": fallback(a),
            "group_by": ["alertname", "namespace", "service"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
            "routes": routes(a),
        },
        "inhibit_rules": [
            {
                "source_matchers": ["severity=\"critical\""],
                "target_matchers": ["severity=~\"warning|info\""],
                "equal": ["namespace", "service"],
            },
            {
                "source_matchers": ["severity=\"warning\""],
                "target_matchers": ["severity=\"info\""],
                "equal": ["namespace", "service"],
            },
        ],
        "receivers": receivers,
    })
}

/// A receiver whose credential (if any) is the file of its name in `dir`.
fn receiver(r: &ReceiverR, dir: &str) -> Value {
    match r.kind {
        ReceiverKind::Pagerduty => json!({
            "name": r.name,
            "pagerduty_configs": [{ "routing_key_file": format!("{dir}/{}", r.name), "send_resolved": true }],
        }),
        ReceiverKind::Slack => json!({
            "name": r.name,
            "slack_configs": [{
                "api_url_file": format!("{dir}/{}", r.name),
                "channel": r.channel,
                "send_resolved": true,
                "title": "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.service }})",
                "text": "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.runbook_url }}\n{{ end }}",
            }],
        }),
        ReceiverKind::Email => json!({
            "name": r.name,
            "email_configs": [{
                "to": r.to,
                "from": r.from,
                "smarthost": r.smarthost,
                "auth_username": r.from,
                "auth_password_file": format!("{dir}/{}", r.name),
                "require_tls": true,
                "send_resolved": true,
            }],
        }),
        ReceiverKind::Webhook => json!({
            "name": r.name,
            "webhook_configs": [{ "url": r.url, "send_resolved": true }],
        }),
    }
}

/// A child route per severity and receiver, repeating sooner the more urgent.
fn routes(a: &Alerting) -> Vec<Value> {
    let repeat = |s: Severity| match s {
        Severity::Critical => "1h",
        Severity::Warning => "4h",
        Severity::Info => "24h",
    };
    let mut routes = Vec::new();
    for (sev, names) in &a.routes {
        for n in names {
            routes.push(json!({
                "matchers": [format!("severity=\"{}\"", sev.as_str())],
                "receiver": n,
                "repeat_interval": repeat(*sev),
                "continue": true,
            }));
        }
    }
    routes
}

/// Alerts without a routed severity go to the first warning receiver (else
/// info, else critical): never nowhere.
fn fallback(a: &Alerting) -> String {
    [Severity::Warning, Severity::Info, Severity::Critical]
        .iter()
        .find_map(|s| a.routes.iter().find(|(x, n)| x == s && !n.is_empty()).and_then(|(_, n)| n.first()))
        .cloned()
        .unwrap_or_default()
}
