//! Exposure per port (`ingress`, `loadBalancer`, `nodePort`, `gateway`,
//! `internal`) and placement (node selector, tolerations, affinity, priority
//! class, VPA, labels and annotations) on `tests/data/exposure/platform.yaml`,
//! which uses every one of those fields: the overlays build with `kubectl
//! kustomize` and pass the schema validator; each object has the shape the
//! field asks for; `gen` proves each edge open (and a planted block is caught).

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use kubeproof::build::connections::judge;
use kubeproof::generate::Stack;
use kubeproof::generate::connections::{Class, Connection, End, intended};
use kubeproof::model::Manifests;
use serde_json::{Value, json};

fn description() -> PathBuf {
    common::repo().join("tests/data/exposure/platform.yaml")
}

/// The objects of environment `env` (`plain` or `mesh`), by `Kind ns/name`.
fn objects(env: &str) -> BTreeMap<String, Value> {
    stack(env)
        .objects
        .iter()
        .map(|o| (format!("{} {}/{}", o.kind, o.namespace.as_deref().unwrap_or(""), o.name), o.value.clone()))
        .collect()
}

fn stack(env: &str) -> Stack {
    let file = description();
    let platform = kubeproof::description::load(&file).expect("valid description");
    let built = kubeproof::build::build(&platform, &file).expect("gen proves the stack");
    built.envs.into_iter().find(|(e, _)| e == env).expect("environment").1
}

fn wanted(env: &str) -> Vec<Connection> {
    let file = description();
    let platform = kubeproof::description::load(&file).expect("valid description");
    intended(&kubeproof::description::resolve::resolve(&platform, Some(env), &file).expect("resolves"))
}

fn get<'a>(all: &'a BTreeMap<String, Value>, id: &str) -> &'a Value {
    all.get(id).unwrap_or_else(|| panic!("no {id} in {:?}", all.keys().collect::<Vec<_>>()))
}

#[test]
fn every_overlay_builds_and_passes_the_schema_validator() {
    let out = tempfile::tempdir().expect("temp dir");
    common::gen_ok(&description(), out.path());
    let mut built = Vec::new();
    for env in common::overlays(out.path()) {
        let overlay = out.path().join("kustomize/overlays").join(&env);
        common::prepare_secrets(&overlay);
        let yaml = common::kustomize(&overlay).unwrap_or_else(|e| panic!("{env}: {e}"));
        let kinds: Vec<String> = common::parse_built(&yaml)
            .expect("kustomize output parses")
            .iter()
            .map(|o| o["kind"].as_str().unwrap_or_default().to_string())
            .collect();
        for kind in ["HTTPRoute", "VerticalPodAutoscaler", "Service", "Deployment", "StatefulSet"] {
            assert!(kinds.iter().any(|k| k == kind), "{env}: no {kind} in the built overlay");
        }
        built.push((env, yaml));
    }
    let yamls: Vec<&str> = built.iter().map(|(_, y)| y.as_str()).collect();
    for ((env, _), result) in built.iter().zip(common::validate_many(&yamls, "1.30")) {
        let v = result.unwrap_or_else(|e| panic!("{env}: {e}"));
        // The validator carries no Gateway API or VPA schema: those are the
        // objects it skips, each said (the others pass its strict schema).
        for line in &v.unchecked_custom {
            assert!(
                ["gateway.networking.k8s.io/v1", "autoscaling.k8s.io/v1"].iter().any(|a| line.contains(a))
                    || line.contains("istio.io")
                    || line.contains("cert-manager.io")
                    || line.contains("monitoring.coreos.com"),
                "{env}: unexpected object without schema: {line}"
            );
        }
        assert!(v.passed > 10, "{env}: {} objects passed", v.passed);
    }
}

#[test]
fn each_exposure_kind_writes_its_edge_object() {
    let all = objects("plain");
    let ingress = get(&all, "Ingress shop/web");
    assert_eq!(ingress["spec"]["rules"][0]["host"], "shop.example.com");
    assert_eq!(ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["port"]["name"], "http");
    assert_eq!(ingress["spec"]["tls"][0]["secretName"], "web-tls");

    let route = get(&all, "HTTPRoute shop/web");
    assert_eq!(route["apiVersion"], "gateway.networking.k8s.io/v1");
    assert_eq!(
        route["spec"]["parentRefs"],
        json!([{ "group": "gateway.networking.k8s.io", "kind": "Gateway", "namespace": "gateway", "name": "public" }])
    );
    assert_eq!(route["spec"]["hostnames"], json!(["admin.shop.example.com"]));
    assert_eq!(
        route["spec"]["rules"],
        json!([{
            "matches": [{ "path": { "type": "PathPrefix", "value": "/admin" } }],
            "backendRefs": [{ "name": "web", "port": 8081 }],
        }])
    );

    for (name, type_, port) in [("web-public", "LoadBalancer", "grpc"), ("web-nodeport", "NodePort", "raw")] {
        let s = get(&all, &format!("Service shop/{name}"));
        assert_eq!(s["spec"]["type"], type_, "{name}");
        assert_eq!(s["spec"]["externalTrafficPolicy"], "Local", "{name}: keeps the client's address");
        let ports = s["spec"]["ports"].as_array().expect("ports");
        assert_eq!(ports.len(), 1, "{name}: only the published port");
        assert_eq!(ports[0]["targetPort"], port, "{name}");
    }
    // The ClusterIP Service stays in-cluster with every port, the internal one included.
    let main = get(&all, "Service shop/web");
    assert_eq!(main["spec"]["type"], "ClusterIP");
    assert_eq!(main["spec"]["ports"].as_array().map(Vec::len), Some(5));
    // `internal`: nothing at the edge for port 6060.
    let edge_objects = all.keys().filter(|k| k.starts_with("Ingress ") || k.starts_with("HTTPRoute ")).count();
    assert_eq!(edge_objects, 2, "{:?}", all.keys().collect::<Vec<_>>());
}

#[test]
fn the_network_policy_admits_each_edge_on_its_port_only() {
    let all = objects("plain");
    let ns = |n: &str| json!({ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": n } } });
    let tcp = |p: u16| json!([{ "port": p, "protocol": "TCP" }]);
    let anywhere = json!({ "ipBlock": { "cidr": "0.0.0.0/0" } });
    let rules = get(&all, "NetworkPolicy shop/web")["spec"]["ingress"].clone();
    assert_eq!(
        rules,
        json!([
            { "from": [ns("ingress-nginx")], "ports": tcp(8080) },
            { "from": [ns("gateway")], "ports": tcp(8081) },
            { "from": [anywhere], "ports": tcp(9090) },
            { "from": [anywhere], "ports": tcp(7000) },
        ])
    );
}

#[test]
fn gen_proves_every_edge_in_both_environments() {
    for env in ["plain", "mesh"] {
        let edges: Vec<(String, u16)> =
            wanted(env).into_iter().filter(|c| c.class == Class::Edge).map(|c| (c.from.to_string(), c.port)).collect();
        let ingress_ns = if env == "mesh" { "istio-system" } else { "ingress-nginx" };
        let gw = if env == "mesh" { " (service account istio-ingressgateway-service-account)" } else { "" };
        let mut expected = vec![
            (format!("the edge proxy in namespace {ingress_ns}{gw}"), 8080),
            ("the edge proxy in namespace gateway".to_string(), 8081),
            ("any address outside the cluster".to_string(), 9090),
            ("any address outside the cluster".to_string(), 7000),
        ];
        let mut got = edges.clone();
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{env}");
    }
}

#[test]
fn under_the_mesh_public_ports_alone_accept_plaintext_and_every_edge_is_authorized() {
    let all = objects("mesh");
    let pa = get(&all, "PeerAuthentication shop/web-public");
    assert_eq!(pa["spec"]["mtls"]["mode"], "STRICT");
    assert_eq!(
        pa["spec"]["portLevelMtls"],
        json!({ "7000": { "mode": "PERMISSIVE" }, "9090": { "mode": "PERMISSIVE" } })
    );
    let rules = get(&all, "AuthorizationPolicy shop/web")["spec"]["rules"].clone();
    let has = |r: Value| rules.as_array().is_some_and(|l| l.contains(&r));
    assert!(
        has(
            json!({ "from": [{ "source": { "namespaces": ["gateway"] } }], "to": [{ "operation": { "ports": ["8081"] } }] })
        ),
        "{rules}"
    );
    assert!(has(json!({ "to": [{ "operation": { "ports": ["9090"] } }] })), "{rules}");
    assert!(has(json!({ "to": [{ "operation": { "ports": ["7000"] } }] })), "{rules}");
}

/// Without the rule admitting any address on 9090, the public port's edge
/// is blocked, and the proof says so.
#[test]
fn a_planted_block_on_a_public_port_is_caught() {
    for env in ["plain", "mesh"] {
        let mut s = stack(env);
        let policy = s.objects.iter_mut().find(|o| o.kind == "NetworkPolicy" && o.name == "web").expect("web's policy");
        let rules = policy.value["spec"]["ingress"].as_array_mut().expect("ingress rules");
        rules.retain(|r| r["ports"][0]["port"] != 9090);
        let sources = kubeproof::build::stack_sources(&format!("kustomize/overlays/{env}"), &s).expect("loads");
        let cx = Manifests::new(&sources);
        let (_, blocked) = judge(&cx, &wanted(env));
        let lb: Vec<_> = blocked.iter().filter(|b| b.connection.port == 9090).collect();
        assert_eq!(lb.len(), 1, "{env}: {blocked:?}");
        assert_eq!(lb[0].connection.from, End::Internet);
        assert!(lb[0].reason.contains("no ingress rule of NetworkPolicy shop/web"), "{env}: {}", lb[0].reason);
        assert_eq!(blocked.len(), 1, "{env}: only that edge: {blocked:?}");
    }
}

#[test]
fn placement_lands_on_the_pods_beside_kubeproofs_own() {
    let all = objects("plain");
    let web = get(&all, "Deployment shop/web");
    let pod = &web["spec"]["template"]["spec"];
    assert_eq!(pod["nodeSelector"], json!({ "kubernetes.io/os": "linux" }));
    assert_eq!(pod["priorityClassName"], "shop-high");
    assert_eq!(
        pod["tolerations"],
        json!([
            { "key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule" },
            { "key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 30 },
        ])
    );
    let anti = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
        .as_array()
        .expect("anti-affinity terms");
    assert_eq!(anti.len(), 2, "kubeproof's spread term and the description's: {anti:?}");
    assert_eq!(anti[0]["podAffinityTerm"]["labelSelector"]["matchLabels"]["app.kubernetes.io/name"], "web");
    assert_eq!(anti[1]["weight"], 50);
    let zones = &pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
    assert_eq!(zones["nodeSelectorTerms"][0]["matchExpressions"][0]["values"], json!(["eu-west-1a", "eu-west-1b"]));

    // Labels and annotations on the workload and its pods; kubeproof's stay.
    for meta in [&web["metadata"], &web["spec"]["template"]["metadata"]] {
        assert_eq!(meta["labels"]["team"], "storefront");
        assert_eq!(meta["labels"]["app.kubernetes.io/name"], "web");
        assert_eq!(meta["annotations"]["example.com/owner"], "storefront");
    }
    assert!(web["spec"]["template"]["metadata"]["annotations"]["kubeproof.dev/config-hash"].is_string());
    assert_eq!(
        web["spec"]["selector"]["matchLabels"],
        json!({ "app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop", "track": "stable" }),
        "the description's labels stay out of the selector"
    );

    let db = get(&all, "StatefulSet shop/db");
    assert_eq!(db["spec"]["template"]["spec"]["nodeSelector"], json!({ "disk": "ssd" }));
    assert_eq!(db["spec"]["template"]["spec"]["priorityClassName"], "shop-high");
    assert_eq!(db["spec"]["template"]["metadata"]["labels"]["tier"], "data");

    let ns = get(&all, "Namespace /shop");
    assert_eq!(ns["metadata"]["labels"]["team"], "storefront");
    assert_eq!(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");
    assert_eq!(ns["metadata"]["annotations"]["example.com/owner"], "storefront@example.com");
}

#[test]
fn a_vpa_per_workload_that_asks_for_one() {
    let all = objects("plain");
    let web = get(&all, "VerticalPodAutoscaler shop/web");
    assert_eq!(web["apiVersion"], "autoscaling.k8s.io/v1");
    assert_eq!(web["spec"]["targetRef"], json!({ "apiVersion": "apps/v1", "kind": "Deployment", "name": "web" }));
    assert_eq!(web["spec"]["updatePolicy"]["updateMode"], "Auto");
    assert_eq!(
        web["spec"]["resourcePolicy"]["containerPolicies"],
        json!([
            {
                "containerName": "web",
                "controlledResources": ["cpu", "memory"],
                "minAllowed": { "cpu": "100m", "memory": "128Mi" },
                "maxAllowed": { "cpu": "2", "memory": "2Gi" },
            },
            { "containerName": "*", "mode": "Off" },
        ])
    );
    let db = get(&all, "VerticalPodAutoscaler shop/db");
    assert_eq!(db["spec"]["targetRef"]["kind"], "StatefulSet");
    assert_eq!(db["spec"]["updatePolicy"]["updateMode"], "Off", "recommendations only");
    assert_eq!(db["spec"]["resourcePolicy"]["containerPolicies"][0]["maxAllowed"], json!({ "memory": "4Gi" }));
    assert!(db["spec"]["resourcePolicy"]["containerPolicies"][0].get("minAllowed").is_none());
}

#[test]
fn the_readme_lists_the_gateway_api_the_vpa_and_the_public_services() {
    use kubeproof::emit::prerequisites::{Need, prerequisites};
    let file = description();
    let platform = kubeproof::description::load(&file).expect("valid description");
    let built = kubeproof::build::build(&platform, &file).expect("generated");
    let listed: BTreeMap<Need, Vec<String>> =
        prerequisites(&built.envs).into_iter().map(|p| (p.need, p.names.into_iter().collect())).collect();
    assert_eq!(listed[&Need::GatewayApi], vec!["gateway/public shop".to_string()]);
    assert_eq!(listed[&Need::LoadBalancer], vec!["shop/web-public".to_string()]);
    assert_eq!(listed[&Need::NodePorts], vec!["shop/web-nodeport".to_string()]);
    assert_eq!(listed[&Need::Vpa], vec!["Auto".to_string(), "Off".to_string()]);
    let readme =
        String::from_utf8(built.tree.iter().find(|(p, _)| p.ends_with("README.md")).expect("README").1.to_vec())
            .expect("UTF-8");
    assert!(readme.contains("**The Gateway API CRDs**") && readme.contains("the Gateway `gateway/public`"), "{readme}");
    assert!(readme.contains("**The Vertical Pod Autoscaler**"), "{readme}");
    assert!(readme.contains("`shop/web-public`") && readme.contains("`shop/web-nodeport`"), "{readme}");
}

/// PLATFORMS.md asks VPA recommendations of kailash: one VPA per service and
/// datastore, recommending only (its HPAs scale on cpu and memory).
#[test]
fn kailash_gets_a_recommending_vpa_per_workload() {
    let all = common::base_objects("kailash");
    let workloads: Vec<(&str, &str)> = all
        .values()
        .filter(|o| matches!(o["kind"].as_str(), Some("Deployment" | "StatefulSet")))
        .filter(|o| !o["metadata"]["name"].as_str().unwrap_or_default().ends_with("-canary"))
        .map(|o| (o["kind"].as_str().unwrap_or_default(), o["metadata"]["name"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(workloads.len(), 7, "{workloads:?}");
    for (kind, name) in workloads {
        let vpa = all
            .values()
            .find(|o| o["kind"] == "VerticalPodAutoscaler" && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no VPA for {kind} {name}"));
        assert_eq!(vpa["spec"]["targetRef"]["kind"], kind, "{name}");
        assert_eq!(vpa["spec"]["updatePolicy"]["updateMode"], "Off", "{name}");
    }
}

/// The Gateway API's validators (kubernetes-models, from its CRDs; through
/// tests/node/validate-custom-resources.mjs): a second implementation.
#[test]
fn http_routes_pass_the_gateway_api_schema() {
    let Some(script) = common::custom_resource_validator() else { return };
    for env in ["plain", "mesh"] {
        let routes: Vec<Value> = objects(env).into_values().filter(|o| o["kind"] == "HTTPRoute").collect();
        assert_eq!(routes.len(), 1, "{env}");
        let out = common::validate_custom_resources(&script, &routes).unwrap_or_else(|e| panic!("{env}: {e}"));
        assert_eq!(out.trim(), "valid: HTTPRoute shop/web (model)", "{env}");
    }
    // The validator can fail: a wildcard-only host breaks the schema's pattern.
    let mut bad = objects("plain").remove("HTTPRoute shop/web").expect("route");
    bad["spec"]["hostnames"] = json!(["*"]);
    let err = common::validate_custom_resources(&script, &[bad]).expect_err("a `*` host is invalid");
    assert!(err.contains("invalid: HTTPRoute shop/web") && err.contains("hostnames/0"), "{err}");
}

/// Built from an inline description: every environment's objects.
fn build_text(text: &str) -> Vec<(String, Stack)> {
    let file = std::path::Path::new("platform.yaml");
    let platform = kubeproof::description::parse(text, file).expect("valid description");
    kubeproof::build::build(&platform, file).expect("gen proves the stack").envs
}

/// Under the mesh the ingress gateway is where `cluster.ingressNamespace`
/// says: its certificate goes there, and it is authorized by its identity
/// there (the edge proof would refuse a mismatch).
#[test]
fn the_istio_gateway_is_authorized_in_the_declared_ingress_namespace() {
    let envs = build_text(
        "apiVersion: kubeproof.dev/v1alpha1\nname: shop\n\
         cluster: { kubernetes: \"1.30\", mesh: istio, ingressNamespace: istio-ingress }\n\
         services:\n  web: { image: ghcr.io/example/web:1.0.0, port: 8080, expose: { host: shop.example.com } }\n",
    );
    let objects = &envs[0].1.objects;
    let find = |kind: &str| objects.iter().find(|o| o.kind == kind).unwrap_or_else(|| panic!("no {kind}"));
    assert_eq!(find("Certificate").namespace.as_deref(), Some("istio-ingress"));
    let rules = &find("AuthorizationPolicy").value["spec"]["rules"];
    assert_eq!(
        rules[0]["from"][0]["source"]["principals"],
        json!(["cluster.local/ns/istio-ingress/sa/istio-ingressgateway-service-account"])
    );
}

/// An environment can take a port off the edge: `type: internal` writes nothing there.
#[test]
fn an_environment_makes_an_exposed_port_internal() {
    let envs = build_text(
        "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster: { kubernetes: \"1.30\" }\n\
         environments:\n  dev: { services: { web: { expose: { type: internal } } } }\n  prod: {}\n\
         services:\n  web: { image: ghcr.io/example/web:1.0.0, port: 8080, expose: { host: shop.example.com } }\n",
    );
    let ingresses = |env: &str| {
        let stack = &envs.iter().find(|(e, _)| e == env).expect("env").1;
        stack.objects.iter().filter(|o| o.kind == "Ingress").count()
    };
    assert_eq!(ingresses("prod"), 1);
    assert_eq!(ingresses("dev"), 0);
}

/// `kubeproof graph` draws one edge from the edge to web with every
/// published port (Ingress, HTTPRoute, LoadBalancer, NodePort) and its
/// hosts; without the rule admitting any address, the public ports are not
/// among the allowed ones.
#[test]
fn the_graph_shows_every_edge_into_the_platform() {
    let dot = |path: &std::path::Path| {
        let o = common::kubeproof(["graph", path.to_str().expect("UTF-8"), "--format", "dot"], None);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).expect("UTF-8")
    };
    let out = dot(&description());
    let edge = out.lines().find(|l| l.contains("\"ingress\" -> \"shop/Deployment/web\"")).expect("an edge into web");
    assert!(edge.contains("admin.shop.example.com, shop.example.com → :7000,8080,8081,9090"), "{edge}");
    assert!(edge.contains("tooltip=\"allowed\""), "{edge}");
    assert!(out.contains("Gateway API + Ingress (nginx) + LoadBalancer Service + NodePort Service"), "{out}");

    // The generated manifests with web's public rules removed: 7000 and 9090 are not reachable.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut s = stack("plain");
    let policy = s.objects.iter_mut().find(|o| o.kind == "NetworkPolicy" && o.name == "web").expect("policy");
    let rules = policy.value["spec"]["ingress"].as_array_mut().expect("rules");
    rules.retain(|r| r["from"][0].get("ipBlock").is_none());
    let yaml: String =
        s.objects.iter().map(|o| format!("---\n{}\n", serde_json::to_string(&o.value).expect("JSON"))).collect();
    let file = dir.path().join("stack.yaml");
    std::fs::write(&file, yaml).expect("written");
    let out = dot(&file);
    let edge = out.lines().find(|l| l.contains("\"ingress\" -> \"shop/Deployment/web\"")).expect("an edge into web");
    assert!(edge.contains(":8080,8081") && !edge.contains("9090") && !edge.contains("7000"), "{edge}");
}

/// A LoadBalancer or NodePort Service spreads connections over every pod
/// it selects, the canary's among them: from outside, the canary would get
/// its share of the pods, not the weight its step declares (only the mesh's
/// routes split by weight). Refused under the mesh, at the service, with
/// the fix; without the mesh no canary runs, so nothing is refused.
#[test]
fn a_canary_is_refused_behind_a_port_published_as_it_is() {
    let text = |mesh: &str, kind: &str| {
        format!(
            "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster: {{ kubernetes: \"1.30\", mesh: {mesh} }}\n\
             services:\n  web:\n    image: ghcr.io/example/web:1.0.0\n    port: 8080\n    replicas: 2\n    \
             expose: {{ type: {kind} }}\n    \
             traffic: {{ canary: {{ image: ghcr.io/example/web:1.1.0, steps: [10, 50] }} }}\n"
        )
    };
    for kind in ["loadBalancer", "nodePort"] {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("platform.yaml"), text("istio", kind)).expect("written");
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubeproof"))
            .current_dir(dir.path())
            .args(["gen", "platform.yaml", "-o", "deploy", "--color", "never"])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{stderr}");
        let message = format!(
            "error: `web` runs a canary and publishes port `http` with `type: {kind}`: that Service spreads \
             connections over the canary's pods as over the others, not by the canary's 10%"
        );
        assert!(stderr.contains(&message), "{stderr}");
        assert!(stderr.contains("--> platform.yaml:5:3\n"), "at the service: {stderr}");
        assert!(stderr.contains("= help: publish it with `type: ingress`"), "{stderr}");
        assert!(!dir.path().join("deploy").exists(), "nothing written");
        // Without the mesh, no canary Deployment: nothing to refuse.
        assert_eq!(build_text(&text("none", kind)).len(), 1);
    }
}

/// A canary runs the service's pods with another image: its VPA is the
/// service's, on its own Deployment (one VPA per Deployment), so that its
/// pods are sized, or recommended for, as the stable ones are.
#[test]
fn a_canary_has_the_vpa_of_its_service() {
    let envs = build_text(
        "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster: { kubernetes: \"1.30\", mesh: istio }\n\
         services:\n  web:\n    image: ghcr.io/example/web:1.0.0\n    port: 8080\n    replicas: 2\n    \
         vpa: { mode: auto, maxAllowed: { memory: 1Gi } }\n    \
         traffic: { canary: { image: ghcr.io/example/web:1.1.0, steps: [10, 50] } }\n",
    );
    let objects = &envs[0].1.objects;
    let vpa = |name: &str| {
        objects
            .iter()
            .find(|o| o.kind == "VerticalPodAutoscaler" && o.name == name)
            .unwrap_or_else(|| panic!("no VPA {name}"))
    };
    let (stable, canary) = (vpa("web"), vpa("web-canary"));
    assert_eq!(
        canary.value["spec"]["targetRef"],
        json!({ "apiVersion": "apps/v1", "kind": "Deployment", "name": "web-canary" })
    );
    assert_eq!(canary.value["spec"]["resourcePolicy"], stable.value["spec"]["resourcePolicy"]);
    assert_eq!(canary.value["spec"]["updatePolicy"], json!({ "updateMode": "Auto" }));
    assert_eq!(stable.value["spec"]["targetRef"]["name"], "web");
}
