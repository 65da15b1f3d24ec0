//! The house's layers, enforced: every `crate::` path written in the code of
//! `src/` (imports and inline paths; comments and strings are skipped) may
//! name only a top-level module its own module is allowed to depend on.
//! Nothing imports upward, no two top-level modules import each other, and a
//! check family's helpers stay inside the family.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and the modules it may use, lowest first.
/// The root's items (`crate::Error`, the error every command ends with) may
/// be used from anywhere.
const LAYERS: &[(&str, &[&str])] = &[
    ("diag", &[]),
    ("model", &["diag"]),
    ("engines", &["diag", "model"]),
    ("components", &["diag", "model"]),
    ("description", &["diag", "model", "engines", "components"]),
    ("generate", &["diag", "model", "engines", "components", "description"]),
    ("emit", &["diag", "model", "engines", "components", "description", "generate"]),
    ("check", &["diag", "model", "engines", "components"]),
    ("build", &["diag", "model", "engines", "components", "description", "generate", "emit", "check"]),
    ("reach", &["diag", "model"]),
    ("diff", &["diag", "model"]),
    ("graph", &["diag", "model", "engines", "components", "description"]),
    ("budget", &["diag", "model", "engines", "components", "description", "generate", "build"]),
    (
        "cli",
        &[
            "diag",
            "model",
            "engines",
            "components",
            "description",
            "generate",
            "emit",
            "check",
            "build",
            "reach",
            "graph",
            "budget",
            "diff",
        ],
    ),
];

/// The check families (`src/check/rules/FAMILY/`): their helpers are theirs alone.
const FAMILIES: &[&str] =
    &["budget", "mesh", "network", "observability", "references", "reliability", "schema", "security"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src/ is readable").flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The text with comments and the contents of string and char literals
/// blanked out (kept as spaces so that line numbers stay).
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |s: &[u8], out: &mut String| {
        for &c in s {
            out.push(if c == b'\n' { '\n' } else { ' ' });
        }
    };
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |n| i + n);
            blank(&b[i..end], &mut out);
            i = end;
        } else if b[i..].starts_with(b"/*") {
            let end = text[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
            blank(&b[i..end], &mut out);
            i = end;
        } else if b[i] == b'r' && (b[i + 1..].starts_with(b"\"") || b[i + 1..].starts_with(b"#")) {
            // A raw string r"…" or r#"…"#: find its own closing quote and hashes.
            let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
            if b.get(i + 1 + hashes) != Some(&b'"') {
                out.push(b[i] as char);
                i += 1;
                continue;
            }
            let close = format!("\"{}", "#".repeat(hashes));
            let start = i + 2 + hashes;
            let end = text[start..].find(&close).map_or(b.len(), |n| start + n + close.len());
            blank(&b[i..end], &mut out);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&b[i..end], &mut out);
            i = end;
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            blank(&b[i..i + 3], &mut out);
            i += 3;
        } else if b[i] == b'\'' && b.get(i + 1) == Some(&b'\\') {
            let end = b[i + 2..].iter().position(|&c| c == b'\'').map_or(b.len(), |n| i + 2 + n + 1);
            blank(&b[i..end], &mut out);
            i = end;
        } else {
            // Multi-byte UTF-8 characters are copied whole.
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Every `crate::a::b…` path in the code, expanded through `use crate::{…}`
/// groups, with its line.
fn crate_paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let mut out = Vec::new();
    let mut rest = code;
    let mut offset = 0;
    while let Some(at) = rest.find("crate::") {
        let start = offset + at;
        let before = code[..start].chars().next_back();
        let after = &code[start + "crate::".len()..];
        offset = start + "crate::".len();
        rest = &code[offset..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let line = code[..start].matches('\n').count() + 1;
        if let Some(group) = after.strip_prefix('{') {
            // `use crate::{a::b, c}`: the first segment of each member.
            let mut depth = 1;
            let mut member = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    let m: Vec<String> = member.trim().split("::").map(|s| s.trim().to_string()).collect();
                    if !m[0].is_empty() {
                        out.push((line, m));
                    }
                    member.clear();
                    if depth == 0 {
                        break;
                    }
                } else {
                    member.push(c);
                }
            }
            continue;
        }
        let path: String = after.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':').collect();
        out.push((line, path.split("::").filter(|s| !s.is_empty()).map(str::to_string).collect()));
    }
    out
}

/// The top-level module a file of `src/` belongs to (`None` for the root).
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (!matches!(name.as_str(), "lib" | "main")).then_some(name)
}

/// The check family of a file under `src/check/rules/FAMILY/`.
fn family_of(rel: &Path) -> Option<String> {
    let parts: Vec<String> = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    (parts.len() >= 4 && parts[0] == "check" && parts[1] == "rules").then(|| parts[2].clone())
}

struct Violation {
    file: PathBuf,
    line: usize,
    message: String,
}

fn violations(src: &Path) -> (Vec<Violation>, BTreeMap<String, BTreeSet<String>>) {
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        LAYERS.iter().map(|(m, deps)| (*m, deps.iter().copied().collect())).collect();
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut found = Vec::new();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("under src").to_path_buf();
        let Some(module) = module_of(&rel) else { continue };
        let text = std::fs::read_to_string(&file).expect("source is UTF-8");
        let code = code_only(&text);
        let mut report = |line, message: String| found.push(Violation { file: rel.clone(), line, message });
        let Some(deps) = allowed.get(module.as_str()) else {
            report(1, format!("top-level module `{module}` is not in tests/layering.rs's LAYERS: declare its layer"));
            continue;
        };
        for (line, path) in crate_paths(&code) {
            let target = path[0].as_str();
            // The root's items (`crate::Error`, `crate::Invalid`) are shared by every layer.
            if target.starts_with(char::is_uppercase) || target == "self" {
                continue;
            }
            if let Some(mine) = family_of(&rel)
                && target == "check"
                && path.get(1).is_some_and(|s| s == "rules")
                && let Some(theirs) = path.get(2).filter(|f| FAMILIES.contains(&f.as_str()))
                && *theirs != mine
            {
                report(line, format!("family `{mine}` uses family `{theirs}`'s helper `crate::{}`", path.join("::")));
            }
            if target == module {
                continue;
            }
            edges.entry(module.clone()).or_default().insert(target.to_string());
            if !deps.contains(target) {
                report(line, format!("`{module}` may not use `crate::{}`", path.join("::")));
            }
            // Outside `check`, only the registry of `check::rules` is public.
            if target == "check"
                && path.get(1).is_some_and(|s| s == "rules")
                && path.get(2).is_some_and(|f| FAMILIES.contains(&f.as_str()))
            {
                report(line, format!("`crate::{}` reaches into a check family", path.join("::")));
            }
        }
    }
    (found, edges)
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_module_imports_against_the_layers() {
    let (found, _) = violations(&src());
    let text: Vec<String> =
        found.iter().map(|v| format!("src/{}:{}: {}", v.file.display(), v.line, v.message)).collect();
    assert!(text.is_empty(), "{} import(s) against the layers:\n{}", text.len(), text.join("\n"));
}

#[test]
fn no_import_circle_between_top_level_modules() {
    let (_, edges) = violations(&src());
    // Depth-first search for a back edge.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut circle = path[i..].to_vec();
            circle.push(m.to_string());
            return Some(circle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for n in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(n, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        if let Some(circle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            panic!("import circle: {}", circle.join(" → "));
        }
    }
}

#[test]
fn every_top_level_module_has_a_layer() {
    let declared: BTreeSet<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    for f in files {
        let rel = f.strip_prefix(src()).expect("under src").to_path_buf();
        if let Some(m) = module_of(&rel) {
            assert!(declared.contains(m.as_str()), "src/{} belongs to `{m}`, which has no layer", rel.display());
        }
    }
    // The layers only point down the list.
    for (i, (m, deps)) in LAYERS.iter().enumerate() {
        for d in *deps {
            let j = LAYERS.iter().position(|(n, _)| n == d).unwrap_or(usize::MAX);
            assert!(j < i, "`{m}` may use `{d}`, which is not below it in LAYERS");
        }
    }
}

/// The test's own reader: it must see imports where they are and not in
/// comments or strings, or the layering test could not fail.
#[test]
fn the_reader_finds_paths_and_skips_comments_and_strings() {
    let code = code_only(
        "use crate::model::{At, index::Index};\n// crate::cli in a comment\nlet s = \"crate::cli\";\nlet r = r#\"crate::cli\"#;\n/* crate::cli */ let x = crate::generate::f();\nlet c = 'x'; use crate::{diag::Pos, check};\n",
    );
    let found: Vec<(usize, String)> = crate_paths(&code).into_iter().map(|(l, p)| (l, p.join("::"))).collect();
    assert_eq!(
        found,
        [
            (1, "model".to_string()),
            (5, "generate::f".to_string()),
            (6, "diag::Pos".to_string()),
            (6, "check".to_string())
        ]
    );
}

#[test]
fn a_planted_upward_import_is_caught() {
    let dir = tempfile::tempdir().expect("temp dir");
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).expect("mkdir");
    std::fs::write(model.join("mod.rs"), "use crate::check::Context;\nfn f() { crate::diag::x(); }\n").expect("write");
    let rules = dir.path().join("check/rules/network");
    std::fs::create_dir_all(&rules).expect("mkdir");
    std::fs::write(rules.join("x.rs"), "use crate::check::rules::references::PortRef;\n").expect("write");
    let (found, _) = violations(dir.path());
    let messages: Vec<&str> = found.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "family `network` uses family `references`'s helper `crate::check::rules::references::PortRef`",
            "`model` may not use `crate::check::Context`",
        ]
    );
}

/// `lib.rs` introduces every top-level module in one line, in layer order.
#[test]
fn lib_rs_documents_every_module_in_layer_order() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let declared: BTreeSet<&str> = lib.lines().filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';')).collect();
    let documented: Vec<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("//! - [`")?.split_once("`]").map(|(m, _)| m)).collect();
    assert_eq!(declared, documented.iter().copied().collect(), "`pub mod` lines and the module list in lib.rs's docs");
    let layers: Vec<&str> = LAYERS.iter().map(|(m, _)| *m).filter(|m| declared.contains(m)).collect();
    assert_eq!(documented, layers, "lib.rs lists the modules in LAYERS' order");
}
