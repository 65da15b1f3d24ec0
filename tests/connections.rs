//! Every connection a stack intends is proven open by `gen` (the evaluation
//! `kubeproof reach` uses, and Istio's authorization under a mesh), a
//! blocked one stops `gen` naming both ends and the deciding policy, and the
//! policies open nothing else between the stack's workloads.

use crate::common;

use std::collections::BTreeSet;

use kubeproof::build::connections::{judge, prove, unintended};
use kubeproof::generate::Stack;
use kubeproof::generate::connections::{Class, Connection, End, intended};
use kubeproof::model::Manifests;
use kubeproof::model::authz::{self, Caller, Request, Server};
use serde_json::json;

struct Env {
    env: String,
    stack: Stack,
    wanted: Vec<Connection>,
}

/// Each environment of an example: its stack and intended connections.
/// An example by name, or a test description by its path under the repository.
fn envs(example: &str) -> Vec<Env> {
    let file = match example.strip_suffix(".yaml") {
        Some(_) => common::repo().join(example),
        None => common::repo().join(format!("examples/{example}.yaml")),
    };
    let platform = kubeproof::description::load(&file).expect("valid example");
    let built = kubeproof::build::build(&platform, &file).expect("gen proves its connections");
    built
        .envs
        .iter()
        .map(|(env, stack)| {
            let name = (env != kubeproof::build::DEFAULT_ENV).then_some(env.as_str());
            let r = kubeproof::description::resolve::resolve(&platform, name, &file).expect("resolves");
            Env { env: env.clone(), stack: stack.clone(), wanted: intended(&r) }
        })
        .collect()
}

/// A platform with its own OpenTelemetry Collector and log shipper.
const COLLECTORS: &str = "tests/data/connections/collectors.yaml";

#[test]
fn the_own_collector_exports_and_the_shipper_ships_to_loki() {
    let e = envs(COLLECTORS).remove(0);
    let has = |class: Class, from: &str, to: &str, port: u16| {
        e.wanted
            .iter()
            .any(|c| c.class == class && c.from.to_string() == from && c.to.to_string() == to && c.port == port)
    };
    assert!(has(Class::Traces, "shop/web", "observability/otel", 4317), "{:?}", e.wanted);
    assert!(has(Class::TraceExport, "observability/otel", "observability/tempo", 4317), "{:?}", e.wanted);
    assert!(has(Class::Logs, "observability/shipper", "observability/loki", 3100), "{:?}", e.wanted);
    // Applications send to the collector, not past it to the backend.
    assert!(!e.wanted.iter().any(|c| c.class == Class::Traces && c.to.to_string() == "observability/tempo"));
}

fn dir(env: &str) -> String {
    format!("kustomize/overlays/{env}")
}

#[test]
fn every_example_proves_its_connections_of_each_class() {
    use Class::*;
    let expected: [(&str, &[Class]); 6] = [
        ("fingerprint-api", &[Scrape, KubernetesApi, Edge]),
        ("hdr-empire", &[Uses, Scrape, Traces, Edge]),
        (
            "health-platform",
            &[Uses, Scrape, Alerts, Notify, Traces, Datasource, Backup, BackupBucket, KubernetesApi, Edge],
        ),
        ("kailash", &[Uses, Scrape, Backup, BackupBucket, Edge]),
        ("machine-native-ops", &[Uses, Scrape, Traces, Backup, BackupBucket, Edge]),
        // No service of the shop exports Prometheus metrics: nothing to scrape.
        ("polyglot-shop", &[Uses, Edge]),
    ];
    let listed: Vec<&str> = expected.iter().map(|(e, _)| *e).collect();
    let on_disk: Vec<String> = common::examples().iter().map(|p| common::stem(p)).collect();
    assert_eq!(listed, on_disk, "every example has its expected classes here");
    for (example, classes) in expected {
        let file = common::repo().join(format!("examples/{example}.yaml"));
        let platform = kubeproof::description::load(&file).expect("valid example");
        let built = kubeproof::build::build(&platform, &file).expect("gen proves its connections");
        assert_eq!(built.connections.len(), built.envs.len(), "{example}: one proof per environment");
        for (env, proven) in &built.connections {
            let got: BTreeSet<Class> = proven.iter().map(|p| p.connection.class).collect();
            for c in classes {
                assert!(got.contains(c), "{example}/{env}: no {c} connection proven (got {got:?})");
            }
            for p in proven {
                // Both sides of every connection inside the stack are decided by a rule.
                assert!(!p.allowed_by.is_empty(), "{example}/{env}: {} proven by nothing", p.connection);
            }
        }
    }
}

#[test]
fn health_platform_monitoring_reaches_what_it_watches() {
    let e = &envs("health-platform")[0];
    let w = |ns: &str, name: &str| End::Workload { namespace: ns.into(), name: name.into() };
    let prometheus = w("health-observability", "prometheus");
    let has = |class, from: &End, to: &End, port| {
        e.wanted.iter().any(|c| c.class == class && &c.from == from && &c.to == to && c.port == port)
    };
    assert!(has(Class::Scrape, &prometheus, &w("health-api", "health-api"), 8001));
    assert!(has(Class::Alerts, &prometheus, &w("health-observability", "alertmanager"), 9093));
    assert!(has(Class::Traces, &w("health-api", "health-api"), &w("health-observability", "jaeger"), 4317));
    assert!(has(Class::Datasource, &w("health-observability", "grafana"), &w("health-observability", "loki"), 3100));
    // Its service discovery reads the Kubernetes API.
    assert!(has(Class::KubernetesApi, &prometheus, &End::KubernetesApi, 6443));
    let proven = prove(&dir(&e.env), &e.stack, &e.wanted).expect("proven");
    assert_eq!(proven.len(), e.wanted.len());
    // The scrape of health-api is admitted by a rule naming Prometheus, not its namespace.
    let scrape = proven
        .iter()
        .find(|p| p.connection.class == Class::Scrape && p.connection.to == w("health-api", "health-api"))
        .expect("scrape");
    assert!(
        scrape.allowed_by.iter().any(|a| a.contains("health-api/health-api") && a.contains("ingress")),
        "{scrape:?}"
    );
}

/// Removes the NetworkPolicy `ns/name` from the stack.
fn without_policy(stack: &Stack, ns: &str, name: &str) -> Stack {
    let mut s = stack.clone();
    let before = s.objects.len();
    s.objects.retain(|o| !(o.kind == "NetworkPolicy" && o.namespace.as_deref() == Some(ns) && o.name == name));
    assert_eq!(s.objects.len() + 1, before, "no NetworkPolicy {ns}/{name}");
    s
}

/// The NetworkPolicy carrying a workload end's own rules.
fn own_policy(c: &Connection, end: &End) -> Option<(String, String)> {
    let End::Workload { namespace, name } = end else { return None };
    // Backup and restore pods share the backup's policy.
    let name = match c.class {
        Class::Backup | Class::BackupBucket if end == &c.from => {
            name.strip_suffix("-restore").map_or(name.clone(), |s| format!("{s}-backup"))
        }
        _ => name.clone(),
    };
    Some((namespace.clone(), name))
}

#[test]
fn a_planted_block_of_each_class_stops_gen_naming_both_ends_and_the_policy() {
    let mut planted = BTreeSet::new();
    // No example runs its own collector or log shipper: the fixture does.
    for example in ["health-platform", "hdr-empire", "kailash", "machine-native-ops", "polyglot-shop", COLLECTORS] {
        for e in envs(example) {
            let mut seen = BTreeSet::new();
            for c in &e.wanted {
                if !seen.insert(c.class) {
                    continue;
                }
                // Block the client's side when it is in the stack, else the server's.
                let (end, side) = match own_policy(c, &c.from) {
                    Some(p) => (p, "egress"),
                    None => (own_policy(c, &c.to).expect("one end in the stack"), "ingress"),
                };
                let stack = without_policy(&e.stack, &end.0, &end.1);
                let err = prove(&dir(&e.env), &stack, std::slice::from_ref(c)).expect_err("blocked").to_string();
                let at = format!("{example}/{}: {c}", e.env);
                assert!(err.contains(&c.from.to_string()) && err.contains(&c.to.to_string()), "{at}: {err}");
                assert!(err.contains(&format!("{side} of")), "{at}: {err}");
                assert!(err.contains(&format!("default deny in namespace {}", end.0)), "{at}: {err}");
                assert!(err.contains("networkpolicy-default-deny.yaml"), "{at}: names the policy: {err}");
                planted.insert(c.class);
            }
        }
    }
    use Class::*;
    for c in [Uses, Scrape, Alerts, Notify, Traces, TraceExport, Logs, Datasource, Backup, BackupBucket, KubernetesApi]
    {
        assert!(planted.contains(&c), "no {c} connection was planted a block");
    }
}

#[test]
fn a_removed_rule_is_named_with_its_policy() {
    let e = &envs("health-platform")[0];
    let mut stack = e.stack.clone();
    // health-api keeps its policy but loses the egress rule to the trace collector.
    let np = stack
        .objects
        .iter_mut()
        .find(|o| o.kind == "NetworkPolicy" && o.name == "health-api" && o.namespace.as_deref() == Some("health-api"))
        .expect("policy");
    let egress = np.value["spec"]["egress"].as_array_mut().expect("egress");
    let before = egress.len();
    egress.retain(|r| r["ports"] != json!([{ "port": 4317, "protocol": "TCP" }]));
    assert_eq!(egress.len() + 1, before);
    let err = prove(&dir(&e.env), &stack, &e.wanted).expect_err("blocked").to_string();
    assert!(err.contains("1 intended connection(s) blocked"), "{err}");
    assert!(
        err.contains("health-api/health-api → health-observability/jaeger port 4317 [traces]: egress of Deployment health-api/health-api: no egress rule of NetworkPolicy")
            && err.contains("health-api/health-api (kustomize/overlays/default/health-api/networkpolicy-health-api.yaml"),
        "{err}"
    );
    assert!(err.ends_with("nothing was written"), "{err}");
}

#[test]
fn a_blocked_ingress_names_the_server_side() {
    let e = &envs("health-platform")[0];
    let stack = without_policy(&e.stack, "health-observability", "alertmanager");
    let err = prove(&dir(&e.env), &stack, &e.wanted).expect_err("blocked").to_string();
    assert!(
        err.contains("health-observability/prometheus → health-observability/alertmanager port 9093 [alerts]"),
        "{err}"
    );
    assert!(err.contains("ingress of Deployment health-observability/alertmanager"), "{err}");
}

fn manifests_of(env: &Env) -> kubeproof::model::Loaded {
    kubeproof::build::stack_sources(&dir(&env.env), &env.stack).expect("loads")
}

#[test]
fn policies_open_nothing_beyond_the_intended_connections() {
    for example in common::examples().iter().map(|p| common::stem(p)) {
        let example = example.as_str();
        for e in envs(example) {
            let loaded = manifests_of(&e);
            let cx = Manifests::new(&loaded);
            let extra = unintended(&cx, &e.wanted);
            assert!(extra.is_empty(), "{example}/{}: open but not intended:\n{}", e.env, extra.join("\n"));
        }
    }
    // A service that does not use a datastore cannot reach it: kailash's
    // mcp-server uses the API and Redis, not PostgreSQL.
    let e = &envs("kailash")[0];
    let loaded = manifests_of(e);
    let cx = Manifests::new(&loaded);
    let w = |name: &str| End::Workload { namespace: "kailash".into(), name: name.into() };
    let stray = Connection { class: Class::Uses, from: w("mcp-server"), to: w("postgres"), port: 5432, http: None };
    let (proven, blocked) = judge(&cx, &[stray]);
    assert!(proven.is_empty() && blocked.len() == 1, "mcp-server reaches postgres");
    // A planted over-broad rule is caught.
    let mut stack = e.stack.clone();
    let np = stack.objects.iter_mut().find(|o| o.kind == "NetworkPolicy" && o.name == "postgres").expect("policy");
    np.value["spec"]["ingress"].as_array_mut().expect("ingress").push(json!({ "from": [{ "namespaceSelector": {} }] }));
    let egress =
        stack.objects.iter_mut().find(|o| o.kind == "NetworkPolicy" && o.name == "mcp-server").expect("policy");
    egress.value["spec"]["egress"].as_array_mut().expect("egress").push(json!({ "ports": [{ "port": 5432 }] }));
    let loaded = kubeproof::build::stack_sources(&dir(&e.env), &stack).expect("loads");
    let extra = unintended(&Manifests::new(&loaded), &e.wanted);
    assert!(extra.iter().any(|x| x == "kailash/mcp-server → kailash/postgres port 5432"), "{extra:?}");
    // And gen refuses to write it.
    let err = prove(&dir(&e.env), &stack, &e.wanted).expect_err("refused").to_string();
    assert!(
        err.contains("connection(s) nothing intends:\n")
            && err.contains("- kailash/mcp-server → kailash/postgres port 5432\n"),
        "{err}"
    );
    assert!(!err.contains("blocked"), "{err}");
}

/// The mesh's verdict on a request to `ns/name` of an example's environment.
fn ask(example: &str, env: &str, to: (&str, &str), caller: &Caller, request: &Request) -> authz::Verdict {
    let e = envs(example).into_iter().find(|e| e.env == env).expect("environment");
    let loaded = manifests_of(&e);
    let cx = Manifests::new(&loaded);
    let t = cx
        .index
        .templates
        .iter()
        .find(|t| {
            cx.objects[t.object].kind == "Deployment"
                && cx.objects[t.object].ns() == to.0
                && cx.objects[t.object].name == to.1
        })
        .expect("server");
    let server = Server { object: t.object, namespace: to.0, labels: &t.labels };
    authz::decide(&cx, &server, caller, request)
}

fn gateway(jwt: Option<&str>) -> Caller {
    Caller {
        namespace: "istio-system".into(),
        service_account: Some("istio-ingressgateway-service-account".into()),
        mtls: true,
        request_principal: jwt.map(str::to_string),
    }
}

fn get(port: u16, path: &str) -> Request {
    Request { port, method: Some("GET".into()), path: Some(path.into()) }
}

#[test]
fn metrics_are_the_scrapers_only_under_the_mesh() {
    let prometheus =
        Caller { namespace: "monitoring".into(), service_account: None, mtls: true, request_principal: None };
    let api = ("hdr-empire", "hdr-empire");
    let v = ask("hdr-empire", "default", api, &gateway(None), &get(3000, "/metrics"));
    assert!(!v.allowed && v.reason.contains("hdr-empire/hdr-empire-metrics"), "{v:?}");
    let v = ask("hdr-empire", "default", api, &gateway(None), &get(3000, "/metrics/extra"));
    assert!(!v.allowed, "{v:?}");
    assert!(ask("hdr-empire", "default", api, &gateway(None), &get(3000, "/api/items")).allowed);
    let v = ask("hdr-empire", "default", api, &prometheus, &get(3000, "/metrics"));
    assert!(v.allowed, "{v:?}");
    // Only GET of the metrics path: not another path, not in plaintext.
    assert!(!ask("hdr-empire", "default", api, &prometheus, &get(3000, "/api/items")).allowed);
    let plain = Caller { mtls: false, ..prometheus.clone() };
    let v = ask("hdr-empire", "default", api, &plain, &get(3000, "/metrics"));
    assert!(!v.allowed && v.reason.contains("PeerAuthentication"), "{v:?}");
    // ops-api requires a JWT from the gateway: a valid token still does not open the metrics.
    let ops = ("machine-native-ops", "ops-api");
    let e = envs("machine-native-ops");
    let issuer = e[0]
        .stack
        .objects
        .iter()
        .find(|o| o.kind == "RequestAuthentication")
        .and_then(|o| o.value["spec"]["jwtRules"][0]["issuer"].as_str().map(str::to_string))
        .expect("issuer");
    let token = format!("{issuer}/alice");
    let with_jwt = gateway(Some(&token));
    let port = metrics_port(&e[0].stack, "ops-api");
    let v = ask("machine-native-ops", "default", ops, &with_jwt, &get(port, "/metrics"));
    assert!(!v.allowed && v.reason.contains("ops-api-metrics"), "{v:?}");
    assert!(ask("machine-native-ops", "default", ops, &with_jwt, &get(port, "/v1/ops")).allowed);
    assert!(!ask("machine-native-ops", "default", ops, &gateway(None), &get(port, "/v1/ops")).allowed);
}

/// The metrics port of `name`, as its DENY policy names it.
fn metrics_port(stack: &Stack, name: &str) -> u16 {
    let ap = stack
        .objects
        .iter()
        .find(|o| o.kind == "AuthorizationPolicy" && o.name == format!("{name}-metrics"))
        .expect("metrics DENY policy");
    ap.value["spec"]["rules"][0]["to"][0]["operation"]["ports"][0].as_str().and_then(|p| p.parse().ok()).expect("port")
}

#[test]
fn a_planted_deny_policy_blocks_the_scrape_naming_it() {
    let e = envs("hdr-empire").remove(0);
    let mut stack = e.stack.clone();
    let mut deny = stack.objects.iter().find(|o| o.kind == "AuthorizationPolicy").expect("policy").clone();
    deny.name = "no-scrapes".into();
    deny.value["metadata"]["name"] = json!("no-scrapes");
    deny.value["spec"] =
        json!({ "action": "DENY", "rules": [{ "from": [{ "source": { "namespaces": ["monitoring"] } }] }] });
    stack.objects.push(deny);
    let scrapes: Vec<Connection> = e.wanted.iter().filter(|c| c.class == Class::Scrape).cloned().collect();
    assert!(!scrapes.is_empty());
    let err = prove(&dir(&e.env), &stack, &scrapes).expect_err("blocked").to_string();
    assert!(
        err.contains("the pods of namespace monitoring → hdr-empire/hdr-empire port 3000 (GET /metrics) [scrape]"),
        "{err}"
    );
    assert!(err.contains("the mesh refuses it: AuthorizationPolicy hdr-empire/no-scrapes rules[0] denies it"), "{err}");
}

#[test]
fn the_platforms_alertmanager_reaches_its_receivers() {
    // health-platform routes alerts to PagerDuty and Slack: its own
    // Alertmanager must reach them. An SMTP smarthost on its own port too.
    let text = std::fs::read_to_string(common::repo().join("examples/health-platform.yaml")).expect("example");
    let text = text.replace("  warning: [slack]\n", "  warning: [slack, email]\n");
    let text = text.replace(
        "  slack: { channel: \"#health-alerts\" }\n",
        "  slack: { channel: \"#health-alerts\" }\n  email: { smarthost: \"smtp.example.com:2525\" }\n",
    );
    assert!(text.contains("[slack, email]") && text.contains("smtp.example.com:2525"), "the example's receivers moved");
    let tmp = tempfile::tempdir().expect("tempdir");
    let file = tmp.path().join("health-platform.yaml");
    std::fs::write(&file, text).expect("write");
    let platform = kubeproof::description::load(&file).expect("valid variant");
    let built = kubeproof::build::build(&platform, &file).expect("gen proves its connections");
    let (_, proven) = &built.connections[0];
    let notify: Vec<String> = proven
        .iter()
        .filter(|p| p.connection.class == Class::Notify)
        .map(|p| format!("{} {}", p.connection.to, p.connection.port))
        .collect();
    assert_eq!(
        notify,
        [
            "events.pagerduty.com (outside the cluster) 443",
            "hooks.slack.com (outside the cluster) 443",
            "smtp.example.com (outside the cluster) 2525"
        ],
        "{proven:?}"
    );
    // Without its egress rules, Alertmanager is cut off from them.
    let (env, stack) = &built.envs[0];
    let r = kubeproof::description::resolve::resolve(&platform, None, &file).expect("resolves");
    let wanted: Vec<Connection> = intended(&r).into_iter().filter(|c| c.class == Class::Notify).collect();
    assert_eq!(wanted.len(), 3);
    let stack = without_policy(stack, "health-observability", "alertmanager");
    let err = prove(&dir(env), &stack, &wanted).expect_err("blocked").to_string();
    assert!(
        err.contains(
            "health-observability/alertmanager → events.pagerduty.com (outside the cluster) port 443 [notify]: \
             egress of Deployment health-observability/alertmanager: no policy admits it"
        ),
        "{err}"
    );
}

/// Every scrape the stack configures — a ServiceMonitor's or PodMonitor's
/// endpoints, a job of the plain prometheus.yml — is an intended connection
/// (so proven): none is configured that the proof does not cover.
#[test]
fn every_configured_scrape_is_an_intended_connection() {
    for example in common::examples().iter().map(|p| common::stem(p)) {
        let example = example.as_str();
        for e in envs(example) {
            let scrapes: BTreeSet<(String, String)> = e
                .wanted
                .iter()
                .filter(|c| c.class == Class::Scrape)
                .filter_map(|c| match &c.to {
                    End::Workload { namespace, name } => Some((namespace.clone(), name.clone())),
                    _ => None,
                })
                .collect();
            let mut configured = 0;
            for o in e.stack.objects.iter().filter(|o| o.kind == "ServiceMonitor" || o.kind == "PodMonitor") {
                let ns = o.namespace.clone().unwrap_or_default();
                let name = o.value["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{example}: {} selects no app", o.id()))
                    .to_string();
                assert!(
                    scrapes.contains(&(ns.clone(), name.clone())),
                    "{example}/{}: {} is no intended scrape",
                    e.env,
                    o.id()
                );
                configured += 1;
            }
            let jobs = e.stack.monitoring.as_ref().map(|m| m.scrape.clone()).unwrap_or_default();
            for job in jobs["scrape_configs"].as_array().into_iter().flatten() {
                let name = job["job_name"].as_str().unwrap_or_default().to_string();
                let ns =
                    job["kubernetes_sd_configs"][0]["namespaces"]["names"][0].as_str().unwrap_or_default().to_string();
                assert!(scrapes.contains(&(ns, name.clone())), "{example}/{}: job {name} is no intended scrape", e.env);
                configured += 1;
            }
            assert!(configured >= scrapes.len(), "{example}/{}: {scrapes:?} not all configured", e.env);
        }
    }
}
