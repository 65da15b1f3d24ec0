//! NetworkPolicy rules indexed by the pod templates they admit as peers:
//! [`Policies::decide`] reads every rule of the policies isolating a pod and
//! matches each peer's selectors anew (a namespace lookup, a label map, a
//! parsed selector per peer), so asking it for every connection of a dense
//! `uses` graph (service i uses every later one, one rule per edge) was
//! cubic in services: 200 took 71 s in `gen`. Here each rule's peers are
//! looked up once in the label index; a question costs the rules of its
//! policies that admit that peer. Rules whose peers select many templates
//! are not expanded (memory stays linear in the rules): they are evaluated
//! per question as before.
//!
//! [`Table::decide`] answers as [`Policies::decide`] does for pod-template
//! peers, in either [`World`] (`tests/policy_table.rs` holds them equal on
//! every pair of templates of every example).

use std::collections::HashMap;

use crate::model::Value;

use super::Manifests;
use super::netpol::{
    Decision, Direction, Endpoint, Policies, Policy, Target, Tri, World, decision, first_answer,
    ip_block_may_hold_pods, namespace_matches_in, ports_allow,
};
use super::selector::Selector;

/// Past this many templates per listed peer, a rule's peers are evaluated per
/// question (an empty `podSelector` may match thousands).
const BROAD: usize = 64;

/// The rules of [`Policies`], by (policy class, ingress?).
pub struct Table<'p, 'a> {
    policies: &'p Policies<'a>,
    rules: HashMap<(usize, bool), Rules>,
}

/// One policy's rules for one direction.
#[derive(Default)]
struct Rules {
    /// peer template (object) → (rule index, answer).
    by_peer: HashMap<usize, Vec<(usize, Tri)>>,
    /// Rules with the same answer for every peer (no `from`/`to`: yes; an
    /// ipBlock that may hold pod addresses: maybe), besides `by_peer`.
    everyone: Vec<(usize, Tri)>,
    /// Rules whose peers select more than [`BROAD`] templates per peer.
    broad: Vec<usize>,
}

impl<'p, 'a> Table<'p, 'a> {
    pub fn new(cx: &Manifests, policies: &'p Policies<'a>) -> Table<'p, 'a> {
        let mut namespaces: Vec<&str> = cx.index.templates.iter().map(|t| cx.objects[t.object].ns()).collect();
        namespaces.sort_unstable();
        namespaces.dedup();
        let mut rules = HashMap::new();
        // Policies of one class (namespace and spec) have the same rules:
        // indexed once (thousands of copies of one policy are common).
        for p in &policies.all {
            for (dir, isolates) in [(Direction::Ingress, p.ingress), (Direction::Egress, p.egress)] {
                let key = (p.class, dir == Direction::Ingress);
                if isolates && !rules.contains_key(&key) {
                    rules.insert(key, index_rules(cx, &namespaces, policies.world, p, dir));
                }
            }
        }
        Table { policies, rules }
    }

    /// [`Policies::decide`] for `object`'s pods and the pods of template
    /// `peer` (the server for egress, the client for ingress), whose
    /// namespace and labels are `endpoint`.
    pub fn decide(
        &self,
        cx: &Manifests,
        object: usize,
        direction: Direction,
        (peer, endpoint): (usize, Endpoint),
        port: Target,
    ) -> Decision {
        decision(self.policies.isolating(object, direction), |p| {
            self.admitting(cx, p, direction, (peer, endpoint), port)
        })
    }

    /// [`Self::decide`]'s answer alone: it stops at the first rule that
    /// admits the connection.
    pub fn answer(
        &self,
        cx: &Manifests,
        object: usize,
        direction: Direction,
        (peer, endpoint): (usize, Endpoint),
        port: Target,
    ) -> Tri {
        first_answer(self.policies.isolating(object, direction), |p| {
            self.admitting(cx, p, direction, (peer, endpoint), port)
        })
    }

    /// The rules of `p` admitting `peer` on `port` (rule order, each once
    /// with its best answer).
    fn admitting(
        &self,
        cx: &Manifests,
        p: &Policy,
        direction: Direction,
        (peer, endpoint): (usize, Endpoint),
        port: Target,
    ) -> Vec<(usize, Tri)> {
        let Some(rules) = self.rules.get(&(p.class, direction == Direction::Ingress)) else { return Vec::new() };
        let read = match direction {
            Direction::Ingress => &p.read_ingress,
            Direction::Egress => &p.read_egress,
        };
        let mut found: Vec<(usize, Tri)> = rules.everyone.clone();
        found.extend(rules.by_peer.get(&peer).into_iter().flatten().copied());
        for &i in &rules.broad {
            found.push((i, read[i].admits(cx, p.ns, endpoint, self.policies.world)));
        }
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        found.dedup_by_key(|f| f.0);
        found.retain(|&(i, m)| m != Tri::No && ports_allow(read[i].ports, port));
        found
    }

    /// The templates (objects) some rule of `object`'s isolating policies
    /// may admit as peer in `direction`; `None`: any (not isolated, or a rule
    /// admitting every peer or evaluated per question).
    pub fn peers(&self, object: usize, direction: Direction) -> Option<Vec<usize>> {
        let mut out = Vec::new();
        let mut isolated = false;
        for p in self.policies.isolating(object, direction) {
            isolated = true;
            let Some(rules) = self.rules.get(&(p.class, direction == Direction::Ingress)) else { continue };
            if !rules.everyone.is_empty() || !rules.broad.is_empty() {
                return None;
            }
            out.extend(rules.by_peer.keys().copied());
        }
        if !isolated {
            return None;
        }
        out.sort_unstable();
        out.dedup();
        Some(out)
    }
}

fn rules_of<'a>(p: &Policy<'a>, dir: Direction) -> &'a [Value] {
    match dir {
        Direction::Ingress => p.ingress_rules,
        Direction::Egress => p.egress_rules,
    }
}

fn index_rules(cx: &Manifests, namespaces: &[&str], world: World, p: &Policy, dir: Direction) -> Rules {
    let mut rules = Rules::default();
    for (i, r) in rules_of(p, dir).iter().enumerate() {
        match peers_of(cx, namespaces, world, p, r.get(dir.peers())) {
            Peers::Everyone => rules.everyone.push((i, Tri::Yes)),
            Peers::Broad => rules.broad.push(i),
            Peers::Some { everyone, matched } => {
                if everyone != Tri::No {
                    rules.everyone.push((i, everyone));
                }
                for (t, m) in matched {
                    rules.by_peer.entry(t).or_default().push((i, m));
                }
            }
        }
    }
    rules
}

/// Whom a rule's `from`/`to` admits.
enum Peers {
    /// Absent or empty: every pod.
    Everyone,
    /// More than [`BROAD`] templates per listed peer.
    Broad,
    /// `everyone`: the answer for any pod (an ipBlock that may hold pod
    /// addresses); `matched`: templates with their answers.
    Some { everyone: Tri, matched: HashMap<usize, Tri> },
}

/// As `peer_matches_in` reads each peer, for every template at once.
fn peers_of(cx: &Manifests, namespaces: &[&str], world: World, p: &Policy, peers: Option<&Value>) -> Peers {
    let Some(list) = peers.and_then(Value::as_array).filter(|l| !l.is_empty()) else { return Peers::Everyone };
    let mut everyone = Tri::No;
    let mut matched: HashMap<usize, Tri> = HashMap::new();
    let empty = Selector::default();
    for peer in list {
        if let Some(block) = peer.get("ipBlock").filter(|v| !v.is_null()) {
            if world == World::Open && ip_block_may_hold_pods(block) {
                everyone = Tri::Maybe;
            }
            continue;
        }
        let pod_sel = peer.get("podSelector").filter(|v| !v.is_null()).map(Selector::of);
        let found: Vec<(usize, Tri)> = match peer.get("namespaceSelector").filter(|v| !v.is_null()) {
            Some(ns_sel) => namespaces
                .iter()
                .map(|ns| (ns, namespace_matches_in(cx, ns_sel, ns, world)))
                .filter(|(_, m)| *m != Tri::No)
                .flat_map(|(ns, m)| {
                    cx.index.selected(ns, pod_sel.as_ref().unwrap_or(&empty)).into_iter().map(move |t| (t.object, m))
                })
                .collect(),
            None => match &pod_sel {
                Some(sel) => cx.index.selected(p.ns, sel).into_iter().map(|t| (t.object, Tri::Yes)).collect(),
                None => Vec::new(),
            },
        };
        // A rule listing many peers is as large as what it matches.
        if found.len() > BROAD * list.len() {
            return Peers::Broad;
        }
        for (t, m) in found {
            let e = matched.entry(t).or_insert(Tri::No);
            *e = (*e).or(m);
        }
        // A rule listing many peers is as large as what it matches.
        if matched.len() > BROAD * list.len() {
            return Peers::Broad;
        }
    }
    Peers::Some { everyone, matched }
}
