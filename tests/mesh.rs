//! The Istio mesh of the examples that declare one (PLATFORMS.md platforms 1,
//! 3 and 5), read back from what `kubectl kustomize` builds of each overlay:
//! the figures of PLATFORMS.md are in the generated objects, the Istio objects
//! hang together (every route to an existing Service, subset and Gateway),
//! and kubeproof's checks find nothing to report in them.

use crate::common;

use serde_json::{Value, json};

/// Generates `examples/NAME.yaml` and builds the overlay `env`.
fn built(name: &str, env: &str) -> Vec<Value> {
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    common::gen_ok(&common::repo().join(format!("examples/{name}.yaml")), &out);
    let overlay = out.join("kustomize/overlays").join(env);
    common::prepare_secrets(&overlay);
    if !common::have_kubectl() {
        // Without kubectl, the generated stack itself (the base when no
        // environment changes it) is read through the library.
        return generated(name, env);
    }
    let yaml = common::kustomize(&overlay).unwrap_or_else(|e| panic!("{e}"));
    common::parse_built(&yaml).unwrap_or_else(|e| panic!("{name}/{env}: {e}"))
}

fn generated(name: &str, env: &str) -> Vec<Value> {
    let file = common::repo().join(format!("examples/{name}.yaml"));
    let platform = kubeproof::description::load(&file).expect("valid example");
    let built = kubeproof::build::build(&platform, &file).expect("generated");
    let (_, stack) = built.envs.iter().find(|(e, _)| e == env).expect("environment");
    stack.objects.iter().map(|o| o.value.clone()).collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, ns: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["namespace"] == ns && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {ns}/{name}"))
}

/// The first route that leads to the service (the gateway's metrics 404 comes first).
fn app_route(vs: &Value) -> &Value {
    vs["spec"]["http"].as_array().into_iter().flatten().find(|r| r.get("route").is_some()).expect("a route")
}

fn count(objects: &[Value], kind: &str) -> usize {
    objects.iter().filter(|o| o["kind"] == kind).count()
}

/// kubeproof's own checks over a built overlay, with the configuration `gen`
/// writes beside it (`.kubeproof.yaml`: the version, the declared metrics):
/// no error, no warning.
fn assert_clean(objects: &[Value], what: &str) {
    let text: String = objects.iter().map(|o| format!("---\n{}", serde_saphyr::to_string(o).unwrap())).collect();
    let name = what.split('/').next().unwrap_or(what);
    let file = common::repo().join(format!("examples/{name}.yaml"));
    let platform = kubeproof::description::load(&file).expect("valid example");
    let built = kubeproof::build::build(&platform, &file).expect("generated");
    let written = built.tree.get(std::path::Path::new(".kubeproof.yaml")).expect("gen writes .kubeproof.yaml");
    let config: kubeproof::check::config::Config =
        serde_saphyr::from_slice(written).expect("gen's check configuration parses");
    let (loaded, outcome) = kubeproof::check::check_text(what, &text, &config);
    assert!(loaded.errors.is_empty(), "{what}: {:?}", loaded.errors);
    let bad: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.severity >= kubeproof::check::Severity::Warning)
        .map(|f| kubeproof::check::diagnostic(f, &loaded).to_string())
        .collect();
    assert!(bad.is_empty(), "{what}:\n{}", bad.join("\n"));
}

#[test]
fn hdr_empire_istio_variant() {
    let objects = built("hdr-empire", "default");
    assert_eq!(count(&objects, "Ingress"), 0, "the Istio Gateway replaces the Ingress");
    let ns = "hdr-empire";
    let gw = find(&objects, "Gateway", ns, "hdr-empire");
    let servers = gw["spec"]["servers"].as_array().unwrap();
    assert_eq!(servers[0]["port"]["number"], 80);
    assert_eq!(servers[0]["tls"]["httpsRedirect"], true);
    assert_eq!(servers[1]["hosts"], json!(["hdr-empire.example.com"]));
    assert_eq!(servers[1]["tls"]["mode"], "SIMPLE");
    assert_eq!(servers[1]["tls"]["minProtocolVersion"], "TLSV1_2");
    // The certificate the gateway reads lives in its own namespace.
    let secret = servers[1]["tls"]["credentialName"].as_str().unwrap();
    let cert = find(&objects, "Certificate", "istio-system", "hdr-empire-hdr-empire");
    assert_eq!(cert["spec"]["secretName"], secret);
    assert_eq!(cert["spec"]["dnsNames"], json!(["hdr-empire.example.com"]));
    assert_eq!(cert["spec"]["issuerRef"]["name"], "letsencrypt-prod");

    let vs = find(&objects, "VirtualService", ns, "hdr-empire");
    assert_eq!(vs["spec"]["gateways"], json!(["hdr-empire/hdr-empire", "mesh"]));
    let route = app_route(vs);
    assert_eq!(route["retries"]["attempts"], 3);
    assert_eq!(route["retries"]["perTryTimeout"], "2s");
    assert!(route.get("fault").is_none(), "no fault injection unless asked");

    let dr = find(&objects, "DestinationRule", ns, "hdr-empire");
    let tp = &dr["spec"]["trafficPolicy"];
    assert_eq!(tp["tls"]["mode"], "ISTIO_MUTUAL");
    assert_eq!(tp["connectionPool"]["tcp"]["maxConnections"], 100);
    assert_eq!(tp["connectionPool"]["http"]["http2MaxRequests"], 1000);
    assert_eq!(tp["outlierDetection"]["consecutive5xxErrors"], 5);
    assert_eq!(tp["outlierDetection"]["baseEjectionTime"], "30s");

    assert_eq!(find(&objects, "PeerAuthentication", ns, "default")["spec"]["mtls"]["mode"], "STRICT");
    // Prometheus scrapes with its mesh identity: no port is left PERMISSIVE.
    assert!(!objects.iter().any(|o| o["kind"] == "PeerAuthentication" && o["spec"].get("portLevelMtls").is_some()));
    // The edge's metrics path is answered at the gateway, never routed.
    let first = &vs["spec"]["http"][0];
    assert_eq!(first["directResponse"]["status"], 404);
    assert_eq!(first["match"][0], json!({ "uri": { "exact": "/metrics" }, "gateways": ["hdr-empire/hdr-empire"] }));

    // Redis admits hdr-empire only; hdr-empire the ingress gateway (and GET /metrics).
    let redis = find(&objects, "AuthorizationPolicy", ns, "redis");
    assert_eq!(
        redis["spec"]["rules"],
        json!([{ "from": [{ "source": { "principals": ["cluster.local/ns/hdr-empire/sa/hdr-empire"] } }] }])
    );
    let api = find(&objects, "AuthorizationPolicy", ns, "hdr-empire");
    assert_eq!(
        api["spec"]["rules"][0]["from"][0]["source"]["principals"],
        json!(["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"])
    );
    assert_eq!(api["spec"]["rules"][1]["to"][0]["operation"]["paths"], json!(["/metrics"]));
    assert_eq!(api["spec"]["rules"][1]["from"][0]["source"], json!({ "namespaces": ["monitoring"] }));
    let deny = find(&objects, "AuthorizationPolicy", ns, "hdr-empire-metrics");
    assert_eq!(deny["spec"]["action"], "DENY");
    assert_eq!(deny["spec"]["rules"][0]["from"][0]["source"], json!({ "notNamespaces": ["monitoring"] }));

    // Network policy: ingress only from istio-system and monitoring.
    let np = find(&objects, "NetworkPolicy", ns, "hdr-empire");
    let from: Vec<&Value> =
        np["spec"]["ingress"].as_array().unwrap().iter().flat_map(|r| r["from"].as_array().unwrap()).collect();
    let namespaces: Vec<&str> = from
        .iter()
        .map(|p| p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"].as_str().unwrap())
        .collect();
    assert_eq!(namespaces, ["istio-system", "monitoring"]);
    assert_clean(&objects, "hdr-empire/default");
}

#[test]
fn machine_native_ops_canary_jwt_and_external_hosts() {
    let objects = built("machine-native-ops", "default");
    let ns = "machine-native-ops";
    let gw = find(&objects, "Gateway", ns, "ops-api");
    assert_eq!(gw["spec"]["servers"][1]["tls"]["minProtocolVersion"], "TLSV1_2");
    assert_eq!(gw["spec"]["servers"][1]["tls"]["maxProtocolVersion"], "TLSV1_3");

    // Canary at the first of 10 → 25 → 50 → 100.
    let vs = find(&objects, "VirtualService", ns, "ops-api");
    let route = app_route(vs);
    assert_eq!(route["route"][0]["destination"]["subset"], "stable");
    assert_eq!(route["route"][0]["weight"], 90);
    assert_eq!(route["route"][1]["destination"]["subset"], "canary");
    assert_eq!(route["route"][1]["weight"], 10);
    assert_eq!(route["retries"]["attempts"], 3);
    let canary = find(&objects, "Deployment", ns, "ops-api-canary");
    assert_eq!(canary["spec"]["template"]["metadata"]["labels"]["track"], "canary");
    // Neither Deployment selects the other's pods.
    assert_eq!(canary["spec"]["selector"]["matchLabels"]["track"], "canary");
    assert_eq!(
        canary["spec"]["template"]["spec"]["containers"][0]["image"],
        "ghcr.io/machine-native-ops/ops-api:3.3.0"
    );
    let stable = find(&objects, "Deployment", ns, "ops-api");
    assert_eq!(stable["spec"]["selector"]["matchLabels"]["track"], "stable");

    let dr = find(&objects, "DestinationRule", ns, "ops-api");
    let tp = &dr["spec"]["trafficPolicy"];
    assert_eq!(tp["loadBalancer"]["simple"], "LEAST_CONN");
    assert_eq!(tp["outlierDetection"]["consecutive5xxErrors"], 5);
    assert_eq!(tp["outlierDetection"]["interval"], "30s");
    assert_eq!(tp["connectionPool"]["tcp"]["maxConnections"], 100);
    assert_eq!(
        dr["spec"]["subsets"],
        json!([{ "name": "stable", "labels": { "track": "stable" } }, { "name": "canary", "labels": { "track": "canary" } }])
    );

    let ra = find(&objects, "RequestAuthentication", ns, "ops-api");
    assert_eq!(ra["spec"]["jwtRules"][0]["issuer"], "https://auth.machine-native-ops.example.com");
    let authz = find(&objects, "AuthorizationPolicy", ns, "ops-api");
    assert_eq!(
        authz["spec"]["rules"][0]["from"][0]["source"]["requestPrincipals"],
        json!(["https://auth.machine-native-ops.example.com/*"])
    );
    // Each datastore admits its one caller and its backup and restore pods.
    for store in ["postgres", "redis"] {
        let p = find(&objects, "AuthorizationPolicy", ns, store);
        assert_eq!(
            p["spec"]["rules"][0]["from"][0]["source"]["principals"],
            json!([
                "cluster.local/ns/machine-native-ops/sa/ops-api",
                format!("cluster.local/ns/machine-native-ops/sa/{store}-backup")
            ])
        );
    }
    let pg = find(&objects, "ServiceEntry", ns, "external-postgres");
    assert_eq!(pg["spec"]["hosts"], json!(["pg.shared.machine-native-ops.example.net"]));
    assert_eq!(pg["spec"]["ports"][0], json!({ "number": 5432, "name": "tcp-5432", "protocol": "TCP" }));
    let redis = find(&objects, "ServiceEntry", ns, "external-redis");
    assert_eq!(redis["spec"]["ports"][0]["number"], 6379);
    assert_eq!(find(&objects, "PeerAuthentication", ns, "default")["spec"]["mtls"]["mode"], "STRICT");
    assert_clean(&objects, "machine-native-ops/default");
}

#[test]
fn kailash_mesh_in_staging_and_prod_only() {
    let dev = built("kailash", "dev");
    for kind in ["Gateway", "VirtualService", "DestinationRule", "PeerAuthentication", "AuthorizationPolicy"] {
        assert_eq!(count(&dev, kind), 0, "dev has no mesh, yet it has a {kind}");
    }
    assert_eq!(count(&dev, "Ingress"), 3, "dev goes through NGINX");
    assert_clean(&dev, "kailash/dev");

    for env in ["staging", "prod"] {
        let objects = built("kailash", env);
        assert_eq!(count(&objects, "Ingress"), 0);
        let vs = find(&objects, "VirtualService", "kailash", "api");
        let route = app_route(vs);
        assert_eq!(route["timeout"], "15s");
        assert_eq!(route["retries"]["attempts"], 3);
        assert_eq!(route["route"][1]["weight"], 10, "{env}: canary split");
        let dr = find(&objects, "DestinationRule", "kailash", "api");
        assert_eq!(dr["spec"]["trafficPolicy"]["outlierDetection"]["consecutive5xxErrors"], 5);
        // WebSocket sessions stay on their pod.
        let mcp = find(&objects, "DestinationRule", "kailash", "mcp-server");
        assert_eq!(mcp["spec"]["trafficPolicy"]["loadBalancer"], json!({ "consistentHash": { "useSourceIp": true } }));
        // Fault injection only where asked: staging's dataflow.
        let df = find(&objects, "VirtualService", "kailash", "dataflow");
        let fault = &df["spec"]["http"][0]["fault"];
        if env == "staging" {
            assert_eq!(fault["abort"]["httpStatus"], 503);
            assert_eq!(fault["delay"]["fixedDelay"], "2s");
        } else {
            assert!(fault.is_null(), "prod has no fault injection");
        }
        // Authorization by identity: api admits mcp-server and the gateway.
        let authz = find(&objects, "AuthorizationPolicy", "kailash", "api");
        assert_eq!(
            authz["spec"]["rules"][0]["from"][0]["source"]["principals"],
            json!(["cluster.local/ns/kailash/sa/mcp-server"])
        );
        rate_limits(&objects, env);
        assert_clean(&objects, &format!("kailash/{env}"));
    }
    assert_eq!(count(&dev, "EnvoyFilter"), 0, "dev limits at NGINX");
    let ingress = find(&dev, "Ingress", "kailash", "api");
    assert_eq!(ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/limit-rps"], "50");
}

/// `expose.rateLimit` under the mesh: one EnvoyFilter per limited host on the
/// ingress gateway, whose route patch names the filter it inserts and the
/// virtual host of the Gateway's HTTPS server.
fn rate_limits(objects: &[Value], env: &str) {
    assert_eq!(count(objects, "EnvoyFilter"), 3, "{env}: api, mcp-server and nexus are rate limited");
    for (svc, rps) in [("api", 50), ("mcp-server", 20), ("nexus", 50)] {
        let ef = find(objects, "EnvoyFilter", "istio-system", &format!("kailash-{svc}-ratelimit"));
        assert_eq!(ef["apiVersion"], "networking.istio.io/v1alpha3");
        assert_eq!(ef["spec"]["workloadSelector"]["labels"], json!({ "istio": "ingressgateway" }));
        let [insert, route] = ef["spec"]["configPatches"].as_array().expect("patches").as_slice() else {
            panic!("{env}/{svc}: two patches expected")
        };
        assert_eq!(insert["applyTo"], "HTTP_FILTER");
        assert_eq!(insert["match"]["context"], "GATEWAY");
        assert_eq!(insert["patch"]["operation"], "INSERT_BEFORE");
        let name = insert["patch"]["value"]["name"].as_str().expect("filter name");
        assert!(
            insert["patch"]["value"]["typed_config"]["value"]["token_bucket"].is_null(),
            "the inserted filter limits nothing by itself"
        );
        let gateway = find(objects, "Gateway", "kailash", svc);
        let https = &gateway["spec"]["servers"][1];
        assert_eq!(https["port"]["number"], 443);
        let host = https["hosts"][0].as_str().expect("host");
        assert_eq!(route["applyTo"], "HTTP_ROUTE");
        assert_eq!(route["match"]["routeConfiguration"]["vhost"]["name"], format!("{host}:443"));
        let config = &route["patch"]["value"]["typed_per_filter_config"][name];
        assert_eq!(
            config["type_url"],
            "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"
        );
        let bucket = &config["value"]["token_bucket"];
        assert_eq!(bucket["tokens_per_fill"], rps, "{env}/{svc}");
        assert_eq!(bucket["max_tokens"], rps * 5, "{env}/{svc}: burst as NGINX's multiplier 5");
        assert_eq!(bucket["fill_interval"], "1s");
        assert_eq!(config["value"]["filter_enforced"]["default_value"]["numerator"], 100);
    }
}

#[test]
fn a_mesh_without_its_pieces_is_reported() {
    // The generated objects, minus the canary Deployment and the Gateway: the
    // checks that guard the mesh notice.
    let objects: Vec<Value> = generated("machine-native-ops", "default")
        .into_iter()
        .filter(|o| !(o["kind"] == "Gateway" || o["metadata"]["name"] == "ops-api-canary"))
        .collect();
    let text: String = objects.iter().map(|o| format!("---\n{}", serde_saphyr::to_string(o).unwrap())).collect();
    let (_, outcome) = kubeproof::check::check_text("m.yaml", &text, &Default::default());
    let codes: Vec<&str> = outcome.findings.iter().map(|f| f.code).collect();
    assert!(codes.contains(&"KP503"), "{codes:?}");
    assert!(codes.contains(&"KP508"), "{codes:?}");
}

/// Under STRICT mTLS, Prometheus scrapes with its mesh identity what each
/// ServiceMonitor names: the Service port it names must lead to a container
/// port whose AuthorizationPolicy opens `GET` of the ServiceMonitor's path to
/// the monitoring namespace only, and no port stays PERMISSIVE.
#[test]
fn scraped_metrics_ports_are_open_to_the_scraper_identity_only() {
    let mut scraped = 0;
    for (example, env) in
        [("hdr-empire", "default"), ("machine-native-ops", "default"), ("kailash", "staging"), ("kailash", "prod")]
    {
        let objects = built(example, env);
        for sm in objects.iter().filter(|o| o["kind"] == "ServiceMonitor") {
            let ns = sm["metadata"]["namespace"].as_str().unwrap_or("");
            let name = sm["metadata"]["name"].as_str().unwrap_or("");
            let at = format!("{example}/{env} ServiceMonitor {ns}/{name}");
            let svc = find(&objects, "Service", ns, name);
            let deploy = find(&objects, "Deployment", ns, name);
            let selector = &svc["spec"]["selector"];
            assert_eq!(&sm["spec"]["selector"]["matchLabels"], selector, "{at}: selects the Service");
            for ep in sm["spec"]["endpoints"].as_array().into_iter().flatten() {
                let path = ep["path"].as_str().unwrap_or("");
                let sport = svc["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p["name"] == ep["port"])
                    .unwrap_or_else(|| panic!("{at}: the Service has no port {}", ep["port"]));
                let target = &sport["targetPort"];
                let port = match target.as_u64() {
                    Some(n) => n,
                    None => deploy["spec"]["template"]["spec"]["containers"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
                        .find(|p| p["name"] == *target)
                        .and_then(|p| p["containerPort"].as_u64())
                        .unwrap_or_else(|| panic!("{at}: no container port {target}")),
                };
                assert!(
                    !objects.iter().any(|o| o["kind"] == "PeerAuthentication"
                        && o["metadata"]["namespace"] == ns
                        && o["metadata"]["name"] == name),
                    "{at}: no PERMISSIVE exception"
                );
                let authz = find(&objects, "AuthorizationPolicy", ns, name);
                let allowed = authz["spec"]["rules"].as_array().into_iter().flatten().any(|r| {
                    r["from"] == json!([{ "source": { "namespaces": ["monitoring"] } }])
                        && r["to"].as_array().into_iter().flatten().any(|t| {
                            let op = &t["operation"];
                            op["ports"] == json!([port.to_string()])
                                && op["methods"] == json!(["GET"])
                                && op["paths"] == json!([path])
                        })
                });
                assert!(allowed, "{at}: `GET {path}` on port {port} is not allowed: {authz}");
                scraped += 1;
            }
        }
    }
    assert!(scraped >= 4, "expected ServiceMonitors under the mesh, found {scraped}");
}
