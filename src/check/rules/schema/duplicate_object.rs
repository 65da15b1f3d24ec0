use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP003: the same object (kind, namespace, name) defined twice.
pub struct DuplicateObject;

static META: Meta = Meta {
    code: "KP003",
    name: "duplicate-object",
    family: Family::Schema,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "the same kind, namespace and name is defined more than once",
    what: "Finds objects with the same kind, namespace and name as an earlier object in the input.",
    why: "Applying the set keeps only the last definition: the first one is silently lost, and \
          which one wins depends on file order.",
    fix: "Delete one of the definitions, or rename it.",
    fail: r#"
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: shop }
data: { MODE: a }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: shop }
data: { MODE: b }
---
# The same name in another namespace is another object.
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: staging }
data: { MODE: c }
"#,
    pass: r#"
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: shop }
data: { MODE: a }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: billing }
data: { MODE: b }
---
# The same name in another namespace is another object.
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: staging }
data: { MODE: c }
"#,
};

impl Check for DuplicateObject {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for objects in cx.index.names() {
            let Some((&first, rest)) = objects.split_first() else { continue };
            // kustomization.yaml files and bare rule files have no name and are not applied.
            if matches!(cx.objects[first].group(), "kustomize.config.k8s.io" | "kubeproof.dev") {
                continue;
            }
            for &dup in rest {
                let f = &cx.objects[first];
                out.report(dup, "/metadata/name", "defined a second time").help(format!(
                    "the first definition is at {}:{}",
                    cx.source_name(f.source),
                    f.pos("/metadata/name").line
                ));
            }
        }
    }
}
