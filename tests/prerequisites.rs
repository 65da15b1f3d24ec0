//! The cluster prerequisites each example's README lists are derived from
//! what was generated: every custom kind has its operator, every IngressClass,
//! storage class, HPA metric and outside namespace is named, Istio's CNI is
//! asked for where Pod Security `restricted` meets sidecar injection, and the
//! Kubernetes features the objects rely on come from KP007's table.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use kubeproof::emit::prerequisites::{Need, Prerequisite, needs, prerequisites};
use kubeproof::model::At;
use serde_json::Value;

fn built(path: &Path) -> (kubeproof::description::Platform, kubeproof::build::Built) {
    let platform = kubeproof::description::load(path).unwrap_or_else(|d| panic!("{}: {d:?}", path.display()));
    let built = kubeproof::build::build(&platform, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (platform, built)
}

fn example(name: &str) -> (kubeproof::description::Platform, kubeproof::build::Built) {
    built(&common::repo().join(format!("examples/{name}.yaml")))
}

fn by_need(list: Vec<Prerequisite>) -> BTreeMap<Need, Prerequisite> {
    list.into_iter().map(|p| (p.need, p)).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// The operator a custom API group needs; `None` for Kubernetes' own groups.
fn operator(group: &str) -> Option<Need> {
    match group {
        ""
        | "apps"
        | "batch"
        | "autoscaling"
        | "policy"
        | "networking.k8s.io"
        | "rbac.authorization.k8s.io"
        | "kustomize.config.k8s.io" => None,
        "monitoring.coreos.com" => Some(Need::PrometheusOperator),
        "cert-manager.io" => Some(Need::CertManager),
        "velero.io" => Some(Need::Velero),
        "autoscaling.k8s.io" => Some(Need::Vpa),
        "gateway.networking.k8s.io" => Some(Need::GatewayApi),
        g if g.ends_with("istio.io") => Some(Need::Istio),
        g => panic!("API group `{g}` has no prerequisite in this test: add one to the README's list and here"),
    }
}

#[test]
fn every_example_lists_what_its_objects_need_in_the_environments_that_have_them() {
    let mut problems = Vec::new();
    for path in common::examples() {
        let (_, built) = built(&path);
        let listed = by_need(prerequisites(&built.envs));
        for (env, stack) in &built.envs {
            let has = |need: Need, name: Option<&str>| {
                listed.get(&need).is_some_and(|p| p.envs.contains(env) && name.is_none_or(|n| p.names.contains(n)))
            };
            let created: BTreeSet<&str> =
                stack.objects.iter().filter(|o| o.kind == "Namespace").map(|o| o.name.as_str()).collect();
            for o in &stack.objects {
                let id = format!("{}/{env}: {}", common::stem(&path), o.id());
                let group = kubeproof::model::gvk::split(&o.api_version).0;
                if let Some(need) = operator(group).filter(|n| !has(*n, None)) {
                    problems.push(format!("{id}: {need:?} is not listed"));
                }
                if let Some(ns) = o.namespace.as_deref().filter(|ns| !created.contains(ns))
                    && !has(Need::Namespaces, Some(ns))
                {
                    problems.push(format!("{id}: namespace {ns} is not listed"));
                }
                let v = &o.value;
                if o.kind == "Ingress" {
                    let class = v.at("/spec/ingressClassName").and_then(Value::as_str).unwrap_or("");
                    if !has(Need::IngressController, Some(class)) {
                        problems.push(format!("{id}: IngressClass {class:?} is not listed"));
                    }
                }
                if o.kind == "NetworkPolicy" && !has(Need::NetworkPolicy, None) {
                    problems.push(format!("{id}: no NetworkPolicy enforcement listed"));
                }
                for m in v.at("/spec/metrics").and_then(Value::as_array).into_iter().flatten() {
                    let (need, name) = match m["type"].as_str() {
                        Some("Resource") => (Need::MetricsServer, m.at("/resource/name")),
                        Some("Pods") => (Need::CustomMetrics, m.at("/pods/metric/name")),
                        other => panic!("{id}: metric type {other:?} not covered by this test"),
                    };
                    let name = name.and_then(Value::as_str).unwrap_or("");
                    if !has(need, Some(name)) {
                        problems.push(format!("{id}: metric {name} is not listed under {need:?}"));
                    }
                }
                for u in kubeproof::model::features::uses(&o.api_version, &o.kind, &o.checked_value()) {
                    if !has(Need::Kubernetes, Some(u.feature.gate)) {
                        problems.push(format!("{id}: relies on {} without saying so", u.feature.gate));
                    }
                }
            }
        }
        // Nothing listed for an environment that does not need it.
        for p in listed.values() {
            for env in &p.envs {
                let stack = &built.envs.iter().find(|(e, _)| e == env).expect("the environment").1;
                if !needs(&stack.objects).contains_key(&p.need) {
                    problems.push(format!("{}/{env}: {:?} listed but not needed", common::stem(&path), p.need));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn istio_examples_need_the_mesh_its_gateway_and_its_cni_where_pod_security_is_restricted() {
    for (name, envs) in [
        ("hdr-empire", &["default"][..]),
        ("machine-native-ops", &["default"][..]),
        ("kailash", &["prod", "staging"][..]),
    ] {
        let (_, built) = example(name);
        let listed = by_need(prerequisites(&built.envs));
        let envs = set(envs);
        for need in [Need::Istio, Need::IngressGateway, Need::IstioCni] {
            let p = listed.get(&need).unwrap_or_else(|| panic!("{name}: {need:?} missing"));
            assert_eq!(p.envs, envs, "{name}: {need:?}");
        }
        assert_eq!(listed[&Need::IstioCni].names, set(&[name]), "{name}: the namespace that needs the CNI");
        assert_eq!(listed[&Need::IngressGateway].names, set(&["istio=ingressgateway"]), "{name}");
        assert!(listed[&Need::Istio].names.iter().any(|n| n.ends_with(" AuthorizationPolicy")), "{name}");
    }
    for name in ["fingerprint-api", "health-platform"] {
        let (_, built) = example(name);
        let listed = by_need(prerequisites(&built.envs));
        for need in [Need::Istio, Need::IngressGateway, Need::IstioCni] {
            assert!(!listed.contains_key(&need), "{name}: {need:?} without a mesh");
        }
        assert_eq!(listed[&Need::IngressController].names, set(&["nginx"]), "{name}");
    }
}

#[test]
fn each_example_lists_its_operators_metrics_apis_and_kubernetes_features() {
    let (_, kailash) = example("kailash");
    let k = by_need(prerequisites(&kailash.envs));
    assert_eq!(k[&Need::Kubernetes].names, set(&["PodLifecycleSleepAction", "SidecarContainers"]));
    assert_eq!(
        k[&Need::CustomMetrics].names,
        set(&["dataflow_queue_length", "http_requests_per_second", "mcp_active_connections"])
    );
    assert_eq!(k[&Need::CustomMetrics].envs, set(&["prod", "staging"]));
    assert_eq!(k[&Need::MetricsServer].names, set(&["cpu", "memory"]));
    assert_eq!(
        (k[&Need::IngressController].names.clone(), k[&Need::IngressController].envs.clone()),
        (set(&["nginx"]), set(&["dev"]))
    );
    assert_eq!(k[&Need::CertManager].names, set(&["ClusterIssuer letsencrypt-prod"]));
    assert_eq!(k[&Need::Velero].names, set(&["Schedule"]));
    assert!(k.contains_key(&Need::VolumeSnapshots));
    // Its meshed metrics paths admit the monitoring namespace's identity only.
    assert_eq!(
        (k[&Need::MeshScrape].names.clone(), k[&Need::MeshScrape].envs.clone()),
        (set(&["namespace monitoring"]), set(&["prod", "staging"]))
    );

    let (_, ops) = example("machine-native-ops");
    let m = by_need(prerequisites(&ops.envs));
    // Its backup pods ask Istio for a native sidecar: Kubernetes' native sidecars.
    assert!(m[&Need::Kubernetes].names.contains("SidecarContainers"), "{:?}", m[&Need::Kubernetes]);
    assert_eq!(m[&Need::PrometheusOperator].names, set(&["PodMonitor", "PrometheusRule", "ServiceMonitor"]));
    assert!(!m.contains_key(&Need::CustomMetrics) && !m.contains_key(&Need::IngressController));

    let (_, health) = example("health-platform");
    let h = by_need(prerequisites(&health.envs));
    assert_eq!(h[&Need::Kubernetes].names, set(&["PodLifecycleSleepAction"]));
    assert_eq!(h[&Need::Velero].names, set(&["Schedule"]));
    assert!(h[&Need::Storage].names.iter().any(|n| n.ends_with(" ReadWriteMany")), "{:?}", h[&Need::Storage]);
    assert!(h[&Need::PeerNamespaces].names.contains("ingress-nginx"), "{:?}", h[&Need::PeerNamespaces]);
    // Its own Prometheus and Grafana load the rules and dashboards: no Operator, no sidecar.
    assert!(!h.contains_key(&Need::PrometheusOperator) && !h.contains_key(&Need::GrafanaDashboards), "{h:?}");
    assert!(!h.contains_key(&Need::MeshScrape), "no mesh, plaintext scrapes: {h:?}");
    let m_dash = &m[&Need::GrafanaDashboards].names;
    assert_eq!(m_dash, &set(&["monitoring"]), "machine-native-ops' dashboards are for the sidecar");

    let (_, fingerprint) = example("fingerprint-api");
    let f = by_need(prerequisites(&fingerprint.envs));
    assert_eq!(f[&Need::CertManager].names, set(&["ClusterIssuer letsencrypt-prod"]), "from the Ingress annotation");
    assert!(!f.contains_key(&Need::Velero) && !f.contains_key(&Need::Storage));
}

#[test]
fn the_readme_shows_the_list_with_the_target_version() {
    let (platform, built) = example("kailash");
    let readme = built.tree.iter().find(|(p, _)| *p == Path::new("README.md")).expect("README.md").1;
    let readme = std::str::from_utf8(readme).expect("UTF-8");
    let section =
        readme.split("## Cluster prerequisites").nth(1).expect("the section").split("\n## ").next().unwrap_or("");
    let kube = platform.cluster.kubernetes.value;
    assert!(section.contains(&format!("- **Kubernetes {kube}** (`cluster.kubernetes`")), "{section}");
    assert!(section.contains("native sidecar containers (on by default from 1.29: SidecarContainers"), "{section}");
    assert!(section.contains("**The Istio CNI node agent**: namespace `kailash`"), "{section}");
    assert!(section.contains("(only `prod`, `staging`)."), "{section}");
    assert!(section.contains("- **An ingress controller** serving IngressClass `nginx` (only `dev`)."), "{section}");
}
