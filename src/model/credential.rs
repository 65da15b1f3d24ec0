//! Credentials written as values, recognised by their shape (a URL's
//! password, an `Authorization` scheme, a vendor's key prefix, a PEM
//! private key, a JWT), whatever their name: the description refuses them
//! and `kubeproof check` reports them (KP121). The shapes are those
//! credentials have by construction, so that URLs without a password,
//! templates, `$(VAR)` references and plain words pass.

use std::sync::LazyLock;

use regex::Regex;

/// Vendors' key prefixes, each followed by at least `min` key characters
/// (letters, digits, `_`, `-`): (prefix, what it is, min).
const PREFIXES: &[(&str, &str, usize)] = &[
    ("sk_live_", "a Stripe secret key", 10),
    ("sk_test_", "a Stripe secret key", 10),
    ("rk_live_", "a Stripe restricted key", 10),
    ("rk_test_", "a Stripe restricted key", 10),
    ("whsec_", "a Stripe webhook secret", 16),
    ("ghp_", "a GitHub token", 20),
    ("gho_", "a GitHub token", 20),
    ("ghs_", "a GitHub token", 20),
    ("ghu_", "a GitHub token", 20),
    ("ghr_", "a GitHub token", 20),
    ("github_pat_", "a GitHub token", 20),
    ("xoxa-", "a Slack token", 10),
    ("xoxb-", "a Slack token", 10),
    ("xoxp-", "a Slack token", 10),
    ("xoxr-", "a Slack token", 10),
    ("xoxs-", "a Slack token", 10),
    ("xapp-", "a Slack token", 10),
    ("glpat-", "a GitLab token", 20),
    ("sk-ant-", "an Anthropic key", 20),
    ("sk-proj-", "an OpenAI key", 20),
    ("npm_", "an npm token", 36),
    ("pypi-AgE", "a PyPI token", 20),
];

/// Key characters after a prefix.
fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// Patterns without a fixed prefix: (pattern, what it is).
static SHAPES: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let shapes = [
        (r"-----BEGIN[A-Z ]* PRIVATE KEY( BLOCK)?-----", "a private key"),
        (r"\b(AKIA|ASIA)[0-9A-Z]{16}\b", "an AWS access key id"),
        (r"\bAIza[0-9A-Za-z_-]{35}", "a Google API key"),
        (r"\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*", "a JSON Web Token"),
        (r"\bSG\.[0-9A-Za-z_-]{16,}\.[0-9A-Za-z_-]{16,}", "a SendGrid key"),
    ];
    shapes.into_iter().map(|(re, what)| (Regex::new(re).expect("a valid pattern"), what)).collect()
});

/// Query parameters that carry a credential.
const SECRET_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "auth",
    "auth_token",
    "api_key",
    "apikey",
    "api-key",
    "key",
    "secret",
    "client_secret",
    "password",
    "passwd",
    "pwd",
    "sig",
    "signature",
    "x-amz-signature",
];

/// What credential `value` holds, if any: "a URL with a password", "a
/// GitHub token"... Templates (`${db.url}`) and `$(VAR)` references are
/// skipped: only the parts written as they are count.
pub fn credential(value: &str) -> Option<&'static str> {
    let literal = literal_parts(value);
    let v = literal.as_str();
    prefixed(v)
        .or_else(|| SHAPES.iter().find(|(re, _)| re.is_match(v)).map(|(_, what)| *what))
        .or_else(|| authorization(v))
        .or_else(|| v.find("://").and_then(|i| in_url(&v[i + 3..])))
}

/// What credential the endpoint `value` holds: as [`credential`], plus
/// userinfo in a `host:port` written without a scheme.
pub fn endpoint_credential(value: &str) -> Option<&'static str> {
    credential(value).or_else(|| if value.contains("://") { None } else { in_url(&literal_parts(value)) })
}

/// An `Authorization` value: the scheme, then a token-like credential (a
/// digit, `+`, `/`, `=` or mixed case in it: not "Basic plan", "Bearer of
/// news", "Basic Authentication"), at least 16 characters for a bearer.
fn authorization(v: &str) -> Option<&'static str> {
    static SCHEME: LazyLock<Regex> =
        // ASCII classes (`-u`): a quarter of the Unicode ones' compile time,
        // which every `gen` pays before anything else can start.
        LazyLock::new(|| Regex::new(r"(?i-u)\b(bearer|basic)\s+([0-9A-Za-z._~+/-]+=*)").expect("a valid pattern"));
    SCHEME.captures_iter(v).find_map(|c| {
        let bearer = c[1].eq_ignore_ascii_case("bearer");
        let token = &c[2];
        let mixed =
            token.chars().skip(1).any(|c| c.is_ascii_uppercase()) && token.chars().any(|c| c.is_ascii_lowercase());
        let token_like = mixed || token.chars().any(|c| c.is_ascii_digit() || "+/=".contains(c));
        let long = token.len() >= if bearer { 16 } else { 8 };
        (token_like && long).then_some(if bearer { "a bearer token" } else { "a basic-auth token" })
    })
}

/// `value` without its `${…}` templates and `$(VAR)` references.
fn literal_parts(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let close = match after.chars().next() {
            Some('{') => after.find('}'),
            Some('(') => after.find(')'),
            _ => None,
        };
        match close {
            Some(end) => rest = &after[end + 1..],
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A vendor's key: a prefix at the start of a word, then enough key characters.
fn prefixed(v: &str) -> Option<&'static str> {
    PREFIXES.iter().find_map(|&(prefix, what, min)| {
        let found = v.match_indices(prefix).any(|(i, _)| {
            let starts_word = !v[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
            starts_word && v[i + prefix.len()..].chars().take_while(|c| key_char(*c)).count() >= min
        });
        found.then_some(what)
    })
}

/// A credential in what follows a URL's `scheme://`: a password in the
/// userinfo, a key-like user name (a Sentry DSN's key), a credential
/// among the query parameters.
fn in_url(rest: &str) -> Option<&'static str> {
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => return Some("a URL with a password"),
            None if userinfo.len() >= 20
                && userinfo.chars().all(key_char)
                && userinfo.chars().any(|c| c.is_ascii_digit()) =>
            {
                return Some("a URL with a key as its user (such as a Sentry DSN)");
            }
            _ => {}
        }
    }
    let query = rest.split_once('?').map(|(_, q)| q.split('#').next().unwrap_or(q))?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| !v.is_empty() && SECRET_PARAMS.iter().any(|p| k.eq_ignore_ascii_case(p)))
        .then_some("a URL with a token in its query")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_found() {
        let cases = [
            ("postgres://admin:hunter2@db:5432/x", "password"),
            ("amqp://u:p@rabbit/vhost", "password"),
            ("Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "bearer"),
            ("Authorization: bearer abcdefghijklmnop1", "bearer"),
            ("Basic YWRtaW46aHVudGVyMg==", "basic"),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe"),
            ("key=ghp_16C7e42F292c6912E7710c838347Ae178B4a", "GitHub"),
            ("xoxb-123456789012-abcdef", "Slack"),
            ("AKIAIOSFODNN7EXAMPLE", "AWS"),
            ("glpat-xxxxxxxxxxxxxxxxxxxx", "GitLab"),
            ("AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "Google"),
            ("-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
            ("-----BEGIN PRIVATE KEY-----", "private key"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig", "JSON Web Token"),
            ("https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/1", "Sentry"),
            ("https://h.example.com/x?a=1&token=abc", "query"),
            ("postgres://admin:hunter2@${db.host}/x", "password"),
        ];
        for (value, what) in cases {
            let found = credential(value);
            assert!(found.is_some_and(|f| f.contains(what)), "{value}: {found:?}, want {what}");
        }
    }

    #[test]
    fn harmless_values_pass() {
        let values = [
            "postgres://db:5432/x",
            "postgres://admin@db:5432/x",
            "postgres://${db.user}:${db.password}@${db.host}/x",
            "${db.url}",
            "http://$(HOST):$(PORT)/health",
            "Bearer $(API_TOKEN)",
            "Basic ${auth.password}",
            "https://api.example.com/v1?page=2&key=",
            "Basic plan",
            "Basic Authentication",
            "basic authentication",
            "Bearer",
            "Bearer of news",
            "basic",
            "production",
            "tsk_1234",
            "ask_live_updates",
            "https://docs.example.com/skip_live_updates",
            "user@example.com",
            "-----BEGIN CERTIFICATE-----",
            "AKIA",
            "a:b@c",
        ];
        for v in values {
            assert_eq!(credential(v), None, "{v}");
        }
    }

    #[test]
    fn endpoints_without_a_scheme_are_read_as_authorities() {
        assert_eq!(endpoint_credential("elastic:changeme@es:9200"), Some("a URL with a password"));
        assert_eq!(endpoint_credential("es:9200"), None);
        assert_eq!(endpoint_credential("otlp.example.com:4317"), None);
    }
}
