use serde_json::Value;

use super::common::label;
use crate::check::{Check, Context, Family, Meta, Severity, Sink};

/// KP121: a credential written as a literal environment value.
pub struct SecretInEnvValue;

static META: Meta = Meta {
    code: "KP121",
    name: "secret-in-env-value",
    family: Family::Security,
    severity: Severity::Error,
    summary: "an environment variable named like a credential has a literal value",
    what: "Reports `env` entries (containers and init containers) whose name ends in a credential word — \
           PASSWORD, PASSWD, SECRET, (DB_)PASS, (DB_)PWD, TOKEN, CREDENTIALS, API_KEY, APIKEY, PRIVATE_KEY, \
           SECRET_KEY, SECRET_ACCESS_KEY, ENCRYPTION_KEY, SIGNING_KEY, HMAC_KEY, MASTER_KEY; any case, \
           `_`/`-`/`.`/camelCase separated — and that carry a literal `value` instead of `valueFrom`. \
           Empty values, values made only of `$(VAR)` references to other variables, and file paths \
           (`/run/secrets/db`) are not reported, nor names like `PASSWORD_FILE` or `TOKEN_URL` whose last \
           word is not the credential.",
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
      containers:
        - name: api
          image: ghcr.io/example/api:4.1.0
          env:
            - name: DB_HOST
              value: postgres.shop.svc
            - name: DB_PASSWORD
              value: s3cr3t-Pa55
            - name: stripeApiKey
              value: sk_live_51H8example
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

/// Split a variable name into upper-case words (`dbPassword` → DB, PASSWORD).
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        cur.push(ch.to_ascii_uppercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Whether a variable name says it holds a credential.
pub fn credential_name(name: &str) -> bool {
    let w = words(name);
    let Some(last) = w.last().map(String::as_str) else { return false };
    if matches!(last, "PASSWORD" | "PASSWD" | "SECRET" | "TOKEN" | "CREDENTIALS" | "APIKEY") {
        return true;
    }
    // `PWD` alone is the working directory; `DB_PWD`, `SMTP_PASS` are passwords.
    if matches!(last, "PASS" | "PWD") && w.len() >= 2 {
        return true;
    }
    let word = |back: usize| w.len().checked_sub(back).and_then(|i| w.get(i)).map(String::as_str);
    last == "KEY"
        && (matches!(word(2), Some("API" | "PRIVATE" | "SECRET" | "ENCRYPTION" | "SIGNING" | "MASTER" | "HMAC"))
            || (word(2) == Some("ACCESS") && word(3) == Some("SECRET")))
}

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
                let env = c.value.get("env").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                for (i, e) in env.iter().enumerate() {
                    let Some(name) = e.get("name").and_then(Value::as_str) else { continue };
                    let Some(value) = e.get("value").and_then(Value::as_str) else { continue };
                    if !credential_name(name) || !literal_secret(value) {
                        continue;
                    }
                    out.report(
                        pod.object,
                        c.field(&format!("/env/{i}/value")),
                        format!("`{name}` of {} is a credential written in the manifest", label(&c)),
                    )
                    .help(format!(
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
    use super::{credential_name, literal_secret, words};

    #[test]
    fn splits_names() {
        assert_eq!(words("stripeApiKey"), ["STRIPE", "API", "KEY"]);
        assert_eq!(words("DB_PASSWORD"), ["DB", "PASSWORD"]);
        assert_eq!(words("aws.secret-access-key"), ["AWS", "SECRET", "ACCESS", "KEY"]);
    }

    #[test]
    fn recognises_credential_names() {
        for yes in [
            "PASSWORD",
            "DB_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "SMTP_PASS",
            "JWT_SECRET",
            "CLIENT_SECRET",
            "GITHUB_TOKEN",
            "STRIPE_API_KEY",
            "SENDGRID_APIKEY",
            "AWS_SECRET_ACCESS_KEY",
            "MINIO_SECRET_KEY",
            "PRIVATE_KEY",
            "ENCRYPTION_KEY",
            "API_TOKEN_HMAC_KEY",
            "dbPassword",
            "GOOGLE_APPLICATION_CREDENTIALS",
        ] {
            assert!(credential_name(yes), "{yes}");
        }
        for no in [
            "PASSWORD_FILE",
            "TOKEN_URL",
            "SECRET_NAME",
            "PASSWORD_MIN_LENGTH",
            "AWS_ACCESS_KEY_ID",
            "MINIO_ACCESS_KEY",
            "CACHE_KEY",
            "BADGER_DIRECTORY_KEY",
            "BYPASS",
            "PWD",
            "NEO4J_AUTH",
            "WEBAUTHN_AUTH_URL",
        ] {
            assert!(!credential_name(no), "{no}");
        }
    }

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
