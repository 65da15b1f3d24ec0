use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP209: an autoscaler whose minimum is above its maximum.
pub struct HpaMinAboveMax;

static META: Meta = Meta {
    code: "KP209",
    name: "hpa-min-above-max",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a HorizontalPodAutoscaler's minReplicas is above its maxReplicas",
    what: "Compares `spec.minReplicas` (default 1) with `spec.maxReplicas` of every \
           HorizontalPodAutoscaler.",
    why: "The API server rejects the autoscaler (`maxReplicas must be greater than or equal to \
          minReplicas`), so the workload is not autoscaled at all; usually the two values were \
          swapped, or an overlay raised one bound without the other.",
    fix: "Make `minReplicas` at most `maxReplicas`.",
    fail: r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 6
  maxReplicas: 4
"#,
    pass: r#"
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 4
  maxReplicas: 4
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: web, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  maxReplicas: 3
"#,
};

impl Check for HpaMinAboveMax {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &h in cx.index.of_kind("HorizontalPodAutoscaler") {
            let v = &cx.objects[h].value;
            let written = v.at("/spec/minReplicas").filter(|m| !m.is_null());
            let min = match written {
                Some(m) => match m.as_i64() {
                    Some(n) => n,
                    None => continue,
                },
                None => 1,
            };
            let Some(max) = v.at("/spec/maxReplicas").and_then(Value::as_i64) else { continue };
            if min <= max {
                continue;
            }
            let pointer = if written.is_some() { "/spec/minReplicas" } else { "/spec/maxReplicas" };
            let shown = if written.is_some() { min.to_string() } else { format!("{min} (the default)") };
            out.report(h, pointer, format!("minReplicas {shown} is above maxReplicas {max}"))
                .help("the API server rejects it: make minReplicas at most maxReplicas (were they swapped?)");
        }
    }
}
