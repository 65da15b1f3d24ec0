use std::collections::BTreeSet;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::{Produced, Store, data_refs};

/// KP310: a pod reads a key that its ConfigMap or Secret does not have.
pub struct KeyNotFound;

static META: Meta = Meta {
    code: "KP310",
    name: "key-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a pod reads a key that is not in the ConfigMap or Secret of the checked set",
    what: "For every `configMapKeyRef`, `secretKeyRef` and volume `items[].key` whose ConfigMap or Secret is \
           in the checked set, checks that the key is there (`data` and `binaryData` of a ConfigMap, `data` \
           and `stringData` of a Secret; the keys a SealedSecret seals, `spec.encryptedData` and \
           `spec.template.data`, and those an ExternalSecret writes, `spec.data[].secretKey`). References \
           marked `optional: true` are skipped, and so are Secrets whose content the set does not show: \
           service account tokens, and Secrets also produced by a generator, a Certificate, or an \
           ExternalSecret with `dataFrom` or a target template.",
    why: "A missing key is a pod that never starts: `couldn't find key X in ConfigMap` \
          (CreateContainerConfigError) for env, a volume that cannot be mounted for items. It usually comes \
          from a renamed or mistyped key, and nothing reports it before the rollout.",
    fix: "Use a key the ConfigMap or Secret has, add the key to it, or mark the reference `optional: true` \
          if the pod can run without it.",
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
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef: { name: db, key: databse-url }
            - name: FEATURE_FLAGS
              valueFrom:
                configMapKeyRef: { name: api-config, key: flags, optional: true }
          volumeMounts: [{ name: config, mountPath: /etc/api }]
      volumes:
        - name: config
          configMap:
            name: api-config
            items: [{ key: api.yaml, path: api.yaml }]
---
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: shop }
stringData:
  database-url: postgres://api@postgres:5432/shop
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config, namespace: shop }
data:
  api.yaml: |
    listen: :8080
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: billing }
stringData:
  databse-url: postgres://billing@postgres:5432/billing
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
          env:
            - name: DATABASE_URL
              valueFrom:
                secretKeyRef: { name: db, key: database-url }
            - name: FEATURE_FLAGS
              valueFrom:
                configMapKeyRef: { name: api-config, key: flags, optional: true }
          volumeMounts: [{ name: config, mountPath: /etc/api }]
      volumes:
        - name: config
          configMap:
            name: api-config
            items: [{ key: api.yaml, path: api.yaml }]
---
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: shop }
stringData:
  database-url: postgres://api@postgres:5432/shop
---
apiVersion: v1
kind: ConfigMap
metadata: { name: api-config, namespace: shop }
data:
  api.yaml: |
    listen: :8080
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: billing }
stringData:
  databse-url: postgres://billing@postgres:5432/billing
"#,
};

impl Check for KeyNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let produced = Produced::build(cx);
        for pod in cx.pods() {
            let ns = cx.objects[pod.object].ns();
            for r in data_refs(&pod) {
                if r.optional || r.keys.is_empty() {
                    continue;
                }
                let made = produced.keys(r.store, ns, r.name);
                let defs = cx.index.named(r.store.kind(), ns, r.name);
                // Produced with keys unknown, or neither defined nor produced.
                if matches!(made, Some(None)) || (made.is_none() && defs.is_empty()) {
                    continue;
                }
                let fields: &[&str] = match r.store {
                    Store::ConfigMap => &["data", "binaryData"],
                    Store::Secret => &["data", "stringData"],
                };
                let mut keys: BTreeSet<&str> = made.flatten().into_iter().flatten().map(String::as_str).collect();
                let mut opaque = false;
                for &d in defs {
                    let v = &cx.objects[d].value;
                    opaque |= v.get("type").and_then(Value::as_str) == Some("kubernetes.io/service-account-token");
                    for f in fields {
                        keys.extend(
                            v.get(*f).and_then(Value::as_object).into_iter().flatten().map(|(k, _)| k.as_str()),
                        );
                    }
                }
                if opaque {
                    continue;
                }
                for (key, ptr) in &r.keys {
                    if keys.contains(key) {
                        continue;
                    }
                    let kind = r.store.kind();
                    let help = match crate::diag::did_you_mean(key, keys.iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if keys.is_empty() => format!("{kind} {} has no keys at all", r.name),
                        None => {
                            let list: Vec<&str> = keys.iter().copied().take(12).collect();
                            let more = if keys.len() > list.len() { ", …" } else { "" };
                            format!("{kind} {} has the keys {}{more}", r.name, list.join(", "))
                        }
                    };
                    out.report(pod.object, ptr, format!("{kind} `{}` has no key `{key}` ({})", r.name, r.via))
                        .help(help);
                }
            }
        }
    }
}
