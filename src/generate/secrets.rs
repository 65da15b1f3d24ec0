//! Secrets read from a secret manager: with `cluster.secrets: { provider:
//! external-secrets }` every Secret the stack references becomes an
//! ExternalSecret of the same name and keys, which the External Secrets
//! Operator fills from the store the description names.

use serde_json::json;

use super::{Object, SecretSource, Stack, labels};
use crate::description::delivery::SecretsMode;
use crate::description::resolve::Resolved;

pub const EXTERNAL_SECRETS_API: &str = "external-secrets.io/v1";

/// Where a Secret's values are in the secret manager:
/// `PLATFORM/ENV/FILE` (the env file's name without `.env`; Secrets that
/// share an env file share the entry), one property per key.
pub fn remote_key(r: &Resolved, s: &SecretSource) -> String {
    let stem = s.file.strip_suffix(".env").unwrap_or(&s.file);
    format!("{}/{}/{stem}", r.platform, r.env.as_deref().unwrap_or(crate::description::DEFAULT_ENV))
}

/// One ExternalSecret per Secret of `stack`, when the description asks for them.
pub fn external_secrets(r: &Resolved, stack: &mut Stack) {
    let SecretsMode::External { store, kind } = &r.secrets else { return };
    let mut objects = Vec::new();
    for s in &stack.secrets {
        let data: Vec<_> = s
            .keys
            .iter()
            .map(|k| json!({ "secretKey": k, "remoteRef": { "key": remote_key(r, s), "property": k } }))
            .collect();
        let value = json!({
            "apiVersion": EXTERNAL_SECRETS_API,
            "kind": "ExternalSecret",
            "metadata": {
                "name": s.name,
                "namespace": s.namespace,
                "labels": labels(&r.platform, &s.name, "secret"),
            },
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": { "name": store, "kind": kind.as_str() },
                // Owner: the Secret goes with the ExternalSecret; its name is
                // the one the pods read.
                "target": { "name": s.name, "creationPolicy": "Owner" },
                "data": data,
            },
        });
        objects.push(Object {
            api_version: EXTERNAL_SECRETS_API.into(),
            kind: "ExternalSecret".into(),
            name: s.name.clone(),
            namespace: Some(s.namespace.clone()),
            value,
        });
    }
    stack.objects.extend(objects);
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const SHOP_TEXT: &str = SHOP;
    const SHOP: &str = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster:\n  kubernetes: \"1.30\"\n  \
                        secrets: { provider: external-secrets, store: vault, storeKind: SecretStore }\n\
                        services:\n  api: { image: ghcr.io/x/api:1.0.0, port: 8080, secrets: [JWT_SECRET] }\n";

    #[test]
    fn each_secret_becomes_an_external_secret_with_its_keys() {
        let mut r = crate::generate::monitoring::resolved(SHOP);
        r.env = Some("prod".into());
        let mut stack = Stack::default();
        stack.secrets.push(SecretSource {
            name: "db-credentials".into(),
            namespace: "shop".into(),
            file: "db.env".into(),
            keys: vec!["POSTGRES_USER".into(), "POSTGRES_PASSWORD".into()],
        });
        external_secrets(&r, &mut stack);
        let [o] = &stack.objects[..] else { panic!("{:?}", stack.objects) };
        assert_eq!(
            (o.kind.as_str(), o.name.as_str(), o.namespace.as_deref()),
            ("ExternalSecret", "db-credentials", Some("shop"))
        );
        let spec = &o.value["spec"];
        assert_eq!(spec["secretStoreRef"], json!({ "name": "vault", "kind": "SecretStore" }));
        assert_eq!(spec["target"]["name"], "db-credentials");
        let keys: Vec<&str> =
            spec["data"].as_array().into_iter().flatten().filter_map(|d| d["secretKey"].as_str()).collect();
        assert_eq!(keys, ["POSTGRES_USER", "POSTGRES_PASSWORD"]);
        assert_eq!(spec["data"][1]["remoteRef"], json!({ "key": "shop/prod/db", "property": "POSTGRES_PASSWORD" }));
    }

    #[test]
    fn env_files_make_no_external_secret() {
        let mut r = crate::generate::monitoring::resolved(SHOP);
        r.secrets = SecretsMode::Env;
        let mut stack = Stack::default();
        stack.secrets.push(SecretSource {
            name: "a".into(),
            namespace: "shop".into(),
            file: "a.env".into(),
            keys: vec!["K".into()],
        });
        external_secrets(&r, &mut stack);
        assert!(stack.objects.is_empty());
    }
}

#[cfg(test)]
mod generated {
    /// The whole pipeline: the service's Secret is an ExternalSecret among the objects.
    #[test]
    fn generate_writes_the_external_secret_of_a_service() {
        let r = crate::generate::monitoring::resolved(super::tests::SHOP_TEXT);
        let stack = crate::generate::generate(&r);
        let es: Vec<_> = stack.objects.iter().filter(|o| o.kind == "ExternalSecret").collect();
        assert_eq!(es.len(), stack.secrets.len(), "{es:?}");
        assert!(!es.is_empty());
        assert!(es.iter().all(|o| o.value["spec"]["secretStoreRef"]["kind"] == "SecretStore"));
    }
}
