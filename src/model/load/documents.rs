//! Documents: cutting a text into documents (at `---` markers, after
//! turning lone `\r` into `\n`; a text that is not UTF-8 up to its first bad
//! byte), splitting `helm template` output into one source per template
//! (`# Source:` comments), and turning a parsed document into objects: none
//! for an empty document or a kustomize patch file, one per item of a
//! `kind: List`, an error for anything that is not a Kubernetes object.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::string::FromUtf8Error;
use std::sync::Arc;

use crate::model::Value;
use crate::model::value::Str;

use super::events::Doc;
use super::spans::{Entry, FNV_BASIS, Spans};
use super::{Chunks, MAX_HEAP, Problem, add_parsed_within, to_u32};
use crate::diag::{Diagnostic, Pos};
use crate::model::{Loaded, Object, Source};

// ---------------------------------------------------------------------------
// Cutting a text into documents

/// One document's text: a byte range of the source, and the number of lines
/// before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Chunk {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) line: u32,
}

/// Cuts `text` before every document marker (`---` at the start of a line,
/// with the `%` directives just above it), one document at a time: a list
/// of every document would take 24 bytes per `---\n` (6 times the text).
pub(super) fn split(text: &str) -> Split<'_> {
    Split { text, start: 0, start_line: 0, at: 0, line: 0, directives: None }
}

/// The documents of a text, in order (see [`split`]).
pub(super) struct Split<'a> {
    text: &'a str,
    start: usize,
    start_line: usize,
    at: usize,
    line: usize,
    directives: Option<(usize, usize)>,
}

impl Iterator for Split<'_> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        let bytes = self.text.as_bytes();
        while self.at < bytes.len() {
            let at = self.at;
            // `at` starts a line, so it is a character boundary; `find` uses memchr.
            let end = self.text[at..].find('\n').map_or(bytes.len(), |i| at + i + 1);
            let l = &bytes[at..end];
            let line = self.line;
            self.at = end;
            self.line += 1;
            if is_marker(l) {
                let (cut, cut_line) = self.directives.take().unwrap_or((at, line));
                let chunk = Chunk { start: self.start, end: cut, line: to_u32(self.start_line) };
                (self.start, self.start_line) = (cut, cut_line);
                if cut > chunk.start {
                    return Some(chunk);
                }
            } else if l.first() == Some(&b'%') {
                self.directives.get_or_insert((at, line));
            } else if !blank_or_comment(l) {
                self.directives = None;
            }
        }
        if self.start < bytes.len() {
            let chunk = Chunk { start: self.start, end: bytes.len(), line: to_u32(self.start_line) };
            self.start = bytes.len();
            return Some(chunk);
        }
        None
    }
}

/// Up to `parts - 1` byte offsets that cut `text` into parts of about the
/// same size, each at a document marker where [`split`] cuts too: the
/// documents of the parts, split one by one, are those of the whole text.
/// A marker with `%` directives above it is passed over (the directives
/// belong to its document).
pub(super) fn cuts(text: &str, parts: usize) -> Vec<usize> {
    let bytes = text.as_bytes();
    let mut cuts: Vec<usize> = Vec::new();
    for k in 1..parts {
        let target = (text.len() / parts).saturating_mul(k).max(cuts.last().map_or(0, |c| c + 1));
        // The first line that starts at or after `target`.
        let Some(mut at) = bytes.get(target.saturating_sub(1)..).and_then(|b| b.iter().position(|&c| c == b'\n'))
        else {
            break;
        };
        at += target.saturating_sub(1) + 1;
        while at < bytes.len() {
            let end = bytes[at..].iter().position(|&c| c == b'\n').map_or(bytes.len(), |i| at + i + 1);
            let l = &bytes[at..end];
            if is_marker(l) && !directives_above(bytes, at) {
                cuts.push(at);
                break;
            }
            at = end;
        }
    }
    cuts
}

/// A document marker line: `---` alone or followed by a space or tab.
pub(super) fn is_marker(l: &[u8]) -> bool {
    l.starts_with(b"---") && l.get(3).is_none_or(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
}

/// Whether a `%` directive is above the line at `at`, with only blank and
/// comment lines between (looked for 64 lines up; further counts as yes).
pub(super) fn directives_above(bytes: &[u8], at: usize) -> bool {
    let mut end = at;
    for _ in 0..64 {
        if end == 0 {
            return false;
        }
        let start = bytes[..end - 1].iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
        let l = &bytes[start..end];
        if l.first() == Some(&b'%') {
            return true;
        }
        if !blank_or_comment(l) {
            return false;
        }
        end = start;
    }
    true
}

fn blank_or_comment(line: &[u8]) -> bool {
    let t = line.trim_ascii_start();
    t.is_empty() || t[0] == b'#'
}

/// YAML ends lines at `\r` too; the reports count lines by `\n`. A lone
/// `\r` becomes `\n` so that both count the same lines (same length, so
/// every offset holds).
pub(crate) fn lone_cr_to_lf(text: &mut String) {
    if !text.contains('\r') {
        return;
    }
    let mut bytes = std::mem::take(text).into_bytes();
    lone_crs_to_lf(&mut bytes);
    *text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// [`lone_cr_to_lf`] on bytes: a CR at their end counts as lone (the end of
/// the text, or of a chunk read up to a `\n`).
pub(super) fn lone_crs_to_lf(bytes: &mut [u8]) {
    for i in 0..bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            bytes[i] = b'\n';
        }
    }
}

/// Adds an input that is not UTF-8: the first bad byte is reported at its
/// line, and the documents before it are still read.
pub(super) fn add_invalid_utf8(loaded: &mut Loaded, name: PathBuf, e: FromUtf8Error, budget: usize) {
    let valid = e.utf8_error().valid_up_to();
    let bytes = e.into_bytes();
    loaded.errors.push(not_utf8(&name, &bytes, valid, 0));
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    drop(bytes);
    lone_cr_to_lf(&mut text);
    // The documents that end before the bad byte are read; the one holding
    // it is not (the first `valid` bytes are the same in `text`).
    let end = split(text.get(..valid).unwrap_or_default()).last().map_or(0, |c| c.start);
    add_chunks_within(loaded, Source { name, text }, end, budget);
}

/// The error of `bytes` (of `name`, `lines` lines into it), valid UTF-8
/// up to byte `valid`: at the first bad byte.
pub(super) fn not_utf8(name: &Path, bytes: &[u8], valid: usize, lines: u32) -> Diagnostic {
    let utf16 = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
    let message = if utf16 {
        "not UTF-8: the file is UTF-16 text".to_string()
    } else {
        format!("not UTF-8: byte 0x{:02X} is not valid UTF-8 text", bytes.get(valid).copied().unwrap_or(0))
    };
    // Lines as the loader counts them: a lone CR ends one.
    let mut before = String::from_utf8_lossy(&bytes[..valid.min(bytes.len())]).into_owned();
    lone_cr_to_lf(&mut before);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    Diagnostic::error(name, Pos::new(to_u32(line).saturating_add(lines), to_u32(column)), message)
        .with_help("manifests must be UTF-8; re-encode the file (e.g. `iconv -f LATIN1 -t UTF-8`)")
}

// ---------------------------------------------------------------------------
// Helm: the template of each object

/// Adds the documents of a source's first `end` bytes; in `helm template`
/// output each object also names the template that rendered it.
pub(super) fn add_chunks(loaded: &mut Loaded, source: Source, end: usize) {
    add_chunks_within(loaded, source, end, MAX_HEAP);
}

/// [`add_chunks`] with the memory budget as a parameter, for tests.
///
/// A Helm stream stays one source, so that findings name the file and line
/// that hold the object (the template paths exist in no folder); the
/// `# Source:` of its document is kept on each object beside it.
pub(super) fn add_chunks_within(loaded: &mut Loaded, source: Source, end: usize, budget: usize) {
    let helm = source.text[..end].contains("Source:");
    let first = loaded.objects.len();
    let id = loaded.sources.len();
    add_parsed_within(loaded, source, Chunks::Upto(end), budget);
    if helm && let Some(source) = loaded.sources.get(id) {
        name_templates(&source.text[..end], 0, &mut loaded.objects[first..]);
    }
    super::let_go_of_text(loaded, id);
}

/// Sets each object's template from the `# Source:` comment of the document
/// it was read from. Objects come in document order, so one walk over the
/// documents beside them suffices (no table of documents is kept). `text`
/// comes `lines` lines into its input.
pub(super) fn name_templates(text: &str, lines: u32, objects: &mut [Object]) {
    let mut names: HashMap<&str, Arc<str>> = HashMap::new();
    let mut docs = split(text).peekable();
    let mut current: Option<Arc<str>> = None;
    for o in objects {
        // Lines before the object's first line (0-based count).
        let before = o.pos("").line.saturating_sub(1).saturating_sub(lines);
        while let Some(d) = docs.next_if(|d| d.line <= before) {
            current =
                helm_source(&text[d.start..d.end]).map(|t| Arc::clone(names.entry(t).or_insert_with(|| Arc::from(t))));
        }
        o.template = current.clone().map(Box::new);
    }
}

/// Whether a document has anything but markers, comments and blank lines
/// (blank as YAML sees it: spaces and tabs; a NUL counts, to be reported).
/// One without is not parsed: it holds no object, and a stream of millions
/// of `---` would otherwise cost a parser each.
pub(super) fn has_content(text: &str) -> bool {
    text.contains('\0')
        || text.lines().any(|l| {
            let t = l.trim_matches([' ', '\t', '\r']);
            !(t.is_empty() || t.starts_with('#') || t == "---" || t == "...")
        })
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

// ---------------------------------------------------------------------------
// Documents to objects

/// The objects of a document: none (an empty document), one, or one per item
/// of a list.
pub(super) fn objects(source: usize, doc: Doc) -> Result<Vec<Object>, Problem> {
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
            Some(item) if !item.is_empty() => item,
            _ => Spans::from_entries(&mut vec![Entry::new(FNV_BASIS, spans.locate(&format!("/items/{i}")))]),
        };
        if let (Value::Object(m), Some(kind)) = (&mut item, item_kind) {
            if !m.contains_key("kind") {
                m.insert("kind", Value::from(kind));
            }
            if let (false, Some(v)) = (m.contains_key("apiVersion"), &api_version) {
                m.insert("apiVersion", v.clone());
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

/// A file that is not a manifest but is known (see [`super::files`]): the
/// stand-in object of a rule file or dashboard, or a note that it is skipped.
fn other_file(source: usize, value: Value, spans: Spans) -> Result<Option<Object>, Problem> {
    use super::files::{FILE_API, Other, recognise};
    match value.as_object().and_then(recognise) {
        Some(Other::Kept(kind)) => Ok(Some(Object {
            source,
            value,
            spans,
            api_version: FILE_API.into(),
            kind: kind.into(),
            name: Str::default(),
            namespace: None,
            template: None,
        })),
        Some(Other::Skipped(what)) => {
            let mut p = Problem::new(spans.locate(""), format!("{what}, not a Kubernetes manifest: skipped"));
            p.skipped = true;
            Err(p)
        }
        None => Ok(None),
    }
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
    let field = |name: &str| -> Result<Option<Str>, Problem> {
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
        (None, _) | (_, None) if value.as_object().and_then(super::files::recognise).is_some() => {
            return other_file(source, value, spans);
        }
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
    let str_at = |k: &str| meta.and_then(|x| x.get(k)).and_then(Value::as_str).map(Str::from);
    let name = str_at("name").or_else(|| str_at("generateName")).unwrap_or_default();
    let namespace = str_at("namespace");
    Ok(Some(Object { source, value, spans, api_version, kind, name, namespace, template: None }))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{cuts, directives_above, split};
    use crate::model::Loaded;
    use crate::model::load::add_bytes;
    use crate::model::load::tests::{DEPLOY, at, errors, load_str};

    #[test]
    fn cuts_are_where_split_cuts_and_never_under_a_directive() {
        let text = format!("{}%YAML 1.1\n# c\n\n---\nb: 2\n--- # x\n{}", "a: 1\n".repeat(40), "c: 3\n".repeat(30));
        let under = text.find("---\n").unwrap();
        let next = text.find("--- # x").unwrap();
        // Aimed just before the marker under the directive: the next one is taken.
        let cut = cuts(&text, 2);
        assert!(text.len() / 2 <= under, "the aim is before both markers");
        assert_eq!(cut, [next]);
        let starts: Vec<usize> = split(&text).map(|c| c.start).collect();
        assert!(starts.contains(&next), "{starts:?}");
        assert!(directives_above(text.as_bytes(), under) && !directives_above(text.as_bytes(), next));
        assert_eq!(cuts("a: 1\n", 4), Vec::<usize>::new(), "no marker, no cut");
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
    fn helm_template_output_stays_one_stream_and_objects_name_their_template() {
        let text = "---\n# Source: shop/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n\
                    ---\n# Source: shop/templates/deploy.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n\
                    ---\n# Source: shop/templates/svc.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web-2\n";
        let l = load_str(text);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let names: Vec<_> = l.sources.iter().map(|s| s.name.display().to_string()).collect();
        assert_eq!(names, ["t.yaml"]);
        let objs: Vec<_> = l.objects.iter().map(|o| (o.name.as_str(), at(o, "/metadata/name"), o.template())).collect();
        assert_eq!(
            objs,
            [
                ("web", (6, 3), Some("shop/templates/svc.yaml")),
                ("web", (12, 3), Some("shop/templates/deploy.yaml")),
                ("web-2", (18, 3), Some("shop/templates/svc.yaml"))
            ]
        );
        // One copy of each template's name.
        let (a, c) = (l.objects[0].template.as_ref().unwrap(), l.objects[2].template.as_ref().unwrap());
        assert!(std::sync::Arc::ptr_eq(a, c));
        // Errors name the stream.
        let bad = load_str("---\n# Source: c/templates/x.yaml\napiVersion: v1\nkind: [\n");
        assert_eq!(bad.errors[0].file, PathBuf::from("t.yaml"));
    }

    #[test]
    fn helm_documents_without_source_have_no_template() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n# Source: c/templates/a.yaml\n\
                    apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n---\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n";
        let l = load_str(text);
        assert!(l.errors.is_empty(), "{:?}", errors(&l));
        let objs: Vec<_> = l.objects.iter().map(|o| (o.name.as_str(), o.template())).collect();
        assert_eq!(objs, [("shop", None), ("a", Some("c/templates/a.yaml")), ("b", None)]);
        assert_eq!(at(&l.objects[1], "/metadata"), (9, 37));
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
}
