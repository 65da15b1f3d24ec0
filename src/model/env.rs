//! Environment variables: the values a container sees (its `env` and the
//! ConfigMaps and Secrets it loads), and what a variable's name says it
//! holds.

use crate::model::Value;

use super::pods::Container;
use super::{At, Manifests};

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

/// A configuration value a container sees, and where it comes from.
pub struct Var<'a> {
    pub name: String,
    pub value: &'a str,
    /// Where to report: the env entry, or the envFrom entry.
    pub ptr: String,
    /// For messages: "env API_URL", "API_HOST of ConfigMap web-config".
    pub via: String,
}

/// Data values of a ConfigMap (`data`) or Secret (`stringData`) of the set.
fn store_data<'a>(cx: &'a Manifests, kind: &str, ns: &str, name: &str) -> Option<&'a crate::model::value::Map> {
    let field = if kind == "Secret" { "stringData" } else { "data" };
    cx.index.get(kind, ns, name).and_then(|i| cx.objects[i].value.get(field)).and_then(Value::as_object)
}

/// The configuration values container `c` of a pod in `ns` sees: `env`
/// values and the ConfigMap / Secret values it loads.
pub fn vars<'a>(cx: &'a Manifests, c: &Container<'a>, ns: &str) -> Vec<Var<'a>> {
    let mut out = Vec::new();
    for (i, e) in c.value.get("env").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(name) = e.get("name").and_then(Value::as_str) else { continue };
        if let Some(value) = e.get("value").and_then(Value::as_str) {
            out.push(Var { name: name.into(), value, ptr: c.field(&format!("/env/{i}")), via: format!("env {name}") });
            continue;
        }
        for (field, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
            let Some(r) = e.at(&format!("/valueFrom/{field}")) else { continue };
            let (Some(store), Some(key)) =
                (r.get("name").and_then(Value::as_str), r.get("key").and_then(Value::as_str))
            else {
                continue;
            };
            if let Some(value) = store_data(cx, kind, ns, store).and_then(|d| d.get(key)).and_then(Value::as_str) {
                out.push(Var {
                    name: name.into(),
                    value,
                    ptr: c.field(&format!("/env/{i}")),
                    via: format!("env {name}, from {kind} {store}"),
                });
            }
        }
    }
    for (i, e) in c.value.get("envFrom").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let prefix = e.get("prefix").and_then(Value::as_str).unwrap_or("");
        for (field, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
            let Some(store) = e.get(field).and_then(|r| r.get("name")).and_then(Value::as_str) else { continue };
            for (key, value) in store_data(cx, kind, ns, store).into_iter().flatten() {
                let Some(value) = value.as_str() else { continue };
                out.push(Var {
                    name: format!("{prefix}{key}"),
                    value,
                    ptr: c.field(&format!("/envFrom/{i}")),
                    via: format!("{key} of {kind} {store}"),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{credential_name, words};

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
}
