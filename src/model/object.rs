//! One Kubernetes object as read from its input, with the positions of its
//! fields, and everything read from the inputs of one run.

use std::path::PathBuf;

use crate::model::Value;
use crate::model::value::Str;

use super::At;
use super::gvk::{Gvk, cluster_scoped};
use super::load;
use crate::diag::Pos;

/// One input text: a file or stdin.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name shown in findings.
    pub name: PathBuf,
    pub text: String,
}

/// One Kubernetes object of the input, with the positions of its fields.
#[derive(Debug)]
pub struct Object {
    /// Index into [`Loaded::sources`].
    pub source: usize,
    pub value: Value,
    pub spans: load::Spans,
    pub api_version: Str,
    pub kind: Str,
    pub name: Str,
    /// As written, or as given to the run (`--namespace`, see
    /// [`Loaded::apply_namespace`]); see [`Object::ns`] for the effective namespace.
    pub namespace: Option<Str>,
    /// In `helm template` output: the template that rendered it (its
    /// document's `# Source:`), shown beside the file and line; see
    /// [`Object::template`]. Boxed: a thin pointer, 8 bytes of every object's
    /// slot (a million objects of a monorepo, not from Helm, have none).
    pub template: Option<Box<std::sync::Arc<str>>>,
}

impl Object {
    /// The Helm template that rendered the object, if it is known.
    pub fn template(&self) -> Option<&str> {
        self.template.as_deref().map(|t| &**t)
    }

    /// Where the field at a JSON `pointer` is written (its key for a mapping
    /// entry), or the nearest enclosing field that is.
    pub fn pos(&self, pointer: &str) -> Pos {
        self.spans.locate_in(pointer, &self.kind, &self.name)
    }

    /// The namespace the object lands in: namespaced objects without one go
    /// to `default` (as `kubectl apply` without `-n` would put them), though
    /// [`super::Index::named`] lets a reference from another namespace find
    /// them.
    /// Cluster-scoped objects have none (`""`).
    pub fn ns(&self) -> &str {
        if cluster_scoped(&self.kind) {
            return "";
        }
        self.namespace.as_deref().unwrap_or("default")
    }

    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped kinds.
    pub fn id(&self) -> String {
        if cluster_scoped(&self.kind) {
            format!("{}/{}", self.kind, self.name)
        } else {
            format!("{}/{}/{}", self.kind, self.ns(), self.name)
        }
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.gvk().group
    }

    pub fn gvk(&self) -> Gvk<'_> {
        Gvk::new(&self.api_version, &self.kind)
    }

    pub fn labels(&self) -> Option<&crate::model::value::Map> {
        self.value.at("/metadata/labels").and_then(Value::as_object)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.value.at("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
    }
}

impl Loaded {
    /// Puts every namespaced object written without a namespace in `ns`, as
    /// `kubectl apply -n ns` would.
    /// The text of input `source`: kept, or read again from its file when
    /// it was let go after reading (`check`, see [`load::Early`]). `None`
    /// when the file cannot be read or no longer has the same text.
    pub fn text(&self, source: usize) -> Option<std::borrow::Cow<'_, str>> {
        let s = self.sources.get(source)?;
        let Some((len, hash)) = self.let_go_of(source) else {
            return Some(std::borrow::Cow::Borrowed(&s.text));
        };
        let mut text = String::from_utf8(load::read_file(&s.name).ok()?).ok()?;
        load::lone_cr_to_lf(&mut text);
        (text.len() == len && load::text_hash(&text) == hash).then_some(std::borrow::Cow::Owned(text))
    }

    /// The lines of input `source` read again from its file, a few at a
    /// time, when its text was let go after reading (and the file is as it
    /// was then); `None` when its text is held ([`Loaded::text`]) or the
    /// file changed.
    pub fn line_reader(&self, source: usize) -> Option<load::LineReader> {
        let (len, hash) = self.let_go_of(source)?;
        load::LineReader::open(&self.sources.get(source)?.name, len, hash)
    }

    /// Whether the text of input `source` was let go, and its length and hash.
    fn let_go_of(&self, source: usize) -> Option<(usize, u64)> {
        // In input order: a report of 100,000 files looked each up in a
        // walk over all of them.
        let i = self.let_go.binary_search_by_key(&source, |&(id, _, _)| id).ok()?;
        let (_, len, hash) = self.let_go[i];
        Some((len, hash))
    }

    pub fn apply_namespace(&mut self, ns: &str) {
        for o in &mut self.objects {
            if o.namespace.is_none() && !cluster_scoped(&o.kind) {
                o.namespace = Some(ns.into());
            }
        }
    }
}

/// Everything read from the inputs: the texts, the objects, and the inputs
/// that could not be read (each an error at file:line).
#[derive(Debug, Default)]
pub struct Loaded {
    pub sources: Vec<Source>,
    pub objects: Vec<Object>,
    pub errors: Vec<crate::diag::Diagnostic>,
    /// What was left out on purpose and why (a FIFO in a folder): info, not errors.
    pub notes: Vec<crate::diag::Diagnostic>,
    /// Estimated heap taken by the kept objects, against the run's budget
    /// ([`load::MAX_HEAP`] unless given).
    pub heap: usize,
    /// While inputs are read in parallel: the heap of all of them together
    /// (see `load::load`).
    pub(crate) shared_heap: Option<std::sync::Arc<std::sync::atomic::AtomicUsize>>,
    /// What single-object checks found as the inputs were read (see [`load::Early`]).
    pub findings: Vec<crate::model::finding::Finding>,
    /// Inputs whose text was let go once read (see [`Loaded::text`]): their
    /// number, length and hash.
    pub(crate) let_go: Vec<(usize, usize, u64)>,
    /// What runs on each document's objects as they are read.
    pub(crate) early: load::EarlyHook,
    /// The mapping keys of every input read into this set, allocated once.
    pub(crate) keys: std::sync::Arc<crate::model::value::SharedKeys>,
    /// The names of `sources`, kept by the loader as it adds them: a Helm
    /// template whose name is taken is renamed, and looking through every
    /// source per template made 100,000 templates take minutes.
    pub(crate) source_names: std::collections::HashSet<std::path::PathBuf>,
    /// An input was refused at the memory budget with little of it left, or
    /// a second one was: the inputs after it are not read (one error says
    /// how many), rather than refused one by one.
    pub(crate) budget_spent: bool,
    /// An input was refused at the memory budget (in parallel, perhaps only
    /// because the other readers took the rest: read again in order).
    pub(crate) over_budget: bool,
    /// Where in `errors` the first refusal at the memory budget is. A second
    /// one spends the budget (unless the first did); what is not read after
    /// that is said there, in the same error.
    pub(crate) refusal: Option<usize>,
    /// What the reader of the last input counted, its buffers too: one read
    /// alone fits the budget left when this is within it.
    pub(crate) last_counted: usize,
    /// The mapping keys counted once for the run, by the inputs in order
    /// (see `load::counted_once`).
    pub(crate) counted_keys: load::CountedKeys,
    /// (A part read in parallel) its input is a large file, to be read a
    /// block at a time, alone.
    pub(crate) large: bool,
}

#[cfg(test)]
mod tests {
    /// `check` keeps an object's slot for every object of a run: a million
    /// objects take this many bytes each before their values.
    #[test]
    fn an_object_slot_stays_small() {
        assert!(size_of::<super::Object>() <= 168, "{} bytes", size_of::<super::Object>());
    }
}
