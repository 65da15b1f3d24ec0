use crate::model::Value;

use super::common::label;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::credential::credential;
use crate::model::env::credential_name;

/// KP121: a credential written as a literal environment value.
pub struct SecretInEnvValue;

static META: Meta = Meta {
    code: "KP121",
    name: "secret-in-env-value",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "an environment variable named like a credential has a literal value",
    what: "Reports `env` entries (containers and init containers) whose name ends in a credential word — \
           PASSWORD, PASSWD, SECRET, (DB_)PASS, (DB_)PWD, TOKEN, CREDENTIALS, API_KEY, APIKEY, PRIVATE_KEY, \
           SECRET_KEY, SECRET_ACCESS_KEY, ENCRYPTION_KEY, SIGNING_KEY, HMAC_KEY, MASTER_KEY; any case, \
           `_`/`-`/`.`/camelCase separated — and that carry a literal `value` instead of `valueFrom`. \
           Empty values, values made only of `$(VAR)` references to other variables, and file paths \
           (`/run/secrets/db`) are not reported, nor names like `PASSWORD_FILE` or `TOKEN_URL` whose last \
           word is not the credential. Under any name, a value that is a credential by its shape is \
           reported too: a URL with a password (or a key as its user, or a token among its query \
           parameters), a `Bearer`/`Basic` token, a vendor's key (`sk_live_`, `ghp_`, `xoxb-`, `AKIA…`, \
           `glpat-`, `AIza…`…), a PEM private key, a JWT; `$(VAR)` references in it do not count.",
    why: "A literal value is stored in git, in every rendered manifest and CI log, and in the pod spec, \
          which far more people can read than Secrets: the built-in `view` role can read Deployments and \
          Pods but not Secrets. Rotating it means a redeploy through the pipeline, and it cannot be \
          managed by a secret store.",
    fix: "Move the value into a Secret (created from a secret manager or sealed/encrypted in git) and \
          reference it with `valueFrom: { secretKeyRef: { name, key } }`; rotate the value that was \
          exposed.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          env:
            - name: DB_PASSWORD
              value: s3cr3t-Pa55
            - name: stripeApiKey
              value: sk_live_51H8example
            - name: DB_URL
              value: postgres://api:hunter2@postgres.shop.svc:5432/shop
            - name: NEO4J_AUTH
              value: neo4j/$(DB_PASSWORD)
            - name: TOKEN_AUDIENCE
              value: api.shop.example.com
            - name: JWT_SECRET_FILE
              value: /var/run/secrets/jwt/key
            - name: PASSWORD_MIN_LENGTH
              value: "12"
            - name: REDIS_PASSWORD
              value: ""
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
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
          env:
            - name: DB_PASSWORD
              valueFrom: { secretKeyRef: { name: api-db, key: password } }
            - name: stripeApiKey
              valueFrom: { secretKeyRef: { name: api-stripe, key: key } }
            - name: DB_URL
              value: postgres://api:$(DB_PASSWORD)@postgres.shop.svc:5432/shop
            - name: NEO4J_AUTH
              value: neo4j/$(DB_PASSWORD)
            - name: TOKEN_AUDIENCE
              value: api.shop.example.com
            - name: JWT_SECRET_FILE
              value: /var/run/secrets/jwt/key
            - name: PASSWORD_MIN_LENGTH
              value: "12"
            - name: REDIS_PASSWORD
              value: ""
"#,
};

/// Whether a literal value can be a credential (not empty, a reference or a path).
fn literal_secret(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || v.starts_with('/') {
        return false;
    }
    // Only `$(VAR)` references (and separators): the secret comes from those variables.
    let mut rest = v;
    let mut literal = String::new();
    while let Some(start) = rest.find("$(") {
        literal.push_str(&rest[..start]);
        match rest[start..].find(')') {
            Some(end) => rest = &rest[start + end + 1..],
            None => {
                literal.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    literal.push_str(rest);
    if literal.len() == v.len() {
        return true;
    }
    // With references, what is left must look like a secret of its own (not `user/` or `:` separators).
    literal.chars().filter(|c| c.is_ascii_alphanumeric()).count() >= 16
}

impl Check for SecretInEnvValue {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                let env = c.value.get("env").and_then(Value::as_array).unwrap_or_default();
                for (i, e) in env.iter().enumerate() {
                    let Some(name) = e.get("name").and_then(Value::as_str) else { continue };
                    let Some(value) = e.get("value").and_then(Value::as_str) else { continue };
                    let message = if credential_name(name) && literal_secret(value) {
                        format!("`{name}` of {} is a credential written in the manifest", label(&c))
                    } else if let Some(found) = credential(value) {
                        format!("`{name}` of {} is {found}, written in the manifest", label(&c))
                    } else {
                        continue;
                    };
                    out.report(pod.object, c.field(&format!("/env/{i}/value")), message).help(format!(
                        "put it in a Secret and use `valueFrom: {{ secretKeyRef: {{ name: …, key: … }} }}` for \
                         `{name}`; rotate the exposed value"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::literal_secret;

    #[test]
    fn recognises_literal_values() {
        assert!(literal_secret("hunter2"));
        assert!(!literal_secret(""));
        assert!(!literal_secret("$(DB_PASSWORD)"));
        assert!(!literal_secret("neo4j/$(NEO4J_PASSWORD)"));
        assert!(!literal_secret("/run/secrets/db"));
        assert!(literal_secret("Bearer $(X)abcdefghijklmnopqrstuvwxyz"));
    }
}
