//! Lookups across the checked objects, built once per run so that
//! cross-object checks cost time linear in the number of objects: objects by
//! kind and name, pod templates by namespace and label.

use super::At;
use std::collections::{BTreeMap, HashMap};

use crate::model::Value;

use super::Object;
use super::gvk::cluster_scoped;
use super::operators::{PodMaker, maker_of};
use super::pods::{self, Pod};
use super::selector::Selector;

/// A pod template and the labels its pods get (or a Service and its own
/// labels). For pods an operator makes from a custom resource
/// ([`super::operators`]), `object` is the resource, which has no pod spec.
#[derive(Debug)]
pub struct PodTemplate {
    pub object: usize,
    pub labels: BTreeMap<String, String>,
    /// Made by an operator: its containers and ports are not known.
    pub by_operator: bool,
}

#[derive(Debug, Default)]
pub struct Index {
    by_name: HashMap<(String, String, String), Vec<usize>>,
    /// Namespaced objects written without a namespace, by (kind, name): they
    /// land wherever the set is applied (`kubectl apply -n`), so a reference
    /// from any namespace may mean them (see [`Index::named`]).
    floating: HashMap<(String, String), Vec<usize>>,
    by_kind: HashMap<String, Vec<usize>>,
    /// Every pod template, in object order.
    pub templates: Vec<PodTemplate>,
    /// (namespace, label key, label value) → indexes into `templates`.
    by_label: HashMap<(String, String, String), Vec<usize>>,
    /// namespace → indexes into `templates`.
    by_ns: HashMap<String, Vec<usize>>,
    /// Every core `Service` with its own labels (`metadata.labels`, which a
    /// ServiceMonitor selects on), in object order.
    pub services: Vec<PodTemplate>,
    /// (namespace, label key, label value) → indexes into `services`.
    services_by_label: HashMap<(String, String, String), Vec<usize>>,
    /// namespace → indexes into `services`.
    services_by_ns: BTreeMap<String, Vec<usize>>,
    empty: Vec<usize>,
}

impl Index {
    /// The index of `objects`, with the pods the operators of `makers`
    /// create for their resources among them.
    pub fn build(objects: &[Object], makers: &[PodMaker]) -> Index {
        let mut ix = Index::default();
        for (i, o) in objects.iter().enumerate() {
            let ns = if cluster_scoped(&o.kind) { String::new() } else { o.ns().to_string() };
            ix.by_name.entry((o.kind.clone(), ns, o.name.clone())).or_default().push(i);
            if o.namespace.is_none() && !cluster_scoped(&o.kind) {
                ix.floating.entry((o.kind.clone(), o.name.clone())).or_default().push(i);
            }
            ix.by_kind.entry(o.kind.clone()).or_default().push(i);
            if o.kind == "Service" && o.group().is_empty() {
                let labels = string_map(o.labels());
                let s = ix.services.len();
                for (k, v) in &labels {
                    ix.services_by_label.entry((o.ns().to_string(), k.clone(), v.clone())).or_default().push(s);
                }
                ix.services_by_ns.entry(o.ns().to_string()).or_default().push(s);
                ix.services.push(PodTemplate { object: i, labels, by_operator: false });
            }
            let (object, labels, by_operator) = if let Some(pod) = Pod::of(objects, i) {
                let (_, labels_ptr) = pods::template_pointers(&o.kind).unwrap_or(("", ""));
                (pod.object, string_map(o.value.at(labels_ptr).and_then(Value::as_object)), false)
            } else if let Some(maker) = maker_of(makers, o) {
                (i, maker.labels(o), true)
            } else {
                continue;
            };
            let t = ix.templates.len();
            for (k, v) in &labels {
                ix.by_label.entry((o.ns().to_string(), k.clone(), v.clone())).or_default().push(t);
            }
            ix.by_ns.entry(o.ns().to_string()).or_default().push(t);
            ix.templates.push(PodTemplate { object, labels, by_operator });
        }
        ix
    }

    /// Objects of `kind` named `name` in namespace `ns` (ignored for
    /// cluster-scoped kinds); more than one means duplicates. Objects written
    /// without a namespace are in `default` ([`Object::ns`]) but answer for
    /// any other namespace too when nothing there has the name: applied with
    /// `kubectl apply -n ns`, they would be there. (Given `--namespace`, they
    /// have one, and this never happens.)
    pub fn named(&self, kind: &str, ns: &str, name: &str) -> &[usize] {
        let scoped = cluster_scoped(kind);
        let ns = if scoped { "" } else { ns };
        match self.by_name.get(&(kind.to_string(), ns.to_string(), name.to_string())) {
            Some(found) => found,
            None if !scoped => {
                self.floating.get(&(kind.to_string(), name.to_string())).map_or(&self.empty, Vec::as_slice)
            }
            None => &self.empty,
        }
    }

    pub fn get(&self, kind: &str, ns: &str, name: &str) -> Option<usize> {
        self.named(kind, ns, name).first().copied()
    }

    /// Every (kind, namespace, name) with its objects.
    pub fn names(&self) -> impl Iterator<Item = (&(String, String, String), &Vec<usize>)> {
        self.by_name.iter()
    }

    pub fn of_kind(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map_or(&self.empty, Vec::as_slice)
    }

    /// Pod templates in `ns` that a selector selects (an empty selector
    /// selects every template of the namespace).
    pub fn selected<'a>(&'a self, ns: &str, selector: &Selector) -> Vec<&'a PodTemplate> {
        self.select(&self.by_label, self.by_ns.get(ns), &self.templates, ns, selector)
    }

    /// Candidates from the rarest `matchLabels` pair (or the whole
    /// namespace), then the selector's own test.
    fn select<'a>(
        &self,
        by_label: &HashMap<(String, String, String), Vec<usize>>,
        in_ns: Option<&Vec<usize>>,
        all: &'a [PodTemplate],
        ns: &str,
        selector: &Selector,
    ) -> Vec<&'a PodTemplate> {
        let mut smallest: Option<&[usize]> = None;
        for (k, v) in selector.pairs() {
            let Some(v) = v else { return Vec::new() };
            let list = by_label
                .get(&(ns.to_string(), (*k).to_string(), (*v).to_string()))
                .map_or(&self.empty[..], Vec::as_slice);
            if smallest.is_none_or(|s| list.len() < s.len()) {
                smallest = Some(list);
            }
        }
        let candidates = smallest.unwrap_or_else(|| in_ns.map_or(&self.empty[..], Vec::as_slice));
        candidates.iter().map(|&t| &all[t]).filter(|t| selector.matches(&t.labels)).collect()
    }
}

impl Index {
    /// Namespaces with at least one Service in the checked set, sorted.
    pub fn service_namespaces(&self) -> impl Iterator<Item = &str> {
        self.services_by_ns.keys().map(String::as_str)
    }

    /// Whether `ns` has a Service in the checked set.
    pub fn has_services(&self, ns: &str) -> bool {
        self.services_by_ns.contains_key(ns)
    }

    /// Whether `ns` has a pod template in the checked set.
    pub fn has_templates(&self, ns: &str) -> bool {
        self.by_ns.contains_key(ns)
    }

    /// Services of `ns` whose own labels (`metadata.labels`) a selector
    /// selects, as a ServiceMonitor does; an empty selector selects every
    /// Service of the namespace.
    pub fn services_selected<'a>(&'a self, ns: &str, selector: &Selector) -> Vec<&'a PodTemplate> {
        self.select(&self.services_by_label, self.services_by_ns.get(ns), &self.services, ns, selector)
    }
}

/// The string entries of a label map.
fn string_map(m: Option<&crate::model::value::Map>) -> BTreeMap<String, String> {
    m.map(|m| m.iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))).collect())
        .unwrap_or_default()
}
