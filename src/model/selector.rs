//! Label selectors: one typed [`Selector`] with one [`Selector::matches`]
//! for every place that reads them (Services, workloads, PDBs,
//! NetworkPolicies, ServiceMonitors, affinity terms, aggregated
//! ClusterRoles), and why a selector picks no pod.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::value::{Map, Str, Value};

use super::Manifests;
use super::index::PodTemplate;

/// A label selector as written: `matchLabels` pairs and `matchExpressions`
/// requirements, all of which must hold. A part that is not what the API
/// allows (a value that is not a string, `matchExpressions` that is not a
/// list) matches nothing: the API server would refuse it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector<'a> {
    /// `matchLabels` (or a plain label map); `None` for a value that is not a string.
    labels: Vec<(&'a str, Option<&'a str>)>,
    requirements: Vec<Requirement<'a>>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement<'a> {
    pub key: &'a str,
    pub operator: Operator,
    /// The operator as written, for messages.
    pub written: &'a str,
    pub values: Vec<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    /// Anything else (or a malformed entry): holds for no labels.
    Invalid,
}

impl<'a> Selector<'a> {
    /// A `LabelSelector` (`matchLabels` and `matchExpressions`); `null` or
    /// absent parts are empty.
    pub fn of(selector: &'a Value) -> Selector<'a> {
        let mut s = match selector.get("matchLabels") {
            None | Some(Value::Null) => Selector::default(),
            Some(Value::Object(m)) => Selector::of_labels(m),
            Some(_) => Selector::unreadable(),
        };
        match selector.get("matchExpressions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => s.requirements.extend(list.iter().map(Requirement::of)),
            Some(_) => s.requirements.push(Requirement::invalid()),
        }
        if !selector.is_object() && !selector.is_null() {
            s.requirements.push(Requirement::invalid());
        }
        s
    }

    /// A plain label map: a Service's `spec.selector`, a ReplicationController's.
    pub fn of_labels(labels: &'a Map) -> Selector<'a> {
        Selector { labels: labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect(), requirements: Vec::new() }
    }

    fn unreadable() -> Selector<'a> {
        Selector { labels: Vec::new(), requirements: vec![Requirement::invalid()] }
    }

    /// No requirement at all: it selects everything (of its namespace).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty() && self.requirements.is_empty()
    }

    /// Whether pods (or objects) with `labels` are selected.
    pub fn matches(&self, labels: &(impl LabelSet + ?Sized)) -> bool {
        self.labels.iter().all(|(k, v)| v.is_some() && labels.label(k) == *v)
            && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether `labels` meet every requirement but the `matchLabels` pair of `key`.
    pub fn matches_except(&self, key: &str, labels: &(impl LabelSet + ?Sized)) -> bool {
        self.labels.iter().filter(|(k, _)| *k != key).all(|(k, v)| v.is_some() && labels.label(k) == *v)
            && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// The `matchLabels` pairs, as written (`None`: not a string).
    pub fn pairs(&self) -> &[(&'a str, Option<&'a str>)] {
        &self.labels
    }

    pub fn requirements(&self) -> &[Requirement<'a>] {
        &self.requirements
    }
}

/// Labels a selector is asked about: a pod template's or a Service's
/// ([`Labels`]), or a map built for one question.
pub trait LabelSet: std::fmt::Debug {
    /// The value of label `key`, if the set has it.
    fn label(&self, key: &str) -> Option<&str>;
}

impl LabelSet for BTreeMap<String, String> {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl LabelSet for Labels {
    fn label(&self, key: &str) -> Option<&str> {
        self.get(key)
    }
}

/// The labels of a pod template or a Service, kept by the index for the
/// whole run: sorted by key, each key once, strings of up to 24 bytes
/// inline. A `BTreeMap` of copies took about 600 bytes for one label; this
/// takes 64 (a million objects' index held 120 MB of them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Box<[(Str, Str)]>);

impl Labels {
    pub fn get(&self, key: &str) -> Option<&str> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(self.0[i].1.as_str())
    }

    /// The labels in order of key.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &str)> + ExactSizeIterator {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The label at place `i` in order of key.
    pub fn nth(&self, i: usize) -> Option<(&str, &str)> {
        self.0.get(i).map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// As a `BTreeMap` collects: of a key given twice, the last value stays.
impl<K: AsRef<str>, V: AsRef<str>> FromIterator<(K, V)> for Labels {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Labels {
        let mut all: Vec<(Str, Str)> =
            pairs.into_iter().map(|(k, v)| (Str::from(k.as_ref()), Str::from(v.as_ref()))).collect();
        // Stable: reversed first, the last of a key comes first and stays.
        all.reverse();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all.dedup_by(|later, first| later.0 == first.0);
        Labels(all.into_boxed_slice())
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = (&'a str, &'a str);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (Str, Str)>, fn(&'a (Str, Str)) -> (&'a str, &'a str)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<'a> Requirement<'a> {
    pub fn of(entry: &'a Value) -> Requirement<'a> {
        let written = entry.get("operator").and_then(Value::as_str).unwrap_or("");
        let operator = match written {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            _ => Operator::Invalid,
        };
        Requirement {
            key: entry.get("key").and_then(Value::as_str).unwrap_or(""),
            operator,
            written,
            values: entry
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect(),
        }
    }

    fn invalid() -> Requirement<'a> {
        Requirement { key: "", operator: Operator::Invalid, written: "", values: Vec::new() }
    }

    pub fn matches(&self, labels: &(impl LabelSet + ?Sized)) -> bool {
        let have = labels.label(self.key);
        match self.operator {
            Operator::In => have.is_some_and(|v| self.values.contains(&v)),
            Operator::NotIn => have.is_none_or(|v| !self.values.contains(&v)),
            Operator::Exists => have.is_some(),
            Operator::DoesNotExist => have.is_none(),
            Operator::Invalid => false,
        }
    }
}

/// Why a label selector selects no pod template of `ns`: the first
/// `matchLabels` pair no pod has, with the closest value pods do have.
pub fn selector_hint(cx: &Manifests, ns: &str, selector: &Selector) -> String {
    hint_among(&cx.index.selected(ns, &Selector::default()), ns, selector)
}

/// Why `selector` selects none of the pod templates of `pool` (all of a
/// namespace, or those of one Service), which `place` names: the first
/// `matchLabels` pair no template of the pool has. A value is suggested
/// only when the selector, with it instead, selects a template of the pool:
/// a hint toward another app's pods would break what now merely fails.
pub fn hint_among(pool: &[&PodTemplate], place: &str, selector: &Selector) -> String {
    for (k, v) in selector.pairs() {
        let v = v.unwrap_or("");
        if pool.iter().any(|t| t.labels.get(k) == Some(v)) {
            continue;
        }
        let values: BTreeSet<&str> = pool.iter().filter_map(|t| t.labels.get(k)).collect();
        let fitting = values
            .iter()
            .copied()
            .filter(|s| pool.iter().any(|t| t.labels.get(k) == Some(*s) && selector.matches_except(k, &t.labels)));
        return match crate::diag::did_you_mean(v, fitting) {
            Some(s) => format!("no pod of {place} has {k}={v}; did you mean {k}={s}?"),
            None if values.is_empty() => format!("no pod template of {place} has the label {k}"),
            None => format!("no pod of {place} has {k}={v}; pods there have {k}={}", crate::diag::some_of(values, 8).0),
        };
    }
    // Every pair is on some pod, but no pod has them all: what the pods
    // holding all pairs but one have in place of the last.
    let pairs = selector.pairs();
    let holds = |t: &PodTemplate, k: &str, v: Option<&str>| t.labels.get(k) == Some(v.unwrap_or(""));
    if pairs.len() > 1 {
        for t in pool {
            let missing: Vec<&(&str, Option<&str>)> = pairs.iter().filter(|(k, v)| !holds(t, k, *v)).collect();
            let [(k, v)] = missing[..] else { continue };
            let others: Vec<String> =
                pairs.iter().filter(|(o, _)| o != k).map(|(o, w)| format!("{o}={}", w.unwrap_or(""))).collect();
            let v = v.unwrap_or("");
            return match t.labels.get(k) {
                Some(have) => format!("pods of {place} with {} have {k}={have}, not {k}={v}", others.join(",")),
                None => format!("pods of {place} with {} have no label {k}", others.join(",")),
            };
        }
    }
    format!("no pod template of {place} has labels matching this selector")
}

#[cfg(test)]
mod tests {
    use crate::model::value::value as json;

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn match_labels_and_expressions_must_all_hold() {
        let v = json!({"matchLabels": {"app": "api"}, "matchExpressions": [
            {"key": "track", "operator": "NotIn", "values": ["canary"]},
            {"key": "tier", "operator": "Exists"}]});
        let s = Selector::of(&v);
        assert!(s.matches(&labels(&[("app", "api"), ("tier", "web")])));
        assert!(!s.matches(&labels(&[("app", "api"), ("tier", "web"), ("track", "canary")])));
        assert!(!s.matches(&labels(&[("app", "api")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("tier", "web")])));
    }

    #[test]
    fn every_operator() {
        let l = labels(&[("a", "1")]);
        let holds = |op: &str, values: Value| {
            Selector::of(&json!({"matchExpressions": [{"key": "a", "operator": op, "values": values}]})).matches(&l)
        };
        assert!(holds("In", json!(["1", "2"])));
        assert!(!holds("In", json!(["2"])));
        assert!(holds("NotIn", json!(["2"])));
        assert!(!holds("NotIn", json!(["1"])));
        assert!(holds("Exists", json!(null)));
        assert!(!holds("DoesNotExist", json!(null)));
        assert!(!holds("Gt", json!(["0"])), "unknown operators hold for nothing");
    }

    #[test]
    fn empty_selects_everything_and_malformed_parts_nothing() {
        for empty in [json!({}), json!({"matchLabels": null}), json!({"matchLabels": {}, "matchExpressions": []})] {
            let s = Selector::of(&empty);
            assert!(s.is_empty() && s.matches(&labels(&[("x", "y")])), "{empty}");
        }
        for bad in
            [json!({"matchLabels": "app=api"}), json!({"matchExpressions": {}}), json!({"matchLabels": {"a": 1}})]
        {
            let s = Selector::of(&bad);
            assert!(!s.is_empty() && !s.matches(&labels(&[("a", "1"), ("app", "api")])), "{bad}");
        }
    }

    #[test]
    fn a_selector_one_label_off_says_what_the_closest_pods_have() {
        let pod = |pairs: &[(&str, &str)]| PodTemplate {
            object: 0,
            labels: pairs.iter().copied().collect(),
            by_operator: false,
        };
        let (api, worker, bare) = (
            pod(&[("app", "api"), ("tier", "backend")]),
            pod(&[("app", "worker"), ("tier", "web")]),
            pod(&[("app", "api")]),
        );
        // app=api and tier=web are each on a pod, never on the same one.
        let v = json!({"matchLabels": {"app": "api", "tier": "web"}});
        let s = Selector::of(&v);
        assert_eq!(
            hint_among(&[&api, &worker], "shop", &s),
            "pods of shop with app=api have tier=backend, not tier=web"
        );
        assert_eq!(hint_among(&[&bare, &worker], "shop", &s), "pods of shop with app=api have no label tier");
        // Two labels off on every pod: nothing closer to say.
        let v = json!({"matchLabels": {"app": "api", "tier": "web", "track": "stable"}});
        let far = Selector::of(&v);
        let stable = pod(&[("app", "worker"), ("track", "stable")]);
        assert_eq!(
            hint_among(&[&api, &worker, &stable], "shop", &far),
            "no pod template of shop has labels matching this selector"
        );
    }

    #[test]
    fn plain_label_maps() {
        let v = json!({"app": "api"});
        let s = Selector::of_labels(v.as_object().expect("a map"));
        assert!(s.matches(&labels(&[("app", "api"), ("x", "y")])));
        assert_eq!(s.pairs(), [("app", Some("api"))]);
    }

    #[test]
    fn labels_are_kept_sorted_with_the_last_value_of_a_key_and_select_as_a_map_does() {
        let pairs = [("tier", "web"), ("app", "api"), ("tier", "backend"), ("zone", "a")];
        let kept: Labels = pairs.iter().copied().collect();
        let map: BTreeMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(
            kept.iter().collect::<Vec<_>>(),
            map.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>()
        );
        assert_eq!(
            (kept.get("tier"), kept.get("app"), kept.get("nope"), kept.len()),
            (Some("backend"), Some("api"), None, 3)
        );
        for v in [
            json!({"matchLabels": {"tier": "backend"}}),
            json!({"matchLabels": {"tier": "web"}}),
            json!({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}),
            json!({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}),
        ] {
            let s = Selector::of(&v);
            assert_eq!(s.matches(&kept), s.matches(&map), "{v}");
        }
        assert!(Labels::default().is_empty() && kept.get("x").is_none());
    }
}
