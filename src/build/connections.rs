//! `gen`'s proof that every intended connection is open, with the evaluation
//! `kubeproof reach` uses ([`crate::model::netpol`], the closed world: the
//! stack is the whole cluster) and, for servers with an Istio sidecar,
//! [`crate::model::authz`]; and that the NetworkPolicies open nothing
//! between the stack's workloads that is not intended.
//!
//! Ends outside the stack are judged on the stack's side only: the pods of
//! another namespace (an external Prometheus, a collector installed apart)
//! by their namespace (their labels are unknown, so only a rule admitting
//! the namespace's pods proves it), a host outside the cluster by the
//! client's egress to every public address. Under Istio, a caller of another
//! namespace is taken to present that namespace's mesh identity (mutual
//! TLS): Prometheus must scrape with Istio's certificates.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::Error;
use crate::generate::connections::{Connection, End};
use crate::model::authz::{self, Caller, Request, Server};
use crate::model::netpol::{Decision, Direction, Endpoint, Policies, Target, Tri, World};
use crate::model::selector::{LabelSet, Labels};
use crate::model::{At, Manifests, Pod};

use crate::model::policy_table::Table;

/// A connection proven open, and what opens it.
#[derive(Debug, Clone)]
pub struct Proven {
    pub connection: Connection,
    /// The NetworkPolicy rules and AuthorizationPolicies admitting it.
    pub allowed_by: Vec<String>,
}

/// One blocked connection: what is asked and why it is refused.
#[derive(Debug, Clone)]
pub struct Blocked {
    pub connection: Connection,
    pub reason: String,
}

/// Proves every connection of `wanted` on `stack` (sources named under
/// `dir`), and that the policies open nothing else between its workloads.
/// Err: the blocked ones, in words, naming both ends and the policy, and
/// the unintended open ones.
pub fn prove(dir: &str, stack: &crate::generate::Stack, wanted: &[Connection]) -> Result<Vec<Proven>, Error> {
    prove_loaded(dir, &super::stack_sources(dir, stack)?, wanted)
}

/// [`prove`] on a stack loaded already ([`super::stack_sources`]).
pub fn prove_loaded(dir: &str, loaded: &crate::model::Loaded, wanted: &[Connection]) -> Result<Vec<Proven>, Error> {
    let cx = Manifests::new(loaded);
    let (proven, blocked) = judge(&cx, wanted);
    let extra = unintended(&cx, wanted);
    if blocked.is_empty() && extra.is_empty() {
        return Ok(proven);
    }
    let mut text = String::new();
    if !blocked.is_empty() {
        text += &format!("{dir}: {} intended connection(s) blocked:\n", blocked.len());
        for b in &blocked {
            text += &format!("- {}: {}\n", b.connection, b.reason);
        }
    }
    if !extra.is_empty() {
        text += &format!("{dir}: the NetworkPolicies open {} connection(s) nothing intends:\n", extra.len());
        for x in &extra {
            text += &format!("- {x}\n");
        }
    }
    Err(Error::Blocked(text))
}

/// Splits `wanted` into proven and blocked connections.
pub fn judge(cx: &Manifests, wanted: &[Connection]) -> (Vec<Proven>, Vec<Blocked>) {
    let policies = Policies::build_in(cx, World::Closed);
    let stack = Lookup::new(cx, &policies);
    let mut proven = Vec::new();
    let mut blocked = Vec::new();
    for c in wanted {
        match one(cx, &stack, c) {
            Ok(allowed_by) => proven.push(Proven { connection: c.clone(), allowed_by }),
            Err(reason) => blocked.push(Blocked { connection: c.clone(), reason }),
        }
    }
    (proven, blocked)
}

/// The stack's policies and templates, looked up in constant time per
/// question (each was a scan of every template or rule per connection:
/// cubic in services for a dense `uses` graph).
struct Lookup<'c, 'p, 'a> {
    policies: &'p Policies<'a>,
    table: Table<'p, 'a>,
    /// (namespace, `app.kubernetes.io/name`) → the workload's templates.
    workloads: HashMap<(&'c str, &'c str), Vec<usize>>,
    /// template object → its pods' labels.
    labels: HashMap<usize, &'c Labels>,
}

impl<'c, 'p, 'a> Lookup<'c, 'p, 'a> {
    fn new(cx: &'c Manifests, policies: &'p Policies<'a>) -> Lookup<'c, 'p, 'a> {
        let mut workloads: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
        let mut labels = HashMap::new();
        for t in &cx.index.templates {
            if let Some(name) = t.labels.get("app.kubernetes.io/name") {
                workloads.entry((cx.objects[t.object].ns(), name)).or_default().push(t.object);
            }
            labels.entry(t.object).or_insert(&t.labels);
        }
        Lookup { policies, table: Table::new(cx, policies), workloads, labels }
    }

    /// The pod templates of a workload end.
    fn objects(&self, namespace: &str, name: &str) -> Vec<usize> {
        self.workloads.get(&(namespace, name)).cloned().unwrap_or_default()
    }

    /// A template's pods as a peer.
    fn endpoint(&self, cx: &'c Manifests, object: usize) -> Endpoint<'c> {
        Endpoint { ns: cx.objects[object].ns(), labels: self.labels_of(object) }
    }

    fn labels_of(&self, object: usize) -> &'c dyn LabelSet {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.labels.get(&object).map_or(&EMPTY, |l| *l)
    }
}

fn labels_of<'a>(cx: &'a Manifests, object: usize) -> &'a dyn LabelSet {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    cx.index.templates.iter().find(|t| t.object == object).map_or(&EMPTY, |t| &t.labels)
}

/// A side of the connection: pods of the stack (each template), or a peer
/// whose pods the stack does not hold.
enum Side<'a> {
    Pods(Vec<usize>),
    /// Pods of a namespace outside the stack, with their service account
    /// and forwarded token when known.
    Namespace(&'a str, Option<&'a str>, Option<&'a str>),
    External,
    Api,
    /// Any address outside the cluster, as a client.
    Internet,
}

fn side<'a>(stack: &Lookup, end: &'a End) -> Result<Side<'a>, String> {
    match end {
        End::Workload { namespace, name } => {
            let found = stack.objects(namespace, name);
            if found.is_empty() {
                return Err(format!("the stack has no pods of {end}"));
            }
            Ok(Side::Pods(found))
        }
        End::Namespace { namespace } => Ok(Side::Namespace(namespace, None, None)),
        End::Edge { namespace, account, token } => Ok(Side::Namespace(namespace, account.as_deref(), token.as_deref())),
        End::External { .. } => Ok(Side::External),
        End::KubernetesApi => Ok(Side::Api),
        End::Internet => Ok(Side::Internet),
    }
}

/// The name a destination's containers give `port`, for named policy ports.
fn port_name<'a>(cx: &Manifests<'a>, object: usize, port: u16) -> Option<&'a str> {
    let pod = Pod::of(cx.objects, object)?;
    pod.app_containers().flat_map(|c| c.ports().collect::<Vec<_>>()).find(|p| p.0 == i64::from(port)).and_then(|p| p.1)
}

/// Ok: what admits it; Err: why it is blocked.
fn one(cx: &Manifests, stack: &Lookup, c: &Connection) -> Result<Vec<String>, String> {
    let policies = stack.policies;
    let from = side(stack, &c.from)?;
    let to = side(stack, &c.to)?;
    let empty = BTreeMap::new();
    let mut allowed_by = BTreeSet::new();
    // Pairs of (client, server): a template of the stack or the peer outside it.
    let clients: Vec<Option<usize>> = match &from {
        Side::Pods(o) => o.iter().copied().map(Some).collect(),
        _ => vec![None],
    };
    let servers: Vec<Option<usize>> = match &to {
        Side::Pods(o) => o.iter().copied().map(Some).collect(),
        _ => vec![None],
    };
    for &f in &clients {
        for &t in &servers {
            let name = t.and_then(|t| port_name(cx, t, c.port));
            let target = Target { number: i64::from(c.port), protocol: "TCP", name };
            // `None`: a client outside the cluster, of no namespace.
            let client = match (f, &from) {
                (Some(f), _) => Some(Endpoint { ns: cx.objects[f].ns(), labels: stack.labels_of(f) }),
                (None, Side::Namespace(ns, ..)) => Some(Endpoint { ns, labels: &empty }),
                (None, Side::Internet) => None,
                _ => return Err(format!("{} cannot start a connection", c.from)),
            };
            if let Some(f) = f {
                let d = match (t, &to) {
                    (Some(t), _) => stack.table.decide(cx, f, Direction::Egress, (t, stack.endpoint(cx, t)), target),
                    (None, Side::Namespace(ns, ..)) => {
                        policies.decide(cx, f, Direction::Egress, Endpoint { ns, labels: &empty }, target)
                    }
                    (None, Side::Api) => policies.decide_anywhere(f, target),
                    (None, _) => policies.decide_external(f, target),
                };
                allowed_by.extend(admitted(cx, &d, Direction::Egress, f, c)?);
            }
            if let Some(t) = t {
                let d = match (f, client) {
                    (Some(f), _) => stack.table.decide(cx, t, Direction::Ingress, (f, stack.endpoint(cx, f)), target),
                    (None, Some(client)) => policies.decide(cx, t, Direction::Ingress, client, target),
                    (None, None) => policies.decide_from_anywhere(t, target),
                };
                allowed_by.extend(admitted(cx, &d, Direction::Ingress, t, c)?);
                let (account, token) = match &from {
                    Side::Namespace(_, a, t) => (*a, *t),
                    _ => (None, None),
                };
                allowed_by.extend(mesh(cx, f, client.map(|e| Peer { ns: e.ns, account, token }), t, c)?);
            }
        }
    }
    Ok(allowed_by.into_iter().collect())
}

/// `namespace/name (file)` of a policy object: the proof's sources are an
/// object each, and a line inside one would parse it again (see
/// `load::add_rendered`).
fn place(cx: &Manifests, object: usize) -> String {
    let o = &cx.objects[object];
    format!("{}/{} ({})", o.ns(), o.name, cx.source_name(o.source))
}

/// The rules admitting one side, or why none does.
fn admitted(
    cx: &Manifests,
    d: &Decision,
    dir: Direction,
    subject: usize,
    c: &Connection,
) -> Result<Vec<String>, String> {
    let o = &cx.objects[subject];
    let who = format!("{} {}/{}", o.kind, o.ns(), o.name);
    if d.answer == Tri::Yes {
        return Ok(d
            .rules
            .iter()
            .filter(|r| r.2 == Tri::Yes)
            .map(|&(p, i, _)| format!("NetworkPolicy {} {}[{i}]", place(cx, p), dir.field()))
            .collect());
    }
    let field = dir.field();
    // The workload's own policies; those selecting every pod of the
    // namespace (default deny, DNS) only isolate it.
    let own: Vec<usize> = d
        .isolating
        .iter()
        .copied()
        .filter(|&p| {
            let sel = cx.objects[p].value.at("/spec/podSelector");
            sel.is_some_and(|s| !crate::model::selector::Selector::of(s).is_empty())
        })
        .collect();
    let peer = match dir {
        Direction::Egress => format!("to {}", c.to),
        Direction::Ingress => format!("from {}", c.from),
    };
    if own.is_empty() {
        let deny: Vec<String> = d.isolating.iter().map(|&p| place(cx, p)).collect();
        return Err(format!(
            "{field} of {who}: no policy admits it {peer} on TCP {}: default deny in namespace {} (NetworkPolicy {})",
            c.port,
            o.ns(),
            deny.join(", ")
        ));
    }
    let names: Vec<String> = own.iter().map(|&p| place(cx, p)).collect();
    Err(format!(
        "{field} of {who}: no {field} rule of NetworkPolicy {} admits it {peer} on TCP {}",
        names.join(", "),
        c.port
    ))
}

/// Who calls, as the mesh sees it: its namespace, and its service account
/// and token when known.
struct Peer<'a> {
    ns: &'a str,
    account: Option<&'a str>,
    token: Option<&'a str>,
}

/// Istio's verdict when the server has a sidecar. `peer`: `None` for a
/// client outside the cluster.
fn mesh(
    cx: &Manifests,
    client: Option<usize>,
    peer: Option<Peer>,
    server: usize,
    c: &Connection,
) -> Result<Vec<String>, String> {
    if !authz::in_mesh(cx, server) {
        return Ok(Vec::new());
    }
    let caller = match (client, peer) {
        (Some(f), Some(p)) => Caller {
            namespace: p.ns.to_string(),
            service_account: Some(authz::service_account(cx, f)),
            mtls: authz::in_mesh(cx, f),
            request_principal: None,
        },
        // A peer of another namespace: its mesh identity, its account when known.
        (None, Some(p)) => Caller {
            namespace: p.ns.to_string(),
            service_account: p.account.map(str::to_string),
            mtls: true,
            request_principal: p.token.map(str::to_string),
        },
        // Outside the cluster: plaintext, no identity.
        (_, None) => Caller { namespace: String::new(), service_account: None, mtls: false, request_principal: None },
    };
    let request = Request {
        port: c.port,
        method: c.http.as_ref().map(|h| h.method.clone()),
        path: c.http.as_ref().map(|h| h.path.clone()),
    };
    let s = Server { object: server, namespace: cx.objects[server].ns(), labels: labels_of(cx, server) };
    let v = authz::decide(cx, &s, &caller, &request);
    if v.allowed { Ok(v.deciding) } else { Err(format!("the mesh refuses it: {}", v.reason)) }
}

/// Connections the NetworkPolicies open between the stack's workloads that
/// are not intended: (client, server, port) in words. A server's declared
/// ports are tried from every other workload of the stack.
pub fn unintended(cx: &Manifests, wanted: &[Connection]) -> Vec<String> {
    let policies = Policies::build_in(cx, World::Closed);
    let stack = Lookup::new(cx, &policies);
    let name = |o: usize| stack.labels_of(o).label("app.kubernetes.io/name").unwrap_or_default().to_string();
    let intended: BTreeSet<(String, String, String, String, u16)> = wanted
        .iter()
        .filter_map(|c| match (&c.from, &c.to) {
            (End::Workload { namespace: a, name: b }, End::Workload { namespace: x, name: y }) => {
                Some((a.clone(), b.clone(), x.clone(), y.clone(), c.port))
            }
            _ => None,
        })
        .collect();
    let templates: Vec<usize> = cx.index.templates.iter().map(|t| t.object).collect();
    let mut out = Vec::new();
    for &t in &templates {
        let Some(pod) = Pod::of(cx.objects, t) else { continue };
        let ports: BTreeSet<(i64, Option<&str>)> = pod
            .app_containers()
            .flat_map(|c| c.ports().filter(|p| p.2 == "TCP").map(|p| (p.0, p.1)).collect::<Vec<_>>())
            .collect();
        // Only the clients some ingress rule admits can be open (all of
        // them when a rule admits everyone).
        let clients = stack.table.peers(t, Direction::Ingress).unwrap_or_else(|| templates.clone());
        for &f in clients.iter().filter(|&&f| name(f) != name(t)) {
            for &(number, pname) in &ports {
                let target = Target { number, protocol: "TCP", name: pname };
                let open = stack.table.answer(cx, f, Direction::Egress, (t, stack.endpoint(cx, t)), target) == Tri::Yes
                    && stack.table.answer(cx, t, Direction::Ingress, (f, stack.endpoint(cx, f)), target) == Tri::Yes;
                let key =
                    (cx.objects[f].ns().to_string(), name(f), cx.objects[t].ns().to_string(), name(t), number as u16);
                if open && !intended.contains(&key) {
                    out.push(format!("{}/{} → {}/{} port {number}", key.0, key.1, key.2, key.3));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
