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
        let wired = crate::description::wiring::wiring(r, svc.client());
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
        for e in crate::description::template::errors(r, svc.client()) {
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
    errors.extend(uses_a_worker(p, r, file));
    errors.extend(canary_published_as_is(p, r, file));
    errors.extend(batch_wiring(p, r, file));
    errors.extend(own_alertmanager_unrouted(p, r, file));
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// A worker listens on no port: a client `uses` it in vain (no host, no
/// port to wire, no Service to reach; a job's egress policy would open
/// every port of it). The error points at the entry in the base `uses` when
/// it is written there, else at the client.
fn uses_a_worker(p: &Platform, r: &Resolved, file: &Path) -> Vec<Diagnostic> {
    let services = r.services.iter().map(|s| {
        let base = p.services.iter().find(|(k, _)| k.as_str() == s.name);
        (s.name.as_str(), &s.uses, base.map(|(k, b)| (k, b.uses.as_ref())))
    });
    let jobs = r.jobs.iter().map(|j| {
        let base = p.jobs.iter().find(|(k, _)| k.as_str() == j.name);
        (j.name.as_str(), &j.uses, base.map(|(k, b)| (k, b.uses.as_ref())))
    });
    let crons = r.cronjobs.iter().map(|c| {
        let base = p.cronjobs.iter().find(|(k, _)| k.as_str() == c.job.name);
        (c.job.name.as_str(), &c.job.uses, base.map(|(k, b)| (k, b.uses.as_ref())))
    });
    let mut out = Vec::new();
    for (client, uses, base) in services.chain(jobs).chain(crons) {
        for target in uses.iter().filter(|t| r.service(t).is_some_and(|t| t.worker)) {
            let pos = base
                .and_then(|(_, u)| u.into_iter().flatten().find(|u| u.as_str() == target))
                .map(|u| u.pos())
                .or_else(|| base.map(|(k, _)| k.pos()))
                .unwrap_or(Pos::UNKNOWN);
            out.push(
                Diagnostic::error(
                    file,
                    pos,
                    format!("`{client}` uses `{target}`, a worker: it has no port, so nothing can connect to it"),
                )
                .with_help(format!(
                    "remove `{target}` from `uses` (a worker reaches what it needs itself), or give `{target}` the \
                     `port` it serves on"
                )),
            );
        }
    }
    out
}

/// Under the mesh a canary gets its weight from the mesh's routes; a
/// LoadBalancer or NodePort Service bypasses them and spreads connections
/// over every pod it selects, the canary's as the others'.
fn canary_published_as_is(p: &Platform, r: &Resolved, file: &Path) -> Vec<Diagnostic> {
    use crate::description::{ExposeKind, Mesh};
    if r.mesh != Mesh::Istio {
        return Vec::new();
    }
    let mut out = Vec::new();
    for svc in &r.services {
        let Some(c) = &svc.canary else { continue };
        let direct = svc.exposures.iter().filter(|e| matches!(e.kind, ExposeKind::LoadBalancer | ExposeKind::NodePort));
        for e in direct {
            let pos = p.services.keys().find(|k| k.as_str() == svc.name).map_or(Pos::UNKNOWN, |k| k.pos());
            let message = format!(
                "`{}` runs a canary and publishes port `{}` with `type: {}`: that Service spreads connections over \
                 the canary's pods as over the others, not by the canary's {}%",
                svc.name,
                e.port_name,
                e.kind.as_str(),
                c.weight
            );
            let help = "publish it with `type: ingress` (the mesh's gateway splits by weight), or release without \
                        `traffic.canary`";
            out.push(Diagnostic::error(file, pos, message).with_help(help.to_string()));
        }
    }
    out
}

/// A job's or cronjob's variables, as a service's: none that its `uses`
/// sets, no credential among the plain values.
fn batch_wiring(p: &Platform, r: &Resolved, file: &Path) -> Vec<Diagnostic> {
    let mut errors = Vec::new();
    for job in r.batch() {
        let names = p.jobs.keys().chain(p.cronjobs.keys());
        let pos = names.into_iter().find(|k| k.as_str() == job.name).map_or(Pos::UNKNOWN, |k| k.pos());
        let wired = crate::description::wiring::wiring(r, job.client());
        for name in wired.names() {
            let clash = if job.secrets.iter().any(|s| s == name) {
                "secret"
            } else if job.env.contains_key(name) {
                "env value"
            } else {
                continue;
            };
            errors.push(
                Diagnostic::error(
                    file,
                    pos,
                    format!("`{}` declares the {clash} `{name}`, which its `uses` already sets", job.name),
                )
                .with_help(format!("remove `{name}` from the {clash}s; kubeproof sets it")),
            );
        }
        for e in crate::description::template::errors(r, job.client()) {
            let mut d = Diagnostic::error(file, if e.pos.is_known() { e.pos } else { pos }, e.message);
            d.help = e.help;
            errors.push(d);
        }
        for (name, value) in &job.env {
            if !value.is_empty() && crate::model::env::credential_name(name) {
                errors.push(
                    Diagnostic::error(file, pos, format!("`{}` sets `{name}` as a plain env value", job.name))
                        .with_help(format!(
                            "`{name}` looks like a credential: list it under `secrets:` and put its value in the \
                                 environment's secrets file instead"
                        )),
                );
            }
        }
    }
    errors
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
