//! The values a Helm user expects to set, shaped like the description:
//! `services.NAME.image`, `.replicas`, `.resources`, `.autoscaling.
//! minReplicas`/`maxReplicas`, `.canary.…` for the canary's Deployment, and
//! `datastores.NAME.…` alike. These fields are values even where every
//! environment agrees, so that `--set services.api.image=…` works; every
//! other container holding the same image in every environment (a migration
//! Job, a backup client) takes the same value, so one `--set` moves them all.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Key, ValuePath};
use crate::generate::Object;

/// The knobs of one chart, found in its workloads.
#[derive(Default)]
pub(super) struct Knobs {
    /// Object's value name → field path → knob.
    at: BTreeMap<String, BTreeMap<String, ValuePath>>,
    /// Each workload's image knob, with its image in each variant.
    images: Vec<(ValuePath, Vec<Option<Value>>)>,
}

impl Knobs {
    pub(super) fn new(union: &[(Key, Vec<Option<&Object>>)]) -> Knobs {
        let mut knobs = Knobs::default();
        for (key, objects) in union {
            if let Some(first) = objects.iter().flatten().next() {
                knobs.add(key, first, objects);
            }
        }
        knobs
    }

    /// The knobs of one object: a workload of a service or a datastore, or
    /// a service's autoscaler.
    fn add(&mut self, key: &Key, first: &Object, objects: &[Option<&Object>]) {
        let v = &first.value;
        let label = |p: &str| v.pointer(p).and_then(Value::as_str);
        let (Some(component), Some(app)) =
            (label("/metadata/labels/app.kubernetes.io~1component"), label("/metadata/labels/app.kubernetes.io~1name"))
        else {
            return;
        };
        let group = match component {
            "service" => "services",
            "datastore" => "datastores",
            _ => return,
        };
        let mut base: ValuePath = vec![group.into(), app.into()];
        let mut at = |field: &str, knob: &[&str]| {
            let mut path = base.clone();
            path.extend(knob.iter().map(|s| s.to_string()));
            self.at.entry(key.value_name.clone()).or_default().insert(field.to_string(), path);
        };
        match first.kind.as_str() {
            "HorizontalPodAutoscaler" => {
                at("spec.minReplicas", &["autoscaling", "minReplicas"]);
                at("spec.maxReplicas", &["autoscaling", "maxReplicas"]);
                return;
            }
            "Deployment" | "StatefulSet" => {}
            _ => return,
        }
        if label("/spec/template/metadata/labels/track") == Some("canary") {
            base.push("canary".into());
        }
        let Some((main, name)) = main_container(v, app) else { return };
        // Containers are named list items: their fields' paths hold the name.
        let containers = format!("spec.template.spec.containers.{name}");
        let mut knob = |field: String, name: &str| {
            let mut path = base.clone();
            path.push(name.into());
            self.at.entry(key.value_name.clone()).or_default().insert(field, path.clone());
            path
        };
        knob("spec.replicas".into(), "replicas");
        knob(format!("{containers}.resources"), "resources");
        let image = knob(format!("{containers}.image"), "image");
        let pointer = format!("/spec/template/spec/containers/{main}/image");
        let values = objects.iter().map(|o| o.and_then(|o| o.value.pointer(&pointer)).cloned()).collect();
        self.images.push((image, values));
    }

    /// The knob of `field` of object `object`, whose values are `values`:
    /// its own, or a workload's image knob when the field is a container's
    /// image equal to it wherever both exist.
    pub(super) fn at(&self, object: &str, field: &str, values: &[Option<Value>]) -> Option<ValuePath> {
        if let Some(k) = self.at.get(object).and_then(|fields| fields.get(field)) {
            return Some(k.clone());
        }
        if !is_image(field) {
            return None;
        }
        let agrees = |known: &[Option<Value>]| {
            let mut both = known.iter().zip(values).filter_map(|(a, b)| Some((a.as_ref()?, b.as_ref()?))).peekable();
            both.peek().is_some()
                && both.all(|(a, b)| a == b)
                && values.iter().zip(known).all(|(b, a)| b.is_none() || a.is_some())
        };
        self.images.iter().find(|(_, known)| agrees(known)).map(|(k, _)| k.clone())
    }
}

impl Knobs {
    /// Whether a knob may be at or below `field` of `object`: one of its
    /// own, or a container's image.
    pub(super) fn below(&self, object: &str, field: &str) -> bool {
        let under =
            |p: &str| field.is_empty() || p.strip_prefix(field).is_some_and(|r| r.is_empty() || r.starts_with('.'));
        let own = self.at.get(object).is_some_and(|fields| fields.keys().any(|p| under(p)));
        own || (!self.images.is_empty() && CONTAINERS.iter().any(|c| under(c) || field.starts_with(c)))
    }
}

/// Where pods and pod templates keep their containers (a bare Pod: the
/// chart's test pods).
const CONTAINERS: [&str; 6] = [
    "spec.containers",
    "spec.initContainers",
    "spec.template.spec.containers",
    "spec.template.spec.initContainers",
    "spec.jobTemplate.spec.template.spec.containers",
    "spec.jobTemplate.spec.template.spec.initContainers",
];

/// The index and name of the workload's own container: the one named after
/// the service, or the first.
fn main_container<'a>(v: &'a Value, app: &str) -> Option<(usize, &'a str)> {
    let containers = v.pointer("/spec/template/spec/containers")?.as_array()?;
    let main = containers.iter().position(|c| c["name"] == app).unwrap_or(0);
    Some((main, containers.get(main)?["name"].as_str()?))
}

/// Whether a field path is a container's image (the knobs' images are
/// shared with such fields).
pub(super) fn is_image(field: &str) -> bool {
    field.ends_with(".image") && field.contains("ontainers.")
}

/// What a knob is, for the schema (Helm users read it there).
pub(super) fn doc(path: &[String]) -> Option<&'static str> {
    let [group, _, rest @ ..] = path else { return None };
    if group != "services" && group != "datastores" {
        return None;
    }
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    Some(match rest.as_slice() {
        [.., "image"] => "The container image (every container of the chart running it follows)",
        [.., "replicas"] => "Pods while no autoscaler scales the workload",
        [.., "resources"] => "The container's requests and limits",
        ["autoscaling", "minReplicas"] => "The autoscaler's lowest number of pods",
        ["autoscaling", "maxReplicas"] => "The autoscaler's highest number of pods",
        _ => return None,
    })
}
