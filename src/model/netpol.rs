//! NetworkPolicy semantics, shared by the network checks, `reach` and `graph`.
//!
//! A pod is isolated for ingress (egress) when at least one policy of its
//! namespace selects it and lists `Ingress` (`Egress`) in its policy types;
//! then traffic is allowed when the union of those policies' rules allows it.
//! Peers are `podSelector` (same namespace as the policy), `namespaceSelector`
//! (matched against the Namespace objects of the set, plus the automatic
//! `kubernetes.io/metadata.name` label) with an optional `podSelector`, and
//! `ipBlock`. Ports are numbers, ranges (`endPort`) and names (resolved on the
//! destination pod).
//!
//! Answers are three-valued: when the set does not show enough to decide
//! (the labels of a Namespace it does not define, an ipBlock that may hold
//! pod addresses depending on the network plugin), the answer is
//! [`Tri::Maybe`], and checks report only a definite [`Tri::No`]. That is the
//! [`World::Open`] reading; `kubeproof reach` uses [`World::Closed`]: the set
//! is the whole cluster (a namespace has only the labels its Namespace object
//! shows, plus its name label) and ipBlocks match cluster-external addresses
//! only, never pods — the documented intent of ipBlock, since pod addresses
//! are ephemeral and whether a plugin matches them is left undefined.

use std::collections::{BTreeMap, HashMap};

use crate::model::Value;

use super::selector::{LabelSet, Labels, Selector};
use super::{At, Manifests, Pod};

/// The label every namespace gets with its own name.
pub const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// Yes, no, or cannot tell from the checked set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tri {
    No,
    Maybe,
    Yes,
}

impl Tri {
    pub fn and(self, o: Tri) -> Tri {
        self.min(o)
    }

    pub fn or(self, o: Tri) -> Tri {
        self.max(o)
    }

    pub fn of(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }
}

/// How much the checked set is assumed to show of the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum World {
    /// Other objects may exist (checks): what the set does not show is [`Tri::Maybe`].
    #[default]
    Open,
    /// The set is everything (`reach`): every answer is yes or no.
    Closed,
}

/// One NetworkPolicy, read.
#[derive(Debug)]
pub struct Policy<'a> {
    pub object: usize,
    pub ns: &'a str,
    /// `spec.podSelector` (empty when absent: every pod).
    pub selector: Selector<'a>,
    pub ingress: bool,
    pub egress: bool,
    pub ingress_rules: &'a [Value],
    pub egress_rules: &'a [Value],
    /// `ingress_rules` and `egress_rules`, read.
    pub read_ingress: Vec<Rule<'a>>,
    pub read_egress: Vec<Rule<'a>>,
    /// The first policy (index in [`Policies::all`]) of the same namespace
    /// and spec: policies of one class decide alike.
    pub class: usize,
}

impl<'a> Policy<'a> {
    pub fn read(cx: &'a Manifests, object: usize) -> Option<Policy<'a>> {
        let o = &cx.objects[object];
        let spec = o.value.get("spec")?;
        let rules = |f: &str| spec.get(f).and_then(Value::as_array).unwrap_or_default();
        let (ingress_rules, egress_rules) = (rules("ingress"), rules("egress"));
        // An empty list is defaulted like an absent one by the API server.
        let (ingress, egress) = match spec.get("policyTypes").and_then(Value::as_array).filter(|t| !t.is_empty()) {
            Some(types) => {
                let has = |t: &str| types.iter().any(|x| x.as_str() == Some(t));
                (has("Ingress"), has("Egress"))
            }
            // Without policyTypes: Ingress always, Egress when there are egress rules.
            None => (true, !egress_rules.is_empty()),
        };
        Some(Policy {
            object,
            ns: o.ns(),
            selector: spec.get("podSelector").map_or_else(Selector::default, Selector::of),
            ingress,
            egress,
            ingress_rules,
            egress_rules,
            read_ingress: ingress_rules.iter().map(|r| Rule::of(r, Direction::Ingress)).collect(),
            read_egress: egress_rules.iter().map(|r| Rule::of(r, Direction::Egress)).collect(),
            class: usize::MAX,
        })
    }

    /// Pointer to its `policyTypes` (or `podSelector`), where isolation is decided.
    pub fn types_ptr(&self, cx: &Manifests) -> &'static str {
        if cx.objects[self.object].value.at("/spec/policyTypes").is_some() {
            "/spec/policyTypes"
        } else {
            "/spec/podSelector"
        }
    }
}

/// Whether a namespace selector selects namespace `ns`. Without the
/// Namespace object in the set only its name label is known: requirements
/// on other labels make the answer [`Tri::Maybe`].
pub fn namespace_matches(cx: &Manifests, sel: &Value, ns: &str) -> Tri {
    namespace_matches_in(cx, sel, ns, World::Open)
}

/// [`namespace_matches`] in a given [`World`].
pub fn namespace_matches_in(cx: &Manifests, sel: &Value, ns: &str, world: World) -> Tri {
    namespace_selected(cx, &Selector::of(sel), ns, world)
}

/// [`namespace_matches_in`] for a selector already read.
fn namespace_selected(cx: &Manifests, selector: &Selector, ns: &str, world: World) -> Tri {
    if selector.is_empty() {
        return Tri::Yes;
    }
    let mut labels = BTreeMap::from([(NAME_LABEL.to_string(), ns.to_string())]);
    let defined = cx.index.get("Namespace", "", ns);
    if defined.is_some() || world == World::Closed {
        if let Some(l) = defined.and_then(|i| cx.objects[i].labels()) {
            labels.extend(l.iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))));
        }
        return Tri::of(selector.matches(&labels));
    }
    let mut unknown = false;
    for (k, v) in selector.pairs() {
        if *k == NAME_LABEL {
            if *v != Some(ns) {
                return Tri::No;
            }
        } else {
            unknown = true;
        }
    }
    for r in selector.requirements() {
        if r.key == NAME_LABEL {
            if !r.matches(&labels) {
                return Tri::No;
            }
        } else {
            unknown = true;
        }
    }
    if unknown { Tri::Maybe } else { Tri::Yes }
}

/// A pod as a peer: its namespace and labels.
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub ns: &'a str,
    pub labels: &'a dyn LabelSet,
}

/// Whether one `from`/`to` peer of a policy in `policy_ns` is `pod`.
pub fn peer_matches(cx: &Manifests, peer: &Value, policy_ns: &str, pod: Endpoint) -> Tri {
    peer_matches_in(cx, peer, policy_ns, pod, World::Open)
}

/// [`peer_matches`] in a given [`World`].
pub fn peer_matches_in(cx: &Manifests, peer: &Value, policy_ns: &str, pod: Endpoint, world: World) -> Tri {
    Peer::of(peer).matches(cx, policy_ns, pod, world)
}

/// One `from`/`to` peer, read once: a policy is asked about many pods.
#[derive(Debug)]
pub struct Peer<'a> {
    ip_block: Option<&'a Value>,
    pods: Option<Selector<'a>>,
    namespaces: Option<Selector<'a>>,
}

impl<'a> Peer<'a> {
    pub fn of(peer: &'a Value) -> Peer<'a> {
        // A selector written without a value (`namespaceSelector:`) is null: absent.
        let field = |f: &str| peer.get(f).filter(|v| !v.is_null());
        Peer {
            ip_block: field("ipBlock"),
            pods: field("podSelector").map(Selector::of),
            namespaces: field("namespaceSelector").map(Selector::of),
        }
    }

    /// Whether this peer of a policy in `policy_ns` is `pod`.
    pub fn matches(&self, cx: &Manifests, policy_ns: &str, pod: Endpoint, world: World) -> Tri {
        if let Some(block) = self.ip_block {
            return if world == World::Open && ip_block_may_hold_pods(block) { Tri::Maybe } else { Tri::No };
        }
        let pods = || self.pods.as_ref().map_or(Tri::Yes, |p| Tri::of(p.matches(pod.labels)));
        match &self.namespaces {
            Some(ns_sel) => namespace_selected(cx, ns_sel, pod.ns, world).and(pods()),
            None if self.pods.is_some() => Tri::of(pod.ns == policy_ns).and(pods()),
            None => Tri::No,
        }
    }
}

/// One rule of a policy, read once: its ports, and its peers (`None`: the
/// list is absent or empty, everyone).
#[derive(Debug)]
pub struct Rule<'a> {
    pub ports: Option<&'a Value>,
    pub peers: Option<Vec<Peer<'a>>>,
}

impl<'a> Rule<'a> {
    fn of(rule: &'a Value, direction: Direction) -> Rule<'a> {
        let peers = rule.get(direction.peers()).and_then(Value::as_array).filter(|l| !l.is_empty());
        Rule { ports: rule.get("ports"), peers: peers.map(|l| l.iter().map(Peer::of).collect()) }
    }

    /// Whether its peers admit `pod` (see [`peers_match_in`]).
    pub fn admits(&self, cx: &Manifests, policy_ns: &str, pod: Endpoint, world: World) -> Tri {
        match &self.peers {
            None => Tri::Yes,
            Some(list) => list.iter().fold(Tri::No, |acc, p| acc.or(p.matches(cx, policy_ns, pod, world))),
        }
    }
}

/// Whether a rule's `from`/`to` list admits `pod` (absent or empty: everyone).
pub fn peers_match(cx: &Manifests, peers: Option<&Value>, policy_ns: &str, pod: Endpoint) -> Tri {
    peers_match_in(cx, peers, policy_ns, pod, World::Open)
}

/// [`peers_match`] in a given [`World`].
pub fn peers_match_in(cx: &Manifests, peers: Option<&Value>, policy_ns: &str, pod: Endpoint, world: World) -> Tri {
    match peers.and_then(Value::as_array) {
        None => Tri::Yes,
        Some([]) => Tri::Yes,
        Some(list) => list.iter().fold(Tri::No, |acc, p| acc.or(peer_matches_in(cx, p, policy_ns, pod, world))),
    }
}

/// Whether a `from`/`to` list admits every pod of every namespace: absent or
/// empty, or a peer with an empty `namespaceSelector` and no (or an empty)
/// `podSelector`, or an ipBlock of every address without exceptions.
pub fn peers_admit_all(peers: Option<&Value>) -> bool {
    let Some(list) = peers.and_then(Value::as_array).filter(|l| !l.is_empty()) else { return true };
    list.iter().any(|p| {
        let all_ns = p.get("namespaceSelector").is_some_and(|n| !n.is_null() && Selector::of(n).is_empty())
            && p.get("podSelector").is_none_or(|s| s.is_null() || Selector::of(s).is_empty());
        let every_address = p.get("ipBlock").is_some_and(|b| {
            matches!(b.get("cidr").and_then(Value::as_str), Some("0.0.0.0/0" | "::/0"))
                && b.get("except").and_then(Value::as_array).is_none_or(|e| e.is_empty())
        });
        all_ns || every_address
    })
}

/// Whether an egress `to` list admits every public address: absent or
/// empty, or an ipBlock of the whole IPv4 space whose exceptions all lie in
/// private ranges.
pub fn peers_reach_internet(peers: Option<&Value>) -> bool {
    let Some(list) = peers.and_then(Value::as_array).filter(|l| !l.is_empty()) else { return true };
    let private: Vec<(u32, u32)> = PRIVATE_RANGES.iter().filter_map(|p| parse_v4(p)).collect();
    list.iter().filter_map(|p| p.get("ipBlock")).any(|b| {
        b.get("cidr").and_then(Value::as_str) == Some("0.0.0.0/0")
            && b.get("except")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .all(|e| e.as_str().and_then(parse_v4).is_some_and(|e| private.iter().any(|&r| contains(r, e))))
    })
}

/// Whether a rule's `ports` list is absent or empty (every port).
pub fn every_port(ports: Option<&Value>) -> bool {
    ports.and_then(Value::as_array).is_none_or(|l| l.is_empty())
}

/// A destination port: its number and protocol, and the name the destination
/// pod gives it (named policy ports match only declared names).
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub number: i64,
    pub protocol: &'a str,
    pub name: Option<&'a str>,
}

/// Whether a rule's `ports` list admits `t` (absent or empty: every port).
pub fn ports_allow(ports: Option<&Value>, t: Target) -> bool {
    let Some(list) = ports.and_then(Value::as_array).filter(|l| !l.is_empty()) else { return true };
    list.iter().any(|p| {
        let protocol = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
        protocol == t.protocol
            && match p.get("port") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => {
                    let from = n.as_i64().unwrap_or(-1);
                    let to = p.get("endPort").and_then(Value::as_i64).unwrap_or(from);
                    (from..=to).contains(&t.number)
                }
                Some(Value::String(s)) => match s.parse::<i64>() {
                    Ok(n) => n == t.number,
                    Err(_) => t.name == Some(s.as_str()),
                },
                _ => false,
            }
    })
}

/// Whether an ipBlock may contain pod addresses: in-cluster traffic is
/// matched by ipBlocks or not depending on the network plugin, so a block
/// that overlaps a private range (and does not except all of it) is a Maybe;
/// other blocks are external addresses and never match a pod.
pub fn ip_block_may_hold_pods(block: &Value) -> bool {
    let Some(cidr) = block.get("cidr").and_then(Value::as_str) else { return false };
    let Some(net) = parse_v4(cidr) else {
        // IPv6: the whole space, or unique local addresses.
        return cidr.ends_with("/0") || cidr.to_ascii_lowercase().starts_with("fd") || cidr.starts_with("fc");
    };
    let excepts: Vec<(u32, u32)> = block
        .get("except")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|e| parse_v4(e.as_str()?))
        .collect();
    PRIVATE_RANGES.iter().filter_map(|p| parse_v4(p)).any(|r| {
        let overlap = intersect(net, r);
        overlap.is_some_and(|o| !excepts.iter().any(|&e| contains(e, o)))
    })
}

/// Private ranges and the shared address space (RFC 6598) pods may get.
pub const PRIVATE_RANGES: [&str; 4] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

/// `a.b.c.d/n` → (network, mask).
fn parse_v4(cidr: &str) -> Option<(u32, u32)> {
    let (addr, len) = cidr.split_once('/')?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32)?;
    let ip: std::net::Ipv4Addr = addr.parse().ok()?;
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    Some((u32::from(ip) & mask, mask))
}

/// The smaller of two networks when they overlap (CIDRs nest or are disjoint).
fn intersect(a: (u32, u32), b: (u32, u32)) -> Option<(u32, u32)> {
    if contains(a, b) {
        Some(b)
    } else if contains(b, a) {
        Some(a)
    } else {
        None
    }
}

/// Whether network `outer` contains network `inner`.
fn contains(outer: (u32, u32), inner: (u32, u32)) -> bool {
    inner.1 & outer.1 == outer.1 && inner.0 & outer.1 == outer.0
}

/// Which way traffic crosses a pod: into it, or out of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Ingress,
    Egress,
}

/// A hash of a namespace and a value (a policy's spec, its pod selector):
/// equal values hash alike.
fn content_hash(ns: &str, value: Option<&Value>) -> u64 {
    use std::hash::{Hash, Hasher};
    fn walk(v: &Value, h: &mut impl Hasher) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Number(n) => (2u8, n).hash(h),
            Value::String(s) => (3u8, s.as_str()).hash(h),
            Value::Array(items) => {
                (4u8, items.len()).hash(h);
                items.iter().for_each(|v| walk(v, h));
            }
            Value::Object(m) => {
                (5u8, m.len()).hash(h);
                for (k, v) in m.iter() {
                    k.as_str().hash(h);
                    walk(v, h);
                }
            }
        }
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ns.hash(&mut h);
    match value {
        Some(v) => walk(v, &mut h),
        None => 6u8.hash(&mut h),
    }
    h.finish()
}

impl Direction {
    /// `ingress` / `egress`: the spec field holding the rules.
    pub fn field(self) -> &'static str {
        match self {
            Direction::Ingress => "ingress",
            Direction::Egress => "egress",
        }
    }

    /// `from` / `to`: the rule field holding the peers.
    pub fn peers(self) -> &'static str {
        match self {
            Direction::Ingress => "from",
            Direction::Egress => "to",
        }
    }
}

/// What the policies isolating one side of a connection decide, and which
/// policies and rules decide it.
#[derive(Debug, Clone)]
pub struct Decision {
    pub answer: Tri,
    /// The policies (objects) isolating the pods for this direction; empty:
    /// not isolated, everything is allowed.
    pub isolating: Vec<usize>,
    /// The rules that admit the connection: (policy object, rule index, answer
    /// — Maybe when it depends on what the set does not show).
    pub rules: Vec<(usize, usize, Tri)>,
}

/// What the first policy of `bucket` (policies whose content has one hash,
/// each with what it stands for) that `alike` accepts stands for; when
/// none does, policy `n` joins the bucket, standing for `new`.
fn first_alike(bucket: &mut Vec<(usize, usize)>, alike: impl Fn(usize) -> bool, n: usize, new: usize) -> usize {
    match bucket.iter().find(|&&(c, _)| alike(c)) {
        Some(&(_, v)) => v,
        None => {
            bucket.push((n, new));
            new
        }
    }
}

/// Every policy of the set, and what it takes to find, for a pod template,
/// the policies isolating it.
///
/// Nothing is stored per (template, policy) pair: a set of N workloads and P
/// policies that all select every pod would need N×P entries. Instead the
/// policies of a namespace are grouped by their `podSelector` (policies
/// written from one pattern share it), and a query tests each group once.
#[derive(Debug, Default)]
pub struct Policies<'a> {
    pub all: Vec<Policy<'a>>,
    pub world: World,
    /// namespace → its policies (indexes into `all`, in object order) and its
    /// distinct pod selectors, each with the policies written with it.
    by_ns: HashMap<&'a str, Namespace<'a>>,
    /// Pod template (by object) → its namespace and labels; templates on the
    /// node's network are left out (no policy applies to them).
    templates: HashMap<usize, (&'a str, &'a Labels)>,
}

#[derive(Debug, Default)]
struct Namespace<'a> {
    policies: Vec<usize>,
    /// (selector, the group of each policy in `policies` is its index here).
    selectors: Vec<Selector<'a>>,
    group: Vec<usize>,
}

impl<'a> Policies<'a> {
    /// The policies of the set, read as the checks do ([`World::Open`]).
    pub fn build(cx: &'a Manifests) -> Policies<'a> {
        Self::build_in(cx, World::Open)
    }

    pub fn build_in(cx: &'a Manifests, world: World) -> Policies<'a> {
        let mut p = Policies { world, ..Policies::default() };
        // Policies of identical content (namespace and spec) decide alike:
        // `decide` evaluates one of each class. Found by a hash of the
        // content, then compared: a copy of each spec as text, to be the
        // key, took 46 bytes an object of the benchmark corpus at the peak.
        let spec_of = |i: usize| cx.objects[i].value.get("spec");
        let selector_of = |i: usize| spec_of(i).and_then(|s| s.get("podSelector"));
        // (namespace, spec) → its class; (namespace, selector) → its group.
        let mut classes: HashMap<u64, Vec<(usize, usize)>> = HashMap::new();
        let mut selector_keys: HashMap<u64, Vec<(usize, usize)>> = HashMap::new();
        for &i in cx.index.of_kind("NetworkPolicy") {
            let Some(mut policy) = Policy::read(cx, i) else { continue };
            let n = p.all.len();
            let spec = spec_of(i);
            let bucket = classes.entry(content_hash(policy.ns, spec)).or_default();
            policy.class = first_alike(bucket, |c| p.all[c].ns == policy.ns && spec_of(p.all[c].object) == spec, n, n);
            let selector = selector_of(i);
            let ns = p.by_ns.entry(policy.ns).or_default();
            let next = ns.selectors.len();
            let bucket = selector_keys.entry(content_hash(policy.ns, selector)).or_default();
            let alike = |c: usize| p.all[c].ns == policy.ns && selector_of(p.all[c].object) == selector;
            let group = first_alike(bucket, alike, n, next);
            if group == next {
                ns.selectors.push(policy.selector.clone());
            }
            ns.policies.push(n);
            ns.group.push(group);
            p.all.push(policy);
        }
        if !p.all.is_empty() {
            for t in &cx.index.templates {
                if !host_network(cx, t.object) {
                    p.templates.insert(t.object, (cx.objects[t.object].ns(), &t.labels));
                }
            }
        }
        p
    }

    /// Policies isolating the pods of `object` for ingress.
    pub fn ingress(&self, object: usize) -> impl Iterator<Item = &Policy<'a>> {
        self.isolating(object, Direction::Ingress)
    }

    /// Policies isolating the pods of `object` for egress.
    pub fn egress(&self, object: usize) -> impl Iterator<Item = &Policy<'a>> {
        self.isolating(object, Direction::Egress)
    }

    /// Policies isolating the pods of `object` in `direction`, in object order.
    pub fn isolating(&self, object: usize, direction: Direction) -> impl Iterator<Item = &Policy<'a>> {
        let selecting = self.templates.get(&object).and_then(|&(ns, labels)| {
            let ns = self.by_ns.get(ns)?;
            let hit: Vec<bool> = ns.selectors.iter().map(|s| s.matches(labels)).collect();
            Some((ns, hit))
        });
        selecting
            .into_iter()
            .flat_map(|(ns, hit)| ns.policies.iter().zip(&ns.group).filter(move |(_, g)| hit[**g]).map(|(n, _)| *n))
            .map(|n| &self.all[n])
            .filter(move |p| match direction {
                Direction::Ingress => p.ingress,
                Direction::Egress => p.egress,
            })
    }

    /// Whether the pods of `object` may exchange traffic with `peer` on
    /// `port` in `direction` (ingress: `peer` is the client; egress: the
    /// server), as the union of the rules of the policies isolating them.
    pub fn decide(
        &self,
        cx: &Manifests,
        object: usize,
        direction: Direction,
        peer: Endpoint,
        port: Target,
    ) -> Decision {
        decision(self.isolating(object, direction), |p| self.admitting(cx, p, direction, peer, port))
    }

    /// [`Self::decide`]'s answer alone: it stops at the first rule that
    /// admits the connection.
    pub fn answer(&self, cx: &Manifests, object: usize, direction: Direction, peer: Endpoint, port: Target) -> Tri {
        first_answer(self.isolating(object, direction), |p| self.admitting(cx, p, direction, peer, port))
    }

    /// The rules of `p` (by index) that may admit the connection, and how surely.
    fn admitting(
        &self,
        cx: &Manifests,
        p: &Policy,
        direction: Direction,
        peer: Endpoint,
        port: Target,
    ) -> Vec<(usize, Tri)> {
        let rules = match direction {
            Direction::Ingress => &p.read_ingress,
            Direction::Egress => &p.read_egress,
        };
        let matching = rules.iter().enumerate().filter(|(_, r)| ports_allow(r.ports, port));
        matching.map(|(i, r)| (i, r.admits(cx, p.ns, peer, self.world))).filter(|(_, m)| *m != Tri::No).collect()
    }

    /// Whether the pods of `object` may send to an address outside the
    /// cluster on `port`: a host known by name, so only a rule that admits
    /// every public address proves it (no `to`, or an ipBlock of everything
    /// but private ranges).
    pub fn decide_external(&self, object: usize, port: Target) -> Decision {
        let mut d = Decision { answer: Tri::No, isolating: Vec::new(), rules: Vec::new() };
        for p in self.isolating(object, Direction::Egress) {
            d.isolating.push(p.object);
            for (i, r) in p.egress_rules.iter().enumerate() {
                if ports_allow(r.get("ports"), port) && peers_reach_internet(r.get("to")) {
                    d.rules.push((p.object, i, Tri::Yes));
                    d.answer = Tri::Yes;
                }
            }
        }
        if d.isolating.is_empty() {
            d.answer = Tri::Yes;
        }
        d
    }

    /// Whether the pods of `object` admit a client outside the cluster, of
    /// any address, on `port`: only a rule that admits every public address
    /// proves it (no `from`, or an ipBlock of everything, exceptions in
    /// private ranges only).
    pub fn decide_from_anywhere(&self, object: usize, port: Target) -> Decision {
        let mut d = Decision { answer: Tri::No, isolating: Vec::new(), rules: Vec::new() };
        for p in self.isolating(object, Direction::Ingress) {
            d.isolating.push(p.object);
            for (i, r) in p.ingress_rules.iter().enumerate() {
                if ports_allow(r.get("ports"), port) && peers_reach_internet(r.get("from")) {
                    d.rules.push((p.object, i, Tri::Yes));
                    d.answer = Tri::Yes;
                }
            }
        }
        if d.isolating.is_empty() {
            d.answer = Tri::Yes;
        }
        d
    }

    /// Whether the pods of `object` may send to an address the set cannot
    /// place (the API server's: the cluster's, not a pod's) on `port`: only a
    /// rule without `to` (every destination) proves it.
    pub fn decide_anywhere(&self, object: usize, port: Target) -> Decision {
        let mut d = Decision { answer: Tri::No, isolating: Vec::new(), rules: Vec::new() };
        for p in self.isolating(object, Direction::Egress) {
            d.isolating.push(p.object);
            for (i, r) in p.egress_rules.iter().enumerate() {
                let anywhere = r.get("to").and_then(Value::as_array).is_none_or(|l| l.is_empty());
                if ports_allow(r.get("ports"), port) && anywhere {
                    d.rules.push((p.object, i, Tri::Yes));
                    d.answer = Tri::Yes;
                }
            }
        }
        if d.isolating.is_empty() {
            d.answer = Tri::Yes;
        }
        d
    }

    /// Whether the pods of `server` admit `client` on `port` (ingress side).
    pub fn admits(&self, cx: &Manifests, server: usize, client: Endpoint, port: Target) -> Tri {
        self.answer(cx, server, Direction::Ingress, client, port)
    }

    /// Whether the pods of `client` may send to `server` on `port` (egress side).
    pub fn emits(&self, cx: &Manifests, client: usize, server: Endpoint, port: Target) -> Tri {
        self.answer(cx, client, Direction::Egress, server, port)
    }
}

/// The decision of the `isolating` policies, given the rules (index,
/// answer) each admits; policies of one class are asked once.
pub(super) fn decision<'p, 'a: 'p>(
    isolating: impl Iterator<Item = &'p Policy<'a>>,
    mut admitting: impl FnMut(&Policy<'a>) -> Vec<(usize, Tri)>,
) -> Decision {
    let mut d = Decision { answer: Tri::No, isolating: Vec::new(), rules: Vec::new() };
    let mut seen = Classes::default();
    for p in isolating {
        d.isolating.push(p.object);
        for &(i, m) in seen.get(p.class, || admitting(p)) {
            d.rules.push((p.object, i, m));
            d.answer = d.answer.or(m);
        }
    }
    if d.isolating.is_empty() {
        d.answer = Tri::Yes;
    }
    d
}

/// [`decision`]'s answer alone: it stops at the first rule that admits.
pub(super) fn first_answer<'p, 'a: 'p>(
    isolating: impl Iterator<Item = &'p Policy<'a>>,
    mut admitting: impl FnMut(&Policy<'a>) -> Vec<(usize, Tri)>,
) -> Tri {
    let (mut isolated, mut answer) = (false, Tri::No);
    let mut seen = Classes::default();
    for p in isolating {
        isolated = true;
        answer = seen.get(p.class, || admitting(p)).iter().fold(answer, |a, r| a.or(r.1));
        if answer == Tri::Yes {
            break;
        }
    }
    if isolated { answer } else { Tri::Yes }
}

/// What each class of policies admits within one question, evaluated once
/// per class; runs of one class (policies written from one pattern) skip the
/// lookup.
#[derive(Default)]
struct Classes {
    /// The class asked last, and its slot in `answers`.
    last: Option<(usize, usize)>,
    slots: HashMap<usize, usize>,
    answers: Vec<Vec<(usize, Tri)>>,
}

impl Classes {
    fn get(&mut self, class: usize, evaluate: impl FnOnce() -> Vec<(usize, Tri)>) -> &[(usize, Tri)] {
        let slot = match self.last {
            Some((c, slot)) if c == class => slot,
            _ => {
                let next = self.answers.len();
                let slot = *self.slots.entry(class).or_insert(next);
                if slot == next {
                    self.answers.push(evaluate());
                }
                self.last = Some((class, slot));
                slot
            }
        };
        &self.answers[slot]
    }
}

/// Policies do not apply to pods on the node's network (undefined behaviour
/// that most network plugins resolve by ignoring them).
pub fn host_network(cx: &Manifests, object: usize) -> bool {
    Pod::of(cx.objects, object).and_then(|p| p.get("hostNetwork")).and_then(Value::as_bool).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::value as json;

    #[test]
    fn policies_share_a_class_only_with_the_same_namespace_and_spec() {
        let text = |ns: &str, port: u16, name: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: {name}, namespace: {ns}}}\n\
                 spec: {{podSelector: {{matchLabels: {{app: a}}}}, ingress: [{{ports: [{{port: {port}}}]}}]}}\n"
            )
        };
        // (`y` alone would be YAML 1.1's `true`.)
        let docs = [text("x", 80, "a"), text("x", 80, "b"), text("z", 80, "c"), text("x", 81, "d"), text("x", 81, "e")];
        let mut loaded = crate::model::Loaded::default();
        let source = crate::model::Source { name: "p.yaml".into(), text: docs.join("---\n") };
        crate::model::load::add_source(&mut loaded, source);
        let manifests = Manifests::new(&loaded);
        let p = Policies::build(&manifests);
        let classes: Vec<usize> = p.all.iter().map(|p| p.class).collect();
        // a and b alike; c in another namespace; d and e alike, not as a.
        assert_eq!(classes, [0, 0, 2, 3, 3]);
        // One pod selector per namespace, shared by its policies.
        assert_eq!(p.by_ns["x"].selectors.len(), 1);
        assert_eq!(p.by_ns["x"].group, [0, 0, 0, 0]);
        assert_eq!(p.by_ns["z"].selectors.len(), 1);
    }

    #[test]
    fn ip_blocks() {
        assert!(ip_block_may_hold_pods(&json!({"cidr": "0.0.0.0/0"})));
        assert!(ip_block_may_hold_pods(&json!({"cidr": "10.0.0.0/16"})));
        assert!(!ip_block_may_hold_pods(&json!({"cidr": "203.0.113.0/24"})));
        let external =
            json!({"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]});
        assert!(!ip_block_may_hold_pods(&external));
        let partly = json!({"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8"]});
        assert!(ip_block_may_hold_pods(&partly));
    }

    #[test]
    fn internet() {
        assert!(peers_reach_internet(None));
        let public = json!([{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "192.168.0.0/16"]}}]);
        assert!(peers_reach_internet(Some(&public)));
        let narrow = json!([{"ipBlock": {"cidr": "203.0.113.0/24"}}]);
        assert!(!peers_reach_internet(Some(&narrow)));
        let cut = json!([{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["8.8.8.0/24"]}}]);
        assert!(!peers_reach_internet(Some(&cut)));
        let pods = json!([{"namespaceSelector": {}}]);
        assert!(!peers_reach_internet(Some(&pods)));
    }

    #[test]
    fn ports() {
        let t = Target { number: 8080, protocol: "TCP", name: Some("http") };
        assert!(ports_allow(None, t));
        assert!(ports_allow(Some(&json!([{"port": 8080}])), t));
        assert!(ports_allow(Some(&json!([{"port": 8000, "endPort": 8100}])), t));
        assert!(ports_allow(Some(&json!([{"port": "http"}])), t));
        assert!(!ports_allow(Some(&json!([{"port": "web"}])), t));
        assert!(!ports_allow(Some(&json!([{"port": 8080, "protocol": "UDP"}])), t));
        assert!(!ports_allow(Some(&json!([{"port": 9090}])), t));
    }
}
