//! The Istio mesh (when the environment's mesh is `istio`): traffic from the
//! edge through an Istio ingress Gateway instead of an Ingress, routes and
//! upstream policy per service, canary releases, mutual TLS and
//! authorization by service identity.
//!
//! - per namespace: PeerAuthentication `default`, STRICT;
//! - per exposed service: a cert-manager Certificate in the ingress gateway's
//!   namespace (`cluster.ingressNamespace`, default `istio-system`; the
//!   gateway reads its secret there: `credentialName`) and a Gateway with an
//!   HTTP→HTTPS redirect and the edge's TLS versions;
//! - per service: a VirtualService (timeout, retries, canary weights, fault
//!   injection when asked) and a DestinationRule (ISTIO_MUTUAL, connection
//!   pool, outlier detection, load balancer, `stable`/`canary` subsets);
//! - per server (service or datastore): an AuthorizationPolicy that allows
//!   the service accounts of its declared callers, the ingress gateway when
//!   exposed, and `GET` of the metrics path for the scraper's identity; a
//!   DENY policy `NAME-metrics` refusing the metrics path to anyone else;
//! - RequestAuthentication for services with `traffic.jwt`;
//! - a ServiceEntry per external host, in each namespace that calls it;
//! - per service with `expose.rateLimit`, an EnvoyFilter on the ingress
//!   gateway: Envoy's local rate limit on that host's routes only.
//!
//! Scraping under STRICT mTLS: metrics are the scraper's only, by its mesh
//! identity — the platform's Prometheus by its service account, else the
//! monitoring namespace — so Prometheus scrapes with Istio's certificates
//! (a sidecar writing them to a volume: Istio's documented Prometheus
//! integration). Every other caller, the ingress gateway included, is
//! refused the metrics path, and the exposed route answers it with 404 at
//! the gateway; the NetworkPolicy admits only the scraper on the metrics port.
//!
//! Rate limiting: Istio has no API for it but the EnvoyFilter. Each limited
//! service gets its own filter in the gateway's chain, named after it, that
//! does nothing by itself; the host's routes (virtual host `HOST:443`) carry
//! the token bucket in `typed_per_filter_config` under that name, so no
//! other host shares the bucket or is limited. The bucket holds 5 × the rate
//! and refills by the rate every second, as NGINX's `limit-burst-multiplier`
//! 5 does without the mesh. Unlike NGINX (per client address) the bucket
//! counts every client, per gateway pod: the limit the gateway admits is
//! `rateLimit` × gateway replicas.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use super::*;
use crate::description::ExposeKind;
use crate::description::Protocol;
use crate::description::resolve::{Exposure, Port, Resolved, Svc};
use crate::description::traffic::{Fault, Retries};

pub const NETWORKING: &str = "networking.istio.io/v1";
pub const SECURITY: &str = "security.istio.io/v1";
/// The service account of Istio's default ingress gateway (istioctl / Helm `gateway` chart).
pub const GATEWAY_SA: &str = "istio-ingressgateway-service-account";
/// Pod label of the default ingress gateway, which Gateways select.
pub const GATEWAY_SELECTOR: (&str, &str) = ("istio", "ingressgateway");
/// The pod label that tells stable and canary pods apart, and its values.
pub const TRACK: &str = "track";
pub const STABLE: &str = "stable";
pub const CANARY: &str = "canary";

fn object(api: &str, kind: &str, name: &str, ns: &str, labels: &BTreeMap<String, String>, spec: Value) -> Object {
    let value = json!({
        "apiVersion": api,
        "kind": kind,
        "metadata": { "name": name, "namespace": ns, "labels": labels },
        "spec": spec,
    });
    Object {
        api_version: api.to_string(),
        kind: kind.to_string(),
        name: name.to_string(),
        namespace: Some(ns.to_string()),
        value,
    }
}

/// Istio's duration text: whole seconds as `2s`, otherwise milliseconds.
fn duration(ms: u64) -> String {
    if ms.is_multiple_of(1000) { format!("{}s", ms / 1000) } else { format!("{ms}ms") }
}

/// SPIFFE principal of a service account, as AuthorizationPolicies name it.
pub fn principal(ns: &str, sa: &str) -> String {
    format!("cluster.local/ns/{ns}/sa/{sa}")
}

fn match_labels(platform: &str, name: &str) -> Value {
    json!({ "matchLabels": selector_labels(platform, name) })
}

/// Everything of the mesh for one environment.
pub fn mesh(r: &Resolved, stack: &mut Stack) {
    let p = &r.platform;
    for ns in r.namespaces() {
        let labels = labels(p, "default", "mesh");
        stack.objects.push(object(
            SECURITY,
            "PeerAuthentication",
            "default",
            ns,
            &labels,
            json!({ "mtls": { "mode": "STRICT" } }),
        ));
    }
    // Callers of each server, from the `uses` graph.
    let mut callers: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in &r.services {
        for t in &s.uses {
            callers.entry(t.as_str()).or_default().insert(principal(&s.namespace, &s.name));
        }
    }
    // Jobs and cronjobs run as their own ServiceAccount.
    for j in r.batch() {
        for t in &j.uses {
            callers.entry(t.as_str()).or_default().insert(principal(&j.namespace, &j.name));
        }
    }
    for svc in &r.services {
        if let Some(c) = &svc.canary {
            canary(svc, c, stack);
        }
        // A worker has no Service to route to: only who may reach its pods.
        if !svc.worker {
            gateways(r, svc, stack);
            rate_limits(r, svc, stack);
            public_ports(r, svc, stack);
            virtual_service(r, svc, stack);
            destination_rule(r, svc, stack);
        }
        let metrics = metrics_port(svc);
        metrics_deny(r, &svc.name, &svc.namespace, metrics, stack);
        request_authentication(r, svc, stack);
        let callers = callers.get(svc.name.as_str());
        authorization(r, &svc.name, &svc.namespace, callers, Some(svc), metrics, stack);
    }
    // The backup and restore pods of a datastore connect to it too.
    for d in &r.datastores {
        if d.backup.is_some() && r.backup.is_some() && super::backup::connects(d.engine) {
            callers.entry(d.name.as_str()).or_default().insert(principal(&d.namespace, &super::backup::backup_name(d)));
        }
    }
    for d in &r.datastores {
        let metrics = super::datastores::store_scrape(d).map(|s| (s.port, s.path));
        metrics_deny(r, &d.name, &d.namespace, metrics, stack);
        authorization(r, &d.name, &d.namespace, callers.get(d.name.as_str()), None, metrics, stack);
    }
    service_entries(r, stack);
}

/// A second Deployment `NAME-canary` runs the canary image, its pods and
/// selector marked `track: canary` where the stable Deployment's always say
/// `track: stable` (so neither claims the other's pods, and the stable
/// selector, which is immutable, is the same with or without a canary). The
/// Service, PodDisruptionBudget, NetworkPolicy and AuthorizationPolicy
/// select both.
fn canary(svc: &Svc, c: &crate::description::resolve::CanaryR, stack: &mut Stack) {
    let Some(stable) = stack
        .objects
        .iter()
        .find(|o| o.kind == "Deployment" && o.name == svc.name && o.namespace.as_deref() == Some(&svc.namespace))
    else {
        return;
    };
    let mut value = stable.value.clone();
    for ptr in ["/spec/selector/matchLabels", "/spec/template/metadata/labels"] {
        if let Some(m) = value.pointer_mut(ptr).and_then(Value::as_object_mut) {
            m.insert(TRACK.into(), Value::from(CANARY));
        }
    }
    let name = format!("{}-canary", svc.name);
    value["metadata"]["name"] = Value::from(name.clone());
    value["spec"]["replicas"] = Value::from(c.replicas);
    if let Some(containers) = value.pointer_mut("/spec/template/spec/containers").and_then(Value::as_array_mut) {
        for ct in containers.iter_mut().filter(|ct| ct["name"] == svc.name.as_str()) {
            ct["image"] = Value::from(c.image.clone());
        }
    }
    stack.objects.push(Object {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        name: name.clone(),
        namespace: Some(svc.namespace.clone()),
        value,
    });
    canary_vpa(svc, &name, stack);
}

/// The service's VPA, for the canary's Deployment too (a VPA targets one):
/// its pods are sized as the stable ones are.
fn canary_vpa(svc: &Svc, canary: &str, stack: &mut Stack) {
    let ns = Some(svc.namespace.as_str());
    let Some(vpa) = stack
        .objects
        .iter()
        .find(|o| o.kind == "VerticalPodAutoscaler" && o.name == svc.name && o.namespace.as_deref() == ns)
    else {
        return;
    };
    let mut copy = vpa.clone();
    copy.name = canary.to_string();
    copy.value["metadata"]["name"] = Value::from(canary);
    copy.value["spec"]["targetRef"]["name"] = Value::from(canary);
    stack.objects.push(copy);
}

/// `NS/NAME` of the Gateway of one exposure (named as [`Svc::exposed`] says).
fn gateway_ref(svc: &Svc, name: &str) -> String {
    format!("{}/{name}", svc.namespace)
}

/// The Certificate and the Gateway of each `ingress` exposure.
fn gateways(r: &Resolved, svc: &Svc, stack: &mut Stack) {
    for (name, e) in svc.exposed(ExposeKind::Ingress) {
        gateway(r, svc, &name, e, stack);
    }
}

fn gateway(r: &Resolved, svc: &Svc, name: &str, e: &Exposure, stack: &mut Stack) {
    let labels = labels(&r.platform, &svc.name, "gateway");
    // The gateway reads its certificate from its own namespace.
    let secret = format!("{}-{name}-tls", svc.namespace);
    stack.objects.push(object(
        "cert-manager.io/v1",
        "Certificate",
        &format!("{}-{name}", svc.namespace),
        &r.ingress_namespace,
        &labels,
        json!({
            "secretName": secret,
            "dnsNames": [e.host],
            "issuerRef": { "name": r.issuer, "kind": "ClusterIssuer", "group": "cert-manager.io" },
        }),
    ));
    let mut tls = json!({ "mode": "SIMPLE", "credentialName": secret, "minProtocolVersion": r.tls_min.istio() });
    if let Some(max) = r.tls_max {
        tls["maxProtocolVersion"] = Value::from(max.istio());
    }
    stack.objects.push(object(
        NETWORKING,
        "Gateway",
        name,
        &svc.namespace,
        &labels,
        json!({
            "selector": { GATEWAY_SELECTOR.0: GATEWAY_SELECTOR.1 },
            "servers": [
                {
                    "port": { "number": 80, "name": "http", "protocol": "HTTP" },
                    "hosts": [e.host],
                    "tls": { "httpsRedirect": true },
                },
                {
                    "port": { "number": 443, "name": "https", "protocol": "HTTPS" },
                    "hosts": [e.host],
                    "tls": tls,
                },
            ],
        }),
    ));
}

/// Envoy's HTTP local rate limit filter, configured through Istio's
/// untyped `TypedStruct` wrapper (Istio resolves the type URL).
const LOCAL_RATELIMIT: &str = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit";

fn local_ratelimit(value: Value) -> Value {
    json!({ "@type": "type.googleapis.com/udpa.type.v1.TypedStruct", "type_url": LOCAL_RATELIMIT, "value": value })
}

/// `expose.rateLimit` under the mesh, per `ingress` exposure: see the module doc.
fn rate_limits(r: &Resolved, svc: &Svc, stack: &mut Stack) {
    for (name, e) in svc.exposed(ExposeKind::Ingress) {
        if let Some(rps) = e.rate_limit {
            rate_limit(r, svc, &name, &e.host, rps, stack);
        }
    }
}

fn rate_limit(r: &Resolved, svc: &Svc, name: &str, host: &str, rps: u32, stack: &mut Stack) {
    let filter = format!("kubeproof.{}.{name}.local_ratelimit", svc.namespace);
    let stat_prefix = format!("{}_{name}_rate_limit", svc.namespace).replace('-', "_");
    let percent =
        |key: &str| json!({ "runtime_key": key, "default_value": { "numerator": 100, "denominator": "HUNDRED" } });
    let bucket = local_ratelimit(json!({
        "stat_prefix": stat_prefix,
        "token_bucket": {
            "max_tokens": u64::from(rps) * 5,
            "tokens_per_fill": rps,
            "fill_interval": "1s",
        },
        "filter_enabled": percent("local_rate_limit_enabled"),
        "filter_enforced": percent("local_rate_limit_enforced"),
        "response_headers_to_add": [
            { "append_action": "OVERWRITE_IF_EXISTS_OR_ADD", "header": { "key": "x-local-rate-limit", "value": "true" } },
        ],
    }));
    stack.objects.push(object(
        "networking.istio.io/v1alpha3",
        "EnvoyFilter",
        &format!("{}-{name}-ratelimit", svc.namespace),
        &r.ingress_namespace,
        &labels(&r.platform, &svc.name, "gateway"),
        json!({
            "workloadSelector": { "labels": { GATEWAY_SELECTOR.0: GATEWAY_SELECTOR.1 } },
            "configPatches": [
                {
                    "applyTo": "HTTP_FILTER",
                    "match": {
                        "context": "GATEWAY",
                        "listener": { "filterChain": { "filter": {
                            "name": "envoy.filters.network.http_connection_manager",
                            "subFilter": { "name": "envoy.filters.http.router" },
                        } } },
                    },
                    "patch": {
                        "operation": "INSERT_BEFORE",
                        "value": { "name": filter, "typed_config": local_ratelimit(json!({ "stat_prefix": stat_prefix })) },
                    },
                },
                {
                    "applyTo": "HTTP_ROUTE",
                    "match": {
                        "context": "GATEWAY",
                        "routeConfiguration": { "vhost": { "name": format!("{host}:443"), "route": { "action": "ANY" } } },
                    },
                    "patch": { "operation": "MERGE", "value": { "typed_per_filter_config": { filter: bucket } } },
                },
            ],
        }),
    ));
}

/// The destinations of one route: the Service's port, split stable/canary
/// when a canary runs.
fn destinations(svc: &Svc, host: &str, port: u16) -> Value {
    let dest = |subset: Option<&str>| {
        let mut d = json!({ "host": host, "port": { "number": port } });
        if let Some(s) = subset {
            d["subset"] = Value::from(s);
        }
        d
    };
    match &svc.canary {
        None => json!([{ "destination": dest(None) }]),
        Some(c) => json!([
            { "destination": dest(Some(STABLE)), "weight": 100 - u32::from(c.weight) },
            { "destination": dest(Some(CANARY)), "weight": c.weight },
        ]),
    }
}

fn virtual_service(r: &Resolved, svc: &Svc, stack: &mut Stack) {
    let host = fqdn(&svc.name, &svc.namespace);
    let http_ports: Vec<_> = svc.ports.iter().filter(|p| p.protocol != Protocol::Tcp).collect();
    if http_ports.is_empty() {
        return;
    }
    let mut hosts = vec![Value::from(host.clone())];
    let mut gateways = Vec::new();
    let mut routes = Vec::new();
    let single = svc.ports.len() == 1;
    let edge = svc.exposed(ExposeKind::Ingress);
    for (name, e) in &edge {
        hosts.push(Value::from(e.host.clone()));
        gateways.push(Value::from(gateway_ref(svc, name)));
        // The edge never reaches the metrics path of the exposed port: answered 404 at the gateway.
        if let Some((port, path)) = metrics_port(svc)
            && svc.ports.iter().any(|p| p.name == e.port_name && p.port == port)
        {
            let uri = |m: &str, v: String| json!({ "uri": { m: v }, "gateways": [gateway_ref(svc, name)] });
            let prefix = format!("{}/", path.trim_end_matches('/'));
            routes.push(json!({
                "match": [uri("exact", path.to_string()), uri("prefix", prefix)],
                "directResponse": { "status": 404 },
            }));
        }
        // From the gateway (port 443 there): the exposed port.
        if !single && let Some(port) = svc.exposed_port(e) {
            routes.push(http_route(svc, &host, Some(json!([{ "gateways": [gateway_ref(svc, name)] }])), port));
        }
    }
    if !gateways.is_empty() {
        gateways.push(Value::from("mesh"));
    }
    for port in http_ports {
        if single {
            routes.push(http_route(svc, &host, None, port));
        } else {
            let mut m = json!({ "port": port.service_port });
            if !edge.is_empty() {
                m["gateways"] = json!(["mesh"]);
            }
            routes.push(http_route(svc, &host, Some(json!([m])), port));
        }
    }
    let mut spec = json!({ "hosts": hosts, "http": routes });
    if !gateways.is_empty() {
        spec["gateways"] = Value::Array(gateways);
    }
    let labels = labels(&r.platform, &svc.name, "service");
    stack.objects.push(object(NETWORKING, "VirtualService", &svc.name, &svc.namespace, &labels, spec));
}

/// An HTTP route to `port` of the service (`matches` when the service has
/// more than one way in): its destinations, timeout and retries, and the
/// faults the description injects.
fn http_route(svc: &Svc, host: &str, matches: Option<Value>, port: &Port) -> Value {
    let t = &svc.traffic;
    let mut route = Map::new();
    if let Some(m) = matches {
        route.insert("match".into(), m);
    }
    route.insert("route".into(), destinations(svc, host, port.service_port));
    // Long-lived WebSocket sessions: no request timeout, no retries.
    if port.protocol != Protocol::Websocket {
        if let Some(ms) = t.timeout {
            route.insert("timeout".into(), Value::from(duration(ms.get())));
        }
        if let Some(rt) = &t.retries {
            route.insert("retries".into(), retries(rt));
        }
    }
    if let Some(f) = &t.fault
        && let Some(fault) = fault(f)
    {
        route.insert("fault".into(), fault);
    }
    Value::Object(route)
}

fn retries(rt: &Retries) -> Value {
    let mut retries = json!({
        "attempts": rt.attempts.unwrap_or(2),
        "retryOn": rt.retry_on.clone().unwrap_or_else(|| "5xx,reset,connect-failure,retriable-status-codes".into()),
    });
    if let Some(ms) = rt.per_try_timeout {
        retries["perTryTimeout"] = Value::from(duration(ms.get()));
    }
    retries
}

/// The delay and abort to inject, if any.
fn fault(f: &Fault) -> Option<Value> {
    let mut fault = Map::new();
    if let Some(d) = &f.delay {
        fault.insert(
            "delay".into(),
            json!({
                "percentage": { "value": d.percent.unwrap_or(100.0) },
                "fixedDelay": duration(d.fixed_delay.map_or(0, |m| m.get())),
            }),
        );
    }
    if let Some(a) = &f.abort {
        fault.insert(
            "abort".into(),
            json!({
                "percentage": { "value": a.percent.unwrap_or(100.0) },
                "httpStatus": a.http_status.unwrap_or(503),
            }),
        );
    }
    (!fault.is_empty()).then_some(Value::Object(fault))
}

fn destination_rule(r: &Resolved, svc: &Svc, stack: &mut Stack) {
    let t = &svc.traffic;
    let mut policy = json!({ "tls": { "mode": "ISTIO_MUTUAL" } });
    if let Some(c) = &t.connection_pool {
        let mut pool = Map::new();
        let mut tcp = Map::new();
        if let Some(n) = c.max_connections {
            tcp.insert("maxConnections".into(), n.into());
        }
        if let Some(ms) = c.connect_timeout {
            tcp.insert("connectTimeout".into(), duration(ms.get()).into());
        }
        let mut http = Map::new();
        if let Some(n) = c.http2_max_requests {
            http.insert("http2MaxRequests".into(), n.into());
        }
        if let Some(n) = c.http1_max_pending_requests {
            http.insert("http1MaxPendingRequests".into(), n.into());
        }
        if !tcp.is_empty() {
            pool.insert("tcp".into(), Value::Object(tcp));
        }
        if !http.is_empty() {
            pool.insert("http".into(), Value::Object(http));
        }
        if !pool.is_empty() {
            policy["connectionPool"] = Value::Object(pool);
        }
    }
    if let Some(o) = &t.outlier_detection {
        policy["outlierDetection"] = json!({
            "consecutive5xxErrors": o.consecutive5xx_errors.unwrap_or(5),
            "interval": duration(o.interval.map_or(10_000, |m| m.get())),
            "baseEjectionTime": duration(o.base_ejection_time.map_or(30_000, |m| m.get())),
            "maxEjectionPercent": o.max_ejection_percent.unwrap_or(50),
        });
    }
    match t.load_balancer {
        Some(lb) => policy["loadBalancer"] = json!({ "simple": lb.as_str() }),
        // WebSocket sessions stay on their pod (the Service's ClientIP
        // affinity does not apply behind a sidecar).
        None if svc.has_protocol(Protocol::Websocket) => {
            policy["loadBalancer"] = json!({ "consistentHash": { "useSourceIp": true } });
        }
        None => {}
    }
    let mut spec = json!({ "host": fqdn(&svc.name, &svc.namespace), "trafficPolicy": policy });
    if svc.canary.is_some() {
        spec["subsets"] = json!([
            { "name": STABLE, "labels": { TRACK: STABLE } },
            { "name": CANARY, "labels": { TRACK: CANARY } },
        ]);
    }
    let labels = labels(&r.platform, &svc.name, "service");
    stack.objects.push(object(NETWORKING, "DestinationRule", &svc.name, &svc.namespace, &labels, spec));
}

/// The metrics port of a service, when it has one.
fn metrics_port(svc: &Svc) -> Option<(u16, &str)> {
    let m = svc.metrics.as_ref()?;
    svc.ports.iter().find(|p| p.name == m.port_name).map(|p| (p.port, m.path.as_str()))
}

/// The scraper's mesh identity as an AuthorizationPolicy source: the
/// platform's own Prometheus by its service account, else any workload of
/// the monitoring namespace. `not`: the source of everyone else.
fn scraper_source(r: &Resolved, not: bool) -> Value {
    let (field, value) = match r.component("prometheus") {
        Some(p) => ("principals", principal(&p.namespace, &p.name)),
        None => ("namespaces", r.monitoring_namespace.clone()),
    };
    let field = if not { format!("not{}{}", field[..1].to_uppercase(), &field[1..]) } else { field.to_string() };
    json!({ field: [value] })
}

/// The metrics path on the metrics port, and below it.
fn metrics_paths(path: &str) -> Value {
    json!([path, format!("{}/*", path.trim_end_matches('/'))])
}

/// Metrics are the scraper's only: a DENY policy refuses the metrics path
/// on the metrics port to every other caller — the ingress gateway (even
/// with a valid token) and the declared callers, whose ALLOW rules admit
/// every path.
fn metrics_deny(r: &Resolved, name: &str, ns: &str, metrics: Option<(u16, &str)>, stack: &mut Stack) {
    let Some((port, path)) = metrics else { return };
    let labels = labels(&r.platform, name, "mesh");
    stack.objects.push(object(
        SECURITY,
        "AuthorizationPolicy",
        &format!("{name}-metrics"),
        ns,
        &labels,
        json!({
            "selector": match_labels(&r.platform, name),
            "action": "DENY",
            "rules": [{
                "from": [{ "source": scraper_source(r, true) }],
                "to": [{ "operation": { "ports": [port.to_string()], "paths": metrics_paths(path) } }],
            }],
        }),
    ));
}

fn request_authentication(r: &Resolved, svc: &Svc, stack: &mut Stack) {
    let Some(j) = &svc.traffic.jwt else { return };
    let mut rule = json!({ "issuer": j.issuer.clone().unwrap_or_default(), "forwardOriginalToken": true });
    if let Some(uri) = &j.jwks_uri {
        rule["jwksUri"] = Value::from(uri.clone());
    }
    if let Some(a) = j.audiences.as_ref().filter(|a| !a.is_empty()) {
        rule["audiences"] = json!(a);
    }
    let labels = labels(&r.platform, &svc.name, "mesh");
    stack.objects.push(object(
        SECURITY,
        "RequestAuthentication",
        &svc.name,
        &svc.namespace,
        &labels,
        json!({ "selector": match_labels(&r.platform, &svc.name), "jwtRules": [rule] }),
    ));
}

/// ALLOW policy of one server: its declared callers by identity; the ingress
/// gateway when exposed (with a valid JWT when the service requires one);
/// plaintext `GET` of the metrics path (`metrics`: port and path). A server
/// nobody may call gets a policy without rules, which denies everything.
fn authorization(
    r: &Resolved,
    name: &str,
    ns: &str,
    callers: Option<&BTreeSet<String>>,
    svc: Option<&Svc>,
    metrics: Option<(u16, &str)>,
    stack: &mut Stack,
) {
    let mut rules = Vec::new();
    if let Some(c) = callers.filter(|c| !c.is_empty()) {
        rules.push(json!({ "from": [{ "source": { "principals": c } }] }));
    }
    if let Some(s) = svc.filter(|s| !s.exposed(ExposeKind::Ingress).is_empty()) {
        let mut source = json!({ "principals": [principal(&r.ingress_namespace, GATEWAY_SA)] });
        if let Some(issuer) = s.traffic.jwt.as_ref().and_then(|j| j.issuer.as_ref()) {
            source["requestPrincipals"] = json!([format!("{issuer}/*")]);
        }
        rules.push(json!({ "from": [{ "source": source }] }));
    }
    if let Some(s) = svc {
        rules.extend(edge_rules(r, s));
    }
    if let Some((port, path)) = metrics {
        rules.push(json!({
            "from": [{ "source": scraper_source(r, false) }],
            "to": [{ "operation": { "ports": [port.to_string()], "methods": ["GET"], "paths": [path] } }],
        }));
    }
    let mut spec = json!({ "selector": match_labels(&r.platform, name), "action": "ALLOW" });
    if !rules.is_empty() {
        spec["rules"] = Value::Array(rules);
    }
    let labels = labels(&r.platform, name, "mesh");
    stack.objects.push(object(SECURITY, "AuthorizationPolicy", name, ns, &labels, spec));
}

/// ALLOW rules for the edges other than the Istio ingress gateway, each on
/// its exposed port: a Gateway API gateway by its namespace's identity
/// (its pods have a sidecar or are the mesh's own gateway); a LoadBalancer
/// or NodePort client from anywhere, as it has no identity (see [`public_ports`]).
fn edge_rules(r: &Resolved, svc: &Svc) -> Vec<Value> {
    let mut rules = Vec::new();
    for e in &svc.exposures {
        let Some(port) = svc.exposed_port(e) else { continue };
        let to = json!([{ "operation": { "ports": [port.port.to_string()] } }]);
        match (e.kind, &r.gateway) {
            (ExposeKind::Gateway, Some((ns, _))) => {
                rules.push(json!({ "from": [{ "source": { "namespaces": [ns] } }], "to": to }));
            }
            (ExposeKind::LoadBalancer | ExposeKind::NodePort, _) => rules.push(json!({ "to": to })),
            _ => {}
        }
    }
    rules
}

/// Clients of a LoadBalancer or NodePort port come from outside the mesh,
/// in plaintext, which the namespace's STRICT mutual TLS refuses: that port
/// alone is PERMISSIVE (its traffic is the public's anyway, TLS is the
/// app's), every other port of the pods stays STRICT.
fn public_ports(r: &Resolved, svc: &Svc, stack: &mut Stack) {
    let ports: BTreeSet<u16> = svc
        .exposures
        .iter()
        .filter(|e| matches!(e.kind, ExposeKind::LoadBalancer | ExposeKind::NodePort))
        .filter_map(|e| svc.exposed_port(e))
        .map(|p| p.port)
        .collect();
    if ports.is_empty() {
        return;
    }
    let levels: Map<String, Value> = ports.iter().map(|p| (p.to_string(), json!({ "mode": "PERMISSIVE" }))).collect();
    stack.objects.push(object(
        SECURITY,
        "PeerAuthentication",
        &format!("{}-public", svc.name),
        &svc.namespace,
        &labels(&r.platform, &svc.name, "mesh"),
        json!({
            "selector": match_labels(&r.platform, &svc.name),
            "mtls": { "mode": "STRICT" },
            "portLevelMtls": levels,
        }),
    ));
}

/// One ServiceEntry per external host in each namespace whose services (or
/// jobs) call it, visible in that namespace only.
fn service_entries(r: &Resolved, stack: &mut Stack) {
    for x in &r.external {
        let services = r.services.iter().filter(|s| s.uses.contains(&x.name)).map(|s| s.namespace.as_str());
        let batch = r.batch().filter(|j| j.uses.contains(&x.name)).map(|j| j.namespace.as_str());
        let namespaces: BTreeSet<&str> = services.chain(batch).collect();
        let (proto, pname) = match x.protocol {
            crate::description::ExternalProtocol::Https => ("TLS", format!("tls-{}", x.port)),
            crate::description::ExternalProtocol::Tcp => ("TCP", format!("tcp-{}", x.port)),
        };
        let labels = labels(&r.platform, &x.name, "external");
        for ns in namespaces {
            stack.objects.push(object(
                NETWORKING,
                "ServiceEntry",
                &x.name,
                ns,
                &labels,
                json!({
                    "hosts": [x.host],
                    "location": "MESH_EXTERNAL",
                    "resolution": "DNS",
                    "ports": [{ "number": x.port, "name": pname, "protocol": proto }],
                    "exportTo": ["."],
                }),
            ));
        }
    }
}
