//! From saphyr-parser events to values: mappings and sequences built at
//! their exact size, the position of every node recorded, anchors and
//! aliases (within [`ALIAS_BUDGET`]), merge keys `<<`, duplicate keys, the
//! nesting limit [`MAX_DEPTH`] and the memory budget (`super::MAX_HEAP` unless given).

use std::collections::HashMap;

use crate::model::value::{Key as MapKey, Keys, Map, SharedKeys, Value};
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

use super::scalars::scalar;
use super::spans::{Entry, FNV_BASIS, Spans, child_index, child_key};
use super::{ALIAS_BUDGET, MAX_DEPTH, MAX_INPUT_ERRORS, Problem, SHARED_STOP, to_u32};
use crate::diag::Pos;

/// The bytes of one entry of a mapping (its slot in the vector the mapping becomes).
const ENTRY: usize = size_of::<(MapKey, Value)>();

/// What the receiver of a document kept of it: bytes (objects, error
/// reports) and whether it reported an error.
pub(super) struct Kept {
    pub(super) bytes: usize,
    pub(super) error: bool,
    /// Of the values and positions built for the document, the bytes it
    /// kept, when it cut them down (see [`super::Early`]); `None`: all.
    pub(super) values: Option<usize>,
    /// The room the receiver's lists (objects, findings) hold beyond their
    /// items after this document, in bytes: a list grows by doubling and
    /// holds the room until it is full.
    pub(super) room: usize,
    /// The storage its lists let go of as they grew for this document: while
    /// a list is copied, its old storage and the new are both held. Measured
    /// on 100 MB of small Deployments, these two took 190 MB past the budget
    /// when they were not counted.
    pub(super) moved: usize,
    /// The lists could not grow within the budget: the document was not kept.
    pub(super) full: bool,
}

impl Kept {
    /// Nothing kept: a document skipped.
    pub(super) fn nothing(room: usize) -> Kept {
        Kept { bytes: 0, error: false, values: None, room, moved: 0, full: false }
    }
}

/// One parsed document.
pub(super) struct Doc {
    pub(super) value: Value,
    pub(super) pos: Pos,
    pub(super) spans: Spans,
    /// For a top-level `items` sequence: each item's positions, relative to it.
    pub(super) items: Vec<Spans>,
}

/// Builds documents from parser events: values, positions, anchors. Its
/// buffers are reused from document to document, and every value is built at
/// its exact size (a long run keeps millions of them; spare capacity and the
/// holes of freed buffers would cost as much as the values).
#[derive(Default)]
pub(super) struct Builder {
    frames: Vec<Frame>,
    /// The entries of the mappings being built, innermost last.
    entries: Vec<(MapKey, Value)>,
    /// The keys of this input, each allocated once.
    keys: Keys,
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
    pub(super) heap: usize,
    pub(super) heap_limit: usize,
    /// The run's whole budget, named in the refusal.
    budget: usize,
    /// The input went past its budget (memory or errors): it is not read further.
    pub(super) refused: bool,
    /// It was refused at the memory budget (not for its errors).
    pub(super) over_budget: bool,
    /// Errors reported for this input so far (see [`MAX_INPUT_ERRORS`]).
    pub(super) errors: usize,
    /// The most held against the limit so far (see [`Builder::counted`]).
    peak: usize,
    /// Bytes of the reused buffers' capacity counted so far.
    buffers: usize,
    /// Bytes of room in the receiver's lists counted now ([`Kept::room`]).
    room: usize,
    /// Bytes counted for the values and positions of the document being
    /// built (its receiver may keep less of them: [`Kept::values`]).
    doc: usize,
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
    name: MapKey,
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
    /// A builder whose values may take `heap_limit` bytes of the run's
    /// `budget`; `shared` is the total of every input when they are read in
    /// parallel (see [`SHARED_STOP`]).
    pub(super) fn new(
        heap_limit: usize,
        budget: usize,
        shared: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
        keys: std::sync::Arc<SharedKeys>,
    ) -> Builder {
        Builder { heap_limit, budget, shared, keys: Keys::new(Some(keys)), ..Builder::default() }
    }

    /// Parses one document's text (`line` lines into its source), handing
    /// each document (or the error that ended it) to `emit`.
    pub(super) fn parse(&mut self, text: &str, line: u32, emit: &mut dyn FnMut(Result<Doc, Problem>, usize) -> Kept) {
        self.line_base = line;
        if self.refused {
            return; // reported once, where it happened
        }
        if let Some(pos) = nul_at(text, line) {
            // The parser takes a NUL for the end of the text and reports
            // something else, somewhere else.
            let problem = Problem::new(pos, "not valid YAML: a NUL character (U+0000)")
                .help("YAML text cannot hold control characters; write `\\0` inside double quotes");
            return self.emit(Err(problem), emit);
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
                    return self.emit(Err(problem), emit);
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
                    self.emit(Ok(doc), emit);
                    if self.refused {
                        return;
                    }
                }
                Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
                event => {
                    if let Err(p) = self.event(event, span) {
                        self.reset();
                        return self.emit(Err(p), emit);
                    }
                }
            }
        }
    }

    /// Hands a document or an error to `emit`, and counts what it kept:
    /// error reports take memory too, and past [`MAX_INPUT_ERRORS`] the
    /// input is refused.
    fn emit(&mut self, doc: Result<Doc, Problem>, emit: &mut dyn FnMut(Result<Doc, Problem>, usize) -> Kept) {
        let pos = match &doc {
            Ok(d) => d.pos,
            Err(p) => p.pos,
        };
        // `grow` refused the input: `doc` is that refusal.
        let refusal_itself = self.refused;
        let kept = emit(doc, self.heap_limit.saturating_sub(self.heap));
        // What `kept.full` was decided on.
        self.peak =
            self.peak.max(self.heap.saturating_add(kept.bytes).saturating_add(kept.room).saturating_add(kept.moved));
        let built = std::mem::take(&mut self.doc);
        if refusal_itself {
            return;
        }
        if let Some(values) = kept.values {
            self.uncount(built.saturating_sub(values));
        }
        self.count(kept.room.saturating_sub(self.room));
        self.uncount(self.room.saturating_sub(kept.room));
        self.room = kept.room;
        self.errors += usize::from(kept.error);
        let refusal = if self.errors > MAX_INPUT_ERRORS {
            Problem::new(pos, format!("input refused here: more than {MAX_INPUT_ERRORS} errors"))
                .help("none of this input's objects are checked; is it a manifest stream at all?")
        } else if kept.full {
            self.over_budget = true;
            super::over_budget(pos, self.budget)
        } else {
            // The old storage of a list that grew is let go of once copied.
            match self.grow(pos, kept.bytes.saturating_add(kept.moved)) {
                Ok(()) => return self.uncount(kept.moved),
                Err(p) => p,
            }
        };
        self.refused = true;
        emit(Err(refusal), 0);
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
                let is_key = self.expects_key();
                // A short string is inline, in its slot (counted with it).
                if let Value::String(s) = &value
                    && !is_key
                    && s.is_heap_allocated()
                {
                    self.doc = self.doc.saturating_add(s.capacity());
                    self.grow(pos, s.capacity())?;
                }
                if anchor > 0 {
                    self.anchors.insert(anchor, (value.clone(), 1));
                }
                if is_key {
                    return self.key(value, pos, merge);
                }
                self.slot(pos)?;
                self.attach(value, 1)?;
                // Counted as it streams: a list of a million numbers is
                // refused where the budget runs out, not when it closes.
                self.grow(pos, 0)
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
                // A copy: its nodes at the size of a number each, at least.
                self.doc = self.doc.saturating_add(nodes.saturating_mul(32));
                self.grow(pos, nodes.saturating_mul(32))?;
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
                    Node::Seq { start } => Value::Array(self.items.drain(start..).collect()),
                    Node::Map(map) => {
                        // Each entry was counted as it was attached; the
                        // vector is allocated at its size.
                        self.hashes.truncate(map.start);
                        Value::Object(Map::from_entries(self.entries.drain(map.start..).collect()))
                    }
                };
                if frame.anchor > 0 {
                    self.anchors.insert(frame.anchor, (value.clone(), frame.nodes));
                }
                self.attach(value, frame.nodes)?;
                self.grow(pos, 0)
            }
            _ => Ok(()),
        }
    }

    /// Counts `bytes` more of heap; past the budget the input is not read
    /// further.
    fn grow(&mut self, pos: Pos, bytes: usize) -> Result<(), Problem> {
        self.count(bytes);
        self.count_buffers();
        self.peak = self.peak.max(self.heap);
        // In parallel, the total is what bounds memory: past it, this input
        // stops too (and `load` reads everything again, one at a time).
        let shared_over = self.unshared >= 1 << 16 && self.flush() > SHARED_STOP;
        if self.heap <= self.heap_limit && !shared_over {
            return Ok(());
        }
        self.refused = true;
        self.over_budget = true;
        Err(super::over_budget(pos, self.budget))
    }

    /// Counts `bytes` of the document's values or positions, checked at the
    /// next [`Builder::grow`].
    fn count_doc(&mut self, bytes: usize) {
        self.doc = self.doc.saturating_add(bytes);
        self.count(bytes);
    }

    /// Takes back `bytes` counted and not kept (from the shared total too).
    fn uncount(&mut self, bytes: usize) {
        self.heap = self.heap.saturating_sub(bytes);
        let local = bytes.min(self.unshared);
        self.unshared -= local;
        if let Some(s) = &self.shared
            && bytes > local
        {
            s.fetch_sub(bytes - local, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Counts `bytes` more of heap, checked at the next [`Builder::grow`].
    fn count(&mut self, bytes: usize) {
        self.heap = self.heap.saturating_add(bytes);
        self.unshared = self.unshared.saturating_add(bytes);
    }

    /// Counts the growth of the reused buffers: they keep their largest
    /// size for the rest of the input.
    fn count_buffers(&mut self) {
        let now = self.items.capacity() * size_of::<Value>()
            + self.entries.capacity() * size_of::<(MapKey, Value)>()
            + self.hashes.capacity() * size_of::<u64>()
            + self.spans.capacity() * size_of::<Entry>()
            + self.item_spans.capacity() * size_of::<Vec<Entry>>();
        if now > self.buffers {
            self.count(now - self.buffers);
            self.buffers = now;
        }
    }

    /// What this input keeps once read: its count without the buffers,
    /// which are freed with the builder.
    pub(super) fn kept(&self) -> usize {
        self.heap.saturating_sub(self.buffers).saturating_sub(self.room)
    }

    /// The keys this input used, each counted once by it.
    pub(super) fn keys(&mut self) -> Vec<MapKey> {
        self.keys.take()
    }

    /// The most it counted at once, the buffers too: what the budget was
    /// held against. Read alone after others, the input fits when this
    /// does beside them (`load` decides so for inputs read in parallel:
    /// what it counted at the end was less, as the single-object checks
    /// cut each document down once it was built).
    pub(super) fn counted(&self) -> usize {
        self.peak.max(self.heap)
    }

    /// The input is read: adds what is left to the shared total, without
    /// the buffers and the lists' room (see [`Builder::kept`]).
    pub(super) fn finish(&mut self) {
        self.flush();
        if let Some(s) = &self.shared {
            s.fetch_sub(self.buffers + self.room, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Adds what this builder counted to the shared total; returns the total.
    pub(super) fn flush(&mut self) -> usize {
        let n = std::mem::take(&mut self.unshared);
        match &self.shared {
            Some(s) => s.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n,
            None => 0,
        }
    }

    fn expects_key(&self) -> bool {
        matches!(self.frames.last(), Some(Frame { node: Node::Map(MapNode { key: None, .. }), .. }))
    }

    /// Records a position: 16 bytes kept in the document's [`Spans`] (and
    /// 16 more in its list item's).
    fn record(&mut self, hash: u64, item_hash: Option<u64>, pos: Pos) {
        self.spans.push(Entry::new(hash, pos));
        let mut bytes = size_of::<Entry>();
        if let (Some(h), Some(item)) = (item_hash, self.item_spans.last_mut()) {
            item.push(Entry::new(h, pos));
            // An item's table grows by doubling until it is copied at its size.
            bytes += 2 * size_of::<Entry>();
        }
        self.count_doc(bytes);
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
            Value::Bool(b) => b.to_string().into(),
            Value::Number(n) => n.to_string().into(),
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
        // A key seen before in this input shares its allocation: a new
        // one is counted (once a run in the end: see `load::parse_within`).
        let (name, fresh) = self.keys.key(&name);
        if fresh {
            self.grow(pos, Keys::bytes(&name))?;
        }
        if let Some(Frame { node: Node::Map(map), .. }) = self.frames.last_mut() {
            map.key = Some(Key { name, pos, merge, hash, item_hash, is_items });
        }
        Ok(())
    }

    /// Puts a finished value where it belongs.
    fn attach(&mut self, value: Value, nodes: usize) -> Result<(), Problem> {
        if let Some(Frame { node: Node::Map(_), .. }) = self.frames.last() {
            // Its slot in the mapping's vector of entries.
            self.count_doc(ENTRY);
        }
        let Some(frame) = self.frames.last_mut() else {
            self.root = Some(value);
            return Ok(());
        };
        frame.nodes = frame.nodes.saturating_add(nodes);
        let (hash, item_hash) = (frame.hash, frame.item_hash);
        let map = match &mut frame.node {
            Node::Seq { .. } => {
                self.items.push(value);
                // Its slot in the array the sequence becomes.
                self.count_doc(size_of::<Value>());
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
    entries: &'a mut Vec<(MapKey, Value)>,
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

    fn push(&mut self, s: &mut Stacks, hash: u64, name: MapKey, value: Value) {
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
        Ok(s.entries[before..].iter().map(|(k, _)| k.to_string()).collect())
    }
}

/// The position of the first NUL in `text` (`line` lines into its source).
fn nul_at(text: &str, line: u32) -> Option<Pos> {
    let at = text.find('\0')?;
    let before = &text[..at];
    let lines = before.bytes().filter(|&b| b == b'\n').count();
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
    Some(Pos::new(line.saturating_add(to_u32(lines)).saturating_add(1), to_u32(column).saturating_add(1)))
}

/// The bytes of a value as the builder counts them: each mapping entry's
/// slot, each sequence item's slot, each string's heap; with its
/// positions, 16 bytes a node.
pub(super) fn counted_bytes(value: &Value, spans: &Spans) -> usize {
    fn walk(v: &Value) -> usize {
        match v {
            Value::String(s) if s.is_heap_allocated() => s.capacity(),
            Value::Array(items) => items.iter().map(|i| size_of::<Value>() + walk(i)).sum(),
            Value::Object(m) => m.values().map(|v| ENTRY + walk(v)).sum(),
            _ => 0,
        }
    }
    walk(value) + spans.len() * size_of::<Entry>()
}

#[cfg(test)]
mod tests {
    use crate::model::load::MAX_DEPTH;
    use crate::model::load::tests::{at, errors, load_str};

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
}
