//! `kubeproof reach`: hand-written scenarios, each a small set of manifests
//! and the allow/deny table the Kubernetes NetworkPolicy documentation
//! implies (the comment on each names the documented rule it exercises);
//! then the binary (exit codes, output naming the deciding policies, a
//! description as input); then the five examples, whose generated policies
//! must open every `uses` edge and nothing else between their workloads.

use crate::common;

use std::path::Path;
use std::process::Output;

use kubeproof::model::{Loaded, Source, load};

/// A Deployment `name` in `ns` with pod labels and container ports
/// (`8080`, `53/UDP`, `http=8080`).
fn app(ns: &str, name: &str, labels: &str, ports: &[&str]) -> String {
    let ports: Vec<String> = ports
        .iter()
        .map(|p| {
            let (name, p) = p.split_once('=').map_or((None, *p), |(n, p)| (Some(n), p));
            let (n, proto) = p.split_once('/').unwrap_or((p, "TCP"));
            match name {
                Some(name) => format!("{{ name: {name}, containerPort: {n}, protocol: {proto} }}"),
                None => format!("{{ containerPort: {n}, protocol: {proto} }}"),
            }
        })
        .collect();
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{ name: {name}, namespace: {ns} }}\nspec:\n  \
         selector: {{ matchLabels: {{ {labels} }} }}\n  template:\n    metadata: {{ labels: {{ {labels} }} }}\n    \
         spec:\n      containers: [{{ name: c, image: \"ghcr.io/acme/{name}:1.0.0\", ports: [{}] }}]\n",
        ports.join(", ")
    )
}

fn netpol(ns: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{ name: {name}, namespace: {ns} }}\nspec: {spec}\n"
    )
}

fn namespace(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{ name: {name}, labels: {{ {labels} }} }}\n")
}

fn loaded(parts: &[String]) -> Loaded {
    let mut l = Loaded::default();
    load::add_source(&mut l, Source { name: "set.yaml".into(), text: parts.join("---\n") });
    assert!(l.errors.is_empty(), "{:?}", l.errors);
    l
}

/// Asserts each row `(from, to, port, allowed)` of a table.
fn table(parts: &[String], rows: &[(&str, &str, &str, bool)]) {
    let l = loaded(parts);
    let mut wrong = Vec::new();
    for &(from, to, port, want) in rows {
        let a = kubeproof::reach::query(&l, from, to, Some(port)).unwrap_or_else(|e| panic!("{from} → {to}: {e}"));
        if a.allowed() != want {
            wrong.push(format!(
                "{from} → {to} {port}: expected {}, got\n{}",
                if want { "allowed" } else { "blocked" },
                a.text()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A web, an api and a db in `shop`, and a client in `other`.
fn shop() -> Vec<String> {
    vec![
        app("shop", "web", "app: web", &["http=8080"]),
        app("shop", "api", "app: api, tier: backend", &["http=8000", "9090"]),
        app("shop", "db", "app: db", &["5432"]),
        app("other", "tool", "app: tool", &["8080"]),
    ]
}

fn with(mut base: Vec<String>, more: &[String]) -> Vec<String> {
    base.extend_from_slice(more);
    base
}

// 1. "By default, pods are non-isolated": without policies everything is allowed.
#[test]
fn s01_no_policy_everything_allowed() {
    table(&shop(), &[("web", "api", "8000", true), ("tool", "db", "5432", true), ("db", "web", "8080", true)]);
}

// 2. Default deny ingress (empty podSelector, policyTypes [Ingress]): every pod of
// the namespace is isolated for ingress; egress and other namespaces are untouched.
#[test]
fn s02_default_deny_ingress() {
    let set = with(shop(), &[netpol("shop", "deny", "{ podSelector: {}, policyTypes: [Ingress] }")]);
    table(&set, &[("web", "api", "8000", false), ("tool", "db", "5432", false), ("api", "tool", "8080", true)]);
}

// 3. Allow all ingress: one rule `{}` (absent from and ports) admits every source,
// whatever other policies deny (rules are additive).
#[test]
fn s03_allow_all_ingress() {
    let set = with(
        shop(),
        &[
            netpol("shop", "deny", "{ podSelector: {}, policyTypes: [Ingress] }"),
            netpol("shop", "all", "{ podSelector: {}, ingress: [{}], policyTypes: [Ingress] }"),
        ],
    );
    table(&set, &[("web", "api", "8000", true), ("tool", "db", "5432", true), ("tool", "api", "9090", true)]);
}

// 4. Default deny egress (policyTypes [Egress], no egress rules): selected pods
// can send nothing; their ingress stays open.
#[test]
fn s04_default_deny_egress() {
    let set = with(shop(), &[netpol("shop", "deny-out", "{ podSelector: {}, policyTypes: [Egress] }")]);
    table(&set, &[("web", "api", "8000", false), ("web", "tool", "8080", false), ("tool", "web", "8080", true)]);
}

// 5. Allow all egress: `egress: [{}]` (absent to and ports) next to a default deny.
#[test]
fn s05_allow_all_egress() {
    let set = with(
        shop(),
        &[
            netpol("shop", "deny-out", "{ podSelector: {}, policyTypes: [Egress] }"),
            netpol("shop", "all-out", "{ podSelector: {}, egress: [{}], policyTypes: [Egress] }"),
        ],
    );
    table(&set, &[("web", "api", "8000", true), ("web", "tool", "8080", true)]);
}

// 6. Default deny all: policyTypes [Ingress, Egress] and no rules.
#[test]
fn s06_default_deny_all() {
    let set = with(shop(), &[netpol("shop", "deny", "{ podSelector: {}, policyTypes: [Ingress, Egress] }")]);
    table(&set, &[("web", "api", "8000", false), ("tool", "web", "8080", false), ("web", "tool", "8080", false)]);
}

// 7. A podSelector peer alone selects pods in the policy's own namespace only.
#[test]
fn s07_pod_selector_alone_is_same_namespace() {
    let set = with(
        shop(),
        &[
            app("other", "web", "app: web", &["8080"]),
            netpol(
                "shop",
                "api",
                "{ podSelector: { matchLabels: { app: api } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }] }] }",
            ),
        ],
    );
    table(
        &set,
        &[("shop/web", "api", "8000", true), ("other/web", "api", "8000", false), ("db", "api", "8000", false)],
    );
}

// 8. A namespaceSelector peer alone admits every pod of the namespaces whose
// labels match (labels from the Namespace objects).
#[test]
fn s08_namespace_selector_only() {
    let set = with(
        shop(),
        &[
            namespace("other", "team: tools"),
            app("third", "x", "app: x", &["80"]),
            netpol(
                "shop",
                "db",
                "{ podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: tools } } }] }] }",
            ),
        ],
    );
    table(&set, &[("tool", "db", "5432", true), ("x", "db", "5432", false), ("api", "db", "5432", false)]);
}

/// Labels `app: tool` in two namespaces, one labelled `team: tools`.
fn and_or(from: &str) -> Vec<String> {
    with(
        shop(),
        &[
            namespace("other", "team: tools"),
            app("third", "tool", "app: tool", &["80"]),
            app("other", "misc", "app: misc", &["80"]),
            netpol(
                "shop",
                "db",
                &format!("{{ podSelector: {{ matchLabels: {{ app: db }} }}, ingress: [{{ from: {from} }}] }}"),
            ),
        ],
    )
}

// 9. namespaceSelector and podSelector in one element: both must match (AND).
#[test]
fn s09_and_in_one_peer() {
    let set = and_or(
        "[{ namespaceSelector: { matchLabels: { team: tools } }, podSelector: { matchLabels: { app: tool } } }]",
    );
    table(
        &set,
        &[("other/tool", "db", "5432", true), ("third/tool", "db", "5432", false), ("other/misc", "db", "5432", false)],
    );
}

// 10. The same selectors as two elements: either matches (OR); the podSelector
// element alone means the policy's namespace.
#[test]
fn s10_or_in_two_peers() {
    let set = and_or(
        "[{ namespaceSelector: { matchLabels: { team: tools } } }, { podSelector: { matchLabels: { app: api } } }]",
    );
    table(
        &set,
        &[
            ("other/tool", "db", "5432", true),
            ("other/misc", "db", "5432", true),
            ("api", "db", "5432", true),
            ("third/tool", "db", "5432", false),
            ("web", "db", "5432", false),
        ],
    );
}

// 11. An empty namespaceSelector selects all namespaces; with a podSelector, the
// pods so labelled in any namespace.
#[test]
fn s11_empty_namespace_selector_is_all_namespaces() {
    let set = with(
        shop(),
        &[
            app("third", "web", "app: web", &["80"]),
            netpol(
                "shop",
                "api",
                "{ podSelector: { matchLabels: { app: api } }, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: web } } }] }] }",
            ),
            netpol(
                "shop",
                "db",
                "{ podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ namespaceSelector: {} }] }] }",
            ),
        ],
    );
    table(
        &set,
        &[
            ("third/web", "api", "8000", true),
            ("shop/web", "api", "8000", true),
            ("tool", "api", "8000", false),
            ("tool", "db", "5432", true),
            ("third/web", "db", "5432", true),
        ],
    );
}

// 12. Absent `from` with `ports`: every source, those ports only; absent `ports`:
// every port.
#[test]
fn s12_absent_from_and_absent_ports() {
    let set = with(
        shop(),
        &[
            netpol(
                "shop",
                "api",
                "{ podSelector: { matchLabels: { app: api } }, ingress: [{ ports: [{ port: 8000 }] }] }",
            ),
            netpol(
                "shop",
                "db",
                "{ podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: api } } }] }] }",
            ),
        ],
    );
    table(
        &set,
        &[
            ("tool", "api", "8000", true),
            ("tool", "api", "9090", false),
            ("api", "db", "5432", true),
            ("api", "db", "6000", true),
            ("web", "db", "5432", false),
        ],
    );
}

// 13. endPort: a range of ports from `port` to `endPort` inclusive.
#[test]
fn s13_end_port_range() {
    let set = with(
        shop(),
        &[netpol(
            "shop",
            "db",
            "{ podSelector: { matchLabels: { app: db } }, ingress: [{ ports: [{ protocol: TCP, port: 32000, endPort: 32768 }] }] }",
        )],
    );
    table(
        &set,
        &[
            ("api", "db", "32000", true),
            ("api", "db", "32768", true),
            ("api", "db", "32500", true),
            ("api", "db", "31999", false),
            ("api", "db", "32769", false),
            ("api", "db", "32500/UDP", false),
        ],
    );
}

// 14. A named port resolves against the destination pod's container ports (and
// protocol): `http` is 8080 on web, 8000 on api.
#[test]
fn s14_named_port() {
    let set = with(
        shop(),
        &[
            netpol("shop", "deny", "{ podSelector: {}, policyTypes: [Ingress] }"),
            netpol("shop", "http", "{ podSelector: {}, ingress: [{ ports: [{ port: http }] }] }"),
        ],
    );
    table(
        &set,
        &[
            ("tool", "web", "8080", true),
            ("tool", "api", "8000", true),
            ("tool", "api", "8080", false),
            ("tool", "api", "9090", false),
            ("tool", "db", "5432", false),
            ("tool", "api", "http", true),
        ],
    );
}

// 15. The protocol defaults to TCP; UDP and SCTP are distinct.
#[test]
fn s15_protocols() {
    let set = vec![
        app("shop", "dns", "app: dns", &["53/UDP", "53/TCP", "3868/SCTP"]),
        app("shop", "c", "app: c", &[]),
        netpol(
            "shop",
            "dns",
            "{ podSelector: { matchLabels: { app: dns } }, ingress: [{ ports: [{ port: 53 }, { port: 3868, protocol: SCTP }] }] }",
        ),
    ];
    table(
        &set,
        &[
            ("c", "dns", "53", true),
            ("c", "dns", "53/UDP", false),
            ("c", "dns", "3868/SCTP", true),
            ("c", "dns", "3868", false),
        ],
    );
}

// 16. policyTypes [Egress] only: the ingress rules written in the policy are
// ignored and the pods are not isolated for ingress.
#[test]
fn s16_policy_types_egress_only() {
    let set = with(
        shop(),
        &[netpol(
            "shop",
            "db",
            "{ podSelector: { matchLabels: { app: db } }, policyTypes: [Egress], \
             ingress: [{ from: [{ podSelector: { matchLabels: { app: api } } }] }], egress: [] }",
        )],
    );
    table(&set, &[("web", "db", "5432", true), ("tool", "db", "5432", true), ("db", "api", "8000", false)]);
}

// 17. Without policyTypes: Ingress always, Egress when the policy has egress
// rules — a policy with only ingress rules leaves egress open.
#[test]
fn s17_default_policy_types() {
    let only_ingress = with(
        shop(),
        &[netpol(
            "shop",
            "api",
            "{ podSelector: { matchLabels: { app: api } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }] }] }",
        )],
    );
    table(&only_ingress, &[("web", "api", "8000", true), ("db", "api", "8000", false), ("api", "tool", "8080", true)]);
    let with_egress = with(
        shop(),
        &[netpol(
            "shop",
            "api",
            "{ podSelector: { matchLabels: { app: api } }, egress: [{ to: [{ podSelector: { matchLabels: { app: db } } }] }] }",
        )],
    );
    table(&with_egress, &[("api", "db", "5432", true), ("api", "tool", "8080", false), ("web", "api", "8000", false)]);
}

// 17b. An empty `policyTypes` list is defaulted like an absent one (Ingress, and
// Egress when there are egress rules).
#[test]
fn s17b_empty_policy_types_defaults() {
    let set = with(
        shop(),
        &[netpol(
            "shop",
            "db",
            "{ podSelector: { matchLabels: { app: db } }, policyTypes: [], egress: [{ ports: [{ port: 53, protocol: UDP }] }] }",
        )],
    );
    table(&set, &[("api", "db", "5432", false), ("db", "api", "8000", false), ("web", "api", "8000", true)]);
}

// 18. A policy applies to pods of its own namespace only: a deny-all in `other`
// does not isolate the pods of `shop`.
#[test]
fn s18_policy_in_another_namespace() {
    let set = with(shop(), &[netpol("other", "deny", "{ podSelector: {}, policyTypes: [Ingress, Egress] }")]);
    table(&set, &[("web", "api", "8000", true), ("api", "tool", "8080", false), ("tool", "api", "8000", false)]);
}

// 19. Policies selecting the same pod are additive: the union of their rules.
#[test]
fn s19_multiple_policies_union() {
    let set = with(
        shop(),
        &[
            netpol(
                "shop",
                "from-web",
                "{ podSelector: { matchLabels: { app: api } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }], ports: [{ port: 8000 }] }] }",
            ),
            netpol(
                "shop",
                "metrics",
                "{ podSelector: { matchLabels: { tier: backend } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: other } } }], ports: [{ port: 9090 }] }] }",
            ),
        ],
    );
    table(
        &set,
        &[
            ("web", "api", "8000", true),
            ("web", "api", "9090", false),
            ("tool", "api", "9090", true),
            ("tool", "api", "8000", false),
        ],
    );
}

// 20. Both ends must allow: the client's egress and the server's ingress.
#[test]
fn s20_both_sides_must_allow() {
    let set = with(
        shop(),
        &[
            netpol("shop", "api-in", "{ podSelector: { matchLabels: { app: api } }, ingress: [{}] }"),
            netpol(
                "shop",
                "web-out",
                "{ podSelector: { matchLabels: { app: web } }, policyTypes: [Egress], egress: [{ to: [{ podSelector: { matchLabels: { app: db } } }] }] }",
            ),
            netpol(
                "shop",
                "db-in",
                "{ podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: api } } }] }] }",
            ),
        ],
    );
    table(
        &set,
        &[
            ("web", "api", "8000", false), // api admits everyone, web may not send
            ("web", "db", "5432", false),  // web may send, db does not admit it
            ("api", "db", "5432", true),
            ("tool", "api", "8000", true),
        ],
    );
}

// 21. ipBlock is for cluster-external addresses: reach never matches a pod with
// it (and notes that a plugin might).
#[test]
fn s21_ip_block_does_not_match_pods() {
    let set = with(
        shop(),
        &[netpol(
            "shop",
            "db",
            "{ podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/8, except: [10.1.0.0/16] } }] }] }",
        )],
    );
    table(&set, &[("api", "db", "5432", false)]);
    let a = kubeproof::reach::query(&loaded(&set), "api", "db", Some("5432")).expect("answer");
    assert!(a.verdicts[0].notes.iter().any(|n| n.contains("ipBlock 10.0.0.0/8")), "{}", a.text());
}

fn kube_dns() -> String {
    app("kube-system", "coredns", "k8s-app: kube-dns", &["dns=53/UDP", "dns-tcp=53/TCP"])
}

// 22. Egress isolation without a DNS rule blocks name resolution; the usual DNS
// rule (kube-system, k8s-app: kube-dns, UDP and TCP 53) opens it.
#[test]
fn s22_egress_without_dns() {
    let egress = netpol(
        "shop",
        "api-out",
        "{ podSelector: { matchLabels: { app: api } }, policyTypes: [Egress], egress: [{ to: [{ podSelector: { matchLabels: { app: db } } }], ports: [{ port: 5432 }] }] }",
    );
    let dns = netpol(
        "shop",
        "dns",
        "{ podSelector: {}, policyTypes: [Egress], egress: [{ to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } }], ports: [{ port: 53, protocol: UDP }, { port: 53, protocol: TCP }] }] }",
    );
    let without = with(shop(), &[kube_dns(), egress.clone()]);
    table(
        &without,
        &[("api", "coredns", "53/UDP", false), ("api", "db", "5432", true), ("web", "coredns", "53/UDP", true)],
    );
    let fixed = with(shop(), &[kube_dns(), egress, dns]);
    table(
        &fixed,
        &[
            ("api", "coredns", "53/UDP", true),
            ("api", "coredns", "53/TCP", true),
            ("api", "db", "5432", true),
            ("api", "web", "8080", false),
            ("web", "coredns", "53/UDP", true),
            ("web", "api", "8000", false),
        ],
    );
}

// 23. Label selectors with matchExpressions (In, NotIn, Exists, DoesNotExist), for
// pods and for namespaces (with the automatic kubernetes.io/metadata.name label).
#[test]
fn s23_match_expressions() {
    let set = with(
        shop(),
        &[
            namespace("other", "env: dev"),
            netpol(
                "shop",
                "db",
                "{ podSelector: { matchExpressions: [{ key: app, operator: In, values: [db] }] }, ingress: [{ from: [\
                 { podSelector: { matchExpressions: [{ key: tier, operator: Exists }] } }, \
                 { namespaceSelector: { matchExpressions: [{ key: env, operator: NotIn, values: [prod] }, { key: kubernetes.io/metadata.name, operator: NotIn, values: [shop] }] } }] }] }",
            ),
        ],
    );
    table(&set, &[("api", "db", "5432", true), ("web", "db", "5432", false), ("tool", "db", "5432", true)]);
}

// 24. Namespaces are matched by their name label without a Namespace object; the
// Namespace object's other labels count when it is in the set.
#[test]
fn s24_namespace_labels() {
    let policy = netpol(
        "shop",
        "db",
        "{ podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: other } } }, { namespaceSelector: { matchLabels: { trusted: \"yes\" } } }] }] }",
    );
    let set = with(shop(), &[policy.clone(), app("third", "t", "app: t", &[])]);
    table(&set, &[("tool", "db", "5432", true), ("t", "db", "5432", false)]);
    let labelled = with(shop(), &[policy, app("third", "t", "app: t", &[]), namespace("third", "trusted: \"yes\"")]);
    table(&labelled, &[("t", "db", "5432", true)]);
}

// 25. Pods on the host network are not isolated by policies that select them.
#[test]
fn s25_host_network() {
    let host = "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: { name: agent, namespace: shop }\nspec:\n  selector: { matchLabels: { app: agent } }\n  template:\n    metadata: { labels: { app: agent } }\n    spec:\n      hostNetwork: true\n      containers: [{ name: a, image: \"ghcr.io/acme/agent:1.0.0\", ports: [{ containerPort: 9100 }] }]\n".to_string();
    let set = with(shop(), &[host, netpol("shop", "deny", "{ podSelector: {}, policyTypes: [Ingress] }")]);
    table(&set, &[("tool", "agent", "9100", true), ("tool", "web", "8080", false)]);
}

// 26. Workloads by kind, by namespace, through a Service; ambiguity is an error.
#[test]
fn s26_naming_workloads() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: { name: backend, namespace: shop }\nspec:\n  selector: { app: api }\n  ports: [{ port: 80, targetPort: 8000 }]\n".to_string();
    let set = with(
        shop(),
        &[
            svc,
            app("other", "api", "app: api", &["8000"]),
            netpol("shop", "deny", "{ podSelector: {}, policyTypes: [Ingress] }"),
        ],
    );
    table(
        &set,
        &[
            ("deployment/web", "shop/api", "8000", false),
            ("shop/deploy/web", "other/api", "8000", true),
            ("web", "backend", "8000", false),
            ("web", "svc/backend", "8000", false),
        ],
    );
    let l = loaded(&set);
    let e = kubeproof::reach::query(&l, "web", "api", None).expect_err("ambiguous");
    assert!(e.contains("ambiguous") && e.contains("shop/api") && e.contains("other/api"), "{e}");
    let e = kubeproof::reach::query(&l, "wbe", "shop/api", None).expect_err("unknown");
    assert!(e.contains("did you mean web"), "{e}");
}

/// kubectl's kind names pick one of the workloads of one name.
#[test]
fn kind_names_as_kubectl_writes_them_pick_the_workload() {
    let kinded = |kind: &str, name: &str| {
        app("shop", name, &format!("app: {name}-{}", kind.to_lowercase()), &["5432"]).replacen(
            "kind: Deployment",
            &format!("kind: {kind}"),
            1,
        )
    };
    let container = r#"containers: [{ name: c, image: "ghcr.io/acme/store:1.0.0", ports: [{ containerPort: 5432 }] }]"#;
    let others = [
        kinded("StatefulSet", "store"),
        kinded("DaemonSet", "store"),
        kinded("Deployment", "store"),
        kinded("ReplicaSet", "store"),
        format!(
            "apiVersion: v1\nkind: ReplicationController\nmetadata: {{ name: store, namespace: shop }}\nspec:\n  \
             selector: {{ app: store-rc }}\n  template:\n    metadata: {{ labels: {{ app: store-rc }} }}\n    spec: {{ {container} }}\n"
        ),
        format!(
            "apiVersion: batch/v1\nkind: CronJob\nmetadata: {{ name: store, namespace: shop }}\nspec:\n  schedule: \"0 3 * * *\"\n  \
             jobTemplate:\n    spec:\n      template:\n        metadata: {{ labels: {{ app: store-cj }} }}\n        \
             spec: {{ restartPolicy: OnFailure, {container} }}\n"
        ),
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{ name: store, namespace: shop }}\nspec:\n  \
             template:\n    metadata: {{ labels: {{ app: store-job }} }}\n    spec: {{ restartPolicy: Never, {container} }}\n"
        ),
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{ name: store, namespace: shop, labels: {{ app: store-pod }} }}\nspec: {{ {container} }}\n"
        ),
    ];
    let set = with(shop(), &others);
    let l = loaded(&set);
    let e = kubeproof::reach::query(&l, "web", "store", None).expect_err("eight workloads are named store");
    assert!(e.contains("ambiguous"), "{e}");
    for (spec, kind) in [
        ("sts/store", "StatefulSet"),
        ("statefulset/store", "StatefulSet"),
        ("StatefulSets/store", "StatefulSet"),
        ("ds/store", "DaemonSet"),
        ("daemonset/store", "DaemonSet"),
        ("shop/daemonsets/store", "DaemonSet"),
        ("deploy/store", "Deployment"),
        ("deployments/store", "Deployment"),
        ("rs/store", "ReplicaSet"),
        ("replicaset/store", "ReplicaSet"),
        ("rc/store", "ReplicationController"),
        ("replicationcontrollers/store", "ReplicationController"),
        ("cj/store", "CronJob"),
        ("cronjob/store", "CronJob"),
        ("job/store", "Job"),
        ("jobs/store", "Job"),
        ("po/store", "Pod"),
        ("pod/store", "Pod"),
    ] {
        let a = kubeproof::reach::query(&l, "web", spec, None).unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert_eq!(a.to.kind, kind, "{spec}");
    }
}

/// A port asked by number is the declared one only with the same protocol:
/// its name and the `declared` flag follow both (cargo-mutants survivors).
#[test]
fn a_port_number_is_declared_only_with_its_protocol() {
    let set = with(shop(), &[app("shop", "dns", "app: dns", &["dns=53/UDP"])]);
    let l = loaded(&set);
    let udp = kubeproof::reach::query(&l, "web", "dns", Some("53/UDP")).expect("answer");
    assert_eq!(udp.verdicts[0].port.name.as_deref(), Some("dns"));
    assert!(udp.verdicts[0].declared);
    let tcp = kubeproof::reach::query(&l, "web", "dns", Some("53")).expect("answer");
    assert_eq!(tcp.verdicts[0].port.name, None);
    assert!(!tcp.verdicts[0].declared, "53/TCP is not declared");
    let other = kubeproof::reach::query(&l, "web", "dns", Some("54/UDP")).expect("answer");
    assert!(!other.verdicts[0].declared && other.verdicts[0].port.name.is_none());
}

/// A job's Job is found by its description's name only with an 8-digit hex
/// suffix (kubeproof's hash), not any 8-character one.
#[test]
fn a_hashed_job_name_needs_eight_hex_digits() {
    let job = |name: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{ name: {name}, namespace: shop }}\nspec:\n  template:\n    \
             metadata: {{ labels: {{ app: {name} }} }}\n    spec: {{ restartPolicy: Never, containers: [{{ name: c, image: \"m:1.0.0\" }}] }}\n"
        )
    };
    let l = loaded(&with(shop(), &[job("migrate-0a1b2c3d")]));
    let a = kubeproof::reach::query(&l, "migrate", "db", Some("5432")).expect("the hashed Job");
    assert_eq!(a.from.name, "migrate-0a1b2c3d");
    for not_hash in ["migrate-nothexzz", "migrate-0a1b2c3"] {
        let l = loaded(&with(shop(), &[job(not_hash)]));
        assert!(kubeproof::reach::query(&l, "migrate", "db", Some("5432")).is_err(), "{not_hash}");
    }
}

// Without PORT: every declared port of the destination, each with its verdict.
#[test]
fn all_declared_ports() {
    let set = with(
        shop(),
        &[netpol(
            "shop",
            "api",
            "{ podSelector: { matchLabels: { app: api } }, ingress: [{ ports: [{ port: http }] }] }",
        )],
    );
    let a = kubeproof::reach::query(&loaded(&set), "web", "api", None).expect("answer");
    let got: Vec<(i64, bool)> = a.verdicts.iter().map(|v| (v.port.number, v.allowed)).collect();
    assert_eq!(got, vec![(8000, true), (9090, false)]);
    let text = a.text();
    assert!(text.contains("allowed by NetworkPolicy shop/api ingress[0] (set.yaml:"), "{text}");
    assert!(text.contains("isolated by NetworkPolicy shop/api (set.yaml:"), "{text}");
}

// ---- the binary ----

fn run(args: &[&str], dir: &Path) -> Output {
    common::kubeproof(args, Some(dir))
}

fn out(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn cli_exit_codes_and_deciding_policies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let set = with(
        shop(),
        &[
            netpol("shop", "default-deny", "{ podSelector: {}, policyTypes: [Ingress, Egress] }"),
            netpol(
                "shop",
                "api-egress",
                "{ podSelector: { matchLabels: { app: api } }, policyTypes: [Egress], egress: [{ to: [{ podSelector: { matchLabels: { app: db } } }], ports: [{ port: 5432 }] }] }",
            ),
            netpol(
                "shop",
                "db",
                "{ podSelector: { matchLabels: { app: db } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: api } } }], ports: [{ port: 5432 }] }] }",
            ),
        ],
    );
    std::fs::write(dir.path().join("set.yaml"), set.join("---\n")).expect("write");
    let ok = run(&["reach", "api", "db", "5432", "-f", "set.yaml"], dir.path());
    assert_eq!(ok.status.code(), Some(0), "{}", out(&ok));
    let text = out(&ok);
    assert!(text.contains("allowed: TCP 5432"), "{text}");
    assert!(
        text.contains("egress of shop/api: allowed by NetworkPolicy shop/api-egress egress[0] (set.yaml:"),
        "{text}"
    );
    assert!(text.contains("ingress of shop/db: allowed by NetworkPolicy shop/db ingress[0] (set.yaml:"), "{text}");

    let blocked = run(&["reach", "web", "db", "5432", "-f", "set.yaml"], dir.path());
    assert_eq!(blocked.status.code(), Some(1), "{}", out(&blocked));
    let text = out(&blocked);
    assert!(text.contains("blocked: TCP 5432"), "{text}");
    assert!(text.contains("egress of shop/web: isolated by NetworkPolicy shop/default-deny (set.yaml:"), "{text}");
    assert!(text.contains("no egress rule allows TCP 5432 to shop/db"), "{text}");

    // `-f` takes one path per flag, so it may come first, as with kubectl.
    let first = run(&["reach", "-f", "set.yaml", "api", "db", "5432"], dir.path());
    assert_eq!(first.status.code(), Some(0), "{}", out(&first));
    assert!(out(&first).contains("allowed: TCP 5432"), "{}", out(&first));

    let json = run(&["reach", "api", "db", "-f", "set.yaml", "--format", "json"], dir.path());
    assert_eq!(json.status.code(), Some(0), "{}", out(&json));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(v["allowed"], true);
    assert_eq!(v["ports"][0]["ingress"]["allowedBy"][0]["policy"], "shop/db");
    // Both ends, as a script reads them.
    assert_eq!(v["from"], serde_json::json!({ "kind": "Deployment", "namespace": "shop", "name": "api" }));
    assert_eq!(v["to"], serde_json::json!({ "kind": "Deployment", "namespace": "shop", "name": "db" }));

    for bad in [
        vec!["reach", "nope", "db", "-f", "set.yaml"],
        vec!["reach", "api", "db", "http", "-f", "set.yaml"],
        vec!["reach", "api", "db", "99999", "-f", "set.yaml"],
        vec!["reach", "api", "db", "-f", "missing.yaml"],
        vec!["reach", "api", "db"],
    ] {
        let o = run(&bad, dir.path());
        assert_eq!(o.status.code(), Some(2), "{bad:?}: {}", out(&o));
    }
}

#[test]
fn cli_reads_a_description() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let file = root.join("examples/kailash.yaml");
    let f = file.to_str().expect("utf-8 path");
    let ok = run(&["reach", "api", "neo4j", "bolt", "-f", f], dir.path());
    assert_eq!(ok.status.code(), Some(0), "{}", out(&ok));
    assert!(out(&ok).contains("allowed by NetworkPolicy kailash/neo4j ingress[0]"), "{}", out(&ok));
    let back = run(&["reach", "neo4j", "api", "-f", f, "--env", "prod"], dir.path());
    assert_eq!(back.status.code(), Some(1), "{}", out(&back));
    let bad_env = run(&["reach", "api", "neo4j", "-f", f, "--env", "nowhere"], dir.path());
    assert_eq!(bad_env.status.code(), Some(2), "{}", out(&bad_env));
}

/// A job's Job is named with a hash of its spec; `reach` takes the name the
/// description gives it (as `catalog-migrate`), and `job/NAME` too.
#[test]
fn cli_finds_a_job_by_its_described_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/polyglot-shop.yaml");
    let f = file.to_str().expect("utf-8 path");
    for from in ["catalog-migrate", "job/catalog-migrate", "polyglot-shop/catalog-migrate"] {
        let ok = run(&["reach", from, "catalog-db", "5432", "-f", f, "--env", "prod"], dir.path());
        assert_eq!(ok.status.code(), Some(0), "{from}: {}", out(&ok));
        assert!(out(&ok).starts_with("Job polyglot-shop/catalog-migrate-"), "{}", out(&ok));
    }
    // Only a hash suffix: a prefix of another name is still unknown.
    let prefix = run(&["reach", "catalog-mig", "catalog-db", "-f", f], dir.path());
    assert_eq!(prefix.status.code(), Some(2), "{}", out(&prefix));
    let deployment = run(&["reach", "deployment/catalog-migrate", "catalog-db", "-f", f], dir.path());
    assert_eq!(deployment.status.code(), Some(2), "{}", out(&deployment));
}

// ---- the examples ----

/// In every example, each `uses` edge between workloads is allowed on the
/// target's ports, and every other pair of its services and datastores is
/// blocked (clients in the ingress and monitoring namespaces aside).
#[test]
fn examples_open_their_edges_and_nothing_else() {
    use kubeproof::generate::connections::End;
    let mut problems = Vec::new();
    let mut edges = 0;
    for file in common::examples() {
        let platform = kubeproof::description::load(&file).expect("valid example");
        let built = kubeproof::build::build(&platform, &file).expect("generated");
        let loaded = kubeproof::build::stack_sources("kustomize/base", &built.base).expect("loads");
        let r = kubeproof::description::resolve::resolve(&platform, None, &file).expect("resolves");
        // (name, namespace, uses, the ports its clients are let in on: every port of
        // a service, the client port of a datastore — not its console or metrics).
        let mut workloads: Vec<(&str, &str, &[String], Vec<i64>)> = r
            .services
            .iter()
            .map(|s| {
                (s.name.as_str(), s.namespace.as_str(), &s.uses[..], s.ports.iter().map(|p| p.port.into()).collect())
            })
            .collect();
        workloads.extend(r.datastores.iter().map(|d| {
            let port = d.engine.client_port().into();
            (d.name.as_str(), d.namespace.as_str(), &[][..], vec![port])
        }));
        let name = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let intended = kubeproof::generate::connections::intended(&r);
        for (a, a_ns, uses, _) in &workloads {
            for (b, b_ns, _, ports) in &workloads {
                if a == b {
                    continue;
                }
                let Ok(answer) = kubeproof::reach::query(&loaded, &format!("{a_ns}/{a}"), &format!("{b_ns}/{b}"), None)
                else {
                    problems.push(format!("{name}: {a} → {b}: not found"));
                    continue;
                };
                let edge = uses.iter().any(|u| u == b);
                if edge {
                    edges += 1;
                    if !ports.iter().all(|&p| answer.on(p, "TCP").is_some_and(|v| v.allowed)) {
                        problems.push(format!("{name}: uses edge {a} → {b} not allowed:\n{}", answer.text()));
                    }
                } else if *a_ns != r.ingress_namespace && *a_ns != r.monitoring_namespace {
                    // Beyond `uses`, only what the stack intends (scrapes, traces, alerts…).
                    let from = End::Workload { namespace: a_ns.to_string(), name: a.to_string() };
                    let to = End::Workload { namespace: b_ns.to_string(), name: b.to_string() };
                    for v in answer.verdicts.iter().filter(|v| v.allowed) {
                        let meant =
                            intended.iter().any(|c| c.from == from && c.to == to && i64::from(c.port) == v.port.number);
                        if !meant {
                            problems.push(format!("{name}: {a} → {b} is not intended but allowed:\n{}", answer.text()));
                        }
                    }
                }
            }
        }
    }
    assert!(edges >= 10, "only {edges} edges");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
