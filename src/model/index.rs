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
    /// namespace → its templates, by label.
    by_ns: BTreeMap<String, InNamespace>,
    /// Every core `Service` with its own labels (`metadata.labels`, which a
    /// ServiceMonitor selects on), in object order.
    pub services: Vec<PodTemplate>,
    /// namespace → its Services, by label.
    services_by_ns: BTreeMap<String, InNamespace>,
    empty: Vec<usize>,
}

/// The pod templates (or Services) of one namespace.
#[derive(Debug, Default)]
struct InNamespace {
    /// Indexes into the templates, in object order.
    all: Vec<usize>,
    /// Each label of each of them as (template, the label's place in its
    /// labels), sorted by key and value, then by template: 8 bytes a
    /// label, where a map keyed by copies of (namespace, key, value), with
    /// a list for each, took about 170 (a fifth of what a million objects'
    /// context held, past the room the budget keeps for it).
    labels: Vec<(u32, u32)>,
}

impl InNamespace {
    fn add(&mut self, t: usize, labels: &Labels) {
        self.all.push(t);
        // Within any budget, templates and labels number far below 2^32.
        let t = u32::try_from(t).unwrap_or(u32::MAX);
        self.labels.extend((0..labels.len()).map(|l| (t, u32::try_from(l).unwrap_or(u32::MAX))));
    }

    fn sort(&mut self, all: &[PodTemplate]) {
        // Stable: of one label, the templates stay in object order.
        self.labels.sort_by(|&a, &b| label(all, a).cmp(&label(all, b)));
    }

    /// The templates that have label `key` = `value`, in object order.
    fn with<'s>(&'s self, all: &[PodTemplate], key: &str, value: &str) -> impl ExactSizeIterator<Item = usize> + 's {
        let start = self.labels.partition_point(|&e| label(all, e) < (key, value));
        let len = self.labels[start..].partition_point(|&e| label(all, e) <= (key, value));
        self.labels[start..start + len].iter().map(|&(t, _)| t as usize)
    }
}

/// The label of an entry of [`InNamespace::labels`].
fn label(all: &[PodTemplate], (t, l): (u32, u32)) -> (&str, &str) {
    all.get(t as usize).and_then(|t| t.labels.nth(l as usize)).unwrap_or(("", ""))
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
                ix.services_by_ns.entry(o.ns().to_string()).or_default().add(s, &labels);
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
            ix.by_ns.entry(o.ns().to_string()).or_default().add(t, &labels);
            ix.templates.push(PodTemplate { object, labels, by_operator });
        }
        ix.by_ns.values_mut().for_each(|n| n.sort(&ix.templates));
        ix.services_by_ns.values_mut().for_each(|n| n.sort(&ix.services));
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
        select(self.by_ns.get(ns), &self.templates, selector)
    }
}

/// The templates of `in_ns` (of `all`) that `selector` selects: candidates
/// from its rarest `matchLabels` pair (or the whole namespace), then the
/// selector's own test.
fn select<'s>(in_ns: Option<&InNamespace>, all: &'s [PodTemplate], selector: &Selector) -> Vec<&'s PodTemplate> {
    let Some(in_ns) = in_ns else { return Vec::new() };
    let mut smallest: Option<(&str, &str, usize)> = None;
    for (k, v) in selector.pairs() {
        let Some(v) = v else { return Vec::new() };
        let n = in_ns.with(all, k, v).len();
        if smallest.is_none_or(|(_, _, s)| n < s) {
            smallest = Some((k, v, n));
        }
    }
    let keep = |t: usize| Some(&all[t]).filter(|t| selector.matches(&t.labels));
    match smallest {
        Some((k, v, _)) => in_ns.with(all, k, v).filter_map(keep).collect(),
        None => in_ns.all.iter().filter_map(|&t| keep(t)).collect(),
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
        select(self.services_by_ns.get(ns), &self.services, selector)
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

    #[test]
    fn templates_and_services_are_selected_by_namespace_and_labels_in_object_order() {
        let pod = |name: &str, ns: &str, labels: &str| {
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\n\
                 spec:\n  template:\n    metadata: {{labels: {labels}}}\n    spec: {{containers: [{{name: c, image: i}}]}}\n"
            )
        };
        let service = |name: &str, ns: &str, labels: &str| {
            format!("apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}, labels: {labels}}}\n")
        };
        let docs = [
            pod("a", "front", "{app: web, tier: front}"),
            pod("b", "back", "{app: web, tier: front}"),
            pod("c", "front", "{app: api, tier: back}"),
            pod("d", "front", "{app: web, tier: back}"),
            service("s", "front", "{app: web}"),
            pod("e", "front", "{app: web, tier: front, zone: a}"),
            service("t", "front", "{app: web, tier: front}"),
        ];
        let l = load_str(&docs.join("---\n"));
        let ix = Index::build(&l.objects, &[]);
        let selected = |ns: &str, selector: &str, services: bool| -> Vec<String> {
            let value = crate::model::load::tests::load_str(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: q}}\ndata: {selector}\n"
            ));
            let selector = Selector::of(value.objects[0].value.get("data").expect("the selector"));
            let found = if services { ix.services_selected(ns, &selector) } else { ix.selected(ns, &selector) };
            found.iter().map(|t| l.objects[t.object].name.to_string()).collect()
        };
        assert_eq!(selected("front", "{matchLabels: {app: web}}", false), ["a", "d", "e"]);
        assert_eq!(selected("front", "{matchLabels: {app: web, tier: front}}", false), ["a", "e"]);
        assert_eq!(selected("back", "{matchLabels: {app: web}}", false), ["b"]);
        assert_eq!(selected("front", "{matchLabels: {app: web, tier: none}}", false), [] as [&str; 0]);
        assert_eq!(selected("none", "{matchLabels: {app: web}}", false), [] as [&str; 0]);
        assert_eq!(selected("none", "{}", false), [] as [&str; 0]);
        // Without pairs: every template of the namespace, then the test.
        assert_eq!(selected("front", "{}", false), ["a", "c", "d", "e"]);
        assert_eq!(
            selected("front", "{matchExpressions: [{key: tier, operator: In, values: [back]}]}", false),
            ["c", "d"]
        );
        assert_eq!(selected("front", "{matchLabels: {tier: front}}", true), ["t"]);
        assert_eq!(selected("front", "{matchLabels: {app: web}}", true), ["s", "t"]);
        assert!(ix.has_templates("back") && !ix.has_services("back"));
        assert_eq!(ix.service_namespaces().collect::<Vec<_>>(), ["front"]);
    }
}
