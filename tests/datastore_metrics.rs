//! Datastore metrics (`metrics: true`): the exporter sidecars of PostgreSQL
//! and Redis (credentials from the datastore's Secret, never inline), the
//! own endpoints of MinIO and RabbitMQ, a PodMonitor selecting the pods by a
//! port they have (kubeproof's KP606 and KP607 judge it, and catch it when it
//! is wrong), the NetworkPolicy and mesh openings for Prometheus, the plain
//! scrape job, and the DatastoreDown alert with its promtool unit tests.

use crate::common;

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

const PLATFORM: &str = "machine-native-ops";

/// The objects, scrape configuration, rules and tests of one environment,
/// and the warnings and errors of `gen`'s own proof (every check, Secrets
/// stood in).
struct Env {
    objects: Vec<Value>,
    scrape: Value,
    rules: Value,
    tests: Value,
    proof: Vec<String>,
}

fn build(platform: &kubeproof::description::Platform, file: &Path, env: &str) -> Env {
    let built = kubeproof::build::build(platform, file).expect("generates");
    let (_, stack) = built.envs.iter().find(|(e, _)| e == env).expect("environment");
    let m = stack.monitoring.clone().expect("monitoring files");
    let proof = kubeproof::build::prove(&built, platform)
        .expect("proof runs")
        .iter()
        .flat_map(|(env, loaded, outcome)| {
            let bad = outcome.findings.iter().filter(|f| f.severity >= kubeproof::check::Severity::Warning);
            bad.map(move |f| format!("{env}: {}", kubeproof::check::diagnostic(f, loaded)))
        })
        .collect();
    Env {
        objects: stack.objects.iter().map(|o| o.value.clone()).collect(),
        scrape: m.scrape,
        rules: m.rules,
        tests: m.tests,
        proof,
    }
}

fn example() -> Env {
    let file = common::repo().join(format!("examples/{PLATFORM}.yaml"));
    let platform = kubeproof::description::load(&file).expect("valid example");
    build(&platform, &file, "default")
}

fn described(text: &str, env: &str) -> Env {
    let file = Path::new("platform.yaml");
    let platform = kubeproof::description::parse(text, file).expect("valid description");
    build(&platform, file, env)
}

fn find<'a>(objects: &'a [Value], kind: &str, ns: &str, name: &str) -> &'a Value {
    try_find(objects, kind, ns, name).unwrap_or_else(|| panic!("no {kind} {ns}/{name}"))
}

fn try_find<'a>(objects: &'a [Value], kind: &str, ns: &str, name: &str) -> Option<&'a Value> {
    objects.iter().find(|o| o["kind"] == kind && o["metadata"]["namespace"] == ns && o["metadata"]["name"] == name)
}

fn containers(sts: &Value) -> &[Value] {
    sts["spec"]["template"]["spec"]["containers"].as_array().map_or(&[], Vec::as_slice)
}

fn container<'a>(sts: &'a Value, name: &str) -> &'a Value {
    containers(sts).iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no container {name}"))
}

fn env<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["env"].as_array().into_iter().flatten().find(|e| e["name"] == name).unwrap_or_else(|| panic!("no env {name}"))
}

/// `kubeproof check` over `objects` (without the Secrets kustomize would
/// add): the findings as `(code, message)`.
fn findings(objects: &[Value]) -> Vec<(String, String)> {
    let text: String = objects.iter().map(|o| format!("---\n{}", serde_saphyr::to_string(o).unwrap())).collect();
    let config = kubeproof::check::config::Config { kubernetes: Some("1.30".into()), ..Default::default() };
    let (loaded, outcome) = kubeproof::check::check_text("stack.yaml", &text, &config);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome.findings.iter().map(|f| (f.code.to_string(), f.message.clone())).collect()
}

/// The exporter sidecar: pinned image, its port, the credentials by
/// reference to the datastore's Secret, the restricted security context,
/// requests and limits, probes on the metrics port.
#[test]
fn postgres_and_redis_get_an_exporter_sidecar_reading_their_secret() {
    let e = example();
    for (ds, exporter, image, port, secret_env) in [
        (
            "postgres",
            "postgres-exporter",
            "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
            9187,
            &[("DATA_SOURCE_USER", "POSTGRES_USER"), ("DATA_SOURCE_PASS", "POSTGRES_PASSWORD")][..],
        ),
        (
            "redis",
            "redis-exporter",
            "docker.io/oliver006/redis_exporter:v1.66.0",
            9121,
            &[("REDIS_PASSWORD", "REDIS_PASSWORD")][..],
        ),
    ] {
        let sts = find(&e.objects, "StatefulSet", PLATFORM, ds);
        assert_eq!(containers(sts).len(), 2, "{ds}: the engine and its exporter");
        let c = container(sts, exporter);
        assert_eq!(c["image"], image);
        assert_eq!(c["ports"], json!([{ "name": "metrics", "containerPort": port, "protocol": "TCP" }]));
        for (var, key) in secret_env {
            let v = env(c, var);
            assert!(v.get("value").is_none(), "{ds}: {var} is inline: {v}");
            assert_eq!(
                v["valueFrom"]["secretKeyRef"],
                json!({ "name": format!("{ds}-credentials"), "key": key, "optional": false })
            );
        }
        let sc = &c["securityContext"];
        assert_eq!(sc["runAsNonRoot"], true, "{ds}");
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{ds}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{ds}");
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]), "{ds}");
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{ds}");
        assert!(
            c["resources"]["requests"]["cpu"].is_string() && c["resources"]["limits"]["memory"].is_string(),
            "{ds}"
        );
        // Liveness of the exporter process only: no readiness probe, which
        // would take the datastore out of its Service with the exporter.
        assert_eq!(c["livenessProbe"]["httpGet"]["port"], "metrics", "{ds}");
        assert!(c["readinessProbe"].is_null(), "{ds}");
        // Both Services carry the port, by name.
        for svc in [ds.to_string(), format!("{ds}-headless")] {
            let s = find(&e.objects, "Service", PLATFORM, &svc);
            let p = s["spec"]["ports"].as_array().unwrap().iter().find(|p| p["name"] == "metrics");
            assert_eq!(p.map(|p| &p["targetPort"]), Some(&json!("metrics")), "Service {svc}: {s}");
        }
    }
    let pg = container(find(&e.objects, "StatefulSet", PLATFORM, "postgres"), "postgres-exporter");
    assert_eq!(env(pg, "DATA_SOURCE_URI")["value"], "localhost:5432/ops?sslmode=disable");
    let redis = container(find(&e.objects, "StatefulSet", PLATFORM, "redis"), "redis-exporter");
    assert_eq!(env(redis, "REDIS_ADDR")["value"], "redis://localhost:6379");
    // No literal password anywhere: every variable that names one is a reference.
    for o in &e.objects {
        for c in o["spec"]["template"]["spec"]["containers"].as_array().into_iter().flatten() {
            for v in c["env"].as_array().into_iter().flatten() {
                let name = v["name"].as_str().unwrap_or("");
                if name.contains("PASS") || name.contains("USER") {
                    assert!(v.get("value").is_none(), "{}: {name} is inline", o["metadata"]["name"]);
                }
            }
        }
    }
}

/// The PodMonitor selects the datastore's pod template and names a port it
/// has; KP606 and KP607 agree, and report a PodMonitor that is wrong.
#[test]
fn pod_monitors_select_the_datastore_pods_by_a_port_they_have() {
    let e = example();
    for ds in ["postgres", "redis"] {
        let pm = find(&e.objects, "PodMonitor", PLATFORM, ds);
        let sts = find(&e.objects, "StatefulSet", PLATFORM, ds);
        let pod_labels = sts["spec"]["template"]["metadata"]["labels"].as_object().unwrap();
        for (k, v) in pm["spec"]["selector"]["matchLabels"].as_object().unwrap() {
            assert_eq!(pod_labels.get(k), Some(v), "{ds}: the pods lack {k}={v}");
        }
        assert_eq!(pm["spec"]["namespaceSelector"]["matchNames"], json!([PLATFORM]));
        assert_eq!(pm["spec"]["jobLabel"], "app.kubernetes.io/name", "{ds}: job = the datastore's name");
        let ep = &pm["spec"]["podMetricsEndpoints"][0];
        assert_eq!((ep["port"].as_str(), ep["path"].as_str()), (Some("metrics"), Some("/metrics")), "{ds}");
        let ports: Vec<&Value> =
            containers(sts).iter().flat_map(|c| c["ports"].as_array().into_iter().flatten()).collect();
        assert!(ports.iter().any(|p| p["name"] == ep["port"]), "{ds}: no pod port {}", ep["port"]);
    }
    let monitor = |f: &[(String, String)]| -> Vec<String> {
        f.iter().filter(|(c, _)| c == "KP606" || c == "KP607").map(|(c, m)| format!("{c}: {m}")).collect()
    };
    assert_eq!(monitor(&findings(&e.objects)), Vec::<String>::new());
    // The checks do judge these PodMonitors: a wrong port and a wrong selector are reported.
    let mut wrong = e.objects.clone();
    for o in wrong.iter_mut().filter(|o| o["kind"] == "PodMonitor") {
        if o["metadata"]["name"] == "postgres" {
            o["spec"]["podMetricsEndpoints"][0]["port"] = json!("metric");
        } else {
            o["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"] = json!("redis-0");
        }
    }
    let got = monitor(&findings(&wrong));
    assert!(got.iter().any(|f| f.starts_with("KP607") && f.contains("`metric`")), "{got:?}");
    assert!(got.iter().any(|f| f.starts_with("KP606")), "{got:?}");
}

/// The NetworkPolicy admits the monitoring namespace to the metrics port;
/// under the mesh `GET /metrics` there is open to the monitoring namespace's identity.
#[test]
fn prometheus_may_reach_the_metrics_port_through_policy_and_mesh() {
    let e = example();
    for (ds, port) in [("postgres", 9187), ("redis", 9121)] {
        let np = find(&e.objects, "NetworkPolicy", PLATFORM, ds);
        let admitted = np["spec"]["ingress"].as_array().unwrap().iter().any(|r| {
            r["from"]
                == json!([{ "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": "monitoring" } } }])
                && r["ports"] == json!([{ "port": port, "protocol": "TCP" }])
        });
        assert!(admitted, "{ds}: monitoring may not reach {port}: {np}");
        // Prometheus scrapes with its mesh identity: no PERMISSIVE exception.
        assert!(try_find(&e.objects, "PeerAuthentication", PLATFORM, ds).is_none(), "{ds}");
        let authz = find(&e.objects, "AuthorizationPolicy", PLATFORM, ds);
        let get = json!({
            "from": [{ "source": { "namespaces": ["monitoring"] } }],
            "to": [{ "operation": { "ports": [port.to_string()], "methods": ["GET"], "paths": ["/metrics"] } }],
        });
        assert!(authz["spec"]["rules"].as_array().unwrap().contains(&get), "{ds}: {authz}");
    }
    // Nothing at all in gen's proof of the whole stack.
    assert_eq!(e.proof, Vec::<String>::new());
}

/// A scrape job per datastore in the plain prometheus.yml, and a
/// DatastoreDown alert each that promtool checks and unit-tests.
#[test]
fn scrape_jobs_and_datastore_down_alerts() {
    let e = example();
    let jobs = e.scrape["scrape_configs"].as_array().unwrap();
    for ds in ["postgres", "redis"] {
        let job = jobs.iter().find(|j| j["job_name"] == ds).unwrap_or_else(|| panic!("no job {ds}"));
        assert_eq!(job["relabel_configs"][0]["regex"], format!("{ds};metrics"));
        assert_eq!(job["metrics_path"], "/metrics");
    }
    let rules = serde_json::to_string(&e.rules).unwrap();
    for metric in ["pg_up", "redis_up"] {
        let job = if metric == "pg_up" { "postgres" } else { "redis" };
        let expr = format!("max by (namespace, job) ({metric}{{job=\\\"{job}\\\",namespace=\\\"{PLATFORM}\\\"}}) == 0");
        assert!(rules.contains(&expr), "no `{expr}` in {rules}");
    }
    let tests = serde_json::to_string(&e.tests).unwrap();
    // Alerts that fire on no data share their tests: each datastore's alert
    // fires in one while the other's stays silent, and the other way round.
    for case in ["fires for postgres and stays silent for redis", "fires for redis and stays silent for postgres"] {
        assert!(tests.contains(&format!("DatastoreDown {case}")), "no unit test `DatastoreDown {case}`");
    }
    if !common::tool_available("promtool", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let yaml = |v: &Value| serde_saphyr::to_string(v).unwrap();
    std::fs::write(dir.path().join("rules.yaml"), yaml(&e.rules)).unwrap();
    std::fs::write(dir.path().join("rules.test.yaml"), yaml(&e.tests)).unwrap();
    for args in [&["check", "rules", "rules.yaml"][..], &["test", "rules", "rules.test.yaml"][..]] {
        let o = Command::new("promtool").args(args).current_dir(dir.path()).output().unwrap();
        assert!(
            o.status.success(),
            "promtool {args:?}:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

const OWN_ENDPOINTS: &str = r#"
apiVersion: kubeproof.dev/v1alpha1
name: lake
cluster: { kubernetes: "1.30" }
environments:
  dev:
    datastores:
      queue: { metrics: false }
  prod: {}
services:
  etl:
    image: ghcr.io/example/etl:1.0.0
    port: 8080
    uses: [files, queue]
datastores:
  files: { engine: minio, storage: 10Gi, metrics: true }
  queue: { engine: rabbitmq, storage: 5Gi, metrics: true }
"#;

/// MinIO and RabbitMQ serve their own metrics: no sidecar, the engine's
/// port and path, MinIO's endpoint public; an environment may turn it off.
#[test]
fn minio_and_rabbitmq_are_scraped_on_their_own_endpoints() {
    let e = described(OWN_ENDPOINTS, "prod");
    for (ds, port_name, port, path) in
        [("files", "s3", 9000, "/minio/v2/metrics/cluster"), ("queue", "prometheus", 15692, "/metrics")]
    {
        let sts = find(&e.objects, "StatefulSet", "lake", ds);
        assert_eq!(containers(sts).len(), 1, "{ds}: no sidecar");
        let pm = find(&e.objects, "PodMonitor", "lake", ds);
        let ep = &pm["spec"]["podMetricsEndpoints"][0];
        assert_eq!((ep["port"].as_str(), ep["path"].as_str()), (Some(port_name), Some(path)), "{ds}");
        let np = find(&e.objects, "NetworkPolicy", "lake", ds);
        let admitted = np["spec"]["ingress"].as_array().unwrap().iter().any(|r| {
            r["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "monitoring"
                && r["ports"] == json!([{ "port": port, "protocol": "TCP" }])
        });
        assert!(admitted, "{ds}: {np}");
        assert!(try_find(&e.objects, "PeerAuthentication", "lake", ds).is_none(), "no mesh, no PeerAuthentication");
    }
    let minio = container(find(&e.objects, "StatefulSet", "lake", "files"), "minio");
    assert_eq!(env(minio, "MINIO_PROMETHEUS_AUTH_TYPE")["value"], "public");
    assert!(serde_json::to_string(&e.rules).unwrap().contains("absent(up{job=\\\"queue\\\",namespace=\\\"lake\\\"})"));
    assert_eq!(e.proof, Vec::<String>::new());

    // dev turns the queue's metrics off: no PodMonitor, no alert, no opening.
    let dev = described(OWN_ENDPOINTS, "dev");
    assert!(try_find(&dev.objects, "PodMonitor", "lake", "queue").is_none());
    assert!(try_find(&dev.objects, "PodMonitor", "lake", "files").is_some());
    assert!(!serde_json::to_string(&dev.rules).unwrap().contains("job=\\\"queue\\\""));
    let np = find(&dev.objects, "NetworkPolicy", "lake", "queue");
    assert!(!np.to_string().contains("15692"), "{np}");
}
