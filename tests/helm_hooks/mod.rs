//! The chart's `helm test` hooks, checked on each environment's rendering
//! (tests/helm.rs renders it with both Helms):
//!
//! - every Service of a service (in the overlay kustomize builds) has its
//!   test Pod, which names the Service's DNS name and each port; every
//!   `uses` edge to a datastore (the description's intended connections)
//!   has its Pod in the client's namespace, naming the datastore's host;
//! - every test object is a `test` hook, the Pods after what lets them
//!   through (a higher hook weight);
//! - kubeproof's connection proof, on the rendering: each test Pod reaches
//!   its target (under the NetworkPolicies and, where meshed, Istio's
//!   AuthorizationPolicies), with the stack's intended connections all
//!   still open and nothing else opened; without the tests' NetworkPolicies
//!   (or, where meshed, their AuthorizationPolicies) none does.

use std::collections::BTreeMap;
use std::path::Path;

use kubeproof::build::connections::{Proven, judge, prove_loaded};
use kubeproof::description::Platform;
use kubeproof::generate::connections::{Class, Connection, End, Http, intended};
use kubeproof::model::{Loaded, Manifests, Source, load};
use serde_json::Value;

/// One environment's rendering, and what it is checked against.
pub struct Site<'a> {
    pub platform: &'a Platform,
    pub file: &'a Path,
    pub env: &'a str,
    /// The overlay's objects, by id.
    pub built: &'a BTreeMap<String, Value>,
}

/// Checks the test hooks of a rendering (`yaml`, the user's Secrets added).
pub fn check(site: &Site, hooks: &[Value], yaml: &str) -> Result<(), String> {
    let name = (site.env != kubeproof::build::DEFAULT_ENV).then_some(site.env);
    let r = kubeproof::description::resolve::resolve(site.platform, name, site.file)
        .map_err(|e| format!("does not resolve: {e:?}"))?;
    let pods: BTreeMap<(String, String), &Value> = hooks
        .iter()
        .filter(|o| o["kind"] == "Pod")
        .map(|o| ((text(&o["metadata"]["namespace"]), text(&o["metadata"]["name"])), o))
        .collect();
    let mut problems = well_formed(hooks);
    let mut tests = service_tests(site.built, &pods, &mut problems);
    tests.extend(edge_tests(&r, &pods, &mut problems));
    let tested: std::collections::BTreeSet<&End> = tests.iter().map(|c| &c.from).collect();
    if tested.len() != pods.len() {
        problems.push(format!("{} test Pods for {} expected", pods.len(), tested.len()));
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let mut wanted = intended(&r);
    wanted.extend(tests.iter().cloned());
    prove_loaded("rendered", &loaded(yaml)?, &wanted).map_err(|e| e.to_string())?;
    // The tests' own objects are what lets them through.
    let mut removed = vec!["NetworkPolicy"];
    if hooks.iter().any(|o| o["kind"] == "AuthorizationPolicy") {
        removed.push("AuthorizationPolicy");
    }
    for kind in removed {
        let without = loaded(&without_test(yaml, kind)?)?;
        let (open, _) = judge(&Manifests::new(&without), &tests);
        // Under the mesh a port the stack opens to any client (a public
        // one, through its own AuthorizationPolicy) stays open.
        let public = |p: &&Proven| kind == "AuthorizationPolicy" && p.allowed_by.iter().any(|a| a.starts_with(kind));
        let open: Vec<String> = open.iter().filter(|p| !public(p)).map(|p| p.connection.to_string()).collect();
        if !open.is_empty() {
            return Err(format!("open without the tests' {kind}s:\n{}", open.join("\n")));
        }
    }
    Ok(())
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

fn workload(namespace: &str, name: &str) -> End {
    End::Workload { namespace: namespace.to_string(), name: name.to_string() }
}

/// Every test object is a `test` hook, deleted before the next run; the
/// Pods come after the rest (a higher weight).
fn well_formed(hooks: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for o in hooks {
        let a = &o["metadata"]["annotations"];
        let id = format!("{}/{}/{}", o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]);
        let weight: i64 = a["helm.sh/hook-weight"].as_str().and_then(|w| w.parse().ok()).unwrap_or(0);
        let pod = o["kind"] == "Pod";
        if a["helm.sh/hook"] != "test" || !text(&a["helm.sh/hook-delete-policy"]).contains("before-hook-creation") {
            out.push(format!("{id}: not a test hook replaced on the next run: {a}"));
        }
        if pod != (weight == 0) || (!pod && weight >= 0) {
            out.push(format!("{id}: hook weight {weight}: the Pods (0) come after what lets them through"));
        }
        if pod && o["spec"]["restartPolicy"] != "Never" {
            out.push(format!("{id}: restarts"));
        }
    }
    out
}

/// The Service tests: one Pod per Service of a service, to each port of
/// each workload it selects (the readiness path over HTTP).
fn service_tests(
    built: &BTreeMap<String, Value>,
    pods: &BTreeMap<(String, String), &Value>,
    problems: &mut Vec<String>,
) -> Vec<Connection> {
    let mut out = Vec::new();
    for s in built.values().filter(|o| o["kind"] == "Service") {
        let (ns, name) = (text(&s["metadata"]["namespace"]), text(&s["metadata"]["name"]));
        if s["metadata"]["labels"]["app.kubernetes.io/component"] != "service" || s["spec"]["clusterIP"] == "None" {
            continue;
        }
        let test = format!("helm-test-{name}");
        let Some(pod) = pods.get(&(ns.clone(), test.clone())) else {
            problems.push(format!("Service {ns}/{name}: no test Pod {test}"));
            continue;
        };
        let script = pod["spec"]["containers"][0]["command"].to_string();
        let selector = s["spec"]["selector"].as_object().cloned().unwrap_or_default();
        let templates: Vec<&Value> = built
            .values()
            .filter(|o| o["metadata"]["namespace"] == ns.as_str())
            .filter_map(|o| o.pointer("/spec/template"))
            .filter(|t| selector.iter().all(|(k, v)| t["metadata"]["labels"][k] == *v))
            .collect();
        for p in s["spec"]["ports"].as_array().into_iter().flatten() {
            let at = format!("{name}.{ns}.svc.cluster.local:{}", p["port"]);
            if !script.contains(&at) {
                problems.push(format!("Service {ns}/{name}: its test does not connect to {at}: {script}"));
            }
            for t in &templates {
                let Some(port) = pod_port(t, &p["targetPort"]) else { continue };
                let get = &t["spec"]["containers"][0]["readinessProbe"]["httpGet"];
                let http = (get.is_object() && pod_port(t, &get["port"]) == Some(port))
                    .then(|| Http { method: "GET".into(), path: text(&get["path"]) });
                let server = text(&t["metadata"]["labels"]["app.kubernetes.io/name"]);
                out.push(Connection {
                    class: Class::Uses,
                    from: workload(&ns, &test),
                    to: workload(&ns, &server),
                    port,
                    http,
                });
            }
        }
    }
    out
}

fn pod_port(template: &Value, port: &Value) -> Option<u16> {
    if let Some(n) = port.as_u64() {
        return u16::try_from(n).ok();
    }
    let containers = template["spec"]["containers"].as_array()?;
    let mut ports = containers.iter().flat_map(|c| c["ports"].as_array().into_iter().flatten());
    ports.find(|p| p["name"] == *port).and_then(|p| p["containerPort"].as_u64()).and_then(|n| u16::try_from(n).ok())
}

/// The datastore tests: one Pod per `uses` edge to a datastore, in the
/// client's namespace, to the datastore's client port.
fn edge_tests(
    r: &kubeproof::description::resolve::Resolved,
    pods: &BTreeMap<(String, String), &Value>,
    problems: &mut Vec<String>,
) -> Vec<Connection> {
    let mut out = Vec::new();
    for c in intended(r).into_iter().filter(|c| c.class == Class::Uses) {
        let (End::Workload { namespace: cns, name: client }, End::Workload { namespace: sns, name: store }) =
            (&c.from, &c.to)
        else {
            continue;
        };
        let Some(d) = r.datastore(store) else { continue };
        if c.port != d.engine.client_port() {
            continue;
        }
        let test = format!("helm-test-{client}-to-{store}");
        let Some(pod) = pods.get(&(cns.clone(), test.clone())) else {
            problems.push(format!("{c}: no test Pod {cns}/{test}"));
            continue;
        };
        let host = format!("{store}.{sns}.svc.cluster.local");
        if !pod["spec"].to_string().contains(&host) {
            problems.push(format!("{c}: its test Pod does not name {host}"));
        }
        out.push(Connection {
            class: Class::Uses,
            from: workload(cns, &test),
            to: c.to.clone(),
            port: c.port,
            http: None,
        });
    }
    out
}

fn loaded(yaml: &str) -> Result<Loaded, String> {
    let mut l = Loaded::default();
    load::add_source(&mut l, Source { name: "rendered.yaml".into(), text: yaml.to_string() });
    match l.errors.first() {
        Some(e) => Err(format!("the rendering does not load: {e:?}")),
        None => Ok(l),
    }
}

/// The rendering without the test hooks of `kind`.
fn without_test(yaml: &str, kind: &str) -> Result<String, String> {
    let docs = crate::common::parse_built(yaml)?;
    let kept = docs
        .iter()
        .filter(|o| !(o["kind"] == kind && o["metadata"]["labels"]["app.kubernetes.io/component"] == "helm-test"));
    Ok(kept.map(|o| format!("---\n{o}\n")).collect())
}
