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

/// A host name of DNS labels; the first may be `*`.
pub(super) fn is_hostname(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|l| is_label(l) || (l.starts_with("*") && l.len() == 1))
}
