use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::{Store, report_missing};

/// KP306: a pod reads a ConfigMap that the checked set does not define.
pub struct ConfigMapNotFound;

static META: Meta = Meta {
    code: "KP306",
    name: "configmap-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a pod references a ConfigMap that is not in the checked set",
    what: "Follows every ConfigMap reference of every pod template — env `configMapKeyRef`, `envFrom` \
           `configMapRef`, `configMap` volumes and projected volume sources — and reports names that no \
           ConfigMap of the same namespace has. References marked `optional: true`, `kube-root-ca.crt` \
           (present in every namespace) and the output of kustomize `configMapGenerator`s in the set are \
           not reported. Reported once per object and name.",
    why: "A pod whose required ConfigMap does not exist never starts: it stays in \
          CreateContainerConfigError (env) or ContainerCreating (volumes) until the ConfigMap appears. The \
          ConfigMap may be created by another tool, so this is a warning.",
    fix: "Add the ConfigMap to the manifests (in the pod's namespace), correct the name, or mark the \
          reference `optional: true` if the pod can run without it.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          envFrom:
            - configMapRef: { name: api-confg }
            - configMapRef: { name: api-overrides, optional: true }
          volumeMounts: [{ name: ca, mountPath: /etc/ca }]
      volumes:
        - name: ca
          projected:
            sources:
              - configMap: { name: kube-root-ca.crt }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config, namespace: shop }
data: { LOG_LEVEL: info }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: ConfigMap
metadata: { name: api-confg, namespace: billing }
data: { LOG_LEVEL: debug }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          envFrom:
            - configMapRef: { name: api-config }
            - configMapRef: { name: api-overrides, optional: true }
          volumeMounts: [{ name: ca, mountPath: /etc/ca }]
      volumes:
        - name: ca
          projected:
            sources:
              - configMap: { name: kube-root-ca.crt }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config, namespace: shop }
data: { LOG_LEVEL: info }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: ConfigMap
metadata: { name: api-confg, namespace: billing }
data: { LOG_LEVEL: debug }
"#,
};

impl Check for ConfigMapNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        report_missing(cx, out, Store::ConfigMap);
    }
}
