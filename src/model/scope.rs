//! What the checked set shows of the cluster: checks about selectors speak
//! only where the set holds the pods (or the operators' resources that make
//! them), and stay silent elsewhere.

use std::collections::HashSet;

use super::Manifests;
use super::selector::Selector;

/// Namespaces with at least one pod template in the checked set: checks
/// about selectors stay silent elsewhere (the workloads are not checked).
pub fn namespaces_with_pods<'a>(cx: &'a Manifests) -> HashSet<&'a str> {
    cx.index.templates.iter().map(|t| cx.objects[t.object].ns()).collect()
}

/// Custom resources of the set, by (namespace, name): operators create pods
/// for them (a Prometheus, a Kafka cluster, a Postgres cluster) whose labels
/// carry the resource's name, so selectors naming one may match pods that no
/// template of the set shows.
pub fn custom_resources<'a>(cx: &'a Manifests) -> HashSet<(&'a str, &'a str)> {
    cx.objects
        .iter()
        .filter(|o| {
            let g = o.group();
            // kubeproof's stand-ins for rule and dashboard files make no pods.
            g.contains('.')
                && !g.ends_with(".k8s.io")
                && g != "kustomize.config.k8s.io"
                && o.api_version != super::load::files::FILE_API
        })
        .map(|o| (o.ns(), o.name.as_str()))
        .collect()
}

/// Whether a selector (its `matchLabels` values) names a custom resource of
/// namespace `ns`: its pods are then made by an operator.
pub fn names_custom_resource(crs: &HashSet<(&str, &str)>, ns: &str, selector: &Selector) -> bool {
    !crs.is_empty() && selector.pairs().iter().any(|(_, v)| v.is_some_and(|v| crs.contains(&(ns, v))))
}
