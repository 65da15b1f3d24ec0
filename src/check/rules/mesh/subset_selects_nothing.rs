use crate::model::At;
use crate::model::Value;
use crate::model::selector::Selector;

use std::collections::HashSet;

use super::{canonical, destinations, service_namespaces, service_of};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP508: a DestinationRule subset whose labels select no pod of its Service.
pub struct SubsetSelectsNothing;

static META: Meta = Meta {
    code: "KP508",
    name: "destinationrule-subset-selects-nothing",
    family: Family::Mesh,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a DestinationRule subset selects no pod of its Service",
    what: "For every subset of a DestinationRule whose host is a Service of the checked set, looks for a pod \
           template of the Service's namespace whose labels include both the Service's selector and the \
           subset's `labels`. Namespaces without pod templates in the checked set are skipped, and so are \
           Services without a selector. A subset no VirtualService of the checked set routes to is \
           reported as info: a DestinationRule often lists every version a service may run.",
    why: "A subset without pods has no endpoints: the share of traffic a VirtualService sends to it (a canary \
          at 10%) fails with 503 `no healthy upstream`. A version label mistyped in the subset or missing from \
          the canary Deployment's pod template is the usual cause.",
    fix: "Make the subset's labels match the pod template labels of the Deployment serving that version (for \
          example `track: canary`), or remove the subset and the routes to it.",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  subsets:
    - { name: stable, labels: { track: stable } }
    - { name: canary, labels: { track: canary, version: v2 } }
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
  selector: { matchLabels: { app: reviews, track: stable } }
  template:
    metadata: { labels: { app: reviews, track: stable, version: v1 } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.4.2 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-canary, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, track: canary } }
  template:
    metadata: { labels: { app: reviews, track: canary, version: v1 } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.5.0 }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route:
        - { destination: { host: reviews, subset: stable }, weight: 90 }
        - { destination: { host: reviews, subset: canary }, weight: 10 }
---
# The canary of another namespace's reviews Service.
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: billing }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-canary, namespace: billing }
spec:
  selector: { matchLabels: { app: reviews, track: canary, version: v2 } }
  template:
    metadata: { labels: { app: reviews, track: canary, version: v2 } }
    spec:
      containers: [{ name: reviews-canary, image: "ghcr.io/acme/reviews:1.5.0" }]
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: shop }
spec:
  host: reviews
  subsets:
    - { name: stable, labels: { track: stable } }
    - { name: canary, labels: { track: canary, version: v2 } }
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
  selector: { matchLabels: { app: reviews, track: stable } }
  template:
    metadata: { labels: { app: reviews, track: stable, version: v1 } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.4.2 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-canary, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, track: canary } }
  template:
    metadata: { labels: { app: reviews, track: canary, version: v2 } }
    spec:
      containers: [{ name: reviews, image: ghcr.io/acme/reviews:1.5.0 }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route:
        - { destination: { host: reviews, subset: stable }, weight: 90 }
        - { destination: { host: reviews, subset: canary }, weight: 10 }
---
# The canary of another namespace's reviews Service.
apiVersion: v1
kind: Service
metadata: { name: reviews, namespace: billing }
spec:
  selector: { app: reviews }
  ports: [{ name: http, port: 9080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-canary, namespace: billing }
spec:
  selector: { matchLabels: { app: reviews, track: canary, version: v2 } }
  template:
    metadata: { labels: { app: reviews, track: canary, version: v2 } }
    spec:
      containers: [{ name: reviews-canary, image: "ghcr.io/acme/reviews:1.5.0" }]
"#,
};

impl Check for SubsetSelectsNothing {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let service_ns = service_namespaces(cx);
        let with_pods = crate::model::scope::namespaces_with_pods(cx);
        // (canonical host, subset) that some VirtualService routes to.
        let mut routed: HashSet<(String, &str)> = HashSet::new();
        for &i in cx.index.of_kind("VirtualService") {
            let o = &cx.objects[i];
            for d in destinations(&o.value).into_iter().filter(|_| o.group() == "networking.istio.io") {
                if let Some(subset) = d.subset {
                    routed.insert((canonical(d.host, o.ns(), &service_ns), subset));
                }
            }
        }
        for &i in cx.index.of_kind("DestinationRule") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            let Some(host) = o.value.at("/spec/host").and_then(Value::as_str) else { continue };
            let Some((name, ns)) = service_of(host, o.ns(), &service_ns) else { continue };
            let Some(svc) = cx.index.get("Service", ns, name) else { continue };
            let Some(selector) = cx.objects[svc].value.at("/spec/selector").and_then(Value::as_object) else {
                continue;
            };
            if selector.is_empty() || !with_pods.contains(ns) {
                continue;
            }
            let subsets = o.value.at("/spec/subsets").and_then(Value::as_array);
            for (j, s) in subsets.into_iter().flatten().enumerate() {
                let Some(labels) = s.get("labels").and_then(Value::as_object) else { continue };
                let mut wanted = selector.clone();
                wanted.extend(labels.iter().map(|(k, v)| (k.clone(), v.clone())));
                let typed = Selector::of_labels(&wanted);
                if !cx.index.selected(ns, &typed).is_empty() {
                    continue;
                }
                let subset = s.get("name").and_then(Value::as_str).unwrap_or("?");
                let pairs: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("?"))).collect();
                // Among the Service's own pods: another app's `version=v2` is no answer.
                let pool = cx.index.selected(ns, &Selector::of_labels(selector));
                let hint = crate::model::selector::hint_among(&pool, &format!("Service {ns}/{name}"), &typed);
                let used = routed.contains(&(canonical(host, o.ns(), &service_ns), subset));
                let f = out.report(
                    i,
                    format!("/spec/subsets/{j}/labels"),
                    format!(
                        "subset `{subset}` ({}) selects no pod of Service {ns}/{name}: traffic routed to it fails{}",
                        pairs.join(","),
                        if used { "" } else { " (no VirtualService of the checked set routes to it yet)" }
                    ),
                );
                f.help(hint);
                // A spare subset (one per version a sample might deploy) breaks
                // nothing until a route names it.
                if !used {
                    f.severity = Severity::Info;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::Severity;
    use crate::check::check_text;
    use crate::check::config::Config;

    /// Istio's bookinfo: ratings runs only v1, reviews runs v1–v3, and the
    /// DestinationRule lists every version either might run.
    const BOOKINFO: &str = r#"
apiVersion: v1
kind: Service
metadata: { name: ratings, namespace: shop }
spec: { selector: { app: ratings }, ports: [{ port: 9080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ratings-v1, namespace: shop }
spec:
  selector: { matchLabels: { app: ratings, version: v1 } }
  template:
    metadata: { labels: { app: ratings, version: v1 } }
    spec: { containers: [{ name: r, image: ratings:1.0.0 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: reviews-v2, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews, version: v2 } }
  template:
    metadata: { labels: { app: reviews, version: v2 } }
    spec: { containers: [{ name: r, image: reviews:1.0.0 }] }
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ratings, namespace: shop }
spec:
  host: ratings
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
    - { name: v2-mysql, labels: { version: v2-mysql } }
"#;

    fn findings(text: &str) -> Vec<(Severity, String, String)> {
        let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        outcome
            .findings
            .iter()
            .filter(|f| f.code == "KP508")
            .map(|f| (f.severity, f.message.to_string(), f.help.as_deref().unwrap_or("").to_string()))
            .collect()
    }

    #[test]
    fn a_subset_no_route_uses_is_info_and_hints_only_at_the_services_own_pods() {
        let found = findings(BOOKINFO);
        assert_eq!(found.len(), 2, "{found:?}");
        for (severity, message, help) in &found {
            assert_eq!(*severity, Severity::Info, "{message}");
            assert!(message.contains("no VirtualService of the checked set routes to it"), "{message}");
            // reviews' pods have version=v2, but they are not ratings' pods:
            // pointing there (or at v1 for v2) would be a wrong fix.
            assert!(!help.contains("did you mean"), "{help}");
            assert!(help.contains("pods there have version=v1"), "{help}");
        }
    }

    #[test]
    fn a_subset_a_route_uses_is_a_warning() {
        let route = "\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: ratings, namespace: shop }\n\
                     spec: { hosts: [ratings], http: [{ route: [{ destination: { host: ratings, subset: v2 } }] }] }\n";
        let found = findings(&format!("{BOOKINFO}{route}"));
        let severities: Vec<Severity> = found.iter().map(|f| f.0).collect();
        assert_eq!(severities, [Severity::Warning, Severity::Info], "{found:?}");
    }

    #[test]
    fn a_typo_is_still_named_when_the_fix_selects_the_services_pods() {
        let typo = BOOKINFO.replace("{ name: v1, labels: { version: v1 } }", "{ name: v1, labels: { version: vv1 } }");
        let found = findings(&typo);
        assert!(found.iter().any(|f| f.2.contains("did you mean version=v1?")), "{found:?}");
    }
}
