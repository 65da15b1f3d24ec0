use std::path::Path;

use crate::model::Value;

use super::array;
use super::url_encoded_key_mismatch::values;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP320: a Secret value left empty or at a placeholder.
pub struct SecretValueUnfilled;

static META: Meta = Meta {
    code: "KP320",
    name: "secret-value-unfilled",
    family: Family::References,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a Secret's value is empty or still a placeholder",
    what: "Reads every Secret's values (`data`, base64, and `stringData`), every kustomize \
           `secretGenerator`'s `literals`, and, when the kustomization is checked from disk, the `envs` \
           files it reads. Reports a key whose value is empty or a placeholder (`change-me`, `changeme`, \
           `replace-me`, `todo`, `fixme`, `xxx…`, `<…>`), and a key that the env file's \
           `.env.example` lists but the env file lacks. A missing env file is left to kustomize, which \
           refuses to build without it.",
    why: "A Secret is created whatever its values hold. An empty password or a placeholder shows only \
          when the workload fails to log in, or, worse, when a datastore initialised with the same empty \
          password accepts it. Copying `secrets/*.env.example` (which `kubeproof gen` writes with empty \
          values) without filling it builds exactly such Secrets.",
    fix: "Fill the value from your secret manager (or let an ExternalSecret or SealedSecret produce the \
          Secret), or remove the key if nothing reads it.",
    fail: r#"
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: shop }
stringData:
  POSTGRES_USER: shop
  POSTGRES_PASSWORD: ""
---
apiVersion: v1
kind: Secret
metadata: { name: api-keys, namespace: shop }
stringData: { STRIPE_KEY: change-me }
"#,
    pass: r#"
apiVersion: v1
kind: Secret
metadata: { name: db-credentials, namespace: shop }
stringData:
  POSTGRES_USER: shop
  POSTGRES_PASSWORD: Zq8-vT3w-rL1p
---
apiVersion: v1
kind: Secret
metadata: { name: api-keys, namespace: shop }
stringData: { STRIPE_KEY: sk_live_51Hq8vT3wrL1p }
"#,
};

/// The annotation `kubeproof gen` puts on its in-memory stand-ins for the
/// Secrets a secretGenerator builds: their values are the env file's.
pub const STAND_IN: &str = "kubeproof.dev/stand-in-for";

/// An env file larger than this is not read (it is not a Secret's source).
const MAX_ENV_FILE: u64 = 1 << 20;

impl Check for SecretValueUnfilled {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("Secret") {
            let o = &cx.objects[i];
            if o.value.pointer(&format!("/metadata/annotations/{}", STAND_IN.replace('/', "~1"))).is_some() {
                continue;
            }
            for (key, value, field) in values(&o.value) {
                if let Some(why) = unfilled(&value) {
                    out.report(i, format!("/{field}/{key}"), format!("`{key}` is {why}"))
                        .help("fill it from your secret manager, or remove the key if nothing reads it");
                }
            }
        }
        for &i in cx.index.of_kind("Kustomization") {
            generators(cx, i, out);
        }
    }
}

/// The literals and env files of one kustomization's secretGenerators.
fn generators(cx: &Context, i: usize, out: &mut Sink) {
    let o = &cx.objects[i];
    let dir = cx.sources.get(o.source).and_then(|(name, _)| name.parent()).map(Path::to_path_buf);
    for (g, generator) in array(o.value.get("secretGenerator")) {
        let name = generator.get("name").and_then(Value::as_str).unwrap_or("?");
        for (l, literal) in array(generator.get("literals")) {
            let Some((key, value)) = literal.as_str().and_then(|s| s.split_once('=')) else { continue };
            if let Some(why) = unfilled(value) {
                let at = format!("/secretGenerator/{g}/literals/{l}");
                out.report(i, at, format!("secretGenerator {name}: `{key}` is {why}"))
                    .help("fill it, or generate the Secret from an env file kept out of version control");
            }
        }
        let Some(dir) = &dir else { continue };
        for (e, file) in array(generator.get("envs")) {
            let Some(file) = file.as_str() else { continue };
            for problem in env_file(&dir.join(file)) {
                out.report(i, format!("/secretGenerator/{g}/envs/{e}"), format!("secretGenerator {name}: {problem}"))
                    .help(format!("fill {file} (its keys are listed in {file}.example)"));
            }
        }
    }
}

/// What is wrong with one env file: empty or placeholder values, and keys
/// its `.example` lists that it lacks. Nothing when it cannot be read.
fn env_file(path: &Path) -> Vec<String> {
    let read = |p: &Path| -> Option<String> {
        let meta = std::fs::metadata(p).ok()?;
        (meta.is_file() && meta.len() <= MAX_ENV_FILE).then(|| std::fs::read_to_string(p).ok()).flatten()
    };
    let Some(text) = read(path) else { return Vec::new() };
    let shown = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let entries = env_entries(&text);
    let mut out: Vec<String> = entries
        .iter()
        .filter_map(|(line, key, value)| Some(format!("{shown}:{line}: `{key}` is {}", unfilled(value)?)))
        .collect();
    let mut example = path.as_os_str().to_owned();
    example.push(".example");
    if let Some(listed) = read(Path::new(&example)) {
        for (_, key, _) in env_entries(&listed) {
            if !entries.iter().any(|(_, k, _)| *k == key) {
                out.push(format!("{shown} lacks `{key}`, which {shown}.example lists"));
            }
        }
    }
    out
}

/// `(line, key, value)` of each `KEY=value` line of an env file (comments
/// and blank lines skipped; quotes around the value removed, as kustomize
/// keeps them but a placeholder in quotes is still a placeholder).
fn env_entries(text: &str) -> Vec<(usize, &str, &str)> {
    text.lines()
        .enumerate()
        .filter_map(|(n, line)| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            Some((n + 1, key.trim(), value.trim()))
        })
        .collect()
}

/// Why a value is not a real one: empty, or a placeholder.
fn unfilled(value: &str) -> Option<&'static str> {
    let v = value.trim().trim_matches(|c| c == '"' || c == '\'');
    if v.is_empty() {
        return Some("empty");
    }
    let lower = v.to_ascii_lowercase().replace(['_', '-', ' '], "");
    let placeholder =
        matches!(lower.as_str(), "changeme" | "replaceme" | "todo" | "fixme" | "tbd" | "secret" | "password")
            || (lower.len() >= 3 && lower.chars().all(|c| c == 'x'))
            || (v.starts_with('<') && v.ends_with('>'));
    placeholder.then_some("a placeholder")
}

#[cfg(test)]
mod tests {
    use super::{MAX_ENV_FILE, env_entries, env_file, unfilled};

    #[test]
    fn empty_values_and_placeholders_are_unfilled() {
        for v in ["", "  ", "\"\"", "change-me", "CHANGE_ME", "changeme", "<your token>", "xxxx", "TODO", "replace me"]
        {
            assert!(unfilled(v).is_some(), "{v:?}");
        }
        for v in ["Zq8-vT3w-rL1p", "shop", "0", "x", "postgres://u:p@db:5432/app", "<tag"] {
            assert_eq!(unfilled(v), None, "{v:?}");
        }
    }

    #[test]
    fn env_entries_skip_comments_and_keep_lines() {
        let text = "# keys\nA=1\n\nB=\n  # more\nC = \"x\"\nnot an entry\n";
        assert_eq!(env_entries(text), vec![(2, "A", "1"), (4, "B", ""), (6, "C", "\"x\"")]);
    }

    #[test]
    fn an_env_file_is_read_up_to_a_mebibyte_and_a_folder_never() {
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("app.env");
        let padded = |len: u64| {
            let mut text = "TOKEN=\n".to_string();
            text.push_str(&"#".repeat(len as usize - text.len() - 1));
            text.push('\n');
            text
        };
        std::fs::write(&file, padded(MAX_ENV_FILE)).expect("write");
        assert_eq!(env_file(&file), ["app.env:1: `TOKEN` is empty"]);
        std::fs::write(&file, padded(MAX_ENV_FILE + 1)).expect("write");
        assert_eq!(env_file(&file), Vec::<String>::new());
        assert_eq!(env_file(dir.path()), Vec::<String>::new());
    }
}
