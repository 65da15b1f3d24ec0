//! What `uses` sets in a client service: hosts, ports and database names
//! (plain settings for its ConfigMap), credentials as references to the
//! datastore's Secret, URLs composed from both by Kubernetes' `$(VAR)`
//! expansion so that no password is written down, and the datastores whose
//! credentials the client's namespace needs a copy of. The description checks
//! these names against the service's own; the generator writes them.

use std::collections::BTreeMap;

use super::ExternalProtocol;
use super::Protocol;
use super::resolve::{Resolved, Store};
use crate::engines::{Env, Instance};
use crate::model::hosts::fqdn;

/// The variables one client's `uses` sets.
#[derive(Debug, Default)]
pub struct Wiring {
    /// Non-secret settings (hosts, ports, database names).
    pub config: BTreeMap<String, String>,
    /// Credentials and URLs composed from them, each with the Secret it reads.
    pub env: Vec<(Env, String)>,
    /// The datastores whose credentials Secret the client's namespace needs.
    pub credentials: Vec<String>,
    /// `env` templates resolved to plain text (for the ConfigMap).
    pub values: BTreeMap<String, String>,
    /// The container variables `env` templates need, after `env`: the
    /// Secret-sourced parts first, then the values the kubelet composes.
    pub templated: Vec<Var>,
}

/// A container variable of a resolved `env` template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    /// A value; `$(NAME)` refers to an earlier variable.
    Value { name: String, value: String },
    /// A key of a Secret.
    Secret { name: String, secret: String, key: String },
}

impl Var {
    pub fn name(&self) -> &str {
        match self {
            Var::Value { name, .. } | Var::Secret { name, .. } => name,
        }
    }
}

impl Wiring {
    /// Every variable name kubeproof sets for `uses` (not the description's own).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let helpers = self.templated.iter().filter(|v| matches!(v, Var::Secret { .. })).map(Var::name);
        self.config.keys().map(String::as_str).chain(self.env.iter().map(|(e, _)| e.name())).chain(helpers)
    }
}

/// `DB_` for a target named `db`, `PAYMENTS_API_` for `payments-api`: the
/// prefix of the variables wired for it (without the underscore).
pub fn env_prefix(name: &str) -> String {
    name.to_ascii_uppercase().replace(['-', '.'], "_")
}

/// The name of a datastore's credentials Secret.
pub fn credentials_secret(store: &str) -> String {
    format!("{store}-credentials")
}

impl Store {
    /// The datastore as its engine sees it.
    pub fn instance(&self) -> Instance<'_> {
        Instance {
            name: &self.name,
            namespace: &self.namespace,
            host: fqdn(&self.name, &self.namespace),
            database: &self.database,
            memory_limit: self.limits.memory.get(),
            cache: self.cache,
            auth: self.auth,
            settings: &self.settings,
        }
    }
}

pub fn wiring(r: &Resolved, svc: super::template::Client) -> Wiring {
    // A target an `env` template names gets the variables written there only.
    let templated: Vec<&str> = svc.templates.iter().flat_map(|t| t.targets()).collect();
    let mut w = wiring_except(r, svc.uses, &templated);
    super::template::apply(r, svc, &mut w);
    w
}

/// The default variables of `uses`, except for the `templated` targets.
fn wiring_except(r: &Resolved, uses: &[String], templated: &[&str]) -> Wiring {
    let mut w = Wiring::default();
    for target in uses {
        let p = env_prefix(target);
        if let Some(store) = r.datastore(target).filter(|s| s.auth) {
            // Secrets cannot be read across namespaces: the client's namespace
            // gets its own copy, built from the same git-ignored file.
            w.credentials.push(store.name.clone());
        }
        if templated.contains(&target.as_str()) {
            continue;
        }
        if let Some(store) = r.datastore(target) {
            let secret = credentials_secret(&store.name);
            w.config.insert(format!("{p}_HOST"), fqdn(&store.name, &store.namespace));
            w.config.insert(format!("{p}_PORT"), store.engine.client_port().to_string());
            let engine = store.engine.wiring(&p, &store.instance());
            w.config.extend(engine.config);
            w.env.extend(engine.env.into_iter().map(|e| (e, secret.clone())));
        } else if let Some(other) = r.service(target) {
            if let Some(port) = other.ports.first() {
                let host = fqdn(&other.name, &other.namespace);
                let scheme = match port.protocol {
                    Protocol::Http => Some("http"),
                    Protocol::Websocket => Some("ws"),
                    Protocol::Grpc | Protocol::Tcp => None,
                };
                if let Some(scheme) = scheme {
                    w.config.insert(format!("{p}_URL"), format!("{scheme}://{host}:{}", port.service_port));
                }
                w.config.insert(format!("{p}_HOST"), host);
                w.config.insert(format!("{p}_PORT"), port.service_port.to_string());
            }
        } else if let Some(ext) = r.external(target) {
            w.config.insert(format!("{p}_HOST"), ext.host.clone());
            w.config.insert(format!("{p}_PORT"), ext.port.to_string());
            if ext.protocol == ExternalProtocol::Https {
                let url = if ext.port == 443 {
                    format!("https://{}", ext.host)
                } else {
                    format!("https://{}:{}", ext.host, ext.port)
                };
                w.config.insert(format!("{p}_URL"), url);
            }
        }
    }
    w
}
