//! The connections a stack intends, derived from the description: what must
//! be open, and (by the proof in [`crate::build`]) nothing else is meant to be.
//!
//! - `uses` edges: a service, job or cronjob to every port of a service, a
//!   datastore's client port, an external host's port;
//! - the scraper to every scrape target (the metrics port and path of each
//!   service with `metrics`, each datastore with `metrics: true`): the
//!   platform's own Prometheus when it runs one, else the pods of the
//!   monitoring namespace; that Prometheus to Alertmanager;
//! - the platform's own Alertmanager to each receiver's host;
//! - every application service (not an off-the-shelf component) to the
//!   trace collector (`tracing.endpoint`, or the platform's OpenTelemetry
//!   Collector, which then exports to the endpoint); the log shipper to the
//!   log backend (`logs.endpoint`);
//! - Grafana to its data sources (Prometheus, Loki, Jaeger's query API, Tempo);
//! - each backup CronJob and restore Job to its datastore (engines that dump
//!   over the network) and to the bucket; a datastore to the restore pod it
//!   replicates from (Redis);
//! - the platform's Prometheus (its service discovery) and services reading
//!   their own configuration to the Kubernetes API;
//! - the edge to each exposed port: the ingress controller's pods (the
//!   Istio ingress gateway's, by its service account, under the mesh), the
//!   Gateway API gateway's, any address for a LoadBalancer or NodePort port.

use std::fmt;

use crate::description::alerts::ReceiverKind;
use crate::description::resolve::{Resolved, Svc};
use crate::description::{ExposeKind, Mesh, Protocol};
use crate::model::hosts::fqdn;

/// Why a connection is intended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Class {
    /// A `uses` edge.
    Uses,
    /// Prometheus scraping a target's metrics.
    Scrape,
    /// Prometheus sending alerts to Alertmanager.
    Alerts,
    /// Alertmanager notifying a receiver.
    Notify,
    /// A workload sending spans to the trace collector.
    Traces,
    /// The collector exporting spans to the tracing backend.
    TraceExport,
    /// The log shipper sending logs to the backend.
    Logs,
    /// Grafana querying a data source.
    Datasource,
    /// A backup or restore pod connecting to its datastore.
    Backup,
    /// A backup or restore pod reading or writing the bucket.
    BackupBucket,
    /// A workload reading the Kubernetes API: Prometheus' service discovery,
    /// a service reading its own configuration.
    KubernetesApi,
    /// Traffic from outside the platform into an exposed port.
    Edge,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Uses => "uses",
            Class::Scrape => "scrape",
            Class::Alerts => "alerts",
            Class::Notify => "notify",
            Class::Traces => "traces",
            Class::TraceExport => "trace export",
            Class::Logs => "logs",
            Class::Datasource => "datasource",
            Class::Backup => "backup",
            Class::BackupBucket => "backup bucket",
            Class::KubernetesApi => "kubernetes api",
            Class::Edge => "edge",
        }
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    /// The pods of a workload of the stack, by namespace and
    /// `app.kubernetes.io/name` (a canary's pods are the service's too).
    Workload { namespace: String, name: String },
    /// Pods of a namespace the stack does not run (an external Prometheus,
    /// a collector installed apart): their labels are not known.
    Namespace { namespace: String },
    /// A host outside the cluster.
    External { host: String },
    /// The Kubernetes API server: the cluster's address, not a pod's.
    KubernetesApi,
    /// The pods of an edge proxy installed apart (an ingress controller,
    /// the Istio ingress gateway, a Gateway API gateway): by namespace, and
    /// by service account where it is known (its mesh identity); with the
    /// request principal of the token it forwards when the service requires
    /// a JWT (`ISSUER/SUBJECT`).
    Edge { namespace: String, account: Option<String>, token: Option<String> },
    /// Any address outside the cluster: the clients of a LoadBalancer or
    /// NodePort port.
    Internet,
}

impl End {
    fn workload(namespace: &str, name: &str) -> End {
        End::Workload { namespace: namespace.to_string(), name: name.to_string() }
    }
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            End::Workload { namespace, name } => write!(f, "{namespace}/{name}"),
            End::Namespace { namespace } => write!(f, "the pods of namespace {namespace}"),
            End::External { host } => write!(f, "{host} (outside the cluster)"),
            End::KubernetesApi => write!(f, "the Kubernetes API"),
            End::Edge { namespace, account, token } => {
                write!(f, "the edge proxy in namespace {namespace}")?;
                if let Some(a) = account {
                    write!(f, " (service account {a})")?;
                }
                if let Some(t) = token {
                    write!(f, " with a token of {t}")?;
                }
                Ok(())
            }
            End::Internet => write!(f, "any address outside the cluster"),
        }
    }
}

/// An HTTP request a connection carries, when only that request is intended
/// (a scrape is `GET` of the metrics path).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Http {
    pub method: String,
    pub path: String,
}

/// One intended connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Connection {
    pub class: Class,
    pub from: End,
    pub to: End,
    /// The port on the destination (its pods' port, or the external host's).
    pub port: u16,
    pub http: Option<Http>,
}

impl fmt::Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} → {} port {}", self.from, self.to, self.port)?;
        if let Some(h) = &self.http {
            write!(f, " ({} {})", h.method, h.path)?;
        }
        write!(f, " [{}]", self.class)
    }
}

/// Every connection `r` intends, sorted, each once.
pub fn intended(r: &Resolved) -> Vec<Connection> {
    let mut out = Vec::new();
    uses(r, &mut out);
    scrapes(r, &mut out);
    alerting(r, &mut out);
    telemetry(r, &mut out);
    datasources(r, &mut out);
    backups(r, &mut out);
    kubernetes_api(r, &mut out);
    edges(r, &mut out);
    out.sort();
    out.dedup();
    out
}

fn push(out: &mut Vec<Connection>, class: Class, from: &End, to: End, port: u16) {
    out.push(Connection { class, from: from.clone(), to, port, http: None });
}

fn uses(r: &Resolved, out: &mut Vec<Connection>) {
    // Services, jobs and cronjobs: each a client of what it uses.
    let clients = r.services.iter().map(|s| (&s.namespace, &s.name, &s.uses));
    let batch = r.batch().map(|j| (&j.namespace, &j.name, &j.uses));
    for (ns, name, uses) in clients.chain(batch) {
        let from = End::workload(ns, name);
        for t in uses {
            if let Some(target) = r.service(t) {
                // Every port of the target is open to its clients (`uses` wires the first).
                for p in target.served_ports() {
                    push(out, Class::Uses, &from, End::workload(&target.namespace, &target.name), p.port);
                }
            } else if let Some(d) = r.datastore(t) {
                push(out, Class::Uses, &from, End::workload(&d.namespace, &d.name), d.engine.client_port());
            } else if let Some(x) = r.external(t) {
                push(out, Class::Uses, &from, End::External { host: x.host.clone() }, x.port);
            }
        }
    }
}

/// Who scrapes: the platform's own Prometheus, else the monitoring namespace.
pub fn scraper(r: &Resolved) -> End {
    match r.component("prometheus") {
        Some(p) => End::workload(&p.namespace, &p.name),
        None => End::Namespace { namespace: r.monitoring_namespace.clone() },
    }
}

fn scrapes(r: &Resolved, out: &mut Vec<Connection>) {
    let from = scraper(r);
    let get = |path: &str| Some(Http { method: "GET".into(), path: path.to_string() });
    for s in &r.services {
        let Some(m) = &s.metrics else { continue };
        let Some(p) = s.ports.iter().find(|p| p.name == m.port_name) else { continue };
        let to = End::workload(&s.namespace, &s.name);
        out.push(Connection { class: Class::Scrape, from: from.clone(), to, port: p.port, http: get(&m.path) });
    }
    for d in &r.datastores {
        let Some(sc) = super::datastores::store_scrape(d) else { continue };
        let to = End::workload(&d.namespace, &d.name);
        out.push(Connection { class: Class::Scrape, from: from.clone(), to, port: sc.port, http: get(sc.path) });
    }
}

/// The port of a component's service named `name`, else its first.
fn port_named(s: &Svc, name: &str) -> Option<u16> {
    s.ports.iter().find(|p| p.name == name).or(s.ports.first()).map(|p| p.port)
}

fn alerting(r: &Resolved, out: &mut Vec<Connection>) {
    if let Some(p) = r.component("prometheus") {
        let from = End::workload(&p.namespace, &p.name);
        match r.component("alertmanager") {
            Some(a) => {
                if let Some(port) = port_named(a, "http") {
                    push(out, Class::Alerts, &from, End::workload(&a.namespace, &a.name), port);
                }
            }
            None => push(out, Class::Alerts, &from, End::Namespace { namespace: r.monitoring_namespace.clone() }, 9093),
        }
    }
    let Some(a) = r.component("alertmanager") else { return };
    let from = End::workload(&a.namespace, &a.name);
    for rc in &r.alerting.receivers {
        let (host, port) = match rc.kind {
            ReceiverKind::Pagerduty => ("events.pagerduty.com".to_string(), 443),
            // The webhook URL is a credential (a Secret's file): Slack's host.
            ReceiverKind::Slack => ("hooks.slack.com".to_string(), 443),
            ReceiverKind::Email => host_port(&rc.smarthost, 587),
            ReceiverKind::Webhook => host_port(&rc.url, 443),
        };
        let to = end_of_host(r, &host);
        push(out, Class::Notify, &from, to, port);
    }
}

/// `host:port` or a URL → (host, port), the port defaulting to `default`
/// (80 for a plain `http://` URL).
pub fn host_port(endpoint: &str, default: u16) -> (String, u16) {
    let (default, rest) = match endpoint.split_once("://") {
        Some(("http", rest)) => (80, rest),
        Some((_, rest)) => (default, rest),
        None => (default, endpoint),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match authority.rsplit_once(':') {
        Some((h, p)) if p.parse::<u16>().is_ok() => (h.to_string(), p.parse().unwrap_or(default)),
        _ => (authority.to_string(), default),
    }
}

/// What a host name stands for: a service or datastore of the platform
/// (`NAME.NAMESPACE[.svc[.cluster.local]]`), other pods of the cluster, or
/// a host outside it.
pub fn end_of_host(r: &Resolved, host: &str) -> End {
    let named = |name: &str, ns: &str| {
        let full = fqdn(name, ns);
        host == full || host == format!("{name}.{ns}") || host == format!("{name}.{ns}.svc")
    };
    if let Some(s) = r.services.iter().find(|s| named(&s.name, &s.namespace)) {
        return End::workload(&s.namespace, &s.name);
    }
    if let Some(d) = r.datastores.iter().find(|d| named(&d.name, &d.namespace)) {
        return End::workload(&d.namespace, &d.name);
    }
    let labels: Vec<&str> = host.split('.').collect();
    match labels[..] {
        [_, ns] | [_, ns, "svc"] | [_, ns, "svc", "cluster", "local"] => End::Namespace { namespace: ns.to_string() },
        _ => End::External { host: host.to_string() },
    }
}

/// The application services: those that are not an off-the-shelf component.
fn applications(r: &Resolved) -> impl Iterator<Item = &Svc> {
    r.services.iter().filter(|s| s.component.is_none())
}

fn telemetry(r: &Resolved, out: &mut Vec<Connection>) {
    if let Some(t) = &r.telemetry.tracing {
        let (host, port) = host_port(&t.endpoint, 4317);
        let backend = end_of_host(r, &host);
        // With a collector of the platform's own, workloads send to it and it exports.
        let (to, to_port) = match r.component("otel-collector") {
            Some(c) => {
                let from = End::workload(&c.namespace, &c.name);
                push(out, Class::TraceExport, &from, backend, port);
                (from, port_named(c, "otlp-grpc").unwrap_or(4317))
            }
            None => (backend, port),
        };
        for s in applications(r) {
            push(out, Class::Traces, &End::workload(&s.namespace, &s.name), to.clone(), to_port);
        }
    }
    if let (Some(l), Some(shipper)) = (&r.telemetry.logs, r.component("log-shipper")) {
        let (host, port) = host_port(&l.endpoint, 3100);
        let from = End::workload(&shipper.namespace, &shipper.name);
        push(out, Class::Logs, &from, end_of_host(r, &host), port);
    }
}

fn datasources(r: &Resolved, out: &mut Vec<Connection>) {
    let Some(g) = r.component("grafana") else { return };
    let from = End::workload(&g.namespace, &g.name);
    for (component, port) in [("prometheus", "http"), ("loki", "http"), ("jaeger", "query"), ("tempo", "http")] {
        if let Some(s) = r.component(component)
            && let Some(p) = port_named(s, port)
        {
            push(out, Class::Datasource, &from, End::workload(&s.namespace, &s.name), p);
        }
    }
}

fn backups(r: &Resolved, out: &mut Vec<Connection>) {
    let Some(t) = &r.backup else { return };
    let (host, port) = host_port(&t.endpoint, 443);
    let bucket = end_of_host(r, &host);
    for d in &r.datastores {
        if d.backup.is_none() || !super::backup::supported(d.engine) {
            continue;
        }
        let store = End::workload(&d.namespace, &d.name);
        for name in [super::backup::backup_name(d), super::backup::restore_name(d)] {
            let from = End::workload(&d.namespace, &name);
            if super::backup::connects(d.engine) {
                push(out, Class::Backup, &from, store.clone(), d.engine.client_port());
            }
            push(out, Class::BackupBucket, &from, bucket.clone(), port);
        }
        // A restore the live server replicates from (Redis): the datastore connects to it.
        if let Some(p) = d.engine.backup().ok().and_then(|b| b.restore_port) {
            push(out, Class::Backup, &store, End::workload(&d.namespace, &super::backup::restore_name(d)), p);
        }
    }
}

/// The API server's ports: 443 through the `kubernetes` Service, 6443 direct
/// (a NetworkPolicy sees the port after the Service's translation).
pub const API_PORTS: [u16; 2] = [443, 6443];

fn kubernetes_api(r: &Resolved, out: &mut Vec<Connection>) {
    let readers = r.services.iter().filter(|s| s.read_own_config).map(|s| End::workload(&s.namespace, &s.name));
    // The platform's Prometheus discovers its targets through the API.
    let scraper = scraper(r);
    let discovers = matches!(scraper, End::Workload { .. }) && out.iter().any(|c| c.class == Class::Scrape);
    for from in readers.chain(discovers.then_some(scraper)) {
        for port in API_PORTS {
            push(out, Class::KubernetesApi, &from, End::KubernetesApi, port);
        }
    }
}

/// From the edge into each exposed port (see [`Class::Edge`]); an HTTP
/// route asks its path, a public HTTP port its root.
fn edges(r: &Resolved, out: &mut Vec<Connection>) {
    for s in &r.services {
        let to = End::workload(&s.namespace, &s.name);
        for e in &s.exposures {
            let Some(p) = s.exposed_port(e) else { continue };
            let (from, path) = match e.kind {
                ExposeKind::Ingress => {
                    let istio = r.mesh == Mesh::Istio;
                    let account = istio.then(|| super::mesh::GATEWAY_SA.to_string());
                    // Under the mesh the gateway forwards the client's validated token.
                    let issuer = s.traffic.jwt.as_ref().and_then(|j| j.issuer.as_ref()).filter(|_| istio);
                    let token = issuer.map(|i| format!("{i}/client"));
                    (End::Edge { namespace: r.ingress_namespace.clone(), account, token }, Some(e.path.clone()))
                }
                ExposeKind::Gateway => {
                    let Some((ns, _)) = &r.gateway else { continue };
                    (End::Edge { namespace: ns.clone(), account: None, token: None }, Some(e.path.clone()))
                }
                ExposeKind::LoadBalancer | ExposeKind::NodePort => {
                    let http = matches!(p.protocol, Protocol::Http | Protocol::Websocket);
                    (End::Internet, http.then(|| "/".to_string()))
                }
                ExposeKind::Internal => continue,
            };
            let http = path.map(|path| Http { method: "GET".into(), path });
            out.push(Connection { class: Class::Edge, from, to: to.clone(), port: p.port, http });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        assert_eq!(host_port("jaeger.obs:4317", 1), ("jaeger.obs".into(), 4317));
        assert_eq!(host_port("smtp.example.com", 587), ("smtp.example.com".into(), 587));
        assert_eq!(host_port("https://hooks.example.com/x:y", 443), ("hooks.example.com".into(), 443));
        assert_eq!(host_port("http://minio.data:9000/bucket", 443), ("minio.data".into(), 9000));
        assert_eq!(host_port("http://minio.data/bucket", 443), ("minio.data".into(), 80));
    }
}
