//! Istio's request authorization, evaluated on a set of manifests: whether a
//! caller's request reaches a server's application through its sidecar.
//!
//! Two kinds of object decide, in this order:
//! - PeerAuthentication: the mutual TLS mode of the server's port (a
//!   workload policy's `portLevelMtls`, then its `mtls`, then the namespace's
//!   policy, then the mesh-wide one in the root namespace; PERMISSIVE when
//!   none says). STRICT refuses a plaintext caller (one without a sidecar);
//! - AuthorizationPolicy: a DENY policy with a matching rule refuses; then,
//!   when ALLOW policies select the workload, one of their rules must match.
//!   Policies of the server's namespace apply when their selector matches its
//!   pods (no selector: every pod); policies of the root namespace without
//!   selector apply mesh-wide.
//!
//! A caller's identity exists only over mutual TLS: `principals` and
//! `namespaces` never match a plaintext request. What the set cannot show (a
//! `when` condition, `ipBlocks`, `hosts`) never makes an ALLOW rule match and
//! always makes a DENY rule match, so an answer of "allowed" holds whatever
//! those turn out to be. CUSTOM and AUDIT policies do not decide.

use crate::model::Value;

use super::selector::{LabelSet, Selector};
use super::{At, Manifests};

/// Istio's root namespace: its selector-less policies apply to the whole mesh.
pub const ROOT_NAMESPACE: &str = "istio-system";

/// Who calls: a workload with a sidecar (mutual TLS, with its service
/// account when known), or a plaintext client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The caller's namespace.
    pub namespace: String,
    /// Its service account, when known; `None` with `mtls`: a workload of
    /// the namespace whose account is not shown (only `namespaces` rules match it).
    pub service_account: Option<String>,
    /// Whether the request arrives over Istio mutual TLS (the caller has a sidecar).
    pub mtls: bool,
    /// The request principal of a validated JWT (`ISSUER/SUBJECT`), if any.
    pub request_principal: Option<String>,
}

impl Caller {
    /// `cluster.local/ns/NS/sa/SA`, when the caller has an identity.
    pub fn principal(&self) -> Option<String> {
        let sa = self.service_account.as_ref().filter(|_| self.mtls)?;
        Some(format!("cluster.local/ns/{}/sa/{sa}", self.namespace))
    }
}

/// One request: its port on the server's pod, method and path (`None` for
/// a TCP connection without HTTP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub port: u16,
    pub method: Option<String>,
    pub path: Option<String>,
}

/// The answer, and the objects that decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub allowed: bool,
    /// `Kind namespace/name` of the deciding objects (empty: nothing applies).
    pub deciding: Vec<String>,
    /// Why, in words.
    pub reason: String,
}

/// The labels of a pod template's pods, and whether they run a sidecar.
pub struct Server<'a> {
    pub object: usize,
    pub namespace: &'a str,
    pub labels: &'a dyn LabelSet,
}

/// Whether the pods of `object` get an Istio sidecar: the pod's
/// `sidecar.istio.io/inject` label or annotation, else the namespace's
/// `istio-injection: enabled` (or an `istio.io/rev` revision label).
pub fn in_mesh(cx: &Manifests, object: usize) -> bool {
    let o = &cx.objects[object];
    // The pod template's metadata sits beside its labels.
    let pod_meta = super::pods::template_pointers(&o.kind)
        .and_then(|(_, labels)| o.value.at(labels.strip_suffix("/labels").unwrap_or(labels)));
    for field in ["labels", "annotations"] {
        if let Some(v) = pod_meta.and_then(|m| m.get(field)).and_then(|m| m.get("sidecar.istio.io/inject")) {
            return v.as_str() == Some("true");
        }
    }
    let Some(ns) = cx.index.get("Namespace", "", o.ns()) else { return false };
    let labels = cx.objects[ns].labels();
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    label("istio-injection") == Some("enabled")
        || (label("istio.io/rev").is_some() && label("istio-injection").is_none())
}

/// The service account the pods of `object` run as.
pub fn service_account(cx: &Manifests, object: usize) -> String {
    super::Pod::of(cx.objects, object)
        .and_then(|p| p.spec.get("serviceAccountName"))
        .and_then(Value::as_str)
        .unwrap_or("default")
        .to_string()
}

/// Whether `caller`'s `request` reaches `server` past its sidecar. A server
/// without a sidecar is not the mesh's to decide: allowed.
pub fn decide(cx: &Manifests, server: &Server, caller: &Caller, request: &Request) -> Verdict {
    if !in_mesh(cx, server.object) {
        return Verdict { allowed: true, deciding: Vec::new(), reason: "the server has no sidecar".into() };
    }
    if !caller.mtls
        && let Some((mode, by)) = mtls_mode(cx, server, request.port)
        && mode == "STRICT"
    {
        return Verdict {
            allowed: false,
            reason: format!(
                "PeerAuthentication {by} requires mutual TLS on port {}: the caller has none",
                request.port
            ),
            deciding: vec![format!("PeerAuthentication {by}")],
        };
    }
    let policies = applicable(cx, server);
    let action = |i: usize| cx.objects[i].value.at("/spec/action").and_then(Value::as_str).unwrap_or("ALLOW");
    let name = |i: usize| format!("AuthorizationPolicy {}/{}", cx.objects[i].ns(), cx.objects[i].name);
    for &i in policies.iter().filter(|&&i| action(i) == "DENY") {
        if let Some(r) = matching_rule(cx, i, caller, request, false) {
            return Verdict {
                allowed: false,
                deciding: vec![name(i)],
                reason: format!("{} rules[{r}] denies it", name(i)),
            };
        }
    }
    let allows: Vec<usize> = policies.into_iter().filter(|&i| action(i) == "ALLOW").collect();
    if allows.is_empty() {
        return Verdict { allowed: true, deciding: Vec::new(), reason: "no ALLOW policy selects the server".into() };
    }
    for &i in &allows {
        if let Some(r) = matching_rule(cx, i, caller, request, true) {
            return Verdict {
                allowed: true,
                deciding: vec![name(i)],
                reason: format!("{} rules[{r}] allows it", name(i)),
            };
        }
    }
    let names: Vec<String> = allows.iter().map(|&i| name(i)).collect();
    Verdict { allowed: false, reason: format!("no rule of {} allows it", names.join(", ")), deciding: names }
}

/// The AuthorizationPolicies that apply to the server's pods.
fn applicable(cx: &Manifests, server: &Server) -> Vec<usize> {
    let mut out = Vec::new();
    for &i in cx.index.of_kind("AuthorizationPolicy") {
        let o = &cx.objects[i];
        let selector = o.value.at("/spec/selector").filter(|s| !s.is_null());
        let applies = if o.ns() == server.namespace {
            selector.is_none_or(|s| Selector::of(s).matches(server.labels))
        } else {
            o.ns() == ROOT_NAMESPACE && selector.is_none()
        };
        if applies {
            out.push(i);
        }
    }
    out
}

/// The mutual TLS mode of `port` on the server's pods and the policy that
/// sets it (`namespace/name`), or `None` when no policy says (PERMISSIVE).
fn mtls_mode(cx: &Manifests, server: &Server, port: u16) -> Option<(String, String)> {
    let mut workload = None;
    let mut namespace = None;
    let mut mesh = None;
    for &i in cx.index.of_kind("PeerAuthentication") {
        let o = &cx.objects[i];
        let selector = o.value.at("/spec/selector").filter(|s| !s.is_null());
        match selector {
            Some(s) if o.ns() == server.namespace && Selector::of(s).matches(server.labels) => workload = Some(i),
            None if o.ns() == server.namespace => namespace = Some(i),
            None if o.ns() == ROOT_NAMESPACE => mesh = Some(i),
            _ => {}
        }
    }
    let mode = |i: usize, ptr: &str| {
        let m = cx.objects[i].value.at(ptr).and_then(Value::as_str)?;
        // UNSET inherits from the level above.
        (m != "UNSET").then(|| (m.to_string(), format!("{}/{}", cx.objects[i].ns(), cx.objects[i].name)))
    };
    workload
        .and_then(|i| mode(i, &format!("/spec/portLevelMtls/{port}/mode")))
        .or_else(|| workload.and_then(|i| mode(i, "/spec/mtls/mode")))
        .or_else(|| namespace.and_then(|i| mode(i, "/spec/mtls/mode")))
        .or_else(|| mesh.and_then(|i| mode(i, "/spec/mtls/mode")))
}

/// The index of the first rule of policy `i` that matches. `allow`: an
/// ALLOW policy, where what cannot be told does not match (for DENY it does).
fn matching_rule(cx: &Manifests, i: usize, caller: &Caller, request: &Request, allow: bool) -> Option<usize> {
    let rules = cx.objects[i].value.at("/spec/rules").and_then(Value::as_array)?;
    rules.iter().position(|rule| {
        let any = |field: &str, one: &dyn Fn(&Value) -> bool| {
            rule.get(field).and_then(Value::as_array).is_none_or(|l| l.iter().any(one))
        };
        let from = any("from", &|f| f.get("source").is_some_and(|s| source_matches(s, caller, allow)));
        let to = any("to", &|t| t.get("operation").is_some_and(|o| operation_matches(o, request, allow)));
        let when = rule.get("when").and_then(Value::as_array).is_none_or(|l| l.is_empty() || !allow);
        from && to && when
    })
}

/// Strings of a list field.
fn strings(v: &Value, field: &str) -> Option<Vec<String>> {
    v.get(field).and_then(Value::as_array).map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

/// Istio's string match: exact, `prefix*`, `*suffix` or `*` (a present value).
pub fn pattern_matches(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        return !value.is_empty();
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        return value.starts_with(prefix);
    }
    if let Some(suffix) = pattern.strip_prefix('*') {
        return value.ends_with(suffix);
    }
    pattern == value
}

/// A field and its `not` twin against one value (`None`: the request has
/// none, which only a `not` list admits).
fn field_matches(v: &Value, field: &str, not: &str, value: Option<&str>) -> bool {
    let hit = |list: Vec<String>| value.is_some_and(|x| list.iter().any(|p| pattern_matches(p, x)));
    strings(v, field).is_none_or(&hit) && strings(v, not).is_none_or(|l| !hit(l))
}

fn source_matches(s: &Value, caller: &Caller, allow: bool) -> bool {
    let principal = caller.principal();
    let ns = caller.mtls.then_some(caller.namespace.as_str());
    let unknown = ["ipBlocks", "notIpBlocks", "remoteIpBlocks", "notRemoteIpBlocks"].iter().any(|f| s.get(f).is_some());
    if unknown {
        return !allow;
    }
    // A namespace caller of unknown account: `principals` can only be told for a known one.
    if caller.mtls && caller.service_account.is_none() && s.get("principals").is_some() {
        return !allow && field_matches(s, "namespaces", "notNamespaces", ns);
    }
    field_matches(s, "principals", "notPrincipals", principal.as_deref())
        && field_matches(s, "requestPrincipals", "notRequestPrincipals", caller.request_principal.as_deref())
        && field_matches(s, "namespaces", "notNamespaces", ns)
}

fn operation_matches(o: &Value, request: &Request, allow: bool) -> bool {
    if o.get("hosts").is_some() || o.get("notHosts").is_some() {
        return !allow;
    }
    let port = request.port.to_string();
    // HTTP fields never match a plain TCP connection.
    field_matches(o, "ports", "notPorts", Some(&port))
        && field_matches(o, "methods", "notMethods", request.method.as_deref())
        && field_matches(o, "paths", "notPaths", request.path.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(pattern_matches("/metrics", "/metrics"));
        assert!(!pattern_matches("/metrics", "/metrics/x"));
        assert!(pattern_matches("/api/*", "/api/v1"));
        assert!(pattern_matches("*.json", "/a.json"));
        assert!(pattern_matches("*", "x"));
        assert!(!pattern_matches("*", ""));
    }

    #[test]
    fn sources() {
        let caller = Caller {
            namespace: "monitoring".into(),
            service_account: Some("prometheus".into()),
            mtls: true,
            request_principal: None,
        };
        let by_ns = crate::model::value::value!({ "namespaces": ["monitoring"] });
        let by_sa = crate::model::value::value!({ "principals": ["cluster.local/ns/monitoring/sa/prometheus"] });
        let other = crate::model::value::value!({ "principals": ["cluster.local/ns/istio-system/sa/gw"] });
        assert!(source_matches(&by_ns, &caller, true));
        assert!(source_matches(&by_sa, &caller, true));
        assert!(!source_matches(&other, &caller, true));
        let plain = Caller { mtls: false, ..caller.clone() };
        assert!(!source_matches(&by_ns, &plain, true), "a plaintext caller has no namespace identity");
        assert!(!source_matches(&by_sa, &plain, true));
        let jwt = crate::model::value::value!({ "requestPrincipals": ["https://issuer/*"] });
        assert!(!source_matches(&jwt, &caller, true));
        let with = Caller { request_principal: Some("https://issuer/alice".into()), ..caller };
        assert!(source_matches(&jwt, &with, true));
    }

    #[test]
    fn operations() {
        let get = Request { port: 8080, method: Some("GET".into()), path: Some("/metrics".into()) };
        let tcp = Request { port: 8080, method: None, path: None };
        let op = crate::model::value::value!({ "ports": ["8080"], "methods": ["GET"], "paths": ["/metrics"] });
        assert!(operation_matches(&op, &get, true));
        assert!(!operation_matches(&op, &tcp, true));
        let not = crate::model::value::value!({ "notPaths": ["/metrics"] });
        assert!(!operation_matches(&not, &get, true));
        assert!(operation_matches(&not, &tcp, true));
        let hosts = crate::model::value::value!({ "hosts": ["a"] });
        assert!(!operation_matches(&hosts, &get, true));
        assert!(operation_matches(&hosts, &get, false));
    }
}
