use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::{Store, report_missing};

/// KP307: a pod reads a Secret that the checked set does not define.
pub struct SecretNotFound;

static META: Meta = Meta {
    code: "KP307",
    name: "secret-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a pod references a Secret that is not in the checked set",
    what: "Follows every Secret reference of every pod template — env `secretKeyRef`, `envFrom` \
           `secretRef`, `secret` volumes, projected volume sources and `imagePullSecrets` — and reports names \
           that no Secret of the same namespace has. Secrets produced by objects of the set count as \
           defined: kustomize `secretGenerator`s, SealedSecrets, ExternalSecrets (their target name) and \
           cert-manager Certificates (their `secretName`). References marked `optional: true` are not \
           reported. Reported once per object and name.",
    why: "A pod whose required Secret does not exist never starts (CreateContainerConfigError or \
          ContainerCreating); a missing pull secret makes pulls from a private registry fail. Secrets are \
          often created outside the manifests (by hand, by a vault operator), so this is a warning. Built \
          kustomize output is consistent: kustomize rewrites references to the hashed names of the \
          Secrets it generates.",
    fix: "Add the Secret (or the SealedSecret, ExternalSecret or generator producing it) to the manifests \
          in the pod's namespace, correct the name, or mark the reference `optional: true` if the pod can \
          run without it.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      imagePullSecrets: [{ name: registry }]
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: { name: db-credentials, key: password }
            - name: SENTRY_DSN
              valueFrom:
                secretKeyRef: { name: sentry, key: dsn, optional: true }
          volumeMounts: [{ name: tls, mountPath: /etc/tls }]
      volumes:
        - name: tls
          secret: { secretName: api-tls }
---
apiVersion: v1
kind: Secret
metadata: { name: registry, namespace: shop }
type: kubernetes.io/dockerconfigjson
data: { .dockerconfigjson: e30= }
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: { name: api, namespace: shop }
spec:
  secretName: api-tls
  dnsNames: [api.shop.example.com]
  issuerRef: { name: letsencrypt, kind: ClusterIssuer }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: billing }
stringData: { password: change-me }
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
      imagePullSecrets: [{ name: registry }]
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: { name: db-credentials, key: password }
            - name: SENTRY_DSN
              valueFrom:
                secretKeyRef: { name: sentry, key: dsn, optional: true }
          volumeMounts: [{ name: tls, mountPath: /etc/tls }]
      volumes:
        - name: tls
          secret: { secretName: api-tls }
---
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: shop }
stringData: { password: change-me }
---
apiVersion: v1
kind: Secret
metadata: { name: registry, namespace: shop }
type: kubernetes.io/dockerconfigjson
data: { .dockerconfigjson: e30= }
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: { name: api, namespace: shop }
spec:
  secretName: api-tls
  dnsNames: [api.shop.example.com]
  issuerRef: { name: letsencrypt, kind: ClusterIssuer }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: billing }
stringData: { password: change-me }
"#,
};

impl Check for SecretNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        report_missing(cx, out, Store::Secret);
    }
}
