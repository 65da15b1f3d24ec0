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
        // The URL's path, query or user often is the credential: read from
        // the Secret (`url_file`, Alertmanager 0.26+), never written here.
        ReceiverKind::Webhook => json!({
            "name": r.name,
            "webhook_configs": [{ "url_file": format!("{dir}/{}", r.name), "send_resolved": true }],
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

#[cfg(test)]
mod tests {
    use super::super::testing::shop;
    use super::*;

    #[test]
    fn each_severity_reaches_exactly_its_receivers() {
        let c = config(&shop().alerting);
        let routes: Vec<(String, String, bool)> = c["route"]["routes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| (r["matchers"][0].to_string(), r["receiver"].to_string(), r["continue"] == true))
            .collect();
        let want = [
            (r#""severity=\"critical\"""#, r#""pagerduty""#),
            (r#""severity=\"critical\"""#, r#""slack""#),
            (r#""severity=\"warning\"""#, r#""slack""#),
        ];
        assert_eq!(routes, want.map(|(m, r)| (m.to_string(), r.to_string(), true)));
        // Info is not routed: it falls back to the first warning receiver.
        assert_eq!(c["route"]["receiver"], "slack");
        assert_eq!(c["route"]["routes"][0]["repeat_interval"], "1h");
    }

    #[test]
    fn credentials_are_files_of_the_secret_and_lower_severities_are_inhibited() {
        let a = shop().alerting;
        let c = config(&a);
        let pagerduty = &c["receivers"][0]["pagerduty_configs"][0]["routing_key_file"];
        assert_eq!(pagerduty.as_str(), Some(format!("{SECRETS_DIR}/{}/pagerduty", a.secret).as_str()));
        assert_eq!(c["inhibit_rules"][0]["source_matchers"][0], "severity=\"critical\"");
        assert_eq!(c["inhibit_rules"][0]["equal"], json!(["namespace", "service"]));
    }
}
