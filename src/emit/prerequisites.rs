//! What a generated stack assumes of the cluster before `kubectl apply`:
//! operators and their CRDs, controllers, APIs, storage classes, namespaces
//! and the Kubernetes features it relies on, derived from the objects of each
//! environment (never written by hand per example). The README lists them.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::Value;

use crate::description::KubeVersion;
use crate::generate::dashboards::SIDECAR_LABEL;
use crate::generate::{Object, Stack};
use crate::model::At;
use crate::model::features::{self, FEATURES};
use crate::model::gvk::split;
use crate::model::pods::template_pointers;

/// One kind of thing the cluster must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// The target version; names: the feature gates the objects rely on.
    Kubernetes,
    /// A network plugin that enforces NetworkPolicy.
    NetworkPolicy,
    /// An ingress controller; names: the IngressClasses (`""` for the default one).
    IngressController,
    /// cert-manager; names: the issuers (`ClusterIssuer NAME`).
    CertManager,
    /// Istio's CRDs and control plane; names: `apiVersion kind`.
    Istio,
    /// An Istio ingress gateway; names: its pod selectors (`istio=ingressgateway`).
    IngressGateway,
    /// The Istio CNI node agent; names: the namespaces that need it.
    IstioCni,
    /// A Prometheus scraping through the mesh with Istio's workload
    /// certificates; names: the identities the metrics paths admit.
    MeshScrape,
    /// The Prometheus Operator's CRDs and a Prometheus selecting them; names: the kinds.
    PrometheusOperator,
    /// Grafana's dashboard sidecar; names: the namespaces of the dashboards.
    GrafanaDashboards,
    /// metrics-server (the resource metrics API); names: the resources HPAs scale on.
    MetricsServer,
    /// A custom metrics API such as prometheus-adapter; names: the metrics.
    CustomMetrics,
    /// An external metrics API; names: the metrics.
    ExternalMetrics,
    /// Velero's CRDs and server; names: the kinds.
    Velero,
    /// Volume snapshots for Velero.
    VolumeSnapshots,
    /// Storage classes; names: `CLASS MODE` (`""` as class: the default one).
    Storage,
    /// Namespaces the stack writes into but does not create; names: them.
    Namespaces,
    /// Namespaces outside the stack that NetworkPolicies name for peers; names: them.
    PeerNamespaces,
    /// The Gateway API's CRDs and a Gateway; names: `NS/NAME` of the
    /// Gateways and, after a space, the namespace of a route attached to it.
    GatewayApi,
    /// A load-balancer implementation; names: the LoadBalancer Services.
    LoadBalancer,
    /// Nodes clients can reach on the NodePort range; names: the NodePort Services.
    NodePorts,
    /// The Vertical Pod Autoscaler; names: the update modes used.
    Vpa,
    /// The External Secrets Operator; names: the stores (`KIND NAME`).
    ExternalSecrets,
    /// The sealed-secrets controller; names: the SealedSecrets to seal (`NS/NAME`).
    SealedSecrets,
}

/// A need, what it is about, and which environments have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prerequisite {
    pub need: Need,
    pub names: BTreeSet<String>,
    pub envs: BTreeSet<String>,
}

/// Every environment's needs, merged: the names of all, the environments of each.
pub fn prerequisites(envs: &[(String, Stack)]) -> Vec<Prerequisite> {
    let mut all: BTreeMap<Need, Prerequisite> = BTreeMap::new();
    for (env, stack) in envs {
        let mut needs = needs(&stack.objects);
        // Sealed by the user, not among the objects.
        if stack.secrets_mode == crate::description::delivery::SecretsMode::Sealed && !stack.secrets.is_empty() {
            needs.insert(
                Need::SealedSecrets,
                stack.secrets.iter().map(|s| format!("{}/{}", s.namespace, s.name)).collect(),
            );
        }
        for (need, names) in needs {
            let p =
                all.entry(need).or_insert_with(|| Prerequisite { need, names: BTreeSet::new(), envs: BTreeSet::new() });
            p.names.extend(names);
            p.envs.insert(env.clone());
        }
    }
    all.into_values().collect()
}

/// What one environment's objects need.
pub fn needs(objects: &[Object]) -> BTreeMap<Need, BTreeSet<String>> {
    let mut out: BTreeMap<Need, BTreeSet<String>> = BTreeMap::new();
    out.insert(Need::Kubernetes, BTreeSet::new());
    let mut add = |need: Need, name: Option<String>| {
        let names = out.entry(need).or_default();
        names.extend(name);
    };
    let created: BTreeSet<&str> = objects.iter().filter(|o| o.kind == "Namespace").map(|o| o.name.as_str()).collect();
    let mounted = mounted_config_maps(objects);
    for o in objects {
        let group = split(&o.api_version).0;
        let v = &o.value;
        if features::applies(&o.api_version, &o.kind) {
            for u in features::uses(&o.api_version, &o.kind, &o.checked_value()) {
                add(Need::Kubernetes, Some(u.feature.gate.to_string()));
            }
        }
        if native_istio_sidecar(o) {
            add(Need::Kubernetes, Some(features::SIDECARS.gate.to_string()));
        }
        if let Some(ns) = o.namespace.as_deref().filter(|ns| !created.contains(ns)) {
            add(Need::Namespaces, Some(ns.to_string()));
        }
        match (group, o.kind.as_str()) {
            ("networking.k8s.io", "NetworkPolicy") => {
                add(Need::NetworkPolicy, None);
                for ns in peer_namespaces(v).filter(|ns| !created.contains(ns) && *ns != "kube-system") {
                    add(Need::PeerNamespaces, Some(ns.to_string()));
                }
            }
            ("networking.k8s.io", "Ingress") => {
                add(Need::IngressController, Some(text(v.at("/spec/ingressClassName")).to_string()));
                issuer_annotations(v, &mut add);
            }
            ("cert-manager.io", "Certificate") => {
                let kind = v.at("/spec/issuerRef/kind").and_then(Value::as_str).unwrap_or("Issuer");
                add(Need::CertManager, Some(format!("{kind} {}", text(v.at("/spec/issuerRef/name")))));
            }
            ("", "Namespace") if mesh_injected(v) && pod_security_forbids_istio_init(v) => {
                add(Need::IstioCni, Some(o.name.clone()));
            }
            // A dashboard the stack's own Grafana mounts needs no sidecar.
            ("", "ConfigMap")
                if v.at(&format!("/metadata/labels/{SIDECAR_LABEL}")).is_some()
                    && !mounted.contains(&(o.namespace.as_deref().unwrap_or_default(), o.name.as_str())) =>
            {
                add(Need::GrafanaDashboards, o.namespace.clone());
            }
            ("autoscaling", "HorizontalPodAutoscaler") => hpa_metrics(v, &mut add),
            ("autoscaling.k8s.io", _) => {
                add(Need::Vpa, Some(text(v.at("/spec/updatePolicy/updateMode")).to_string()));
            }
            ("gateway.networking.k8s.io", _) => {
                let ns = o.namespace.as_deref().unwrap_or_default();
                for parent in v.at("/spec/parentRefs").and_then(Value::as_array).into_iter().flatten() {
                    let gw_ns = parent.get("namespace").and_then(Value::as_str).unwrap_or(ns);
                    add(Need::GatewayApi, Some(format!("{gw_ns}/{} {ns}", text(parent.get("name")))));
                }
            }
            ("", "Service") => match text(v.at("/spec/type")) {
                "LoadBalancer" => {
                    add(Need::LoadBalancer, Some(format!("{}/{}", o.namespace.as_deref().unwrap_or(""), o.name)))
                }
                "NodePort" => {
                    add(Need::NodePorts, Some(format!("{}/{}", o.namespace.as_deref().unwrap_or(""), o.name)))
                }
                _ => {}
            },
            ("", "PersistentVolumeClaim") => claim(v.at("/spec"), &mut add),
            ("apps", "StatefulSet") => {
                for t in v.at("/spec/volumeClaimTemplates").and_then(Value::as_array).into_iter().flatten() {
                    claim(t.get("spec"), &mut add);
                }
            }
            ("monitoring.coreos.com", kind) => add(Need::PrometheusOperator, Some(kind.to_string())),
            ("external-secrets.io", "ExternalSecret") => {
                let kind = v.at("/spec/secretStoreRef/kind").and_then(Value::as_str).unwrap_or("SecretStore");
                add(Need::ExternalSecrets, Some(format!("{kind} {}", text(v.at("/spec/secretStoreRef/name")))));
            }
            ("velero.io", kind) => {
                add(Need::Velero, Some(kind.to_string()));
                if v.at("/spec/template/snapshotVolumes").and_then(Value::as_bool) == Some(true) {
                    add(Need::VolumeSnapshots, None);
                }
            }
            (g, kind) if g.ends_with("istio.io") => {
                add(Need::Istio, Some(format!("{} {kind}", o.api_version)));
                for id in scraper_identities(kind, v) {
                    add(Need::MeshScrape, Some(id));
                }
                if kind == "Gateway" {
                    for (k, val) in v.at("/spec/selector").and_then(Value::as_object).into_iter().flatten() {
                        add(Need::IngressGateway, Some(format!("{k}={}", text(Some(val)))));
                    }
                }
            }
            _ => {}
        }
        if mesh_injected(v) && o.kind == "Namespace" {
            add(Need::Istio, None);
        }
    }
    out
}

/// The Gateways the HTTPRoutes attach to, and the namespaces each must admit routes from.
fn gateway_api(names: &BTreeSet<String>) -> String {
    let mut by_gateway: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for n in names {
        let (gw, ns) = n.split_once(' ').unwrap_or((n, ""));
        by_gateway.entry(gw).or_default().push(ns);
    }
    let gateways: Vec<String> = by_gateway
        .iter()
        .map(|(gw, namespaces)| {
            let list: Vec<String> = namespaces.iter().map(|n| format!("`{n}`")).collect();
            format!("`{gw}`, admitting routes from namespace {} (`allowedRoutes`)", list.join(", "))
        })
        .collect();
    format!(
        "**The Gateway API CRDs** (standard channel, `gateway.networking.k8s.io/v1` HTTPRoute) and an \
         implementation running the Gateway {}, its listeners serving the routes' hosts with TLS.",
        gateways.join("; ")
    )
}

/// The identities a metrics guard admits: a DENY AuthorizationPolicy on
/// paths for every source but some namespaces or principals (the scraper's).
fn scraper_identities(kind: &str, policy: &Value) -> Vec<String> {
    if kind != "AuthorizationPolicy" || policy.at("/spec/action").and_then(Value::as_str) != Some("DENY") {
        return Vec::new();
    }
    let mut out = Vec::new();
    for rule in policy.at("/spec/rules").and_then(Value::as_array).into_iter().flatten() {
        let on_paths =
            rule.get("to").and_then(Value::as_array).into_iter().flatten().any(|t| t.at("/operation/paths").is_some());
        for from in rule.get("from").and_then(Value::as_array).into_iter().flatten().filter(|_| on_paths) {
            for (key, what) in [("notNamespaces", "namespace"), ("notPrincipals", "principal")] {
                for id in from.at(&format!("/source/{key}")).and_then(Value::as_array).into_iter().flatten() {
                    out.push(format!("{what} {}", text(Some(id))));
                }
            }
        }
    }
    out
}

/// The namespaces a NetworkPolicy's peers name (`kubernetes.io/metadata.name`).
fn peer_namespaces(policy: &Value) -> impl Iterator<Item = &str> {
    [("/spec/ingress", "from"), ("/spec/egress", "to")].into_iter().flat_map(move |(rules, peers)| {
        policy
            .at(rules)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(move |r| r.get(peers).and_then(Value::as_array).into_iter().flatten())
            .filter_map(|p| p.at("/namespaceSelector/matchLabels/kubernetes.io~1metadata.name").and_then(Value::as_str))
    })
}

fn text(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

/// (namespace, name) of the ConfigMaps the Deployments' and StatefulSets'
/// pods mount, directly or through a projected volume.
fn mounted_config_maps(objects: &[Object]) -> BTreeSet<(&str, &str)> {
    let mut out = BTreeSet::new();
    for o in objects.iter().filter(|o| o.kind == "Deployment" || o.kind == "StatefulSet") {
        let ns = o.namespace.as_deref().unwrap_or_default();
        for vol in o.value.at("/spec/template/spec/volumes").and_then(Value::as_array).into_iter().flatten() {
            let projected = vol.at("/projected/sources").and_then(Value::as_array).into_iter().flatten();
            let sources = std::iter::once(vol).chain(projected);
            for name in sources.filter_map(|s| s.at("/configMap/name").and_then(Value::as_str)) {
                out.insert((ns, name));
            }
        }
    }
    out
}

/// A Namespace whose pods get an Istio sidecar injected.
fn mesh_injected(ns: &Value) -> bool {
    ns.at("/metadata/labels/istio-injection").and_then(Value::as_str) == Some("enabled")
        || ns.at("/metadata/labels/istio.io~1rev").is_some()
}

/// Pod Security `baseline` and `restricted` forbid the NET_ADMIN and NET_RAW
/// capabilities of the `istio-init` container that sets up the redirection.
fn pod_security_forbids_istio_init(ns: &Value) -> bool {
    matches!(
        ns.at("/metadata/labels/pod-security.kubernetes.io~1enforce").and_then(Value::as_str),
        Some("baseline" | "restricted")
    )
}

/// Pods that ask Istio for a native sidecar rely on Kubernetes' native sidecars.
fn native_istio_sidecar(o: &Object) -> bool {
    let Some((_, labels)) = template_pointers(&o.kind) else { return false };
    let annotations = labels.replace("/labels", "/annotations/sidecar.istio.io~1nativeSidecar");
    o.value.at(&annotations).and_then(Value::as_str) == Some("true")
}

fn issuer_annotations(ingress: &Value, add: &mut impl FnMut(Need, Option<String>)) {
    for (key, kind) in [("cert-manager.io~1cluster-issuer", "ClusterIssuer"), ("cert-manager.io~1issuer", "Issuer")] {
        if let Some(name) = ingress.at(&format!("/metadata/annotations/{key}")).and_then(Value::as_str) {
            add(Need::CertManager, Some(format!("{kind} {name}")));
        }
    }
}

fn hpa_metrics(hpa: &Value, add: &mut impl FnMut(Need, Option<String>)) {
    for m in hpa.at("/spec/metrics").and_then(Value::as_array).into_iter().flatten() {
        let (need, name) = match text(m.get("type")) {
            "Resource" => (Need::MetricsServer, m.at("/resource/name")),
            "ContainerResource" => (Need::MetricsServer, m.at("/containerResource/name")),
            "Pods" => (Need::CustomMetrics, m.at("/pods/metric/name")),
            "Object" => (Need::CustomMetrics, m.at("/object/metric/name")),
            "External" => (Need::ExternalMetrics, m.at("/external/metric/name")),
            _ => continue,
        };
        add(need, Some(text(name).to_string()));
    }
}

fn claim(spec: Option<&Value>, add: &mut impl FnMut(Need, Option<String>)) {
    let Some(spec) = spec else { return };
    let class = text(spec.get("storageClassName"));
    for mode in spec.get("accessModes").and_then(Value::as_array).into_iter().flatten() {
        add(Need::Storage, Some(format!("{class} {}", text(Some(mode)))));
    }
}

/// The README's section: one line per need, with the environments that have
/// it when not all do.
pub fn markdown(kube: KubeVersion, envs: &[(String, Stack)]) -> String {
    let mut s = String::from("## Cluster prerequisites\n\n");
    s += "What this stack assumes of the cluster before `kubectl apply`, derived from the generated objects.\n\n";
    for p in prerequisites(envs) {
        let only = if p.envs.len() < envs.len() {
            let envs: Vec<String> = p.envs.iter().map(|e| format!("`{e}`")).collect();
            format!(" (only {})", envs.join(", "))
        } else {
            String::new()
        };
        let _ = writeln!(s, "- {}{only}.", line(&p, kube));
    }
    s.push('\n');
    s
}

fn ticked<'a>(names: impl IntoIterator<Item = &'a String>) -> String {
    let v: Vec<String> = names.into_iter().map(|n| format!("`{n}`")).collect();
    match v.len() {
        0 => String::new(),
        1 => v[0].clone(),
        n => format!("{} and {}", v[..n - 1].join(", "), v[n - 1]),
    }
}

/// One need, as a sentence without its final period.
fn line(p: &Prerequisite, kube: KubeVersion) -> String {
    let text = sentence(p, kube);
    text.strip_suffix('.').map(str::to_string).unwrap_or(text)
}

fn sentence(p: &Prerequisite, kube: KubeVersion) -> String {
    let names = &p.names;
    match p.need {
        Need::Kubernetes => {
            let used: Vec<String> = FEATURES
                .iter()
                .filter(|f| names.contains(f.gate))
                .map(|f| format!("{} (on by default from 1.{}: {}, {})", f.what, f.release, f.gate, f.source()))
                .collect();
            let relies =
                if used.is_empty() { "no field that needs a later release".to_string() } else { used.join("; ") };
            format!("**Kubernetes {kube}** (`cluster.kubernetes`, checked by KP007). The stack relies on {relies}.")
        }
        Need::NetworkPolicy => "**A network plugin that enforces NetworkPolicy** (Calico, Cilium, …): without one \
                                 the generated policies are ignored and every pod is open."
            .into(),
        Need::IngressController => {
            let classes: Vec<String> =
                names.iter().map(|c| if c.is_empty() { "(default)".into() } else { c.clone() }).collect();
            format!("**An ingress controller** serving IngressClass {}.", ticked(&classes))
        }
        Need::CertManager => format!("**cert-manager** with {}.", ticked(names)),
        Need::Istio => {
            let kinds: BTreeSet<String> =
                names.iter().filter_map(|n| n.split_once(' ')).map(|(_, k)| k.to_string()).collect();
            // Istio 1.22 first serves these kinds as v1.
            let v1 = names
                .iter()
                .any(|n| n.starts_with("networking.istio.io/v1 ") || n == "security.istio.io/v1 PeerAuthentication");
            let release = if v1 { " 1.22 or later** (the first to serve the `v1` APIs used here)" } else { "**" };
            format!("**Istio{release}: its CRDs, istiod and sidecar injection, for {}.", ticked(&kinds))
        }
        Need::IngressGateway => format!("**The Istio ingress gateway**: pods labelled {}.", ticked(names)),
        Need::IstioCni => format!(
            "**The Istio CNI node agent**: namespace {} enforces Pod Security `restricted` (or `baseline`) and has \
             sidecar injection; those levels forbid the NET_ADMIN and NET_RAW capabilities of the `istio-init` \
             container, so without the CNI every injected pod is refused.",
            ticked(names)
        ),
        Need::MeshScrape => format!(
            "**Prometheus with Istio's workload certificates**: the metrics paths of the meshed workloads answer \
             mutual-TLS requests from {} only, so Prometheus runs with an Istio sidecar, or mounts the certificates \
             a sidecar writes (`OUTPUT_CERTS` in its `proxy.istio.io/config`) and scrapes with them as its \
             `tls_config`; a plaintext scrape is refused.",
            ticked(names)
        ),
        Need::PrometheusOperator => format!(
            "**The Prometheus Operator** (CRDs) and a Prometheus that selects these objects: {}.",
            ticked(names)
        ),
        Need::GrafanaDashboards => format!(
            "**Grafana with its dashboard sidecar**, loading ConfigMaps labelled `{SIDECAR_LABEL}: \"1\"` in \
             namespace {}.",
            ticked(names)
        ),
        Need::MetricsServer => {
            format!("**metrics-server** (the resource metrics API) for the HPAs on {}.", ticked(names))
        }
        Need::CustomMetrics => {
            use crate::generate::monitoring::adapter::{CONFIG_KEY, CONFIG_MAP};
            format!(
                "**A custom metrics API** serving {} for the HPAs, or they never scale on it: prometheus-adapter \
                 with the rules of the generated ConfigMap `{CONFIG_MAP}` (key `{CONFIG_KEY}`, its `--config`).",
                ticked(names)
            )
        }
        Need::ExternalSecrets => format!(
            "**The External Secrets Operator** (`external-secrets.io/v1`) and {}, holding the values the \
             ExternalSecrets read.",
            ticked(names)
        ),
        Need::SealedSecrets => format!(
            "**The sealed-secrets controller**, and the SealedSecrets of {} sealed with its certificate \
             (`sealed-secrets/README.md` of each overlay).",
            ticked(names)
        ),
        Need::ExternalMetrics => format!("**An external metrics API** serving {} for the HPAs.", ticked(names)),
        Need::Velero => {
            format!("**Velero** (CRDs and server) with a default backup storage location, for {}.", ticked(names))
        }
        Need::VolumeSnapshots => "**Volume snapshots for Velero** (`snapshotVolumes: true`): a \
                                   VolumeSnapshotLocation, or CSI snapshots with Velero's CSI support."
            .into(),
        Need::Storage => {
            let mut by_class: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
            for n in names {
                let (class, mode) = n.split_once(' ').unwrap_or((n, ""));
                by_class.entry(class).or_default().push(mode);
            }
            let classes: Vec<String> = by_class
                .iter()
                .map(|(class, modes)| {
                    let which = if class.is_empty() {
                        "the default StorageClass".into()
                    } else {
                        format!("StorageClass `{class}`")
                    };
                    format!("{which}, offering {}", modes.join(" and "))
                })
                .collect();
            format!("**Storage**: {}.", classes.join("; "))
        }
        Need::Namespaces => format!("**Namespaces** the stack writes into but does not create: {}.", ticked(names)),
        Need::GatewayApi => gateway_api(names),
        Need::LoadBalancer => format!(
            "**A load-balancer implementation** (the cloud provider's, or MetalLB on bare metal) for the \
             LoadBalancer Services {}; with `externalTrafficPolicy: Local` it must send traffic only to nodes \
             running a ready pod (cloud load balancers do, by the Service's `healthCheckNodePort`).",
            ticked(names)
        ),
        Need::NodePorts => format!(
            "**Nodes the clients can reach** on the NodePort range (30000–32767 by default) for the NodePort \
             Services {}; with `externalTrafficPolicy: Local` only nodes running a ready pod answer.",
            ticked(names)
        ),
        Need::Vpa => format!(
            "**The Vertical Pod Autoscaler** (`autoscaling.k8s.io/v1` CRDs and its recommender; for `Initial` \
             and `Auto` also its admission controller, and for `Auto` its updater), for the update modes {}.",
            ticked(names)
        ),
        Need::PeerNamespaces => format!(
            "**Peers in namespaces the stack does not create**, named by its NetworkPolicies: {}; what they \
             admit from or reach there (an ingress controller, a Prometheus outside the stack) must run in \
             exactly those namespaces, or it is blocked.",
            ticked(names)
        ),
    }
}
