//! `kubeproof diff`: two manifest sets compared object by object (matched by
//! API group, kind, namespace and name), each field that changed classified
//! by what applying the new set over the old one does to a running cluster:
//! refused by the API server (an immutable field, [`crate::model::immutable`]),
//! data lost, pods recreated, connections affected, or nothing of note.

pub mod render;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::diag::Pos;
use crate::model::immutable::{self, Effect, Key, Loss, Rule};
use crate::model::{Loaded, Object};

/// What applying one change does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Class {
    /// Nothing a running workload notices.
    Fine,
    /// A Service's ports, selector or type, a NetworkPolicy or an Ingress:
    /// who can reach what changes, and open connections may drop.
    Connections,
    /// A workload's pod template: its pods are replaced (a rolling update).
    RecreatesPods,
    /// Data goes with it (a StatefulSet, claim, claim template or Namespace).
    LosesData,
    /// The API server rejects the update: the object must be deleted and
    /// created again.
    Refused,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Fine => "fine",
            Class::Connections => "connections",
            Class::RecreatesPods => "recreates pods",
            Class::LosesData => "loses data",
            Class::Refused => "refused",
        }
    }
}

/// Where a field is written: file and position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct At {
    pub file: PathBuf,
    pub line: u32,
    pub column: u32,
}

/// One field that changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// JSON pointer inside the object.
    pub pointer: String,
    /// `None`: absent on that side.
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub class: Class,
    /// Why, for the classes that have a rule ("selector", "claim template").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_at: Option<At>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_at: Option<At>,
}

/// One object of either set.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "camelCase")]
pub enum Entry {
    Added { object: String, at: At },
    Removed { object: String, at: At, class: Class, why: Option<String> },
    Changed { object: String, old_at: At, new_at: At, changes: Vec<Change> },
}

impl Entry {
    /// The most serious class of the entry.
    pub fn class(&self) -> Class {
        match self {
            Entry::Added { .. } => Class::Fine,
            Entry::Removed { class, .. } => *class,
            Entry::Changed { changes, .. } => changes.iter().map(|c| c.class).max().unwrap_or(Class::Fine),
        }
    }
}

/// The comparison of two sets.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    pub entries: Vec<Entry>,
}

impl Diff {
    /// `old` → `new`, objects in key order. An object written twice in one
    /// set counts once (its last manifest, as `kubectl apply` leaves it).
    pub fn of(old: &Loaded, new: &Loaded) -> Diff {
        let index = |l: &'_ Loaded| -> BTreeMap<Key, usize> {
            l.objects.iter().enumerate().map(|(i, o)| (Key::of(&o.value.to_json()), i)).collect()
        };
        let (olds, news) = (index(old), index(new));
        let mut entries = Vec::new();
        for (key, &i) in &olds {
            let o = &old.objects[i];
            match news.get(key) {
                Some(&j) => {
                    let n = &new.objects[j];
                    let changes = changes(old, o, new, n);
                    if !changes.is_empty() {
                        let (old_at, new_at) = (at(old, o, ""), at(new, n, ""));
                        entries.push(Entry::Changed { object: key.to_string(), old_at, new_at, changes });
                    }
                }
                None => {
                    let loss = immutable::lost_with(&o.value.to_json());
                    let class = if loss.is_some() { Class::LosesData } else { Class::Fine };
                    let why = loss.map(|l| loss_text(l).to_string());
                    entries.push(Entry::Removed { object: key.to_string(), at: at(old, o, ""), class, why });
                }
            }
        }
        for (key, &j) in news.iter().filter(|(k, _)| !olds.contains_key(*k)) {
            entries.push(Entry::Added { object: key.to_string(), at: at(new, &new.objects[j], "") });
        }
        entries.sort_by(|a, b| name(a).cmp(name(b)));
        Diff { entries }
    }

    /// Whether applying the new set is refused or loses data (`diff` exits 1).
    pub fn unsafe_to_apply(&self) -> bool {
        self.entries.iter().any(|e| e.class() >= Class::LosesData)
    }
}

fn name(e: &Entry) -> &str {
    match e {
        Entry::Added { object, .. } | Entry::Removed { object, .. } | Entry::Changed { object, .. } => object,
    }
}

fn at(l: &Loaded, o: &Object, pointer: &str) -> At {
    let Pos { line, column } = o.pos(pointer);
    At { file: l.sources[o.source].name.clone(), line, column }
}

/// Each field that differs between the two manifests of one object,
/// classified.
fn changes(old: &Loaded, o: &Object, new: &Loaded, n: &Object) -> Vec<Change> {
    let mut leaves = Vec::new();
    // `diff` reads two sets once: the comparison runs on `serde_json`'s values.
    let (ov, nv) = (o.value.to_json(), n.value.to_json());
    differing(Some(&ov), Some(&nv), &mut String::new(), &mut leaves);
    let refused = immutable::refused(&ov, &nv);
    let lost = immutable::lost(&ov, &nv);
    leaves
        .into_iter()
        .map(|(pointer, a, b)| {
            let under = |p: &str| pointer == p || pointer.starts_with(&format!("{p}/"));
            let (class, why) = if let Some(r) = refused.iter().find(|r| under(&r.pointer)) {
                (Class::Refused, Some(rule_text(r.rule).to_string()))
            } else if let Some(l) = lost.iter().find(|l| under(&l.pointer)) {
                (Class::LosesData, Some(loss_text(l.loss).to_string()))
            } else {
                (effect(&o.kind, &pointer), None)
            };
            let old_at = a.is_some().then(|| at(old, o, &pointer));
            let new_at = b.is_some().then(|| at(new, n, &pointer));
            Change { pointer, old: a.cloned(), new: b.cloned(), class, why, old_at, new_at }
        })
        .collect()
}

/// The fields where `a` and `b` differ: maps key by key, lists of one
/// length item by item, anything else as a whole.
fn differing<'v>(
    a: Option<&'v Value>,
    b: Option<&'v Value>,
    path: &mut String,
    out: &mut Vec<(String, Option<&'v Value>, Option<&'v Value>)>,
) {
    match (a, b) {
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let len = path.len();
                path.push('/');
                path.push_str(&crate::model::pointer::escape(k));
                differing(x.get(k), y.get(k), path, out);
                path.truncate(len);
            }
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                differing(Some(p), Some(q), path, out);
                path.truncate(len);
            }
        }
        _ if a != b => out.push((path.clone(), a, b)),
        _ => {}
    }
}

/// What a change at `pointer` of a `kind` does when nothing refuses it.
fn effect(kind: &str, pointer: &str) -> Class {
    match immutable::effect(kind, pointer) {
        Effect::Fine => Class::Fine,
        Effect::Connections => Class::Connections,
        Effect::RecreatesPods => Class::RecreatesPods,
    }
}

fn rule_text(r: Rule) -> &'static str {
    r.says()
}

fn loss_text(l: Loss) -> &'static str {
    l.says()
}
