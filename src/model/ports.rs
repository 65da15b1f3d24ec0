//! Ports as Services, pods and probes name them: numbers or the names of
//! container ports, resolved the way the kubelet and kube-proxy do.

use crate::model::Value;

use super::At;
use super::pods::{Container, Pod};

/// A port given as a number or as the name of a container port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortRef<'a> {
    Number(i64),
    Name(&'a str),
}

impl<'a> PortRef<'a> {
    /// An `IntOrString` port; `None` when absent or of another type.
    pub fn of(v: Option<&'a Value>) -> Option<PortRef<'a>> {
        match v? {
            Value::Number(n) => n.as_i64().map(PortRef::Number),
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok().map(PortRef::Number)
            }
            Value::String(s) if !s.is_empty() => Some(PortRef::Name(s)),
            _ => None,
        }
    }
}

impl std::fmt::Display for PortRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PortRef::Number(n) => write!(f, "{n}"),
            PortRef::Name(s) => write!(f, "`{s}`"),
        }
    }
}

/// One entry of a Service's `spec.ports`.
#[derive(Debug, Clone)]
pub struct ServicePort<'a> {
    pub index: usize,
    pub name: Option<&'a str>,
    pub port: i64,
    /// `targetPort`, or `port` when it is not given.
    pub target: PortRef<'a>,
    pub protocol: &'a str,
    /// Pointer of `targetPort` (of `port` when it is not given).
    pub target_ptr: String,
}

/// The ports of a Service, skipping malformed entries.
pub fn service_ports(service: &Value) -> Vec<ServicePort<'_>> {
    array(service.at("/spec/ports"))
        .filter_map(|(i, p)| {
            let port = p.get("port")?.as_i64()?;
            let (target, target_ptr) = match p.get("targetPort") {
                Some(t) => (PortRef::of(Some(t))?, format!("/spec/ports/{i}/targetPort")),
                None => (PortRef::Number(port), format!("/spec/ports/{i}/port")),
            };
            Some(ServicePort {
                index: i,
                name: p.get("name").and_then(Value::as_str),
                port,
                target,
                protocol: p.get("protocol").and_then(Value::as_str).unwrap_or("TCP"),
                target_ptr,
            })
        })
        .collect()
}

/// A declared container port of a pod template.
#[derive(Debug, Clone, Copy)]
pub struct PodPort<'a> {
    pub number: i64,
    pub name: Option<&'a str>,
    pub protocol: &'a str,
    pub container: &'a str,
}

/// Every declared port of every container (init containers included: a
/// sidecar's ports serve like the others).
pub fn pod_ports<'a>(pod: &Pod<'a>) -> Vec<PodPort<'a>> {
    pod.containers()
        .flat_map(|c| {
            let container = c.name();
            c.ports()
                .map(move |(number, name, protocol)| PodPort { number, name, protocol, container })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `8080/TCP (http)` for messages.
pub fn describe_ports(ports: &[PodPort]) -> String {
    ports
        .iter()
        .map(|p| match p.name {
            Some(n) => format!("{n} ({}/{})", p.number, p.protocol),
            None => format!("{}/{}", p.number, p.protocol),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The port of one probe of a container: (pointer, port, handler).
pub fn probe_ports<'a>(c: &Container<'a>) -> Vec<(String, PortRef<'a>, &'static str)> {
    let mut out = Vec::new();
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        for handler in ["httpGet", "tcpSocket", "grpc"] {
            let ptr = format!("/{probe}/{handler}/port");
            if let Some(port) = PortRef::of(c.get(&ptr)) {
                out.push((c.field(&ptr), port, handler));
            }
        }
    }
    out
}

/// `livenessProbe` out of a probe port pointer.
pub fn probe_of(ptr: &str) -> &str {
    ptr.split('/').find(|s| s.ends_with("Probe")).unwrap_or("probe")
}

/// The entries of an array field, numbered.
fn array(v: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    v.and_then(Value::as_array).into_iter().flatten().enumerate()
}
