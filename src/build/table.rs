//! The NetworkPolicy rules of a generated stack, indexed by the pod
//! templates they admit, for [`super::connections`]: asking
//! [`Policies::decide`] for every intended connection and every pair of
//! workloads read every rule of both sides' policies each time, which made a
//! dense `uses` graph (service i uses every later one) cubic in services
//! (200: 71 s). Here each rule's peers are looked up once in the label index,
//! so a question costs the rules that admit that peer.
//!
//! Closed world only (the stack is the whole cluster, see
//! [`World::Closed`]): every answer is yes or no, an ipBlock never holds a
//! pod. `tests/connections_table.rs` holds it equal to [`Policies::decide`]
//! on every pair of workloads of every example.

use std::collections::HashMap;

use serde_json::Value;

use crate::model::Manifests;
use crate::model::netpol::{
    Decision, Direction, Policies, Policy, Target, Tri, World, namespace_matches_in, ports_allow,
};
use crate::model::selector::Selector;

/// Per pod template (object) and direction: the rules of the policies
/// isolating it, by the template they admit as peer, and those admitting
/// every peer.
pub struct Table<'p, 'a> {
    policies: &'p Policies<'a>,
    ingress: HashMap<usize, Side>,
    egress: HashMap<usize, Side>,
}

/// The rules of one template's isolating policies for one direction:
/// (policy object, rule index, the rule).
#[derive(Default)]
struct Side {
    by_peer: HashMap<usize, Vec<(usize, usize)>>,
    everyone: Vec<(usize, usize)>,
}

impl<'p, 'a> Table<'p, 'a> {
    /// `policies` must be built in [`World::Closed`].
    pub fn new(cx: &Manifests, policies: &'p Policies<'a>) -> Table<'p, 'a> {
        debug_assert!(policies.world == World::Closed);
        let namespaces: Vec<&str> = {
            let mut n: Vec<&str> = cx.index.templates.iter().map(|t| cx.objects[t.object].ns()).collect();
            n.sort_unstable();
            n.dedup();
            n
        };
        // Each rule's admitted templates, computed once per policy.
        let mut admitted: HashMap<(usize, bool, usize), Option<Vec<usize>>> = HashMap::new();
        let mut table = Table { policies, ingress: HashMap::new(), egress: HashMap::new() };
        for t in &cx.index.templates {
            for dir in [Direction::Ingress, Direction::Egress] {
                let mut side = Side::default();
                for p in policies.isolating(t.object, dir) {
                    for (i, r) in rules(p, dir).iter().enumerate() {
                        let peers = admitted
                            .entry((p.object, dir == Direction::Ingress, i))
                            .or_insert_with(|| peers_of(cx, &namespaces, p, r.get(dir.peers())));
                        match peers {
                            None => side.everyone.push((p.object, i)),
                            Some(list) => {
                                for &peer in list.iter() {
                                    side.by_peer.entry(peer).or_default().push((p.object, i));
                                }
                            }
                        }
                    }
                }
                match dir {
                    Direction::Ingress => table.ingress.insert(t.object, side),
                    Direction::Egress => table.egress.insert(t.object, side),
                };
            }
        }
        table
    }

    /// [`Policies::decide`] for `object`'s pods and the pods of template
    /// `peer` (the server for egress, the client for ingress).
    pub fn decide(&self, cx: &Manifests, object: usize, direction: Direction, peer: usize, port: Target) -> Decision {
        let isolating: Vec<usize> = self.policies.isolating(object, direction).map(|p| p.object).collect();
        let mut d = Decision { answer: Tri::No, isolating, rules: Vec::new() };
        if d.isolating.is_empty() {
            d.answer = Tri::Yes;
            return d;
        }
        let side = match direction {
            Direction::Ingress => self.ingress.get(&object),
            Direction::Egress => self.egress.get(&object),
        };
        let Some(side) = side else { return d };
        let candidates = side.everyone.iter().chain(side.by_peer.get(&peer).into_iter().flatten());
        for &(policy, i) in candidates {
            let rule =
                cx.objects[policy].value.get("spec").and_then(|s| s.get(direction.field())).and_then(|r| r.get(i));
            if ports_allow(rule.and_then(|r| r.get("ports")), port) {
                d.rules.push((policy, i, Tri::Yes));
                d.answer = Tri::Yes;
            }
        }
        d.rules.sort_unstable();
        d
    }

    /// The templates (objects) some rule of `object`'s isolating policies
    /// admits as peer in `direction`; `None`: every peer (not isolated, or a
    /// rule admitting everyone).
    pub fn peers(&self, object: usize, direction: Direction) -> Option<Vec<usize>> {
        // Not isolated: every peer.
        self.policies.isolating(object, direction).next()?;
        let side = match direction {
            Direction::Ingress => self.ingress.get(&object),
            Direction::Egress => self.egress.get(&object),
        }?;
        if !side.everyone.is_empty() {
            return None;
        }
        let mut out: Vec<usize> = side.by_peer.keys().copied().collect();
        out.sort_unstable();
        Some(out)
    }
}

fn rules<'a>(p: &Policy<'a>, dir: Direction) -> &'a [Value] {
    match dir {
        Direction::Ingress => p.ingress_rules,
        Direction::Egress => p.egress_rules,
    }
}

/// The templates (objects) a rule's `from`/`to` admits; `None`: every pod
/// (absent or empty). As `peer_matches_in` reads them in the closed world.
fn peers_of(cx: &Manifests, namespaces: &[&str], p: &Policy, peers: Option<&Value>) -> Option<Vec<usize>> {
    let list = peers.and_then(Value::as_array).filter(|l| !l.is_empty())?;
    let mut out = Vec::new();
    for peer in list {
        if peer.get("ipBlock").is_some_and(|b| !b.is_null()) {
            continue; // outside the cluster in the closed world
        }
        let pods = peer.get("podSelector").filter(|v| !v.is_null());
        let empty = Selector::default();
        let pod_sel = pods.map(Selector::of);
        match peer.get("namespaceSelector").filter(|v| !v.is_null()) {
            Some(ns_sel) => {
                for ns in namespaces.iter().filter(|ns| namespace_matches_in(cx, ns_sel, ns, World::Closed) == Tri::Yes)
                {
                    let sel = pod_sel.as_ref().unwrap_or(&empty);
                    out.extend(cx.index.selected(ns, sel).iter().map(|t| t.object));
                }
            }
            None => {
                if let Some(sel) = &pod_sel {
                    out.extend(cx.index.selected(p.ns, sel).iter().map(|t| t.object));
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::netpol::Endpoint;

    /// Every answer of the table equals [`Policies::decide`]'s in the closed
    /// world, for every pair of templates, both directions and every declared
    /// port (named or not) of every example's every environment; and
    /// [`Table::peers`] leaves out no peer `decide` admits.
    #[test]
    fn the_table_decides_as_the_policies_do() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
        let (mut asked, mut admitted) = (0, 0);
        for entry in std::fs::read_dir(dir).expect("examples") {
            let path = entry.expect("entry").path();
            let p = crate::description::load(&path).expect("example loads");
            let built = crate::build::build(&p, &path).expect("example builds");
            for (env, stack) in &built.envs {
                let loaded = crate::build::stack_sources(env, stack).expect("loads");
                let (a, y) = same_answers(&Manifests::new(&loaded), &format!("{}/{env}", path.display()));
                asked += a;
                admitted += y;
            }
        }
        assert!(asked > 5_000, "only {asked} questions");
        // Rules admitting a connection, not only isolation or its absence.
        assert!(admitted > 100, "only {admitted} connections admitted by a rule");
    }

    /// (questions asked, answered yes by a rule).
    fn same_answers(cx: &Manifests, at: &str) -> (usize, usize) {
        let policies = Policies::build_in(cx, World::Closed);
        let table = Table::new(cx, &policies);
        let (mut asked, mut admitted) = (0, 0);
        for a in &cx.index.templates {
            let ports: Vec<(i64, Option<&str>)> = crate::model::Pod::of(cx.objects, a.object)
                .map(|p| p.app_containers().flat_map(|c| c.ports().map(|p| (p.0, p.1)).collect::<Vec<_>>()).collect())
                .unwrap_or_default();
            for b in &cx.index.templates {
                let peer = Endpoint { ns: cx.objects[b.object].ns(), labels: &b.labels };
                for &(number, name) in ports.iter().chain([(1, None)].iter()) {
                    let port = Target { number, protocol: "TCP", name };
                    for dir in [Direction::Ingress, Direction::Egress] {
                        let want = policies.decide(cx, a.object, dir, peer, port);
                        let got = table.decide(cx, a.object, dir, b.object, port);
                        let what = format!("{at}: {} {dir:?} {} port {number}", a.object, b.object);
                        assert_eq!(
                            (got.answer, &got.isolating, &got.rules),
                            (want.answer, &want.isolating, &want.rules),
                            "{what}"
                        );
                        if want.answer == Tri::Yes && !want.isolating.is_empty() {
                            let peers = table.peers(a.object, dir);
                            assert!(peers.is_none_or(|p| p.contains(&b.object)), "{what}: not among the peers");
                        }
                        asked += 1;
                        admitted += usize::from(!want.rules.is_empty());
                    }
                }
            }
        }
        (asked, admitted)
    }
}
