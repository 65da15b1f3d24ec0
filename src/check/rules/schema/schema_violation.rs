use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::schema::{Verdict, removed_in};

/// KP001: a field that breaks the Kubernetes (or CRD) schema of the target version.
pub struct SchemaViolation;

static META: Meta = Meta {
    code: "KP001",
    name: "schema-violation",
    family: Family::Schema,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a field breaks the schema of the target Kubernetes version: unknown, missing, or of the wrong type",
    what: "Validates every object against the OpenAPI schema of its apiVersion and kind in the target \
           Kubernetes version (`--kubernetes`, default the newest carried), and against the carried CRD \
           schemas (Istio, Prometheus Operator, cert-manager, Velero, External Secrets, Sealed Secrets, \
           Argo CD, Flux). Reports every unknown field, missing \
           required field, value of the wrong type, value outside an enumeration, integer that does not fit \
           its `int32` or `int64` format (`replicas: 3000000000`), malformed quantity (`512mb`) and non-base64 \
           Secret data, at the offending field. An apiVersion of a built-in group \
           that the target does not serve, or a kind that apiVersion does not have, is reported too.",
    why: "The API server rejects the object (`kubectl apply` validates fields strictly by default), so the \
          deploy fails halfway through the set; with validation turned off, an unknown field is silently \
          dropped: a misspelt `imagePullPolcy` or `resoures` leaves the setting you wrote unapplied.",
    fix: "Correct the field the finding points at: fix the spelling (the help line suggests the nearest \
          field), add the missing field, or write the value with the expected type (`replicas: 2`, not \
          `\"2\"`; `value: \"8080\"` for an environment variable).",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: "2"
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.4.2
          imagePullPolcy: IfNotPresent
          ports:
            - containerPort: 8080
          env:
            - name: PORT
              value: 8080
          resources:
            requests: { cpu: 100m, memory: 128Mi }
            limits: { memory: 512mb }
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: { app: web }
  ports:
    - name: http
      targetPort: 8080
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.4.2
          imagePullPolicy: IfNotPresent
          ports:
            - containerPort: 8080
              protocol: TCP
          env:
            - name: PORT
              value: "8080"
          resources:
            requests: { cpu: 100m, memory: 128Mi }
            limits: { memory: 512Mi }
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: { app: web }
  ports:
    - name: http
      port: 80
      targetPort: 8080
"#,
};

impl Check for SchemaViolation {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for (i, o) in cx.objects.iter().enumerate() {
            let violations = match cx.schemas.validate(o) {
                Verdict::Invalid(v) => v,
                // A removed apiVersion is the removed-api check's finding.
                Verdict::NotServed(v) if !removed_in(&o.api_version, &o.kind, cx.minor) => vec![v],
                _ => continue,
            };
            for v in violations {
                let f = out.report(i, v.pointer, v.message);
                if let Some(help) = v.help {
                    f.help(help);
                }
            }
        }
    }
}
