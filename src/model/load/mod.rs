//! Reads manifests — files, folders, stdin — into [`Object`](super::Object)s
//! that keep the position of every field.
//!
//! How input is read (the decisions, in one place):
//!
//! - **Inputs.** `-` is stdin; a file is read whatever its name; a folder is
//!   searched recursively for `*.yaml`, `*.yml` and `*.json`, in sorted order,
//!   skipping hidden entries (`.git`, `.kubeproof.yaml`); only regular files
//!   are read from a folder (a FIFO, socket or device is skipped with a note
//!   in [`Loaded::notes`]), while a file named explicitly is read whatever it
//!   is. A file named twice is read once. Every input is read with a bound:
//!   over [`MAX_INPUT_BYTES`] it is refused (by its size first, when it has one).
//!   In `check`, a file over 8 MiB is read a block at a time instead
//!   (`streamed`): its text is never held whole, the bound is on each of its
//!   documents, and the memory budget bounds the file.
//! - **Documents one by one.** The text is cut at document markers (`---` at
//!   the start of a line) and each document is parsed on its own, so a broken
//!   document costs only itself: the documents before and after it are
//!   checked. A document of nothing but comments and blank lines is not
//!   parsed (it holds no object). Invalid UTF-8 is reported at its line; the
//!   documents before it are checked.
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
//!   aliases expanding past [`ALIAS_BUDGET`] nodes, a NUL character, which
//!   the parser would take for the end of the text) are [`Diagnostic`]s at
//!   file:line in [`Loaded::errors`]; the document is skipped.
//! - **Memory.** Every object is kept (cross-object checks need them all),
//!   so what is kept of all inputs together may take at most [`MAX_HEAP`]; an
//!   input that would go beyond is refused whole, with an error where the
//!   budget ran out, and the inputs read before it are still checked. When
//!   little of the budget is left (a sixteenth), the inputs after it are not
//!   read, with one error for them all. What is
//!   counted, as the parser streams (never when a list or document closes):
//!   every node (its slot in its list or its entry in its mapping),
//!   every string's bytes, the 16 bytes of each recorded position, each
//!   object's names, each error report (its text and file name), and the
//!   growth of the builder's reused buffers. Documents are cut one at a time, not listed first. A
//!   file is read into a buffer of its size (doubling would hold up to three
//!   times the input while it grows). An input with more than [`MAX_INPUT_ERRORS`] errors is
//!   refused there too. Each input's text is counted whole as it is taken
//!   (it stays beside its objects: findings show its lines; 100,000 files
//!   of small objects hold as much text as a tenth of the budget). Not
//!   counted: the parser's own lookahead (bounded: see
//!   `vendor/saphyr-parser/PATCHES.md`).
//! - **Lists.** `kind: List` (or any `*List`) with `items`, as `kubectl get -o
//!   yaml` prints, becomes one object per item, positioned at the item.
//!   Items without `kind`/`apiVersion` (a typed `PodList`) take them from the
//!   list.
//! - **Helm.** In a stream whose documents carry `# Source: chart/templates/x.yaml`
//!   comments (`helm template`), each object keeps its template's path
//!   ([`Object::template`](crate::model::Object::template)); findings name the
//!   stream's file and line (the template paths exist in no folder) and the
//!   template beside them.
//! - **Kustomize configuration**: a `kustomization.yaml` is kept as an
//!   object (its generators tell which Secrets and ConfigMaps exist; checks
//!   that judge cluster objects skip it); JSON 6902 patch files are skipped.
//! - **Positions** are kept in [`Spans`], a sorted table of 16 bytes per
//!   node: a hash of the node's JSON pointer and its line and column. When
//!   single-object checks ran as the documents were read (`check`), an
//!   object read from a file keeps only where its document is, and the
//!   table is built again from the file when a position inside it is asked.
//! - **Memory.** Values are built at their exact size from buffers reused
//!   across documents. What remains is the values themselves, in the
//!   compact form of [`crate::model::value`] (a mapping is a vector of its
//!   entries, keys shared by the run): what `check` keeps of a typical
//!   object is under 1 KB, its slot included (`KUBEPROOF_BENCH_INPUT=dir
//!   cargo bench --bench load` measures it).
//!
//! Where each part lives:
//!
//! - here: the limits, the entry points ([`load`], [`add_bytes`],
//!   [`add_source`]), reading on every core, and the memory budget per input;
//! - `inputs`: which files the inputs name (stdin, files, folders);
//! - `documents`: a text cut into documents, Helm templates, UTF-8 errors,
//!   and a parsed document turned into objects (lists, kustomize files);
//! - `events`: parser events built into values (anchors and aliases, merge
//!   keys, duplicate keys, depth);
//! - `scalars`: how a plain scalar is typed (YAML 1.1, as go-yaml v2);
//! - `spans`: the positions table [`Spans`].

mod documents;
mod events;
pub mod files;
mod inputs;
pub mod inside;
mod lines;
mod scalars;
mod spans;
mod streamed;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub use lines::{LineReader, Shown};
pub use spans::Spans;

use super::finding::Finding;
use super::{Loaded, Source};
use crate::diag::{Diagnostic, Pos, Severity};
pub(crate) use documents::lone_cr_to_lf;
use documents::{add_chunks, has_content, objects, split};
use events::{Builder, Kept};
use inputs::{Input, Opened, STDIN, inputs_of};
pub use inputs::{ReadError, read_bounded, read_file, read_file_bounded};

/// The deepest nesting of mappings and sequences a document may have.
/// Kubernetes objects, CRD schemas included, stay far below (a CRD schema 40
/// levels deep is about 90); the limit keeps every recursive walk over an
/// object (checks, drops) off the stack's edge, and stays below the parser's
/// own limit for flow collections (255), so the message is always ours.
pub const MAX_DEPTH: usize = 200;

/// How many nodes aliases may produce in one document: real manifests reuse
/// a few small anchors, an alias bomb ("billion laughs") asks for billions.
pub const ALIAS_BUDGET: usize = 100_000;

/// The largest input read whole (stdin, and any file when its objects are
/// not checked as they are read), and the largest document of a file read a
/// block at a time.
pub const MAX_INPUT_BYTES: u64 = 256 << 20;

/// How much memory what is kept of all inputs together may take (an
/// estimate, counted as it is built: the texts, values, positions, objects'
/// names, error reports, and in `check` the findings of the checks run as
/// documents are read, less what [`Early`] cut, and [`AFTER_READING`] an
/// object; `check` then counts the findings of the checks across objects
/// against what is left). What is counted is what is allocated, within a
/// few percent (`cargo bench --bench load` compares them). Manifests take
/// several times their text as values (a small Deployment about 2.6 KB,
/// text included); in `check`, this budget holds the 1,004,000 objects of
/// the benchmark corpus (`scripts/bench-kubeconform`, BENCHMARKS.md) in
/// 102,000 files or in one stream (880 MiB is enough for both), and such a
/// run peaks under 1 GiB; so does 100 MB of small Deployments, whose
/// findings across objects are refused. `check --memory-budget` sets
/// another; `scripts/bench-refusal` measures a run refused at this one.
/// Text made of tiny mappings (`{a}, {a}, …`) takes many times its size,
/// and is stopped here too.
pub const MAX_HEAP: usize = 900 << 20;

/// What `check` takes per object once everything is read, counted as each
/// object is read (with [`Early`]), so that a run whose reading fills its
/// budget still has room to check across objects: their context (the index
/// and pod templates, 63 bytes an object of the benchmark corpus, `cargo
/// bench --bench load`, and the network policies three checks share, 64)
/// and [`FINDINGS_ROOM`].
pub const AFTER_READING: usize = 128 + FINDINGS_ROOM;

/// Of [`AFTER_READING`], room for the findings of the checks across
/// objects: they took 15 bytes an object of the benchmark corpus (counted
/// as `check` counts them). More than that room may still fit in what is
/// left of the budget.
pub const FINDINGS_ROOM: usize = 32;

/// Readers in parallel share one count, and stop when it passes this: it
/// starts at this less what they may take together ([`shared_count`]), so
/// the test is the same whatever the budget.
const SHARED_STOP: usize = 1 << 60;

/// How many inputs a reader in parallel takes at a time.
const READ_TOGETHER: usize = 8;

/// The count shared by readers in parallel that may take `budget` bytes.
fn shared_count(budget: usize) -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(SHARED_STOP.saturating_sub(budget)))
}

/// The most errors one input may have: past them it is refused (a stream
/// of a million broken documents is not manifests, and each report takes
/// memory and a line of output).
pub const MAX_INPUT_ERRORS: usize = 1_000;

/// Reads every input: `-` is stdin, a folder is searched recursively for
/// `*.yaml`, `*.yml` and `*.json` (sorted; hidden entries skipped).
///
/// The cores to read and check on, at most 16. Asked once a process:
/// `available_parallelism` reads the cgroup's files on every call, and
/// `gen`'s proof asked it 669 times (2,000 opens and 4,000 reads).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()).min(16))
}

/// Several files are read and parsed on every core, and the result is the
/// same as reading them one after the other: the parts are joined in input
/// order, and when they would not all fit in [`MAX_HEAP`] together, everything is read
/// again one input at a time, which decides exactly which inputs are
/// refused. The parallel readers stop as soon as their total passes the
/// budget, so memory stays bounded either way.
pub fn load(inputs: &[PathBuf]) -> Loaded {
    load_within(inputs, MAX_HEAP)
}

/// [`load`] within a memory budget of `budget` bytes (for [`MAX_HEAP`]).
pub fn load_within(inputs: &[PathBuf], budget: usize) -> Loaded {
    load_on(inputs, cores(), budget, None)
}

/// What runs on the objects of each document as it is read, before they
/// are kept: `check`'s single-object checks, which also cut the objects
/// down to what the other checks read. It returns its findings (object
/// numbers counted in the slice it was given), which the loader keeps in
/// [`Loaded::findings`], numbered among all objects.
pub type Early = dyn Fn(&mut [super::Object], super::Sources<'_>) -> Vec<Finding> + Send + Sync;

/// The [`Early`] of a load, if any (a type of its own to be `Debug`).
#[derive(Clone, Default)]
pub struct EarlyHook(pub(crate) Option<std::sync::Arc<Early>>);

impl std::fmt::Debug for EarlyHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "EarlyHook(Some)" } else { "EarlyHook(None)" })
    }
}

/// [`load`] within a memory budget of `budget` bytes (for [`MAX_HEAP`]),
/// running `early` on every document's objects as they are read.
pub fn load_with(inputs: &[PathBuf], budget: usize, early: std::sync::Arc<Early>) -> Loaded {
    let threads = cores();
    load_on(inputs, threads, budget, Some(early))
}

pub(crate) fn load_on(
    inputs: &[PathBuf],
    threads: usize,
    budget: usize,
    early: Option<std::sync::Arc<Early>>,
) -> Loaded {
    let (items, notes) = inputs_of(inputs);
    let mut loaded = load_items(items, threads, budget, early);
    // The folders' notes first, then those of the files read.
    loaded.notes.splice(0..0, notes);
    loaded
}

fn load_items(items: Vec<Input>, threads: usize, budget: usize, early: Option<std::sync::Arc<Early>>) -> Loaded {
    let files = items.iter().filter(|i| matches!(i, Input::File(_))).count();
    let mut loaded = Loaded { early: EarlyHook(early), ..Loaded::default() };
    let mut next = 0;
    if threads.min(files) > 1 {
        loop {
            let stop;
            (loaded, next, stop) = load_parallel(loaded, &items, next, threads.min(files), budget);
            if stop != Stop::One {
                break;
            }
            // A large file (its blocks parsed on every core) or a name
            // taken: read alone, in order; then in parallel again, unless
            // it was refused at the budget (then one at a time, as below).
            read_one(&mut loaded, &items[next], budget);
            next += 1;
            if loaded.over_budget || loaded.budget_spent {
                break;
            }
        }
    }
    let total = items.len();
    for (i, item) in items.into_iter().enumerate().skip(next) {
        if loaded.budget_spent && !matches!(item, Input::Failed(_)) {
            not_read(&mut loaded, total - i);
            break;
        }
        match item {
            // Not copied: stdin may be 256 MiB.
            Input::Stdin(bytes) => add_bytes_within(&mut loaded, PathBuf::from(STDIN), bytes, budget),
            item => read_one(&mut loaded, &item, budget),
        }
    }
    // Kept to the end of the run: without the room the vector grew into
    // (untouched, so not resident, but allocated).
    loaded.objects.shrink_to_fit();
    loaded
}

/// Reads input `item` alone into `loaded`, as the ordered reading does.
fn read_one(loaded: &mut Loaded, item: &Input, budget: usize) {
    match item {
        Input::Failed(d) => loaded.errors.push(d.clone()),
        Input::Stdin(bytes) => add_bytes_within(loaded, PathBuf::from(STDIN), bytes.clone(), budget),
        Input::File(file) => match inputs::open_file(file, streamed::over(loaded.early.0.is_some())) {
            Ok(Opened::Bytes(bytes)) => add_bytes_within(loaded, file.clone(), bytes, budget),
            Ok(Opened::Large(opened)) => streamed::add_streamed(loaded, file.clone(), opened, budget),
            Err(d) => loaded.errors.push(d),
        },
    }
}

/// Why [`load_parallel`] stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Every input is read.
    End,
    /// The input at `next` is read alone (a file read a block at a time,
    /// a name already taken); the parallel reading may go on after it.
    One,
    /// At the budget: the inputs from `next` on are read one at a time.
    Budget,
}

/// Whether an input refused at the budget leaves too little of it for the
/// next ones to be worth reading: less than a sixteenth (40 MiB). A large
/// input refused on its own leaves the budget free for the inputs after it;
/// small ones refused when the total reaches the budget would each be read
/// and refused.
fn spent(heap: usize, budget: usize) -> bool {
    budget.saturating_sub(heap) < budget / 16
}

/// The inputs left when the memory budget is spent (`left` of them), said
/// in the refusal that spent it: one error per run (refusing each on its
/// own kept a report per file: 500,000 small files took 1.36 GiB).
fn not_read(loaded: &mut Loaded, left: usize) {
    let Some(refusal) = loaded.refusal.and_then(|i| loaded.errors.get_mut(i)) else { return };
    refusal.message += &format!("; the {left} input(s) after it are not read either");
}

/// [`load`] on `threads` threads from input `from` on, after what `base`
/// read: what the inputs before `next` give, read in parallel and joined in
/// input order, exactly as reading them one at a time gives. `next` is the
/// first input that one pass must decide: a file read a block at a time or
/// a name already taken (the loader renames it), after which the parallel
/// reading may go on ([`Stop::One`]); or past the budget (or refused only
/// because the readers together passed it), or not read once the budget is
/// passed, after which everything is read one at a time ([`Stop::Budget`]).
fn load_parallel(base: Loaded, items: &[Input], from: usize, threads: usize, budget: usize) -> (Loaded, usize, Stop) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    // What `base` holds counts with what the readers add.
    let shared = shared_count(budget.saturating_sub(base.heap));
    let early = base.early.0.clone();
    let keys = base.keys.clone();
    let next = AtomicUsize::new(from);
    let over = AtomicBool::new(false);
    let read = |i: usize| -> Option<Loaded> {
        let mut part = Loaded {
            shared_heap: Some(shared.clone()),
            keys: keys.clone(),
            early: EarlyHook(early.clone()),
            ..Loaded::default()
        };
        match &items[i] {
            Input::Failed(_) => return None,
            Input::Stdin(bytes) => add_bytes_within(&mut part, PathBuf::from(STDIN), bytes.clone(), budget),
            Input::File(file) => match inputs::open_file(file, streamed::over(early.is_some())) {
                Ok(Opened::Bytes(bytes)) => add_bytes_within(&mut part, file.clone(), bytes, budget),
                // Read a block at a time, alone (see `load_items`).
                Ok(Opened::Large(_)) => part.large = true,
                Err(d) => part.errors.push(d),
            },
        }
        Some(part)
    };
    let mut loaded = base;
    let mut names = std::mem::take(&mut loaded.source_names);
    // Joined in input order as they are read, not once all are: holding
    // every input's objects until then kept each object's slot twice at the
    // end (176 MB of them at a million objects).
    // A reader takes a few inputs at a time and sends what it read of them
    // together: one message (and one wake-up of the joining thread) an
    // input was a tenth of the CPU time of 10,000 small files.
    let (send, receive) = std::sync::mpsc::channel::<Vec<(usize, Loaded)>>();
    let stop = std::thread::scope(|scope| {
        for _ in 0..threads {
            let send = send.clone();
            let (next, over, shared, read) = (&next, &over, &shared, &read);
            scope.spawn(move || {
                while !over.load(Ordering::Relaxed) {
                    let first = next.fetch_add(READ_TOGETHER, Ordering::Relaxed);
                    if first >= items.len() {
                        break;
                    }
                    let mut parts = Vec::new();
                    for i in first..(first + READ_TOGETHER).min(items.len()) {
                        if let Some(part) = read(i) {
                            let large = part.large;
                            parts.push((i, part));
                            // Read alone next: the joining stops there.
                            if large {
                                break;
                            }
                        }
                        if shared.load(Ordering::Relaxed) > SHARED_STOP {
                            over.store(true, Ordering::Relaxed);
                        }
                        if over.load(Ordering::Relaxed) {
                            break;
                        }
                    }
                    if send.send(parts).is_err() {
                        break; // the joining stopped
                    }
                }
            });
        }
        drop(send);
        let mut waiting: std::collections::BTreeMap<usize, Loaded> = std::collections::BTreeMap::new();
        let mut i = from;
        loop {
            while let Some(item) = items.get(i) {
                if let Input::Failed(d) = item {
                    loaded.errors.push(d.clone());
                    i += 1;
                    continue;
                }
                let Some(part) = waiting.remove(&i) else { break };
                // Read alone with what is joined so far, it would count the
                // same; a name taken is read again in order (Helm templates).
                let fits = !part.over_budget && loaded.heap.saturating_add(part.last_counted) <= budget;
                if part.large || (fits && part.sources.iter().any(|s| names.contains(&s.name))) {
                    over.store(true, Ordering::Relaxed);
                    return (i, Stop::One);
                }
                if !fits {
                    over.store(true, Ordering::Relaxed);
                    return (i, Stop::Budget);
                }
                // The readers' total counted its keys again too.
                shared.fetch_sub(join(&mut loaded, &mut names, part), Ordering::Relaxed);
                i += 1;
            }
            if i >= items.len() {
                return (i, Stop::End);
            }
            match receive.recv() {
                Ok(parts) => waiting.extend(parts),
                // Every reader stopped before input `i` (the budget).
                Err(_) => return (i, Stop::Budget),
            }
        }
    });
    loaded.source_names = names;
    (loaded, stop.0, stop.1)
}

/// Appends what was read of one input to `loaded`; returns the bytes of
/// the keys it counted that were counted before.
fn join(loaded: &mut Loaded, names: &mut HashSet<PathBuf>, mut part: Loaded) -> usize {
    let base = loaded.sources.len();
    loaded.let_go.extend(part.let_go.iter().map(|&(id, len, hash)| (id + base, len, hash)));
    names.extend(part.sources.iter().map(|s| s.name.clone()));
    loaded.sources.extend(part.sources);
    renumber(&mut loaded.findings, part.findings, loaded.objects.len());
    loaded.objects.extend(part.objects.into_iter().map(|mut o| {
        o.source += base;
        o
    }));
    loaded.errors.extend(part.errors);
    loaded.notes.extend(part.notes);
    loaded.heap += part.heap;
    // Counted by an input before it too (see `counted_once`), in order.
    let mut again = 0;
    for key in part.counted_keys.take() {
        let bytes = crate::model::value::Keys::bytes(&key);
        if !loaded.counted_keys.insert(key) {
            again += bytes;
        }
    }
    loaded.heap = loaded.heap.saturating_sub(again);
    again
}

/// Adds one input given as bytes: checks that it is UTF-8 (reporting the
/// first bad byte at its line and still reading the documents before it),
/// then [`add_source`].
pub fn add_bytes(loaded: &mut Loaded, name: PathBuf, bytes: Vec<u8>) {
    add_bytes_within(loaded, name, bytes, MAX_HEAP);
}

/// [`add_bytes`] within `budget` for everything loaded.
/// [`add_bytes`] within a memory budget of `budget` bytes.
pub fn add_bytes_within(loaded: &mut Loaded, name: PathBuf, bytes: Vec<u8>, budget: usize) {
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            lone_cr_to_lf(&mut text);
            let end = text.len();
            documents::add_chunks_within(loaded, Source { name, text }, end, budget);
        }
        Err(e) => documents::add_invalid_utf8(loaded, name, e, budget),
    }
}

/// Parses one source and appends its objects (or its errors).
pub fn add_source(loaded: &mut Loaded, mut source: Source) {
    lone_cr_to_lf(&mut source.text);
    let end = source.text.len();
    add_chunks(loaded, source, end);
}

/// Adds `source`, the YAML kubeproof rendered of `value` (`gen`'s proof of
/// a stack it generated), as [`add_source`] would read that text, without
/// parsing it again: parsing back what was just rendered was a sixth of
/// `gen`'s instructions. The value is converted, and a position inside it
/// is found by parsing the text when a finding asks for one (the text is
/// held: see `spans::Reread::held`). The text is one document, and
/// renders `value` exactly (tests check both on every example).
pub fn add_rendered(loaded: &mut Loaded, source: Source, value: &serde_json::Value) {
    use crate::model::value::{Keys, Map, Value};
    fn converted(v: &serde_json::Value, keys: &mut Keys) -> Value {
        match v {
            serde_json::Value::Array(a) => Value::Array(a.iter().map(|v| converted(v, keys)).collect()),
            serde_json::Value::Object(m) => {
                Value::Object(Map::from_entries(m.iter().map(|(k, v)| (keys.key(k).0, converted(v, keys))).collect()))
            }
            serde_json::Value::Number(n) => Value::Number(scalars::rendered_number(n)),
            scalar => Value::from(scalar),
        }
    }
    let id = loaded.sources.len();
    let mut keys = Keys::new(Some(std::sync::Arc::clone(&loaded.keys)));
    let value = converted(value, &mut keys);
    // A rendered mapping's first key is at the start of its text.
    let at = Pos::new(1, 1);
    let file = spans::Reread::held(&source.name, std::sync::Arc::from(source.text.as_str()));
    let spans = Spans::from_entries(&mut vec![spans::Entry::new(spans::FNV_BASIS, at)])
        .later(&file, 0, source.text.len(), 0)
        .unwrap_or_default();
    let mut part = Part::default();
    match objects(id, events::Doc { value, pos: at, spans, items: Vec::new() }) {
        Ok(objects) => {
            part.kept = objects.iter().map(|o| kept_bytes(o) + events::counted_bytes(&o.value, &o.spans)).sum();
            part.objects = objects;
        }
        Err(p) => {
            let mut d = Diagnostic::error(&source.name, p.pos, p.message);
            d.help = p.help;
            part.errors.push(d);
        }
    }
    part.keys = keys.take();
    part.kept += part.keys.iter().map(|k| Keys::bytes(k)).sum::<usize>();
    counted_once(&loaded.counted_keys, &mut part);
    loaded.heap += source.text.len() + source_bytes(&source.name);
    keep(loaded, &mut part);
    take_reports(loaded, part);
    loaded.source_names.insert(source.name.clone());
    loaded.sources.push(source);
}

/// The documents of a source to parse: those of its first bytes, cut as
/// they are read.
enum Chunks {
    Upto(usize),
}

/// An input at least this large is parsed on every core, in parts cut at
/// document markers (smaller ones are not worth the threads).
const PARALLEL_INPUT: usize = 1 << 20;

/// Parses the chunks of a source, within `budget` for everything loaded.
///
/// A large input read on its own (one stream of 100,000 objects) is cut at
/// document markers into a part per core, parsed in parallel and joined in
/// order: the same objects, errors and notes as one pass. An input that one
/// pass would refuse (the budget, too many errors) is read again in one
/// pass, which decides where it is refused.
fn add_parsed_within(loaded: &mut Loaded, source: Source, chunks: Chunks, budget: usize) {
    let Chunks::Upto(end) = chunks;
    // The text stays in memory with the objects (findings show its lines).
    let text_bytes = source.text.len();
    if let Some(shared) = &loaded.shared_heap {
        shared.fetch_add(text_bytes, std::sync::atomic::Ordering::Relaxed);
    }
    // Positions are read again from the file (see `spans`) when the
    // single-object checks ran, which need them all, and the file can be
    // read again.
    let reread =
        (loaded.early.0.is_some() && source.name != Path::new(STDIN)).then(|| spans::Reread::new(&source.name));
    let mut part = parse_within(loaded, &source.name, &source.text, end, (0, 0, 0), reread, budget);
    let slot = source_bytes(&source.name);
    loaded.last_counted = part.counted + text_bytes + slot;
    loaded.heap += text_bytes + slot;
    if part.refused {
        refuse(loaded, &mut part, &source.name, budget);
    } else {
        keep(loaded, &mut part);
    }
    take_reports(loaded, part);
    loaded.source_names.insert(source.name.clone());
    loaded.sources.push(source);
}

/// One pass over the first `end` bytes of `whole`, the text of (a block
/// of) the input read next, `at` (its first byte, the lines before it and
/// the input's errors before it) into that input; in parts on every core
/// when it surely fits.
fn parse_within(
    loaded: &Loaded,
    name: &Path,
    whole: &str,
    end: usize,
    at: (usize, u32, usize),
    reread: Option<std::sync::Arc<spans::Reread>>,
    budget: usize,
) -> Part {
    let text = &whole[..end];
    let limit = budget.saturating_sub(loaded.heap).saturating_sub(whole.len());
    // In parts only when it surely fits (values take several times their
    // text): an input one pass refuses would be read twice.
    let threads = cores();
    let cuts = if loaded.shared_heap.is_none() && threads > 1 && end >= PARALLEL_INPUT && end < limit / 8 {
        documents::cuts(text, threads)
    } else {
        Vec::new()
    };
    let (offset, line, errors) = at;
    let reading = Reading {
        id: loaded.sources.len(),
        offset,
        line,
        errors,
        limit,
        budget,
        reread,
        ..Reading::of(name, whole, &loaded.keys, loaded.early.0.as_deref())
    };
    let parallel = (!cuts.is_empty()).then(|| parse_parts(&reading, text, &cuts)).flatten();
    let mut part = parallel.unwrap_or_else(|| parse_part(&reading, text, 0, loaded.shared_heap.clone()));
    counted_once(&loaded.counted_keys, &mut part);
    part
}

/// The keys a run counted, by address (see [`counted_once`]).
#[derive(Debug, Default)]
pub(crate) struct CountedKeys(foldhash::HashSet<usize>, Vec<crate::model::value::Key>);

impl CountedKeys {
    fn contains(&self, key: &crate::model::value::Key) -> bool {
        self.0.contains(&key.addr())
    }

    /// Whether `key` is new to the set.
    fn insert(&mut self, key: crate::model::value::Key) -> bool {
        let new = self.0.insert(key.addr());
        if new {
            // Held, so that its address is not taken by another key.
            self.1.push(key);
        }
        new
    }

    fn take(&mut self) -> Vec<crate::model::value::Key> {
        self.0.clear();
        std::mem::take(&mut self.1)
    }
}

/// A mapping key is allocated once a run ([`crate::model::value::SharedKeys`]),
/// but each input (and each part of one) counted the keys it uses, so that
/// what it counts does not depend on which reader took a key first: those
/// that `counted` (the inputs before it, in order) or another of its parts
/// counted already are taken off `part`. A typical file of ten objects
/// counted 2 KB of keys the run already had.
fn counted_once(counted: &CountedKeys, part: &mut Part) {
    use crate::model::value::Keys;
    let mut again = 0;
    part.keys.sort_unstable_by_key(crate::model::value::Key::addr);
    part.keys.dedup_by(|a, b| {
        let same = a.addr() == b.addr();
        again += if same { Keys::bytes(a) } else { 0 };
        same
    });
    part.keys.retain(|k| {
        let before = counted.contains(k);
        again += if before { Keys::bytes(k) } else { 0 };
        !before
    });
    part.kept = part.kept.saturating_sub(again);
}

/// An input refused by `part`: its error reports stay, and still take
/// memory; a refusal at the budget is said once a run.
fn refuse(loaded: &mut Loaded, part: &mut Part, name: &Path, budget: usize) {
    // Half an input would be worse than none: its Services without their
    // Deployments would show as dangling references.
    loaded.heap += part.reports;
    loaded.over_budget |= part.over_budget;
    if part.over_budget && !loaded.budget_spent {
        // The builder stopped at the refusal: its report is the last.
        let this = (!part.errors.is_empty()).then(|| loaded.errors.len() + part.errors.len() - 1);
        match loaded.refusal {
            // A second input past the budget spends it, whatever is left
            // (inputs each a sizeable share of it were refused one by
            // one, each read almost whole): said in the first refusal.
            Some(first) => {
                part.errors.pop();
                loaded.budget_spent = true;
                if let Some(d) = loaded.errors.get_mut(first) {
                    d.message += &format!("; then {} did not fit either", name.display());
                }
            }
            None => {
                loaded.refusal = this;
                loaded.budget_spent = spent(loaded.heap, budget);
            }
        }
    }
}

/// The objects of `part`, and what [`Early`] found in them, appended.
fn keep(loaded: &mut Loaded, part: &mut Part) {
    loaded.heap += part.kept;
    for key in part.keys.drain(..) {
        loaded.counted_keys.insert(key);
    }
    let (objects, findings) = (std::mem::take(&mut part.objects), std::mem::take(&mut part.findings));
    if loaded.objects.is_empty() && loaded.findings.is_empty() {
        // Extending an empty list copies the part's, holding both at once.
        (loaded.objects, loaded.findings) = (objects, findings);
    } else {
        renumber(&mut loaded.findings, findings, loaded.objects.len());
        loaded.objects.extend(objects);
    }
}

/// The errors and notes of `part`, appended.
fn take_reports(loaded: &mut Loaded, part: Part) {
    loaded.errors.extend(part.errors);
    for note in part.notes {
        // One note per file, however many documents it has.
        if loaded.notes.last().is_none_or(|n| n.file != note.file) {
            loaded.notes.push(note);
        }
    }
}

/// The hash that tells a text read again from the text read first (FNV-1a).
pub fn text_hash(text: &str) -> u64 {
    text_hash_from(spans::FNV_BASIS, text)
}

/// [`text_hash`] of the text before `text` (`hash`) and `text`.
fn text_hash_from(hash: u64, text: &str) -> u64 {
    text.bytes().fold(hash, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Lets go of the text of input `id` once its objects are read, when
/// single-object checks ran on them as they were read (only they and the
/// report read it, and the report reads the file again: [`Loaded::text`]):
/// 400 bytes an object of a typical manifest. Stdin cannot be read again,
/// and dashboards kept as files are read whole by cross-object checks.
pub(super) fn let_go_of_text(loaded: &mut Loaded, id: usize) {
    if loaded.early.0.is_none() {
        return;
    }
    let Some(source) = loaded.sources.get_mut(id) else { return };
    let dashboards =
        loaded.objects.iter().rev().take_while(|o| o.source == id).any(|o| o.api_version == files::FILE_API);
    if source.name == Path::new(STDIN) || source.text.is_empty() || dashboards {
        return;
    }
    let len = source.text.len();
    loaded.let_go.push((id, len, text_hash(&source.text)));
    source.text = String::new();
    loaded.heap = loaded.heap.saturating_sub(len);
    if let Some(shared) = &loaded.shared_heap {
        shared.fetch_sub(len, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Appends `found`, whose object numbers count from `first`.
fn renumber(findings: &mut Vec<Finding>, found: Vec<Finding>, first: usize) {
    findings.extend(found.into_iter().map(|mut f| {
        f.object += first;
        f
    }));
}

/// What every pass over one input shares.
struct Reading<'a> {
    /// The input's number among the sources.
    id: usize,
    name: &'a std::path::Path,
    /// Its whole text (a pass may read a part of it), or the block of it
    /// read now ([`add_streamed`]).
    whole: &'a str,
    /// Where `whole` starts in the input: its first byte, and the lines
    /// before it.
    offset: usize,
    line: u32,
    /// The input's errors reported before `whole` (see [`MAX_INPUT_ERRORS`]).
    errors: usize,
    /// What its values may take.
    limit: usize,
    /// The run's whole budget (named in a refusal).
    budget: usize,
    keys: &'a std::sync::Arc<crate::model::value::SharedKeys>,
    early: Option<&'a Early>,
    /// The file to read positions from again, once the objects are checked
    /// one by one ([`Spans::later`]).
    reread: Option<std::sync::Arc<spans::Reread>>,
}

impl<'a> Reading<'a> {
    /// Input 0, `name`, whose whole text is `whole`, read from its start.
    fn of(
        name: &'a Path,
        whole: &'a str,
        keys: &'a std::sync::Arc<crate::model::value::SharedKeys>,
        early: Option<&'a Early>,
    ) -> Reading<'a> {
        let (limit, budget) = (MAX_HEAP, MAX_HEAP);
        Reading { id: 0, name, whole, offset: 0, line: 0, errors: 0, limit, budget, keys, early, reread: None }
    }
}

/// The objects of one document of `name`, `text`, after `lines` lines:
/// read again for their positions ([`spans::Reread`]).
pub(super) fn reread_document(name: &Path, text: &str, lines: u32) -> Vec<crate::model::Object> {
    let keys = std::sync::Arc::default();
    let r = Reading::of(name, text, &keys, None);
    parse_part(&r, text, lines, None).objects
}

/// What one pass over (part of) an input read.
#[derive(Default)]
struct Part {
    objects: Vec<super::Object>,
    /// What [`Early`] found in `objects`.
    findings: Vec<Finding>,
    errors: Vec<Diagnostic>,
    notes: Vec<Diagnostic>,
    /// Bytes of its error reports.
    reports: usize,
    /// Bytes its objects keep.
    kept: usize,
    /// Everything its reader counted, its buffers too.
    counted: usize,
    refused: bool,
    over_budget: bool,
    /// The mapping keys its objects use: each counted in `kept` once.
    keys: Vec<crate::model::value::Key>,
}

/// The parts of `text` between `cuts` (byte offsets of document markers),
/// each on a thread; `None` when one pass must decide (a part was refused,
/// or the errors together pass [`MAX_INPUT_ERRORS`]).
fn parse_parts(r: &Reading, text: &str, cuts: &[usize]) -> Option<Part> {
    let limit = r.limit;
    // Together bounded by `limit` (see `Builder::grow`).
    let shared = shared_count(limit);
    // Each part with the lines before it (positions come from the parser,
    // given them), each line counted once.
    let mut bounds: Vec<(usize, usize, u32)> = Vec::with_capacity(cuts.len() + 1);
    let mut lines = 0;
    for (start, end) in std::iter::once(0).chain(cuts.iter().copied()).zip(cuts.iter().copied().chain([text.len()])) {
        bounds.push((start, end, to_u32(lines)));
        lines += text.as_bytes()[start..end].iter().filter(|&&b| b == b'\n').count();
    }
    let parts: Vec<Part> = std::thread::scope(|scope| {
        let workers: Vec<_> = bounds
            .iter()
            .map(|&(start, end, lines)| {
                let shared = shared.clone();
                scope.spawn(move || parse_part(r, &text[start..end], lines, Some(shared)))
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Part { refused: true, ..Part::default() })).collect()
    });
    let errors: usize = parts.iter().map(|p| p.errors.len()).sum();
    // One reader would count what the parts keep and its buffers, which
    // grow to what the largest document needs: about the largest part's.
    // Near the limit, one pass decides.
    let buffers = parts.iter().map(|p| p.counted - p.kept).max().unwrap_or(0);
    let counted = parts.iter().map(|p| p.kept).sum::<usize>() + 2 * buffers;
    if parts.iter().any(|p| p.refused)
        || r.errors + errors > MAX_INPUT_ERRORS
        || counted.saturating_add(limit / 16) > limit
    {
        return None;
    }
    let mut joined = Part::default();
    joined.objects.reserve_exact(parts.iter().map(|p| p.objects.len()).sum());
    for p in parts {
        renumber(&mut joined.findings, p.findings, joined.objects.len());
        joined.objects.extend(p.objects);
        joined.errors.extend(p.errors);
        joined.notes.extend(p.notes);
        joined.reports += p.reports;
        joined.kept += p.kept;
        joined.keys.extend(p.keys);
    }
    joined.counted = counted;
    Some(joined)
}

/// One pass over `text` (of input `r`, `line` lines into it).
fn parse_part(
    r: &Reading,
    text: &str,
    line: u32,
    shared: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
) -> Part {
    let (id, name) = (r.id, r.name);
    let mut part = Part::default();
    let mut builder = Builder::new(r.limit, r.budget, shared, r.keys.clone());
    builder.errors = r.errors;
    let line = line.saturating_add(r.line);
    for chunk in split(text) {
        if builder.refused {
            break; // not read further: the rest of a hostile input may be long
        }
        let doc = &text[chunk.start..chunk.end];
        if !has_content(doc) {
            continue;
        }
        let lines = chunk.line.saturating_add(line);
        // Where the document starts in the whole input: `text` is a part of it.
        let start = (doc.as_ptr() as usize).wrapping_sub(r.whole.as_ptr() as usize) + r.offset;
        builder.parse(doc, lines, &mut |parsed, left| match parsed.and_then(|d| objects(id, d)) {
            Ok(mut objects) => {
                let mut values = None;
                let mut bytes = 0;
                let mut found = Vec::new();
                if let Some(early) = r.early {
                    found = early(&mut objects, super::Sources::One { id, name, text: r.whole });
                    bytes += found.iter().map(Finding::kept_bytes).sum::<usize>();
                    if let Some(file) = &r.reread {
                        for o in objects.iter_mut().filter(|o| o.api_version != files::FILE_API) {
                            if let Some(later) = o.spans.later(file, start, doc.len(), lines) {
                                o.spans = later;
                            }
                        }
                    }
                    // It may have cut the objects down: what is left counts.
                    values = Some(objects.iter().map(|o| events::counted_bytes(&o.value, &o.spans)).sum());
                }
                bytes += objects.iter().map(kept_bytes).sum::<usize>();
                if r.early.is_some() {
                    bytes += objects.len() * AFTER_READING;
                }
                let (findings, listed) =
                    (Growth::of(&part.findings, found.len()), Growth::of(&part.objects, objects.len()));
                let (room, moved) = (findings.room + listed.room, findings.moved + listed.moved);
                // Checked before the lists grow: growing is what would pass the budget.
                let full = bytes.saturating_add(room).saturating_add(moved) > left;
                if !full {
                    findings.apply(&mut part.findings);
                    listed.apply(&mut part.objects);
                    renumber(&mut part.findings, found, part.objects.len());
                    part.objects.extend(objects);
                }
                Kept { bytes, error: false, values, room, moved, full }
            }
            Err(p) if p.skipped => {
                if part.notes.is_empty() {
                    part.notes
                        .push(Diagnostic { severity: Severity::Info, ..Diagnostic::error(name, p.pos, p.message) });
                }
                Kept::nothing(room(&part))
            }
            Err(p) => {
                let mut d = Diagnostic::error(name, p.pos, p.message);
                d.help = p.help;
                let bytes = report_bytes(&d);
                part.errors.push(d);
                part.reports += bytes;
                Kept { bytes, error: true, ..Kept::nothing(room(&part)) }
            }
        });
    }
    builder.finish();
    part.refused = builder.refused;
    part.over_budget = builder.over_budget;
    if part.refused {
        part.objects = Vec::new();
        part.findings = Vec::new();
    }
    part.kept = builder.kept();
    part.counted = builder.counted();
    if !part.refused {
        part.keys = builder.keys();
    }
    part
}

/// How a list of `T` grows for `n` more items: as `Vec` does, doubling,
/// though decided here so that it can be counted before it happens.
struct Growth {
    /// The capacity it grows to (`None`: it has room).
    to: Option<usize>,
    /// Bytes of room left after the items.
    room: usize,
    /// Bytes of the storage let go of (held while the items are copied).
    moved: usize,
}

impl Growth {
    fn of<T>(list: &Vec<T>, n: usize) -> Growth {
        let (len, cap, size) = (list.len(), list.capacity(), size_of::<T>());
        let need = len.saturating_add(n);
        if need <= cap {
            return Growth { to: None, room: (cap - need) * size, moved: 0 };
        }
        let to = need.max(cap.saturating_mul(2)).max(4);
        Growth { to: Some(to), room: (to - need).saturating_mul(size), moved: cap.saturating_mul(size) }
    }

    fn apply<T>(&self, list: &mut Vec<T>) {
        if let Some(to) = self.to {
            list.reserve_exact(to - list.len());
        }
    }
}

/// The room the lists of `part` hold beyond their items, in bytes.
fn room(part: &Part) -> usize {
    Growth::of(&part.objects, 0).room + Growth::of(&part.findings, 0).room
}

/// What an input keeps once read, beside its objects: its slot, its name,
/// the name again among those taken, and its length and hash once its
/// text is let go (a quarter of a kilobyte a file of 100,000).
pub(super) fn source_bytes(name: &Path) -> usize {
    size_of::<Source>() + size_of::<PathBuf>() + 16 + size_of::<(usize, usize, u64)>() + 2 * name.as_os_str().len()
}

/// What an error report keeps.
fn report_bytes(d: &Diagnostic) -> usize {
    size_of::<Diagnostic>() + d.file.as_os_str().len() + d.message.len() + d.help.as_ref().map_or(0, String::len)
}

/// The refusal of an input whose objects would take more than `budget`
/// bytes, at the place where the budget ran out.
fn over_budget(pos: Pos, budget: usize) -> Problem {
    Problem::new(
        pos,
        format!("input refused here: with it, the objects to check would take over {} MiB of memory", budget >> 20),
    )
    .help(
        "none of this input's objects are checked; the inputs before it are. \
         Check the manifests in several runs (e.g. one per namespace or application), \
         or give `check --memory-budget` more",
    )
}

/// What an object keeps beside its value and positions (counted as they
/// are built): its slot and its names.
fn kept_bytes(o: &crate::model::Object) -> usize {
    // Names of up to 24 bytes are inline.
    let heap = |s: &crate::model::value::Str| if s.is_heap_allocated() { s.capacity() } else { 0 };
    size_of::<crate::model::Object>()
        + heap(&o.api_version)
        + heap(&o.kind)
        + heap(&o.name)
        + o.namespace.as_ref().map_or(0, heap)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// What went wrong, and where, in one document.
struct Problem {
    pos: Pos,
    message: String,
    help: Option<String>,
    /// Not an error: a file that is not a manifest, skipped with a note.
    skipped: bool,
}

impl Problem {
    fn new(pos: Pos, message: impl Into<String>) -> Problem {
        Problem { pos, message: message.into(), help: None, skipped: false }
    }

    fn help(mut self, help: impl Into<String>) -> Problem {
        self.help = Some(help.into());
        self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use super::*;
    use crate::model::Object;

    pub(crate) fn load_str(text: &str) -> Loaded {
        let mut loaded = Loaded::default();
        add_source(&mut loaded, Source { name: PathBuf::from("t.yaml"), text: text.to_string() });
        loaded
    }

    pub(super) fn at(o: &Object, pointer: &str) -> (u32, u32) {
        let p = o.pos(pointer);
        (p.line, p.column)
    }

    pub(super) fn errors(l: &Loaded) -> Vec<String> {
        l.errors.iter().map(|d| format!("{}:{}: {}", d.pos.line, d.pos.column, d.message)).collect()
    }

    /// An [`Early`] that reports every object by name, at its name.
    pub(super) fn naming() -> std::sync::Arc<Early> {
        std::sync::Arc::new(|objects: &mut [Object], sources: crate::model::Sources<'_>| {
            let mut out = Vec::new();
            for (i, o) in objects.iter().enumerate() {
                assert!(sources.get(o.source).is_some(), "its source is given");
                out.push(Finding {
                    code: "T",
                    severity: Severity::Info,
                    object: i,
                    pointer: "/metadata/name".into(),
                    at: None,
                    message: o.name.to_string(),
                    help: None,
                });
            }
            out
        })
    }

    /// The findings of [`naming`], each checked against the object it names.
    pub(super) fn found(l: &Loaded) -> Vec<(usize, String)> {
        for f in &l.findings {
            assert_eq!(l.objects[f.object].name, f.message, "finding {f:?}");
        }
        assert_eq!(l.findings.len(), l.objects.len(), "one per object");
        l.findings.iter().map(|f| (f.object, f.message.clone())).collect()
    }

    /// What a load yields, as text: sources, objects with the position of
    /// every pointer the checks may ask for, errors with their file.
    pub(super) fn summary(l: &Loaded) -> String {
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
    pub(super) fn mixed_inputs(dir: &Path) -> Vec<PathBuf> {
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

    pub(super) const DEPLOY: &str = "# a comment
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

    /// A stream past [`PARALLEL_INPUT`] with what a pass meets: objects, a
    /// broken document, a skipped one (a note), `%` directives, Helm comments.
    pub(super) fn big_stream() -> String {
        stream_of(PARALLEL_INPUT + PARALLEL_INPUT / 2)
    }

    /// [`big_stream`] of at least `size` bytes.
    pub(super) fn stream_of(size: usize) -> String {
        let mut text = String::new();
        let mut i = 0;
        while text.len() < size {
            text += &format!("---\n# Source: chart/templates/d{i}.yaml\n");
            text += &DEPLOY.replace("name: web", &format!("name: web-{i}"));
            match i % 997 {
                5 => text += "---\nkind: [unclosed\n",
                7 => text += "---\nroute: {receiver: x}\nreceivers: [{name: x}]\n",
                11 => text += "%YAML 1.1\n# between\n\n",
                _ => {}
            }
            i += 1;
        }
        text
    }

    #[test]
    fn a_rendered_object_is_what_its_text_reads_and_is_placed_in_it() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: shop\ndata:\n  a: '1'\nx:\n- 5.0\n- 2.5\n";
        let value = serde_json::json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "flags", "namespace": "shop" }, "data": { "a": "1" }, "x": [5.0, 2.5],
        });
        let source = |name: &str| Source { name: PathBuf::from(name), text: text.to_string() };
        let read = load_str(text);
        let mut rendered = Loaded::default();
        add_rendered(&mut rendered, source("flags.yaml"), &value);
        add_rendered(&mut rendered, source("again.yaml"), &value);
        assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
        assert_eq!(rendered.objects.len(), 2);
        let (o, r) = (&rendered.objects[1], &read.objects[0]);
        assert_eq!((o.source, &o.kind, &o.name, o.ns()), (1, &r.kind, &r.name, "shop"));
        assert_eq!(o.value, r.value);
        // The text is parsed only for a position inside the object.
        assert!(o.spans.is_empty(), "no table is kept");
        for pointer in ["", "/metadata/namespace", "/data/a", "/data"] {
            assert_eq!(at(o, pointer), at(r, pointer), "{pointer}");
        }
        assert_eq!(at(o, "/data/a"), (7, 3));
        // A key is allocated once for every object of the run.
        let key = |o: &Object| o.value.as_object().and_then(|m| m.iter().next().map(|(k, _)| k.addr()));
        assert_eq!(key(&rendered.objects[0]), key(o));
        assert!(rendered.heap > 2 * text.len(), "counted: {}", rendered.heap);
        // What is not an object is said as the loader says it.
        let mut broken = Loaded::default();
        add_rendered(&mut broken, source("nokind.yaml"), &serde_json::json!({ "apiVersion": "v1" }));
        assert!(broken.objects.is_empty());
        assert_eq!(errors(&broken), ["1:1: this document has no `kind`: it is not a Kubernetes object"]);
        assert_eq!(broken.errors[0].file, Path::new("nokind.yaml"));
    }

    #[test]
    fn a_large_input_read_in_parts_gives_what_one_pass_gives() {
        let text = big_stream();
        let name = Path::new("big.yaml");
        let cuts = documents::cuts(&text, 4);
        assert_eq!(cuts.len(), 3, "a cut per part after the first");
        for &c in &cuts {
            assert!(text[c..].starts_with("---\n"), "at a marker: {:?}", &text[c..c + 20]);
            assert!(!text[..c].trim_end_matches(['\n', ' ']).ends_with("# between"), "not under a directive");
        }
        let keys = Default::default();
        let reading = |limit| Reading { limit, ..Reading::of(name, &text, &keys, None) };
        let one = parse_part(&reading(MAX_HEAP), &text, 0, None);
        let parts = parse_parts(&reading(MAX_HEAP), &text, &cuts).expect("fits");
        // What runs as documents are read numbers its findings among the whole input's objects.
        let early = naming();
        let with_early = Reading { early: Some(&*early), ..reading(MAX_HEAP) };
        let by_name = |p: &Part| -> Vec<(usize, String)> {
            for f in &p.findings {
                assert_eq!(p.objects[f.object].name, f.message);
            }
            p.findings.iter().map(|f| (f.object, f.message.clone())).collect()
        };
        let (one_found, parts_found) = (
            by_name(&parse_part(&with_early, &text, 0, None)),
            by_name(&parse_parts(&with_early, &text, &cuts).expect("fits")),
        );
        assert_eq!(one_found.len(), one.objects.len());
        assert_eq!(parts_found, one_found);
        let show = |p: &Part| {
            let objects: Vec<String> = p
                .objects
                .iter()
                .map(|o| {
                    format!(
                        "{} {:?} {:?} {:?} {}",
                        o.id(),
                        at(o, ""),
                        at(o, "/metadata/name"),
                        at(o, "/spec/template/spec/containers/1/image"),
                        o.value
                    )
                })
                .collect();
            let errors: Vec<String> = p
                .errors
                .iter()
                .chain(&p.notes)
                .map(|d| format!("{}:{}: {}", d.pos.line, d.pos.column, d.message))
                .collect();
            (objects, errors, p.kept, p.reports)
        };
        let (objects, errors, ..) = show(&one);
        assert!(objects.len() > 1_000 && errors.len() > 2, "{} objects, errors {errors:?}", objects.len());
        // The notes of the parts are one per file once joined (`add_parsed_within`).
        let (joined, alone) = (show(&parts), show(&one));
        assert_eq!(joined.0, alone.0, "objects, their positions and values");
        let skipped = |e: &String| e.contains("skipped");
        let firsts = |errors: &[String]| -> Vec<String> {
            let note = errors.iter().find(|e| skipped(e)).cloned();
            errors.iter().filter(|e| !skipped(e)).cloned().chain(note).collect()
        };
        assert_eq!(firsts(&joined.1), firsts(&alone.1), "errors, and the first note");
        assert!(alone.1.iter().any(skipped), "{:?}", alone.1);

        // Through the entry point, on every core: the same again.
        let loaded = load_str(&text);
        assert_eq!(loaded.objects.len(), one.objects.len());
        assert_eq!(loaded.errors.len(), one.errors.len());
        assert_eq!(loaded.notes.len(), 1, "one note per file");
        // (A document under a directive does not start with its `# Source:`, as in one pass.)
        let untemplated = loaded.objects.iter().filter(|o| o.template.is_none());
        assert!(
            untemplated
                .map(|o| o.name.trim_start_matches("web-").parse::<usize>())
                .all(|i| i.is_ok_and(|i| i % 997 == 12))
        );

        // Past the budget, one pass decides where the input is refused.
        assert!(parse_parts(&reading(PARALLEL_INPUT), &text, &cuts).is_none());
        let mut small = Loaded::default();
        documents::add_chunks_within(
            &mut small,
            Source { name: name.into(), text: text.clone() },
            text.len(),
            PARALLEL_INPUT,
        );
        assert!(
            small.objects.is_empty() && small.errors.iter().any(|e| e.message.contains("refused here")),
            "{:?}",
            small.errors.last()
        );
    }

    #[test]
    fn reading_in_parallel_gives_what_reading_in_order_gives() {
        let tmp = tempfile::tempdir().unwrap();
        let inputs = mixed_inputs(tmp.path());
        let one = summary(&load_on(&inputs, 1, MAX_HEAP, None));
        assert!(one.contains("web-111") && one.contains("error") && one.contains("sub/helm.yaml"), "{one}");
        for threads in [2, 3, 8] {
            assert_eq!(summary(&load_on(&inputs, threads, MAX_HEAP, None)), one, "{threads} threads");
        }
        // What runs as documents are read finds the same, numbered among all objects.
        let named = found(&load_on(&inputs, 1, MAX_HEAP, Some(naming())));
        assert!(named.len() > 20, "{}", named.len());
        for threads in [2, 3, 8] {
            assert_eq!(found(&load_on(&inputs, threads, MAX_HEAP, Some(naming()))), named, "{threads} threads");
        }
        // Parts joined in order, not in the order the threads finish.
        let items = inputs_of(&inputs).0;
        let (parallel, next, _) = load_parallel(Loaded::default(), &items, 0, 4, MAX_HEAP);
        assert_eq!((summary(&parallel), next), (one, items.len()), "all read in parallel");
    }

    #[test]
    fn past_the_budget_the_parallel_reading_gives_way_to_the_ordered_one() {
        let tmp = tempfile::tempdir().unwrap();
        let items = inputs_of(&mixed_inputs(tmp.path())).0;
        // What the objects keep: the last reader's buffers do not fit beside them.
        let all = load_parallel(Loaded::default(), &items, 0, 4, MAX_HEAP).0.heap;
        let items = || inputs_of(&mixed_inputs(tmp.path())).0;
        for budget in [all, all - 1, all / 2] {
            let (prefix, next, _) = load_parallel(Loaded::default(), &items(), 0, 4, budget);
            assert!(
                next < items().len() && prefix.heap <= budget,
                "{budget}: the inputs from {next} on read again in order"
            );
            assert_eq!(
                summary(&load_items(items(), 4, budget, None)),
                summary(&load_items(items(), 1, budget, None)),
                "{budget}"
            );
        }
    }

    #[test]
    fn a_text_let_go_after_reading_is_read_again_while_the_file_is_unchanged() {
        let tmp = tempfile::tempdir().unwrap();
        let (file, dashboard) = (tmp.path().join("a.yaml"), tmp.path().join("d.json"));
        let text = "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: a}\r\n";
        std::fs::write(&file, text).unwrap();
        std::fs::write(&dashboard, r#"{"panels": [], "title": "t"}"#).unwrap();
        let l = load_on(&[file.clone(), dashboard], 1, MAX_HEAP, Some(naming()));
        let at = |name: &str| l.sources.iter().position(|s| s.name.ends_with(name)).unwrap();
        let (a, d) = (at("a.yaml"), at("d.json"));
        assert!(l.sources[a].text.is_empty(), "let go");
        assert!(!l.sources[d].text.is_empty(), "a dashboard file is kept");
        assert_eq!(l.text(a).as_deref(), Some(text), "read again as first read");
        // Changed since: no text rather than other lines.
        std::fs::write(&file, text.replace('a', "b")).unwrap();
        assert_eq!(l.text(a), None);
        std::fs::remove_file(&file).unwrap();
        assert_eq!(l.text(a), None);
        // Without single-object checks, every text stays.
        assert!(load_on(&[tmp.path().join("d.json")], 1, MAX_HEAP, None).sources.iter().all(|s| !s.text.is_empty()));
    }

    #[test]
    fn positions_inside_checked_objects_are_read_again_from_their_document() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a.yaml");
        let mut text = String::from("# a comment\n");
        for i in 0..3 {
            text += &format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: v\n");
        }
        text += "---\napiVersion: v1\nkind: List\nitems:\n- {kind: Secret, apiVersion: v1, metadata: {name: s}}\n";
        std::fs::write(&file, &text).unwrap();
        let whole = load_on(std::slice::from_ref(&file), 1, MAX_HEAP, None);
        let checked = load_on(std::slice::from_ref(&file), 1, MAX_HEAP, Some(naming()));
        assert_eq!(checked.objects.len(), 4);
        for (w, c) in whole.objects.iter().zip(&checked.objects).filter(|(w, _)| w.name != "c2") {
            // Only where the document is was kept.
            assert!(c.spans.is_empty() && !w.spans.is_empty(), "{}", c.name);
            for p in ["", "/metadata/name", "/data/k", "/data/missing"] {
                assert_eq!(c.pos(p), w.pos(p), "{} {p}", c.name);
            }
        }
        assert_eq!(at(&checked.objects[1], "/data/k"), (15, 3));
        assert_eq!(at(&checked.objects[3], "/metadata/name"), (27, 45));
        // Another object at that place since: the object's own position.
        std::fs::write(&file, text.replace("name: c2", "name: x2")).unwrap();
        assert_eq!(at(&checked.objects[2], "/data/k"), (17, 1));
        std::fs::write(&file, &text).unwrap();
        let checked = load_on(std::slice::from_ref(&file), 1, MAX_HEAP, Some(naming()));
        std::fs::remove_file(&file).unwrap();
        assert_eq!(at(&checked.objects[0], "/data/k"), (3, 1));
    }

    /// A file keeps the tables of the last documents it read again, not of
    /// every one: those took 180 MB on a stream of 252,000 Deployments.
    #[test]
    fn a_file_keeps_the_tables_of_few_documents_read_again() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a.yaml");
        let n = spans::REREAD_KEPT + 44;
        let text: String = (0..n)
            .map(|i| format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata:\n  k: v\n"))
            .collect();
        std::fs::write(&file, &text).unwrap();
        let checked = load_on(std::slice::from_ref(&file), 1, MAX_HEAP, Some(naming()));
        assert_eq!(checked.objects.len(), n);
        let line = |i: usize| u32::try_from(6 * i + 6).unwrap();
        for (i, o) in checked.objects.iter().enumerate() {
            assert_eq!(at(o, "/data/k"), (line(i), 3), "{i}");
        }
        assert_eq!(checked.objects[0].spans.tables_kept(), Some(spans::REREAD_KEPT));
        // The first one again, read again.
        assert_eq!(at(&checked.objects[0], "/data/k"), (6, 3));
        assert_eq!(checked.objects[0].spans.tables_kept(), Some(spans::REREAD_KEPT));
    }

    #[test]
    fn same_helm_template_in_two_files_keeps_each_file() {
        let tmp = tempfile::tempdir().unwrap();
        let helm = "---\n# Source: chart/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: h}\n";
        std::fs::write(tmp.path().join("a.yaml"), helm).unwrap();
        std::fs::write(tmp.path().join("b.yaml"), helm.replace("name: h", "name: i")).unwrap();
        let inputs = [tmp.path().to_path_buf()];
        let l = load_on(&inputs, 2, MAX_HEAP, None);
        let names: Vec<String> = l.sources.iter().map(|s| s.name.display().to_string()).collect();
        assert!(names[0].ends_with("a.yaml") && names[1].ends_with("b.yaml"), "{names:?}");
        let templates: Vec<_> = l.objects.iter().map(|o| o.template()).collect();
        assert_eq!(templates, [Some("chart/templates/cm.yaml"); 2]);
        assert_eq!(summary(&l), summary(&load_on(&inputs, 1, MAX_HEAP, None)));
    }

    #[test]
    fn an_input_past_the_memory_budget_is_refused_whole_and_earlier_ones_kept() {
        let doc = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {a: b}\n";
        let source = |name: &str, n: usize| Source { name: PathBuf::from(name), text: doc.repeat(n) };
        let budget = 60 * 1024;
        let mut l = Loaded::default();
        let small = source("small.yaml", 10);
        let end = small.text.len();
        add_parsed_within(&mut l, small, Chunks::Upto(end), budget);
        assert_eq!((l.objects.len(), l.errors.len()), (10, 0));
        assert!(l.heap > 0 && l.heap < budget / 2, "{}", l.heap); // about 560 bytes a ConfigMap, text included
        let big = source("big.yaml", 300);
        let end = big.text.len();
        add_parsed_within(&mut l, big, Chunks::Upto(end), budget);
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
    fn documents_with_nothing_but_comments_are_not_parsed_and_cost_nothing() {
        // Parsed, each empty document counted its null root (16 bytes): 60
        // million `---` were refused as objects past the budget.
        let text =
            "---\n# c\n  \t\n...\n".repeat(10_000) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        let (mut l, end) = (Loaded::default(), text.len());
        // The text itself counts (it is kept); its empty documents do not.
        add_parsed_within(&mut l, Source { name: PathBuf::from("t.yaml"), text }, Chunks::Upto(end), end + (16 << 10));
        assert_eq!((l.objects.len(), errors(&l)), (1, Vec::<String>::new()));
        assert_eq!(at(&l.objects[0], "/metadata/name"), (40_004, 12));
        // What YAML does not take for blank is content: a NUL, a no-break space.
        for (text, error) in [
            ("---\n# \0\n", "2:3: not valid YAML: a NUL character (U+0000)"),
            ("---\n\u{a0}\n", "2:1: this document is a string, not a Kubernetes object"),
        ] {
            let e = errors(&load_str(text));
            assert_eq!(e.len(), 1, "{text:?}: {e:?}");
            assert_eq!(e[0], error, "{text:?}");
        }
    }

    #[test]
    fn past_a_spent_budget_the_inputs_left_are_not_read_one_by_one() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cm = |i: usize| format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{i}}}\ndata: {{a: b}}\n");
        // A large input refused on its own leaves the budget to the next ones.
        std::fs::write(dir.path().join("a.yaml"), (0..400).map(|i| format!("---\n{}", cm(i))).collect::<String>())
            .expect("write");
        // More of them than of the large one's objects: their keys count once.
        for i in 0..600 {
            std::fs::write(dir.path().join(format!("b{i:03}.yaml")), cm(i)).expect("write");
        }
        let budget = 200 << 10;
        let l = load_items(inputs_of(&[dir.path().to_path_buf()]).0, 1, budget, None);
        let e = errors(&l);
        assert!(e[0].contains("input refused here"), "{e:?}");
        // Small ones that reach it: the first refusal says which did not fit
        // and that the rest are not read.
        let read = l.objects.len();
        assert!(read > 10 && read < 599, "{read} objects");
        assert_eq!(e.len(), 1, "one error per run for the budget: {e:?}");
        let then = dir.path().join(format!("b{read:03}.yaml"));
        let tail = format!(
            "; then {} did not fit either; the {} input(s) after it are not read either",
            then.display(),
            599 - read
        );
        assert!(e[0].ends_with(&tail), "{e:?}");
        // The budget bounds the objects; the refusals' reports come on top.
        assert!(l.heap <= budget + l.errors.iter().map(report_bytes).sum::<usize>(), "{}", l.heap);
        // Read in parallel, the inputs that fit are kept, not read again, and the result is the same.
        for threads in [2, 4] {
            let p = load_items(inputs_of(&[dir.path().to_path_buf()]).0, threads, budget, None);
            assert_eq!(summary(&p), summary(&l), "{threads} threads");
        }
    }

    #[test]
    fn a_long_list_is_refused_inside_it_not_when_it_closes() {
        let text = format!("apiVersion: v1\nkind: ConfigMap\ndata:\n{}", "- 0\n".repeat(100_000));
        let (mut l, end) = (Loaded::default(), text.len());
        add_parsed_within(&mut l, Source { name: PathBuf::from("t.yaml"), text }, Chunks::Upto(end), 1 << 20);
        let e = errors(&l);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("input refused here"), "{e:?}");
        let line: u32 = e[0].split(':').next().and_then(|n| n.parse().ok()).unwrap_or(0);
        // 1 MiB holds about 10,000 numbers: refused there, not at line 100,004.
        assert!(line > 1_000 && line < 50_000, "{e:?}");
        assert!(l.objects.is_empty());
    }

    #[test]
    fn error_reports_are_counted_and_limited() {
        let l = load_str(&"---\na: 1\n".repeat(MAX_INPUT_ERRORS + 500));
        let e = errors(&l);
        assert_eq!(e.len(), MAX_INPUT_ERRORS + 2, "the errors, the one past the limit, the refusal");
        assert_eq!(e[MAX_INPUT_ERRORS + 1], "2002:1: input refused here: more than 1000 errors");
        assert!(l.heap > MAX_INPUT_ERRORS * size_of::<Diagnostic>(), "{}", l.heap);
    }

    #[test]
    fn surrogate_pairs_and_nul_characters() {
        let l = load_str("{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"data\": {\"a\": \"\\ud83d\\ude00!\"}}\n");
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        assert_eq!(l.objects[0].value["data"]["a"], "\u{1F600}!");
        let nul = load_str("apiVersion: v1\nkind: ConfigMap\ndata: {a: \"é\0\"}\n---\napiVersion: v1\nkind: Secret\n");
        assert_eq!(errors(&nul), ["3:13: not valid YAML: a NUL character (U+0000)"]);
        assert_eq!(nul.objects.len(), 1, "the next document is read");
    }

    #[test]
    fn lists_grow_as_counted() {
        let mut list: Vec<u64> = Vec::with_capacity(4);
        list.extend([1, 2, 3]);
        let fits = Growth::of(&list, 1);
        assert_eq!((fits.to, fits.room, fits.moved), (None, 0, 0));
        let grows = Growth::of(&list, 2);
        assert_eq!((grows.to, grows.room, grows.moved), (Some(8), 3 * 8, 4 * 8));
        grows.apply(&mut list);
        assert_eq!(list.capacity(), 8, "as counted");
        let far = Growth::of(&list, 20);
        assert_eq!((far.to, far.room, far.moved), (Some(23), 0, 8 * 8), "to what is needed, past double");
    }

    /// A list of objects doubles: for a moment it holds its old storage and
    /// the new, twice the old, of which the items take half. The budget
    /// counts both: 100 MB of small Deployments went 190 MB past the
    /// budget when it did not.
    #[test]
    fn the_storage_of_growing_lists_counts_against_the_budget() {
        // 1,025 objects: the list of objects grows from 1,024 to 2,048 at the last.
        let n = 1025;
        let text: String =
            (0..n).map(|i| format!("---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: s{i}}}\n")).collect();
        let load = |budget: usize| {
            let mut l = Loaded::default();
            add_bytes_within(&mut l, PathBuf::from("t.yaml"), text.clone().into_bytes(), budget);
            l
        };
        let all = load(1 << 30);
        assert_eq!((all.objects.len(), errors(&all).len()), (n, 0));
        // What was counted at most: with room for 2,048 objects, and the
        // 1,024 copied.
        let (counted, moved) = (all.last_counted, 1024 * size_of::<Object>());
        let short = load(counted - moved / 2);
        let e = errors(&short);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with(&format!("{}:", 4 * n - 2)) && e[0].contains("input refused here"), "{e:?}");
        assert!(short.objects.is_empty());
        let enough = load(counted);
        assert_eq!((enough.objects.len(), errors(&enough).len()), (n, 0), "{:?}", errors(&enough));
    }

    /// A key is allocated once a run (the run's keys are shared), so it is
    /// counted once: each file of ten typical objects counted its 2 KB of
    /// keys again, and a million objects in 100,000 files needed a budget a
    /// fifth larger than the same objects in one stream.
    #[test]
    fn the_keys_of_many_files_count_once_as_in_one_stream() {
        let dir = tempfile::tempdir().expect("temp dir");
        let doc = |i: usize| DEPLOY.replace("name: web", &format!("name: web-{i}"));
        let mut stream = String::new();
        std::fs::create_dir_all(dir.path().join("files")).expect("folder");
        for i in 0..100 {
            std::fs::write(dir.path().join(format!("files/f{i:03}.yaml")), doc(i)).expect("write");
            stream += &format!("---\n{}", doc(i));
        }
        std::fs::write(dir.path().join("all.yaml"), stream).expect("write");
        // Less what each input keeps beside its objects (its name…).
        let heap = |input: &str, threads: usize| {
            let l = load_on(&[dir.path().join(input)], threads, MAX_HEAP, Some(naming()));
            assert_eq!((l.objects.len(), l.errors.len()), (100, 0));
            l.heap - l.sources.iter().map(|s| source_bytes(&s.name)).sum::<usize>()
        };
        let one = heap("all.yaml", 1);
        for threads in [1, 4] {
            assert_eq!(heap("files", threads), one, "{threads} threads");
        }
    }

    /// A file read a block at a time among many is read alone, in order,
    /// and the parallel reading goes on after it: it stopped there, and the
    /// 100,000 files after a large one were read one at a time.
    #[test]
    fn after_a_large_file_the_reading_goes_on_in_parallel() {
        let dir = tempfile::tempdir().expect("temp dir");
        let doc = |i: usize| DEPLOY.replace("name: web", &format!("name: web-{i}"));
        for i in 0..10 {
            std::fs::write(dir.path().join(format!("a{i}.yaml")), doc(i)).expect("write");
            std::fs::write(dir.path().join(format!("c{i}.yaml")), doc(100 + i)).expect("write");
        }
        // Past a block, mostly a comment (cheap to read in a debug build).
        let comment = format!("# {}\n", "x".repeat(1000)).repeat(streamed::BLOCK / 1000 + 10);
        let big = format!("{}---\n{comment}---\n{}---\n{comment}{}", doc(50), doc(51), doc(52));
        std::fs::write(dir.path().join("b.yaml"), big).expect("write");
        let inputs = [dir.path().to_path_buf()];
        let items = || inputs_of(&inputs).0;
        let large = items().iter().position(|i| matches!(i, Input::File(f) if f.ends_with("b.yaml"))).expect("b");
        let (mut loaded, next, stop) =
            load_parallel(Loaded { early: EarlyHook(Some(naming())), ..Loaded::default() }, &items(), 0, 4, MAX_HEAP);
        assert_eq!((next, stop), (large, Stop::One));
        read_one(&mut loaded, &items()[large], MAX_HEAP);
        let (loaded, next, stop) = load_parallel(loaded, &items(), large + 1, 4, MAX_HEAP);
        assert_eq!((next, stop), (items().len(), Stop::End));
        assert_eq!(loaded.objects.len(), 23);
        // As one at a time reads them.
        let one = load_on(&inputs, 1, MAX_HEAP, Some(naming()));
        assert_eq!((summary(&loaded), found(&loaded)), (summary(&one), found(&one)));
        let parallel = load_on(&inputs, 4, MAX_HEAP, Some(naming()));
        assert_eq!((summary(&parallel), found(&parallel)), (summary(&one), found(&one)));
    }
}
