use crate::model::At;
use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP314: a StatefulSet's serviceName is missing or not headless.
pub struct StatefulSetService;

static META: Meta = Meta {
    code: "KP314",
    name: "statefulset-service-not-headless",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a StatefulSet's serviceName names no Service in the set, or a Service that is not headless",
    what: "Reads `spec.serviceName` of every StatefulSet and looks for that Service in the StatefulSet's \
           namespace: reported when it is not in the checked set, and when it is there but is not headless \
           (`clusterIP: None`).",
    why: "The governing Service gives each replica its stable DNS name (`NAME-0.SERVICE.NAMESPACE.svc`), \
          which is what clustered datastores use to find their peers. Without it, or with a Service that has \
          a cluster IP, those names do not resolve and replicas cannot join each other.",
    fix: "Add a headless Service (`clusterIP: None`, selecting the StatefulSet's pods) with the name given \
          in `serviceName`, or set `serviceName` to the existing headless Service.",
    fail: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: postgres, namespace: shop }
spec:
  serviceName: postgres
  selector: { matchLabels: { app: postgres } }
  template:
    metadata: { labels: { app: postgres } }
    spec:
      containers: [{ name: postgres, image: "docker.io/library/postgres:16.4" }]
---
apiVersion: v1
kind: Service
metadata: { name: postgres, namespace: shop }
spec:
  selector: { app: postgres }
  ports: [{ port: 5432 }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: postgres, namespace: billing }
spec:
  clusterIP: None
  selector: { app: postgres }
  ports: [{ port: 5432 }]
"#,
    pass: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: postgres, namespace: shop }
spec:
  serviceName: postgres-headless
  selector: { matchLabels: { app: postgres } }
  template:
    metadata: { labels: { app: postgres } }
    spec:
      containers: [{ name: postgres, image: "docker.io/library/postgres:16.4" }]
---
apiVersion: v1
kind: Service
metadata: { name: postgres-headless, namespace: shop }
spec:
  clusterIP: None
  selector: { app: postgres }
  ports: [{ port: 5432 }]
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: Service
metadata: { name: postgres, namespace: billing }
spec:
  clusterIP: None
  selector: { app: postgres }
  ports: [{ port: 5432 }]
---
apiVersion: v1
kind: Service
metadata: { name: postgres, namespace: shop }
spec:
  selector: { app: postgres }
  ports: [{ port: 5432 }]
"#,
};

impl Check for StatefulSetService {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("StatefulSet") {
            let o = &cx.objects[i];
            let Some(name) = o.value.at("/spec/serviceName").and_then(Value::as_str).filter(|s| !s.is_empty()) else {
                continue;
            };
            match cx.index.get("Service", o.ns(), name) {
                Some(s) => {
                    let svc = &cx.objects[s];
                    if svc.value.at("/spec/clusterIP").and_then(Value::as_str) == Some("None") {
                        continue;
                    }
                    out.report(i, "/spec/serviceName", format!("Service `{name}` is not headless"))
                        .help(format!(
                            "set `clusterIP: None` on Service {name} ({}:{}), or add a separate headless Service for the StatefulSet",
                            cx.source_name(svc.source),
                            svc.pos("/metadata/name").line
                        ));
                }
                None => {
                    out.report(
                        i,
                        "/spec/serviceName",
                        format!("Service `{name}` is not in the checked set; it may be defined elsewhere"),
                    )
                    .help(format!(
                        "add a headless Service `{name}` (`clusterIP: None`, selecting these pods) to namespace {}",
                        o.ns()
                    ));
                }
            }
        }
    }
}
