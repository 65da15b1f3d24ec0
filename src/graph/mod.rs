//! `kubeproof graph`: the platform as a picture. Nodes are the ingress, every
//! workload (datastores styled apart) and the external hosts; namespaces are
//! boxes; edges are the connections the configuration implies (Ingress
//! backends, a description's `uses`, Service hosts named in environment
//! values, egress rules to external addresses), each evaluated with the
//! NetworkPolicy model of [`crate::model::netpol`]: allowed, blocked (and by which
//! policies), or unknown (it depends on what the manifests do not show).
//!
//! The model is built here; [`dot`] and [`svg`] draw it. Everything is
//! sorted: the same input gives byte-identical output.

pub mod dot;
pub mod svg;

use crate::model::At;
use crate::model::Manifests;
use crate::model::selector::Selector;
use std::collections::{BTreeMap, BTreeSet};

use crate::model::Value;

use crate::model::Loaded;
use crate::model::env::vars;
use crate::model::hosts::service_of;
use crate::model::hosts::{HostRef, hosts_in, port_siblings};
use crate::model::index::PodTemplate;
use crate::model::netpol::{Direction, Endpoint, Policies, Target, Tri, World, ports_allow};
use crate::model::pods::Pod;

/// The key of edge traffic from any address (LoadBalancer and NodePort
/// Services), where other edges have the namespace of their proxy.
const PUBLIC: &str = "";
use crate::model::ports::{PortRef, pod_ports, service_ports};

/// Where a node is drawn, left to right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Ingress,
    App,
    Job,
    Datastore,
    External,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Stable and unique: `ingress`, `NAMESPACE/KIND/NAME`, `external:HOST`.
    pub id: String,
    pub role: Role,
    /// The namespace box holding it (none for the ingress and external hosts).
    pub namespace: Option<String>,
    /// First line of the label.
    pub name: String,
    /// Second line: the kind, the engine, the host.
    pub detail: String,
}

/// What the policies decide about an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    Blocked,
    /// Depends on what the manifests do not show (namespace labels, the
    /// address an external name resolves to).
    Unknown,
    Allowed,
}

impl State {
    fn of(t: Tri) -> State {
        match t {
            Tri::Yes => State::Allowed,
            Tri::Maybe => State::Unknown,
            Tri::No => State::Blocked,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            State::Allowed => "allowed",
            State::Blocked => "blocked",
            State::Unknown => "unknown",
        }
    }
}

/// How many refusing policies an edge's label names.
pub const SHOWN: usize = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: String,
    pub to: String,
    pub state: State,
    /// The ports of that state (`5432`, `53/UDP`), sorted.
    pub ports: Vec<String>,
    /// Public host names routed (ingress edges).
    pub hosts: Vec<String>,
    /// `namespace/name` of the first NetworkPolicies (sorted) isolating the
    /// side that refuses: the label shows [`SHOWN`] of them and a count, so
    /// no more are kept (an edge refused by thousands of policies).
    pub blocked_by: Vec<String>,
    /// How many policies isolate the side that refuses.
    pub blocked_total: usize,
    /// Why, in one sentence (the SVG tooltip).
    pub why: String,
}

impl Edge {
    /// The short label drawn on the edge.
    pub fn label(&self) -> String {
        let mut s = self.hosts.join(", ");
        if !self.ports.is_empty() {
            if !s.is_empty() {
                s.push_str(" → ");
            }
            s.push_str(&format!(":{}", self.ports.join(",")));
        }
        match self.state {
            State::Allowed => s,
            State::Unknown => format!("{s} (unknown)"),
            State::Blocked => {
                let shown: Vec<&str> = self.blocked_by.iter().take(SHOWN).map(String::as_str).collect();
                let more = self.blocked_total.saturating_sub(shown.len());
                let more = if more > 0 { format!(" +{more}") } else { String::new() };
                format!("{s} blocked by {}{more}", shown.join(", "))
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Graph {
    pub title: String,
    /// Sorted by role, namespace, name.
    pub nodes: Vec<Node>,
    /// Sorted by source and destination.
    pub edges: Vec<Edge>,
}

impl Graph {
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// The namespaces holding nodes, sorted.
    pub fn namespaces(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.nodes.iter().filter_map(|n| n.namespace.as_deref()).collect();
        set.into_iter().collect()
    }
}

/// What a platform description adds to the manifests it generates.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// Where the ingress controller runs (the description's `ingressNamespace`).
    pub ingress_namespace: Option<String>,
    /// `uses` between workloads: (client namespace, client, server namespace, server).
    pub uses: Vec<(String, String, String, String)>,
    /// `uses` of an external host: (client namespace, client, name, host, port).
    pub external: Vec<(String, String, String, String, u16)>,
}

impl Declared {
    pub fn of(r: &crate::description::resolve::Resolved) -> Declared {
        let mut d = Declared { ingress_namespace: Some(r.ingress_namespace.clone()), ..Declared::default() };
        for s in &r.services {
            for u in &s.uses {
                if let Some(t) = r.service(u) {
                    d.uses.push((s.namespace.clone(), s.name.clone(), t.namespace.clone(), t.name.clone()));
                } else if let Some(t) = r.datastore(u) {
                    d.uses.push((s.namespace.clone(), s.name.clone(), t.namespace.clone(), t.name.clone()));
                } else if let Some(e) = r.external(u) {
                    d.external.push((s.namespace.clone(), s.name.clone(), e.name.clone(), e.host.clone(), e.port));
                }
            }
        }
        d
    }
}

/// The datastore engine an image runs, by its repository name.
fn engine(image: &str) -> Option<&'static str> {
    crate::engines::by_image(image).map(|k| k.name)
}

/// Builds the graph of loaded manifests (plus what a description declares).
pub fn graph(loaded: &Loaded, declared: &Declared, title: &str) -> Graph {
    build(&Manifests::new(loaded), declared, title)
}

/// One connection being gathered: the ports asked, before evaluation.
#[derive(Default)]
struct Pending {
    /// (number, protocol, port name on the server).
    ports: BTreeSet<(i64, String, Option<String>)>,
    hosts: BTreeSet<String>,
}

struct Builder<'c, 'a> {
    cx: &'c Manifests<'a>,
    nodes: BTreeMap<String, Node>,
    /// (client template index, server template index) → ports.
    internal: BTreeMap<(usize, usize), Pending>,
    /// (ingress namespace, server template index) → ports and hosts.
    ingress: BTreeMap<(String, usize), Pending>,
    /// (client template index, external node id) → ports.
    external: BTreeMap<(usize, String), BTreeSet<i64>>,
    /// Object index → template index.
    template_of_object: std::collections::HashMap<usize, usize>,
}

fn node_id(cx: &Manifests, object: usize) -> String {
    let o = &cx.objects[object];
    format!("{}/{}/{}", o.ns(), o.kind, o.name)
}

fn external_id(host: &str) -> String {
    format!("external:{host}")
}

fn build(cx: &Manifests, declared: &Declared, title: &str) -> Graph {
    let mut b = Builder {
        cx,
        nodes: BTreeMap::new(),
        internal: BTreeMap::new(),
        ingress: BTreeMap::new(),
        external: BTreeMap::new(),
        template_of_object: cx.index.templates.iter().enumerate().map(|(t, p)| (p.object, t)).collect(),
    };
    b.workloads();
    b.ingresses(declared.ingress_namespace.as_deref());
    b.env_dependencies();
    b.declared(declared);
    b.service_entries();
    let policies = Policies::build_in(cx, World::Open);
    let mut edges = b.evaluate(&policies);
    edges.extend(b.ip_blocks(&policies));
    edges.sort_by(|a, b| (&a.from, &a.to).cmp(&(&b.from, &b.to)));
    edges.dedup_by(|a, b| a.from == b.from && a.to == b.to);
    let mut nodes: Vec<Node> = b.nodes.into_values().collect();
    nodes.sort_by(|a, b| (a.role, &a.namespace, &a.name, &a.id).cmp(&(b.role, &b.namespace, &b.name, &b.id)));
    Graph { title: title.to_string(), nodes, edges }
}

impl Builder<'_, '_> {
    fn template(&self, t: usize) -> &PodTemplate {
        &self.cx.index.templates[t]
    }

    fn template_of(&self, ns: &str, name: &str) -> Option<usize> {
        let mut found: Vec<usize> = (0..self.cx.index.templates.len())
            .filter(|&t| {
                let o = &self.cx.objects[self.template(t).object];
                o.ns() == ns && o.name == name
            })
            .collect();
        // A Deployment or StatefulSet before a Job of the same name.
        found.sort_by_key(|&t| matches!(self.cx.objects[self.template(t).object].kind.as_str(), "Job" | "CronJob"));
        found.first().copied()
    }

    fn workloads(&mut self) {
        let cx = self.cx;
        for t in &cx.index.templates {
            let o = &cx.objects[t.object];
            let image = Pod::of(cx.objects, t.object)
                .and_then(|p| p.app_containers().find_map(|c| c.get("/image").and_then(Value::as_str)))
                .unwrap_or("");
            let engine = engine(image);
            let role = match o.kind.as_str() {
                "Job" | "CronJob" => Role::Job,
                "StatefulSet" => Role::Datastore,
                _ if engine.is_some() => Role::Datastore,
                _ => Role::App,
            };
            let detail = match engine {
                Some(e) if role == Role::Datastore => format!("{} · {e}", o.kind),
                _ => o.kind.to_string(),
            };
            let id = node_id(cx, t.object);
            self.nodes.entry(id.clone()).or_insert(Node {
                id,
                role,
                namespace: Some(o.ns().to_string()),
                name: o.name.to_string(),
                detail,
            });
        }
    }

    /// The pod templates a Service selects, by template index.
    fn selected(&self, svc: usize) -> Vec<usize> {
        let o = &self.cx.objects[svc];
        let Some(sel) = o.value.at("/spec/selector").and_then(Value::as_object).filter(|m| !m.is_empty()) else {
            return Vec::new();
        };
        let mut found: Vec<usize> = self
            .cx
            .index
            .selected(o.ns(), &Selector::of_labels(sel))
            .iter()
            .filter_map(|t| self.template_of_object.get(&t.object).copied())
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    }

    /// The pod ports a Service port reaches on template `t`: `port` picks
    /// the Service port by number (or by name), `None` every port.
    fn pod_targets(&self, svc: usize, t: usize, port: Option<PortRef>) -> Vec<(i64, String, Option<String>)> {
        let Some(pod) = Pod::of(self.cx.objects, self.template(t).object) else { return Vec::new() };
        let declared = pod_ports(&pod);
        let mut out = Vec::new();
        for sp in service_ports(&self.cx.objects[svc].value) {
            let wanted = match port {
                None => true,
                Some(PortRef::Number(n)) => sp.port == n,
                Some(PortRef::Name(n)) => sp.name == Some(n),
            };
            if !wanted {
                continue;
            }
            match sp.target {
                PortRef::Number(n) => {
                    let name =
                        declared.iter().find(|d| d.number == n && d.protocol == sp.protocol).and_then(|d| d.name);
                    out.push((n, sp.protocol.to_string(), name.map(str::to_string)));
                }
                PortRef::Name(name) => {
                    if let Some(d) = declared.iter().find(|d| d.name == Some(name) && d.protocol == sp.protocol) {
                        out.push((d.number, sp.protocol.to_string(), Some(name.to_string())));
                    }
                }
            }
        }
        out
    }

    fn ensure_ingress(&mut self, detail: &str) {
        let node = self.nodes.entry("ingress".into()).or_insert(Node {
            id: "ingress".into(),
            role: Role::Ingress,
            namespace: None,
            name: "internet / ingress".into(),
            detail: String::new(),
        });
        if !node.detail.split(" + ").any(|d| d == detail) {
            let mut parts: Vec<&str> = node.detail.split(" + ").filter(|d| !d.is_empty()).collect();
            parts.push(detail);
            parts.sort_unstable();
            node.detail = parts.join(" + ");
        }
    }

    fn ingresses(&mut self, controller_ns: Option<&str>) {
        let cx = self.cx;
        for &i in cx.index.of_kind("Ingress") {
            let o = &cx.objects[i];
            let class = o.value.at("/spec/ingressClassName").and_then(Value::as_str).unwrap_or("");
            self.ensure_ingress(&if class.is_empty() { "Ingress".to_string() } else { format!("Ingress ({class})") });
            let ns = controller_ns.unwrap_or(match class {
                "istio" => "istio-system",
                "traefik" => "traefik",
                _ => "ingress-nginx",
            });
            let mut backends: Vec<(&Value, Option<&str>)> = Vec::new();
            if let Some(b) = o.value.at("/spec/defaultBackend/service") {
                backends.push((b, None));
            }
            for r in o.value.at("/spec/rules").and_then(Value::as_array).into_iter().flatten() {
                let host = r.get("host").and_then(Value::as_str);
                for p in r.at("/http/paths").and_then(Value::as_array).into_iter().flatten() {
                    if let Some(b) = p.at("/backend/service") {
                        backends.push((b, host));
                    }
                }
            }
            for (b, host) in backends {
                let Some(name) = b.get("name").and_then(Value::as_str) else { continue };
                let Some(svc) = cx.index.get("Service", o.ns(), name) else { continue };
                let port = match (b.at("/port/number").and_then(Value::as_i64), b.at("/port/name")) {
                    (Some(n), _) => Some(PortRef::Number(n)),
                    (None, Some(Value::String(s))) => Some(PortRef::Name(s)),
                    _ => None,
                };
                self.route(ns, svc, port, host);
            }
        }
        self.gateway_routes();
        self.public_services();
        // Istio: VirtualServices bound to a Gateway.
        for &i in cx.index.of_kind("VirtualService") {
            let o = &cx.objects[i];
            let gateways: Vec<&str> = o
                .value
                .at("/spec/gateways")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|g| *g != "mesh")
                .collect();
            if gateways.is_empty() {
                continue;
            }
            self.ensure_ingress("Istio Gateway");
            let hosts: Vec<&str> = o
                .value
                .at("/spec/hosts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            for proto in ["http", "tcp", "tls"] {
                for r in o.value.at(&format!("/spec/{proto}")).and_then(Value::as_array).into_iter().flatten() {
                    for d in r.get("route").and_then(Value::as_array).into_iter().flatten() {
                        let Some(host) = d.at("/destination/host").and_then(Value::as_str) else { continue };
                        let port = d.at("/destination/port/number").and_then(Value::as_i64);
                        let h = HostRef { host: host.to_ascii_lowercase(), port, sure: true };
                        let Some((svc, _)) = service_of(cx, &h, o.ns()) else { continue };
                        for public in hosts.iter().copied().map(Some).chain(hosts.is_empty().then_some(None)) {
                            self.route("istio-system", svc, port.map(PortRef::Number), public);
                        }
                    }
                }
            }
        }
    }

    /// Gateway API HTTPRoutes: from the namespace of the Gateway they attach to.
    fn gateway_routes(&mut self) {
        let cx = self.cx;
        for &i in cx.index.of_kind("HTTPRoute") {
            let o = &cx.objects[i];
            let parents = o.value.at("/spec/parentRefs").and_then(Value::as_array).into_iter().flatten();
            let gw_namespaces: BTreeSet<&str> =
                parents.map(|p| p.get("namespace").and_then(Value::as_str).unwrap_or(o.ns())).collect();
            if gw_namespaces.is_empty() {
                continue;
            }
            self.ensure_ingress("Gateway API");
            let hosts: Vec<&str> = o
                .value
                .at("/spec/hostnames")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let rules = o.value.at("/spec/rules").and_then(Value::as_array).into_iter().flatten();
            for b in rules.flat_map(|r| r.get("backendRefs").and_then(Value::as_array).into_iter().flatten()) {
                let Some(name) = b.get("name").and_then(Value::as_str) else { continue };
                let ns = b.get("namespace").and_then(Value::as_str).unwrap_or(o.ns());
                let Some(svc) = cx.index.get("Service", ns, name) else { continue };
                let port = b.get("port").and_then(Value::as_i64).map(PortRef::Number);
                for gw_ns in &gw_namespaces {
                    for host in hosts.iter().copied().map(Some).chain(hosts.is_empty().then_some(None)) {
                        self.route(gw_ns, svc, port, host);
                    }
                }
            }
        }
    }

    /// LoadBalancer and NodePort Services: from any address (the namespace
    /// key [`PUBLIC`]).
    fn public_services(&mut self) {
        let cx = self.cx;
        for &i in cx.index.of_kind("Service") {
            let o = &cx.objects[i];
            let type_ = o.value.at("/spec/type").and_then(Value::as_str).unwrap_or("ClusterIP");
            if !matches!(type_, "LoadBalancer" | "NodePort") {
                continue;
            }
            self.ensure_ingress(&format!("{type_} Service"));
            let ports = o.value.at("/spec/ports").and_then(Value::as_array).into_iter().flatten();
            for p in ports.filter_map(|p| p.get("port").and_then(Value::as_i64)).collect::<Vec<_>>() {
                self.route(PUBLIC, i, Some(PortRef::Number(p)), None);
            }
        }
    }

    fn route(&mut self, ns: &str, svc: usize, port: Option<PortRef>, host: Option<&str>) {
        for t in self.selected(svc) {
            let targets = self.pod_targets(svc, t, port);
            let e = self.ingress.entry((ns.to_string(), t)).or_default();
            e.ports.extend(targets);
            if let Some(h) = host {
                e.hosts.insert(h.to_string());
            }
        }
    }

    /// Dependencies implied by environment values naming a Service host or
    /// an external host.
    fn env_dependencies(&mut self) {
        let cx = self.cx;
        let public: BTreeSet<&str> = cx
            .index
            .of_kind("Ingress")
            .iter()
            .flat_map(|&i| cx.objects[i].value.at("/spec/rules").and_then(Value::as_array).into_iter().flatten())
            .filter_map(|r| r.get("host").and_then(Value::as_str))
            .collect();
        for client in 0..cx.index.templates.len() {
            let object = self.template(client).object;
            let Some(pod) = Pod::of(cx.objects, object) else { continue };
            let ns = cx.objects[object].ns();
            for c in pod.containers() {
                let vars = vars(cx, &c, ns);
                let by_name: BTreeMap<&str, &str> = vars.iter().map(|v| (v.name.as_str(), v.value)).collect();
                for v in &vars {
                    for h in hosts_in(v.value, &v.name) {
                        let port = h.port.or_else(|| {
                            port_siblings(&v.name).iter().find_map(|s| by_name.get(s.as_str())?.trim().parse().ok())
                        });
                        if let Some((svc, pod_direct)) = service_of(cx, &h, ns) {
                            self.call_service(client, svc, port, pod_direct);
                            continue;
                        }
                        let internal = [".svc", ".cluster.local", ".local", ".internal"];
                        if !h.sure
                            || !h.host.contains('.')
                            || internal.iter().any(|s| h.host.ends_with(s))
                            || public.contains(h.host.as_str())
                        {
                            continue;
                        }
                        let port = port.or_else(|| {
                            if v.value.contains(&format!("https://{}", h.host)) {
                                Some(443)
                            } else if v.value.contains(&format!("http://{}", h.host)) {
                                Some(80)
                            } else {
                                None
                            }
                        });
                        self.call_external(client, &h.host, None, port);
                    }
                }
            }
        }
    }

    fn call_service(&mut self, client: usize, svc: usize, port: Option<i64>, pod_direct: bool) {
        let o = &self.cx.objects[svc];
        if o.value.at("/spec/type").and_then(Value::as_str) == Some("ExternalName") {
            if let Some(host) = o.value.at("/spec/externalName").and_then(Value::as_str) {
                self.call_external(client, &host.to_ascii_lowercase(), None, port);
            }
            return;
        }
        let headless = o.value.at("/spec/clusterIP").and_then(Value::as_str) == Some("None");
        for t in self.selected(svc) {
            if self.template(t).object == self.template(client).object {
                continue;
            }
            let targets = match port {
                // Headless or one pod's name: the port is the pod's.
                Some(p) if headless || pod_direct => {
                    let found = self.pod_targets(svc, t, None).into_iter().find(|x| x.0 == p);
                    vec![found.unwrap_or((p, "TCP".into(), None))]
                }
                Some(p) => self.pod_targets(svc, t, Some(PortRef::Number(p))),
                None => self.pod_targets(svc, t, None),
            };
            self.internal.entry((client, t)).or_default().ports.extend(targets);
        }
    }

    fn call_external(&mut self, client: usize, host: &str, name: Option<&str>, port: Option<i64>) {
        let id = external_id(host);
        let node = self.nodes.entry(id.clone()).or_insert(Node {
            id: id.clone(),
            role: Role::External,
            namespace: None,
            name: host.to_string(),
            detail: "external".into(),
        });
        if let Some(n) = name {
            node.name = n.to_string();
            node.detail = host.to_string();
        }
        let e = self.external.entry((client, id)).or_default();
        e.extend(port);
    }

    fn declared(&mut self, d: &Declared) {
        let cx = self.cx;
        for (cns, cname, sns, sname) in &d.uses {
            let Some(client) = self.template_of(cns, cname) else { continue };
            let Some(svc) = cx.index.get("Service", sns, sname) else { continue };
            let known = self.selected(svc).iter().any(|t| self.internal.contains_key(&(client, *t)));
            if !known {
                // The first Service port: the one the generated configuration names.
                let first = service_ports(&cx.objects[svc].value).first().map(|p| p.port);
                self.call_service(client, svc, first, false);
            }
        }
        for (cns, cname, name, host, port) in &d.external {
            let Some(client) = self.template_of(cns, cname) else { continue };
            self.call_external(client, host, Some(name), Some(i64::from(*port)));
        }
    }

    /// External hosts declared by Istio ServiceEntries (nodes; the edges come
    /// from the configuration naming them).
    fn service_entries(&mut self) {
        let cx = self.cx;
        for &i in cx.index.of_kind("ServiceEntry") {
            let o = &cx.objects[i];
            if o.value.at("/spec/location").and_then(Value::as_str) == Some("MESH_INTERNAL") {
                continue;
            }
            for h in o.value.at("/spec/hosts").and_then(Value::as_array).into_iter().flatten() {
                let Some(h) = h.as_str() else { continue };
                let host = h.to_ascii_lowercase();
                if host.starts_with('*') {
                    continue;
                }
                let id = external_id(&host);
                self.nodes.entry(id.clone()).or_insert(Node {
                    id,
                    role: Role::External,
                    namespace: None,
                    name: host.clone(),
                    detail: format!("ServiceEntry {}", o.name),
                });
            }
        }
    }

    fn evaluate(&self, policies: &Policies) -> Vec<Edge> {
        let cx = self.cx;
        let mut edges = Vec::new();
        for ((client, server), p) in &self.internal {
            let (c, s) = (self.template(*client), self.template(*server));
            let me = Endpoint { ns: cx.objects[c.object].ns(), labels: &c.labels };
            let them = Endpoint { ns: cx.objects[s.object].ns(), labels: &s.labels };
            let results: Vec<(String, Tri, Vec<String>, String)> = p
                .ports
                .iter()
                .map(|(number, protocol, name)| {
                    let t = Target { number: *number, protocol, name: name.as_deref() };
                    let e = policies.answer(cx, c.object, Direction::Egress, them, t);
                    let i = policies.answer(cx, s.object, Direction::Ingress, me, t);
                    let mut by = Vec::new();
                    let mut why = Vec::new();
                    if e == Tri::No {
                        by.extend(policies.egress(c.object).map(|p| policy_name(cx, p.object)));
                        why.push(format!("no egress rule of {} allows it", cx.objects[c.object].name));
                    }
                    if i == Tri::No {
                        by.extend(policies.ingress(s.object).map(|p| policy_name(cx, p.object)));
                        why.push(format!("no ingress rule of {} admits it", cx.objects[s.object].name));
                    }
                    (port_label(*number, protocol), e.and(i), by, why.join("; "))
                })
                .collect();
            edges.push(combine(node_id(cx, c.object), node_id(cx, s.object), results, Vec::new()));
        }
        // One edge per workload from the edge, whichever proxies (or any
        // address) reach it: their ports together.
        let mut from_edge: BTreeMap<usize, (Vec<PortResult>, BTreeSet<String>)> = BTreeMap::new();
        for ((ns, server), p) in &self.ingress {
            let s = self.template(*server);
            let labels = controller_labels(ns);
            let me = Endpoint { ns, labels: &labels };
            let public = ns == PUBLIC;
            let results: Vec<_> = p
                .ports
                .iter()
                .map(|(number, protocol, name)| {
                    let t = Target { number: *number, protocol, name: name.as_deref() };
                    let i = if public {
                        policies.decide_from_anywhere(s.object, t).answer
                    } else {
                        policies.answer(cx, s.object, Direction::Ingress, me, t)
                    };
                    let by = if i == Tri::No {
                        policies.ingress(s.object).map(|p| policy_name(cx, p.object)).collect()
                    } else {
                        Vec::new()
                    };
                    let from = if public {
                        "any address".to_string()
                    } else {
                        format!("the ingress controller (namespace {ns})")
                    };
                    let why = format!("no ingress rule of {} admits {from}", cx.objects[s.object].name);
                    (port_label(*number, protocol), i, by, why)
                })
                .collect();
            let entry = from_edge.entry(s.object).or_default();
            entry.0.extend(results);
            entry.1.extend(p.hosts.iter().cloned());
        }
        for (object, (results, hosts)) in from_edge {
            edges.push(combine("ingress".into(), node_id(cx, object), results, hosts.into_iter().collect()));
        }
        for ((client, id), ports) in &self.external {
            let c = self.template(*client).object;
            let mut results = Vec::new();
            let host = id.strip_prefix("external:").unwrap_or(id);
            for &n in ports {
                let (answer, by) = external_egress(cx, policies, c, n, host);
                let why = format!("no egress rule of {} allows {host}:{n}", cx.objects[c].name);
                results.push((port_label(n, "TCP"), answer, by, why));
            }
            if ports.is_empty() {
                let isolated = policies.isolating(c, Direction::Egress).next().is_some();
                results.push((String::new(), if isolated { Tri::Maybe } else { Tri::Yes }, Vec::new(), String::new()));
            }
            edges.push(combine(node_id(cx, c), id.clone(), results, Vec::new()));
        }
        edges
    }

    /// Egress rules to external addresses (ipBlocks) with ports, for the
    /// workloads that no other edge already shows going out on that port.
    fn ip_blocks(&mut self, policies: &Policies) -> Vec<Edge> {
        let cx = self.cx;
        let mut covered: BTreeSet<(usize, i64)> = BTreeSet::new();
        for ((client, _), ports) in &self.external {
            for &p in ports {
                covered.insert((self.template(*client).object, p));
            }
        }
        let mut found: BTreeMap<(usize, String), BTreeSet<String>> = BTreeMap::new();
        for p in policies.all.iter().filter(|p| p.egress) {
            for r in p.egress_rules {
                let cidrs: Vec<&str> = r
                    .get("to")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|peer| peer.get("ipBlock"))
                    .filter(|b| holds_public(b))
                    .filter_map(|b| b.get("cidr").and_then(Value::as_str))
                    .collect();
                if cidrs.is_empty() {
                    continue;
                }
                let ports: Vec<(i64, String)> = r
                    .get("ports")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|x| {
                        let n = x.get("port")?.as_i64()?;
                        Some((n, x.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string()))
                    })
                    .collect();
                for t in cx.index.selected(p.ns, &p.selector) {
                    if policies.isolating(t.object, Direction::Egress).next().is_none() {
                        continue;
                    }
                    let shown: Vec<&(i64, String)> =
                        ports.iter().filter(|(n, _)| !covered.contains(&(t.object, *n))).collect();
                    if shown.is_empty() && !ports.is_empty() {
                        continue;
                    }
                    for cidr in &cidrs {
                        let e = found.entry((t.object, cidr.to_string())).or_default();
                        e.extend(shown.iter().map(|(n, proto)| port_label(*n, proto)));
                        if ports.is_empty() {
                            e.insert("any".into());
                        }
                    }
                }
            }
        }
        let mut edges = Vec::new();
        for ((object, cidr), ports) in found {
            let id = external_id(&cidr);
            self.nodes.entry(id.clone()).or_insert(Node {
                id: id.clone(),
                role: Role::External,
                namespace: None,
                name: cidr.clone(),
                detail: "ipBlock (egress rule)".into(),
            });
            edges.push(Edge {
                from: node_id(cx, object),
                to: id,
                state: State::Allowed,
                ports: ports.into_iter().collect(),
                hosts: Vec::new(),
                blocked_by: Vec::new(),
                blocked_total: 0,
                why: format!("an egress rule of {} allows {cidr}", cx.objects[object].ns()),
            });
        }
        edges
    }
}

/// The pod labels of the usual ingress controllers' pods (the manifests do
/// not hold them): Istio's ingress gateway in `istio-system`, the NGINX
/// ingress controller elsewhere.
fn controller_labels(ns: &str) -> BTreeMap<String, String> {
    let pairs: &[(&str, &str)] = if ns == "istio-system" {
        &[("app", "istio-ingressgateway"), ("istio", "ingressgateway")]
    } else {
        &[("app.kubernetes.io/component", "controller"), ("app.kubernetes.io/name", "ingress-nginx")]
    };
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn policy_name(cx: &Manifests, object: usize) -> String {
    let o = &cx.objects[object];
    format!("{}/{}", o.ns(), o.name)
}

fn port_label(number: i64, protocol: &str) -> String {
    if protocol == "TCP" { number.to_string() } else { format!("{number}/{protocol}") }
}

/// One edge from per-port results: allowed when some port is, else unknown
/// when some port may be, else blocked.
/// One port of an edge: its label, the verdict, the blocking policies, why.
type PortResult = (String, Tri, Vec<String>, String);

fn combine(from: String, to: String, results: Vec<PortResult>, hosts: Vec<String>) -> Edge {
    let best = results.iter().map(|r| r.1).max().unwrap_or(Tri::Yes);
    let mut ports: Vec<String> =
        results.iter().filter(|r| r.1 == best && !r.0.is_empty()).map(|r| r.0.clone()).collect();
    ports.sort_by_key(|p| (p.split('/').next().and_then(|n| n.parse::<i64>().ok()).unwrap_or(0), p.clone()));
    ports.dedup();
    let mut blocked_by: Vec<String> = Vec::new();
    let mut blocked_total = 0;
    let mut why = String::new();
    if best == Tri::No {
        for r in &results {
            blocked_by.extend(r.2.iter().cloned());
        }
        blocked_by.sort();
        blocked_by.dedup();
        blocked_total = blocked_by.len();
        blocked_by.truncate(SHOWN);
        // The capacity of every name would stay with the edge.
        blocked_by.shrink_to_fit();
        why = results.iter().map(|r| r.3.as_str()).find(|w| !w.is_empty()).unwrap_or("").to_string();
    } else if best == Tri::Maybe {
        why = "it depends on labels of namespaces (or addresses) the manifests do not show".into();
    }
    Edge { from, to, state: State::of(best), ports, hosts, blocked_by, blocked_total, why }
}

/// Whether the egress policies of `client` let it open `port` on an address
/// outside the cluster: peers absent (everywhere), or an ipBlock holding
/// public addresses (the whole space certainly holds the host; a narrower
/// block may or may not).
/// A host in the cluster's DNS form (`NAME.NS`, `NAME.NS.svc[.cluster.local]`)
/// whose namespace the manifests do not hold is a pod of namespace `NS`: a
/// namespaceSelector naming `NS` reaches it (certainly without a pod
/// selector; perhaps with one, its labels unknown).
fn external_egress(cx: &Manifests, policies: &Policies, client: usize, port: i64, host: &str) -> (Tri, Vec<String>) {
    let labels: Vec<&str> = host.split('.').collect();
    let ns = match labels[..] {
        [_, ns] | [_, ns, "svc"] | [_, ns, "svc", "cluster", "local"] => Some(ns),
        _ => None,
    };
    let in_ns = |peer: &Value| -> Tri {
        let Some(ns) = ns else { return Tri::No };
        let Some(sel) = peer.get("namespaceSelector") else { return Tri::No };
        let names = sel.get("matchLabels").and_then(|m| m.get("kubernetes.io/metadata.name")).and_then(Value::as_str);
        if names != Some(ns) {
            return Tri::No;
        }
        let pods = peer.get("podSelector").and_then(|p| p.get("matchLabels")).and_then(Value::as_object);
        if pods.is_some_and(|m| !m.is_empty()) { Tri::Maybe } else { Tri::Yes }
    };
    let mut isolating = Vec::new();
    let mut answer = Tri::No;
    for p in policies.isolating(client, Direction::Egress) {
        isolating.push(policy_name(cx, p.object));
        for r in p.egress_rules {
            if !ports_allow(r.get("ports"), Target { number: port, protocol: "TCP", name: None }) {
                continue;
            }
            let m = match r.get("to").and_then(Value::as_array) {
                None => Tri::Yes,
                Some([]) => Tri::Yes,
                Some(l) => l
                    .iter()
                    .filter_map(|peer| peer.get("ipBlock"))
                    .filter(|b| holds_public(b))
                    .map(|b| {
                        let whole = b.get("cidr").and_then(Value::as_str).is_some_and(|c| c.ends_with("/0"));
                        if whole { Tri::Yes } else { Tri::Maybe }
                    })
                    .chain(l.iter().map(in_ns))
                    .fold(Tri::No, Tri::or),
            };
            answer = answer.or(m);
        }
    }
    if isolating.is_empty() {
        return (Tri::Yes, Vec::new());
    }
    isolating.sort();
    (answer, if answer == Tri::No { isolating } else { Vec::new() })
}

/// Whether an ipBlock holds addresses outside the private ranges.
fn holds_public(block: &Value) -> bool {
    let Some(cidr) = block.get("cidr").and_then(Value::as_str) else { return false };
    let Some((addr, len)) = cidr.split_once('/') else { return false };
    let Ok(len) = len.parse::<u32>() else { return false };
    if let Ok(ip) = addr.parse::<std::net::Ipv4Addr>() {
        if len > 32 {
            return false;
        }
        let net = u32::from(ip);
        const PRIVATE: [(u32, u32); 6] = [
            (0x0A00_0000, 8),
            (0xAC10_0000, 12),
            (0xC0A8_0000, 16),
            (0x6440_0000, 10),
            (0x7F00_0000, 8),
            (0xA9FE_0000, 16),
        ];
        let inside = |(p, plen): (u32, u32)| {
            let mask = if plen == 0 { 0 } else { u32::MAX << (32 - plen) };
            len >= plen && net & mask == p
        };
        return !PRIVATE.iter().any(|r| inside(*r));
    }
    let a = addr.to_ascii_lowercase();
    addr.contains(':') && !(a.starts_with("fd") || a.starts_with("fc") || a.starts_with("fe80") || a == "::1")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::value as json;

    #[test]
    fn engines() {
        assert_eq!(engine("docker.io/library/postgres:16.4"), Some("postgres"));
        assert_eq!(engine("bitnami/redis-cluster:7"), Some("redis"));
        assert_eq!(engine("ghcr.io/acme/api:1.0"), None);
        assert_eq!(engine("ghcr.io/acme/postgres-exporter-ui"), Some("postgres"));
    }

    #[test]
    fn public_blocks() {
        assert!(holds_public(&json!({"cidr": "0.0.0.0/0"})));
        assert!(holds_public(&json!({"cidr": "203.0.113.0/24"})));
        assert!(!holds_public(&json!({"cidr": "10.1.0.0/16"})));
        assert!(!holds_public(&json!({"cidr": "192.168.0.0/16"})));
        assert!(holds_public(&json!({"cidr": "::/0"})));
        assert!(!holds_public(&json!({"cidr": "fd00::/8"})));
    }
}
