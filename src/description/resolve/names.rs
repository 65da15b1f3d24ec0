//! The forms of written values: pinned image references, environment variable
//! names, DNS labels and host names.

pub(super) use crate::description::validate::is_label;

/// Image references must be pinned: a tag other than `latest`, or a digest.
pub(super) fn check_image(image: &str) -> Result<(), String> {
    if image.is_empty() || image.contains(char::is_whitespace) {
        return Err(format!("invalid image reference {image:?}"));
    }
    if image.contains("@sha256:") {
        return Ok(());
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Err(format!("image `{image}` has no tag, so it means `latest`")),
        Some((_, "latest")) => Err(format!("image `{image}` uses the mutable tag `latest`")),
        Some((_, "")) => Err(format!("image `{image}` has an empty tag")),
        Some(_) => Ok(()),
    }
}

/// An environment variable name: letters, digits and '_', not starting with a digit.
pub(super) fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A public host name as an Ingress, a Gateway or a ServiceEntry takes it:
/// lower-case DNS labels, no wildcard, scheme, port or path. Err: what is
/// wrong, and the fix (with the host as it should be written, when it can
/// be told).
pub(super) fn check_host(s: &str) -> Result<(), (String, String)> {
    let bare = |h: &str| {
        let h = h.split_once("://").map_or(h, |(_, rest)| rest);
        let h = h.split('/').next().unwrap_or(h);
        h.rsplit_once(':').filter(|(_, p)| p.parse::<u16>().is_ok()).map_or(h, |(h, _)| h).to_lowercase()
    };
    if let Some((scheme, _)) = s.split_once("://") {
        let help =
            format!("write the host alone, `{}`: the scheme is decided by the exposure (TLS at the edge)", bare(s));
        return Err((format!("host `{s}` has a scheme (`{scheme}://`)"), help));
    }
    if let Some((host, path)) = s.split_once('/') {
        let help = format!("write `host: {host}` and `path: /{path}`");
        return Err((format!("host `{s}` has a path"), help));
    }
    if s.contains('*') {
        let help = "name each host in full, e.g. `api.example.com`: a wildcard host needs a wildcard certificate, \
                    which cert-manager's HTTP-01 challenge cannot issue, and `*` alone is refused by the API server";
        return Err((format!("wildcard host `{s}`"), help.into()));
    }
    if let Some((host, _)) = s.rsplit_once(':') {
        let help = format!("write the host alone, `{host}`: the edge listens on 443 (and 80 to redirect)");
        return Err((format!("host `{s}` has a port"), help));
    }
    if s.chars().any(|c| c.is_ascii_uppercase()) {
        let help = format!("write it in lower case: `{}`", s.to_lowercase());
        return Err((format!("host `{s}` has upper-case letters"), help));
    }
    if s.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit())) {
        let help = "name the host by its DNS name; an Ingress or Gateway host cannot be an IP address".to_string();
        return Err((format!("host `{s}` is an IP address"), help));
    }
    if s.len() > 253 || !s.split('.').all(is_label) {
        let help = "DNS labels of lower-case letters, digits and '-' separated by dots, e.g. `api.example.com`";
        return Err((format!("invalid host name `{s}`"), help.into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_host;

    fn fix(s: &str) -> String {
        check_host(s).expect_err(s).1
    }

    #[test]
    fn hosts_are_bare_lower_case_dns_names() {
        assert!(check_host("api.example.com").is_ok());
        assert!(check_host("localhost").is_ok());
        assert!(fix("https://Api.example.com/v1").starts_with("write the host alone, `api.example.com`"));
        assert_eq!(fix("api.example.com/v1/x"), "write `host: api.example.com` and `path: /v1/x`");
        assert!(fix("*.example.com").starts_with("name each host in full"));
        assert!(fix("*").starts_with("name each host in full"));
        assert!(fix("api.example.com:8443").starts_with("write the host alone, `api.example.com`"));
        assert_eq!(fix("API.example.com"), "write it in lower case: `api.example.com`");
        assert!(fix("10.0.0.1").contains("IP address"));
        assert!(fix("api_x.example.com").starts_with("DNS labels"));
        assert!(fix("api..example.com").starts_with("DNS labels"));
        assert!(check_host(&format!("{}.com", "a.".repeat(130))).is_err());
    }
}
