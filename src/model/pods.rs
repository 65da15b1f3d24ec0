//! Pod templates inside workload objects, and the containers inside them:
//! most checks look at pods whatever object carries them.

use super::At;
use crate::model::Value;

use super::Object;

/// Where the pod spec and the pod labels of a kind live, if it has pods.
pub fn template_pointers(kind: &str) -> Option<(&'static str, &'static str)> {
    Some(match kind {
        "Pod" => ("/spec", "/metadata/labels"),
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" | "Job" => {
            ("/spec/template/spec", "/spec/template/metadata/labels")
        }
        "CronJob" => ("/spec/jobTemplate/spec/template/spec", "/spec/jobTemplate/spec/template/metadata/labels"),
        _ => return None,
    })
}

/// A pod template of one object.
#[derive(Debug, Clone, Copy)]
pub struct Pod<'a> {
    pub object: usize,
    /// JSON pointer of the pod spec inside the object.
    pub ptr: &'static str,
    pub spec: &'a Value,
}

impl<'a> Pod<'a> {
    pub fn of(objects: &'a [Object], object: usize) -> Option<Pod<'a>> {
        let (ptr, _) = template_pointers(&objects[object].kind)?;
        let spec = objects[object].value.at(ptr)?;
        spec.is_object().then_some(Pod { object, ptr, spec })
    }

    /// `containers` and `initContainers` (not ephemeral ones), with pointers.
    pub fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let ptr = self.ptr;
        let spec = self.spec;
        ["containers", "initContainers"].into_iter().flat_map(move |field| {
            spec.get(field).and_then(Value::as_array).into_iter().flatten().enumerate().map(move |(i, c)| Container {
                ptr: format!("{ptr}/{field}/{i}"),
                value: c,
                init: field == "initContainers",
            })
        })
    }

    /// Only the long-running containers: `containers`, and init containers
    /// with `restartPolicy: Always` (sidecars).
    pub fn app_containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        self.containers().filter(|c| !c.init || c.value.get("restartPolicy").and_then(Value::as_str) == Some("Always"))
    }

    pub fn get(&self, field: &str) -> Option<&'a Value> {
        self.spec.get(field)
    }

    pub fn field(&self, field: &str) -> String {
        format!("{}/{field}", self.ptr)
    }
}

/// A container of a pod template.
#[derive(Debug, Clone)]
pub struct Container<'a> {
    pub ptr: String,
    pub value: &'a Value,
    pub init: bool,
}

impl<'a> Container<'a> {
    pub fn name(&self) -> &'a str {
        self.value.get("name").and_then(Value::as_str).unwrap_or("?")
    }

    pub fn get(&self, pointer: &str) -> Option<&'a Value> {
        self.value.at(pointer)
    }

    pub fn field(&self, pointer: &str) -> String {
        format!("{}{pointer}", self.ptr)
    }

    /// Declared container ports: (number, name, protocol).
    pub fn ports(&self) -> impl Iterator<Item = (i64, Option<&'a str>, &'a str)> + 'a {
        self.value.get("ports").and_then(Value::as_array).into_iter().flatten().filter_map(|p| {
            Some((
                p.get("containerPort")?.as_i64()?,
                p.get("name").and_then(Value::as_str),
                p.get("protocol").and_then(Value::as_str).unwrap_or("TCP"),
            ))
        })
    }
}

/// Every pod template in `objects`.
pub fn all(objects: &[Object]) -> impl Iterator<Item = Pod<'_>> {
    (0..objects.len()).filter_map(move |i| Pod::of(objects, i))
}
