use crate::model::At;
use crate::model::selector::Selector;
use std::collections::{HashMap, HashSet};

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::diag::some_of;
use crate::model::env::{Var, vars};
use crate::model::hosts::service_of;
use crate::model::index::PodTemplate;
use crate::model::pods::Pod;
use crate::model::ports::{PortRef, pod_ports, service_ports};

use crate::model::hosts::{hosts_in, port_siblings};
use crate::model::netpol::{Direction, Endpoint, Policies, Target, Tri};
use crate::model::policy_table::Table;

/// KP405: a workload configured to call a Service that the policies block.
pub struct ServiceUnreachable;

static META: Meta = Meta {
    code: "KP405",
    name: "service-unreachable",
    family: Family::Network,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a workload is configured to call a Service that the network policies do not let it reach",
    what: "Reads the environment of every container — `env` values, and the ConfigMap (and Secret \
           `stringData`) values it loads with `valueFrom` and `envFrom` — for the DNS names of Services of \
           the set: `NAME`, `NAME.NS`, `NAME.NS.svc`, `NAME.NS.svc.cluster.local`, and `POD.NAME…` for \
           headless Services, as a URL host, a `host:port`, or the whole value of a host variable (`DB_HOST`); \
           variables that list callers rather than destinations (`NO_PROXY`, `ALLOWED_HOSTS`, CORS origins) \
           are not read. \
           The port is the one written after the host, or the sibling `…_PORT` variable; without one, any \
           port of the Service will do. Then it evaluates the NetworkPolicies as Kubernetes does: the union \
           of the ingress rules of every policy isolating the Service's pods, and of the egress rules of \
           every policy isolating the caller's pods, with peers matched by pod and namespace labels and ports \
           by number, range or name. Reported only when the policies certainly deny the connection: \
           namespaces whose labels the set does not show, and ipBlocks that may hold pod addresses, count as \
           allowed.",
    why: "Network policies fail closed and silently: the rollout succeeds, the pods are ready, and the \
          first request times out. This is the mistake every team makes when it adds a default deny or a new \
          client, and no other linter connects the configuration of the caller with the policies of the \
          callee.",
    fix: "Add an ingress rule admitting the caller (its pod labels, plus a namespaceSelector when it runs in \
          another namespace) on the Service's target port to a policy selecting the Service's pods — and, \
          when the caller is isolated for egress, the matching egress rule on its side.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.0
          env:
            - { name: API_URL, value: "http://api.shop.svc.cluster.local:80" }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api, tier: backend }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web, tier: backend } } }]
      ports: [{ port: http }]
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web, tier: frontend } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.0
          env:
            - { name: API_URL, value: "http://api.shop.svc.cluster.local:80" }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api, tier: backend }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web, tier: frontend } } }]
      ports: [{ port: http }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
apiVersion: v1
kind: Service
metadata: { name: redis, namespace: shop }
spec:
  selector: { app: redis }
  ports: [{ port: 6379 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: redis, namespace: shop }
spec:
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis } }
    spec:
      containers: [{ name: redis, image: "docker.io/library/redis:7.4" }]
"#,
};

/// Why a connection is refused.
struct Denial {
    server: usize,
    /// A label selecting the server's pods, for the help.
    server_label: Option<(String, String)>,
    /// The port the client dials, for the message.
    dialed: String,
    target: (i64, String),
    ingress: bool,
    egress: bool,
}

/// A label to select a template's pods with, for the help.
fn client_label(t: &PodTemplate) -> Option<(String, String)> {
    ["app.kubernetes.io/name", "app", "name", "k8s-app"]
        .iter()
        .find_map(|k| t.labels.get(k).map(|v| (k.to_string(), v.to_string())))
        .or_else(|| t.labels.iter().next().map(|(k, v)| (k.to_string(), v.to_string())))
}

impl Check for ServiceUnreachable {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let policies = cx.policies();
        if policies.all.is_empty() {
            return;
        }
        // Rules by the templates they admit: asking `policies` read every rule
        // per reference, cubic in services for a dense graph of callers.
        let table = Table::new(cx, policies);
        let mut servers: HashMap<usize, Vec<&PodTemplate>> = HashMap::new();
        for client in &cx.index.templates {
            let Some(pod) = Pod::of(cx.objects, client.object) else { continue };
            let ns = cx.objects[client.object].ns();
            let me = Endpoint { ns, labels: &client.labels };
            let mut done = HashSet::new();
            for c in pod.containers() {
                let vars = vars(cx, &c, ns);
                let by_name: HashMap<&str, &str> = vars.iter().map(|v| (v.name.as_str(), v.value)).collect();
                for v in &vars {
                    for h in hosts_in(v.value, &v.name) {
                        let Some((svc, pod_direct)) = service_of(cx, &h, ns) else { continue };
                        if done.contains(&svc) {
                            continue;
                        }
                        let port = h.port.or_else(|| {
                            port_siblings(&v.name).iter().find_map(|s| by_name.get(s.as_str())?.trim().parse().ok())
                        });
                        let selected = servers.entry(svc).or_insert_with(|| {
                            let o = &cx.objects[svc];
                            match o.value.at("/spec/selector").and_then(Value::as_object) {
                                Some(sel) if !sel.is_empty() => cx.index.selected(o.ns(), &Selector::of_labels(sel)),
                                _ => Vec::new(),
                            }
                        });
                        if selected.iter().any(|t| t.object == client.object) {
                            continue;
                        }
                        let Some(d) = denial(cx, &table, (client.object, me), svc, selected, port, pod_direct) else {
                            continue;
                        };
                        done.insert(svc);
                        report(cx, policies, out, client, v, svc, &d);
                    }
                }
            }
        }
    }
}

/// Whether the policies certainly refuse `client` every way of reaching
/// Service `svc` (on `port` when known), for some pod template of it.
#[allow(clippy::too_many_arguments)]
fn denial(
    cx: &Context,
    table: &Table,
    (client, me): (usize, Endpoint),
    svc: usize,
    selected: &[&PodTemplate],
    port: Option<i64>,
    pod_direct: bool,
) -> Option<Denial> {
    let o = &cx.objects[svc];
    if o.value.at("/spec/type").and_then(Value::as_str) == Some("ExternalName") {
        return None;
    }
    let headless = o.value.at("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    let ports = service_ports(&o.value);
    // (dialed port, pod port, protocol) candidates.
    let candidates: Vec<(String, PortRef, &str)> = match port {
        Some(p) if headless || pod_direct => {
            let protocol = ports.iter().find(|sp| sp.port == p).map_or("TCP", |sp| sp.protocol);
            vec![(p.to_string(), PortRef::Number(p), protocol)]
        }
        Some(p) => ports.iter().filter(|sp| sp.port == p).map(|sp| (p.to_string(), sp.target, sp.protocol)).collect(),
        None => ports.iter().map(|sp| (sp.port.to_string(), sp.target, sp.protocol)).collect(),
    };
    for server in selected {
        let Some(spod) = Pod::of(cx.objects, server.object) else { continue };
        let declared = pod_ports(&spod);
        let them = Endpoint { ns: cx.objects[server.object].ns(), labels: &server.labels };
        let mut first: Option<Denial> = None;
        let mut all_denied = !candidates.is_empty();
        for (dialed, target, protocol) in &candidates {
            let t = match *target {
                PortRef::Number(n) => Target {
                    number: n,
                    protocol,
                    name: declared.iter().find(|d| d.number == n && d.protocol == *protocol).and_then(|d| d.name),
                },
                PortRef::Name(name) => {
                    match declared.iter().find(|d| d.name == Some(name) && d.protocol == *protocol) {
                        Some(d) => Target { number: d.number, protocol, name: Some(name) },
                        // An unknown named port is KP302's finding; nothing to decide here.
                        None => {
                            all_denied = false;
                            continue;
                        }
                    }
                }
            };
            let ingress = table.answer(cx, server.object, Direction::Ingress, (client, me), t);
            let egress = table.answer(cx, client, Direction::Egress, (server.object, them), t);
            if ingress.and(egress) != Tri::No {
                all_denied = false;
                continue;
            }
            first.get_or_insert(Denial {
                server: server.object,
                server_label: client_label(server),
                dialed: dialed.clone(),
                target: (t.number, t.protocol.to_string()),
                ingress: ingress == Tri::No,
                egress: egress == Tri::No,
            });
            if port.is_some() {
                // The one port the client dials is refused.
                return first;
            }
        }
        if all_denied && first.is_some() {
            return first;
        }
    }
    None
}

/// How many isolating policies a finding names (the rest are counted).
const NAMED: usize = 5;

fn report(cx: &Context, policies: &Policies, out: &mut Sink, client: &PodTemplate, v: &Var, svc: usize, d: &Denial) {
    let c = &cx.objects[client.object];
    let s = &cx.objects[svc];
    let server = &cx.objects[d.server];
    let who = format!("{} {}", c.kind, c.name);
    let (port, proto) = &d.target;
    let blocked_ns = match (d.ingress, d.egress) {
        (true, true) if server.ns() != c.ns() => format!("{} and {}", server.ns(), c.ns()),
        (true, _) => server.ns().to_string(),
        _ => c.ns().to_string(),
    };
    let message =
        format!("the network policies of {blocked_ns} do not allow {who} to reach {}:{} ({})", s.name, d.dialed, v.via);
    let mut help = Vec::new();
    let label = client_label(client);
    if d.ingress {
        let (names, n) = some_of(policies.ingress(d.server).map(|p| cx.objects[p.object].name.as_str()), NAMED);
        let from = match &label {
            Some((k, val)) if c.ns() == server.ns() => format!("{{podSelector: {{matchLabels: {{{k}: {val}}}}}}}"),
            Some((k, val)) => format!(
                "{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {}}}}}, podSelector: {{matchLabels: {{{k}: {val}}}}}}}",
                c.ns()
            ),
            None => format!("{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {}}}}}}}", c.ns()),
        };
        help.push(format!(
            "NetworkPolicy {} of {} isolate{} the pods of {} {} for ingress and admit{} no traffic from {who} on {port}/{proto}; \
             add an ingress rule `from: [{from}]`, `ports: [{{port: {port}, protocol: {proto}}}]`",
            names,
            server.ns(),
            if n == 1 { "s" } else { "" },
            server.kind,
            server.name,
            if n == 1 { "s" } else { "" },
        ));
    }
    if d.egress {
        let (names, n) = some_of(policies.egress(client.object).map(|p| cx.objects[p.object].name.as_str()), NAMED);
        let pods = match &d.server_label {
            Some((k, val)) => format!("podSelector: {{matchLabels: {{{k}: {val}}}}}"),
            None => String::new(),
        };
        let to = match (c.ns() == server.ns(), pods.is_empty()) {
            (true, false) => format!("{{{pods}}}"),
            (_, true) => {
                format!("{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {}}}}}}}", server.ns())
            }
            (false, false) => format!(
                "{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {}}}}}, {pods}}}",
                server.ns()
            ),
        };
        help.push(format!(
            "NetworkPolicy {} of {} isolate{} {who} for egress and allow{} nothing to {} {} on {port}/{proto}; \
             add an egress rule `to: [{to}]`, `ports: [{{port: {port}, protocol: {proto}}}]`",
            names,
            c.ns(),
            if n == 1 { "s" } else { "" },
            if n == 1 { "s" } else { "" },
            server.kind,
            server.name,
        ));
    }
    out.report(client.object, &v.ptr, message).help(help.join("; "));
}
