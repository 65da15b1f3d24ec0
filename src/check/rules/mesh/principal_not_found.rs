use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP506: an AuthorizationPolicy allows a principal whose ServiceAccount does not exist.
pub struct PrincipalNotFound;

static META: Meta = Meta {
    code: "KP506",
    name: "authorization-principal-not-found",
    family: Family::Mesh,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "an AuthorizationPolicy names a principal whose ServiceAccount does not exist",
    what: "For every `principals` entry of an AuthorizationPolicy's sources written \
           `TRUST_DOMAIN/ns/NAMESPACE/sa/NAME` (without wildcards), looks for the ServiceAccount NAME in \
           NAMESPACE. Namespaces without any ServiceAccount in the checked set are skipped (for example the \
           ingress gateway's `istio-system`), and so is the `default` ServiceAccount, which every namespace has.",
    why: "No workload can present an identity whose ServiceAccount does not exist: the rule allows nobody, \
          and the caller it was written for is denied (403 RBAC: access denied) — typically after a \
          ServiceAccount was renamed or a namespace mistyped.",
    fix: "Name the ServiceAccount the calling pods run as (`spec.serviceAccountName` of their template), in \
          the namespace they run in.",
    fail: r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules:
    - from:
        - source:
            principals:
              - cluster.local/ns/shop/sa/productpage
              - cluster.local/ns/shop/sa/default
              - cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account
              - cluster.local/ns/batch/sa/*
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: product-page, namespace: shop }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: ServiceAccount
metadata: { name: productpage, namespace: billing }
"#,
    pass: r#"
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: reviews, namespace: shop }
spec:
  selector: { matchLabels: { app: reviews } }
  action: ALLOW
  rules:
    - from:
        - source:
            principals:
              - cluster.local/ns/shop/sa/product-page
              - cluster.local/ns/shop/sa/default
              - cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account
              - cluster.local/ns/batch/sa/*
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: product-page, namespace: shop }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: ServiceAccount
metadata: { name: productpage, namespace: billing }
"#,
};

/// `(namespace, service account)` of a principal `TD/ns/NS/sa/NAME`.
fn parse(principal: &str) -> Option<(&str, &str)> {
    let (_, rest) = principal.split_once("/ns/")?;
    let (ns, sa) = rest.split_once("/sa/")?;
    (!ns.is_empty() && !sa.is_empty() && !sa.contains('/')).then_some((ns, sa))
}

impl Check for PrincipalNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let with_accounts: std::collections::HashSet<&str> =
            cx.index.of_kind("ServiceAccount").iter().map(|&s| cx.objects[s].ns()).collect();
        for &i in cx.index.of_kind("AuthorizationPolicy") {
            let o = &cx.objects[i];
            if o.group() != "security.istio.io" {
                continue;
            }
            let rules = o.value.at("/spec/rules").and_then(Value::as_array);
            for (r, rule) in rules.into_iter().flatten().enumerate() {
                for (f, from) in rule.get("from").and_then(Value::as_array).into_iter().flatten().enumerate() {
                    let principals = from.at("/source/principals").and_then(Value::as_array);
                    for (k, p) in principals.into_iter().flatten().enumerate() {
                        let Some(p) = p.as_str() else { continue };
                        if p.contains('*') {
                            continue;
                        }
                        let Some((ns, sa)) = parse(p) else { continue };
                        if sa == "default"
                            || !with_accounts.contains(ns)
                            || cx.index.get("ServiceAccount", ns, sa).is_some()
                        {
                            continue;
                        }
                        let known: Vec<&str> = cx
                            .index
                            .of_kind("ServiceAccount")
                            .iter()
                            .map(|&s| &cx.objects[s])
                            .filter(|s| s.ns() == ns)
                            .map(|s| s.name.as_str())
                            .collect();
                        let help = match crate::diag::did_you_mean(sa, known.iter().copied()) {
                            Some(s) => {
                                format!("did you mean `{}`?", p.replace(&format!("/sa/{sa}"), &format!("/sa/{s}")))
                            }
                            None => format!(
                                "name the ServiceAccount the calling pods run as; namespace {ns} has {}",
                                known.join(", ")
                            ),
                        };
                        out.report(
                            i,
                            format!("/spec/rules/{r}/from/{f}/source/principals/{k}"),
                            format!(
                                "allows `{p}`, but there is no ServiceAccount {sa} in namespace {ns} (it may be defined \
                                 elsewhere): no workload has that identity"
                            ),
                        )
                        .help(help);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_principal_names_one_namespace_and_one_service_account() {
        assert_eq!(parse("cluster.local/ns/shop/sa/api"), Some(("shop", "api")));
        for p in ["cluster.local/ns//sa/api", "cluster.local/ns/shop/sa/", "cluster.local/ns/shop/sa/a/b", "shop/api"] {
            assert_eq!(parse(p), None, "{p}");
        }
    }
}
