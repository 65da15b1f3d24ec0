use crate::model::At;
use crate::model::Value;

use super::{service_namespaces, service_of, service_pods};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP505: a DestinationRule's TLS mode contradicts the PeerAuthentication of its pods.
pub struct TlsContradictsPeerAuthentication;

static META: Meta = Meta {
    code: "KP505",
    name: "destinationrule-tls-contradicts-peer-authentication",
    family: Family::Mesh,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a DestinationRule's TLS mode contradicts the PeerAuthentication of the pods it leads to",
    what: "For every DestinationRule of an in-cluster host with a TLS mode (in `trafficPolicy` or a \
           `portLevelSettings` entry), finds the PeerAuthentication that governs the Service's pods — one whose \
           selector matches them, else the namespace's (no selector), else the mesh-wide one in \
           `istio-system` — and compares: under STRICT the client must send Istio mutual TLS \
           (`ISTIO_MUTUAL`); under DISABLE it must not.",
    why: "Callers then speak plaintext (DISABLE) or their own TLS (SIMPLE, MUTUAL) to a sidecar that only \
          accepts Istio mTLS, or Istio mTLS to one that accepts none: every connection is reset, and the \
          two objects are usually in different files written by different teams.",
    fix: "Use `tls: { mode: ISTIO_MUTUAL }` (or drop the TLS settings: auto mTLS does the right thing) for \
          hosts in STRICT namespaces; relax the PeerAuthentication only if the callers are outside the mesh.",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews.shop.svc.cluster.local
  trafficPolicy:
    tls: { mode: DISABLE }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: shop }
spec:
  mtls: { mode: STRICT }
---
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: shop }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, version: v1 } }
  template:
    metadata: { labels: { app: reviews, version: v1 } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.4.2 }]
---
# Selects version v2 only: the v1 pods stay under the namespace's STRICT.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews-v2, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, version: v2 } }
  mtls: { mode: DISABLE }
---
# Of another namespace: it governs no pod of shop.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews, namespace: billing }
spec:
  selector: { matchLabels: { app: reviews } }
  mtls: { mode: DISABLE }
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews.shop.svc.cluster.local
  trafficPolicy:
    tls: { mode: ISTIO_MUTUAL }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: legacy, namespace: shop }
spec:
  host: legacy
  trafficPolicy:
    tls: { mode: DISABLE }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: shop }
spec:
  mtls: { mode: STRICT }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: legacy, namespace: shop }
spec:
  selector: { matchLabels: { app: legacy } }
  mtls: { mode: DISABLE }
---
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: shop }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: v1
kind: Service
metadata: { name: legacy, namespace: shop }
spec:
  selector: { app: legacy }
  ports: [{ name: http, port: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: legacy, namespace: shop }
spec:
  selector: { matchLabels: { app: legacy } }
  template:
    metadata: { labels: { app: legacy } }
    spec:
      containers: [{ name: legacy, image: ghcr.io/acme/legacy:2.0.1 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, version: v1 } }
  template:
    metadata: { labels: { app: reviews, version: v1 } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.4.2 }]
---
# Selects version v2 only: the v1 pods stay under the namespace's STRICT.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews-v2, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, version: v2 } }
  mtls: { mode: DISABLE }
---
# Of another namespace: it governs no pod of shop.
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: reviews, namespace: billing }
spec:
  selector: { matchLabels: { app: reviews } }
  mtls: { mode: DISABLE }
"#,
};

/// The mTLS mode that governs the pods of Service `svc` (when it is in the
/// set) in namespace `ns`, and the PeerAuthentication that sets it.
fn governing<'a>(cx: &'a Context, by_ns: &ByNs, ns: &str, svc: Option<usize>) -> Option<(&'a str, usize)> {
    let mode = |i: usize| -> Option<&'a str> {
        cx.objects[i].value.at("/spec/mtls/mode").and_then(Value::as_str).filter(|m| *m != "UNSET")
    };
    let peer_auths = by_ns.get(ns).map_or(&[][..], Vec::as_slice);
    let has_selector = |i: usize| {
        cx.objects[i].value.at("/spec/selector/matchLabels").and_then(Value::as_object).is_some_and(|m| !m.is_empty())
    };
    // A workload policy wins; it matches when it selects a pod of the Service.
    let workload: Vec<usize> = peer_auths.iter().copied().filter(|&i| has_selector(i)).collect();
    if !workload.is_empty() {
        let svc = svc?;
        let pods = service_pods(cx, svc);
        for &i in &workload {
            let Some(sel) = cx.objects[i].value.at("/spec/selector/matchLabels").and_then(Value::as_object) else {
                continue;
            };
            let selects = pods.iter().any(|t| sel.iter().all(|(k, v)| t.labels.get(k.as_str()) == v.as_str()));
            if selects {
                return mode(i).map(|m| (m, i)).or_else(|| namespace_wide(cx, by_ns, ns, &mode));
            }
        }
    }
    namespace_wide(cx, by_ns, ns, &mode)
}

/// PeerAuthentications by namespace.
type ByNs<'a> = std::collections::HashMap<&'a str, Vec<usize>>;

fn namespace_wide<'a>(
    cx: &'a Context,
    by_ns: &ByNs,
    ns: &str,
    mode: &dyn Fn(usize) -> Option<&'a str>,
) -> Option<(&'a str, usize)> {
    let unselective = |n: &str| {
        by_ns.get(n).into_iter().flatten().copied().find(|&i| {
            let o = &cx.objects[i];
            o.value.at("/spec/selector/matchLabels").and_then(Value::as_object).is_none_or(|m| m.is_empty())
        })
    };
    for n in [ns, "istio-system"] {
        if let Some(i) = unselective(n)
            && let Some(m) = mode(i)
        {
            return Some((m, i));
        }
    }
    None
}

impl Check for TlsContradictsPeerAuthentication {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        if cx.index.of_kind("PeerAuthentication").is_empty() {
            return;
        }
        let service_ns = service_namespaces(cx);
        let mut by_ns: ByNs = ByNs::new();
        for &i in cx.index.of_kind("PeerAuthentication") {
            by_ns.entry(cx.objects[i].ns()).or_default().push(i);
        }
        for &i in cx.index.of_kind("DestinationRule") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            let Some(host) = o.value.at("/spec/host").and_then(Value::as_str) else { continue };
            let Some((name, ns)) = service_of(host, o.ns(), &service_ns) else { continue };
            let svc = cx.index.get("Service", ns, name);
            let Some((server, pa)) = governing(cx, &by_ns, ns, svc) else { continue };
            let mut modes =
                vec![("/spec/trafficPolicy/tls/mode".to_string(), o.value.at("/spec/trafficPolicy/tls/mode"))];
            for (j, p) in o
                .value
                .at("/spec/trafficPolicy/portLevelSettings")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                modes.push((format!("/spec/trafficPolicy/portLevelSettings/{j}/tls/mode"), p.at("/tls/mode")));
            }
            let p = &cx.objects[pa];
            for (pointer, client) in modes {
                let Some(client) = client.and_then(Value::as_str) else { continue };
                let why = match (server, client) {
                    ("STRICT", "DISABLE") => "sends plaintext",
                    ("STRICT", "SIMPLE" | "MUTUAL") => "originates its own TLS instead of Istio mutual TLS",
                    ("DISABLE", "ISTIO_MUTUAL") => "sends Istio mutual TLS",
                    _ => continue,
                };
                let expected = if server == "STRICT" { "ISTIO_MUTUAL" } else { "DISABLE" };
                out.report(
                    i,
                    pointer,
                    format!(
                        "TLS mode {client} for {host} {why}, but PeerAuthentication {}/{} sets mTLS {server} on its pods",
                        p.ns(),
                        p.name
                    ),
                )
                .help(format!("use `mode: {expected}` (or remove the TLS settings and let auto mTLS choose)"));
            }
        }
    }
}
