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
use super::selector::{Labels, Selector};
use super::value::Str;

/// A pod template and the labels its pods get (or a Service and its own
/// labels). For pods an operator makes from a custom resource
/// ([`super::operators`]), `object` is the resource, which has no pod spec.
#[derive(Debug)]
pub struct PodTemplate {
    pub object: usize,
    pub labels: Labels,
    /// Made by an operator: its containers and ports are not known.
    pub by_operator: bool,
}

#[derive(Debug, Default)]
pub struct Index<'a> {
    objects: &'a [Object],
    /// Every object, sorted by (kind, namespace, name), then by place:
    /// 8 bytes an object (a map keyed by copies of the names took 250).
    by_name: Vec<usize>,
    /// Namespaced objects written without a namespace, by (kind, name): they
    /// land wherever the set is applied (`kubectl apply -n`), so a reference
    /// from any namespace may mean them (see [`Index::named`]).
    floating: Vec<usize>,
    by_kind: HashMap<String, Vec<usize>>,
    /// Every pod template, in object order.
    pub templates: Vec<PodTemplate>,
    /// (namespace, label key, label value) → indexes into `templates`.
    by_label: HashMap<(Str, Str, Str), Vec<usize>>,
    /// namespace → indexes into `templates`.
    by_ns: HashMap<String, Vec<usize>>,
    /// Every core `Service` with its own labels (`metadata.labels`, which a
    /// ServiceMonitor selects on), in object order.
    pub services: Vec<PodTemplate>,
    /// (namespace, label key, label value) → indexes into `services`.
    services_by_label: HashMap<(Str, Str, Str), Vec<usize>>,
    /// namespace → indexes into `services`.
    services_by_ns: BTreeMap<String, Vec<usize>>,
    empty: Vec<usize>,
}

/// An object's place among names: kind, namespace (none for a
/// cluster-scoped kind), name.
fn name_key(o: &Object) -> (&str, &str, &str) {
    (&o.kind, o.ns(), &o.name)
}

/// `o`'s place among names against (`kind`, `ns`, `name`), `scoped`
/// saying whether `kind` is cluster-scoped: the namespace is compared only
/// between objects of one kind (a lookup compares about 17 objects of
/// 100,000, and finding out whether a kind is cluster-scoped each time
/// showed in profiles).
fn cmp_name(o: &Object, kind: &str, scoped: bool, ns: &str, name: &str) -> std::cmp::Ordering {
    o.kind.as_str().cmp(kind).then_with(|| {
        let own = if scoped { "" } else { o.namespace.as_deref().unwrap_or("default") };
        own.cmp(ns).then_with(|| o.name.as_str().cmp(name))
    })
}

impl<'a> Index<'a> {
    /// The index of `objects`, with the pods the operators of `makers`
    /// create for their resources among them.
    pub fn build(objects: &'a [Object], makers: &[PodMaker]) -> Index<'a> {
        let mut ix = Index { objects, ..Index::default() };
        ix.by_name = (0..objects.len()).collect();
        // Stable: of one name, the first written stays first.
        ix.by_name.sort_by(|&a, &b| name_key(&objects[a]).cmp(&name_key(&objects[b])));
        ix.floating = (0..objects.len())
            .filter(|&i| objects[i].namespace.is_none() && !cluster_scoped(&objects[i].kind))
            .collect();
        ix.floating.sort_by(|&a, &b| (&objects[a].kind, &objects[a].name).cmp(&(&objects[b].kind, &objects[b].name)));
        for (i, o) in objects.iter().enumerate() {
            ix.by_kind.entry(o.kind.to_string()).or_default().push(i);
            if o.kind == "Service" && o.group().is_empty() {
                let labels = string_map(o.labels());
                let s = ix.services.len();
                for (k, v) in &labels {
                    ix.services_by_label.entry((o.ns().into(), k.into(), v.into())).or_default().push(s);
                }
                ix.services_by_ns.entry(o.ns().to_string()).or_default().push(s);
                ix.services.push(PodTemplate { object: i, labels, by_operator: false });
            }
            let (object, labels, by_operator) = if let Some(pod) = Pod::of(objects, i) {
                let (_, labels_ptr) = pods::template_pointers(&o.kind).unwrap_or(("", ""));
                (pod.object, string_map(o.value.at(labels_ptr).and_then(Value::as_object)), false)
            } else if let Some(maker) = maker_of(makers, o) {
                (i, maker.labels(o).into_iter().collect(), true)
            } else {
                continue;
            };
            let t = ix.templates.len();
            for (k, v) in &labels {
                ix.by_label.entry((o.ns().into(), k.into(), v.into())).or_default().push(t);
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
        let found = equal_range(&self.by_name, |i| cmp_name(&self.objects[i], kind, scoped, ns, name));
        if !found.is_empty() || scoped {
            return found;
        }
        equal_range(&self.floating, |i| {
            (self.objects[i].kind.as_str(), self.objects[i].name.as_str()).cmp(&(kind, name))
        })
    }

    pub fn get(&self, kind: &str, ns: &str, name: &str) -> Option<usize> {
        self.named(kind, ns, name).first().copied()
    }

    /// The objects of each (kind, namespace, name), in order of place.
    pub fn names(&self) -> impl Iterator<Item = &[usize]> {
        self.by_name.chunk_by(|&a, &b| name_key(&self.objects[a]) == name_key(&self.objects[b]))
    }

    pub fn of_kind(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map_or(&self.empty, Vec::as_slice)
    }

    /// Pod templates in `ns` that a selector selects (an empty selector
    /// selects every template of the namespace).
    pub fn selected<'s>(&'s self, ns: &str, selector: &Selector) -> Vec<&'s PodTemplate> {
        self.select(&self.by_label, self.by_ns.get(ns), &self.templates, ns, selector)
    }

    /// Candidates from the rarest `matchLabels` pair (or the whole
    /// namespace), then the selector's own test.
    fn select<'s>(
        &self,
        by_label: &HashMap<(Str, Str, Str), Vec<usize>>,
        in_ns: Option<&Vec<usize>>,
        all: &'s [PodTemplate],
        ns: &str,
        selector: &Selector,
    ) -> Vec<&'s PodTemplate> {
        let mut smallest: Option<&[usize]> = None;
        for (k, v) in selector.pairs() {
            let Some(v) = v else { return Vec::new() };
            let list =
                by_label.get(&(Str::from(ns), Str::from(*k), Str::from(*v))).map_or(&self.empty[..], Vec::as_slice);
            if smallest.is_none_or(|s| list.len() < s.len()) {
                smallest = Some(list);
            }
        }
        let candidates = smallest.unwrap_or_else(|| in_ns.map_or(&self.empty[..], Vec::as_slice));
        candidates.iter().map(|&t| &all[t]).filter(|t| selector.matches(&t.labels)).collect()
    }
}

impl Index<'_> {
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

/// The items of sorted `list` that `cmp` finds equal.
fn equal_range(list: &[usize], cmp: impl Fn(usize) -> std::cmp::Ordering) -> &[usize] {
    let start = list.partition_point(|&i| cmp(i).is_lt());
    let len = list[start..].partition_point(|&i| cmp(i).is_le());
    &list[start..start + len]
}

/// The string entries of a label map.
fn string_map(m: Option<&crate::model::value::Map>) -> Labels {
    m.map(|m| m.iter().filter_map(|(k, v)| Some((k, v.as_str()?))).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::load::tests::load_str;

    #[test]
    fn names_are_found_by_kind_namespace_and_name_with_duplicates_in_order() {
        let l = load_str(
            "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a, namespace: x}\n---\n\
             kind: ConfigMap\napiVersion: v1\nmetadata: {name: a, namespace: y}\n---\n\
             kind: Secret\napiVersion: v1\nmetadata: {name: a, namespace: x}\n---\n\
             kind: ConfigMap\napiVersion: v1\nmetadata: {name: a, namespace: x}\n---\n\
             kind: ConfigMap\napiVersion: v1\nmetadata: {name: loose}\n---\n\
             kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata: {name: a}\n",
        );
        let ix = Index::build(&l.objects, &[]);
        assert_eq!(ix.named("ConfigMap", "x", "a"), [0, 3], "both, the first written first");
        assert_eq!(ix.named("ConfigMap", "y", "a"), [1]);
        assert_eq!(ix.named("Secret", "x", "a"), [2]);
        assert_eq!(ix.named("Secret", "y", "a"), [] as [usize; 0]);
        assert_eq!(ix.named("ConfigMap", "x", "b"), [] as [usize; 0]);
        // Written without a namespace: in `default`, and found from any other.
        assert_eq!(ix.named("ConfigMap", "default", "loose"), [4]);
        assert_eq!(ix.named("ConfigMap", "z", "loose"), [4]);
        assert_eq!(ix.named("Secret", "z", "loose"), [] as [usize; 0]);
        // Cluster-scoped: the namespace asked for does not matter.
        assert_eq!(ix.named("ClusterRole", "x", "a"), [5]);
        let groups: Vec<&[usize]> = ix.names().collect();
        assert_eq!(groups.len(), 5, "{groups:?}");
        assert!(groups.contains(&&[0, 3][..]));
    }
}
