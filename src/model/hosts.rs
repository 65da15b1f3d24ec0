//! Host names in configuration values: URLs (`postgres://u:p@db:5432/x`),
//! `host:port` pairs, and bare names in variables whose name says they hold
//! a host (`DB_HOST`, `API_URL`); and the Service a host names.

use crate::model::Value;

use super::At;

/// A host named in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRef {
    /// Lower-case, without a trailing dot.
    pub host: String,
    pub port: Option<i64>,
    /// Whether the value shows it is a host (a URL authority, a `host:port`,
    /// or the whole value of a host variable): only then may a single-label
    /// name (`api`) be read as a Service of the same namespace.
    pub sure: bool,
}

/// Variable-name endings that announce a host or an address.
const HOST_VARS: &[&str] = &[
    "HOST",
    "HOSTNAME",
    "HOSTS",
    "ADDR",
    "ADDRESS",
    "SERVER",
    "SERVERS",
    "ENDPOINT",
    "ENDPOINTS",
    "URL",
    "URLS",
    "URI",
    "DSN",
    "UPSTREAM",
    "BROKER",
    "BROKERS",
];

/// Variables that list who may call the workload, or what bypasses a proxy:
/// the hosts they name are not destinations.
const NOT_DESTINATIONS: &[&str] = &["NOPROXY", "ALLOWED", "ORIGIN", "CORS", "TRUSTED", "CSRF"];

/// Whether the hosts a variable names are places the workload connects to.
pub fn names_destinations(var: &str) -> bool {
    let v = normalized(var);
    !NOT_DESTINATIONS.iter().any(|s| v.contains(s))
}

/// Endings after which a sibling `…PORT` variable gives the port.
const PORT_SIBLINGS: &[&str] = &["HOSTNAME", "HOST", "ADDRESS", "ADDR", "SERVER"];

fn normalized(var: &str) -> String {
    var.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_uppercase()
}

/// Whether a variable (or ConfigMap key) name says it holds a host.
pub fn host_like(var: &str) -> bool {
    let v = normalized(var);
    HOST_VARS.iter().any(|s| v.ends_with(s))
}

/// The names of the variable that would hold the port for host variable
/// `var` (`DB_HOST` → `DB_PORT`, `redisHost` → `redisPort`).
pub fn port_siblings(var: &str) -> Vec<String> {
    let upper = var.to_ascii_uppercase();
    for s in PORT_SIBLINGS {
        if upper.ends_with(s) && var.len() > s.len() {
            let stem = &var[..var.len() - s.len()];
            return vec![format!("{stem}PORT"), format!("{stem}Port"), format!("{stem}port")];
        }
    }
    Vec::new()
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || ",;=\"'()/?#<>{}|`\\[]".contains(c)
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && !h.bytes().all(|b| b.is_ascii_digit() || b == b'.')
}

/// Every host that `value` (the value of variable `var`) names.
pub fn hosts_in(value: &str, var: &str) -> Vec<HostRef> {
    if !names_destinations(var) {
        return Vec::new();
    }
    let whole = value.trim();
    let mut out = Vec::new();
    let mut start = None;
    let bytes: Vec<(usize, char)> = value.char_indices().chain([(value.len(), ' ')]).collect();
    for &(i, ch) in &bytes {
        if !is_delimiter(ch) {
            start.get_or_insert(i);
            continue;
        }
        let Some(s) = start.take() else { continue };
        let token = &value[s..i];
        let mut sure = value[..s].ends_with("//");
        let mut t = token;
        if let Some((_, after)) = t.rsplit_once('@') {
            t = after;
            sure = true;
        }
        let (host, port) = match t.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, p.parse().ok()),
            // `redis:` (a scheme), `user:secret`: not hosts.
            Some(_) => continue,
            None => (t, None),
        };
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        if !valid_host(&host) {
            continue;
        }
        sure |= port.is_some() || (token == whole && host_like(var));
        out.push(HostRef { host, port, sure });
    }
    out
}

/// The Service a host names, seen from namespace `ns`: (Service object,
/// whether the name is one pod's of a headless Service).
pub fn service_of(cx: &super::Manifests, h: &HostRef, ns: &str) -> Option<(usize, bool)> {
    let labels: Vec<&str> = h.host.split('.').collect();
    let svc = |name: &str, ns: &str| cx.index.get("Service", ns, name);
    let headless = |i: usize| cx.objects[i].value.at("/spec/clusterIP").and_then(Value::as_str) == Some("None");
    if let Some(at) = labels.iter().position(|l| *l == "svc") {
        return match labels[..at] {
            [name, ns] => Some((svc(name, ns)?, false)),
            [_, name, ns] => svc(name, ns).filter(|&i| headless(i)).map(|i| (i, true)),
            _ => None,
        };
    }
    match labels[..] {
        [name] if h.sure => Some((svc(name, ns)?, false)),
        [name, other] => match svc(name, other) {
            Some(i) => Some((i, false)),
            None => svc(other, ns).filter(|&i| headless(i)).map(|i| (i, true)),
        },
        _ => None,
    }
}

/// In-cluster DNS name of a Service.
pub fn fqdn(name: &str, namespace: &str) -> String {
    format!("{name}.{namespace}.svc.cluster.local")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(host: &str, port: Option<i64>, sure: bool) -> HostRef {
        HostRef { host: host.into(), port, sure }
    }

    #[test]
    fn urls_pairs_and_host_variables() {
        let url = hosts_in("postgresql://app:pw@postgres.shop.svc:5432/db", "DATABASE_URL");
        assert_eq!(url, vec![h("postgres.shop.svc", Some(5432), true), h("db", None, false)]);
        assert_eq!(hosts_in("http://api/v1", "X"), vec![h("api", None, true), h("v1", None, false)]);
        assert_eq!(hosts_in("redis:6379", "CACHE"), vec![h("redis", Some(6379), true)]);
        assert_eq!(hosts_in("redis", "CACHE_HOST"), vec![h("redis", None, true)]);
        assert_eq!(hosts_in("redis", "CACHE_DRIVER"), vec![h("redis", None, false)]);
        assert_eq!(hosts_in("kafka-0.kafka:9092,kafka-1.kafka:9092", "BROKERS").len(), 2);
        assert!(
            hosts_in("redis://:$(REDIS_PASSWORD)@$(REDIS_HOST):$(REDIS_PORT)/0", "REDIS_URL").iter().all(|x| !x.sure)
        );
        assert!(hosts_in("10.0.0.1:80", "X").is_empty());
        assert!(hosts_in("api.shop,localhost", "NO_PROXY").is_empty());
        assert!(hosts_in("web.shop.svc", "ALLOWED_HOSTS").is_empty());
    }

    #[test]
    fn siblings() {
        assert_eq!(port_siblings("POSTGRES_HOST")[0], "POSTGRES_PORT");
        assert_eq!(port_siblings("redisHost")[1], "redisPort");
        assert!(port_siblings("API_URL").is_empty());
    }
}
