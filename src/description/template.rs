//! Environment values that name what a service connects to
//! (`"${cart.host}:${cart.port}"`) or refer to another variable (`$(VAR)`),
//! as written: the text split into literal parts and references. They are
//! resolved against the whole platform in [`super::wiring`].

use std::collections::BTreeMap;

use super::resolve::{Ext, JobR, Resolved, Store, Svc};
use super::wiring::{Var, Wiring, credentials_secret, env_prefix};
use super::{ExternalProtocol, Protocol};
use crate::diag::Pos;
use crate::engines::Env;
use crate::model::hosts::fqdn;

/// One `env` value with a `${target.field}` or a `$(VAR)` in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvTemplate {
    /// The variable's name.
    pub name: String,
    pub parts: Vec<Part>,
    /// Where the value is written.
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text as written; may hold `$(VAR)` references for the kubelet.
    Text(String),
    /// `${target.field}`; `field` may itself have a dot (`port.grpc`).
    Ref { target: String, field: String },
}

impl EnvTemplate {
    /// The targets its `${...}` references name.
    pub fn targets(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Ref { target, .. } => Some(target.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The variables its `$(VAR)` references name, in order.
    pub fn expands(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for p in &self.parts {
            if let Part::Text(t) = p {
                out.extend(kubelet_refs(t));
            }
        }
        out
    }
}

/// Whether `value` is a template: it holds `${` or `$(`.
pub fn is_template(value: &str) -> bool {
    value.contains("${") || value.contains("$(")
}

/// Splits `value` into text and `${target.field}` references.
pub fn parse(name: &str, value: &str, pos: Pos) -> Result<EnvTemplate, String> {
    let mut parts = Vec::new();
    let mut rest = value;
    while let Some(i) = rest.find("${") {
        if i > 0 {
            parts.push(Part::Text(rest[..i].to_string()));
        }
        let inner = &rest[i + 2..];
        let Some(end) = inner.find('}') else {
            return Err(format!("`{name}`: `${{` without its closing `}}` in {value:?}"));
        };
        let reference = &inner[..end];
        let Some((target, field)) = reference.split_once('.').filter(|(t, f)| !t.is_empty() && !f.is_empty()) else {
            return Err(format!("`{name}`: `${{{reference}}}` is not `${{TARGET.FIELD}}`"));
        };
        parts.push(Part::Ref { target: target.to_string(), field: field.to_string() });
        rest = &inner[end + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    Ok(EnvTemplate { name: name.to_string(), parts, pos })
}

/// The names of the `$(VAR)` references in `text`, as the kubelet reads
/// them (`$$` escapes a `$`).
pub fn kubelet_refs(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("$$") {
            rest = t;
        } else if let Some((name, t)) = tail.strip_prefix("$(").and_then(|t| t.split_once(')')) {
            out.push(name);
            rest = t;
        } else {
            rest = &tail[1..];
        }
    }
    out
}

/// `s` percent-encoded for any part of a URL: everything but RFC 3986's
/// unreserved characters.
pub fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------- resolving

/// What templates are resolved for: a service, a job or a cronjob's job.
#[derive(Debug, Clone, Copy)]
pub struct Client<'a> {
    pub name: &'a str,
    pub uses: &'a [String],
    pub templates: &'a [EnvTemplate],
    /// Its plain values and secrets: what `$(VAR)` may name besides `uses`.
    pub env: &'a BTreeMap<String, String>,
    pub secrets: &'a [String],
    /// Whether it gets the OpenTelemetry variables when tracing is on.
    pub traced: bool,
}

impl Svc {
    pub fn client(&self) -> Client<'_> {
        Client {
            name: &self.name,
            uses: &self.uses,
            templates: &self.templates,
            env: &self.env,
            secrets: &self.secrets,
            traced: self.component.is_none(),
        }
    }
}

impl JobR {
    pub fn client(&self) -> Client<'_> {
        Client {
            name: &self.name,
            uses: &self.uses,
            templates: &self.templates,
            env: &self.env,
            secrets: &self.secrets,
            // A job's container gets no OpenTelemetry variables.
            traced: false,
        }
    }
}

/// A part of a resolved template.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    /// Text kubeproof resolved (a host, a port): a `$` in it is literal.
    Text(String),
    /// Text as the description wrote it: `$(VAR)` is for the kubelet.
    Written(String),
    /// A Secret's key, read into the container variable `var` first.
    Secret { var: String, secret: String, key: String },
}

/// A mistake in an `env` template, at the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub pos: Pos,
    pub message: String,
    pub help: Option<String>,
}

/// The suffix of the Secret key holding the percent-encoded form of
/// another: the kubelet cannot encode, so URLs read this one.
pub const URL_ENCODED: &str = "_URLENCODED";

/// The fields `${target.FIELD}` may name for `target`, with their pieces.
fn fields(r: &Resolved, target: &str) -> Vec<(String, Vec<Piece>)> {
    if let Some(store) = r.datastore(target) {
        store_fields(store)
    } else if let Some(other) = r.service(target) {
        service_fields(other)
    } else if let Some(ext) = r.external(target) {
        external_fields(ext)
    } else {
        Vec::new()
    }
}

fn text(s: impl Into<String>) -> Vec<Piece> {
    vec![Piece::Text(s.into())]
}

/// A service's host, its first port and each by name, and a URL for each
/// port with a scheme (HTTP, websocket).
fn service_fields(s: &Svc) -> Vec<(String, Vec<Piece>)> {
    let host = fqdn(&s.name, &s.namespace);
    let mut out = vec![("host".to_string(), text(&host))];
    for (i, p) in s.ports.iter().enumerate() {
        let scheme = match p.protocol {
            Protocol::Http => Some("http"),
            Protocol::Websocket => Some("ws"),
            Protocol::Grpc | Protocol::Tcp => None,
        };
        let url = scheme.map(|sc| text(format!("{sc}://{host}:{}", p.service_port)));
        if i == 0 {
            out.push(("port".into(), text(p.service_port.to_string())));
            out.extend(url.clone().map(|u| ("url".to_string(), u)));
        }
        out.push((format!("port.{}", p.name), text(p.service_port.to_string())));
        out.extend(url.map(|u| (format!("url.{}", p.name), u)));
    }
    out
}

fn external_fields(e: &Ext) -> Vec<(String, Vec<Piece>)> {
    let mut out = vec![("host".to_string(), text(&e.host)), ("port".to_string(), text(e.port.to_string()))];
    if e.protocol == ExternalProtocol::Https {
        let url = if e.port == 443 { format!("https://{}", e.host) } else { format!("https://{}:{}", e.host, e.port) };
        out.push(("url".into(), text(url)));
    }
    out
}

/// A datastore's fields, read off its engine's wiring (written for the
/// prefix `P`): what it puts in the ConfigMap, the Secret keys it reads, and
/// the URL it composes, whose parts are percent-encoded here.
fn store_fields(store: &Store) -> Vec<(String, Vec<Piece>)> {
    let w = store.engine.wiring("P", &store.instance());
    let secret = credentials_secret(&store.name);
    let prefix = env_prefix(&store.name);
    let field = |var: &str| match var.strip_prefix("P_").unwrap_or(var) {
        "HOST" => "host",
        "PORT" => "port",
        "DATABASE" => "database",
        "USER" | "ACCESS_KEY" => "user",
        "PASSWORD" | "SECRET_KEY" => "password",
        "URL" | "URI" | "ENDPOINT" => "url",
        _ => "",
    };
    // Each part by its variable: as itself, and as it goes into a URL.
    let mut parts: Vec<(String, Piece, Piece)> = vec![
        ("P_HOST".into(), Piece::Text(store.instance().host), Piece::Text(store.instance().host)),
        (
            "P_PORT".into(),
            Piece::Text(store.engine.client_port().to_string()),
            Piece::Text(store.engine.client_port().to_string()),
        ),
    ];
    for (name, value) in &w.config {
        parts.push((name.clone(), Piece::Text(value.clone()), Piece::Text(url_encode(value))));
    }
    let mut url = None;
    for e in &w.env {
        match e {
            Env::Secret { name, key } => {
                let piece = |key: String| Piece::Secret {
                    var: format!("KUBEPROOF_{prefix}_{key}"),
                    secret: secret.clone(),
                    key,
                };
                // An engine's URL reads the encoded keys already.
                let in_url = if key.ends_with(URL_ENCODED) { key.to_string() } else { format!("{key}{URL_ENCODED}") };
                parts.push((name.clone(), piece(key.to_string()), piece(in_url)));
            }
            Env::Value { name, value } if field(name) == "url" => url = Some(value.clone()),
            Env::Value { .. } => {}
        }
    }
    let mut out: Vec<(String, Vec<Piece>)> = parts
        .iter()
        .filter(|(v, ..)| !field(v).is_empty())
        .map(|(v, raw, _)| (field(v).to_string(), vec![raw.clone()]))
        .collect();
    if let Some(u) = url {
        out.push(("url".into(), compose(&u, &parts)));
    }
    out
}

/// An engine's URL (`scheme://$(P_USER):$(P_PASSWORD)@…`) with each
/// `$(VAR)` replaced by its URL form.
fn compose(url: &str, parts: &[(String, Piece, Piece)]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = url;
    while let Some(i) = rest.find("$(") {
        let Some((name, tail)) = rest[i + 2..].split_once(')') else { break };
        out.push(Piece::Text(rest[..i].to_string()));
        match parts.iter().find(|(v, ..)| v == name) {
            Some((_, _, in_url)) => out.push(in_url.clone()),
            None => out.push(Piece::Text(format!("$({name})"))),
        }
        rest = tail;
    }
    out.push(Piece::Text(rest.to_string()));
    out.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    out
}

/// `t`'s pieces, or why it cannot be resolved.
fn pieces(r: &Resolved, svc: Client, t: &EnvTemplate) -> Result<Vec<Piece>, TemplateError> {
    let mut out = Vec::new();
    for part in &t.parts {
        let (target, field) = match part {
            Part::Text(s) => {
                out.push(Piece::Written(s.clone()));
                continue;
            }
            Part::Ref { target, field } => (target, field),
        };
        let err = |message: String, help: Option<String>| TemplateError { pos: t.pos, message, help };
        let reference = format!("`${{{target}.{field}}}` in `{}`", t.name);
        let known = r.datastore(target).is_some() || r.service(target).is_some() || r.external(target).is_some();
        if !known {
            let uses = svc.uses.join(", ");
            let help = if uses.is_empty() {
                "declare it under `uses`".to_string()
            } else {
                format!("`{}` uses: {uses}", svc.name)
            };
            return Err(err(
                format!("{reference}: no service, datastore or external host is named `{target}`"),
                Some(help),
            ));
        }
        if !svc.uses.iter().any(|u| u == target) {
            return Err(err(
                format!("{reference}: `{}` does not use `{target}`", svc.name),
                Some(format!("add `{target}` to `uses`")),
            ));
        }
        let all = fields(r, target);
        match all.iter().find(|(n, _)| n == field) {
            Some((_, p)) => out.extend(p.iter().cloned()),
            None => {
                let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
                return Err(err(
                    format!("{reference}: `{target}` has no field `{field}`"),
                    Some(format!("fields of `{target}`: {}", names.join(", "))),
                ));
            }
        }
    }
    Ok(out)
}

/// Whether `t` must be set in the container: it has a secret part or a
/// `$(VAR)` for the kubelet.
fn in_container(t: &EnvTemplate, pieces: &[Piece]) -> bool {
    !t.expands().is_empty() || pieces.iter().any(|p| matches!(p, Piece::Secret { .. }))
}

/// The container-set templates in an order where each comes after the
/// ones its `$(VAR)` names; `Err` with the names in a cycle.
fn ordered<'a>(set: &[&'a EnvTemplate]) -> Result<Vec<&'a EnvTemplate>, Vec<String>> {
    let mut left: Vec<&EnvTemplate> = set.to_vec();
    let mut out: Vec<&EnvTemplate> = Vec::new();
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            t.expands().iter().all(|v| *v == t.name || !left.iter().any(|o| o.name == *v))
                && !t.expands().contains(&t.name.as_str())
        });
        match ready {
            Some(i) => out.push(left.remove(i)),
            None => return Err(left.iter().map(|t| t.name.clone()).collect()),
        }
    }
    Ok(out)
}

/// Adds `svc`'s resolved templates to its wiring: plain text to the
/// ConfigMap; the others, after the Secret keys they read, to the container.
pub fn apply(r: &Resolved, svc: Client, w: &mut Wiring) {
    let mut container = Vec::new();
    let mut resolved = Vec::new();
    for t in svc.templates {
        let Ok(p) = pieces(r, svc, t) else { continue };
        if in_container(t, &p) {
            container.push(t);
            resolved.push((t.name.clone(), p));
        } else {
            let joined = p.iter().map(|x| match x {
                Piece::Text(s) | Piece::Written(s) => s.as_str(),
                Piece::Secret { .. } => "",
            });
            w.values.insert(t.name.clone(), joined.collect());
        }
    }
    let order = ordered(&container).unwrap_or(container);
    for t in order {
        let Some((_, p)) = resolved.iter().find(|(n, _)| *n == t.name) else { continue };
        let mut value = String::new();
        for x in p {
            match x {
                Piece::Text(s) => value.push_str(&s.replace('$', "$$")),
                Piece::Written(s) => value.push_str(s),
                Piece::Secret { var, secret, key } => {
                    let v = Var::Secret { name: var.clone(), secret: secret.clone(), key: key.clone() };
                    if !w.templated.contains(&v) {
                        w.templated.push(v);
                    }
                    value.push_str(&format!("$({var})"));
                }
            }
        }
        w.templated.push(Var::Value { name: t.name.clone(), value });
    }
    // Secret-sourced parts before every value that composes them.
    w.templated.sort_by_key(|v| matches!(v, Var::Value { .. }));
}

/// The mistakes in `svc`'s templates.
pub fn errors(r: &Resolved, svc: Client) -> Vec<TemplateError> {
    let mut out = Vec::new();
    let mut container = Vec::new();
    for t in svc.templates {
        match pieces(r, svc, t) {
            Ok(p) if in_container(t, &p) => container.push(t),
            Ok(_) => {}
            Err(e) => out.push(e),
        }
    }
    out.extend(unset_references(r, svc, &container));
    if let Err(cycle) = ordered(&container) {
        let pos = svc.templates.iter().find(|t| cycle.contains(&t.name)).map_or(Pos::UNKNOWN, |t| t.pos);
        out.push(TemplateError {
            pos,
            message: format!("`$(VAR)` references in a cycle: {}", cycle.join(", ")),
            help: Some("a variable can only name variables set before it".into()),
        });
    }
    out
}

/// `$(VAR)` references to variables the container does not have: the
/// kubelet would pass them on as written.
fn unset_references(r: &Resolved, svc: Client, container: &[&EnvTemplate]) -> Vec<TemplateError> {
    let w = super::wiring::wiring(r, svc);
    let otel = r.telemetry.tracing.is_some() && svc.traced;
    let set = |v: &str| {
        v == "LOG_LEVEL"
            || w.names().any(|n| n == v)
            || w.values.contains_key(v)
            || svc.env.contains_key(v)
            || svc.secrets.iter().any(|s| s == v)
            || container.iter().any(|t| t.name == v)
            || (otel && super::telemetry::OTEL_VARIABLES.contains(&v))
    };
    let mut out = Vec::new();
    for t in container {
        for v in t.expands().into_iter().filter(|v| !set(v)) {
            out.push(TemplateError {
                pos: t.pos,
                message: format!("`$({v})` in `{}` names no variable of the container", t.name),
                help: Some(format!(
                    "the kubelet would leave `$({v})` as written: name a variable of `env`, `secrets` or what `uses` \
                     sets, or write `$$({v})` for the text itself"
                )),
            });
        }
    }
    out
}

/// The `_URLENCODED` keys `store`'s credentials Secret must hold: those the
/// URLs of any service's templates read.
pub fn encoded_keys(r: &Resolved, store: &Store) -> Vec<String> {
    let secret = credentials_secret(&store.name);
    let mut keys: Vec<String> = Vec::new();
    let clients = r.services.iter().map(Svc::client).chain(r.batch().map(JobR::client));
    for client in clients {
        let mut w = Wiring::default();
        apply(r, client, &mut w);
        for v in w.templated {
            if let Var::Secret { secret: s, key, .. } = v
                && s == secret
                && key.ends_with(URL_ENCODED)
                && !keys.contains(&key)
            {
                keys.push(key);
            }
        }
    }
    keys.sort();
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Part {
        Part::Text(s.into())
    }

    fn reference(t: &str, f: &str) -> Part {
        Part::Ref { target: t.into(), field: f.into() }
    }

    #[test]
    fn references_and_text() {
        let t = parse("ADDR", "${cart.host}:${cart.port.grpc}/x", Pos::UNKNOWN).expect("parses");
        assert_eq!(t.parts, [reference("cart", "host"), text(":"), reference("cart", "port.grpc"), text("/x")]);
        assert_eq!(t.targets().collect::<Vec<_>>(), ["cart", "cart"]);
        assert!(is_template("a$(B)") && is_template("${a.b}") && !is_template("$HOME and $"));
    }

    #[test]
    fn malformed_references() {
        assert!(parse("A", "${db.url", Pos::UNKNOWN).unwrap_err().contains("without its closing"));
        assert!(parse("A", "${db}", Pos::UNKNOWN).unwrap_err().contains("is not `${TARGET.FIELD}`"));
        assert!(parse("A", "${.url}", Pos::UNKNOWN).is_err());
    }

    #[test]
    fn kubelet_references() {
        assert_eq!(kubelet_refs("$(A)-$$(B)-$(C)-$D-$("), ["A", "C"]);
    }

    #[test]
    fn encodes_all_but_unreserved() {
        assert_eq!(url_encode("p@ss/w:rd% x~é"), "p%40ss%2Fw%3Ard%25%20x~%C3%A9");
    }

    const PLATFORM: &str = r#"apiVersion: kubeproof.dev/v1alpha1
name: shop
cluster: { kubernetes: "1.30" }
services:
  cart:
    image: ghcr.io/example/cart:1.0.0
    ports: [{ name: grpc, port: 7070, protocol: grpc }, { name: admin, port: 9000, servicePort: 80 }]
  web:
    image: ghcr.io/example/web:1.0.0
    port: 8080
    uses: [cart, graph, pay, db, cache]
    env:
      CART: "${cart.host}:${cart.port}"
      ADMIN: "${cart.url.admin}"
      ADMIN_PORT: "${cart.port.admin}"
      GRAPH_USER: "${graph.user}"
      PAY: "${pay.url}"
      DB_NAME: "${db.database}"
      DB_PASS: "x$(DB_NAME)${db.password}"
      DB_URL: "${db.url}"
datastores:
  graph: { engine: neo4j, storage: 1Gi }
  db: { engine: postgres, storage: 1Gi, database: orders }
  cache: { engine: redis, storage: 1Gi }
external:
  pay: { host: api.pay.example, port: 8443 }
"#;

    fn wired() -> (Resolved, Wiring) {
        let p = crate::description::parse(PLATFORM, std::path::Path::new("p.yaml")).expect("parses");
        let r = crate::description::resolve::resolve(&p, None, std::path::Path::new("p.yaml")).expect("resolves");
        let web = r.service("web").expect("web");
        let w = super::super::wiring::wiring(&r, web.client());
        (r, w)
    }

    #[test]
    fn fields_of_each_kind_of_target() {
        let (_, w) = wired();
        let value = |k: &str| w.values.get(k).map(String::as_str);
        assert_eq!(value("CART"), Some("cart.shop.svc.cluster.local:7070"));
        assert_eq!(value("ADMIN"), Some("http://cart.shop.svc.cluster.local:80"));
        assert_eq!(value("ADMIN_PORT"), Some("80"));
        assert_eq!(value("GRAPH_USER"), Some("neo4j"));
        assert_eq!(value("PAY"), Some("https://api.pay.example:8443"));
        assert_eq!(value("DB_NAME"), Some("orders"));
        assert_eq!(w.values.len(), 6, "{:?}", w.values);
    }

    #[test]
    fn templated_targets_lose_their_defaults_others_keep_them() {
        let (_, w) = wired();
        let names: Vec<&str> = w.names().collect();
        assert!(!names.iter().any(|n| n.starts_with("CART_") || n.starts_with("DB_") || n.starts_with("GRAPH_")));
        assert!(["CACHE_HOST", "CACHE_PORT", "CACHE_PASSWORD", "CACHE_URL"].iter().all(|n| names.contains(n)));
        // Credentials are still copied for every datastore used.
        assert_eq!(w.credentials, ["graph", "db", "cache"]);
    }

    #[test]
    fn secret_parts_are_read_first_and_urls_read_encoded_keys() {
        let (r, w) = wired();
        let secret =
            |name: &str, key: &str| Var::Secret { name: name.into(), secret: "db-credentials".into(), key: key.into() };
        let value = |name: &str, v: &str| Var::Value { name: name.into(), value: v.into() };
        assert_eq!(
            w.templated,
            [
                secret("KUBEPROOF_DB_POSTGRES_PASSWORD", "POSTGRES_PASSWORD"),
                secret("KUBEPROOF_DB_POSTGRES_USER_URLENCODED", "POSTGRES_USER_URLENCODED"),
                secret("KUBEPROOF_DB_POSTGRES_PASSWORD_URLENCODED", "POSTGRES_PASSWORD_URLENCODED"),
                value("DB_PASS", "x$(DB_NAME)$(KUBEPROOF_DB_POSTGRES_PASSWORD)"),
                value(
                    "DB_URL",
                    "postgresql://$(KUBEPROOF_DB_POSTGRES_USER_URLENCODED):$(KUBEPROOF_DB_POSTGRES_PASSWORD_URLENCODED)\
                     @db.shop.svc.cluster.local:5432/orders"
                ),
            ]
        );
        let keys = |name: &str| encoded_keys(&r, r.datastore(name).expect("a datastore"));
        assert_eq!(keys("db"), ["POSTGRES_PASSWORD_URLENCODED", "POSTGRES_USER_URLENCODED"]);
        assert!(keys("cache").is_empty() && keys("graph").is_empty());
    }

    #[test]
    fn container_values_follow_the_ones_they_name() {
        let t = |name: &str, v: &str| parse(name, v, Pos::UNKNOWN).expect("parses");
        let (a, b, c) = (t("A", "$(B)"), t("B", "$(C)"), t("C", "$(LOG_LEVEL)"));
        let order: Vec<String> = ordered(&[&a, &b, &c]).expect("no cycle").iter().map(|t| t.name.clone()).collect();
        assert_eq!(order, ["C", "B", "A"]);
        let d = t("D", "$(D)");
        assert_eq!(ordered(&[&d]).unwrap_err(), ["D"]);
    }
}
