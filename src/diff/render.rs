//! `kubeproof diff`'s text and JSON.

use std::fmt::Write as _;

use serde_json::Value;

use super::{At, Class, Diff, Entry};

/// Changes shown per object in text (JSON has them all).
const SHOWN: usize = 40;

fn at(a: &At) -> String {
    format!("{}:{}:{}", a.file.display(), a.line, a.column)
}

fn value(v: &Option<Value>) -> String {
    match v {
        None => "(absent)".into(),
        Some(v) => crate::diag::clip_at(&v.to_string(), 80).into_owned(),
    }
}

/// One block per object, then the counts.
pub fn text(d: &Diff) -> String {
    let mut out = String::new();
    for e in &d.entries {
        match e {
            Entry::Added { object, at: a } => {
                let _ = writeln!(out, "added    {object}  ({})", at(a));
            }
            Entry::Removed { object, at: a, class, why } => {
                let _ = writeln!(out, "removed  {object}  ({})", at(a));
                if let Some(why) = why {
                    let _ = writeln!(out, "  {}: {why}", class.as_str());
                }
            }
            Entry::Changed { object, old_at, new_at, changes } => {
                let _ = writeln!(out, "changed  {object}  ({} → {})", at(old_at), at(new_at));
                for c in changes.iter().take(SHOWN) {
                    let why = c.why.as_deref().map(|w| format!(" ({w})")).unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "  {:<14} {}: {} → {}{why}",
                        c.class.as_str(),
                        c.pointer,
                        value(&c.old),
                        value(&c.new)
                    );
                    let sides: Vec<String> = [&c.old_at, &c.new_at].into_iter().flatten().map(at).collect();
                    let _ = writeln!(out, "  {:<14} at {}", "", sides.join(" → "));
                }
                if changes.len() > SHOWN {
                    let _ = writeln!(out, "  … and {} more (--format json lists them all)", changes.len() - SHOWN);
                }
            }
        }
    }
    out + &summary(d)
}

/// `N changed, N added, N removed; N refused, …`.
pub fn summary(d: &Diff) -> String {
    let count = |f: &dyn Fn(&Entry) -> bool| d.entries.iter().filter(|e| f(e)).count();
    let changed = count(&|e| matches!(e, Entry::Changed { .. }));
    let added = count(&|e| matches!(e, Entry::Added { .. }));
    let removed = count(&|e| matches!(e, Entry::Removed { .. }));
    let mut s = format!("{changed} changed, {added} added, {removed} removed");
    let classes = [Class::Refused, Class::LosesData, Class::RecreatesPods, Class::Connections];
    let parts: Vec<String> = classes
        .iter()
        .map(|c| (c, count(&|e| e.class() == *c)))
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("{n} {}", c.as_str()))
        .collect();
    if !parts.is_empty() {
        s += &format!(" (objects: {})", parts.join(", "));
    }
    if d.unsafe_to_apply() {
        s += "\napplying it is refused by the API server or loses data: delete or migrate those objects first";
    }
    s + "\n"
}

/// The entries as JSON.
pub fn json(d: &Diff) -> String {
    serde_json::to_string_pretty(d).map(|s| s + "\n").unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}\n"))
}
