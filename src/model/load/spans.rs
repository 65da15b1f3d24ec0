//! Positions: the table [`Spans`] that maps every node's JSON pointer to
//! its line and column, and the pointer hashes the builder computes as it
//! goes (a child's hash extends its parent's).
//!
//! `check` keeps every object until the cross-object checks ran, and a
//! table of positions took about a third of what an object kept (20 nodes,
//! 335 bytes), though those checks report on few objects. So once the
//! single-object checks ran, an object read from a file keeps only where
//! its document is ([`Spans::later`]); a position inside it is found by
//! reading that document again when asked ([`Reread`]).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::diag::Pos;
use crate::model::value::Str;

/// Positions of the fields of one object, by JSON pointer: a sorted table of
/// (hash of the pointer, line, column), 16 bytes per node, or where its
/// document is, to read the table again when it is needed.
#[derive(Debug, Clone)]
pub enum Spans {
    Table(Box<[Entry]>),
    Later(Later),
}

impl Default for Spans {
    fn default() -> Spans {
        Spans::Table(Box::default())
    }
}

/// Where an object's document is in its file, and the object's own position.
#[derive(Debug, Clone)]
pub struct Later {
    file: Arc<Reread>,
    /// The document's first byte and length in the file (as read: see
    /// `lone_cr_to_lf`, which keeps every byte's offset).
    start: u32,
    len: u32,
    /// The lines before the document.
    lines: u32,
    /// The object's own position (its root, or its item of a `List`).
    at: Pos,
}

/// A file whose objects' positions are read again when asked: the tables of
/// the documents read last, by their first byte, oldest first.
#[derive(Debug)]
pub struct Reread {
    name: PathBuf,
    /// The text itself, when it is held rather than read from `name`
    /// (an object `gen` rendered: see `load::add_rendered`).
    text: Option<Arc<str>>,
    documents: Mutex<VecDeque<(u32, Arc<Vec<Reread1>>)>>,
}

/// The tables a file keeps of the documents it read again: every one took
/// 180 MB once the findings of the cross-object checks on 252,000
/// Deployments of one stream were placed (`check` places them in object
/// order, each document read once).
pub(super) const REREAD_KEPT: usize = 256;

impl Reread {
    pub(crate) fn new(name: &Path) -> Arc<Reread> {
        Arc::new(Reread { name: name.to_path_buf(), text: None, documents: Mutex::new(VecDeque::new()) })
    }

    /// The same, over `text` held in memory as the input named `name`.
    pub(crate) fn held(name: &Path, text: Arc<str>) -> Arc<Reread> {
        Arc::new(Reread { name: name.to_path_buf(), text: Some(text), documents: Mutex::new(VecDeque::new()) })
    }

    /// The objects of the document at `l`: each one's position, kind, name
    /// and table; none when the file cannot be read or that part of it is
    /// no longer a document.
    fn document(&self, l: &Later) -> Arc<Vec<Reread1>> {
        let kept = |documents: &VecDeque<(u32, Arc<Vec<Reread1>>)>| {
            documents.iter().rev().find(|(start, _)| *start == l.start).map(|(_, d)| Arc::clone(d))
        };
        if let Some(d) = kept(&self.documents.lock().unwrap_or_else(PoisonError::into_inner)) {
            return d;
        }
        // Read and parsed unlocked: `check` places findings on every core.
        let (start, len) = (l.start as usize, l.len as usize);
        let objects = match &self.text {
            Some(text) => {
                text.get(start..start.saturating_add(len)).map(|t| super::reread_document(&self.name, t, l.lines))
            }
            None => read_range(&self.name, l.start, l.len).map(|t| super::reread_document(&self.name, &t, l.lines)),
        }
        .unwrap_or_default();
        let found: Vec<Reread1> = objects.into_iter().map(|o| (o.spans.locate(""), o.kind, o.name, o.spans)).collect();
        let found = Arc::new(found);
        let mut documents = self.documents.lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have read it meanwhile: one copy is kept.
        if let Some(d) = kept(&documents) {
            return d;
        }
        if documents.len() >= REREAD_KEPT {
            documents.pop_front();
        }
        documents.push_back((l.start, Arc::clone(&found)));
        found
    }
}

/// An object read again: its position, kind, name and positions.
type Reread1 = (Pos, Str, Str, Spans);

/// Bytes `start..start + len` of `file` as text, lone CRs read as line
/// ends (as the loader reads them).
fn read_range(file: &Path, start: u32, len: u32) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(file).ok()?;
    f.seek(SeekFrom::Start(u64::from(start))).ok()?;
    let mut bytes = vec![0; usize::try_from(len).ok()?];
    f.read_exact(&mut bytes).ok()?;
    let mut text = String::from_utf8(bytes).ok()?;
    super::lone_cr_to_lf(&mut text);
    Some(text)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub(super) hash: u64,
    pub(super) line: u32,
    column: u32,
}

impl Entry {
    pub(super) fn new(hash: u64, pos: Pos) -> Entry {
        Entry { hash, line: pos.line, column: pos.column }
    }
}

impl Spans {
    /// How many tables of documents read again its file keeps now.
    #[cfg(test)]
    pub(crate) fn tables_kept(&self) -> Option<usize> {
        let Spans::Later(l) = self else { return None };
        Some(l.file.documents.lock().map_or(0, |d| d.len()))
    }

    /// The positions of an object whose document is `start..start + len`
    /// of `file`, after `lines` lines, kept as only that: the table is read
    /// again when a position inside the object is asked for. `None` past
    /// 4 GiB (the loader reads no input that large).
    pub(crate) fn later(&self, file: &Arc<Reread>, start: usize, len: usize, lines: u32) -> Option<Spans> {
        let later = Later {
            file: Arc::clone(file),
            start: u32::try_from(start).ok()?,
            len: u32::try_from(len).ok()?,
            lines,
            at: self.locate(""),
        };
        Some(Spans::Later(later))
    }

    /// The position of `pointer` in the object of `kind` and `name` whose
    /// positions these are: as [`Spans::locate`], reading the object's
    /// document again when only where it is was kept. When the file can no
    /// longer be read, or holds another object there, the object's own
    /// position stands for every field's.
    pub fn locate_in(&self, pointer: &str, kind: &str, name: &str) -> Pos {
        let Spans::Later(l) = self else { return self.locate(pointer) };
        if pointer.is_empty() {
            return l.at;
        }
        let document = l.file.document(l);
        match document.iter().find(|(at, k, n, _)| *at == l.at && k == kind && n == name) {
            Some((_, _, _, spans)) => spans.locate(pointer),
            None => l.at,
        }
    }

    /// The position of `pointer`, or of its nearest ancestor that has one
    /// (the object itself at worst; only that when the table was not kept:
    /// see [`Spans::locate_in`]).
    pub fn locate(&self, pointer: &str) -> Pos {
        if let Spans::Later(l) = self {
            return l.at;
        }
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

    /// How many positions it keeps.
    pub fn len(&self) -> usize {
        match self {
            Spans::Table(t) => t.len(),
            Spans::Later(_) => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the positions of `value`'s nodes only, and of the object's
    /// identity (`/kind`, `/metadata/name`, ..., which findings point at
    /// and are kept outside the value): `value` is the object's own, after
    /// fields were cut from it.
    pub fn keep_only(&mut self, value: &crate::model::Value) {
        let Spans::Table(table) = self else { return };
        fn walk(v: &crate::model::Value, hash: u64, out: &mut Vec<u64>) {
            out.push(hash);
            match v {
                crate::model::Value::Object(m) => m.iter().for_each(|(k, v)| walk(v, child_key(hash, k), out)),
                crate::model::Value::Array(a) => {
                    a.iter().enumerate().for_each(|(i, v)| walk(v, child_index(hash, i), out))
                }
                _ => {}
            }
        }
        let meta = child_key(FNV_BASIS, "metadata");
        let mut kept = vec![
            child_key(FNV_BASIS, "apiVersion"),
            child_key(FNV_BASIS, "kind"),
            meta,
            child_key(meta, "name"),
            child_key(meta, "namespace"),
        ];
        walk(value, FNV_BASIS, &mut kept);
        kept.sort_unstable();
        let entries: Vec<Entry> = table.iter().filter(|e| kept.binary_search(&e.hash).is_ok()).copied().collect();
        if entries.len() < table.len() {
            *table = entries.into_boxed_slice();
        }
    }

    fn get(&self, hash: u64) -> Option<Pos> {
        let Spans::Table(table) = self else { return None };
        let i = table.binary_search_by_key(&hash, |e| e.hash).ok()?;
        let e = table[i];
        Some(Pos::new(e.line, e.column))
    }

    /// From entries in document order (a pointer recorded twice, a key
    /// overriding a merged one, keeps its last position), allocated at its
    /// size; `entries` is left empty for reuse.
    pub(super) fn from_entries(entries: &mut Vec<Entry>) -> Spans {
        entries.sort_by_key(|e| e.hash);
        entries.dedup_by(|later, kept| {
            if later.hash == kept.hash {
                *kept = *later;
                true
            } else {
                false
            }
        });
        let spans = Spans::Table(entries.as_slice().into());
        entries.clear();
        spans
    }
}

pub(super) const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
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
pub(super) fn child_key(parent: u64, key: &str) -> u64 {
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

pub(super) fn child_index(parent: u64, index: usize) -> u64 {
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

#[cfg(test)]
mod tests {
    use crate::model::load::tests::{DEPLOY, at, errors, load_str};

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
}
