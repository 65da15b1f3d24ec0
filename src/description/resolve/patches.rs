//! `patches:`, resolved: each with its target filled in (a service's
//! Deployment, a datastore's StatefulSet, in its namespace) and its change
//! checked for form: JSON Patch operations that parse, or a merge that is a
//! partial object without `$patch` directives. Whether the target exists and
//! the operations apply is known only with the generated objects
//! (`generate::patches`).

use std::path::Path;

use serde_json::Value;

use super::environment;
use crate::description::value::pos_of;
use crate::description::{Patch, Platform};
use crate::diag::{Diagnostic, Pos};

/// A patch with its target.
#[derive(Debug, Clone)]
pub struct PatchR {
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub change: Change,
    /// Where the description writes it.
    pub pos: Pos,
    /// A service's patch of its own Deployment: the canary's Deployment of
    /// that name, patched alike where one is generated (its pods must be the
    /// stable pods but for the image).
    pub canary: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Change {
    /// RFC 6902 operations (parsed when resolved).
    Json(json_patch::Patch),
    /// A partial object, merged as Kubernetes' strategic merge does.
    Merge(serde_json::Map<String, Value>),
}

/// The patches of environment `env` (`None`: the base): first the services'
/// and datastores' (in name order), then the environment's own.
pub fn patches(p: &Platform, env: Option<&str>, file: &Path) -> Result<(Vec<PatchR>, Vec<PatchR>), Vec<Diagnostic>> {
    let environment = environment::named(p, env, file)?;
    let default_ns = p.namespace.as_ref().map_or(p.name.to_string(), |n| n.to_string());
    let mut errors = Vec::new();
    let mut workloads = Vec::new();
    for (name, base) in &p.services {
        let svc = environment::service(environment, name, base);
        let ns = svc.namespace.as_ref().map_or(default_ns.clone(), |n| n.to_string());
        let default = ("Deployment", name.as_str(), ns.as_str());
        for patch in svc.patches.iter().flatten() {
            let own =
                |r: &PatchR| r.kind == "Deployment" && r.name == name.as_str() && r.namespace.as_deref() == Some(&ns);
            workloads.extend(resolve(patch, Some(default), file, &mut errors).map(|mut r| {
                r.canary = own(&r).then(|| format!("{name}-canary"));
                r
            }));
        }
    }
    for (name, base) in &p.datastores {
        let ds = environment::datastore(environment, name, base);
        let ns = ds.namespace.as_ref().map_or(default_ns.clone(), |n| n.to_string());
        let default = ("StatefulSet", name.as_str(), ns.as_str());
        for patch in ds.patches.iter().flatten() {
            workloads.extend(resolve(patch, Some(default), file, &mut errors));
        }
    }
    let own = environment.and_then(|e| e.patches.as_ref());
    let own: Vec<PatchR> = own.iter().copied().flatten().filter_map(|x| resolve(x, None, file, &mut errors)).collect();
    if errors.is_empty() { Ok((workloads, own)) } else { Err(errors) }
}

/// One patch; `default`: the (kind, name, namespace) it changes without a `target`.
fn resolve(
    patch: &Patch,
    default: Option<(&str, &str, &str)>,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Option<PatchR> {
    let pos = patch
        .ops
        .as_ref()
        .map(|o| pos_of(&o.referenced))
        .or(patch.merge.as_ref().map(|m| pos_of(&m.referenced)))
        .unwrap_or(Pos::UNKNOWN);
    let mut err = |pos: Pos, message: String, help: &str| {
        errors.push(Diagnostic::error(file, pos, message).with_help(help.to_string()));
    };
    let (kind, name, namespace) = match (&patch.target, default) {
        (Some(t), d) => (t.kind.value.clone(), t.name.clone(), t.namespace.clone().or(d.map(|d| d.2.to_string()))),
        (None, Some((k, n, ns))) => (k.to_string(), n.to_string(), Some(ns.to_string())),
        (None, None) => {
            err(
                pos,
                "an environment's patch needs a `target`".into(),
                "e.g. `target: { kind: Deployment, name: api }`",
            );
            return None;
        }
    };
    let change = match (&patch.ops, &patch.merge) {
        (Some(ops), None) => match serde_json::from_value::<json_patch::Patch>(Value::Array(ops.value.clone())) {
            Ok(p) => Change::Json(p),
            Err(e) => {
                let help =
                    "each operation is `{ op: add|remove|replace|move|copy|test, path: /a/b, value: … }` (RFC 6902)";
                err(pos_of(&ops.referenced), format!("not a JSON Patch: {e}"), help);
                return None;
            }
        },
        (None, Some(merge)) => match &merge.value {
            Value::Object(m) if !has_directive(&merge.value) => Change::Merge(m.clone()),
            Value::Object(_) => {
                let help = "write the change without `$patch`, `$setElementOrder` or `$retainKeys`, or use `ops`";
                err(pos_of(&merge.referenced), "`merge` directives are not supported".into(), help);
                return None;
            }
            _ => {
                err(pos_of(&merge.referenced), "`merge` is a partial object".into(), "e.g. `merge: { spec: { … } }`");
                return None;
            }
        },
        _ => {
            err(
                pos,
                "a patch has either `ops` or `merge`".into(),
                "`ops`: JSON Patch operations; `merge`: a partial object",
            );
            return None;
        }
    };
    Some(PatchR { kind, name, namespace, change, pos, canary: None })
}

/// Whether a merge uses strategic merge directives (`$patch`, …).
fn has_directive(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.starts_with('$') || has_directive(v)),
        Value::Array(a) => a.iter().any(has_directive),
        _ => false,
    }
}
