//! Reads manifests — files, folders, stdin — into [`Object`]s that keep the
//! position of every field.
//!
//! How input is read (the decisions, in one place):
//!
//! - **Inputs.** `-` is stdin; a file is read whatever its name; a folder is
//!   searched recursively for `*.yaml`, `*.yml` and `*.json`, in sorted order,
//!   skipping hidden entries (`.git`, `.kubeproof.yaml`). A file named twice
//!   is read once. Inputs over [`MAX_INPUT_BYTES`] are refused.
//! - **Documents one by one.** The text is cut at document markers (`---` at
//!   the start of a line) and each document is parsed on its own, so a broken
//!   document costs only itself: the documents before and after it are
//!   checked. Invalid UTF-8 is reported at its line; the documents before it
//!   are checked.
//! - **Scalars as Kubernetes reads them.** `kubectl` converts YAML to JSON with
//!   go-yaml v2 (YAML 1.1), so do we: `yes`/`no`/`on`/`off`/`y`/`n` are
//!   booleans, `0644` is octal (420), `0x1F` hex, `1_000` is 1000, `1.0` is
//!   the integer 1, timestamps stay strings, and non-string keys become
//!   strings (`on:` is the key `"true"`).
//! - **Merge keys.** `<<: *base` (or a list of aliases, earlier ones winning)
//!   adds the keys the mapping does not set; keys written after `<<` override
//!   it. A key written *before* `<<` that the merge also sets is an error:
//!   YAML tools disagree on which one wins (kubectl's go-yaml v2 keeps the
//!   merged value, the YAML merge spec the written one).
//! - **Errors** (malformed YAML, duplicate keys, a document that is not a
//!   mapping with `apiVersion` and `kind`, nesting deeper than [`MAX_DEPTH`],
//!   aliases expanding past [`ALIAS_BUDGET`] nodes) are [`Diagnostic`]s at
//!   file:line in [`Loaded::errors`]; the document is skipped.
//! - **Memory.** Every object is kept (cross-object checks need them all),
//!   so the objects of all inputs together may take at most [`MAX_HEAP`]; an
//!   input that would go beyond is refused whole, with an error where the
//!   budget ran out, and the inputs read before it are still checked.
//! - **Lists.** `kind: List` (or any `*List`) with `items`, as `kubectl get -o
//!   yaml` prints, becomes one object per item, positioned at the item.
//!   Items without `kind`/`apiVersion` (a typed `PodList`) take them from the
//!   list.
//! - **Helm.** A stream whose documents carry `# Source: chart/templates/x.yaml`
//!   comments (`helm template`) is split into one [`Source`] per template,
//!   named after it, holding the text that template rendered; findings show
//!   the template path and lines within its rendered text.
//! - **Kustomize configuration**: a `kustomization.yaml` is kept as an
//!   object (its generators tell which Secrets and ConfigMaps exist; checks
//!   that judge cluster objects skip it); JSON 6902 patch files are skipped.
//! - **Positions** are kept in [`Spans`], a sorted table of 16 bytes per
//!   node: a hash of the node's JSON pointer and its line and column.
//! - **Memory.** Values are built at their exact size from buffers reused
//!   across documents. What remains is the values themselves: with
//!   `serde_json`'s B-tree maps, a small Deployment takes about 10 KB
//!   (`cargo bench --bench load` measures it).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use serde_json::{Map, Number, Value};

use super::{Loaded, Object, Source};
use crate::diag::{Diagnostic, Pos};

/// The deepest nesting of mappings and sequences a document may have.
/// Kubernetes objects, CRD schemas included, stay far below (a CRD schema 40
/// levels deep is about 90); the limit keeps every recursive walk over an
/// object (checks, drops) off the stack's edge, and stays below the parser's
/// own limit for flow collections (255), so the message is always ours.
pub const MAX_DEPTH: usize = 200;

/// How many nodes aliases may produce in one document: real manifests reuse
/// a few small anchors, an alias bomb ("billion laughs") asks for billions.
pub const ALIAS_BUDGET: usize = 100_000;

/// The largest input read (file or stdin).
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// How much memory the objects of all inputs together may take (an
/// estimate, counted as they are built). Manifests take 10 to 25 times their
/// text as `serde_json` values (a small Deployment about 10 KB); this budget
/// holds 100,000 typical objects (~40 MB of YAML) and keeps a run under
/// 1 GiB. Text made of tiny mappings (`{a}, {a}, …`) takes up to 130 times
/// its size, and is stopped here too.
pub const MAX_HEAP: usize = 640 << 20;

// ---------------------------------------------------------------------------
// Positions

/// Positions of the fields of one object, by JSON pointer: a sorted table of
/// (hash of the pointer, line, column), 16 bytes per node.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    entries: Box<[Entry]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    hash: u64,
    line: u32,
    column: u32,
}

impl Entry {
    fn new(hash: u64, pos: Pos) -> Entry {
        Entry { hash, line: pos.line, column: pos.column }
    }
}

impl Spans {
    /// The position of `pointer`, or of its nearest ancestor that has one
    /// (the object itself at worst).
    pub fn locate(&self, pointer: &str) -> Pos {
        let mut p = pointer;
        loop {
            if let Some(pos) = self.get(fnv(FNV_BASIS, p.as_bytes())) {
                return pos;
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None if !p.is_empty() => p = "",
                None => return Pos::UNKNOWN,
            }
        }
    }

    fn get(&self, hash: u64) -> Option<Pos> {
        let i = self.entries.binary_search_by_key(&hash, |e| e.hash).ok()?;
        let e = self.entries[i];
        Some(Pos::new(e.line, e.column))
    }

    /// From entries in document order (a pointer recorded twice, a key
    /// overriding a merged one, keeps its last position), allocated at its
    /// size; `entries` is left empty for reuse.
    fn from_entries(entries: &mut Vec<Entry>) -> Spans {
        entries.sort_by_key(|e| e.hash);
        entries.dedup_by(|later, kept| {
            if later.hash == kept.hash {
                *kept = *later;
                true
            } else {
                false
            }
        });
        let spans = Spans { entries: entries.as_slice().into() };
        entries.clear();
        spans
    }
}

const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a, continued from `h`: the hash of a pointer extends its parent's.
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The hash of `parent/key`, the key escaped as JSON pointers are.
fn child_key(parent: u64, key: &str) -> u64 {
    let h = fnv(parent, b"/");
    if !key.contains(['~', '/']) {
        return fnv(h, key.as_bytes());
    }
    key.bytes().fold(h, |h, b| match b {
        b'~' => fnv(h, b"~0"),
        b'/' => fnv(h, b"~1"),
        b => fnv(h, &[b]),
    })
}

fn child_index(parent: u64, index: usize) -> u64 {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = index;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    fnv(fnv(parent, b"/"), &buf[i..])
}

// ---------------------------------------------------------------------------
// Reading inputs

/// Reads every input: `-` is stdin, a folder is searched recursively for
/// `*.yaml`, `*.yml` and `*.json` (sorted; hidden entries skipped).
///
/// Several files are read and parsed on every core, and the result is the
/// same as reading them one after the other: the parts are joined in input
/// order, and when they would not all fit in [`MAX_HEAP`] together (or two
/// Helm templates of different files share a name), everything is read
/// again one input at a time, which decides exactly which inputs are
/// refused. The parallel readers stop as soon as their total passes the
/// budget, so memory stays bounded either way.
pub fn load(inputs: &[PathBuf]) -> Loaded {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
    load_on(inputs, threads)
}

fn load_on(inputs: &[PathBuf], threads: usize) -> Loaded {
    let items = inputs_of(inputs);
    let files = items.iter().filter(|i| matches!(i, Input::File(_))).count();
    if threads.min(files) > 1
        && let Some(loaded) = load_parallel(&items, threads.min(files), MAX_HEAP)
    {
        return loaded;
    }
    let mut loaded = Loaded::default();
    for item in items {
        match item {
            Input::Failed(d) => loaded.errors.push(d),
            Input::Stdin(bytes) => add_bytes(&mut loaded, PathBuf::from(STDIN), bytes),
            Input::File(file) => match read_file(&file) {
                Ok(bytes) => add_bytes(&mut loaded, file, bytes),
                Err(d) => loaded.errors.push(d),
            },
        }
    }
    loaded
}

const STDIN: &str = "<stdin>";

/// One input, in the order given.
enum Input {
    /// Could not be listed or read (the error says why).
    Failed(Diagnostic),
    Stdin(Vec<u8>),
    File(PathBuf),
}

/// The inputs: stdin read, folders listed, each file once.
fn inputs_of(inputs: &[PathBuf]) -> Vec<Input> {
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

/// [`load`] on `threads` threads; `None` when the inputs must be read one
/// at a time (see [`load`]).
fn load_parallel(items: &[Input], threads: usize, budget: usize) -> Option<Loaded> {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let shared = std::sync::Arc::new(AtomicUsize::new(0));
    let next = AtomicUsize::new(0);
    let over = AtomicBool::new(false);
    let read = |i: usize| -> Option<Loaded> {
        let mut part = Loaded { shared_heap: Some(shared.clone()), ..Loaded::default() };
        match &items[i] {
            Input::Failed(_) => return None,
            Input::Stdin(bytes) => add_bytes(&mut part, PathBuf::from(STDIN), bytes.clone()),
            Input::File(file) => match read_file(file) {
                Ok(bytes) => add_bytes(&mut part, file.clone(), bytes),
                Err(d) => part.errors.push(d),
            },
        }
        Some(part)
    };
    let mut parts: Vec<(usize, Loaded)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    while !over.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= items.len() {
                            break;
                        }
                        if let Some(part) = read(i) {
                            mine.push((i, part));
                        }
                        if shared.load(Ordering::Relaxed) > budget {
                            over.store(true, Ordering::Relaxed);
                        }
                    }
                    mine
                })
            })
            .collect();
        workers.into_iter().flat_map(|w| w.join().unwrap_or_default()).collect()
    });
    if over.load(Ordering::Relaxed) || shared.load(Ordering::Relaxed) > budget {
        return None;
    }
    parts.sort_unstable_by_key(|(i, _)| *i);
    let mut parts = parts.into_iter().peekable();
    let mut loaded = Loaded::default();
    let mut names = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        if let Input::Failed(d) = item {
            loaded.errors.push(d.clone());
            continue;
        }
        let (_, part) = parts.next_if(|(j, _)| *j == i)?;
        let base = loaded.sources.len();
        for source in &part.sources {
            if !names.insert(source.name.clone()) {
                return None; // named `(in FILE)` when read in order
            }
        }
        loaded.sources.extend(part.sources);
        loaded.objects.extend(part.objects.into_iter().map(|mut o| {
            o.source += base;
            o
        }));
        loaded.errors.extend(part.errors);
        loaded.heap += part.heap;
    }
    Some(loaded)
}

fn too_large(name: &Path) -> Diagnostic {
    Diagnostic::error(name, Pos::UNKNOWN, format!("larger than {} MiB: not read", MAX_INPUT_BYTES >> 20))
        .with_help("split the manifests into several files")
}

fn read_file(path: &Path) -> Result<Vec<u8>, Diagnostic> {
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

/// Adds one input given as bytes: checks that it is UTF-8 (reporting the
/// first bad byte at its line and still reading the documents before it),
/// then [`add_source`].
pub fn add_bytes(loaded: &mut Loaded, name: PathBuf, bytes: Vec<u8>) {
    let e = match String::from_utf8(bytes) {
        Ok(text) => return add_source(loaded, Source { name, text }),
        Err(e) => e,
    };
    let valid = e.utf8_error().valid_up_to();
    let bytes = e.into_bytes();
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    let message = if utf16 {
        "not UTF-8: the file is UTF-16 text".to_string()
    } else {
        format!("not UTF-8: byte 0x{:02X} is not valid UTF-8 text", bytes.get(valid).copied().unwrap_or(0))
    };
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    drop(bytes);
    lone_cr_to_lf(&mut text);
    // The first `valid` bytes are the same in `text`.
    let before = text.get(..valid).unwrap_or_default();
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    loaded.errors.push(
        Diagnostic::error(&name, Pos::new(to_u32(line), to_u32(column)), message)
            .with_help("manifests must be UTF-8; re-encode the file (e.g. `iconv -f LATIN1 -t UTF-8`)"),
    );
    // The documents that end before the bad byte are read; the one holding
    // it is not.
    let mut chunks = split(text.get(..valid).unwrap_or_default());
    chunks.pop();
    add_chunks(loaded, Source { name, text }, chunks);
}

/// Parses one source and appends its objects (or its errors).
pub fn add_source(loaded: &mut Loaded, mut source: Source) {
    lone_cr_to_lf(&mut source.text);
    let chunks = split(&source.text);
    add_chunks(loaded, source, chunks);
}

/// YAML ends lines at `\r` too; the reports count lines by `\n`. A lone
/// `\r` becomes `\n` so that both count the same lines (same length, so
/// every offset holds).
fn lone_cr_to_lf(text: &mut String) {
    if !text.contains('\r') {
        return;
    }
    let mut bytes = std::mem::take(text).into_bytes();
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
    *text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

fn add_chunks(loaded: &mut Loaded, source: Source, chunks: Vec<Chunk>) {
    let templates = helm_templates(&source.text, &chunks);
    if templates.is_empty() {
        return add_parsed(loaded, source, &chunks);
    }
    let mut rest = Vec::new();
    let mut texts: Vec<(String, String, Vec<Chunk>)> = Vec::new();
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (chunk, template) in chunks.iter().zip(&templates) {
        let Some(template) = template else {
            rest.push(*chunk);
            continue;
        };
        let i = *by_name.entry(template).or_insert_with(|| {
            texts.push((template.to_string(), String::new(), Vec::new()));
            texts.len() - 1
        });
        let (_, text, parts) = &mut texts[i];
        let line = text.bytes().filter(|&b| b == b'\n').count();
        let body = &source.text[chunk.start..chunk.end];
        parts.push(Chunk { start: text.len(), end: text.len() + body.len(), line: to_u32(line) });
        text.push_str(body);
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    let file = source.name.display().to_string();
    if rest.iter().any(|c| has_content(&source.text[c.start..c.end])) {
        add_parsed(loaded, source, &rest);
    }
    for (name, text, parts) in texts {
        let mut name = PathBuf::from(name);
        if loaded.sources.iter().any(|s| s.name == name) {
            name = PathBuf::from(format!("{} (in {file})", name.display()));
        }
        add_parsed(loaded, Source { name, text }, &parts);
    }
}

fn add_parsed(loaded: &mut Loaded, source: Source, chunks: &[Chunk]) {
    add_parsed_within(loaded, source, chunks, MAX_HEAP);
}

/// [`add_parsed`] with the budget as a parameter, for tests.
fn add_parsed_within(loaded: &mut Loaded, source: Source, chunks: &[Chunk], budget: usize) {
    let id = loaded.sources.len();
    let first = loaded.objects.len();
    let mut builder = Builder {
        heap_limit: budget.saturating_sub(loaded.heap),
        shared: loaded.shared_heap.clone(),
        ..Builder::default()
    };
    for chunk in chunks {
        let text = &source.text[chunk.start..chunk.end];
        builder.parse(text, chunk.line, &mut |doc| match doc.and_then(|d| objects(id, d)) {
            Ok(objects) => loaded.objects.extend(objects),
            Err(p) => {
                let mut d = Diagnostic::error(&source.name, p.pos, p.message);
                d.help = p.help;
                loaded.errors.push(d);
            }
        });
    }
    builder.flush();
    if builder.heap > builder.heap_limit {
        // Half an input would be worse than none: its Services without their
        // Deployments would show as dangling references.
        loaded.objects.truncate(first);
    } else {
        loaded.heap += builder.heap;
    }
    loaded.sources.push(source);
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

// ---------------------------------------------------------------------------
// Documents

/// One document's text: a byte range of the source, and the number of lines
/// before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Chunk {
    start: usize,
    end: usize,
    line: u32,
}

/// Cuts `text` before every document marker (`---` at the start of a line,
/// with the `%` directives just above it).
fn split(text: &str) -> Vec<Chunk> {
    let bytes = text.as_bytes();
    let mut chunks = Vec::new();
    let (mut start, mut start_line) = (0usize, 0usize);
    let mut directives: Option<(usize, usize)> = None;
    let (mut at, mut line) = (0usize, 0usize);
    while at < bytes.len() {
        // `at` starts a line, so it is a character boundary; `find` uses memchr.
        let end = text[at..].find('\n').map_or(bytes.len(), |i| at + i + 1);
        let l = &bytes[at..end];
        if l.starts_with(b"---") && l.get(3).is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n')) {
            let (cut, cut_line) = directives.take().unwrap_or((at, line));
            if cut > start {
                chunks.push(Chunk { start, end: cut, line: to_u32(start_line) });
            }
            (start, start_line) = (cut, cut_line);
        } else if l.first() == Some(&b'%') {
            directives.get_or_insert((at, line));
        } else if !blank_or_comment(l) {
            directives = None;
        }
        at = end;
        line += 1;
    }
    if start < bytes.len() {
        chunks.push(Chunk { start, end: bytes.len(), line: to_u32(start_line) });
    }
    chunks
}

fn blank_or_comment(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    t.is_empty() || t[0] == b'#'
}

/// Whether a document has anything but markers, comments and blank lines.
fn has_content(text: &str) -> bool {
    text.lines().any(|l| {
        let t = l.trim();
        !(t.is_empty() || t.starts_with('#') || t == "---" || t == "...")
    })
}

/// For each chunk, the template named by its `# Source:` comment; empty when
/// no chunk has one (not `helm template` output).
fn helm_templates<'a>(text: &'a str, chunks: &[Chunk]) -> Vec<Option<&'a str>> {
    let templates: Vec<Option<&str>> = chunks.iter().map(|c| helm_source(&text[c.start..c.end])).collect();
    if templates.iter().any(Option::is_some) { templates } else { Vec::new() }
}

/// The `# Source: path` comment among the first lines of a document.
fn helm_source(doc: &str) -> Option<&str> {
    for l in doc.lines() {
        let t = l.trim();
        if t == "---" || t.is_empty() {
            continue;
        }
        let comment = t.strip_prefix('#')?;
        if let Some(path) = comment.trim_start().strip_prefix("Source:") {
            let path = path.trim();
            return (!path.is_empty()).then_some(path);
        }
    }
    None
}

/// What went wrong, and where, in one document.
struct Problem {
    pos: Pos,
    message: String,
    help: Option<String>,
}

impl Problem {
    fn new(pos: Pos, message: impl Into<String>) -> Problem {
        Problem { pos, message: message.into(), help: None }
    }

    fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }
}

/// One parsed document.
struct Doc {
    value: Value,
    pos: Pos,
    spans: Spans,
    /// For a top-level `items` sequence: each item's positions, relative to it.
    items: Vec<Spans>,
}

/// The objects of a document: none (an empty document), one, or one per item
/// of a list.
fn objects(source: usize, doc: Doc) -> Result<Vec<Object>, Problem> {
    let Doc { value, pos, spans, items } = doc;
    let mut map = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Object(m) => m,
        // A kustomize JSON 6902 patch file (a list of `op`/`path` operations)
        // is configuration for kustomize, not an object; a folder of
        // overlays holds them next to manifests.
        Value::Array(ops)
            if !ops.is_empty() && ops.iter().all(|o| o.get("op").is_some() && o.get("path").is_some()) =>
        {
            return Ok(Vec::new());
        }
        other => {
            return Err(Problem::new(pos, format!("this document is {}, not a Kubernetes object", describe(&other)))
                .help("a manifest is a mapping with `apiVersion`, `kind` and `metadata`"));
        }
    };
    let list_kind = map.get("kind").and_then(Value::as_str).filter(|k| k.ends_with("List")).map(str::to_string);
    let Some(list_kind) = list_kind.filter(|_| map.get("items").is_some_and(Value::is_array)) else {
        return Ok(object(source, Value::Object(map), spans)?.into_iter().collect());
    };
    let api_version = map.get("apiVersion").cloned();
    let Some(Value::Array(list)) = map.remove("items") else { return Ok(Vec::new()) };
    let item_kind = list_kind.strip_suffix("List").filter(|k| !k.is_empty() && list_kind != "List");
    let mut items = items.into_iter();
    let mut out = Vec::with_capacity(list.len());
    for (i, mut item) in list.into_iter().enumerate() {
        let item_spans = match items.next() {
            Some(item) if !item.entries.is_empty() => item,
            _ => Spans::from_entries(&mut vec![Entry::new(FNV_BASIS, spans.locate(&format!("/items/{i}")))]),
        };
        if let (Value::Object(m), Some(kind)) = (&mut item, item_kind) {
            if !m.contains_key("kind") {
                m.insert("kind".into(), Value::from(kind));
            }
            if let (false, Some(v)) = (m.contains_key("apiVersion"), &api_version) {
                m.insert("apiVersion".into(), v.clone());
            }
        }
        if !item.is_object() {
            return Err(Problem::new(
                item_spans.locate(""),
                format!("item {i} of this {list_kind} is {}, not a Kubernetes object", describe(&item)),
            ));
        }
        out.extend(object(source, item, item_spans)?);
    }
    Ok(out)
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// An object, once it is known to have an `apiVersion` and a `kind`.
fn object(source: usize, value: Value, spans: Spans) -> Result<Option<Object>, Problem> {
    let at = spans.locate("");
    let field = |name: &str| -> Result<Option<String>, Problem> {
        match value.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
            Some(_) => {
                Err(Problem::new(spans.locate(&format!("/{name}")), format!("`{name}` must be a non-empty string")))
            }
        }
    };
    let (api_version, kind) = match (field("apiVersion")?, field("kind")?) {
        (Some(a), Some(k)) => (a, k),
        (a, k) => {
            let missing = match (a, k) {
                (None, None) => "no `apiVersion` and no `kind`",
                (None, _) => "no `apiVersion`",
                _ => "no `kind`",
            };
            return Err(Problem::new(at, format!("this document has {missing}: it is not a Kubernetes object"))
                .help("every manifest needs `apiVersion` and `kind`; leave files that are not manifests out of the checked paths"));
        }
    };
    let meta = value.get("metadata");
    let str_at = |k: &str| meta.and_then(|x| x.get(k)).and_then(Value::as_str).map(str::to_string);
    let name = str_at("name").or_else(|| str_at("generateName")).unwrap_or_default();
    let namespace = str_at("namespace");
    Ok(Some(Object { source, value, spans, api_version, kind, name, namespace }))
}

// ---------------------------------------------------------------------------
// Building values from parser events

/// Builds documents from parser events: values, positions, anchors. Its
/// buffers are reused from document to document, and every value is built at
/// its exact size (a long run keeps millions of them; spare capacity and the
/// holes of freed buffers would cost as much as the values).
#[derive(Default)]
struct Builder {
    frames: Vec<Frame>,
    /// The entries of the mappings being built, innermost last.
    entries: Vec<(String, Value)>,
    /// The hash of each entry's JSON pointer, beside it.
    hashes: Vec<u64>,
    /// The items of the sequences being built, innermost last.
    items: Vec<Value>,
    root: Option<Value>,
    root_pos: Pos,
    spans: Vec<Entry>,
    /// For a top-level `items` sequence: each item's positions, relative to it.
    item_spans: Vec<Vec<Entry>>,
    anchors: HashMap<usize, (Value, usize)>,
    alias_nodes: usize,
    line_base: u32,
    /// Estimated heap taken by the values built from this input so far,
    /// and how much it may take.
    heap: usize,
    heap_limit: usize,
    /// Reading in parallel: the heap of every input together, and what this
    /// builder has counted but not yet added to it.
    shared: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
    unshared: usize,
}

/// A mapping or sequence being built.
struct Frame {
    node: Node,
    anchor: usize,
    /// Hash of its JSON pointer, and of its pointer relative to the list item
    /// it is in (for a top-level `items` sequence).
    hash: u64,
    item_hash: Option<u64>,
    /// This is the top-level `items` sequence.
    is_items: bool,
    /// Nodes in it, for the alias budget.
    nodes: usize,
}

enum Node {
    /// Its items are `Builder::items[start..]`.
    Seq {
        start: usize,
    },
    Map(MapNode),
}

/// A mapping key waiting for its value.
struct Key {
    name: String,
    pos: Pos,
    merge: bool,
    hash: u64,
    item_hash: Option<u64>,
    is_items: bool,
}

/// Where a new node goes.
struct Slot {
    hash: u64,
    item_hash: Option<u64>,
    is_items: bool,
}

impl Builder {
    /// Parses one document's text (`line` lines into its source), handing
    /// each document (or the error that ended it) to `emit`.
    fn parse(&mut self, text: &str, line: u32, emit: &mut dyn FnMut(Result<Doc, Problem>)) {
        self.line_base = line;
        if self.heap > self.heap_limit {
            return; // reported once, where it happened
        }
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = match next {
                Ok(x) => x,
                Err(e) => {
                    let m = e.marker();
                    let pos = Pos::new(line.saturating_add(to_u32(m.line())), to_u32(m.col()).saturating_add(1));
                    let problem = if e.info() == "recursion limit exceeded" {
                        // The scanner looks ahead through flow collections, so
                        // it stops at 255 levels before our own limit can.
                        Problem::new(pos, "nested more than 255 levels of `[` and `{`")
                            .help("no Kubernetes object nests this deep; is the file generated by a runaway template?")
                    } else {
                        Problem::new(pos, format!("not valid YAML: {}", e.info()))
                    };
                    self.reset();
                    emit(Err(problem));
                    return;
                }
            };
            match event {
                Event::DocumentStart(_) => self.reset(),
                Event::DocumentEnd => {
                    let doc = Doc {
                        value: self.root.take().unwrap_or(Value::Null),
                        pos: self.root_pos,
                        spans: Spans::from_entries(&mut self.spans),
                        items: self.item_spans.iter_mut().map(Spans::from_entries).collect(),
                    };
                    self.reset();
                    emit(Ok(doc));
                }
                Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
                event => {
                    if let Err(p) = self.event(event, span) {
                        self.reset();
                        emit(Err(p));
                        return;
                    }
                }
            }
        }
    }

    fn reset(&mut self) {
        self.frames.clear();
        self.entries.clear();
        self.hashes.clear();
        self.items.clear();
        self.root = None;
        self.root_pos = Pos::UNKNOWN;
        self.spans.clear();
        self.item_spans.clear();
        self.anchors.clear();
        self.alias_nodes = 0;
    }

    fn pos(&self, span: &Span) -> Pos {
        Pos::new(self.line_base.saturating_add(to_u32(span.start.line())), to_u32(span.start.col()).saturating_add(1))
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), Problem> {
        let pos = self.pos(&span);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let merge = style == ScalarStyle::Plain && tag.is_none() && text == "<<";
                let value = scalar(text, style, tag.as_deref());
                if let Value::String(s) = &value {
                    self.grow(pos, s.len() + 32)?;
                }
                if anchor > 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                if self.expects_key() {
                    return self.key(value, pos, merge);
                }
                self.slot(pos)?;
                self.attach(value, 1)
            }
            Event::Alias(id) => {
                let Some((value, nodes)) = self.anchors.get(&id) else {
                    return Err(Problem::new(pos, "alias to an unknown anchor"));
                };
                let nodes = *nodes;
                self.alias_nodes = self.alias_nodes.saturating_add(nodes);
                if self.alias_nodes > ALIAS_BUDGET {
                    return Err(Problem::new(
                        pos,
                        format!("aliases expand to more than {ALIAS_BUDGET} nodes in this document (an alias bomb?)"),
                    )
                    .help("expand the anchors by hand, or use fewer nested aliases"));
                }
                let value = value.clone();
                if self.expects_key() {
                    return self.key(value, pos, false);
                }
                self.slot(pos)?;
                self.attach(value, nodes)
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.expects_key() {
                    return Err(Problem::new(pos, "a mapping key must be a plain value, not a mapping or a list"));
                }
                if self.frames.len() >= MAX_DEPTH {
                    return Err(Problem::new(pos, format!("nested more than {MAX_DEPTH} levels deep"))
                        .help("no Kubernetes object nests this deep; is the file generated by a runaway template?"));
                }
                let slot = self.slot(pos)?;
                let node = match event {
                    Event::SequenceStart(..) => Node::Seq { start: self.items.len() },
                    _ => Node::Map(MapNode::new(self.entries.len())),
                };
                self.frames.push(Frame {
                    node,
                    anchor,
                    hash: slot.hash,
                    item_hash: slot.item_hash,
                    is_items: slot.is_items,
                    nodes: 1,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.frames.pop() else { return Ok(()) };
                let value = match frame.node {
                    // `drain` knows its length: the vector is allocated at its size.
                    Node::Seq { start } => {
                        self.grow(pos, (self.items.len() - start) * 32)?;
                        Value::Array(self.items.drain(start..).collect())
                    }
                    Node::Map(map) => {
                        // A B-tree leaf (11 entries, 632 bytes) per 11 entries.
                        self.grow(pos, (self.entries.len() - map.start).div_ceil(11) * 640)?;
                        self.hashes.truncate(map.start);
                        let mut m = Map::with_capacity(self.entries.len() - map.start);
                        for (k, v) in self.entries.drain(map.start..) {
                            m.insert(k, v);
                        }
                        Value::Object(m)
                    }
                };
                if frame.anchor > 0 {
                    self.anchors.insert(frame.anchor, (value.clone(), frame.nodes));
                }
                self.attach(value, frame.nodes)
            }
            _ => Ok(()),
        }
    }

    /// Counts `bytes` more of heap; past the budget the input is not read
    /// further.
    fn grow(&mut self, pos: Pos, bytes: usize) -> Result<(), Problem> {
        self.heap = self.heap.saturating_add(bytes);
        // In parallel, the total is what bounds memory: past it, this input
        // stops too (and `load` reads everything again, one at a time).
        self.unshared += bytes;
        let shared_over = self.unshared >= 1 << 16 && self.flush() > MAX_HEAP;
        if self.heap <= self.heap_limit && !shared_over {
            return Ok(());
        }
        Err(Problem::new(
            pos,
            format!(
                "input refused here: with it, the objects to check would take over {} MiB of memory",
                MAX_HEAP >> 20
            ),
        )
        .help(
            "none of this input's objects are checked; the inputs before it are. \
             Check the manifests in several runs (e.g. one per namespace or application)",
        ))
    }

    /// Adds what this builder counted to the shared total; returns the total.
    fn flush(&mut self) -> usize {
        let n = std::mem::take(&mut self.unshared);
        match &self.shared {
            Some(s) => s.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n,
            None => 0,
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.frames.last(), Some(Frame { node: Node::Map(MapNode { key: None, .. }), .. }))
    }

    fn record(&mut self, hash: u64, item_hash: Option<u64>, pos: Pos) {
        self.spans.push(Entry::new(hash, pos));
        if let (Some(h), Some(item)) = (item_hash, self.item_spans.last_mut()) {
            item.push(Entry::new(h, pos));
        }
    }

    /// The pointer of the node starting at `pos`; records the position of
    /// sequence items and of the document.
    fn slot(&mut self, pos: Pos) -> Result<Slot, Problem> {
        let Some(parent) = self.frames.last() else {
            self.root_pos = pos;
            self.record(FNV_BASIS, None, pos);
            return Ok(Slot { hash: FNV_BASIS, item_hash: None, is_items: false });
        };
        match &parent.node {
            Node::Map(MapNode { key: Some(k), .. }) => {
                Ok(Slot { hash: k.hash, item_hash: k.item_hash, is_items: k.is_items })
            }
            Node::Map(MapNode { key: None, .. }) => Err(Problem::new(pos, "a mapping key must be a plain value")),
            Node::Seq { start } => {
                let i = self.items.len() - start;
                let hash = child_index(parent.hash, i);
                let item_hash = if parent.is_items {
                    self.item_spans.push(Vec::new());
                    Some(FNV_BASIS)
                } else {
                    parent.item_hash.map(|h| child_index(h, i))
                };
                self.record(hash, item_hash, pos);
                Ok(Slot { hash, item_hash, is_items: false })
            }
        }
    }

    /// A mapping key: its name (non-string keys become strings, as
    /// Kubernetes converts them), its position recorded as the entry's.
    fn key(&mut self, value: Value, pos: Pos, merge: bool) -> Result<(), Problem> {
        let depth = self.frames.len();
        let name = match value {
            Value::String(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Null => return Err(Problem::new(pos, "a mapping key is empty (null)")),
            _ => return Err(Problem::new(pos, "a mapping key must be a plain value, not a mapping or a list")),
        };
        let Some(frame) = self.frames.last() else { return Ok(()) };
        let hash = child_key(frame.hash, &name);
        let item_hash = frame.item_hash.map(|h| child_key(h, &name));
        if !merge {
            self.record(hash, item_hash, pos);
        }
        let is_items = depth == 1 && name == "items";
        if let Some(Frame { node: Node::Map(map), .. }) = self.frames.last_mut() {
            map.key = Some(Key { name, pos, merge, hash, item_hash, is_items });
        }
        Ok(())
    }

    /// Puts a finished value where it belongs.
    fn attach(&mut self, value: Value, nodes: usize) -> Result<(), Problem> {
        let Some(frame) = self.frames.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        frame.nodes = frame.nodes.saturating_add(nodes);
        let (hash, item_hash) = (frame.hash, frame.item_hash);
        let map = match &mut frame.node {
            Node::Seq { .. } => {
                self.items.push(value);
                return Ok(());
            }
            Node::Map(map) => map,
        };
        let Some(key) = map.key.take() else { return Ok(()) };
        let mut stacks = Stacks { entries: &mut self.entries, hashes: &mut self.hashes };
        if key.merge {
            if let Some(first) = map.merge_at {
                return Err(Problem::new(
                    key.pos,
                    format!("a second merge key `<<` (the first is at line {})", first.line),
                )
                .help("merge several mappings with one key: `<<: [*a, *b]`"));
            }
            map.merge_at = Some(key.pos);
            let added = map.merge(&mut stacks, hash, value, key.pos)?;
            for name in added {
                self.record(child_key(hash, &name), item_hash.map(|h| child_key(h, &name)), key.pos);
            }
            return Ok(());
        }
        match map.find(&stacks, key.hash, &key.name) {
            None => map.push(&mut stacks, key.hash, key.name, value),
            Some(i) => {
                let Some(m) = map.merged.iter().position(|&m| m == i) else {
                    let first = self.spans.iter().find(|s| s.hash == key.hash).map_or(0, |s| s.line);
                    return Err(Problem::new(key.pos, format!("duplicate key `{}`", key.name)).help(format!(
                        "the first `{}` is at line {first}; Kubernetes keeps only one of them: remove the other",
                        key.name
                    )));
                };
                // A key written after `<<` overrides the merged one.
                map.merged.swap_remove(m);
                stacks.entries[i].1 = value;
            }
        }
        Ok(())
    }
}

/// The builder's entry stacks, borrowed beside one of its frames.
struct Stacks<'a> {
    entries: &'a mut Vec<(String, Value)>,
    hashes: &'a mut Vec<u64>,
}

/// A mapping being built: its entries are `entries[start..]` of the builder,
/// each with the hash of its JSON pointer (and an index by hash once it
/// grows, so that duplicate keys are found in constant time).
struct MapNode {
    start: usize,
    index: HashMap<u64, usize>,
    key: Option<Key>,
    /// Entries set by the merge key `<<` and not overridden since.
    merged: Vec<usize>,
    merge_at: Option<Pos>,
}

impl MapNode {
    const INDEXED: usize = 16;

    fn new(start: usize) -> MapNode {
        MapNode { start, index: HashMap::new(), key: None, merged: Vec::new(), merge_at: None }
    }

    /// The entry (an index into the stacks) with this pointer hash and name.
    fn find(&self, s: &Stacks, hash: u64, name: &str) -> Option<usize> {
        let i = if s.entries.len() - self.start <= Self::INDEXED {
            s.hashes[self.start..].iter().position(|&h| h == hash).map(|i| i + self.start)
        } else {
            self.index.get(&hash).copied()
        };
        i.filter(|&i| s.entries[i].0 == name)
    }

    fn push(&mut self, s: &mut Stacks, hash: u64, name: String, value: Value) {
        s.entries.push((name, value));
        s.hashes.push(hash);
        let n = s.entries.len() - self.start;
        if n == Self::INDEXED + 1 {
            self.index = s.hashes[self.start..].iter().enumerate().map(|(i, &h)| (h, i + self.start)).collect();
        } else if n > Self::INDEXED {
            self.index.insert(hash, s.entries.len() - 1);
        }
    }

    /// Applies a merge key `<<` whose value is `value`: the keys of the
    /// merged mappings this one does not have yet (earlier mappings of a
    /// list win). Returns the keys added.
    fn merge(&mut self, s: &mut Stacks, hash: u64, value: Value, at: Pos) -> Result<Vec<String>, Problem> {
        let not_a_map = || {
            Problem::new(at, "a merge key `<<` takes a mapping or a list of mappings")
                .help("write `<<: *anchor` where the anchor is on a mapping")
        };
        let sources = match value {
            Value::Object(m) => vec![m],
            Value::Array(items) => items
                .into_iter()
                .map(|i| if let Value::Object(m) = i { Ok(m) } else { Err(not_a_map()) })
                .collect::<Result<_, _>>()?,
            _ => return Err(not_a_map()),
        };
        let before = s.entries.len();
        for source in sources {
            for (k, v) in source {
                let h = child_key(hash, &k);
                match self.find(s, h, &k) {
                    Some(i) if i >= before => {} // an earlier mapping of the list set it
                    Some(_) => {
                        return Err(Problem::new(
                            at,
                            format!("`{k}` is written before this merge key `<<`, which also sets it"),
                        )
                        .help(
                            "YAML tools disagree on which value wins (kubectl keeps the merged one); \
                             put `<<` first, then the keys that override it",
                        ));
                    }
                    None => self.push(s, h, k, v),
                }
            }
        }
        self.merged.extend(before..s.entries.len());
        Ok(s.entries[before..].iter().map(|(k, _)| k.clone()).collect())
    }
}

// ---------------------------------------------------------------------------
// Scalars

/// A scalar as Kubernetes reads it (go-yaml v2, YAML 1.1): quoted and block
/// scalars are strings, plain ones may be null, booleans or numbers.
fn scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Tag>) -> Value {
    let resolvable = match tag {
        None => true,
        Some(t) => t.is_yaml_core_schema() && matches!(t.suffix.as_str(), "int" | "float" | "bool" | "null"),
    };
    if style != ScalarStyle::Plain || !resolvable {
        return Value::String(owned(text));
    }
    match &*text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => return Value::Bool(true),
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        _ => {}
    }
    if matches!(text.as_bytes()[0], b'0'..=b'9' | b'+' | b'-' | b'.')
        && let Some(n) = number(&text)
    {
        return Value::Number(n);
    }
    Value::String(owned(text))
}

/// The parser hands out strings with spare capacity (32 bytes at least);
/// kept for the whole run, they are trimmed to their length.
fn owned(text: Cow<'_, str>) -> String {
    match text {
        // A fresh exact allocation, not a shrink in place: that would leave
        // a sliver of free memory behind every string.
        Cow::Owned(s) if s.capacity() > s.len() => String::from(s.as_str()),
        text => text.into_owned(),
    }
}

/// A plain scalar as a number, as go-yaml v2 resolves it: underscores
/// ignored, Go integer syntax (`0x`, `0o`, `0b`, leading `0` for octal),
/// then YAML 1.1 floats; integral floats become integers (as they do once
/// converted to JSON). `.inf` and `.nan` have no JSON form: not numbers.
fn number(text: &str) -> Option<Number> {
    let plain: Cow<'_, str> = if text.contains('_') { Cow::Owned(text.replace('_', "")) } else { Cow::Borrowed(text) };
    if let Some(n) = go_int(&plain) {
        return Some(n);
    }
    if !yaml_float(&plain) {
        return None;
    }
    let f: f64 = plain.parse().ok()?;
    if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        return Some(Number::from(f as i64));
    }
    Number::from_f64(f)
}

fn go_int(s: &str) -> Option<Number> {
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = match rest.get(..2) {
        Some("0x" | "0X") => (16, &rest[2..]),
        Some("0o" | "0O") => (8, &rest[2..]),
        Some("0b" | "0B") => (2, &rest[2..]),
        _ if rest.len() > 1 && rest.starts_with('0') => (8, &rest[1..]),
        _ => (10, rest),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let n = u64::from_str_radix(digits, radix).ok()?;
    if negative {
        if n <= i64::MAX as u64 + 1 { Some(Number::from((n as i64).wrapping_neg())) } else { None }
    } else if let Ok(i) = i64::try_from(n) {
        Some(Number::from(i))
    } else {
        Some(Number::from(n))
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn yaml_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Loaded {
        let mut loaded = Loaded::default();
        add_source(&mut loaded, Source { name: PathBuf::from("t.yaml"), text: text.to_string() });
        loaded
    }

    fn at(o: &Object, pointer: &str) -> (u32, u32) {
        let p = o.pos(pointer);
        (p.line, p.column)
    }

    fn errors(l: &Loaded) -> Vec<String> {
        l.errors.iter().map(|d| format!("{}:{}: {}", d.pos.line, d.pos.column, d.message)).collect()
    }

    /// What a load yields, as text: sources, objects with the position of
    /// every pointer the checks may ask for, errors with their file.
    fn summary(l: &Loaded) -> String {
        let mut out = String::new();
        for s in &l.sources {
            out += &format!("source {}\n", s.name.display());
        }
        for o in &l.objects {
            out += &format!(
                "{} in {} at {:?} {:?}\n",
                o.id(),
                l.sources[o.source].name.display(),
                at(o, ""),
                at(o, "/metadata/name")
            );
        }
        for d in &l.errors {
            out += &format!("error {}:{}:{}: {}\n", d.file.display(), d.pos.line, d.pos.column, d.message);
        }
        out + &format!("heap {}\n", l.heap)
    }

    /// Files of every kind the loader meets: valid streams, a YAML error, a
    /// non-UTF-8 file, Helm output, an empty file, a subfolder, a duplicate.
    fn mixed_inputs(dir: &Path) -> Vec<PathBuf> {
        let deploy = |i: usize| DEPLOY.replace("name: web", &format!("name: web-{i}"));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        for i in 0..12 {
            std::fs::write(dir.join(format!("d{i:02}.yaml")), format!("{}---\n{}", deploy(i), deploy(100 + i)))
                .unwrap();
        }
        std::fs::write(dir.join("bad.yaml"), "a: [1, 2\n").unwrap();
        std::fs::write(dir.join("latin1.yaml"), b"kind: ConfigMap\ndata: {a: caf\xe9}\n").unwrap();
        std::fs::write(dir.join("empty.yml"), "").unwrap();
        std::fs::write(
            dir.join("sub/helm.yaml"),
            "---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: h}\n",
        )
        .unwrap();
        vec![dir.to_path_buf(), dir.join("d03.yaml"), dir.join("missing.yaml")]
    }

    #[test]
    fn reading_in_parallel_gives_what_reading_in_order_gives() {
        let tmp = tempfile::tempdir().unwrap();
        let inputs = mixed_inputs(tmp.path());
        let one = summary(&load_on(&inputs, 1));
        assert!(one.contains("web-111") && one.contains("error") && one.contains("chart/templates/cm.yaml"), "{one}");
        for threads in [2, 3, 8] {
            assert_eq!(summary(&load_on(&inputs, threads)), one, "{threads} threads");
        }
        // Parts joined in order, not in the order the threads finish.
        let items = inputs_of(&inputs);
        let parallel = load_parallel(&items, 4, MAX_HEAP).expect("fits the budget");
        assert_eq!(summary(&parallel), one);
    }

    #[test]
    fn past_the_budget_the_parallel_reading_gives_way_to_the_ordered_one() {
        let tmp = tempfile::tempdir().unwrap();
        let items = inputs_of(&mixed_inputs(tmp.path()));
        let all = load_parallel(&items, 4, MAX_HEAP).expect("fits").heap;
        assert!(load_parallel(&items, 4, all).is_some());
        assert!(load_parallel(&items, 4, all - 1).is_none(), "one byte short: read again in order");
    }

    #[test]
    fn same_helm_template_in_two_files_is_read_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let helm = "---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: h}\n";
        std::fs::write(tmp.path().join("a.yaml"), helm).unwrap();
        std::fs::write(tmp.path().join("b.yaml"), helm.replace("name: h", "name: i")).unwrap();
        let inputs = [tmp.path().to_path_buf()];
        assert!(load_parallel(&inputs_of(&inputs), 2, MAX_HEAP).is_none());
        let l = load_on(&inputs, 2);
        let names: Vec<String> = l.sources.iter().map(|s| s.name.display().to_string()).collect();
        assert_eq!(names[0], "chart/templates/cm.yaml");
        assert!(names[1].starts_with("chart/templates/cm.yaml (in "), "{names:?}");
    }

    const DEPLOY: &str = "# a comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web, tier: \"front\"}
spec:
  template:
    spec:
      containers:
        - name: web
          image: nginx
          ports:
            - containerPort: 80
        - {name: side, image: busybox}
";

    #[test]
    fn positions_of_keys_items_and_the_object() {
        let l = load_str(DEPLOY);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let o = &l.objects[0];
        assert_eq!((o.kind.as_str(), o.name.as_str(), o.api_version.as_str()), ("Deployment", "web", "apps/v1"));
        assert_eq!(at(o, ""), (2, 1));
        assert_eq!(at(o, "/metadata/name"), (5, 3));
        assert_eq!(at(o, "/metadata/labels/tier"), (6, 22));
        assert_eq!(at(o, "/spec/template/spec/containers/0"), (11, 11));
        assert_eq!(at(o, "/spec/template/spec/containers/0/image"), (12, 11));
        assert_eq!(at(o, "/spec/template/spec/containers/0/ports/0/containerPort"), (14, 15));
        assert_eq!(at(o, "/spec/template/spec/containers/1/image"), (15, 24));
        // Missing fields fall back to the nearest ancestor, then the object.
        assert_eq!(at(o, "/spec/template/spec/containers/1/resources/limits"), (15, 11));
        assert_eq!(at(o, "/spec/replicas"), (7, 1));
        assert_eq!(at(o, "nonsense"), (2, 1));
    }

    #[test]
    fn keys_with_slash_and_tilde_are_escaped_in_pointers() {
        let l = load_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    a.io/x~y: \"1\"\n");
        assert_eq!(at(&l.objects[0], "/metadata/annotations/a.io~1x~0y"), (5, 5));
    }

    #[test]
    fn documents_keep_their_own_lines_and_empty_ones_are_skipped() {
        let text = format!(
            "---\n---\n# only a comment\n---\n{DEPLOY}---\r\napiVersion: v1\r\nkind: Service\r\nmetadata:\r\n  name: s\r\n...\n"
        );
        let l = load_str(&text);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        assert_eq!(l.objects.len(), 2);
        assert_eq!(at(&l.objects[0], "/metadata/name"), (9, 3));
        assert_eq!(at(&l.objects[1], "/metadata/name"), (24, 3));
    }

    #[test]
    fn scalars_resolve_as_kubernetes_reads_them() {
        let l = load_str(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: yes\n  b: off\n  c: 0644\n  d: 0x1F\n  \
             e: 1_000\n  f: 1.0\n  g: 1.5\n  h: 2001-12-14\n  i: \"yes\"\n  j: !!str 10\n  k: ~\n  l: 08\n  m: .inf\n  \
             nn: -0b11\n  o: 18446744073709551615\n  p: |\n    text\n  on: 1\n  n: 0\n  3: x\n  q: 1e3\n  r: 0o17\n",
        );
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let d = &l.objects[0].value["data"];
        let expect = serde_json::json!({
            "a": true, "b": false, "c": 420, "d": 31, "e": 1000, "f": 1, "g": 1.5, "h": "2001-12-14",
            "i": "yes", "j": "10", "k": null, "l": 8, "m": ".inf", "nn": -3, "false": 0, "o": 18446744073709551615u64,
            "p": "text\n", "true": 1, "3": "x", "q": 1000, "r": 15
        });
        assert_eq!(d, &expect);
    }

    #[test]
    fn merge_keys_fill_missing_keys_and_later_keys_override() {
        let l = load_str(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\nbase: &b {a: 1, b: 2}\nother: &o {b: 3, c: 4}\n\
             data:\n  <<: [*b, *o]\n  a: 10\n",
        );
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let o = &l.objects[0];
        assert_eq!(o.value["data"], serde_json::json!({"a": 10, "b": 2, "c": 4}));
        assert_eq!(at(o, "/data/a"), (8, 3));
        assert_eq!(at(o, "/data/c"), (7, 3));
    }

    #[test]
    fn ambiguous_or_malformed_merges_are_errors() {
        let before = load_str("apiVersion: v1\nkind: ConfigMap\nb: &b {a: 1}\ndata:\n  a: 2\n  <<: *b\n");
        assert_eq!(errors(&before), ["6:3: `a` is written before this merge key `<<`, which also sets it"]);
        let scalar = load_str("apiVersion: v1\nkind: ConfigMap\nb: &b 1\ndata:\n  <<: *b\n");
        assert_eq!(errors(&scalar), ["5:3: a merge key `<<` takes a mapping or a list of mappings"]);
        let twice = load_str("apiVersion: v1\nkind: ConfigMap\nb: &b {a: 1}\ndata:\n  <<: *b\n  <<: *b\n");
        assert_eq!(errors(&twice), ["6:3: a second merge key `<<` (the first is at line 5)"]);
        // A quoted `<<` is an ordinary key.
        let quoted = load_str("apiVersion: v1\nkind: ConfigMap\ndata:\n  \"<<\": x\n");
        assert_eq!(quoted.objects[0].value["data"]["<<"], "x");
    }

    #[test]
    fn duplicate_keys_are_errors_and_other_documents_still_load() {
        let l = load_str(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n  name: b\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: c}\n",
        );
        assert_eq!(errors(&l), ["5:3: duplicate key `name`"]);
        assert!(l.errors[0].help.as_deref().unwrap_or_default().contains("line 4"));
        assert_eq!(l.objects.len(), 1);
        assert_eq!(l.objects[0].name, "c");
    }

    #[test]
    fn malformed_yaml_costs_only_its_document() {
        let l = load_str(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [Secret\nmetadata: x\n\
             ---\napiVersion: v1\nkind: Secret\nmetadata: {name: c}\n",
        );
        assert_eq!(l.errors.len(), 1, "{:?}", errors(&l));
        assert!(l.errors[0].pos.line >= 6 && l.errors[0].pos.line <= 8, "{:?}", errors(&l));
        assert!(l.errors[0].message.starts_with("not valid YAML"));
        let names: Vec<_> = l.objects.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
        assert_eq!(at(&l.objects[1], "/metadata/name"), (11, 12));
    }

    #[test]
    fn documents_that_are_not_objects_are_errors() {
        let l =
            load_str("just a string\n---\n- a\n---\nkind: Pod\n---\napiVersion: v1\n---\napiVersion: 1\nkind: Pod\n");
        assert_eq!(
            errors(&l),
            [
                "1:1: this document is a string, not a Kubernetes object",
                "3:1: this document is a list, not a Kubernetes object",
                "5:1: this document has no `apiVersion`: it is not a Kubernetes object",
                "7:1: this document has no `kind`: it is not a Kubernetes object",
                "9:1: `apiVersion` must be a non-empty string",
            ]
        );
    }

    #[test]
    fn lists_become_one_object_per_item() {
        let text = "apiVersion: v1\nkind: List\nmetadata: {}\nitems:\n- apiVersion: v1\n  kind: Service\n  \
                    metadata:\n    name: a\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: b}\n";
        let l = load_str(text);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let names: Vec<_> = l.objects.iter().map(|o| (o.kind.as_str(), o.name.as_str())).collect();
        assert_eq!(names, [("Service", "a"), ("Deployment", "b")]);
        assert_eq!(at(&l.objects[0], ""), (5, 3));
        assert_eq!(at(&l.objects[0], "/metadata/name"), (8, 5));
        assert_eq!(at(&l.objects[1], "/metadata/name"), (11, 14));
        assert!(l.objects[1].value.get("items").is_none());
        // A typed list: items take their kind and apiVersion from it.
        let typed = load_str("apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p}\n  spec: {}\n");
        assert!(typed.errors.is_empty(), "{:?}", errors(&typed));
        assert_eq!((typed.objects[0].kind.as_str(), typed.objects[0].api_version.as_str()), ("Pod", "v1"));
        assert_eq!(typed.objects[0].value["kind"], "Pod");
        assert_eq!(at(&typed.objects[0], "/spec"), (5, 3));
        // An item that is not an object is an error at the item.
        let bad = load_str("apiVersion: v1\nkind: List\nitems:\n- 3\n");
        assert_eq!(errors(&bad), ["4:3: item 0 of this List is a number, not a Kubernetes object"]);
    }

    #[test]
    fn helm_template_output_is_split_per_template() {
        let text = "---\n# Source: shop/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n\
                    ---\n# Source: shop/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n\
                    ---\n# Source: shop/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-2\n";
        let l = load_str(text);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let names: Vec<_> = l.sources.iter().map(|s| s.name.display().to_string()).collect();
        assert_eq!(names, ["shop/templates/svc.yaml", "shop/templates/deploy.yaml"]);
        let svc = &l.sources[0].text;
        assert!(svc.starts_with("---\n# Source: shop/templates/svc.yaml\napiVersion: v1\n"), "{svc}");
        let objs: Vec<_> = l.objects.iter().map(|o| (o.source, o.name.as_str(), at(o, "/metadata/name"))).collect();
        assert_eq!(objs, [(0, "web", (6, 3)), (0, "web-2", (12, 3)), (1, "web", (6, 3))]);
        // Errors name the template too.
        let bad = load_str("---\n# Source: c/templates/x.yaml\napiVersion: v1\nkind: [\n");
        assert_eq!(bad.errors[0].file, PathBuf::from("c/templates/x.yaml"));
    }

    #[test]
    fn helm_documents_without_source_stay_in_the_stream() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n# Source: c/templates/a.yaml\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        let l = load_str(text);
        let names: Vec<_> = l.sources.iter().map(|s| s.name.display().to_string()).collect();
        assert_eq!(names, ["t.yaml", "c/templates/a.yaml"]);
        assert_eq!(at(&l.objects[0], "/metadata"), (3, 1));
        assert_eq!(at(&l.objects[1], "/metadata"), (5, 1));
        // The same template path from a second input gets a distinct name.
        let mut l = l;
        add_source(&mut l, Source { name: PathBuf::from("u.yaml"), text: text.to_string() });
        assert_eq!(
            l.sources.last().map(|s| s.name.display().to_string()).unwrap_or_default(),
            "c/templates/a.yaml (in u.yaml)"
        );
    }

    #[test]
    fn nesting_beyond_the_limit_is_an_error_not_a_crash() {
        let deep = format!("apiVersion: v1\nkind: ConfigMap\ndata:\n{}\n", "- ".repeat(10_000) + "x");
        let text = format!("{deep}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: after}}\n");
        let l = load_str(&text);
        assert_eq!(l.errors.len(), 1, "{:?}", errors(&l));
        assert!(l.errors[0].message.contains("nested more than"), "{:?}", errors(&l));
        assert_eq!(l.errors[0].pos.line, 4);
        assert_eq!(l.objects.len(), 1);
        let flow = format!("apiVersion: v1\nkind: ConfigMap\ndata: {}\n", "[".repeat(10_000));
        assert_eq!(load_str(&flow).errors.len(), 1);
        // Right at the limit is fine.
        let ok = format!(
            "apiVersion: v1\nkind: ConfigMap\ndata: {}x{}\n",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        );
        assert!(load_str(&ok).errors.is_empty());
    }

    #[test]
    fn alias_bombs_stop_at_the_budget() {
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\nl0: &l0 [lol]\n");
        for i in 1..10 {
            let prev = format!("*l{}", i - 1);
            text.push_str(&format!("l{i}: &l{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let l = load_str(&text);
        assert_eq!(l.errors.len(), 1);
        assert!(l.errors[0].message.contains("alias bomb"), "{:?}", errors(&l));
        // Ordinary aliases are fine, positioned at the alias.
        let ok = load_str("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: &l {a: b}\n  annotations: *l\n");
        assert!(ok.errors.is_empty());
        assert_eq!(ok.objects[0].value["metadata"]["annotations"]["a"], "b");
        assert_eq!(at(&ok.objects[0], "/metadata/annotations/a"), (5, 3));
    }

    #[test]
    fn an_input_past_the_memory_budget_is_refused_whole_and_earlier_ones_kept() {
        let doc = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n";
        let source = |name: &str, n: usize| Source { name: PathBuf::from(name), text: doc.repeat(n) };
        let budget = 60 * 1024;
        let mut l = Loaded::default();
        let small = source("small.yaml", 10);
        let chunks = split(&small.text);
        add_parsed_within(&mut l, small, &chunks, budget);
        assert_eq!((l.objects.len(), l.errors.len()), (10, 0));
        assert!(l.heap > 0 && l.heap < budget / 2, "{}", l.heap); // 2.3 KB per ConfigMap
        let big = source("big.yaml", 100);
        let chunks = split(&big.text);
        add_parsed_within(&mut l, big, &chunks, budget);
        // The second input stops where the budget ran out, and none of its
        // objects is kept; the first input's are.
        assert_eq!(l.objects.len(), 10);
        assert!(l.objects.iter().all(|o| o.source == 0));
        let e = errors(&l);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("input refused here"), "{e:?}");
        let line: u32 = e[0].split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        assert!(line > 5 * 10 && line < 5 * 100, "{e:?}");
        assert!(l.heap < budget);
    }

    #[test]
    fn invalid_utf8_is_reported_at_its_line_and_earlier_documents_load() {
        let mut bytes =
            b"apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\n".to_vec();
        bytes.extend_from_slice(b"metadata: {name: \xff}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: c}\n");
        let mut l = Loaded::default();
        add_bytes(&mut l, PathBuf::from("bad.yaml"), bytes);
        assert_eq!(errors(&l), ["7:18: not UTF-8: byte 0xFF is not valid UTF-8 text"]);
        assert_eq!(l.objects.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["a"]);
        assert!(l.sources[0].text.contains('\u{FFFD}'));
    }

    #[test]
    fn lone_carriage_returns_end_lines_for_the_reports_too() {
        let l = load_str("apiVersion: v1\rkind: ConfigMap\rmetadata:\r  name: x\r\n  namespace: y\r");
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        assert_eq!(at(&l.objects[0], "/metadata/namespace"), (5, 3));
        assert_eq!(l.sources[0].text.lines().nth(4), Some("  namespace: y"));
    }

    #[test]
    fn json_and_directives_and_kustomizations() {
        let json = "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"Service\",\n\t\"metadata\": {\"name\": \"s\"},\n\t\"spec\": {\"ports\": [{\"port\": 80}]}\n}\n";
        let l = load_str(json);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        assert_eq!(l.objects[0].value["spec"]["ports"][0]["port"], 80);
        assert_eq!(at(&l.objects[0], "/spec/ports/0/port"), (5, 22));
        let directives = load_str("apiVersion: v1\nkind: Pod\n...\n%YAML 1.2\n---\napiVersion: v1\nkind: Pod\n");
        assert!(directives.errors.is_empty(), "{:?}", errors(&directives));
        assert_eq!(directives.objects.len(), 2);
        let kustomization =
            load_str("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: []\n");
        assert!(kustomization.errors.is_empty(), "{:?}", errors(&kustomization));
        assert_eq!(kustomization.objects.len(), 1, "kept: its generators name Secrets and ConfigMaps");
        let patch = load_str("- op: replace\n  path: /spec/replicas\n  value: 3\n");
        assert!(patch.errors.is_empty() && patch.objects.is_empty(), "a JSON 6902 patch file is skipped");
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

    #[test]
    fn scalar_resolution_edge_cases() {
        assert_eq!(number("0"), Some(Number::from(0)));
        assert_eq!(number("-9223372036854775808"), Some(Number::from(i64::MIN)));
        assert_eq!(number("+12"), Some(Number::from(12)));
        assert_eq!(number("1e400"), None);
        for s in ["1.2.3", "0x", "-", ".", "+", "1e", "12ab", "0b2", "1:20"] {
            assert_eq!(number(s), None, "{s}");
        }
        assert!(yaml_float(".5") && yaml_float("-1.") && yaml_float("1E+3") && !yaml_float("e3"));
    }
}
