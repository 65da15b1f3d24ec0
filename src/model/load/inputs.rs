//! Input discovery: which files an invocation names. `-` is stdin, a file is
//! read whatever its name or kind (a FIFO, `/dev/stdin`), a folder is
//! searched for regular manifest files (hidden entries skipped; FIFOs,
//! sockets and devices skipped with a note, since reading one may never end),
//! a file named twice is read once, and every input is read with a bound:
//! over [`MAX_INPUT_BYTES`] it is refused.
//!
//! The walk is linear in the depth of the folders: no path is resolved per
//! level (`canonicalize` costs a system call per component), folders are
//! told apart by device and inode, and it keeps its own stack.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::MAX_INPUT_BYTES;
use crate::diag::{Diagnostic, Pos, Severity};

pub(super) const STDIN: &str = "<stdin>";

/// One input, in the order given.
pub(super) enum Input {
    /// Could not be listed or read (the error says why).
    Failed(Diagnostic),
    Stdin(Vec<u8>),
    File(PathBuf),
}

/// A file or folder's identity: device and inode.
type Id = (u64, u64);

fn id(meta: &std::fs::Metadata) -> Id {
    use std::os::unix::fs::MetadataExt;
    (meta.dev(), meta.ino())
}

/// The inputs (stdin read, folders listed, each file once), and notes on
/// what was skipped.
pub(super) fn inputs_of(inputs: &[PathBuf]) -> (Vec<Input>, Vec<Diagnostic>) {
    let mut items = Vec::new();
    let mut notes = Vec::new();
    let mut seen = HashSet::new();
    let mut dirs = HashSet::new();
    for input in inputs {
        if input == Path::new("-") {
            let name = PathBuf::from(STDIN);
            items.push(match read_stdin(&name) {
                Ok(bytes) => Input::Stdin(bytes),
                Err(d) => Input::Failed(d),
            });
            continue;
        }
        match std::fs::metadata(input) {
            Err(e) => items.push(Input::Failed(Diagnostic::error(input, Pos::UNKNOWN, format!("cannot read: {e}")))),
            Ok(m) if m.is_dir() => {
                let mut walk =
                    Walk { files: Vec::new(), errors: Vec::new(), notes: &mut notes, dirs: &mut dirs, charts: 0 };
                walk.run(input.clone(), id(&m));
                let Walk { files, errors, charts, .. } = walk;
                let none = files.is_empty() && errors.is_empty() && charts == 0;
                items.extend(errors.into_iter().map(Input::Failed));
                if none {
                    items.push(Input::Failed(
                        Diagnostic::error(input, Pos::UNKNOWN, "no *.yaml, *.yml or *.json file in this folder")
                            .with_help("give the folder that holds the manifests, or the files themselves"),
                    ));
                }
                items.extend(
                    files.into_iter().filter(|(_, i)| i.is_none_or(|i| seen.insert(i))).map(|(f, _)| Input::File(f)),
                );
            }
            // Named explicitly: read whatever it is, with a bound.
            Ok(m) => {
                if seen.insert(id(&m)) {
                    items.push(Input::File(input.clone()));
                }
            }
        }
    }
    (items, notes)
}

fn too_large(name: &Path) -> Diagnostic {
    too_large_for(name, MAX_INPUT_BYTES)
}

/// The error of a file over `limit` bytes.
pub(super) fn too_large_for(name: &Path, limit: u64) -> Diagnostic {
    Diagnostic::error(name, Pos::UNKNOWN, format!("larger than {} MiB: not read", limit >> 20))
        .with_help("split the manifests into several files")
}

/// Why a bounded read gave no bytes.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading failed.
    Io(std::io::Error),
    /// There was more than the bound: the rest was not read.
    TooLarge,
}

/// At most `limit` bytes of `from`, or [`ReadError::TooLarge`] (one byte
/// past the bound is read to tell). `size`, when known (a regular file's
/// length), sizes the buffer once: reading by doubling would hold up to
/// three times the input while it grows.
pub fn read_bounded(from: impl Read, size: Option<u64>, limit: u64) -> Result<Vec<u8>, ReadError> {
    if size.is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let hint = size.map_or(0, |n| usize::try_from(n).unwrap_or(0).saturating_add(1));
    let mut bytes = Vec::with_capacity(hint);
    let n = from.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if n as u64 > limit {
        return Err(ReadError::TooLarge);
    }
    Ok(bytes)
}

/// A file's bytes, at most `limit` of them: refused by its size before
/// reading when it has one, and read with the bound whatever it is (a file
/// still growing, a FIFO, a device).
pub fn read_file_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let size = file.metadata().ok().filter(std::fs::Metadata::is_file).map(|m| m.len());
    read_bounded(file, size, limit)
}

/// A file's bytes (as [`read_file`]), or the file opened when it is a
/// regular file of more than `over` bytes, to be read a block at a time.
pub(super) enum Opened {
    Bytes(Vec<u8>),
    Large(std::fs::File),
}

/// [`read_file`], or the file itself when it is larger than `over` (asked
/// once the file is open: a run of 100,000 files asks no more of the system).
pub(super) fn open_file(path: &Path, over: Option<u64>) -> Result<Opened, Diagnostic> {
    let file = std::fs::File::open(path).map_err(|e| input_error(path, ReadError::Io(e)))?;
    let size = file.metadata().ok().filter(std::fs::Metadata::is_file).map(|m| m.len());
    if let (Some(size), Some(over)) = (size, over)
        && size > over
    {
        return Ok(Opened::Large(file));
    }
    read_bounded(file, size, MAX_INPUT_BYTES).map(Opened::Bytes).map_err(|e| input_error(path, e))
}

/// Stdin read with [`MAX_INPUT_BYTES`] as its bound, as a diagnostic on failure.
fn read_stdin(name: &Path) -> Result<Vec<u8>, Diagnostic> {
    read_bounded(std::io::stdin().lock(), None, MAX_INPUT_BYTES).map_err(|e| input_error(name, e))
}

fn input_error(name: &Path, e: ReadError) -> Diagnostic {
    match e {
        ReadError::Io(e) => Diagnostic::error(name, Pos::UNKNOWN, format!("cannot read: {e}")),
        ReadError::TooLarge => too_large(name),
    }
}

/// A manifest file's bytes, with [`MAX_INPUT_BYTES`] as the bound (see
/// [`read_file_bounded`]).
pub fn read_file(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    read_file_bounded(path, MAX_INPUT_BYTES).map_err(|e| input_error(path, e))
}

/// The manifests under a folder, depth first in name order. Symbolic links
/// are followed, each folder visited once.
struct Walk<'a> {
    /// Each with its identity (`None`: a broken link, left to fail when read).
    files: Vec<(PathBuf, Option<Id>)>,
    errors: Vec<Diagnostic>,
    notes: &'a mut Vec<Diagnostic>,
    /// Folders visited, across all inputs.
    dirs: &'a mut HashSet<Id>,
    /// Helm charts skipped (each with a note).
    charts: usize,
}

/// What a folder entry is to the walk.
enum Next {
    Dir(PathBuf, Id),
    File(PathBuf, Option<Id>),
}

impl Walk<'_> {
    fn run(&mut self, root: PathBuf, root_id: Id) {
        // Entries still to visit, the next one last.
        let mut stack = vec![Next::Dir(root, root_id)];
        while let Some(next) = stack.pop() {
            let (dir, dir_id) = match next {
                Next::File(path, id) => {
                    self.files.push((path, id));
                    continue;
                }
                Next::Dir(dir, dir_id) => (dir, dir_id),
            };
            if !self.dirs.insert(dir_id) {
                continue;
            }
            let mut children = Vec::new();
            match std::fs::read_dir(&dir) {
                Ok(entries) => {
                    for e in entries.filter_map(Result::ok) {
                        if !e.file_name().as_encoded_bytes().starts_with(b".") {
                            children.push(e);
                        }
                    }
                }
                Err(e) => self.errors.push(Diagnostic::error(&dir, Pos::UNKNOWN, format!("cannot read: {e}"))),
            }
            if helm_chart(&dir) {
                self.notes.push(chart_note(&dir));
                self.charts += 1;
                continue;
            }
            children.sort_by_key(std::fs::DirEntry::file_name);
            let sub: Vec<Next> = children.iter().filter_map(|e| self.entry(e)).collect();
            stack.extend(sub.into_iter().rev());
        }
    }

    /// A folder to visit or a manifest to read; `None` for anything else
    /// (a FIFO, socket or device with a manifest's name gets a note).
    fn entry(&mut self, e: &std::fs::DirEntry) -> Option<Next> {
        let path = e.path();
        let manifest = matches!(path.extension().and_then(|x| x.to_str()), Some("yaml" | "yml" | "json"));
        // `DirEntry::metadata` does not follow a link and costs no path resolution.
        let meta = match e.file_type() {
            Ok(t) if t.is_symlink() => std::fs::metadata(&path),
            _ => e.metadata(),
        };
        let meta = match meta {
            Ok(m) => m,
            // A broken link: reading it says why.
            Err(_) => return manifest.then_some(Next::File(path, None)),
        };
        let kind = meta.file_type();
        if kind.is_dir() {
            Some(Next::Dir(path, id(&meta)))
        } else if !manifest {
            None
        } else if kind.is_file() {
            Some(Next::File(path, Some(id(&meta))))
        } else {
            self.notes.push(skipped(&path, kind));
            None
        }
    }
}

/// Whether a folder is a Helm chart: its `Chart.yaml` names the chart and
/// its version (the templates under it are Go templates, not manifests).
fn helm_chart(dir: &Path) -> bool {
    let Ok(text) = read_file_bounded(&dir.join("Chart.yaml"), 1 << 20) else { return false };
    let text = String::from_utf8_lossy(&text);
    let top = |key: &str| text.lines().any(|l| l.strip_prefix(key).is_some_and(|v| v.starts_with(':')));
    top("name") && top("version") && top("apiVersion")
}

/// The note on a Helm chart in a folder: skipped whole, with how to check it.
fn chart_note(dir: &Path) -> Diagnostic {
    Diagnostic {
        severity: Severity::Info,
        ..Diagnostic::error(dir, Pos::UNKNOWN, "a Helm chart (its templates are not manifests): skipped")
    }
    .with_help(format!("check what it renders: `helm template {} | kubeproof check -`", dir.display()))
}

/// The note on a FIFO, socket or device in a folder: reading one may never end.
fn skipped(path: &Path, kind: std::fs::FileType) -> Diagnostic {
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "not a file"
    };
    Diagnostic {
        severity: Severity::Info,
        ..Diagnostic::error(path, Pos::UNKNOWN, format!("not a regular file ({what}): skipped"))
    }
    .with_help("name it on the command line to read it")
}

#[cfg(test)]
mod tests {
    use super::{ReadError, read_bounded, read_file_bounded};
    use crate::model::load::load;
    use crate::model::load::tests::errors;

    #[test]
    fn bounded_reads_stop_one_byte_past_the_bound_and_size_the_buffer_once() {
        let ok = |r: Result<Vec<u8>, ReadError>| r.map_err(|e| format!("{e:?}"));
        assert_eq!(ok(read_bounded(&b"abc"[..], None, 3)), Ok(b"abc".to_vec()));
        assert!(matches!(read_bounded(&b"abcd"[..], None, 3), Err(ReadError::TooLarge)));
        // An endless stream is read one byte past the bound, not forever.
        assert!(matches!(read_bounded(std::io::repeat(b'a'), None, 1 << 20), Err(ReadError::TooLarge)));
        // A size past the bound is refused before reading.
        assert!(matches!(read_bounded(std::io::empty(), Some(4), 3), Err(ReadError::TooLarge)));
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("f.yaml");
        std::fs::write(&file, vec![b'x'; 3 << 20]).expect("write");
        let bytes = ok(read_file_bounded(&file, 4 << 20)).unwrap_or_default();
        assert_eq!(bytes.len(), 3 << 20);
        // Read into a buffer of its size: doubling would leave 4 MiB (and
        // hold 6 while copying).
        assert!(bytes.capacity() <= (3 << 20) + 1, "{}", bytes.capacity());
        assert!(matches!(read_file_bounded(&file, 1 << 20), Err(ReadError::TooLarge)));
        assert!(matches!(read_file_bounded(&dir.path().join("none"), 1), Err(ReadError::Io(_))));
    }

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
