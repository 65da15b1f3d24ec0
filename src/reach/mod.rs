//! Reachability between workloads under NetworkPolicies: for a client and a
//! server pod template, which ports and protocols the policies allow, and
//! which policies and rules decide it. The network checks (KP40x) and
//! `kubeproof reach` share this one model ([`crate::model::netpol`]).

use crate::model::At;
use crate::model::Manifests;
use crate::model::selector::{Labels, Selector};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::Value;
use serde_json::json;

use crate::model::Loaded;
use crate::model::netpol::{Decision, Direction, Endpoint, Policies, Target, Tri, World, ip_block_may_hold_pods};
use crate::model::pods::Pod;

/// A port of the destination: number, protocol, and the name its container gives it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Port {
    pub number: i64,
    pub protocol: String,
    pub name: Option<String>,
}

impl Port {
    fn target(&self) -> Target<'_> {
        Target { number: self.number, protocol: &self.protocol, name: self.name.as_deref() }
    }

    /// `TCP 5432 (postgres)`.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{} {} ({n})", self.protocol, self.number),
            None => format!("{} {}", self.protocol, self.number),
        }
    }
}

/// Where a policy or one of its rules is written.
#[derive(Debug, Clone)]
pub struct Place {
    /// `namespace/name` of the NetworkPolicy.
    pub policy: String,
    /// JSON pointer of the rule (`/spec/ingress/0`), or `""` for the policy.
    pub pointer: String,
    pub file: String,
    pub line: u32,
}

impl Place {
    fn new(cx: &Manifests, object: usize, pointer: String) -> Place {
        let o = &cx.objects[object];
        let at = if pointer.is_empty() { "/metadata/name" } else { &pointer };
        Place {
            policy: format!("{}/{}", o.ns(), o.name),
            file: cx.source_name(o.source).to_string(),
            line: o.pos(at).line,
            pointer,
        }
    }

    /// `shop/api egress[1] (policies.yaml:12)`.
    fn describe(&self) -> String {
        let rule = self
            .pointer
            .strip_prefix("/spec/")
            .and_then(|r| r.split_once('/'))
            .map_or(String::new(), |(dir, i)| format!(" {dir}[{i}]"));
        format!("{}{rule} ({}:{})", self.policy, self.file, self.line)
    }

    fn json(&self) -> serde_json::Value {
        json!({ "policy": self.policy, "pointer": self.pointer, "file": self.file, "line": self.line })
    }
}

/// What the policies of one side (the client's egress or the server's
/// ingress) decide.
#[derive(Debug, Clone)]
pub struct Side {
    pub direction: Direction,
    pub allowed: bool,
    /// Policies isolating the pods for this direction (empty: not isolated).
    pub isolated_by: Vec<Place>,
    /// Rules allowing the connection.
    pub allowed_by: Vec<Place>,
}

impl Side {
    fn new(cx: &Manifests, direction: Direction, d: &Decision) -> Side {
        Side {
            direction,
            allowed: d.answer == Tri::Yes,
            isolated_by: d.isolating.iter().map(|&o| Place::new(cx, o, String::new())).collect(),
            allowed_by: d
                .rules
                .iter()
                .filter(|r| r.2 == Tri::Yes)
                .map(|&(o, i, _)| Place::new(cx, o, format!("/spec/{}/{i}", direction.field())))
                .collect(),
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "allowed": self.allowed,
            "isolated": !self.isolated_by.is_empty(),
            "isolatedBy": self.isolated_by.iter().map(Place::json).collect::<Vec<_>>(),
            "allowedBy": self.allowed_by.iter().map(Place::json).collect::<Vec<_>>(),
        })
    }
}

/// The answer for one port.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub port: Port,
    /// Whether the destination declares this port on a container.
    pub declared: bool,
    pub allowed: bool,
    pub egress: Side,
    pub ingress: Side,
    /// What could change the answer that the manifests do not show.
    pub notes: Vec<String>,
}

/// A workload of the set: a pod template and the object carrying it.
#[derive(Debug, Clone)]
pub struct Workload {
    pub object: usize,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl Workload {
    fn of(cx: &Manifests, object: usize) -> Workload {
        let o = &cx.objects[object];
        Workload { object, kind: o.kind.to_string(), namespace: o.ns().to_string(), name: o.name.to_string() }
    }

    /// `Deployment shop/api`.
    pub fn describe(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }

    fn short(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    fn json(&self) -> serde_json::Value {
        json!({ "kind": self.kind, "namespace": self.namespace, "name": self.name })
    }
}

/// Which ports FROM may open on TO.
#[derive(Debug, Clone)]
pub struct Answer {
    pub from: Workload,
    pub to: Workload,
    pub verdicts: Vec<Verdict>,
    /// General remarks (hostNetwork pods, no declared ports).
    pub notes: Vec<String>,
}

impl Answer {
    /// Whether some asked port is allowed.
    pub fn allowed(&self) -> bool {
        self.verdicts.iter().any(|v| v.allowed)
    }

    /// The verdict for a port number and protocol.
    pub fn on(&self, number: i64, protocol: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.port.number == number && v.port.protocol == protocol)
    }

    /// The text report: one line per port.
    pub fn text(&self) -> String {
        let mut out = format!("{} → {}\n", self.from.describe(), self.to.describe());
        for v in &self.verdicts {
            let word = if v.allowed { "allowed" } else { "blocked" };
            let undeclared = if v.declared { "" } else { ", not a declared container port" };
            let _ = writeln!(out, "{word}: {}{undeclared}", v.port.label());
            for (side, subject, peer) in [(&v.egress, &self.from, &self.to), (&v.ingress, &self.to, &self.from)] {
                let _ = writeln!(out, "  {}", explain(side, subject, peer, &v.port));
            }
            for n in &v.notes {
                let _ = writeln!(out, "  note: {n}");
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }

    pub fn json(&self) -> serde_json::Value {
        json!({
            "from": self.from.json(),
            "to": self.to.json(),
            "allowed": self.allowed(),
            "ports": self.verdicts.iter().map(|v| json!({
                "port": v.port.number,
                "protocol": v.port.protocol,
                "name": v.port.name,
                "declared": v.declared,
                "allowed": v.allowed,
                "egress": v.egress.json(),
                "ingress": v.ingress.json(),
                "notes": v.notes,
            })).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }
}

/// One side of a verdict in words.
fn explain(side: &Side, subject: &Workload, peer: &Workload, port: &Port) -> String {
    let dir = side.direction.field();
    let (verb, prep) = match side.direction {
        Direction::Ingress => ("admits", "from"),
        Direction::Egress => ("allows", "to"),
    };
    if side.isolated_by.is_empty() {
        return format!(
            "{dir} of {}: not isolated (no NetworkPolicy of {} selects it for {dir}), everything allowed",
            subject.short(),
            subject.namespace
        );
    }
    if side.allowed {
        let rules: Vec<String> = side.allowed_by.iter().map(Place::describe).collect();
        return format!("{dir} of {}: allowed by NetworkPolicy {}", subject.short(), rules.join(", "));
    }
    let policies: Vec<String> = side.isolated_by.iter().map(Place::describe).collect();
    format!(
        "{dir} of {}: isolated by NetworkPolicy {}; no {dir} rule {verb} {} {prep} {}",
        subject.short(),
        policies.join(", "),
        port.label(),
        peer.short()
    )
}

/// Kinds carrying pod templates, by the names `kubectl` accepts.
fn kind_alias(s: &str) -> Option<&'static str> {
    Some(match s.to_ascii_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" => "Deployment",
        "statefulset" | "statefulsets" | "sts" => "StatefulSet",
        "daemonset" | "daemonsets" | "ds" => "DaemonSet",
        "replicaset" | "replicasets" | "rs" => "ReplicaSet",
        "replicationcontroller" | "replicationcontrollers" | "rc" => "ReplicationController",
        "job" | "jobs" => "Job",
        "cronjob" | "cronjobs" | "cj" => "CronJob",
        "pod" | "pods" | "po" => "Pod",
        "service" | "services" | "svc" => "Service",
        _ => return None,
    })
}

/// Finds the workload `spec` names: `NAME`, `NAMESPACE/NAME`, `KIND/NAME` or
/// `NAMESPACE/KIND/NAME`; a Service name stands for the one workload it selects.
pub fn find(cx: &Manifests, spec: &str) -> Result<usize, String> {
    let parts: Vec<&str> = spec.split('/').collect();
    let (ns, kind, name) = match parts[..] {
        [name] => (None, None, name),
        [a, name] => match kind_alias(a) {
            Some(k) => (None, Some(k), name),
            None => (Some(a), None, name),
        },
        [ns, k, name] => match kind_alias(k) {
            Some(k) => (Some(ns), Some(k), name),
            None => return Err(format!("`{spec}`: `{k}` is not a kind of workload (deployment, statefulset, …)")),
        },
        _ => return Err(format!("`{spec}`: write NAME, NAMESPACE/NAME, KIND/NAME or NAMESPACE/KIND/NAME")),
    };
    if name.is_empty() {
        return Err(format!("`{spec}`: no name"));
    }
    let fits = |o: &crate::model::Object| ns.is_none_or(|n| o.ns() == n) && o.name == name;
    let mut found: Vec<usize> = cx
        .index
        .templates
        .iter()
        .map(|t| t.object)
        .filter(|&i| fits(&cx.objects[i]) && kind.is_none_or(|k| cx.objects[i].kind == k))
        .collect();
    if found.is_empty() && kind.is_none_or(|k| k == "Service") {
        // A Service: the workload its selector picks.
        for &s in cx.index.of_kind("Service") {
            let o = &cx.objects[s];
            if !fits(o) {
                continue;
            }
            let Some(sel) = o.value.at("/spec/selector").and_then(Value::as_object).filter(|m| !m.is_empty()) else {
                continue;
            };
            found.extend(cx.index.selected(o.ns(), &Selector::of_labels(sel)).iter().map(|t| t.object));
        }
        found.sort_unstable();
        found.dedup();
    }
    if found.is_empty() && kind.is_none_or(|k| k == "Job") {
        // kubeproof names a job's Job `NAME-HASH` (a hash of its spec): the
        // description's name stands for it.
        let hashed = |o: &crate::model::Object| {
            o.kind == "Job"
                && ns.is_none_or(|n| o.ns() == n)
                && o.name.strip_prefix(name).and_then(|r| r.strip_prefix('-')).is_some_and(|h| {
                    h.len() == 8 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                })
        };
        found.extend(cx.index.templates.iter().map(|t| t.object).filter(|&i| hashed(&cx.objects[i])));
    }
    match found[..] {
        [one] => Ok(one),
        [] => {
            let names = cx.index.templates.iter().map(|t| cx.objects[t.object].name.as_str());
            let hint = crate::diag::did_you_mean(name, names).map_or(String::new(), |s| format!("; did you mean {s}?"));
            Err(format!("no workload `{spec}` in the manifests{hint}"))
        }
        _ => {
            let all: Vec<String> = found.iter().map(|&i| Workload::of(cx, i).describe()).collect();
            Err(format!("`{spec}` is ambiguous: {}; write NAMESPACE/NAME or KIND/NAME", all.join(", ")))
        }
    }
}

/// Ports the containers of a pod template declare (long-running ones), by
/// number and protocol.
pub fn declared_ports(cx: &Manifests, object: usize) -> Vec<Port> {
    let mut ports: BTreeMap<(i64, String), Option<String>> = BTreeMap::new();
    if let Some(pod) = Pod::of(cx.objects, object) {
        for c in pod.app_containers() {
            for (n, name, proto) in c.ports() {
                let e = ports.entry((n, proto.to_string())).or_default();
                if e.is_none() {
                    *e = name.map(str::to_string);
                }
            }
        }
    }
    ports.into_iter().map(|((number, protocol), name)| Port { number, protocol, name }).collect()
}

/// Reads `PORT`: `5432`, `53/UDP`, or a port name of the destination.
pub fn parse_port(cx: &Manifests, to: usize, spec: &str) -> Result<Port, String> {
    let declared = declared_ports(cx, to);
    let (p, proto) = match spec.split_once('/') {
        Some((p, proto)) => {
            let proto = proto.to_ascii_uppercase();
            if !["TCP", "UDP", "SCTP"].contains(&proto.as_str()) {
                return Err(format!("port `{spec}`: the protocol is TCP, UDP or SCTP"));
            }
            (p, Some(proto))
        }
        None => (spec, None),
    };
    if let Ok(number) = p.parse::<i64>() {
        if !(1..=65535).contains(&number) {
            return Err(format!("port `{spec}`: a port is between 1 and 65535"));
        }
        let protocol = proto.unwrap_or_else(|| "TCP".into());
        let name = declared.iter().find(|d| d.number == number && d.protocol == protocol).and_then(|d| d.name.clone());
        return Ok(Port { number, protocol, name });
    }
    declared
        .iter()
        .find(|d| d.name.as_deref() == Some(p) && proto.as_ref().is_none_or(|x| *x == d.protocol))
        .cloned()
        .ok_or_else(|| {
            let names: Vec<String> = declared.iter().map(Port::label).collect();
            format!(
                "port `{spec}`: {} declares no port named {p}{}",
                cx.objects[to].name,
                if names.is_empty() { String::new() } else { format!(" (its ports: {})", names.join(", ")) }
            )
        })
}

/// The verdict of the policies on `from` opening `port` on `to`.
pub fn verdict(cx: &Manifests, closed: &Policies, open: &Policies, from: usize, to: usize, port: &Port) -> Verdict {
    let t = port.target();
    let tf = &cx.index.templates;
    let labels = |o: usize| tf.iter().find(|x| x.object == o).map(|x| &x.labels);
    let empty = Labels::default();
    let client = Endpoint { ns: cx.objects[from].ns(), labels: labels(from).unwrap_or(&empty) };
    let server = Endpoint { ns: cx.objects[to].ns(), labels: labels(to).unwrap_or(&empty) };
    let e = closed.decide(cx, from, Direction::Egress, server, t);
    let i = closed.decide(cx, to, Direction::Ingress, client, t);
    let mut notes = Vec::new();
    // What an open reading would allow that the closed one does not: say why.
    for (closed_d, subject, dir, peer) in [(&e, from, Direction::Egress, server), (&i, to, Direction::Ingress, client)]
    {
        if closed_d.answer == Tri::Yes {
            continue;
        }
        let d = open.decide(cx, subject, dir, peer, t);
        for &(o, r, _) in d.rules.iter().filter(|r| r.2 == Tri::Maybe) {
            let p = Place::new(cx, o, format!("/spec/{}/{r}", dir.field()));
            notes.push(format!("NetworkPolicy {} would allow it {}", p.describe(), maybe_reason(cx, o, dir, r, peer)));
        }
    }
    let declared = declared_ports(cx, to).iter().any(|d| d.number == port.number && d.protocol == port.protocol);
    Verdict {
        port: port.clone(),
        declared,
        allowed: e.answer == Tri::Yes && i.answer == Tri::Yes,
        egress: Side::new(cx, Direction::Egress, &e),
        ingress: Side::new(cx, Direction::Ingress, &i),
        notes,
    }
}

/// Why a rule may match a peer when the set does not show enough.
fn maybe_reason(cx: &Manifests, policy: usize, dir: Direction, rule: usize, peer: Endpoint) -> String {
    let r = cx.objects[policy].value.at(&format!("/spec/{}/{rule}/{}", dir.field(), dir.peers()));
    for p in r.and_then(Value::as_array).into_iter().flatten() {
        if let Some(b) = p.get("ipBlock").filter(|b| ip_block_may_hold_pods(b)) {
            let cidr = b.get("cidr").and_then(Value::as_str).unwrap_or("?");
            return format!(
                "if the network plugin matched pod addresses against its ipBlock {cidr} (ipBlock is meant for \
                 cluster-external addresses; reach does not match pods with it)"
            );
        }
    }
    format!(
        "if namespace {} had labels its namespaceSelector requires (the manifests define no Namespace {} with them)",
        peer.ns, peer.ns
    )
}

/// Answers whether `from` may open `port` (every declared port of `to`
/// when `None`) on `to`.
pub fn reach(cx: &Manifests, from: &str, to: &str, port: Option<&str>) -> Result<Answer, String> {
    let (from, to) = (find(cx, from)?, find(cx, to)?);
    let ports = match port {
        Some(p) => vec![parse_port(cx, to, p)?],
        None => declared_ports(cx, to),
    };
    let closed = Policies::build_in(cx, World::Closed);
    let open = Policies::build_in(cx, World::Open);
    let mut notes = Vec::new();
    if ports.is_empty() {
        notes.push(format!(
            "{} declares no container ports: give PORT to ask about one",
            Workload::of(cx, to).describe()
        ));
    }
    for w in [from, to] {
        if crate::model::netpol::host_network(cx, w) {
            notes.push(format!(
                "{} runs on the node's network (hostNetwork): NetworkPolicies do not apply to it as a pod; \
                 what the network plugin does with its traffic is undefined",
                Workload::of(cx, w).describe()
            ));
        }
    }
    let verdicts = ports.iter().map(|p| verdict(cx, &closed, &open, from, to, p)).collect();
    Ok(Answer { from: Workload::of(cx, from), to: Workload::of(cx, to), verdicts, notes })
}

/// [`reach`] over loaded manifests.
pub fn query(loaded: &Loaded, from: &str, to: &str, port: Option<&str>) -> Result<Answer, String> {
    reach(&Manifests::new(loaded), from, to, port)
}
