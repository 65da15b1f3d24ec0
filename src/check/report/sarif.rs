//! SARIF 2.1.0 (OASIS), as GitHub code scanning and other SARIF viewers read it.
//!
//! - One run; `tool.driver.rules` lists every check of the registry (not only
//!   those that fired), in code order, so that `ruleIndex` is stable within a
//!   release and viewers can show the documentation of any rule.
//! - One result per finding, with a physical location (the file as given,
//!   as a URI reference, and the 1-based line and column) and a logical
//!   location (the object, `Kind/namespace/name`).
//! - `partialFingerprints` hash what identifies a finding and not where it
//!   is: code, file, object, field pointer and message. Lines moving (an
//!   object added above) keep every fingerprint, so code scanning keeps
//!   tracking the same alert.
//! - Inputs that could not be read are `toolExecutionNotifications` of the
//!   invocation (code scanning wants a `ruleId` on every result, and shows
//!   notifications on the tool status page), and make `executionSuccessful`
//!   false (the run exits with 2).
//! - No timestamps, no absolute paths that were not given, stable order: the
//!   same input gives the same bytes.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use super::Stream;
use crate::check::{Check, Finding, Meta, Outcome, Severity, rules, shown_id};

use crate::diag::{Pos, clip};
use crate::model::Loaded;

/// The `$schema` written in the log: the OASIS schema of SARIF 2.1.0 (errata 01).
pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
/// Where to read about kubeproof.
pub const INFORMATION_URI: &str = "https://kubeproof.dev";
/// The key of kubeproof's fingerprint in `partialFingerprints`; the version
/// changes if what is hashed ever changes.
pub const FINGERPRINT_KEY: &str = "kubeproofFinding/v1";

#[derive(Serialize)]
#[serde(bound(serialize = "Stream<F>: Serialize"))]
struct Log<F> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<F>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase", bound(serialize = "Stream<F>: Serialize"))]
struct Run<F> {
    tool: Tool,
    invocations: Vec<Invocation>,
    /// Columns count characters (Unicode code points), as in the text report.
    column_kind: &'static str,
    /// Written as they are made, one by one.
    results: Stream<F>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: &'static str,
    short_description: Text,
    full_description: Text,
    help: Help,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    /// The Helm template of the object (`locations` has the stream's file,
    /// which exists; the template path does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<ResultProperties>,
}

#[derive(Serialize)]
struct ResultProperties {
    template: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

/// The SARIF level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Writes a run as a SARIF 2.1.0 log (pretty JSON, ending with a newline).
pub fn write(loaded: &Loaded, outcome: &Outcome, out: &mut dyn Write) -> io::Result<()> {
    let registry = rules::registry();
    let rules: Vec<Rule> = registry.iter().map(|c| rule(c.meta())).collect();
    let results = || outcome.findings.iter().map(|f| result(loaded, registry, f));
    let notifications = loaded
        .errors
        .iter()
        .map(|d| Notification {
            level: level(d.severity),
            message: Text {
                text: d.help.as_ref().map_or_else(|| d.message.clone(), |h| format!("{}\nhelp: {h}", d.message)),
            },
            locations: vec![Location { physical_location: physical(uri(&d.file), d.pos), logical_locations: vec![] }],
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "kubeproof",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: INFORMATION_URI,
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: loaded.errors.is_empty(),
                tool_execution_notifications: notifications,
            }],
            column_kind: "unicodeCodePoints",
            results: Stream(results),
        }],
    };
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}

/// The result of one finding.
fn result(loaded: &Loaded, registry: &[&dyn Check], f: &Finding) -> SarifResult {
    let o = &loaded.objects[f.object];
    let uri = uri(&loaded.sources[o.source].name);
    let id = shown_id(o);
    let mut message = format!("{id}: {}", f.message);
    if let Some(t) = o.template() {
        message.push_str(&format!(" (from template {t})"));
    }
    if let Some(help) = &f.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let fingerprint = fingerprint(&[f.code, &uri, &id, &f.pointer, &f.message]);
    SarifResult {
        rule_id: f.code,
        rule_index: registry.iter().position(|c| c.meta().code == f.code),
        level: level(f.severity),
        message: Text { text: message },
        locations: vec![Location {
            physical_location: physical(uri, f.pos(o)),
            logical_locations: vec![LogicalLocation {
                name: clip(&o.name).into_owned(),
                fully_qualified_name: id,
                kind: "resource",
            }],
        }],
        partial_fingerprints: [(FINGERPRINT_KEY, fingerprint)].into(),
        properties: o.template().map(|t| ResultProperties { template: t.to_string() }),
    }
}

fn rule(m: &'static Meta) -> Rule {
    let family = format!("{:?}", m.family).to_lowercase();
    Rule {
        id: m.code,
        name: m.name,
        short_description: Text { text: m.summary.to_string() },
        full_description: Text { text: m.what.to_string() },
        help: Help { text: format!("{}\n\nFix: {}", m.why, m.fix), markdown: markdown(m) },
        default_configuration: Configuration { level: level(m.severity) },
        properties: RuleProperties { tags: vec!["kubernetes".to_string(), family] },
    }
}

/// The documentation of a check as Markdown, with its fixtures.
fn markdown(m: &Meta) -> String {
    format!(
        "**{} {}** ({})\n\n{}\n\n## Why it matters\n{}\n\n## Fix\n{}\n\n\
         ## Example that fails\n```yaml\n{}\n```\n\n## Example that passes\n```yaml\n{}\n```\n",
        m.code,
        m.name,
        m.severity,
        m.what,
        m.why,
        m.fix,
        m.fail.trim(),
        m.pass.trim()
    )
}

fn physical(uri: String, pos: Pos) -> PhysicalLocation {
    let region =
        pos.is_known().then(|| Region { start_line: pos.line, start_column: (pos.column > 0).then_some(pos.column) });
    PhysicalLocation { artifact_location: ArtifactLocation { uri }, region }
}

/// `partialFingerprints` value: the first 128 bits of SHA-256 over the parts
/// (separated by NUL, which none of them contains), in hex.
fn fingerprint(parts: &[&str]) -> String {
    let mut full = crate::model::digest::sha256_hex(parts.join("\0").as_bytes());
    full.truncate(32);
    full
}

/// A file name as a SARIF URI reference: relative paths stay relative (with
/// forward slashes, without a leading `./`) so that viewers resolve them
/// against the checkout; absolute paths become `file://` URIs. Characters a
/// URI cannot carry are percent-encoded (`<stdin>` is `%3Cstdin%3E`).
pub fn uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let absolute = path.is_absolute() || text.starts_with('/');
    let mut rest = text.as_str();
    while let Some(r) = rest.strip_prefix("./") {
        rest = r;
    }
    let mut out = String::new();
    if absolute {
        out.push_str("file://");
        if !rest.starts_with('/') {
            // A Windows drive (`C:/x`) still needs the empty authority's slash.
            out.push('/');
        }
    }
    for b in rest.bytes() {
        // `:` only in absolute paths: in a relative one it would read as a scheme.
        let keep = b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) || (absolute && b == b':');
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references_or_file_uris() {
        assert_eq!(uri(Path::new("deploy/base/app.yaml")), "deploy/base/app.yaml");
        assert_eq!(uri(Path::new("./deploy/app.yaml")), "deploy/app.yaml");
        assert_eq!(uri(Path::new("<stdin>")), "%3Cstdin%3E");
        assert_eq!(uri(Path::new("my dir/a#1.yaml")), "my%20dir/a%231.yaml");
        assert_eq!(uri(Path::new("a:b.yaml")), "a%3Ab.yaml");
        assert_eq!(uri(Path::new("/srv/x y/é.yaml")), "file:///srv/x%20y/%C3%A9.yaml");
        assert_eq!(uri(Path::new("..\\up\\a.yaml")), "../up/a.yaml");
    }

    #[test]
    fn fingerprints_are_short_stable_and_separate_parts() {
        let a = fingerprint(&["KP003", "a.yaml", "ConfigMap/shop/x", "/metadata/name", "m"]);
        assert_eq!(a.len(), 32);
        assert_eq!(a, fingerprint(&["KP003", "a.yaml", "ConfigMap/shop/x", "/metadata/name", "m"]));
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}
