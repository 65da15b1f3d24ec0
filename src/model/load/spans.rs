//! Positions: the table [`Spans`] that maps every node's JSON pointer to
//! its line and column, and the pointer hashes the builder computes as it
//! goes (a child's hash extends its parent's).

use crate::diag::Pos;

/// Positions of the fields of one object, by JSON pointer: a sorted table of
/// (hash of the pointer, line, column), 16 bytes per node.
#[derive(Debug, Default, Clone)]
pub struct Spans {
    pub(super) entries: Box<[Entry]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Entry {
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

    /// How many positions it keeps.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keeps the positions of `value`'s nodes only: `value` is the object's
    /// own, after fields were cut from it.
    pub fn keep_only(&mut self, value: &crate::model::Value) {
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
        let mut kept = Vec::new();
        walk(value, FNV_BASIS, &mut kept);
        kept.sort_unstable();
        let entries: Vec<Entry> =
            self.entries.iter().filter(|e| kept.binary_search(&e.hash).is_ok()).copied().collect();
        if entries.len() < self.entries.len() {
            self.entries = entries.into_boxed_slice();
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
        let spans = Spans { entries: entries.as_slice().into() };
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
