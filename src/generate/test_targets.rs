//! What the Helm chart's test hooks check besides the Services (which they
//! read from the objects): each `uses` edge from a service, job or cronjob to
//! a datastore, with what a client needs to connect as that workload does —
//! from its namespace, with its copy of the credentials.

use crate::description::resolve::Resolved;
use crate::engines::{Engine, Env};

use super::Stack;

/// A workload's `uses` edge to a datastore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatastoreUse {
    /// The client workload and its namespace (where its test runs).
    pub client: String,
    pub namespace: String,
    pub store: String,
    pub store_namespace: String,
    pub engine: Engine,
    /// The datastore's own image: its client tools, pinned as the server is.
    pub image: String,
    /// The client Service's DNS name and the client port.
    pub host: String,
    pub port: u16,
    /// The engine's client check and its environment
    /// ([`crate::engines::ClientCheck`]); `None`: a TCP connection.
    pub check: Option<(&'static str, Vec<Env>)>,
    /// The credentials Secret the client reads in its namespace; `None`
    /// without `auth`.
    pub secret: Option<String>,
}

/// Every edge to a datastore of `r`, services first, then jobs and cronjobs.
/// `stack`: the Secrets generated, to name the copy the client reads (a
/// Job reads its own, `JOB.DB-credentials`, when no service of its
/// namespace shares `DB-credentials`).
pub fn datastore_uses(r: &Resolved, stack: &Stack) -> Vec<DatastoreUse> {
    let services = r.services.iter().map(|s| (&s.name, &s.namespace, &s.uses));
    let batch = r.batch().map(|j| (&j.name, &j.namespace, &j.uses));
    let mut out = Vec::new();
    for (client, ns, uses) in services.chain(batch) {
        for d in uses.iter().filter_map(|t| r.datastore(t)) {
            let has = |name: &str| stack.secrets.iter().any(|s| s.namespace == *ns && s.name == name);
            let shared = format!("{}-credentials", d.name);
            let own = format!("{client}.{shared}");
            let secret = d.auth.then(|| if has(&shared) || !has(&own) { shared } else { own });
            out.push(DatastoreUse {
                client: client.clone(),
                namespace: ns.clone(),
                store: d.name.clone(),
                store_namespace: d.namespace.clone(),
                engine: d.engine,
                image: d.image.clone(),
                host: super::fqdn(&d.name, &d.namespace),
                port: d.engine.client_port(),
                check: d.engine.client_check().map(|c| (c.script, (c.env)(&d.instance()))),
                secret,
            });
        }
    }
    out
}
