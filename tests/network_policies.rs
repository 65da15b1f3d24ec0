//! The generated NetworkPolicies open exactly the declared connections:
//! default deny in every namespace, DNS, each `uses` edge on the target's
//! ports only (both sides, across namespaces), the ingress controller to
//! exposed ports, Prometheus to metrics ports, external hosts by port.

use std::path::Path;

use serde_json::{Value, json};

const DESCRIPTION: &str = r#"
apiVersion: kubeproof.dev/v1alpha1
name: shop
domain: shop.example.com
cluster: { kubernetes: "1.30", ingressNamespace: edge, monitoringNamespace: prom }
services:
  web:
    image: ghcr.io/example/web:1.0.0
    port: 8080
    expose: { host: shop.example.com }
    uses: [api]
  api:
    image: ghcr.io/example/api:1.0.0
    namespace: backend
    ports:
      - { name: http, port: 8000 }
      - { name: grpc, port: 9000, protocol: grpc }
    metrics: { path: /metrics, port: 8000 }
    uses: [db, payments]
  worker:
    image: ghcr.io/example/worker:1.0.0
    port: 7000
datastores:
  db: { engine: postgres, version: "16.4", storage: 1Gi, namespace: data }
external:
  payments: { host: api.payments.example, port: 443 }
"#;

fn policies() -> Vec<Value> {
    let file = Path::new("platform.yaml");
    let platform = kubeproof::description::parse(DESCRIPTION, file).expect("valid description");
    let built = kubeproof::build::build(&platform, file).expect("generated");
    built.base.objects.iter().filter(|o| o.kind == "NetworkPolicy").map(|o| o.value.clone()).collect()
}

fn named<'a>(all: &'a [Value], ns: &str, name: &str) -> &'a Value {
    all.iter()
        .find(|p| p["metadata"]["namespace"] == ns && p["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no NetworkPolicy {ns}/{name}"))
}

fn peer(ns: &str, app: &str) -> Value {
    json!({
        "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": ns } },
        "podSelector": { "matchLabels": { "app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "shop" } }
    })
}

fn ns_peer(ns: &str) -> Value {
    json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": ns } } })
}

fn tcp(ports: &[u16]) -> Value {
    Value::Array(ports.iter().map(|p| json!({ "port": p, "protocol": "TCP" })).collect())
}

#[test]
fn every_namespace_denies_by_default_and_allows_dns() {
    let all = policies();
    for ns in ["shop", "backend", "data"] {
        let deny = named(&all, ns, "default-deny");
        assert_eq!(deny["spec"]["podSelector"], json!({}), "{ns}: selects every pod");
        assert_eq!(deny["spec"]["policyTypes"], json!(["Ingress", "Egress"]), "{ns}");
        assert!(deny["spec"].get("ingress").is_none() && deny["spec"].get("egress").is_none(), "{ns}: no rules");
        let dns = named(&all, ns, "allow-dns");
        assert_eq!(dns["spec"]["policyTypes"], json!(["Egress"]), "{ns}");
        let rule = &dns["spec"]["egress"][0];
        assert_eq!(rule["ports"], json!([{ "port": 53, "protocol": "UDP" }, { "port": 53, "protocol": "TCP" }]));
        assert_eq!(rule["to"][0]["podSelector"]["matchLabels"]["k8s-app"], "kube-dns");
    }
}

#[test]
fn each_uses_edge_is_opened_on_both_sides_on_the_target_ports_only() {
    let all = policies();
    let web = named(&all, "shop", "web");
    assert_eq!(web["spec"]["egress"], json!([{ "to": [peer("backend", "api")], "ports": tcp(&[8000, 9000]) }]));
    assert_eq!(web["spec"]["ingress"], json!([{ "from": [ns_peer("edge")], "ports": tcp(&[8080]) }]));

    let api = named(&all, "backend", "api");
    assert_eq!(
        api["spec"]["ingress"],
        json!([
            { "from": [peer("shop", "web")], "ports": tcp(&[8000, 9000]) },
            { "from": [ns_peer("prom")], "ports": tcp(&[8000]) },
        ])
    );
    assert_eq!(api["spec"]["egress"][0], json!({ "to": [peer("data", "db")], "ports": tcp(&[5432]) }));
    let external = &api["spec"]["egress"][1];
    assert_eq!(external["ports"], tcp(&[443]));
    assert_eq!(external["to"][0]["ipBlock"]["cidr"], "0.0.0.0/0");
    // Anywhere but the cluster's own ranges: the private ones and the shared
    // address space (RFC 6598) some clusters give pods and Services.
    assert_eq!(
        external["to"][0]["ipBlock"]["except"],
        json!(["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"])
    );
    assert_eq!(api["spec"]["egress"].as_array().map(Vec::len), Some(2), "api uses exactly db and payments");

    let db = named(&all, "data", "db");
    assert_eq!(db["spec"]["policyTypes"], json!(["Ingress"]));
    assert_eq!(db["spec"]["ingress"], json!([{ "from": [peer("backend", "api")], "ports": tcp(&[5432]) }]));

    // A workload nobody calls, not exposed and calling nothing keeps the default deny.
    assert!(!all.iter().any(|p| p["metadata"]["name"] == "worker"), "worker needs no allow policy");
}
