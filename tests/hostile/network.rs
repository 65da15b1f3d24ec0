//! Many workloads under many NetworkPolicies (issue 14, bounded time and
//! memory): 8,000 workloads and 8,000 policies selecting every pod took
//! `check` 2.3 GB and over 150 s, and `graph` 1.2 GB and 103 s, because the
//! policies isolating each pod were stored pair by pair, evaluated pair by
//! pair from the raw YAML, and every refused edge kept (and every finding
//! printed) the name of every policy.

use std::ffi::OsStr;
use std::fmt::Write as _;

use super::harness::{Run, kp, temp, write};

/// `n` Deployments, each calling the next one's Service, and `p`
/// NetworkPolicies of namespace `ns` selecting every pod. `distinct`: each
/// policy is its own (a selector and rules of its own) and admits nobody,
/// so every connection is refused and every policy must be consulted;
/// otherwise all are copies of one policy admitting every pod.
fn stack(n: usize, p: usize, distinct: bool) -> String {
    let mut s = String::new();
    for i in 0..n {
        let next = (i + 1) % n;
        let _ = write!(
            s,
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: d{i}, namespace: ns}}\nspec:\n  \
             selector: {{matchLabels: {{app: a{i}}}}}\n  template:\n    metadata: {{labels: {{app: a{i}}}}}\n    \
             spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n        \
             env: [{{name: URL, value: 'http://s{next}:80'}}]\n        ports: [{{containerPort: 80}}]\n\
             ---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: ns}}\n\
             spec: {{selector: {{app: a{i}}}, ports: [{{port: 80}}]}}\n"
        );
    }
    for j in 0..p {
        let (selector, peer) = if distinct {
            (
                format!("{{matchExpressions: [{{key: z{j}, operator: DoesNotExist}}]}}"),
                format!("{{matchLabels: {{x: y{j}}}}}"),
            )
        } else {
            ("{}".to_string(), "{}".to_string())
        };
        let _ = write!(
            s,
            "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{name: np{j}, namespace: ns}}\n\
             spec:\n  podSelector: {selector}\n  policyTypes: [Ingress, Egress]\n  \
             ingress: [{{from: [{{podSelector: {peer}}}]}}]\n  egress: [{{to: [{{podSelector: {peer}}}]}}]\n"
        );
    }
    s
}

fn run(command: &str, yaml: &str, max_rss_mib: u64) -> Run {
    let dir = temp();
    let file = write(dir.path(), "stack.yaml", yaml);
    kp(dir.path(), [OsStr::new(command), file.as_os_str()]).max_rss_mib(max_rss_mib).run()
}

/// 2,000 workloads × 2,000 copies of one policy: `check` took 232 MiB (and
/// 15 s in a debug build) before; 136 MiB and 3 s after.
#[test]
fn check_of_many_workloads_under_many_copies_of_a_policy() {
    let run = run("check", &stack(2000, 2000, false), 180);
    assert!(run.code == 0 || run.code == 1, "{}", run.all());
    // Every connection is admitted (KP405 would say which is not).
    if let Some(at) = run.stdout.find("KP405") {
        panic!("{}", &run.stdout[at..(at + 3000).min(run.stdout.len())]);
    }
}

/// The same for `graph`: 144 MiB before, 83 MiB after.
#[test]
fn graph_of_many_workloads_under_many_copies_of_a_policy() {
    let run = run("graph", &stack(2000, 2000, false), 110);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("d0") && !run.stdout.contains("blocked by"), "every edge is allowed");
}

/// 1,000 workloads × 1,000 distinct policies refusing everything: every
/// finding named all 1,000 policies (21 MB of report, 192 MiB); now five
/// and a count.
#[test]
fn check_names_a_few_of_the_policies_refusing_a_connection() {
    let run = run("check", &stack(1000, 1000, true), 150);
    run.expect(1, "the network policies of ns do not allow Deployment d0 to reach s1:80");
    assert!(
        run.stdout.contains("NetworkPolicy np0, np1, np2, np3, np4 and 995 more of ns isolate"),
        "{}",
        &run.stdout[..4000.min(run.stdout.len())]
    );
    assert!(run.stdout.len() < 8 << 20, "report of {} bytes", run.stdout.len());
}

/// `graph` of the same: each refused edge kept every policy's name (139 MiB).
#[test]
fn graph_keeps_a_few_names_per_refused_edge() {
    let run = run("graph", &stack(1000, 1000, true), 100);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("blocked by ns/np0, ns/np1 +998"), "{}", &run.stdout[..4000.min(run.stdout.len())]);
}
