//! docs/rules.md is rendered from the check registry; this fails when the
//! committed file is stale, and rewrites it under `KUBEPROOF_BLESS=1`.

use std::path::Path;

use kubeproof::check::rules::{REGENERATE, reference_markdown};

#[test]
fn docs_rules_md_matches_the_registry() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let want = reference_markdown();
    if std::env::var_os("KUBEPROOF_BLESS").is_some_and(|v| v == "1") {
        if let Err(e) = std::fs::write(&path, &want) {
            panic!("cannot write {}: {e}", path.display());
        }
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have != want {
        let (have_lines, want_lines): (Vec<&str>, Vec<&str>) = (have.lines().collect(), want.lines().collect());
        let line =
            (0..have_lines.len().max(want_lines.len())).find(|&i| have_lines.get(i) != want_lines.get(i)).unwrap_or(0);
        panic!(
            "docs/rules.md is stale: line {} is\n    {}\nbut the registry renders\n    {}\nRegenerate it with:\n\n    {REGENERATE}\n",
            line + 1,
            have_lines.get(line).unwrap_or(&"(end of file)"),
            want_lines.get(line).unwrap_or(&"(end of file)"),
        );
    }
}
