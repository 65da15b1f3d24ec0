//! What a check found about one object: code, severity, the field's JSON
//! pointer and a message. It lives below the checks because the loader
//! keeps the findings of single-object checks it runs as it reads (see
//! [`crate::model::load::Early`]).

use std::sync::Arc;

/// What a check found, before positions are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: &'static str,
    pub severity: crate::diag::Severity,
    /// Index into the checked objects.
    pub object: usize,
    /// JSON pointer of the offending field inside the object (`""` for the object).
    pub pointer: String,
    /// A place inside the field's value (a PromQL error inside `expr:`),
    /// when the check found one; else the field's place is shown.
    pub at: Option<crate::diag::Pos>,
    pub message: String,
    /// Shared by consecutive findings of a check that give the same help
    /// (one per container of 100,000): see `share_help`.
    pub help: Option<Arc<str>>,
}

impl Finding {
    /// What the finding keeps: its slot and texts as allocated (a help
    /// shared with the findings before it is not counted again; its two
    /// counts are).
    pub fn kept_bytes(&self) -> usize {
        let help =
            self.help.as_ref().filter(|h| Arc::strong_count(h) == 1).map_or(0, |h| 2 * size_of::<usize>() + h.len());
        size_of::<Finding>() + self.pointer.capacity() + self.message.capacity() + help
    }

    /// `text` in an allocation of its length. A `format!`ted message has
    /// room to grow (a third of what three million findings of small
    /// Deployments kept), and shrinking it in place leaves the allocator's
    /// block as it was: a copy is what gives it back.
    pub fn exact(text: String) -> String {
        if text.capacity() == text.len() { text } else { String::from(text.as_str()) }
    }

    /// Where the finding is in its object `o`'s source.
    pub fn pos(&self, o: &crate::model::Object) -> crate::diag::Pos {
        self.at.unwrap_or_else(|| o.pos(&self.pointer))
    }

    /// Places the finding at `at`, inside the value of its field.
    pub fn at(&mut self, at: Option<crate::diag::Pos>) -> &mut Self {
        self.at = at;
        self
    }

    pub fn help(&mut self, help: impl Into<String>) -> &mut Self {
        let mut help = help.into();
        crate::diag::clip_message(&mut help);
        self.help = Some(help.into());
        self
    }
}
