//! Input discovery: which files an invocation names. `-` is stdin, a file is
//! read whatever its name, a folder is searched for manifests (hidden entries
//! skipped), a file named twice is read once, and inputs over
//! [`MAX_INPUT_BYTES`] are refused.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::MAX_INPUT_BYTES;
use crate::diag::{Diagnostic, Pos};

pub(super) const STDIN: &str = "<stdin>";

/// One input, in the order given.
pub(super) enum Input {
    /// Could not be listed or read (the error says why).
    Failed(Diagnostic),
    Stdin(Vec<u8>),
    File(PathBuf),
}

/// The inputs: stdin read, folders listed, each file once.
pub(super) fn inputs_of(inputs: &[PathBuf]) -> Vec<Input> {
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for input in inputs {
        if input == Path::new("-") {
            let mut bytes = Vec::new();
            let read = std::io::stdin().lock().take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes);
            let name = PathBuf::from(STDIN);
            items.push(match read {
                Err(e) => Input::Failed(Diagnostic::error(&name, Pos::UNKNOWN, format!("cannot read: {e}"))),
                Ok(n) if n as u64 > MAX_INPUT_BYTES => Input::Failed(too_large(&name)),
                Ok(_) => Input::Stdin(bytes),
            });
            continue;
        }
        let mut files = Vec::new();
        match std::fs::metadata(input) {
            Err(e) => items.push(Input::Failed(Diagnostic::error(input, Pos::UNKNOWN, format!("cannot read: {e}")))),
            Ok(m) if m.is_dir() => {
                let mut dirs = HashSet::new();
                collect(input, &mut files, &mut dirs, &mut errors);
                items.extend(errors.drain(..).map(Input::Failed));
                if files.is_empty() {
                    items.push(Input::Failed(
                        Diagnostic::error(input, Pos::UNKNOWN, "no *.yaml, *.yml or *.json file in this folder")
                            .with_help("give the folder that holds the manifests, or the files themselves"),
                    ));
                }
            }
            Ok(_) => files.push(input.clone()),
        }
        for file in files {
            if seen.insert(std::fs::canonicalize(&file).unwrap_or_else(|_| file.clone())) {
                items.push(Input::File(file));
            }
        }
    }
    items
}

fn too_large(name: &Path) -> Diagnostic {
    Diagnostic::error(name, Pos::UNKNOWN, format!("larger than {} MiB: not read", MAX_INPUT_BYTES >> 20))
        .with_help("split the manifests into several files")
}

pub(super) fn read_file(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    let cannot = |e: std::io::Error| Diagnostic::error(path, Pos::UNKNOWN, format!("cannot read: {e}"));
    let file = std::fs::File::open(path).map_err(cannot)?;
    if file.metadata().is_ok_and(|m| m.len() > MAX_INPUT_BYTES) {
        return Err(too_large(path));
    }
    let mut bytes = Vec::new();
    file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

/// The manifests under `dir`, depth first in name order. Symbolic links are
/// followed, each folder visited once.
fn collect(dir: &Path, out: &mut Vec<PathBuf>, visited: &mut HashSet<PathBuf>, errors: &mut Vec<Diagnostic>) {
    if !visited.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())) {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(Diagnostic::error(dir, Pos::UNKNOWN, format!("cannot read: {e}")));
            return;
        }
    };
    let mut entries: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            collect(&e, out, visited, errors);
        } else if matches!(e.extension().and_then(|x| x.to_str()), Some("yaml" | "yml" | "json")) {
            out.push(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::load::load;
    use crate::model::load::tests::errors;

    #[test]
    fn folders_are_read_recursively_in_order_skipping_hidden_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let write = |p: &str, name: &str| {
            let path = dir.path().join(p);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"))
                .expect("write");
        };
        write("b/z.yml", "bz");
        write("a.yaml", "a");
        write("c.json", "c");
        write("b/a.yaml", "ba");
        write("notes.txt", "txt");
        write(".hidden/x.yaml", "hidden");
        write(".kubeproof.yaml", "config");
        let a = dir.path().join("a.yaml");
        let l = load(&[dir.path().to_path_buf(), a]);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let names: Vec<_> = l.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "ba", "bz", "c"]);
        let empty = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("missing.yaml");
        let l = load(&[empty.path().to_path_buf(), missing]);
        assert_eq!(l.errors.len(), 2);
    }
}
