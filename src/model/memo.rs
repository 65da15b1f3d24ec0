//! A process-wide memo of values computed from texts: `gen` checks and
//! generates each environment apart, and their rules, dashboards and
//! alert expressions are mostly the same texts.

use std::collections::HashMap;
use std::sync::Mutex;

/// Values computed from texts, kept while the texts total at most
/// [`TextMemo::MAX_TEXT`] bytes; past it they are computed again, so that a
/// large set takes no more memory.
pub struct TextMemo<V>(Mutex<(HashMap<Box<str>, V>, usize)>);

impl<V> Default for TextMemo<V> {
    fn default() -> Self {
        TextMemo(Mutex::default())
    }
}

impl<V: Clone> TextMemo<V> {
    /// The text kept, in all.
    pub const MAX_TEXT: usize = 1 << 20;

    /// What `compute` gives of `text`, computed once while there is room.
    pub fn get_or(&self, text: &str, compute: impl FnOnce(&str) -> V) -> V {
        let memo = || self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(v) = memo().0.get(text) {
            return v.clone();
        }
        // Outside the lock: the threads asking run on every core.
        let v = compute(text);
        let (kept, total) = &mut *memo();
        if *total + text.len() <= Self::MAX_TEXT && !kept.contains_key(text) {
            *total += text.len();
            kept.insert(text.into(), v.clone());
        }
        v
    }
}
