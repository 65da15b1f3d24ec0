use crate::model::At;
use std::collections::BTreeMap;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::pods::template_pointers;
use crate::model::selector::Requirement;

use crate::model::pointer::escape;

/// KP213: a workload whose selector does not select its own pod template.
pub struct SelectorMismatch;

static META: Meta = Meta {
    code: "KP213",
    name: "selector-template-mismatch",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a workload's selector does not match the labels of its own pod template",
    what: "Checks that the `spec.selector` of every Deployment, StatefulSet, DaemonSet, \
           ReplicaSet and ReplicationController matches the labels of its pod template: each \
           `matchLabels` pair must be a template label and each `matchExpressions` entry must \
           hold for them. An empty selector is reported too.",
    why: "The API server rejects such a workload (`selector does not match template labels`, \
          or `empty selector is invalid`), so nothing is deployed; and because a selector is \
          immutable once created, a later change to the labels cannot be applied to the live \
          object either.",
    fix: "Make the template's `metadata.labels` include every `matchLabels` pair (and satisfy \
          every expression). Keep the selector small and stable — e.g. only \
          `app.kubernetes.io/name` — and put changing labels (versions) only on the template.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector:
    matchLabels: { app: api, tier: backend }
  template:
    metadata: { labels: { app: api, tier: web } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: monitoring }
spec:
  selector:
    matchExpressions: [{ key: app, operator: In, values: [node-agent] }]
  template:
    metadata: { labels: { app: agent } }
    spec:
      containers:
        - name: agent
          image: ghcr.io/acme/node-agent:2.3.0
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector:
    matchLabels: { app: api, tier: backend }
  template:
    metadata: { labels: { app: api, tier: backend } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent, namespace: monitoring }
spec:
  selector:
    matchExpressions: [{ key: app, operator: In, values: [agent] }]
  template:
    metadata: { labels: { app: agent } }
    spec:
      containers:
        - name: agent
          image: ghcr.io/acme/node-agent:2.3.0
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector:
    matchLabels: { app: web }
    matchExpressions: [{ key: track, operator: NotIn, values: [canary] }]
  template:
    metadata: { labels: { app: web, version: 2.0.0 } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.0
---
apiVersion: v1
kind: ReplicationController
metadata: { name: legacy, namespace: shop }
spec:
  template:
    metadata: { labels: { app: legacy } }
    spec:
      containers:
        - name: legacy
          image: ghcr.io/acme/legacy:0.9.0
"#,
};

impl Check for SelectorMismatch {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for (i, o) in cx.objects.iter().enumerate() {
            if !matches!(
                o.kind.as_str(),
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController"
            ) {
                continue;
            }
            let Some(selector) = o.value.at("/spec/selector").and_then(Value::as_object) else { continue };
            let Some((_, labels_ptr)) = template_pointers(&o.kind) else { continue };
            let labels: BTreeMap<String, String> = match o.value.at(labels_ptr) {
                None | Some(Value::Null) => BTreeMap::new(),
                Some(Value::Object(m)) => {
                    m.iter().filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string()))).collect()
                }
                Some(_) => continue,
            };
            report_all(cx, i, selector, &labels, out);
        }
    }
}

fn report_all(
    cx: &Context,
    i: usize,
    selector: &crate::model::value::Map,
    labels: &BTreeMap<String, String>,
    out: &mut Sink,
) {
    let o = &cx.objects[i];
    // A ReplicationController's selector is a plain label map.
    let rc = o.kind == "ReplicationController";
    let match_labels = if rc { Some(selector) } else { selector.get("matchLabels").and_then(Value::as_object) };
    let exprs = if rc { None } else { selector.get("matchExpressions").and_then(Value::as_array) };
    let help = "make the pod template's metadata.labels include every label the selector requires";
    if !rc && match_labels.is_none_or(|m| m.is_empty()) && exprs.is_none_or(|e| e.is_empty()) {
        out.report(i, "/spec/selector", "has an empty selector, which the API server rejects for a workload")
            .help("select the pod template's identifying labels, e.g. `matchLabels: { app.kubernetes.io/name: ... }`");
        return;
    }
    let base = if rc { "/spec/selector".to_string() } else { "/spec/selector/matchLabels".to_string() };
    for (k, v) in match_labels.into_iter().flatten() {
        let want = v.as_str().unwrap_or_default();
        let message = match labels.get(k.as_str()) {
            Some(have) if have == want => continue,
            Some(have) => format!("selector requires `{k}: {want}` but the pod template has `{k}: {have}`"),
            None => format!("selector requires `{k}: {want}` but the pod template has no label `{k}`"),
        };
        out.report(i, format!("{base}/{}", escape(k)), message).help(help);
    }
    for (n, e) in exprs.into_iter().flatten().enumerate() {
        if Requirement::of(e).matches(labels) {
            continue;
        }
        let key = e.get("key").and_then(Value::as_str).unwrap_or("?");
        let op = e.get("operator").and_then(Value::as_str).unwrap_or("?");
        let values: Vec<&str> =
            e.get("values").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let have = match labels.get(key) {
            Some(v) => format!("`{key}: {v}`"),
            None => format!("no label `{key}`"),
        };
        let requirement =
            if values.is_empty() { format!("`{key} {op}`") } else { format!("`{key} {op} [{}]`", values.join(", ")) };
        out.report(
            i,
            format!("/spec/selector/matchExpressions/{n}"),
            format!("selector requires {requirement} but the pod template has {have}"),
        )
        .help(help);
    }
}
