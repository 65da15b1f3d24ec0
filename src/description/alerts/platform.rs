//! The platform's alerting: which receivers get each severity, the receivers
//! with their defaults, and the alerts that belong to no single service
//! (volumes, nodes, backups).

use std::collections::BTreeMap;
use std::path::Path;

use super::{Alerting, PlatformAlerts, Receiver, ReceiverKind, ReceiverR, Rule, Severity, Threshold, defaults, rule};
use crate::description::Name;
use crate::diag::{Diagnostic, Pos};

/// Resolves the platform's `alerts` and `receivers`; a route naming a
/// receiver that is neither declared nor a known kind is an error at its name.
pub fn platform(
    alerts: Option<&PlatformAlerts>,
    receivers: &BTreeMap<Name, Receiver>,
    platform: &str,
    domain: Option<&str>,
    file: &Path,
) -> Result<Alerting, Vec<Diagnostic>> {
    let a = alerts.cloned().unwrap_or_default();
    let mut routing =
        Routing { declared: receivers, platform, domain, file, receivers: Vec::new(), errors: Vec::new() };
    let routes = [(Severity::Critical, &a.critical), (Severity::Warning, &a.warning), (Severity::Info, &a.info)]
        .into_iter()
        .map(|(sev, list)| (sev, routing.route(sev, list.iter().flatten())))
        .collect();
    routing.unrouted();
    let Routing { receivers: mut out_receivers, mut errors, .. } = routing;
    out_receivers.sort_by(|a, b| a.name.cmp(&b.name));

    let volumes = rule(a.volumes.as_ref(), defaults::VOLUMES, 900, Severity::Warning);
    let nodes = a.nodes.clone().unwrap_or_default();
    let node_disk_free = node_rule(nodes.disk_free.as_ref(), defaults::NODE_DISK_FREE);
    let node_memory = node_rule(nodes.memory.as_ref(), defaults::NODE_MEMORY);
    let percents = [
        ("volumes", Some(&volumes)),
        ("nodes.diskFree", node_disk_free.as_ref()),
        ("nodes.memory", node_memory.as_ref()),
    ];
    check_percents(percents, file, &mut errors);
    let backup_runs = backup_runs(&a, file, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Alerting {
        routes,
        receivers: out_receivers,
        runbook_base: a.runbook_base.clone().unwrap_or_else(|| defaults::RUNBOOK.to_string()),
        volumes,
        node_disk_free,
        node_memory,
        backup_runs,
        secret: format!("{platform}-alertmanager"),
    })
}

/// Routes and receivers as they are resolved, with the errors found so far.
struct Routing<'a> {
    declared: &'a BTreeMap<Name, Receiver>,
    platform: &'a str,
    domain: Option<&'a str>,
    file: &'a Path,
    /// Receivers resolved so far, each once.
    receivers: Vec<ReceiverR>,
    errors: Vec<Diagnostic>,
}

impl Routing<'_> {
    /// The receivers of one severity, each once and each declared or a known kind.
    fn route<'n>(&mut self, sev: Severity, list: impl Iterator<Item = &'n Name>) -> Vec<String> {
        let mut names = Vec::new();
        for n in list {
            if names.contains(&n.to_string()) {
                self.errors.push(Diagnostic::error(
                    self.file,
                    n.pos(),
                    format!("receiver `{n}` is listed twice for {}", sev.as_str()),
                ));
                continue;
            }
            if !self.receivers.iter().any(|r| r.name == n.as_str()) {
                let declared = self.declared.get(n.as_str());
                if declared.is_none() && ReceiverKind::from_name(n).is_none() {
                    let d = self.unknown_receiver(n);
                    self.errors.push(d);
                    continue;
                }
                if let Some(r) = self.receiver(n, declared) {
                    self.receivers.push(r);
                }
            }
            names.push(n.to_string());
        }
        names
    }

    fn unknown_receiver(&self, n: &Name) -> Diagnostic {
        let d = Diagnostic::error(self.file, n.pos(), format!("unknown receiver `{n}`"));
        let known: Vec<&str> =
            self.declared.keys().map(|k| k.as_str()).chain(["pagerduty", "slack", "email", "webhook"]).collect();
        match crate::diag::did_you_mean(n, known) {
            Some(s) => d.with_help(format!("did you mean `{s}`? (or declare `{n}` under `receivers:`)")),
            None => d.with_help(format!("declare `{n}` under `receivers:`")),
        }
    }

    /// Declared receivers that no route uses are still written (a person may
    /// route to them by hand).
    fn unrouted(&mut self) {
        for (n, r) in self.declared {
            if !self.receivers.iter().any(|x| x.name == n.as_str())
                && let Some(r) = self.receiver(n, Some(r))
            {
                self.receivers.push(r);
            }
        }
    }

    /// A receiver with its defaults; its kind is its name unless declared.
    fn receiver(&mut self, name: &Name, r: Option<&Receiver>) -> Option<ReceiverR> {
        let r = r.cloned().unwrap_or_default();
        let Some(kind) = r.kind.or_else(|| ReceiverKind::from_name(name)) else {
            self.errors.push(
                Diagnostic::error(self.file, name.pos(), format!("receiver `{name}` has no `kind`"))
                    .with_help("declare it under `receivers:` with `kind: pagerduty`, `slack`, `email` or `webhook`"),
            );
            return None;
        };
        let mut out = ReceiverR {
            name: name.to_string(),
            kind,
            channel: r.channel.clone().unwrap_or_else(|| format!("#{}-alerts", self.platform)),
            to: String::new(),
            from: String::new(),
            smarthost: String::new(),
            url: r.url.clone().unwrap_or_default(),
        };
        if kind == ReceiverKind::Email {
            out.to = r.to.clone().unwrap_or_else(|| format!("oncall@{}", self.domain_for(name, "to")));
            out.from = r.from.clone().unwrap_or_else(|| format!("alertmanager@{}", self.domain_for(name, "from")));
            out.smarthost =
                r.smarthost.clone().unwrap_or_else(|| format!("smtp.{}:587", self.domain_for(name, "smarthost")));
        }
        if kind == ReceiverKind::Webhook {
            self.webhook_address(name, &out.url);
        }
        Some(out)
    }

    /// A webhook's `url` is only its address, `http(s)://HOST[:PORT]`: where
    /// Alertmanager connects (network policies, the graph). The URL it
    /// posts to is read from the Secret (`url_file`): a path, a query or a
    /// user often is the credential, and would be written in clear.
    fn webhook_address(&mut self, name: &Name, url: &str) {
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        let help = format!(
            "write only the address (`url: https://hooks.example.com`); the full URL goes in the Alertmanager \
             secrets file under `{name}` (see monitoring/README.md), read from the Secret with `url_file`"
        );
        let message = match rest {
            None => format!("webhook receiver `{name}` needs a `url` (http:// or https://)"),
            Some(r) if r.contains('@') => {
                format!("the `url` of webhook receiver `{name}` has a user or password: a secret, written in clear")
            }
            Some(r) if !r.trim_end_matches('/').chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)) => {
                format!("the `url` of webhook receiver `{name}` has a path or query, which often is the credential")
            }
            Some(_) => return,
        };
        // At the declaration, where the `url` is.
        let pos = self.declared.keys().find(|k| k.as_str() == name.as_str()).map_or(name.pos(), |k| k.pos());
        self.errors.push(Diagnostic::error(self.file, pos, message).with_help(help));
    }

    /// The platform's domain, for an email receiver's unwritten `what`.
    fn domain_for(&mut self, name: &Name, what: &str) -> String {
        match self.domain {
            Some(d) => d.to_string(),
            None => {
                self.errors.push(
                    Diagnostic::error(self.file, name.pos(), format!("email receiver `{name}` has no `{what}`"))
                        .with_help("set `to`, `from` and `smarthost`, or the platform's `domain` for defaults"),
                );
                String::new()
            }
        }
    }
}

/// A node alert: on only when written.
fn node_rule(t: Option<&Threshold>, threshold: f64) -> Option<Rule> {
    t.map(|t| rule(Some(t), threshold, 900, Severity::Warning)).filter(|r| r.enabled)
}

/// Thresholds that are percents, checked for the rules that are on.
fn check_percents(rules: [(&str, Option<&Rule>); 3], file: &Path, errors: &mut Vec<Diagnostic>) {
    for (what, r) in rules {
        if let Some(r) = r
            && r.enabled
            && !(r.threshold > 0.0 && r.threshold < 100.0)
        {
            errors.push(Diagnostic::error(
                file,
                Pos::UNKNOWN,
                format!("alerts.{what}: threshold {} must be a percent above 0 and below 100", r.threshold),
            ));
        }
    }
}

/// `BackupTooOld` fires after this many missed runs: at least one.
fn backup_runs(a: &PlatformAlerts, file: &Path, errors: &mut Vec<Diagnostic>) -> Rule {
    let backup_runs = rule(a.backup_runs.as_ref(), defaults::BACKUP_RUNS, 0, Severity::Critical);
    if !(backup_runs.threshold >= 1.0 && backup_runs.threshold.is_finite()) {
        errors.push(Diagnostic::error(file, Pos::UNKNOWN, "alerts.backupRuns must be at least 1"));
    }
    backup_runs
}
