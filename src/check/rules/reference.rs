//! The rules reference (`docs/rules.md`), rendered from the registry so that
//! it cannot drift from the checks: `tests/rules_doc.rs` fails when the
//! committed file differs, and `KUBEPROOF_BLESS=1` rewrites it.

use std::fmt::Write;

use super::registry;
use crate::check::config::IGNORE;
use crate::check::{Family, Meta};

/// The command that rewrites `docs/rules.md`, named in the file and in the
/// stale-file failure.
pub const REGENERATE: &str = "KUBEPROOF_BLESS=1 cargo test --test suite rules_doc::";

/// Every check as Markdown: one table of all codes, then per family a
/// heading and per check a section anchored at its lowercase code
/// (`rules.md#kp101`). The same registry always gives the same bytes.
pub fn reference_markdown() -> String {
    let checks: Vec<&'static Meta> = registry().iter().map(|c| c.meta()).collect();
    let mut out = String::new();
    // `write!` to a String cannot fail.
    let _ = write!(
        out,
        "<!-- Generated from the check registry (src/check/rules/) by `{REGENERATE}`.\n     \
         Edit the checks' `Meta`, not this file. -->\n\n\
         # Rules\n\n\
         `kubeproof check` runs {} checks. Each has a stable code: a code never changes meaning, \
         and a retired check leaves its code unused. `kubeproof rules` lists them and \
         `kubeproof explain CODE` shows one.\n\n\
         The severity is the default: `.kubeproof.yaml` changes it per code \
         (`severity: {{ KP208: error, KP205: off }}`) or runs fewer checks (`disable`, `only`), \
         and the annotation `{IGNORE}: \"CODE: reason\"` silences a check on one object \
         (a reason is required: an ignore without one is itself a finding, [KP004](#kp004)).\n\n\
         | Code | Name | Family | Default severity | Summary |\n\
         |------|------|--------|------------------|---------|\n",
        checks.len()
    );
    for m in &checks {
        let family = family_name(m.family);
        let _ = writeln!(
            out,
            "| [{}](#{}) | `{}` | [{family}](#{family}) | {} | {} |",
            m.code,
            anchor(m.code),
            m.name,
            m.severity,
            cell(m.summary)
        );
    }
    let mut current = None;
    for m in &checks {
        if current != Some(m.family) {
            current = Some(m.family);
            let family = family_name(m.family);
            let (title, about) = family_heading(m.family);
            let _ = write!(
                out,
                "\n<a id=\"{family}\"></a>\n\n## {title} ({}xx)\n\n{about}\n",
                m.code.get(..3).unwrap_or(m.code)
            );
        }
        section(&mut out, m);
    }
    out
}

fn section(out: &mut String, m: &Meta) {
    let family = family_name(m.family);
    // The order of `kubeproof explain`: the fix sits between the two examples.
    let _ = write!(
        out,
        "\n<a id=\"{}\"></a>\n\n### {} `{}`\n\n\
         Family: [{family}](#{family}) · default severity: {}\n\n\
         **What it does.** {}\n\n\
         **Why it matters.** {}\n\n\
         **Example that fails:**\n\n{}\n\
         **Fix.** {}\n\n\
         **Example that passes:**\n\n{}\n\
         **Ignore** on one object with `{IGNORE}: \"{}: reason\"`, or for a run with `disable: [{}]` \
         in `.kubeproof.yaml`.\n",
        anchor(m.code),
        m.code,
        m.name,
        m.severity,
        prose(m.what),
        prose(m.why),
        yaml_block(m.fail),
        prose(m.fix),
        yaml_block(m.pass),
        m.code,
        m.code,
    );
}

/// `KP101` → `kp101`: the anchor GitHub would give a heading of the code alone.
fn anchor(code: &str) -> String {
    code.to_ascii_lowercase()
}

/// The family as `kubeproof explain` and the JSON report name it.
fn family_name(f: Family) -> String {
    format!("{f:?}").to_lowercase()
}

/// Heading and one-line scope of each family (exhaustive: a new family does
/// not compile until it is described here).
fn family_heading(f: Family) -> (&'static str, &'static str) {
    match f {
        Family::Schema => ("Schema", "The input itself: schema, API versions, duplicate objects, ignore annotations."),
        Family::Security => ("Security", "Pod and container security, and RBAC."),
        Family::Reliability => (
            "Reliability",
            "Availability, scaling and disruption: resources, probes, replica counts, autoscalers, disruption \
             budgets and rollouts.",
        ),
        Family::References => (
            "References",
            "References between objects: Services to pods, pods to their ConfigMaps, Secrets, claims and \
             accounts, Ingresses to Services, autoscalers and bindings to their targets.",
        ),
        Family::Network => (
            "Network",
            "Network policies: what they select, whether namespaces deny by default, and whether the traffic \
             the configuration implies is allowed.",
        ),
        Family::Mesh => (
            "Mesh",
            "The Istio service mesh: routes that lead nowhere, traffic splits, mutual TLS settings that \
             contradict each other, authorization policies naming identities that do not exist, hosts claimed \
             twice.",
        ),
        Family::Observability => (
            "Observability",
            "Monitoring and alerting: PromQL, alert labels and routing, monitors that scrape nothing, queries \
             on metrics nothing exports, dashboards.",
        ),
        Family::Budget => (
            "Budget",
            "Capacity and quotas: what workloads request against the ResourceQuotas and LimitRanges of their \
             namespaces.",
        ),
    }
}

/// A table cell: one line of prose, and a `|` in the text does not end the cell.
fn cell(text: &str) -> String {
    prose(&text.split_whitespace().collect::<Vec<_>>().join(" ")).replace('|', "\\|")
}

/// The documentation is plain text with `code` spans (as `kubeproof explain`
/// prints it): outside the spans, `*` and `<` are literal (`vm.*, kernel.*`
/// would otherwise turn into emphasis, `<name>` into an HTML tag).
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for ch in text.trim().chars() {
        match ch {
            '`' => in_code = !in_code,
            '*' | '<' | '\\' if !in_code => out.push('\\'),
            _ => {}
        }
        out.push(ch);
    }
    out
}

/// A fenced YAML block, its fence longer than any backtick run inside.
fn yaml_block(text: &str) -> String {
    let mut fence = "```".to_string();
    while text.contains(fence.as_str()) {
        fence.push('`');
    }
    format!("{fence}yaml\n{}\n{fence}\n", text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table_rows(doc: &str) -> Vec<&str> {
        doc.lines().filter(|l| l.starts_with("| [KP")).collect()
    }

    #[test]
    fn every_code_has_one_table_row_and_one_section() {
        let doc = reference_markdown();
        let rows = table_rows(&doc);
        assert_eq!(rows.len(), registry().len());
        for c in registry() {
            let code = c.meta().code;
            let row = format!("| [{code}](#{}) | `{}` |", anchor(code), c.meta().name);
            assert_eq!(rows.iter().filter(|r| r.starts_with(&row)).count(), 1, "{code}: table row");
            let target = format!("<a id=\"{}\"></a>\n\n### {code} ", anchor(code));
            assert_eq!(doc.matches(&target).count(), 1, "{code}: section");
        }
    }

    #[test]
    fn table_comes_first_and_sections_follow_in_code_order() {
        let doc = reference_markdown();
        let last_row = doc.rfind("\n| [KP").expect("a table");
        let mut previous = last_row;
        for c in registry() {
            let at = doc.find(&format!("\n### {} ", c.meta().code)).expect("a section");
            assert!(at > previous, "{} is out of order", c.meta().code);
            previous = at;
        }
        let codes: Vec<&str> = table_rows(&doc).iter().map(|r| &r[3..8]).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn every_family_has_one_heading_before_its_checks() {
        let doc = reference_markdown();
        let mut families: Vec<Family> = registry().iter().map(|c| c.meta().family).collect();
        families.dedup();
        for f in families {
            let heading = format!("\n## {} (", family_heading(f).0);
            assert_eq!(doc.matches(&heading).count(), 1, "{f:?}");
            let first = registry().iter().find(|c| c.meta().family == f).map(|c| c.meta().code).unwrap_or_default();
            assert!(doc.find(&heading) < doc.find(&format!("\n### {first} ")), "{f:?} heading after {first}");
        }
    }

    #[test]
    fn fixtures_are_fenced_yaml_blocks() {
        let doc = reference_markdown();
        for c in registry() {
            let m = c.meta();
            let start = doc.find(&format!("\n### {} ", m.code)).unwrap_or_default();
            let section = &doc[start..];
            let end = section[1..].find("\n### ").map_or(section.len(), |e| e + 1);
            let section = &section[..end];
            for fixture in [m.fail, m.pass] {
                let block = yaml_block(fixture);
                assert!(block.starts_with("```yaml\n") && section.contains(&block), "{}", m.code);
            }
            assert!(section.contains(&format!("{IGNORE}: \"{}: reason\"", m.code)), "{}", m.code);
        }
    }

    #[test]
    fn cells_and_fences_survive_markdown_in_the_text() {
        assert_eq!(cell("a | b\n  c"), "a \\| b c");
        assert_eq!(prose(" vm.*, `a.*` <x> "), "vm.\\*, `a.*` \\<x>");
        assert_eq!(yaml_block("a: 1\n"), "```yaml\na: 1\n```\n");
        assert_eq!(yaml_block("s: \"```\"\n"), "````yaml\ns: \"```\"\n````\n");
    }

    #[test]
    fn rendering_is_deterministic() {
        assert_eq!(reference_markdown(), reference_markdown());
    }
}
