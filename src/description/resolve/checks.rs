//! Checks that need the whole resolved platform.

use std::path::Path;

use super::Resolved;
use crate::description::Platform;
use crate::diag::{Diagnostic, Pos};

/// `uses` sets variables such as `DB_HOST` and `DB_PASSWORD`; a secret or
/// env value of the same name would silently shadow or duplicate one.
pub(super) fn check_wiring(p: &Platform, r: &Resolved, file: &Path) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for svc in &r.services {
        let pos = p.services.keys().find(|k| k.as_str() == svc.name).map_or(Pos::UNKNOWN, |k| k.pos());
        let wired = crate::description::wiring::wiring(r, svc);
        let reserved = std::iter::once("LOG_LEVEL").chain(wired.names());
        for name in reserved {
            let clash = if svc.secrets.iter().any(|s| s == name) {
                "secret"
            } else if svc.env.contains_key(name) || svc.templates.iter().any(|t| t.name == name) {
                "env value"
            } else {
                continue;
            };
            let why = if name == "LOG_LEVEL" { "`logLevel`".to_string() } else { "its `uses`".to_string() };
            errors.push(
                Diagnostic::error(
                    file,
                    pos,
                    format!("`{}` declares the {clash} `{name}`, which {why} already sets", svc.name),
                )
                .with_help(format!("remove `{name}` from the {clash}s; kubeproof sets it")),
            );
        }
        for e in crate::description::template::errors(r, svc) {
            let mut d = Diagnostic::error(file, if e.pos.is_known() { e.pos } else { pos }, e.message);
            d.help = e.help;
            errors.push(d);
        }
        // A credential among the plain values would land in a ConfigMap, in
        // git, in clear: the same rule `kubeproof check` applies (KP121).
        for (name, value) in &svc.env {
            if !value.is_empty() && crate::model::env::credential_name(name) {
                errors.push(
                    Diagnostic::error(file, pos, format!("`{}` sets `{name}` as a plain env value", svc.name))
                        .with_help(format!(
                            "`{name}` looks like a credential: list it under `secrets:` and put its value in the \
                             environment's secrets file instead"
                        )),
                );
            }
        }
    }
    errors.extend(own_alertmanager_unrouted(p, r, file));
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// The platform's own Alertmanager loads the generated routing: with no
/// severity routed to a receiver, every alert would notify no one.
fn own_alertmanager_unrouted(p: &Platform, r: &Resolved, file: &Path) -> Option<Diagnostic> {
    let am = r.component("alertmanager").filter(|_| !r.alerting.routed())?;
    let pos = p.services.keys().find(|k| k.as_str() == am.name).map_or(Pos::UNKNOWN, |k| k.pos());
    Some(
        Diagnostic::error(
            file,
            pos,
            format!("`{}` is the platform's Alertmanager, but `alerts` routes no severity to a receiver", am.name),
        )
        .with_help(
            "route severities to receivers, e.g. `alerts: { critical: [pagerduty], warning: [slack] }` and \
             `receivers: { pagerduty: {}, slack: { channel: \"#alerts\" } }`",
        ),
    )
}
