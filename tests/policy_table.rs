//! [`Table`] answers as [`Policies::decide`] does: every pair of pod
//! templates, both directions, every declared port of every example's every
//! environment, in both worlds.

use kubeproof::model::Manifests;
use kubeproof::model::netpol::{Direction, Endpoint, Policies, Target, Tri, World};
use kubeproof::model::policy_table::Table;

/// Every answer of the table equals [`Policies::decide`]'s in either
/// world, for every pair of templates, both directions and every declared
/// port (named or not) of every example's every environment; and
/// [`Table::peers`] leaves out no peer `decide` admits.
#[test]
fn the_table_decides_as_the_policies_do() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let (mut asked, mut admitted) = (0, 0);
    for entry in std::fs::read_dir(dir).expect("examples") {
        let path = entry.expect("entry").path();
        let p = kubeproof::description::load(&path).expect("example loads");
        let built = kubeproof::build::build(&p, &path).expect("example builds");
        for (env, stack) in &built.envs {
            let loaded = kubeproof::build::stack_sources(env, stack).expect("loads");
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
    let (mut asked, mut admitted) = (0, 0);
    for world in [World::Closed, World::Open] {
        let policies = Policies::build_in(cx, world);
        let table = Table::new(cx, &policies);
        let (a, y) = same_in(cx, &policies, &table, at);
        asked += a;
        admitted += y;
    }
    (asked, admitted)
}

fn same_in(cx: &Manifests, policies: &Policies, table: &Table, at: &str) -> (usize, usize) {
    let (mut asked, mut admitted) = (0, 0);
    for a in &cx.index.templates {
        let ports: Vec<(i64, Option<&str>)> = kubeproof::model::Pod::of(cx.objects, a.object)
            .map(|p| p.app_containers().flat_map(|c| c.ports().map(|p| (p.0, p.1)).collect::<Vec<_>>()).collect())
            .unwrap_or_default();
        for b in &cx.index.templates {
            let peer = Endpoint { ns: cx.objects[b.object].ns(), labels: &b.labels };
            for &(number, name) in ports.iter().chain([(1, None)].iter()) {
                let port = Target { number, protocol: "TCP", name };
                for dir in [Direction::Ingress, Direction::Egress] {
                    let want = policies.decide(cx, a.object, dir, peer, port);
                    let got = table.decide(cx, a.object, dir, (b.object, peer), port);
                    let what = format!("{at} {:?}: {} {dir:?} {} port {number}", policies.world, a.object, b.object);
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
