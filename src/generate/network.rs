//! Traffic into the platform, per exposed port: an Ingress with TLS from
//! cert-manager (`ingress`), a LoadBalancer or NodePort Service
//! (`loadBalancer`, `nodePort`), a Gateway API HTTPRoute (`gateway`); and
//! the network policies. (The mesh builds on this module.)

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::connections::{Class, Connection, End};
use super::*;
use crate::description::resolve::{Exposure, JobR, Port, Resolved, Store, Svc};
use crate::description::{ExposeKind, Protocol};

pub fn ingresses(r: &Resolved, stack: &mut Stack) {
    let nginx = r.ingress_class.contains("nginx");
    for svc in &r.services {
        for (name, e) in svc.exposed(ExposeKind::Ingress) {
            if let Some(port) = svc.exposed_port(e) {
                stack.push(&ingress(r, svc, &name, e, port, nginx));
            }
        }
    }
}

/// The Ingress of one exposure, named `name`.
fn ingress(r: &Resolved, svc: &Svc, name: &str, e: &Exposure, port: &Port, nginx: bool) -> net::Ingress {
    let labels = labels(&r.platform, &svc.name, "service");
    let mut annotations = BTreeMap::from([("cert-manager.io/cluster-issuer".to_string(), r.issuer.clone())]);
    if nginx {
        let mut set = |k: &str, v: String| {
            annotations.insert(format!("nginx.ingress.kubernetes.io/{k}"), v);
        };
        set("ssl-redirect", "true".into());
        set("proxy-read-timeout", e.timeout_seconds.to_string());
        set("proxy-send-timeout", e.timeout_seconds.to_string());
        match port.protocol {
            Protocol::Grpc => set("backend-protocol", "GRPC".into()),
            // Websocket sessions stay on their pod across reconnects.
            Protocol::Websocket => {
                set("affinity", "cookie".into());
                set("session-cookie-name", format!("{}-affinity", svc.name));
                set("session-cookie-max-age", "10800".into());
            }
            Protocol::Http | Protocol::Tcp => {}
        }
        if let Some(rps) = e.rate_limit {
            set("limit-rps", rps.to_string());
            set("limit-burst-multiplier", "5".into());
        }
    }
    let mut metadata = meta(name, &svc.namespace, &labels);
    metadata.annotations = Some(annotations);
    net::Ingress {
        metadata,
        spec: Some(net::IngressSpec {
            ingress_class_name: Some(r.ingress_class.clone()),
            tls: Some(vec![net::IngressTLS {
                hosts: Some(vec![e.host.clone()]),
                secret_name: Some(format!("{name}-tls")),
            }]),
            rules: Some(vec![net::IngressRule {
                host: Some(e.host.clone()),
                http: Some(net::HTTPIngressRuleValue {
                    paths: vec![net::HTTPIngressPath {
                        path: Some(e.path.clone()),
                        path_type: "Prefix".into(),
                        backend: net::IngressBackend {
                            service: Some(net::IngressServiceBackend {
                                name: svc.name.clone(),
                                port: Some(net::ServiceBackendPort { name: Some(port.name.clone()), number: None }),
                            }),
                            ..Default::default()
                        },
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The ports a service publishes as they are, by Service type: `NAME-public`
/// (LoadBalancer) and `NAME-nodeport` (NodePort). Services of their own, so
/// the ClusterIP Service (which `uses` wires and the mesh routes) stays
/// in-cluster and only the published ports are public. `externalTrafficPolicy:
/// Local`: nodes do not forward to another node's pod, so the source address
/// is not rewritten — the NetworkPolicy admits the client as it is (not a
/// node address) and the app sees who calls.
pub fn public_services(r: &Resolved, stack: &mut Stack) {
    for svc in &r.services {
        for (kind, suffix, type_) in
            [(ExposeKind::LoadBalancer, "public", "LoadBalancer"), (ExposeKind::NodePort, "nodeport", "NodePort")]
        {
            let ports: Vec<&Port> = svc.exposed(kind).iter().filter_map(|(_, e)| svc.exposed_port(e)).collect();
            if ports.is_empty() {
                continue;
            }
            let labels = labels(&r.platform, &svc.name, "service");
            stack.push(&core::Service {
                metadata: meta(&format!("{}-{suffix}", svc.name), &svc.namespace, &labels),
                spec: Some(core::ServiceSpec {
                    type_: Some(type_.into()),
                    external_traffic_policy: Some("Local".into()),
                    selector: Some(selector_labels(&r.platform, &svc.name)),
                    ports: Some(ports.iter().map(|p| super::workloads::service_port(p)).collect()),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
}

/// A Gateway API HTTPRoute per `gateway` exposure, attached to
/// `cluster.gateway` (its listeners terminate TLS for the host).
pub fn http_routes(r: &Resolved, stack: &mut Stack) {
    let Some((gw_ns, gw_name)) = &r.gateway else { return };
    for svc in &r.services {
        for (name, e) in svc.exposed(ExposeKind::Gateway) {
            let Some(port) = svc.exposed_port(e) else { continue };
            let spec = serde_json::json!({
                "parentRefs": [{
                    "group": "gateway.networking.k8s.io",
                    "kind": "Gateway",
                    "namespace": gw_ns,
                    "name": gw_name,
                }],
                "hostnames": [e.host],
                "rules": [{
                    "matches": [{ "path": { "type": "PathPrefix", "value": e.path } }],
                    "backendRefs": [{ "name": svc.name, "port": port.service_port }],
                }],
            });
            let labels = labels(&r.platform, &svc.name, "service");
            stack.objects.push(Object {
                api_version: HTTP_ROUTE.0.into(),
                kind: HTTP_ROUTE.1.into(),
                name: name.clone(),
                namespace: Some(svc.namespace.clone()),
                value: serde_json::json!({
                    "apiVersion": HTTP_ROUTE.0,
                    "kind": HTTP_ROUTE.1,
                    "metadata": { "name": name, "namespace": svc.namespace, "labels": labels },
                    "spec": spec,
                }),
            });
        }
    }
}

/// The Gateway API's route kind `gateway` exposures write.
pub const HTTP_ROUTE: (&str, &str) = ("gateway.networking.k8s.io/v1", "HTTPRoute");

/// Private address ranges, and the shared address space (RFC 6598) that
/// some clusters give pods and Services: egress to external hosts goes
/// anywhere but here (a NetworkPolicy cannot name a host, only addresses).
pub const PRIVATE: [&str; 4] = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"];

fn ns_selector(ns: &str) -> LabelSelector {
    LabelSelector {
        match_labels: Some(BTreeMap::from([("kubernetes.io/metadata.name".to_string(), ns.to_string())])),
        ..Default::default()
    }
}

fn peer(platform: &str, name: &str, ns: &str) -> net::NetworkPolicyPeer {
    net::NetworkPolicyPeer {
        namespace_selector: Some(ns_selector(ns)),
        pod_selector: Some(selector(platform, name)),
        ..Default::default()
    }
}

fn tcp(ports: impl IntoIterator<Item = u16>) -> Option<Vec<net::NetworkPolicyPort>> {
    let mut ports: Vec<u16> = ports.into_iter().collect();
    ports.sort_unstable();
    ports.dedup();
    Some(
        ports
            .into_iter()
            .map(|p| net::NetworkPolicyPort {
                port: Some(IntOrString::Int(p.into())),
                protocol: Some("TCP".into()),
                ..Default::default()
            })
            .collect(),
    )
}

/// The pod ports a `uses` target listens on for its clients.
fn target_ports(r: &Resolved, target: &str) -> Option<(String, Vec<u16>)> {
    if let Some(s) = r.service(target) {
        return Some((s.namespace.clone(), s.ports.iter().map(|p| p.port).collect()));
    }
    r.datastore(target).map(|d| (d.namespace.clone(), vec![d.engine.client_port()]))
}

fn policy(
    name: &str,
    ns: &str,
    labels: &BTreeMap<String, String>,
    pods: LabelSelector,
    ingress: Vec<net::NetworkPolicyIngressRule>,
    egress: Vec<net::NetworkPolicyEgressRule>,
) -> net::NetworkPolicy {
    let mut types = Vec::new();
    if !ingress.is_empty() {
        types.push("Ingress".to_string());
    }
    if !egress.is_empty() {
        types.push("Egress".to_string());
    }
    net::NetworkPolicy {
        metadata: meta(name, ns, labels),
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(pods),
            policy_types: Some(types),
            ingress: (!ingress.is_empty()).then_some(ingress),
            egress: (!egress.is_empty()).then_some(egress),
        }),
    }
}

/// Default-deny ingress and egress in every namespace, DNS for every pod,
/// and one policy per workload that opens exactly the declared connections:
/// ingress from its `uses` clients, the ingress controller (when exposed) and
/// Prometheus (its metrics port); egress to what it uses. Datastores admit
/// their clients, their backup pods and Prometheus (with `metrics: true`).
pub fn network_policies(r: &Resolved, stack: &mut Stack) {
    for ns in r.namespaces() {
        stack.push(&default_deny(r, ns));
        stack.push(&allow_dns(r, ns));
    }
    let clients = Clients::of(r);
    let wired = wired(r);
    for s in &r.services {
        if let Some(policy) = service_policy(r, s, &clients, &wired) {
            stack.push(&policy);
        }
    }
    for d in &r.datastores {
        if let Some(policy) = datastore_policy(r, d, &clients, &wired) {
            stack.push(&policy);
        }
    }
    for j in r.batch() {
        if let Some(policy) = batch_policy(r, j, &wired) {
            stack.push(&policy);
        }
    }
}

/// A job's or cronjob's policy: out to what it uses (nothing comes in).
/// None when it uses nothing.
fn batch_policy(r: &Resolved, j: &JobR, wired: &[Connection]) -> Option<net::NetworkPolicy> {
    let mut egress = uses_egress(r, &j.uses);
    egress.extend(wired_egress(r, wired, &j.namespace, &j.name));
    if egress.is_empty() {
        return None;
    }
    let p = &r.platform;
    Some(policy(&j.name, &j.namespace, &labels_of(p, &j.name), selector(p, &j.name), Vec::new(), egress))
}

/// Nothing in or out of the namespace's pods but what another policy opens.
fn default_deny(r: &Resolved, ns: &str) -> net::NetworkPolicy {
    let labels = labels_of(&r.platform, "default-deny");
    net::NetworkPolicy {
        metadata: meta("default-deny", ns, &labels),
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(LabelSelector::default()),
            policy_types: Some(vec!["Ingress".into(), "Egress".into()]),
            ..Default::default()
        }),
    }
}

/// Every pod of the namespace may ask the cluster DNS (and, in the mesh,
/// its sidecar may reach istiod).
fn allow_dns(r: &Resolved, ns: &str) -> net::NetworkPolicy {
    let dns = net::NetworkPolicyPeer {
        namespace_selector: Some(ns_selector("kube-system")),
        pod_selector: Some(LabelSelector {
            match_labels: Some(BTreeMap::from([("k8s-app".to_string(), "kube-dns".to_string())])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let port = |proto: &str| net::NetworkPolicyPort {
        port: Some(IntOrString::Int(53)),
        protocol: Some(proto.into()),
        ..Default::default()
    };
    let mut egress =
        vec![net::NetworkPolicyEgressRule { to: Some(vec![dns]), ports: Some(vec![port("UDP"), port("TCP")]) }];
    if r.mesh == crate::description::Mesh::Istio {
        // Sidecars fetch their configuration and certificates from istiod.
        egress.push(net::NetworkPolicyEgressRule {
            to: Some(vec![net::NetworkPolicyPeer {
                namespace_selector: Some(ns_selector("istio-system")),
                ..Default::default()
            }]),
            ports: tcp([15012]),
        });
    }
    let labels = labels_of(&r.platform, "allow-dns");
    policy("allow-dns", ns, &labels, LabelSelector::default(), Vec::new(), egress)
}

/// The services using each target (name and namespace), for the ingress side.
struct Clients<'a> {
    platform: &'a str,
    of: BTreeMap<&'a str, Vec<(&'a str, &'a str)>>,
}

impl<'a> Clients<'a> {
    fn of(r: &'a Resolved) -> Clients<'a> {
        let mut of: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
        for s in &r.services {
            for t in &s.uses {
                of.entry(t.as_str()).or_default().push((&s.name, &s.namespace));
            }
        }
        // Jobs and cronjobs are clients too.
        for j in r.batch() {
            for t in &j.uses {
                of.entry(t.as_str()).or_default().push((&j.name, &j.namespace));
            }
        }
        Clients { platform: &r.platform, of }
    }

    /// Ingress from the clients of `target` on `ports`, if it has any.
    fn ingress(&self, target: &str, ports: &[u16]) -> Option<net::NetworkPolicyIngressRule> {
        let c = self.of.get(target)?;
        Some(net::NetworkPolicyIngressRule {
            from: Some(c.iter().map(|(name, ns)| peer(self.platform, name, ns)).collect()),
            ports: tcp(ports.iter().copied()),
        })
    }
}

/// Ingress from every pod of namespace `ns` on one port.
fn from_namespace(ns: &str, port: u16) -> net::NetworkPolicyIngressRule {
    net::NetworkPolicyIngressRule {
        from: Some(vec![net::NetworkPolicyPeer { namespace_selector: Some(ns_selector(ns)), ..Default::default() }]),
        ports: tcp([port]),
    }
}

/// The intended connections ([`super::connections`]) whose rules this
/// module writes from the list: the monitoring, telemetry and data source
/// ones (the edge's are [`edge_ingress`]) (scrapes admit the scraper only: the platform's Prometheus, else the
/// monitoring namespace). `uses` edges and backups have their own rules; a
/// connection a `uses` edge already opens is left out.
fn wired(r: &Resolved) -> Vec<Connection> {
    let all = super::connections::intended(r);
    let used = |c: &Connection| {
        all.iter().any(|u| u.class == Class::Uses && u.from == c.from && u.to == c.to && u.port == c.port)
    };
    // A service reading its own configuration has its API rule already.
    let reads = |e: &End| r.services.iter().any(|s| s.read_own_config && is(e, &s.namespace, &s.name));
    all.iter()
        .filter(|c| !matches!(c.class, Class::Uses | Class::Backup | Class::BackupBucket | Class::Edge) && !used(c))
        .filter(|c| c.class != Class::KubernetesApi || !reads(&c.from))
        .cloned()
        .collect()
}

/// A NetworkPolicy peer for one end of a connection.
fn end_peer(r: &Resolved, end: &End) -> net::NetworkPolicyPeer {
    match end {
        End::Workload { namespace, name } => peer(&r.platform, name, namespace),
        End::Namespace { namespace } => {
            net::NetworkPolicyPeer { namespace_selector: Some(ns_selector(namespace)), ..Default::default() }
        }
        End::Edge { namespace, .. } => {
            net::NetworkPolicyPeer { namespace_selector: Some(ns_selector(namespace)), ..Default::default() }
        }
        End::External { .. } | End::KubernetesApi => public(),
        End::Internet => anywhere(),
    }
}

/// Any address but the private ranges.
fn public() -> net::NetworkPolicyPeer {
    net::NetworkPolicyPeer {
        ip_block: Some(net::IPBlock {
            cidr: "0.0.0.0/0".into(),
            except: Some(PRIVATE.iter().map(|c| c.to_string()).collect()),
        }),
        ..Default::default()
    }
}

fn is(end: &End, ns: &str, name: &str) -> bool {
    matches!(end, End::Workload { namespace, name: n } if namespace == ns && n == name)
}

/// Ports per peer of `ends`, in a stable order (one rule per peer).
fn by_peer<'a>(ends: impl Iterator<Item = (&'a End, u16)>) -> BTreeMap<&'a End, Vec<u16>> {
    let mut m: BTreeMap<&End, Vec<u16>> = BTreeMap::new();
    for (e, p) in ends {
        m.entry(e).or_default().push(p);
    }
    m
}

/// Ingress of workload `ns/name` from the wired connections to it.
fn wired_ingress(r: &Resolved, wired: &[Connection], ns: &str, name: &str) -> Vec<net::NetworkPolicyIngressRule> {
    let to_it = wired.iter().filter(|c| is(&c.to, ns, name)).map(|c| (&c.from, c.port));
    by_peer(to_it)
        .into_iter()
        .map(|(e, ports)| net::NetworkPolicyIngressRule { from: Some(vec![end_peer(r, e)]), ports: tcp(ports) })
        .collect()
}

/// Egress of workload `ns/name` to the wired connections from it.
fn wired_egress(r: &Resolved, wired: &[Connection], ns: &str, name: &str) -> Vec<net::NetworkPolicyEgressRule> {
    let from_it = wired.iter().filter(|c| is(&c.from, ns, name)).map(|c| (&c.to, c.port));
    by_peer(from_it)
        .into_iter()
        .map(|(e, ports)| net::NetworkPolicyEgressRule {
            // The API server's address is the cluster's: only its ports can be opened.
            to: (*e != End::KubernetesApi).then(|| vec![end_peer(r, e)]),
            ports: tcp(ports),
        })
        .collect()
}

/// A service's policy: in from its clients, the ingress controller on its
/// exposed port and Prometheus on its metrics port; out to what it uses
/// (and the API server when it reads its own configuration). None when it
/// has no connection at all.
fn service_policy(r: &Resolved, s: &Svc, clients: &Clients, wired: &[Connection]) -> Option<net::NetworkPolicy> {
    let ports: Vec<u16> = s.ports.iter().map(|x| x.port).collect();
    let mut ingress: Vec<net::NetworkPolicyIngressRule> = clients.ingress(&s.name, &ports).into_iter().collect();
    ingress.extend(edge_ingress(r, s));
    ingress.extend(wired_ingress(r, wired, &s.namespace, &s.name));
    let mut egress = service_egress(r, s);
    egress.extend(wired_egress(r, wired, &s.namespace, &s.name));
    if ingress.is_empty() && egress.is_empty() {
        return None;
    }
    let p = &r.platform;
    Some(policy(&s.name, &s.namespace, &labels_of(p, &s.name), selector(p, &s.name), ingress, egress))
}

/// In from each edge on its exposed port: the ingress controller's (or
/// Istio gateway's) namespace, the Gateway API gateway's namespace, any
/// address for a LoadBalancer or NodePort port (the client's own, kept by
/// `externalTrafficPolicy: Local`).
fn edge_ingress(r: &Resolved, s: &Svc) -> Vec<net::NetworkPolicyIngressRule> {
    let mut rules = Vec::new();
    for e in &s.exposures {
        let Some(port) = s.exposed_port(e) else { continue };
        match e.kind {
            ExposeKind::Ingress => rules.push(from_namespace(&r.ingress_namespace, port.port)),
            ExposeKind::Gateway => {
                if let Some((ns, _)) = &r.gateway {
                    rules.push(from_namespace(ns, port.port));
                }
            }
            ExposeKind::LoadBalancer | ExposeKind::NodePort => {
                rules.push(net::NetworkPolicyIngressRule { from: Some(vec![anywhere()]), ports: tcp([port.port]) })
            }
            ExposeKind::Internal => {}
        }
    }
    rules
}

/// Every address (a public port's clients).
fn anywhere() -> net::NetworkPolicyPeer {
    net::NetworkPolicyPeer {
        ip_block: Some(net::IPBlock { cidr: "0.0.0.0/0".into(), except: None }),
        ..Default::default()
    }
}

/// Out to each `uses` target: its pods, or an external host's port anywhere
/// but the private ranges.
fn service_egress(r: &Resolved, s: &Svc) -> Vec<net::NetworkPolicyEgressRule> {
    let mut egress = uses_egress(r, &s.uses);
    if s.read_own_config {
        // The API server's address is the cluster's, not a pod's: a policy
        // can only open its ports (443 through the `kubernetes` Service, 6443 direct).
        egress.push(net::NetworkPolicyEgressRule { to: None, ports: tcp([443, 6443]) });
    }
    egress
}

/// Out to each `uses` target of a service or job.
fn uses_egress(r: &Resolved, uses: &[String]) -> Vec<net::NetworkPolicyEgressRule> {
    let mut egress = Vec::new();
    for t in uses {
        if let Some((ns, ports)) = target_ports(r, t) {
            egress.push(net::NetworkPolicyEgressRule { to: Some(vec![peer(&r.platform, t, &ns)]), ports: tcp(ports) });
        } else if let Some(x) = r.external.iter().find(|x| &x.name == t) {
            egress.push(net::NetworkPolicyEgressRule { to: Some(vec![public()]), ports: tcp([x.port]) });
        }
    }
    egress
}

/// A datastore's policy: in from its clients, its backup and restore pods
/// and Prometheus (with `metrics: true`); out as its backups need. None when
/// nothing connects.
fn datastore_policy(r: &Resolved, d: &Store, clients: &Clients, wired: &[Connection]) -> Option<net::NetworkPolicy> {
    let port = d.engine.client_port();
    // Backup and restore pods connect too (and a Redis restore is a sync
    // from the restore pod).
    let (backup_in, backup_out) = super::backup::datastore_rules(r, d);
    let mut ingress: Vec<_> = clients.ingress(&d.name, &[port]).into_iter().chain(backup_in).collect();
    // Prometheus scrapes the exporter sidecar (or the engine's own endpoint).
    ingress.extend(wired_ingress(r, wired, &d.namespace, &d.name));
    if ingress.is_empty() && backup_out.is_empty() {
        return None;
    }
    let p = &r.platform;
    Some(policy(&d.name, &d.namespace, &labels_of(p, &d.name), selector(p, &d.name), ingress, backup_out))
}

fn labels_of(platform: &str, name: &str) -> BTreeMap<String, String> {
    labels(platform, name, "network-policy")
}
