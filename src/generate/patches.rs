//! `patches:` applied to a generated stack in memory, as kustomize applies
//! them to the written files: what `gen` proves is the patched stack.
//!
//! JSON Patch (RFC 6902) by the `json-patch` crate. Strategic merge, the
//! subset kubeproof supports: maps merge key by key, `null` removes a key;
//! the lists Kubernetes merges by a key — `containers`, `initContainers`,
//! `ephemeralContainers`, `env`, `volumes`, `imagePullSecrets` (by `name`),
//! `volumeMounts` (by `mountPath`), `ports` (by `containerPort`, or `port`
//! in a Service) — merge item by item, the patch's items first, then the
//! originals it does not name (the order `kubectl kustomize` gives); every
//! other list is replaced. `$patch` directives are refused when the description is read.

use std::path::Path;

use serde_json::{Map, Value};

use super::{Object, Stack};
use crate::description::resolve::patches::{Change, PatchR};
use crate::diag::Diagnostic;

/// A patch as applied: its target object and the patch document (the
/// operations, or the partial object with the target's identity).
#[derive(Debug, Clone)]
pub struct Applied {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub document: Value,
}

/// Applies `patches` to `stack` in order; a patch whose target is not in
/// the stack, or whose operations fail, is an error at its position.
pub fn apply(stack: &mut Stack, patches: &[PatchR], file: &Path) -> Result<Vec<Applied>, Vec<Diagnostic>> {
    let mut applied = Vec::new();
    let mut errors = Vec::new();
    for p in patches {
        match apply_one(stack, p) {
            Ok(a) => applied.push(a),
            Err((message, help)) => errors.push(Diagnostic::error(file, p.pos, message).with_help(help)),
        }
        // The canary, when this environment runs one, changes alike.
        let canary = p.canary.as_ref().map(|c| PatchR { name: c.clone(), canary: None, ..p.clone() });
        let generated = |c: &PatchR| {
            stack.objects.iter().any(|o| o.kind == c.kind && o.name == c.name && o.namespace == c.namespace)
        };
        if let Some(c) = canary.filter(generated) {
            match apply_one(stack, &c) {
                Ok(a) => applied.push(a),
                Err((message, help)) => errors.push(Diagnostic::error(file, p.pos, message).with_help(help)),
            }
        }
    }
    if errors.is_empty() { Ok(applied) } else { Err(errors) }
}

fn apply_one(stack: &mut Stack, p: &PatchR) -> Result<Applied, (String, String)> {
    let what = match &p.namespace {
        Some(ns) => format!("{} {ns}/{}", p.kind, p.name),
        None => format!("{} {}", p.kind, p.name),
    };
    let matches = |o: &&mut Object| {
        o.kind == p.kind && o.name == p.name && p.namespace.as_ref().is_none_or(|ns| o.namespace.as_ref() == Some(ns))
    };
    if let Some(hashed) = hash_named_job(stack, p) {
        return Err((
            format!(
                "the patch targets {what}, the job `{}`: its Job is named by a hash of its spec ({hashed}), which \
                 changes with it, so no patch can follow it",
                p.name
            ),
            format!("set it under `jobs.{}` (or `cronjobs`, which keep their name)", p.name),
        ));
    }
    let mut found: Vec<&mut Object> = stack.objects.iter_mut().filter(matches).collect();
    let object = match found.len() {
        1 => found.remove(0),
        0 => {
            return Err((
                format!("the patch targets {what}, which is not generated"),
                "name a generated object: `kind`, `name` and, where names repeat, `namespace`".into(),
            ));
        }
        _ => return Err((format!("the patch targets {what}, which names several objects"), "add `namespace`".into())),
    };
    let document = match &p.change {
        Change::Json(ops) => {
            json_patch::patch(&mut object.value, ops).map_err(|e| {
                (format!("the patch of {what} does not apply: {e}"), "check each operation's `path`".into())
            })?;
            serde_json::to_value(ops).unwrap_or_default()
        }
        Change::Merge(m) => {
            merge(&mut object.value, &Value::Object(m.clone()), "");
            identified(object, m)
        }
    };
    Ok(Applied {
        api_version: object.api_version.clone(),
        kind: object.kind.clone(),
        name: object.name.clone(),
        namespace: object.namespace.clone(),
        document,
    })
}

/// The name of the Job a job `p.name` is generated as (`NAME-HASH`), when
/// `p` targets a Job by the job's own name and no object has that name.
fn hash_named_job(stack: &Stack, p: &PatchR) -> Option<String> {
    if p.kind != "Job" {
        return None;
    }
    let ns_fits = |o: &Object| p.namespace.as_ref().is_none_or(|ns| o.namespace.as_ref() == Some(ns));
    let jobs = || stack.objects.iter().filter(|o| o.kind == "Job" && ns_fits(o));
    if jobs().any(|o| o.name == p.name) {
        return None;
    }
    let hashed = |o: &&Object| {
        let hash = o.name.strip_prefix(p.name.as_str()).and_then(|r| r.strip_prefix('-'));
        hash.is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
    };
    jobs().find(hashed).map(|o| o.name.clone())
}

/// The merge as kustomize reads it: the target's apiVersion, kind, name and
/// namespace, then the change.
fn identified(o: &Object, change: &Map<String, Value>) -> Value {
    let mut meta = Map::new();
    meta.insert("name".into(), Value::from(o.name.clone()));
    if let Some(ns) = &o.namespace {
        meta.insert("namespace".into(), Value::from(ns.clone()));
    }
    let mut doc = change.clone();
    doc.insert("apiVersion".into(), Value::from(o.api_version.clone()));
    doc.insert("kind".into(), Value::from(o.kind.clone()));
    let m = doc.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = m {
        m.extend(meta);
    }
    Value::Object(doc)
}

/// The key list items of `field` merge by, for a patch item `item`.
fn merge_key(field: &str, item: &Value) -> Option<&'static str> {
    match field {
        "containers" | "initContainers" | "ephemeralContainers" | "env" | "volumes" | "imagePullSecrets" => {
            Some("name")
        }
        "volumeMounts" => Some("mountPath"),
        "ports" if item.get("containerPort").is_some() => Some("containerPort"),
        "ports" => Some("port"),
        _ => None,
    }
}

/// Strategic merge of `patch` into `target`; `field`: the key `target` is at.
pub fn merge(target: &mut Value, patch: &Value, field: &str) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match (v, t.get_mut(k)) {
                    (Value::Null, _) => drop(t.remove(k)),
                    (_, Some(existing)) => merge(existing, v, k),
                    (_, None) => drop(t.insert(k.clone(), without_nulls(v))),
                }
            }
        }
        (Value::Array(t), Value::Array(p)) if p.first().and_then(|i| merge_key(field, i)).is_some() => {
            // As kustomize orders them: the patch's items first, in its
            // order (merged into the originals they name), then the
            // originals it does not name.
            let mut rest = std::mem::take(t);
            for item in p {
                let key = merge_key(field, item).and_then(|k| item.get(k).map(|v| (k, v)));
                match key.and_then(|(k, v)| rest.iter().position(|x| x.get(k) == Some(v))) {
                    Some(i) => {
                        let mut existing = rest.remove(i);
                        merge(&mut existing, item, "");
                        t.push(existing);
                    }
                    None => t.push(without_nulls(item)),
                }
            }
            t.extend(rest);
        }
        (t, p) => *t = without_nulls(p),
    }
}

/// `v` without the keys set to `null` (a removal of something absent).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            Value::Object(m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), without_nulls(v))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn maps_merge_named_lists_merge_by_key_other_lists_are_replaced() {
        let mut pod = json!({
            "containers": [{ "name": "app", "image": "a:1", "env": [{ "name": "A", "value": "1" }],
                             "ports": [{ "containerPort": 80, "name": "http" }] }],
            "tolerations": [{ "key": "x" }],
            "nodeSelector": { "zone": "a", "disk": "ssd" }
        });
        let patch = json!({
            "containers": [
                { "name": "app", "env": [{ "name": "B", "value": "2" }, { "name": "A", "value": "9" }],
                  "ports": [{ "containerPort": 80, "protocol": "TCP" }] },
                { "name": "sidecar", "image": "s:1", "args": null }
            ],
            "tolerations": [{ "key": "y" }],
            "nodeSelector": { "disk": null, "gpu": "yes" }
        });
        merge(&mut pod, &patch, "");
        assert_eq!(
            pod,
            json!({
                "containers": [
                    { "name": "app", "image": "a:1",
                      "env": [{ "name": "B", "value": "2" }, { "name": "A", "value": "9" }],
                      "ports": [{ "containerPort": 80, "name": "http", "protocol": "TCP" }] },
                    { "name": "sidecar", "image": "s:1" }
                ],
                "tolerations": [{ "key": "y" }],
                "nodeSelector": { "zone": "a", "gpu": "yes" }
            })
        );
    }
}
