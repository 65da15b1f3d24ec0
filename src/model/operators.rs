//! Custom resources whose operator creates pods, and the labels those pods
//! get: a PodDisruptionBudget, NetworkPolicy or Service written for a
//! Prometheus selects pods that no template of the set shows. The index
//! ([`super::Index`]) adds one template per such resource, so every check
//! that selects pods, `reach` and `graph` see them.
//!
//! The table is the operators' documented (and stable: changing it would
//! orphan running pods) pod labels; `.kubeproof.yaml` extends it
//! (`operators:`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use crate::model::Value;
use serde::Deserialize;

use super::At;
use super::Object;

/// A kind of custom resource that makes pods, and where their labels come from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodMaker {
    /// The resource's API group, e.g. `monitoring.coreos.com`.
    pub group: String,
    pub kind: String,
    /// Labels the operator sets on every pod; `{name}` stands for the
    /// resource's name.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// A JSON pointer to a label map in the resource that the operator copies
    /// onto the pods, e.g. `/spec/podMetadata/labels`.
    #[serde(default)]
    pub pod_labels: Option<String>,
}

impl PodMaker {
    fn of(group: &str, kind: &str, labels: &[(&str, &str)], pod_labels: Option<&str>) -> PodMaker {
        PodMaker {
            group: group.to_string(),
            kind: kind.to_string(),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            pod_labels: pod_labels.map(str::to_string),
        }
    }

    pub fn makes(&self, o: &Object) -> bool {
        o.kind == self.kind && o.group() == self.group
    }

    /// The labels the pods of resource `o` get: the operator's own over the
    /// ones the resource asks for (the operator sets its own last).
    pub fn labels(&self, o: &Object) -> BTreeMap<String, String> {
        let mut out: BTreeMap<String, String> = self
            .pod_labels
            .as_deref()
            .and_then(|p| o.value.at(p))
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
            .collect();
        for (k, v) in &self.labels {
            out.insert(k.clone(), v.replace("{name}", &o.name));
        }
        out
    }
}

const MANAGED: (&str, &str) = ("app.kubernetes.io/managed-by", "prometheus-operator");
const INSTANCE: (&str, &str) = ("app.kubernetes.io/instance", "{name}");
const POD_METADATA: Option<&str> = Some("/spec/podMetadata/labels");

/// The operators every run knows.
pub static BUILTIN: LazyLock<Vec<PodMaker>> = LazyLock::new(|| {
    let prom = "monitoring.coreos.com";
    vec![
        // The Prometheus Operator; shard 0 is the one every resource has.
        PodMaker::of(
            prom,
            "Prometheus",
            &[
                ("app.kubernetes.io/name", "prometheus"),
                MANAGED,
                INSTANCE,
                ("prometheus", "{name}"),
                ("operator.prometheus.io/name", "{name}"),
                ("operator.prometheus.io/shard", "0"),
            ],
            POD_METADATA,
        ),
        PodMaker::of(
            prom,
            "PrometheusAgent",
            &[
                ("app.kubernetes.io/name", "prometheus-agent"),
                MANAGED,
                INSTANCE,
                ("operator.prometheus.io/name", "{name}"),
                ("operator.prometheus.io/shard", "0"),
            ],
            POD_METADATA,
        ),
        PodMaker::of(
            prom,
            "Alertmanager",
            &[("app.kubernetes.io/name", "alertmanager"), MANAGED, INSTANCE, ("alertmanager", "{name}")],
            POD_METADATA,
        ),
        PodMaker::of(
            prom,
            "ThanosRuler",
            &[("app.kubernetes.io/name", "thanos-ruler"), MANAGED, INSTANCE, ("thanos-ruler", "{name}")],
            POD_METADATA,
        ),
        // CloudNativePG: every instance of a cluster.
        PodMaker::of(
            "postgresql.cnpg.io",
            "Cluster",
            &[("cnpg.io/cluster", "{name}")],
            Some("/spec/inheritedMetadata/labels"),
        ),
        // Strimzi: the brokers (and ZooKeeper) of a Kafka cluster.
        PodMaker::of(
            "kafka.strimzi.io",
            "Kafka",
            &[("strimzi.io/cluster", "{name}"), ("strimzi.io/kind", "Kafka")],
            None,
        ),
        // The RabbitMQ cluster operator.
        PodMaker::of(
            "rabbitmq.com",
            "RabbitmqCluster",
            &[
                ("app.kubernetes.io/name", "{name}"),
                ("app.kubernetes.io/component", "rabbitmq"),
                ("app.kubernetes.io/part-of", "rabbitmq"),
            ],
            None,
        ),
    ]
});

/// The maker of `o`'s pods among `makers`, if `o` is such a resource.
pub fn maker_of<'a>(makers: &'a [PodMaker], o: &Object) -> Option<&'a PodMaker> {
    makers.iter().find(|m| m.makes(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prometheus_pods_carry_the_operators_labels_over_its_own() {
        let text = "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: { name: main, namespace: mon }\n\
                    spec: { podMetadata: { labels: { team: ops, prometheus: mine } } }";
        let mut loaded = super::super::Loaded::default();
        super::super::load::add_source(&mut loaded, super::super::Source { name: "p.yaml".into(), text: text.into() });
        let o = &loaded.objects[0];
        let m = maker_of(&BUILTIN, o).expect("a Prometheus makes pods");
        let labels = m.labels(o);
        assert_eq!(labels.get("team").map(String::as_str), Some("ops"));
        assert_eq!(labels.get("prometheus").map(String::as_str), Some("main"), "the operator's label wins");
        assert_eq!(labels.get("operator.prometheus.io/name").map(String::as_str), Some("main"));
        assert_eq!(labels.get("app.kubernetes.io/name").map(String::as_str), Some("prometheus"));
    }
}
