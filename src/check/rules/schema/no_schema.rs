use std::collections::HashSet;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::schema::Lookup;

/// KP005: a kind kubeproof has no schema for (its fields are not validated).
pub struct NoSchema;

static META: Meta = Meta {
    code: "KP005",
    name: "no-schema",
    family: Family::Schema,
    reads: Reads::Set,
    severity: Severity::Info,
    summary: "no schema for this apiVersion and kind: its fields are not validated",
    what: "Reports, once per apiVersion and kind, the objects that no carried schema describes: custom \
           resources other than the Istio, Prometheus Operator, cert-manager, Velero, External Secrets, \
           Sealed Secrets, Argo CD and Flux ones kubeproof carries, or a version of those that kubeproof does not carry. Kustomize's own files are not \
           reported.",
    why: "Schema validation (KP001) skips these objects, so a misspelt field in them is not caught here; \
          the cluster's CRD decides whether they are accepted.",
    fix: "Nothing is wrong with the object. Validate it against its CRD in a cluster (`kubectl apply \
          --dry-run=server`), or disable this note with `disable: [KP005]` in `.kubeproof.yaml`.",
    fail: r#"
apiVersion: widgets.example.com/v1
kind: Widget
metadata:
  name: blue
  namespace: shop
spec:
  colour: blue
---
apiVersion: widgets.example.com/v1
kind: Widget
metadata:
  name: green
  namespace: shop
spec:
  colour: green
---
apiVersion: cert-manager.io/v1alpha2
kind: Issuer
metadata:
  name: internal
  namespace: shop
spec:
  selfSigned: {}
"#,
    pass: r#"
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: internal
  namespace: shop
spec:
  selfSigned: {}
"#,
};

/// Groups whose files are build inputs, never sent to the API server.
const NOT_APPLIED: &[&str] = &["kustomize.config.k8s.io", "kubeproof.dev"];

impl Check for NoSchema {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut seen = HashSet::new();
        for (i, o) in cx.objects.iter().enumerate() {
            if NOT_APPLIED.contains(&o.group()) || !seen.insert((o.api_version.as_str(), o.kind.as_str())) {
                continue;
            }
            if cx.schemas.lookup(&o.api_version, &o.kind) != Lookup::NoSchema {
                continue;
            }
            let carried = cx.schemas.crd_versions(o.group());
            let help = if carried.is_empty() {
                format!(
                    "kubeproof carries the schemas of Kubernetes 1.{} and of the Istio, Prometheus Operator, \
                     cert-manager, Velero, External Secrets, Sealed Secrets, Argo CD and Flux CRDs",
                    cx.minor
                )
            } else {
                format!("kubeproof carries schemas for {}", carried.join(", "))
            };
            out.report(
                i,
                "/apiVersion",
                format!("no schema for `{}` {}: its fields are not validated", o.api_version, o.kind),
            )
            .help(help);
        }
    }
}
