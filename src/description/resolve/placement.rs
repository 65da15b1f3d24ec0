//! Placement, vertical scaling and metadata of a service or datastore
//! (see [`crate::description::placement`]), checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Cx, NamespaceMeta, Placement, VpaR};
use crate::description::placement::{Affinity, NodeOperator, NodeSelectorTerm, PodAffinity};
use crate::description::validate::{is_label_value, is_qualified_key};
use crate::description::value::pos_of;
use crate::description::{Name, Platform, Toleration, Vpa, VpaMode};
use crate::diag::{Diagnostic, Pos};

/// The placement fields as a service or a datastore writes them.
pub(super) struct Written<'a> {
    pub node_selector: &'a Option<BTreeMap<Name, String>>,
    pub tolerations: &'a Option<Vec<Toleration>>,
    pub affinity: &'a Option<Affinity>,
    pub priority_class: &'a Option<Name>,
    pub vpa: &'a Option<Vpa>,
    pub labels: &'a Option<BTreeMap<Name, String>>,
    pub annotations: &'a Option<BTreeMap<Name, String>>,
}

macro_rules! written {
    ($s:expr) => {
        super::placement::Written {
            node_selector: &$s.node_selector,
            tolerations: &$s.tolerations,
            affinity: &$s.affinity,
            priority_class: &$s.priority_class,
            vpa: &$s.vpa,
            labels: &$s.labels,
            annotations: &$s.annotations,
        }
    };
}
pub(super) use written;

/// Labels kubeproof sets on every workload and pod: selectors, network and
/// mesh policies, monitors and budgets select by them, so a description
/// cannot change them.
pub const OWN_LABELS: [&str; 5] = [
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
    "track",
];

impl Cx<'_> {
    /// `hpa_on_resources`: an HPA scales the workload on cpu or memory.
    pub(super) fn placement(&mut self, w: Written, hpa_on_resources: bool) -> Placement {
        let node_selector = self.label_map(w.node_selector, "nodeSelector", false);
        for t in w.tolerations.iter().flatten() {
            self.toleration(t);
        }
        if let Some(a) = w.affinity {
            self.affinity(a);
        }
        Placement {
            node_selector,
            tolerations: w.tolerations.clone().unwrap_or_default(),
            affinity: w.affinity.clone(),
            priority_class: w.priority_class.as_ref().map(|p| p.to_string()),
            vpa: w.vpa.as_ref().map(|v| self.vpa(v, hpa_on_resources)),
            labels: self.label_map(w.labels, "labels", true),
            annotations: self.annotations(w.annotations),
        }
    }

    /// Label keys and values; `own`: kubeproof's labels are refused.
    fn label_map(&mut self, m: &Option<BTreeMap<Name, String>>, what: &str, own: bool) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, v) in m.iter().flatten() {
            if !is_qualified_key(k) {
                let help = "an optional DNS prefix and `/`, then at most 63 letters, digits, '-', '_' and '.'";
                self.err(k.pos(), format!("{what}: invalid key `{k}`"), Some(help.into()));
            }
            if !is_label_value(v) {
                let help = "at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit";
                self.err(k.pos(), format!("{what}: invalid value `{v}` of `{k}`"), Some(help.into()));
            }
            if own && OWN_LABELS.contains(&k.as_str()) {
                let help =
                    "kubeproof's selectors, policies and monitors select by it; use a key of your own, e.g. `team`";
                self.err(k.pos(), format!("label `{k}` is kubeproof's own"), Some(help.into()));
            }
            out.insert(k.to_string(), v.clone());
        }
        out
    }

    fn annotations(&mut self, m: &Option<BTreeMap<Name, String>>) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (k, v) in m.iter().flatten() {
            if !is_qualified_key(k) {
                let help = "an optional DNS prefix and `/`, then at most 63 letters, digits, '-', '_' and '.'";
                self.err(k.pos(), format!("annotations: invalid key `{k}`"), Some(help.into()));
            }
            if k.starts_with("kubeproof.dev/") {
                let help = "kubeproof writes the `kubeproof.dev/` annotations (the config hash that rolls the pods)";
                self.err(k.pos(), format!("annotation `{k}` is kubeproof's own"), Some(help.into()));
            }
            out.insert(k.to_string(), v.clone());
        }
        out
    }

    fn toleration(&mut self, t: &Toleration) {
        use crate::description::placement::{TaintEffect, TolerationOperator};
        if t.operator == Some(TolerationOperator::Exists) && t.value.is_some() {
            let help = "remove `value`, or use `operator: Equal`";
            self.err(Pos::UNKNOWN, "toleration: `operator: Exists` takes no `value`", Some(help.into()));
        }
        if t.key.is_none() && t.operator != Some(TolerationOperator::Exists) {
            let help = "name the taint's `key`, or write `operator: Exists` to tolerate every taint";
            self.err(Pos::UNKNOWN, "toleration: no `key`", Some(help.into()));
        }
        if t.toleration_seconds.is_some() && t.effect != Some(TaintEffect::NoExecute) {
            let help = "`tolerationSeconds` is how long a pod stays on a NoExecute taint: add `effect: NoExecute`";
            self.err(Pos::UNKNOWN, "toleration: `tolerationSeconds` without `effect: NoExecute`", Some(help.into()));
        }
    }

    fn affinity(&mut self, a: &Affinity) {
        if let Some(n) = &a.node_affinity {
            let required = n.required_during_scheduling_ignored_during_execution.iter();
            for term in required.flat_map(|r| r.node_selector_terms.iter()) {
                self.node_term(term);
            }
            for p in n.preferred_during_scheduling_ignored_during_execution.iter().flatten() {
                self.weight(p.weight);
                self.node_term(&p.preference);
            }
        }
        for p in [&a.pod_affinity, &a.pod_anti_affinity].into_iter().flatten() {
            self.pod_affinity(p);
        }
    }

    fn node_term(&mut self, t: &NodeSelectorTerm) {
        for r in t.match_expressions.iter().chain(&t.match_fields).flatten() {
            let n = r.values.as_ref().map_or(0, Vec::len);
            let ok = match r.operator {
                NodeOperator::In | NodeOperator::NotIn => n > 0,
                NodeOperator::Exists | NodeOperator::DoesNotExist => n == 0,
                NodeOperator::Gt | NodeOperator::Lt => {
                    n == 1 && r.values.iter().flatten().all(|v| v.parse::<i64>().is_ok())
                }
            };
            if !ok {
                let help = "`In` and `NotIn` take values, `Exists` and `DoesNotExist` none, `Gt` and `Lt` one integer";
                let m = format!("affinity: {:?} on `{}` with {n} value(s)", r.operator, r.key);
                self.err(Pos::UNKNOWN, m, Some(help.into()));
            }
        }
    }

    fn pod_affinity(&mut self, p: &PodAffinity) {
        let required = p.required_during_scheduling_ignored_during_execution.iter().flatten();
        let preferred = p.preferred_during_scheduling_ignored_during_execution.iter().flatten();
        for w in preferred.clone() {
            self.weight(w.weight);
        }
        for t in required.chain(preferred.map(|w| &w.pod_affinity_term)) {
            if t.topology_key.is_empty() {
                let help = "e.g. `kubernetes.io/hostname` or `topology.kubernetes.io/zone`";
                self.err(Pos::UNKNOWN, "affinity: a pod affinity term with an empty `topologyKey`", Some(help.into()));
            }
        }
    }

    fn weight(&mut self, w: i32) {
        if !(1..=100).contains(&w) {
            self.err(Pos::UNKNOWN, format!("affinity: weight {w} is not between 1 and 100"), None);
        }
    }

    /// The VPA, refusing what fights the HPA.
    fn vpa(&mut self, v: &Vpa, hpa_on_resources: bool) -> VpaR {
        let mode = v.mode.as_ref().map_or(VpaMode::Off, |m| m.value);
        let pos = v.mode.as_ref().map_or(Pos::UNKNOWN, |m| pos_of(&m.referenced));
        if mode == VpaMode::Auto && hpa_on_resources {
            let help = "use `mode: off` (recommendations) or `initial`, or scale the HPA on a custom metric only";
            let m = format!(
                "`{}`: `vpa: {{ mode: auto }}` with an HPA on cpu or memory: they fight — the VPA raises requests \
                 when usage is high, which lowers the utilisation the HPA scales on, so it removes replicas, and \
                 the rest get busier",
                self.name
            );
            self.err(pos, m, Some(help.into()));
        }
        let min = v.min_allowed.unwrap_or_default();
        let max = v.max_allowed.unwrap_or_default();
        let cpu_inverted = matches!((min.cpu, max.cpu), (Some(a), Some(b)) if a.millis() > b.millis());
        let memory_inverted = matches!((min.memory, max.memory), (Some(a), Some(b)) if a.get() > b.get());
        if cpu_inverted || memory_inverted {
            self.err(pos, format!("`{}`: vpa `minAllowed` is above `maxAllowed`", self.name), None);
        }
        VpaR { mode, min, max }
    }
}

/// Labels of a Namespace kubeproof sets: Pod Security, mesh injection, the
/// name the network policies select it by, its own.
fn namespace_own(key: &str) -> bool {
    key.starts_with("pod-security.kubernetes.io/")
        || matches!(
            key,
            "istio-injection"
                | "istio.io/rev"
                | "kubernetes.io/metadata.name"
                | "app.kubernetes.io/part-of"
                | "app.kubernetes.io/managed-by"
        )
}

/// `namespaces:`, checked: each one the platform uses, valid keys and
/// values, none of kubeproof's own labels.
pub(super) fn namespaces(
    p: &Platform,
    used: &BTreeSet<&str>,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> BTreeMap<String, NamespaceMeta> {
    let mut err = |pos: Pos, m: String, help: &str| {
        let mut d = Diagnostic::error(file, pos, m);
        d.help = Some(help.to_string());
        errors.push(d);
    };
    let mut out = BTreeMap::new();
    for (ns, meta) in &p.namespaces {
        if !used.contains(ns.as_str()) {
            let list: Vec<&str> = used.iter().copied().collect();
            let help = format!("the namespaces it writes: {}", list.join(", "));
            err(ns.pos(), format!("namespace `{ns}` holds nothing of the platform"), &help);
        }
        for (k, v) in meta.labels.iter().flatten() {
            if !is_qualified_key(k) || !is_label_value(v) {
                let help = "a key is an optional DNS prefix and `/` then a name; a value at most 63 letters, \
                            digits, '-', '_' and '.'";
                err(k.pos(), format!("namespace `{ns}`: invalid label `{k}: {v}`"), help);
            }
            if namespace_own(k) {
                let help = "kubeproof sets it (Pod Security, mesh injection, the name policies select by)";
                err(k.pos(), format!("namespace `{ns}`: label `{k}` is kubeproof's own"), help);
            }
        }
        for k in meta.annotations.iter().flatten().map(|(k, _)| k).filter(|k| !is_qualified_key(k)) {
            let help = "an optional DNS prefix and `/`, then at most 63 letters, digits, '-', '_' and '.'";
            err(k.pos(), format!("namespace `{ns}`: invalid annotation key `{k}`"), help);
        }
        let map = |m: &Option<BTreeMap<Name, String>>| -> BTreeMap<String, String> {
            m.iter().flatten().map(|(k, v)| (k.to_string(), v.clone())).collect()
        };
        out.insert(ns.to_string(), NamespaceMeta { labels: map(&meta.labels), annotations: map(&meta.annotations) });
    }
    out
}
