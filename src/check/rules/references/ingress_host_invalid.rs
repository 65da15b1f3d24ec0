use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP321: an Ingress host the API server rejects, or a wildcard host.
pub struct IngressHostInvalid;

static META: Meta = Meta {
    code: "KP321",
    name: "ingress-host-invalid",
    family: Family::References,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "an Ingress host is not a DNS name (scheme, port, path, IP, misplaced `*`), or is a wildcard",
    what: "Checks `spec.rules[].host` and `spec.tls[].hosts[]` of Ingresses as the API server validates them: \
           a lower-case DNS subdomain (RFC 1123), not an IP address, with `*` allowed only as the whole first \
           label (`*.example.com`). A scheme (`https://`), a port, a path, upper case, a bare `*` or a `*` \
           elsewhere (`a.*.com`) is an error. A valid wildcard host is reported as info: it matches exactly \
           one label.",
    why: "The API server refuses the whole Ingress when one host is invalid, so the apply fails (or, with a \
          GitOps tool, the sync keeps failing) and none of its routes exist. A URL pasted where a host \
          belongs is the usual cause. A wildcard is legal, but `*.example.com` matches `shop.example.com` \
          only: neither `example.com` nor `a.shop.example.com`, which then fall to the default backend.",
    fix: "Write the bare host name (`shop.example.com`): the scheme comes from `tls`, the port from the \
          controller's listeners, the path from `paths`. For a wildcard, add a rule for the apex name too if \
          it must be served, and one wildcard per level.",
    fail: r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop, namespace: shop }
spec:
  tls:
    - hosts: [shop.example.com]
      secretName: shop-tls
  rules:
    - host: https://shop.example.com/
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
"#,
    pass: r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: shop, namespace: shop }
spec:
  tls:
    - hosts: [shop.example.com]
      secretName: shop-tls
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: { service: { name: web, port: { number: 80 } } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ghcr.io/example/web:1.0.0
          ports: [{ containerPort: 8080 }]
"#,
};

/// Why the API server rejects `host`, if it does.
pub fn invalid(host: &str) -> Option<String> {
    if host.is_empty() {
        return None;
    }
    if let Some((scheme, _)) = host.split_once("://") {
        return Some(format!("has a scheme (`{scheme}://`): the scheme comes from `tls`"));
    }
    if host.contains('/') {
        return Some("has a path: paths go in `http.paths`".into());
    }
    if host.parse::<std::net::IpAddr>().is_ok() || host.trim_matches(['[', ']']).parse::<std::net::Ipv6Addr>().is_ok() {
        return Some("is an IP address: an Ingress host must be a DNS name".into());
    }
    if host.rsplit_once(':').is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return Some("has a port: the port comes from the controller's listeners".into());
    }
    let name = match host.strip_prefix("*.") {
        Some(rest) => rest,
        None if host.contains('*') => {
            return Some("has a `*` that is not the whole first label (only `*.example.com` is allowed)".into());
        }
        None => host,
    };
    if name.contains('*') {
        return Some("has a `*` that is not the whole first label (only `*.example.com` is allowed)".into());
    }
    if host.len() > 253 {
        return Some("is longer than 253 characters".into());
    }
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some("has upper-case letters: DNS names in Kubernetes are lower case".into());
    }
    if !name.split('.').all(crate::model::is_label) {
        return Some("is not a DNS name (lower-case letters, digits, `-` and `.` between labels)".into());
    }
    None
}

impl Check for IngressHostInvalid {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("Ingress") {
            let o = &cx.objects[i];
            let rules = o.value.at("/spec/rules").and_then(Value::as_array).unwrap_or_default();
            let rule_hosts =
                rules.iter().enumerate().map(|(r, rule)| (format!("/spec/rules/{r}/host"), rule.get("host")));
            let tls = o.value.at("/spec/tls").and_then(Value::as_array).unwrap_or_default();
            let tls_hosts = tls.iter().enumerate().flat_map(|(t, entry)| {
                let hosts = entry.get("hosts").and_then(Value::as_array).unwrap_or_default();
                hosts.iter().enumerate().map(move |(h, v)| (format!("/spec/tls/{t}/hosts/{h}"), Some(v)))
            });
            for (pointer, host) in rule_hosts.chain(tls_hosts) {
                let Some(host) = host.and_then(Value::as_str) else { continue };
                if let Some(why) = invalid(host) {
                    out.report(i, pointer, format!("host `{host}` {why}; the API server rejects the Ingress"))
                        .help("write the bare host name, e.g. `shop.example.com`");
                } else if let Some(rest) = host.strip_prefix("*.") {
                    let f = out.report(
                        i,
                        pointer,
                        format!("wildcard host `{host}` matches one label only: not `{rest}`, nor `a.b.{rest}`"),
                    );
                    f.severity = Severity::Info;
                    f.help(format!("add a rule for `{rest}` if the apex name must be served too"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::invalid;

    #[test]
    fn hosts_as_the_api_server_validates_them() {
        for ok in ["shop.example.com", "*.example.com", "a-b.c1", "localhost", "xn--bcher-kva.example"] {
            assert_eq!(invalid(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("https://shop.example.com", "scheme"),
            ("http://shop.example.com/", "scheme"),
            ("shop.example.com:8443", "port"),
            ("shop.example.com/api", "path"),
            ("10.0.0.1", "IP address"),
            ("::1", "IP address"),
            ("*", "first label"),
            ("a.*.com", "first label"),
            ("*.*.example.com", "first label"),
            ("Shop.example.com", "upper-case"),
            ("shop_app.example.com", "not a DNS name"),
            ("shop.example.com.", "not a DNS name"),
            ("-shop.example.com", "not a DNS name"),
        ] {
            let got = invalid(bad).unwrap_or_default();
            assert!(got.contains(why), "{bad}: {got:?}");
        }
    }
}
