use crate::model::Value;
use base64::Engine as _;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP318: a Secret's `X_URLENCODED` key is not `X` percent-encoded.
pub struct UrlEncodedKeyMismatch;

static META: Meta = Meta {
    code: "KP318",
    name: "url-encoded-key-mismatch",
    family: Family::References,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a Secret's `X_URLENCODED` key is not its `X` key percent-encoded",
    what: "Reads every Secret with both a key `X` and a key `X_URLENCODED` (in `data`, base64, or \
           `stringData`) and reports the pair when `X_URLENCODED` holds a character a URL's user or \
           password cannot carry as is, or when decoding its `%XX` escapes does not give `X`.",
    why: "Connection URLs that `kubeproof gen` composes from a credential (`DB_URL` of `uses: [db]`, \
          `${db.url}` in `env`) read its \
          percent-encoded form, because the kubelet's `$(VAR)` expansion cannot encode: the Secret holds \
          both. When they differ, the server is set up with one password and the clients log in with \
          another, and a raw `@`, `/`, `:` or `%` in a URL makes clients connect to the wrong host or \
          reject the URL.",
    fix: "Fill `X_URLENCODED` from `X` with `jq -rn --arg v \"$X\" '$v|@uri'` (what the generated \
          `secrets/NAME.env.example` says), and rebuild the Secret.",
    fail: r#"
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: shop }
stringData:
  POSTGRES_PASSWORD: "p@ss/w:rd% x"
  POSTGRES_PASSWORD_URLENCODED: "p@ss/w:rd% x"
"#,
    pass: r#"
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: shop }
stringData:
  POSTGRES_PASSWORD: "p@ss/w:rd% x"
  POSTGRES_PASSWORD_URLENCODED: "p%40ss%2Fw%3Ard%25%20x"
"#,
};

const SUFFIX: &str = "_URLENCODED";

/// The Secret's keys and values: `data` decoded, then `stringData` (which
/// the API server writes over `data`).
pub(super) fn values(secret: &Value) -> Vec<(String, String, &'static str)> {
    let mut out: Vec<(String, String, &'static str)> = Vec::new();
    let b64 = base64::engine::general_purpose::STANDARD;
    for (field, encoded) in [("data", true), ("stringData", false)] {
        for (k, v) in secret.get(field).and_then(Value::as_object).into_iter().flatten() {
            let Some(s) = v.as_str() else { continue };
            let text =
                if encoded { b64.decode(s).ok().and_then(|b| String::from_utf8(b).ok()) } else { Some(s.into()) };
            if let Some(t) = text {
                out.retain(|(key, ..)| key.as_str() != k.as_str());
                out.push((k.to_string(), t, field));
            }
        }
    }
    out
}

/// `s` with its `%XX` escapes decoded, when every other byte is one a URL's
/// user or password carries as is (RFC 3986 unreserved and sub-delims).
fn decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b) {
            out.push(b);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

impl Check for UrlEncodedKeyMismatch {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("Secret") {
            let o = &cx.objects[i];
            let all = values(&o.value);
            for (key, encoded, field) in &all {
                let Some(raw_key) = key.strip_suffix(SUFFIX) else { continue };
                let Some((_, raw, _)) = all.iter().find(|(k, ..)| k == raw_key) else { continue };
                if decode(encoded).as_deref() == Some(raw.as_str()) {
                    continue;
                }
                out.report(i, format!("/{field}/{key}"), format!("`{key}` is not `{raw_key}` percent-encoded"))
                    .help(format!("set it to the output of `jq -rn --arg v \"${raw_key}\" '$v|@uri'`"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn decodes_only_what_a_url_carries() {
        assert_eq!(decode("p%40ss%2Fw%3Ard%25%20x").as_deref(), Some("p@ss/w:rd% x"));
        assert_eq!(decode("a!b*c").as_deref(), Some("a!b*c"));
        assert_eq!(decode("p@ss"), None);
        assert_eq!(decode("50%"), None);
        assert_eq!(decode("%zz"), None);
    }
}
