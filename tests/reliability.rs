//! Reliability checks (KP2xx) on the cases their fixtures do not show: the
//! situations they must stay silent on, and the cross-object edge cases.

use kubeproof::check::check_text;
use kubeproof::check::config::Config;

/// The codes reported for `text`, in order, with their messages.
fn findings(text: &str) -> Vec<(String, String)> {
    let (loaded, outcome) = check_text("test.yaml", text, &Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome.findings.iter().map(|f| (f.code.to_string(), f.message.clone())).collect()
}

fn codes(text: &str) -> Vec<String> {
    findings(text).into_iter().map(|(c, _)| c).collect()
}

fn deployment(name: &str, replicas: Option<i64>, extra_spec: &str) -> String {
    let replicas = replicas.map(|r| format!("  replicas: {r}\n")).unwrap_or_default();
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{ name: {name}, namespace: shop }}
spec:
{replicas}  selector: {{ matchLabels: {{ app: {name} }} }}
  template:
    metadata: {{ labels: {{ app: {name} }} }}
    spec:
      {extra_spec}
      containers:
        - name: {name}
          image: ghcr.io/acme/{name}:1.0.0
"#
    )
}

fn pdb(name: &str, app: &str, budget: &str) -> String {
    format!(
        r#"---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{ name: {name}, namespace: shop }}
spec:
  {budget}
  selector: {{ matchLabels: {{ app: {app} }} }}
"#
    )
}

fn hpa(target: &str, min: i64, max: i64) -> String {
    format!(
        r#"---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{ name: {target}, namespace: shop }}
spec:
  scaleTargetRef: {{ apiVersion: apps/v1, kind: Deployment, name: {target} }}
  minReplicas: {min}
  maxReplicas: {max}
  metrics:
    - type: Resource
      resource: {{ name: cpu, target: {{ type: AverageValue, averageValue: 500m }} }}
"#
    )
}

#[test]
fn pdb_blocking_follows_replicas_hpa_and_rounding() {
    let blocks = |text: String| codes(&text).contains(&"KP212".to_string());
    // Default replicas (1) and minAvailable 1.
    assert!(blocks(deployment("api", None, "") + &pdb("api", "api", "minAvailable: 1")));
    // 67% of 3 rounds up to 3; 66% of 3 to 2.
    assert!(blocks(deployment("api", Some(3), "") + &pdb("api", "api", "minAvailable: \"67%\"")));
    assert!(!blocks(deployment("api", Some(3), "") + &pdb("api", "api", "minAvailable: \"66%\"")));
    // The HPA's minReplicas decides, not the (absent) spec.replicas.
    assert!(blocks(deployment("api", None, "") + &hpa("api", 2, 6) + &pdb("api", "api", "minAvailable: 2")));
    assert!(!blocks(deployment("api", None, "") + &hpa("api", 3, 6) + &pdb("api", "api", "minAvailable: 2")));
    // maxUnavailable 0 blocks whatever the scale; 1 never does.
    assert!(blocks(deployment("api", Some(5), "") + &pdb("api", "api", "maxUnavailable: 0")));
    assert!(!blocks(deployment("api", Some(1), "") + &pdb("api", "api", "maxUnavailable: 1")));
    // Pods of two workloads count together.
    let two = deployment("api", Some(2), "") + "---" + &deployment("web", Some(2), "");
    let both = "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: { name: all, namespace: shop }\nspec:\n  minAvailable: 3\n  selector: {}\n";
    assert!(!blocks(two.clone() + both));
    assert!(blocks(two + &both.replace("minAvailable: 3", "minAvailable: 4")));
}

#[test]
fn a_blocking_budget_is_reported_once() {
    // One replica under minAvailable 1: KP212 on the budget, not KP207 as well.
    let c = codes(&(deployment("api", Some(1), "") + &pdb("api", "api", "minAvailable: 1")));
    assert!(c.contains(&"KP212".to_string()), "{c:?}");
    assert!(!c.contains(&"KP207".to_string()), "{c:?}");
}

#[test]
fn replicas_default_to_one_unless_an_hpa_scales_them() {
    // No spec.replicas and no HPA: one replica, nothing to spread.
    assert!(!codes(&deployment("api", None, "")).contains(&"KP208".to_string()));
    // An HPA that can go above 1 makes spreading matter.
    assert!(codes(&(deployment("api", None, "") + &hpa("api", 1, 4))).contains(&"KP208".to_string()));
}

#[test]
fn hpa_targets_are_resolved_in_the_hpa_namespace() {
    // A Deployment of the same name in another namespace is not the target.
    let other = deployment("api", Some(2), "").replace("namespace: shop", "namespace: other");
    let text = other + &hpa("api", 2, 5);
    assert!(!codes(&text).contains(&"KP214".to_string()));
    // A missing target is skipped by every KP2xx check.
    let lone = hpa("ghost", 1, 3);
    assert!(codes(&lone).iter().all(|c| !c.starts_with("KP2")), "{:?}", codes(&lone));
}

#[test]
fn identical_probes_only_when_really_identical() {
    let with = |live: &str, ready: &str| {
        let text = format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{ name: p, namespace: shop }}
spec:
  containers:
    - name: c
      image: ghcr.io/acme/c:1.0.0
      ports: [{{ name: http, containerPort: 8080 }}]
      livenessProbe: {live}
      readinessProbe: {ready}
"#
        );
        codes(&text).contains(&"KP206".to_string())
    };
    assert!(with("{ httpGet: { path: /h, port: http } }", "{ httpGet: { path: /h, port: 8080 }, periodSeconds: 10 }"));
    assert!(!with(
        "{ httpGet: { path: /h, port: http }, failureThreshold: 5 }",
        "{ httpGet: { path: /h, port: http } }"
    ));
    assert!(!with("{ httpGet: { path: /h, port: http }, periodSeconds: 20 }", "{ httpGet: { path: /h, port: http } }"));
    assert!(!with("{ httpGet: { path: /live, port: http } }", "{ httpGet: { path: /h, port: http } }"));
    assert!(!with("{ tcpSocket: { port: http } }", "{ httpGet: { path: /, port: http } }"));
}

#[test]
fn readiness_is_a_warning_only_behind_a_service() {
    let service = "---\napiVersion: v1\nkind: Service\nmetadata: { name: api, namespace: shop }\nspec:\n  selector: { app: api }\n  ports: [{ port: 80 }]\n";
    let worker = deployment("api", None, "");
    // A single container without ports, behind a Service: warning.
    let (loaded, outcome) = check_text("t.yaml", &(worker.clone() + service), &Config::default());
    assert!(loaded.errors.is_empty());
    let f: Vec<_> = outcome.findings.iter().filter(|f| f.code == "KP204").collect();
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].severity, kubeproof::check::Severity::Warning);
    // No Service and no ports: a worker, nothing reported.
    assert!(!codes(&worker).contains(&"KP204".to_string()));
    // Jobs never.
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: { name: j, namespace: shop }\nspec:\n  template:\n    metadata: { labels: { app: api } }\n    spec:\n      restartPolicy: Never\n      containers: [{ name: j, image: x:1, ports: [{ containerPort: 80 }] }]\n";
    assert!(!codes(&(job.to_string() + service)).contains(&"KP204".to_string()));
}

/// Next to other containers, only the one holding a port the Service
/// targets gets its traffic: a sidecar's own port (a proxy's admin port)
/// is reported as info only.
#[test]
fn readiness_warns_for_the_container_the_service_targets() {
    let pod = |target: &str| {
        format!(
            r#"
apiVersion: v1
kind: Service
metadata: {{ name: api, namespace: shop }}
spec:
  selector: {{ app: api }}
  ports: [{{ port: 80, targetPort: {target} }}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{ name: api, namespace: shop }}
spec:
  selector: {{ matchLabels: {{ app: api }} }}
  template:
    metadata: {{ labels: {{ app: api }} }}
    spec:
      containers:
        - {{ name: api, image: ghcr.io/acme/api:1.0.0, ports: [{{ name: http, containerPort: 8080 }}] }}
        - {{ name: proxy, image: ghcr.io/acme/proxy:1.0.0, ports: [{{ name: admin, containerPort: 15000 }}] }}
"#
        )
    };
    for target in ["http", "8080"] {
        let (_, outcome) = check_text("t.yaml", &pod(target), &Config::default());
        let mut f: Vec<(String, kubeproof::check::Severity)> =
            outcome.findings.iter().filter(|f| f.code == "KP204").map(|f| (f.message.clone(), f.severity)).collect();
        f.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            f,
            [
                ("container `api` has no readiness probe".to_string(), kubeproof::check::Severity::Warning),
                ("container `proxy` has no readiness probe".to_string(), kubeproof::check::Severity::Info),
            ],
            "targetPort {target}"
        );
    }
}

#[test]
fn hpa_without_metrics_needs_cpu_requests() {
    let text = deployment("api", None, "")
        + "---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: { name: api, namespace: shop }\nspec:\n  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }\n  maxReplicas: 3\n";
    assert!(codes(&text).contains(&"KP210".to_string()));
}

#[test]
fn pdb_selecting_nothing_needs_pods_in_its_namespace() {
    // Namespace without pods in the set: managed elsewhere, not reported.
    assert!(!codes(&pdb("api", "api", "maxUnavailable: 1")).contains(&"KP211".to_string()));
    // Null selector: always reported.
    let null = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: { name: x, namespace: shop }\nspec:\n  maxUnavailable: 1\n";
    assert!(codes(null).contains(&"KP211".to_string()));
}

#[test]
fn zero_max_unavailable_blocks_even_pods_outside_the_set() {
    assert!(codes(&pdb("operator-pods", "cluster", "maxUnavailable: 0")).contains(&"KP212".to_string()));
}

#[test]
fn pod_level_resources_count_for_every_container() {
    let text = deployment("api", None, "resources: { requests: { cpu: 500m, memory: 1Gi }, limits: { memory: 1Gi } }");
    let c = codes(&text);
    assert!(!c.contains(&"KP201".to_string()) && !c.contains(&"KP202".to_string()), "{c:?}");
}
