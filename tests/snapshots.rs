//! Snapshots of what kubeproof writes and says: the whole generated tree for
//! the starter description, and the rendered diagnostics of bad descriptions.
//! A failing snapshot is a change to review, not to accept: run with
//! `INSTA_UPDATE=new` (insta writes `*.snap.new` beside each snapshot), read
//! each `diff -u X.snap X.snap.new` as a platform engineer would, and move only
//! the ones you can explain over their `.snap` (or use `cargo insta review`).
//! A snapshot never replaces an assertion on the behaviour it shows.

use std::fmt::Write as _;
use std::path::Path;

use kubeproof::description::starter::STARTER;

/// Every generated file as `=== path ===` and its contents, in path order,
/// without the bookkeeping manifest (its hashes repeat the files).
fn tree_text(description: &str) -> String {
    let platform = kubeproof::description::parse(description, Path::new("platform.yaml")).expect("a valid description");
    let built = kubeproof::build::build(&platform, Path::new("platform.yaml")).expect("generated");
    let mut out = String::new();
    for (path, bytes) in built.tree.iter() {
        if path == Path::new(".kubeproof/manifest") {
            continue;
        }
        let text = std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{} is not UTF-8: {e}", path.display()));
        write!(out, "=== {} ===\n{text}", path.display()).unwrap();
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// The diagnostics of a bad description, rendered as `gen` prints them.
fn diagnostics(text: &str) -> String {
    let diags = match kubeproof::description::parse(text, Path::new("platform.yaml")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d,
    };
    let text = text.to_string();
    kubeproof::diag::render::render_all(&diags, &|_| Some(std::borrow::Cow::Borrowed(text.as_str())), false)
}

fn starter_with(old: &str, new: &str) -> String {
    assert_eq!(STARTER.matches(old).count(), 1, "`{old}` must occur exactly once in the starter");
    STARTER.replacen(old, new, 1)
}

#[test]
fn starter_tree() {
    insta::assert_snapshot!("starter_tree", tree_text(STARTER));
}

#[test]
fn starter_tree_is_deterministic() {
    assert_eq!(tree_text(STARTER), tree_text(STARTER));
}

#[test]
fn diagnostics_typo_and_bad_quantity() {
    // A syntax or type error stops the reading: only the first is reported.
    let text = starter_with("    replicas: { min: 2, max: 6 }", "    replicsa: { min: 2, max: 6 }");
    insta::assert_snapshot!("diagnostics_typo", diagnostics(&text));
    let text = starter_with("memory: 256Mi,", "memory: 5Gb,");
    insta::assert_snapshot!("diagnostics_quantity", diagnostics(&text));
}

#[test]
fn diagnostics_several_at_once() {
    let text = STARTER
        .replacen("apiVersion: kubeproof.dev/v1alpha1", "apiVersion: kubeproof.dev/v2", 1)
        .replacen("      web: { replicas", "      wbe: { replicas", 1)
        .replacen("uses: [db, cache]", "uses: [dbb, web]", 1)
        .replacen(
            "  cache: { engine: redis, storage: 2Gi }",
            "  cache: { engine: redis, storage: 2Gi }\n  web: { engine: redis, storage: 1Gi }",
            1,
        );
    insta::assert_snapshot!("diagnostics_several", diagnostics(&text));
}

#[test]
fn diagnostics_unclosed_bracket() {
    let text = starter_with("uses: [db, cache]", "uses: [db, cache");
    insta::assert_snapshot!("diagnostics_unclosed", diagnostics(&text));
}
