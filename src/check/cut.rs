//! What the checks that read the whole set ([`super::Reads::Set`]) never
//! look at: cut from each object once the single-object checks ran on it
//! ([`super::early`]), with its positions, so that a run over a monorepo
//! keeps less per object. The test
//! `checking_documents_as_they_are_read_gives_what_checking_whole_objects_gives`
//! (tests/checks.rs) holds the list to that: a field cut here that a
//! cross-object check reads changes a finding there.

use crate::model::{Object, Value, pods};

/// Fields of a container that only single-object checks read: security
/// settings, the probes other than readiness (Services wait on that one),
/// the hooks, the command line.
const CONTAINER: &[&str] = &[
    "args",
    "command",
    "imagePullPolicy",
    "lifecycle",
    "livenessProbe",
    "securityContext",
    "startupProbe",
    "stdin",
    "stdinOnce",
    "terminationMessagePath",
    "terminationMessagePolicy",
    "tty",
    "workingDir",
];

/// Fields of a pod spec that only single-object checks read.
const POD: &[&str] = &["securityContext", "terminationGracePeriodSeconds"];

/// Cuts what no cross-object check reads from `o` (its value and the
/// positions of what was cut); whether anything was.
pub fn cut(o: &mut Object) -> bool {
    let mut cut = false;
    if let Some(top) = o.value.as_object_mut() {
        // `status`: what the API server wrote (`kubectl get -o yaml`), not
        // the manifest. The identity is kept in the object's slot
        // (`Object::kind`, ...), which is what the checks read: a second
        // copy here took 128 bytes.
        cut |= top.retain(|k, _| !matches!(k, "status" | "apiVersion" | "kind"));
        if let Some(meta) = top.get_mut("metadata").and_then(Value::as_object_mut) {
            cut |= meta.retain(|k, _| !matches!(k, "managedFields" | "name" | "namespace"));
            if let Some(notes) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                cut |= notes.retain(|k, _| k != "kubectl.kubernetes.io/last-applied-configuration");
            }
        }
    }
    if let Some((spec, _)) = pods::template_pointers(&o.kind)
        && let Some(spec) = pointer_mut(&mut o.value, spec).and_then(Value::as_object_mut)
    {
        cut |= spec.retain(|k, _| !POD.contains(&k));
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            let Some(Value::Array(containers)) = spec.get_mut(list) else { continue };
            for c in containers.iter_mut().filter_map(Value::as_object_mut) {
                cut |= c.retain(|k, _| !CONTAINER.contains(&k));
            }
        }
    }
    if cut {
        o.spans.keep_only(&o.value);
    }
    cut
}

/// The value at `pointer` (`/a/b`, keys without `~` or `/`), to change it.
fn pointer_mut<'v>(value: &'v mut Value, pointer: &str) -> Option<&'v mut Value> {
    pointer.split('/').skip(1).try_fold(value, |v, key| v.as_object_mut()?.get_mut(key))
}
