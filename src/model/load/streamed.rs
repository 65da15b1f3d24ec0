//! A large file read a block at a time, in `check`: the text of a stream of
//! a million objects (400 MB) is never held whole.
//!
//! Each block ends at a document marker, so it holds whole documents; it is
//! parsed as the rest of its file would be (in parts on every core when it
//! surely fits), its objects are checked one by one ([`super::Early`]) and
//! keep where their documents are in the file, and the block is let go.
//! The file is one input: refused whole when a block passes the budget or
//! its errors pass [`super::MAX_INPUT_ERRORS`], the blocks before it included.
//! A file that fits in one block (no marker past it) is read as any other.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::documents::{lone_cr_to_lf, name_templates, not_utf8, split};
use super::spans::{FNV_BASIS, Reread};
use super::{Growth, Loaded, MAX_INPUT_BYTES, Part, Source, keep, parse_within, refuse, take_reports, to_u32};
use crate::diag::{Diagnostic, Pos};

/// The bytes of a block: a file larger than this is read a block at a time
/// (when its objects are checked as they are read; otherwise its text is
/// kept for its positions anyway). Small enough that a block is parsed on
/// every core until the budget is almost spent (a block is cut into parts
/// when it takes at most an eighth of what is left). Blocks of a sixteenth
/// of the budget left were no faster on 100,000 objects in one stream, and
/// the run's peak was 15 % higher.
pub(super) const BLOCK: usize = 8 << 20;

/// The largest file read a block at a time: a document's place in it is
/// kept as 32-bit offsets ([`super::spans::Later`]).
pub(super) const MAX_STREAMED_BYTES: u64 = u32::MAX as u64;

/// The size past which a loader reads a file a block at a time: one that
/// checks objects as they are read (`early`; otherwise it keeps the text).
pub(super) fn over(early: bool) -> Option<u64> {
    early.then_some(BLOCK as u64)
}

/// Adds the file `name`, opened as `file`, read a block at a time, within `budget`.
pub(super) fn add_streamed(loaded: &mut Loaded, name: PathBuf, file: std::fs::File, budget: usize) {
    add_blocks(loaded, name, file, budget, BLOCK);
}

/// What the blocks of a file added, to take back when it is refused.
struct Before {
    objects: usize,
    findings: usize,
    heap: usize,
    errors: usize,
}

/// [`add_streamed`] with blocks of `block` bytes (tests use small ones).
fn add_blocks(loaded: &mut Loaded, name: PathBuf, mut file: std::fs::File, budget: usize, block: usize) {
    let before = Before {
        objects: loaded.objects.len(),
        findings: loaded.findings.len(),
        heap: loaded.heap,
        errors: loaded.errors.len(),
    };
    let size = file.metadata().map_or(0, |m| m.len());
    // One for every block: positions are read again from the file.
    let reread = Reread::new(&name);
    // Read and not yet parsed: from the last block's end on.
    let mut carry: Vec<u8> = Vec::new();
    let (mut offset, mut line, mut hash) = (0usize, 0u32, FNV_BASIS);
    let mut want = block;
    // Bytes of room in the run's lists, counted in its heap.
    let mut room = 0;
    let mut eof = false;
    // Whether the text read is whole, so that the report can read it again.
    let mut whole = true;
    loop {
        if !eof && carry.len() < want {
            let need = want - carry.len();
            // Exactly: a document longer than a block doubles it, within the budget.
            carry.reserve_exact(need);
            match (&mut file).take(need as u64).read_to_end(&mut carry) {
                Ok(n) => eof = n < need,
                Err(e) => {
                    take_back(loaded, &before);
                    loaded.errors.push(Diagnostic::error(&name, Pos::UNKNOWN, format!("cannot read: {e}")));
                    whole = false;
                    break;
                }
            }
        }
        if offset == 0 && eof {
            // It fits in one block (or is one document).
            if carry.len() as u64 > MAX_INPUT_BYTES {
                return loaded.errors.push(super::inputs::too_large_for(&name, MAX_INPUT_BYTES));
            }
            return super::add_bytes_within(loaded, name, carry, budget);
        }
        if (offset + carry.len()) as u64 > MAX_STREAMED_BYTES {
            take_back(loaded, &before);
            loaded.errors.push(super::inputs::too_large_for(&name, MAX_STREAMED_BYTES));
            whole = false;
            break;
        }
        let cut = if eof { carry.len() } else { last_cut(&carry) };
        if cut == 0 {
            if eof {
                break;
            }
            // One document longer than a block: read on, within the budget
            // and the bound of a whole input. A file whose first block is
            // one document would be read whole: over that bound, it is
            // refused by its size (2 GB of zeros is not read).
            if carry.len() as u64 > MAX_INPUT_BYTES || (offset == 0 && size > MAX_INPUT_BYTES) {
                take_back(loaded, &before);
                loaded.errors.push(if offset == 0 {
                    super::inputs::too_large_for(&name, MAX_INPUT_BYTES)
                } else {
                    Diagnostic::error(
                        &name,
                        Pos::new(line.saturating_add(1), 1),
                        format!("input refused here: a document larger than {} MiB", MAX_INPUT_BYTES >> 20),
                    )
                    .with_help("none of this input's objects are checked; is it a manifest stream at all?")
                });
                whole = false;
                break;
            }
            let next = carry.len().saturating_mul(2).min(MAX_INPUT_BYTES as usize + 1);
            if next > budget.saturating_sub(loaded.heap) {
                refuse_at(loaded, &before, &name, line, budget);
                whole = false;
                break;
            }
            want = next;
            continue;
        }
        want = block;
        let rest = carry.split_off(cut);
        let bytes = std::mem::replace(&mut carry, rest);
        let (mut text, bad) = match String::from_utf8(bytes) {
            Ok(text) => (text, false),
            Err(e) => {
                // The documents before the bad byte are read, the rest not.
                let valid = e.utf8_error().valid_up_to();
                let mut bytes = e.into_bytes();
                loaded.errors.push(not_utf8(&name, &bytes, valid, line));
                bytes.truncate(valid);
                let mut text = String::from_utf8(bytes).unwrap_or_default();
                // Documents as they are split once lone CRs end lines.
                lone_cr_to_lf(&mut text);
                let end = split(&text).last().map_or(0, |c| c.start);
                text.truncate(end);
                (text, true)
            }
        };
        lone_cr_to_lf(&mut text);
        hash = super::text_hash_from(hash, &text);
        let first = loaded.objects.len();
        let at = (offset, line, loaded.errors.len() - before.errors);
        let mut part = parse_within(loaded, &name, &text, text.len(), at, Some(reread.clone()), budget);
        if part.refused {
            refuse_file(loaded, &before, part, &name, budget);
            whole = false;
            break;
        }
        // The run's lists grow by doubling, as one pass over the whole file
        // grows its own (see `Growth`): their room counts while the file is
        // read, and the storage they let go of while it is copied.
        let (objects, findings) =
            (Growth::of(&loaded.objects, part.objects.len()), Growth::of(&loaded.findings, part.findings.len()));
        let heap = (loaded.heap - room).saturating_add(part.kept).saturating_add(objects.room + findings.room);
        if heap.saturating_add(objects.moved + findings.moved) > budget {
            refuse_at(loaded, &before, &name, line, budget);
            whole = false;
            break;
        }
        objects.apply(&mut loaded.objects);
        findings.apply(&mut loaded.findings);
        keep(loaded, &mut part);
        (loaded.heap, room) = (heap, objects.room + findings.room);
        if text.contains("Source:") {
            name_templates(&text, line, &mut loaded.objects[first..]);
        }
        take_reports(loaded, part);
        line = line.saturating_add(to_u32(text.bytes().filter(|&b| b == b'\n').count()));
        offset += text.len();
        if bad {
            whole = false;
            break;
        }
    }
    // Once the file is read, the room of the lists is not counted (as after
    // one pass): it is not touched, so not resident, until later inputs fill
    // it. A file refused took it back with its objects.
    if loaded.objects.len() > before.objects {
        loaded.heap -= room;
    }
    if whole {
        // Findings show its lines: the report reads it again ([`Loaded::text`]).
        loaded.let_go.push((loaded.sources.len(), offset, hash));
    }
    loaded.heap += super::source_bytes(&name);
    loaded.source_names.insert(name.clone());
    loaded.sources.push(Source { name, text: String::new() });
}

/// Refuses the file `name` as `part` does, taking back what its blocks added.
fn refuse_file(loaded: &mut Loaded, before: &Before, mut part: Part, name: &Path, budget: usize) {
    take_back(loaded, before);
    refuse(loaded, &mut part, name, budget);
    take_reports(loaded, part);
}

/// Refuses the file `name` at the budget, at the line after `line`.
fn refuse_at(loaded: &mut Loaded, before: &Before, name: &Path, line: u32, budget: usize) {
    refuse_file(loaded, before, refused_here(name, Pos::new(line.saturating_add(1), 1), budget), name, budget);
}

/// Takes back what the blocks of a refused file added.
fn take_back(loaded: &mut Loaded, before: &Before) {
    loaded.objects.truncate(before.objects);
    loaded.findings.truncate(before.findings);
    // The room they grew into, too.
    loaded.objects.shrink_to_fit();
    loaded.findings.shrink_to_fit();
    loaded.heap = before.heap;
}

/// The refusal of a file whose document at `pos` alone passes the budget.
fn refused_here(name: &Path, pos: Pos, budget: usize) -> Part {
    let p = super::over_budget(pos, budget);
    let mut d = Diagnostic::error(name, p.pos, p.message);
    d.help = p.help;
    Part { errors: vec![d], refused: true, over_budget: true, ..Part::default() }
}

/// Where the last document marker of `bytes` starts (not one under `%`
/// directives, which belong to the document after it): 0 when none but
/// the first line is one. Only whole lines count: the last may be cut.
fn last_cut(bytes: &[u8]) -> usize {
    let mut end = match bytes.iter().rposition(|&b| b == b'\n') {
        Some(i) => i + 1,
        None => return 0,
    };
    while end > 0 {
        let start = bytes[..end - 1].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        if start > 0
            && super::documents::is_marker(&bytes[start..end])
            && !super::documents::directives_above(bytes, start)
        {
            return start;
        }
        end = start;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::load::tests::{DEPLOY, naming, stream_of};
    use crate::model::load::{EarlyHook, MAX_HEAP, MAX_INPUT_ERRORS};
    use crate::model::pointer::At;

    /// What a reader took from one file: each object with its template and
    /// the places of its fields (read again from the file), what `naming`
    /// found, the errors and notes.
    fn summary(l: &Loaded) -> (Vec<String>, Vec<(usize, String)>, Vec<String>) {
        let fields = ["", "/metadata/name", "/spec/template/spec/containers/1/image", "/data/big"];
        let objects = l
            .objects
            .iter()
            .map(|o| {
                let at: Vec<_> = fields.iter().map(|f| o.pos(f)).map(|p| (p.line, p.column)).collect();
                format!(
                    "{} {} {} {:?} {:?} {}",
                    o.source,
                    o.kind,
                    o.name,
                    o.template(),
                    at,
                    o.value.at("/data/big").is_some()
                )
            })
            .collect();
        let found = l.findings.iter().map(|f| (f.object, f.message.clone())).collect();
        // In the order of their places (reading a file whole reports a bad
        // byte first).
        let mut reports: Vec<_> =
            l.errors.iter().chain(&l.notes).map(|d| (d.pos.line, d.pos.column, &d.message)).collect();
        reports.sort();
        (objects, found, reports.into_iter().map(|(l, c, m)| format!("{l}:{c}: {m}")).collect())
    }

    fn checking() -> Loaded {
        Loaded { early: EarlyHook(Some(naming())), ..Loaded::default() }
    }

    /// A stream of at least `size` bytes with a document longer than small
    /// blocks, line ends of three kinds and a `List`, beside what
    /// `stream_of` has (broken and skipped documents, directives, Helm).
    fn stream(size: usize) -> String {
        let mut text = stream_of(size);
        text += "---\r\napiVersion: v1\r\nkind: ConfigMap\r\nmetadata: {name: crlf}\r\n";
        text += "---\rapiVersion: v1\rkind: ConfigMap\rmetadata: {name: lone-cr}\r";
        text += &format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: long}}\ndata:\n  big: {}\n",
            "x".repeat(200_000)
        );
        text += "---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Service, metadata: {name: a}}\n";
        text += &DEPLOY.replace("name: web", "name: last");
        text
    }

    /// `bytes` in a file (kept while the positions are read again from
    /// it), read whole, and read in blocks of `block` bytes.
    fn whole_and_blocks(bytes: &[u8], budget: usize, block: usize) -> (tempfile::TempDir, Loaded, Loaded) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("s.yaml");
        std::fs::write(&path, bytes).expect("written");
        let mut whole = checking();
        super::super::add_bytes_within(&mut whole, path.clone(), bytes.to_vec(), budget);
        let mut blocks = checking();
        let file = std::fs::File::open(&path).expect("opened");
        add_blocks(&mut blocks, path, file, budget, block);
        (dir, whole, blocks)
    }

    fn assert_same(whole: &Loaded, blocks: &Loaded) {
        let (w, b) = (summary(whole), summary(blocks));
        for (i, (w, b)) in w.0.iter().zip(&b.0).enumerate() {
            assert_eq!(w, b, "object {i}: the same, at the same places");
        }
        assert_eq!(w.0.len(), b.0.len(), "as many objects");
        assert_eq!(w.1, b.1, "the same findings, on the same objects");
        assert_eq!(w.2, b.2, "the same errors and notes");
    }

    #[test]
    fn a_file_read_in_blocks_gives_what_reading_it_whole_gives() {
        let text = stream(PARALLEL_INPUT_FOR_TESTS + 100_000);
        // Small blocks, one pass each; then blocks each parsed in parts on
        // every core.
        for block in [64 << 10, PARALLEL_INPUT_FOR_TESTS + 1] {
            let (_dir, whole, blocks) = whole_and_blocks(text.as_bytes(), MAX_HEAP, block);
            assert_same(&whole, &blocks);
            assert!(whole.objects.len() > 1000 && !whole.errors.is_empty() && !whole.notes.is_empty());
            assert!(whole.objects.iter().any(|o| o.template().is_some()));
            // The text is not kept, and reads back whole for the report.
            assert_eq!(blocks.sources.len(), 1);
            assert!(blocks.sources[0].text.is_empty());
            let mut expected = text.clone();
            lone_cr_to_lf(&mut expected);
            assert!(blocks.text(0).as_deref() == Some(expected.as_str()), "block {block}: the text read again");
            // It counts what reading it whole counts, to 1 %.
            assert!(blocks.heap.abs_diff(whole.heap) < whole.heap / 100, "{} against {}", blocks.heap, whole.heap);
        }
    }

    #[test]
    fn a_file_refused_in_a_later_block_is_refused_whole() {
        let text = stream(600_000);
        let mut all = checking();
        super::super::add_bytes_within(&mut all, PathBuf::from("s.yaml"), text.clone().into_bytes(), MAX_HEAP);
        let (_dir, whole, blocks) = whole_and_blocks(text.as_bytes(), all.heap / 2, 64 << 10);
        let refused_at = |l: &Loaded| {
            assert!(l.objects.is_empty() && l.findings.is_empty(), "none of its objects");
            assert!(l.heap < 1 << 20, "only its error reports stay: {}", l.heap);
            let refusals: Vec<_> = l.errors.iter().filter(|d| d.message.starts_with("input refused here")).collect();
            assert_eq!(refusals.len(), 1, "{:?}", l.errors);
            refusals[0].pos.line
        };
        // Read whole, its text counts against the budget too.
        let (w, b) = (refused_at(&whole), refused_at(&blocks));
        assert!(b > 10_000 && b > w, "where the budget ran out, far into the file: {b} (whole: {w})");
    }

    #[test]
    fn the_errors_of_every_block_count_together() {
        let text = format!(
            "{}---\nkind: [unclosed\n",
            "---\nkind: [unclosed\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n"
                .repeat(MAX_INPUT_ERRORS + 5)
        );
        let (_dir, whole, blocks) = whole_and_blocks(text.as_bytes(), MAX_HEAP, 4 << 10);
        assert_same(&whole, &blocks);
        for l in [&whole, &blocks] {
            assert!(l.objects.is_empty());
            let last = l.errors.last().map(|d| d.message.clone()).unwrap_or_default();
            assert!(last.contains(&format!("more than {MAX_INPUT_ERRORS} errors")), "{last}");
        }
    }

    #[test]
    fn a_bad_byte_in_a_later_block_ends_the_file_there() {
        let mut bytes = stream(300_000).into_bytes();
        // In the fourth block.
        let at = 200_000;
        let line = bytes[..at].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        bytes.insert(line + 1, 0xFF);
        let (_dir, whole, blocks) = whole_and_blocks(&bytes, MAX_HEAP, 64 << 10);
        assert_same(&whole, &blocks);
        assert!(whole.errors.iter().any(|d| d.message.starts_with("not UTF-8")));
        assert!(blocks.objects.len() > 500, "the documents before it are read");
        assert!(!blocks.objects.iter().any(|o| o.name == "last"), "those after it are not");
    }

    #[test]
    fn a_block_ends_at_a_document_marker_not_under_directives() {
        assert_eq!(last_cut(b"a: 1\n---\nb: 2\n---\nc: 3"), 14, "the last whole line is a marker");
        assert_eq!(last_cut(b"a: 1\n---\nb: 2\n--"), 5, "the cut line is not one");
        assert_eq!(last_cut(b"a: 1\n%YAML 1.1\n---\nb: 2\n"), 0, "a directive belongs to the document after it");
        assert_eq!(last_cut(b"---\na: 1\n"), 0, "the first line is where the block starts");
        assert_eq!(last_cut(b"a: 1\n--- # x\nb: 2\n"), 5);
    }

    const PARALLEL_INPUT_FOR_TESTS: usize = super::super::PARALLEL_INPUT;
}
