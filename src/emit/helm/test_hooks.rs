//! The chart's tests (`helm test RELEASE`), in `templates/tests/`:
//!
//! - per Service of a service, a Pod in its namespace that connects to each
//!   of its ports through the Service's DNS name: an HTTP GET of the
//!   readiness path, which must answer 2xx or 3xx, on the port serving it;
//!   a TCP connection on the others (their protocol is not known);
//! - per `uses` edge to a datastore, a Pod in the client's namespace that
//!   connects as the client does, to the datastore's client Service with
//!   the client's copy of the credentials, run by the datastore's own
//!   image: PostgreSQL `pg_isready` then a login (`SELECT 1`), Redis a PING
//!   answered PONG ([`crate::engines::ClientCheck`]); the engines without a
//!   client check, from the curl image: the server's HTTP readiness path
//!   where it serves it on the client port (MinIO), else a TCP connection
//!   to the client port (Neo4j's bolt, RabbitMQ's AMQP).
//!
//! Every namespace denies by default, so a test brings its own way in,
//! never a real client's labels or identity: its own ServiceAccount, a
//! NetworkPolicy out of the test pod to the target pods' ports, one into
//! the target pods from the test pod, and, where the target's namespace is
//! meshed, an AuthorizationPolicy admitting the test's identity. They are
//! test hooks too, created before the pods (a lower hook weight) and
//! deleted once the tests pass. A Pod is kept after it succeeds (deleted
//! before the next run) so that `helm test --logs` can read it.
//!
//! The objects are computed per environment and templated as the others
//! are: what differs between environments (the mesh, a Service some of
//! them lack) is a value.

use std::collections::{BTreeMap, HashMap, HashSet};

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{Value, json};

use super::knobs::Knobs;
use super::{Chart, Vars, object_template, union};
use crate::emit::files::Tree;
use crate::generate::test_targets::DatastoreUse;
use crate::generate::workloads::{hardened_container, hardened_pod};
use crate::generate::{Object, Stack, labels, quantity, scratch, selector_labels};

/// The image of the HTTP and TCP checks: curl, pinned, running as its
/// image's own non-root user.
pub const CURL_IMAGE: &str = "docker.io/curlimages/curl:8.11.1";
const CURL_USER: u32 = 100;

/// Stops the Istio sidecar (its agent's port, on the pod's loopback).
const QUIT: &str = "curl -fsS -o /dev/null -X POST http://127.0.0.1:15020/quitquitquit || true";

/// Kept out of the tests' way: the hooks they need come first.
const ACCESS_WEIGHT: &str = "-5";

/// Writes `templates/tests/` from the tests of every variant, with the
/// chart's values (`knobs`: a datastore's test runs the image
/// `datastores.NAME.image` sets, as its server does).
pub(super) fn emit(
    chart: &Chart,
    variants: &[&Stack],
    knobs: &Knobs,
    vars: &mut Vars,
    tree: &mut Tree,
) -> Result<(), crate::Error> {
    let native = crate::model::features::SIDECARS.available(chart.kube.minor);
    let stacks: Vec<Stack> =
        variants.iter().map(|s| Stack { objects: objects(chart.name, s, native), ..Default::default() }).collect();
    let refs: Vec<&Stack> = stacks.iter().collect();
    for (mut key, objects) in union(&refs) {
        // `test-` is no kind: these values never meet the objects'.
        key.value_name = format!("test-{}", key.value_name);
        let template = object_template(chart, &key, &objects, knobs, vars)?;
        tree.insert(format!("helm/{}/templates/tests/{}", chart.name, key.path), template);
    }
    Ok(())
}

/// One test: a Pod checking `target`, and what lets it through.
struct Test {
    name: String,
    namespace: String,
    target: Target,
    image: String,
    uid: u32,
    script: String,
    env: Vec<core::EnvVar>,
}

/// The pods a test connects to: their namespace, labels and pod ports.
struct Target {
    namespace: String,
    selector: BTreeMap<String, String>,
    ports: Vec<u16>,
}

/// The test objects of one environment's stack, in a stable order;
/// `native`: the cluster runs native sidecars.
pub fn objects(platform: &str, stack: &Stack, native: bool) -> Vec<Object> {
    let ix = Index::new(stack);
    let tests = service_tests(&ix).into_iter().chain(stack.datastore_uses.iter().filter_map(|u| store_test(&ix, u)));
    let mut out = Vec::new();
    for t in tests {
        access(platform, &t, ix.meshed.contains(t.target.namespace.as_str()), &mut out);
        out.push(Object::from_typed(&pod(platform, &t, ix.meshed.contains(t.namespace.as_str()), native)));
    }
    out
}

/// The objects the tests are computed from, looked up in constant time (a
/// scan per Service would be quadratic in a large stack).
struct Index<'a> {
    services: Vec<&'a Object>,
    by_name: HashMap<(&'a str, &'a str), &'a Object>,
    /// Namespace and `app.kubernetes.io/name` → pod templates.
    templates: HashMap<(&'a str, &'a str), Vec<&'a Value>>,
    /// Namespaces with Istio's sidecar injection.
    meshed: HashSet<&'a str>,
}

impl<'a> Index<'a> {
    fn new(stack: &'a Stack) -> Index<'a> {
        let mut ix =
            Index { services: Vec::new(), by_name: HashMap::new(), templates: HashMap::new(), meshed: HashSet::new() };
        for o in &stack.objects {
            let ns = o.namespace.as_deref().unwrap_or_default();
            match o.kind.as_str() {
                "Service" => {
                    ix.services.push(o);
                    ix.by_name.insert((ns, o.name.as_str()), o);
                }
                "Namespace" if o.value["metadata"]["labels"]["istio-injection"] == "enabled" => {
                    ix.meshed.insert(o.name.as_str());
                }
                _ => {}
            }
            let template = o.value.pointer("/spec/template");
            let app = template.and_then(|t| t["metadata"]["labels"]["app.kubernetes.io/name"].as_str());
            if let (Some(t), Some(app)) = (template, app) {
                ix.templates.entry((ns, app)).or_default().push(t);
            }
        }
        ix
    }
}

/// A Service of a service: not headless, selecting pods, labelled
/// `component: service` (a datastore's are tested by its clients' edges).
fn service_tests(ix: &Index) -> Vec<Test> {
    let mut out = Vec::new();
    for s in &ix.services {
        let spec = &s.value["spec"];
        let Some(ns) = &s.namespace else { continue };
        if s.value["metadata"]["labels"]["app.kubernetes.io/component"] != "service" || spec["clusterIP"] == "None" {
            continue;
        }
        let Some((selector, pod)) = selected_pod(ix, ns, &spec["selector"]) else { continue };
        let ready = readiness(pod);
        let host = crate::generate::fqdn(&s.name, ns);
        let (mut lines, mut ports) = (Vec::new(), Vec::new());
        for p in spec["ports"].as_array().into_iter().flatten() {
            let Some(port) = p["port"].as_u64() else { continue };
            let Some(pod_port) = pod_port(pod, p.get("targetPort").unwrap_or(&p["port"])) else { continue };
            ports.push(pod_port);
            lines.push(match &ready {
                Some((rp, path)) if *rp == pod_port => http_check(&format!("http://{host}:{port}{path}")),
                _ => tcp_check(&host, port),
            });
        }
        if lines.is_empty() {
            continue;
        }
        out.push(Test {
            name: test_name(&s.name),
            namespace: ns.clone(),
            target: Target { namespace: ns.clone(), selector, ports },
            image: CURL_IMAGE.to_string(),
            uid: CURL_USER,
            script: format!("set -eu\n{}", lines.concat()),
            env: Vec::new(),
        });
    }
    out
}

/// The test of a `uses` edge to a datastore, through its client Service.
fn store_test(ix: &Index, u: &DatastoreUse) -> Option<Test> {
    let service = ix.by_name.get(&(u.store_namespace.as_str(), u.store.as_str()))?;
    let (selector, pod) = selected_pod(ix, &u.store_namespace, &service.value["spec"]["selector"])?;
    let port = service.value["spec"]["ports"].as_array()?.iter().find(|p| p["port"].as_u64() == Some(u.port.into()))?;
    let pod_port = pod_port(pod, port.get("targetPort").unwrap_or(&port["port"]))?;
    let (image, uid, script, env) = match &u.check {
        Some((script, env)) => {
            let secret = u.secret.as_deref().unwrap_or_default();
            let env = env.iter().map(|e| crate::generate::datastores::env_var(e, secret)).collect();
            (u.image.clone(), u.engine.user(), format!("set -u\n{script}"), env)
        }
        // The server's own HTTP readiness path when it serves it on the
        // client port (MinIO), else a TCP connection (Neo4j's bolt, RabbitMQ).
        None => {
            let check = match readiness(pod) {
                Some((p, path)) if p == pod_port => http_check(&format!("http://{}:{}{path}", u.host, u.port)),
                _ => tcp_check(&u.host, u.port.into()),
            };
            (CURL_IMAGE.to_string(), CURL_USER, format!("set -eu\n{check}"), Vec::new())
        }
    };
    Some(Test {
        name: test_name(&format!("{}-to-{}", u.client, u.store)),
        namespace: u.namespace.clone(),
        target: Target { namespace: u.store_namespace.clone(), selector, ports: vec![pod_port] },
        image,
        uid,
        script,
        env,
    })
}

/// `helm-test-NAME`, within the 63 characters of a label value: a longer
/// one keeps its start and a hash of the whole.
fn test_name(what: &str) -> String {
    let name = format!("helm-test-{what}");
    if name.len() <= 63 {
        return name;
    }
    let hash = &crate::model::digest::sha256_hex(name.as_bytes())[..8];
    format!("{}-{hash}", name[..54].trim_end_matches('-'))
}

/// The selector's labels and the pod template of the workload it selects
/// in `ns` (the first, in the stack's order: a canary's pods answer alike).
/// The stack's Services select by `app.kubernetes.io/name`; another
/// selector selects nothing here, and has no test.
fn selected_pod<'a>(ix: &Index<'a>, ns: &str, selector: &Value) -> Option<(BTreeMap<String, String>, &'a Value)> {
    let selector: BTreeMap<String, String> =
        selector.as_object()?.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect();
    let app = selector.get("app.kubernetes.io/name")?.clone();
    let candidates = ix.templates.get(&(ns, app.as_str()))?;
    let pod: &'a Value =
        candidates.iter().copied().find(|t| selector.iter().all(|(k, v)| t["metadata"]["labels"][k] == v.as_str()))?;
    Some((selector, pod))
}

/// The pod port a Service port or probe names (by name or number).
fn pod_port(pod: &Value, port: &Value) -> Option<u16> {
    if let Some(n) = port.as_u64() {
        return u16::try_from(n).ok();
    }
    let name = port.as_str()?;
    let containers = pod.pointer("/spec/containers")?.as_array()?;
    containers.iter().flat_map(|c| c["ports"].as_array().into_iter().flatten()).find_map(|p| {
        (p["name"] == name).then(|| p["containerPort"].as_u64().and_then(|n| u16::try_from(n).ok())).flatten()
    })
}

/// The first container's HTTP readiness probe: its pod port and path.
fn readiness(pod: &Value) -> Option<(u16, String)> {
    let get = pod.pointer("/spec/containers/0/readinessProbe/httpGet")?;
    if get["scheme"].as_str().is_some_and(|s| s != "HTTP") {
        return None;
    }
    Some((pod_port(pod, &get["port"])?, get["path"].as_str().unwrap_or("/").to_string()))
}

/// A request that must answer 2xx or 3xx; retried, as a new pod's network
/// policy may take a moment to apply.
fn http_check(url: &str) -> String {
    format!(
        "curl -fsS -o /dev/null --retry 3 --retry-connrefused --retry-delay 2 --max-time 10 {url}\necho {ok}\n",
        url = quote(url),
        ok = quote(&format!("GET {url}: ok")),
    )
}

/// A TCP connection, whatever the server answers: curl's `telnet://`
/// connects and sends nothing, and `time_connect` is 0 only if it never
/// connected. Under Istio the client's own sidecar takes the connection:
/// this proves the name resolves and the proxy is up, not that the server
/// admits it (a protocol check does; see the module's doc).
fn tcp_check(host: &str, port: u64) -> String {
    let target = quote(&format!("telnet://{host}:{port}"));
    format!(
        "for try in 1 2 3; do\n  \
         t=$(curl -s -o /dev/null --connect-timeout 3 --max-time 3 -w '%{{time_connect}}' {target} </dev/null || true)\n  \
         [ \"${{t:-0}}\" != 0.000000 ] && [ \"${{t:-0}}\" != 0 ] && break\n  \
         [ \"$try\" = 3 ] && {{ echo {fail} >&2; exit 1; }}\n  \
         sleep 2\n\
         done\n\
         echo {ok}\n",
        fail = quote(&format!("cannot connect to {host}:{port}")),
        ok = quote(&format!("TCP {host}:{port}: connected")),
    )
}

/// `s` in single quotes for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn hook(weight: &str, delete: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("helm.sh/hook".to_string(), "test".to_string()),
        ("helm.sh/hook-weight".to_string(), weight.to_string()),
        ("helm.sh/hook-delete-policy".to_string(), delete.to_string()),
    ])
}

fn test_meta(platform: &str, name: &str, ns: &str, annotations: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        annotations: Some(annotations),
        ..crate::generate::meta(name, ns, &labels(platform, name, "helm-test"))
    }
}

/// The test's ServiceAccount, its NetworkPolicies and, in a meshed target
/// namespace, its AuthorizationPolicy.
fn access(platform: &str, t: &Test, meshed_target: bool, out: &mut Vec<Object>) {
    let annotations = hook(ACCESS_WEIGHT, "before-hook-creation,hook-succeeded");
    let m = |name: &str, ns: &str| test_meta(platform, name, ns, annotations.clone());
    out.push(Object::from_typed(&core::ServiceAccount {
        metadata: m(&t.name, &t.namespace),
        automount_service_account_token: Some(false),
        ..Default::default()
    }));
    let ports = || {
        Some(
            t.target
                .ports
                .iter()
                .map(|p| net::NetworkPolicyPort {
                    port: Some(IntOrString::Int((*p).into())),
                    protocol: Some("TCP".into()),
                    ..Default::default()
                })
                .collect(),
        )
    };
    let in_ns = |ns: &str, labels: &BTreeMap<String, String>| net::NetworkPolicyPeer {
        namespace_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())])),
            ..Default::default()
        }),
        pod_selector: Some(LabelSelector { match_labels: Some(labels.clone()), ..Default::default() }),
        ..Default::default()
    };
    let me = selector_labels(platform, &t.name);
    let policy = |metadata, pod: &BTreeMap<String, String>, types: &str| net::NetworkPolicy {
        metadata,
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(pod.clone()), ..Default::default() }),
            policy_types: Some(vec![types.to_string()]),
            ..Default::default()
        }),
    };
    let mut egress = policy(m(&t.name, &t.namespace), &me, "Egress");
    if let Some(s) = egress.spec.as_mut() {
        s.egress = Some(vec![net::NetworkPolicyEgressRule {
            to: Some(vec![in_ns(&t.target.namespace, &t.target.selector)]),
            ports: ports(),
        }]);
    }
    let mut ingress = policy(m(&format!("{}-ingress", t.name), &t.target.namespace), &t.target.selector, "Ingress");
    if let Some(s) = ingress.spec.as_mut() {
        s.ingress =
            Some(vec![net::NetworkPolicyIngressRule { from: Some(vec![in_ns(&t.namespace, &me)]), ports: ports() }]);
    }
    out.push(Object::from_typed(&egress));
    out.push(Object::from_typed(&ingress));
    if meshed_target {
        out.push(authorization(t, m(&t.name, &t.target.namespace)));
    }
}

/// ALLOW the test's mesh identity (its ServiceAccount) on the target's ports.
fn authorization(t: &Test, metadata: ObjectMeta) -> Object {
    let principal = format!("cluster.local/ns/{}/sa/{}", t.namespace, t.name);
    let ports: Vec<String> = t.target.ports.iter().map(u16::to_string).collect();
    let value = json!({
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": metadata,
        "spec": {
            "action": "ALLOW",
            "selector": { "matchLabels": t.target.selector },
            "rules": [{ "from": [{ "source": { "principals": [principal] } }], "to": [{ "operation": { "ports": ports } }] }],
        },
    });
    Object {
        api_version: "security.istio.io/v1".into(),
        kind: "AuthorizationPolicy".into(),
        name: t.name.clone(),
        namespace: Some(t.target.namespace.clone()),
        value,
    }
}

/// The test Pod: hardened as every pod of the stack, small, never
/// restarted, and given up after two minutes. `native`: the cluster runs
/// native sidecars (Kubernetes 1.29+).
fn pod(platform: &str, t: &Test, meshed: bool, native: bool) -> core::Pod {
    // A test hook is kept when it passes (`helm test --logs` reads it) and
    // replaced by the next run.
    let mut annotations = hook("0", "before-hook-creation");
    let mut script = t.script.clone();
    // Istio's sidecar would keep the pod running after the test, and Helm
    // waits for the pod to complete. A native sidecar (an init container
    // that restarts) starts, ready, before the test and stops after it, as
    // the stack's Jobs have it. Without native sidecars, a curl test holds
    // until the proxy is up and asks it to quit (`quitquitquit`) when it
    // ends; the datastores' images have no HTTP client to ask with, so
    // theirs keep the native sidecar, which such a cluster does not honour.
    if meshed && (native || t.image != CURL_IMAGE) {
        annotations.insert("sidecar.istio.io/nativeSidecar".into(), "true".into());
    } else if meshed {
        annotations.insert("proxy.istio.io/config".into(), "{\"holdApplicationUntilProxyStarts\": true}".into());
        script = format!("trap '{QUIT}' EXIT\n{script}");
    }
    let (tmp, tmp_mount) = scratch("tmp", "/tmp");
    let container = core::Container {
        command: Some(vec!["sh".into(), "-c".into(), script]),
        env: (!t.env.is_empty()).then(|| t.env.clone()),
        resources: Some(core::ResourceRequirements {
            requests: Some(BTreeMap::from([("cpu".into(), quantity("10m")), ("memory".into(), quantity("32Mi"))])),
            limits: Some(BTreeMap::from([("cpu".into(), quantity("100m")), ("memory".into(), quantity("64Mi"))])),
            ..Default::default()
        }),
        volume_mounts: Some(vec![tmp_mount]),
        ..hardened_container("test", &t.image)
    };
    core::Pod {
        metadata: ObjectMeta {
            labels: Some(labels(platform, &t.name, "helm-test")),
            ..test_meta(platform, &t.name, &t.namespace, annotations)
        },
        spec: Some(core::PodSpec {
            restart_policy: Some("Never".into()),
            active_deadline_seconds: Some(120),
            volumes: Some(vec![tmp]),
            ..hardened_pod(&t.name, t.uid, false, vec![container])
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_a_label_value() {
        assert_eq!(test_name("web-to-db"), "helm-test-web-to-db");
        let long = test_name(&format!("{}-to-{}", "a".repeat(40), "b".repeat(30)));
        assert!(long.len() <= 63 && !long.contains("--"), "{long}");
        assert!(long.starts_with("helm-test-aaaa"), "{long}");
        // Two long names differing only at their ends stay apart.
        assert_ne!(long, test_name(&format!("{}-to-{}", "a".repeat(40), "c".repeat(30))));
    }

    /// Under Istio, on a cluster without native sidecars, a curl test asks
    /// the proxy to quit when it ends and waits for it to start; with them,
    /// every test has a native sidecar; a datastore's image, with no HTTP
    /// client, always does. Without the mesh, neither.
    #[test]
    fn meshed_tests_let_the_pod_complete() {
        let text = |mesh: &str| {
            format!(
                "apiVersion: kubeproof.dev/v1alpha1\nname: shop\n\
                 cluster: {{ kubernetes: \"1.28\", mesh: {mesh} }}\n\
                 services:\n  web: {{ image: ghcr.io/example/web:1.0.0, port: 8080, uses: [db] }}\n\
                 datastores:\n  db: {{ engine: postgres, storage: 1Gi }}\n"
            )
        };
        let pods = |mesh: &str, native: bool| -> Vec<(String, Value)> {
            let stack = crate::generate::generate(&crate::generate::monitoring::resolved(&text(mesh)));
            let objects = objects("shop", &stack, native);
            objects.into_iter().filter(|o| o.kind == "Pod").map(|o| (o.name, o.value)).collect()
        };
        let sidecar = |pod: &Value| {
            let a = &pod["metadata"]["annotations"];
            let script = pod["spec"]["containers"][0]["command"][2].as_str().unwrap_or_default();
            (
                a["sidecar.istio.io/nativeSidecar"] == "true",
                a["proxy.istio.io/config"].is_string(),
                script.contains("quitquitquit"),
            )
        };
        let got = |mesh, native| -> Vec<(String, (bool, bool, bool))> {
            pods(mesh, native).into_iter().map(|(n, p)| (n, sidecar(&p))).collect()
        };
        let (web, db) = ("helm-test-web".to_string(), "helm-test-web-to-db".to_string());
        assert_eq!(got("istio", false), [(web.clone(), (false, true, true)), (db.clone(), (true, false, false))]);
        assert_eq!(got("istio", true), [(web.clone(), (true, false, false)), (db.clone(), (true, false, false))]);
        assert_eq!(got("none", false), [(web, (false, false, false)), (db, (false, false, false))]);
    }

    #[test]
    fn scripts_quote_what_they_are_given() {
        assert_eq!(quote("it's"), r"'it'\''s'");
        let http = http_check("http://web.shop.svc.cluster.local:8080/a b");
        assert!(http.contains("'http://web.shop.svc.cluster.local:8080/a b'"), "{http}");
    }
}
