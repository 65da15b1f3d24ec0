use crate::model::At;
use std::collections::HashSet;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP308: a pod mounts a PersistentVolumeClaim that the set does not define.
pub struct PvcNotFound;

static META: Meta = Meta {
    code: "KP308",
    name: "pvc-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a pod references a PersistentVolumeClaim that is not in the checked set",
    what: "Follows every `persistentVolumeClaim.claimName` volume of every pod template and reports names \
           that no PersistentVolumeClaim of the same namespace has. Claims a StatefulSet of the set creates \
           from its `volumeClaimTemplates` (`TEMPLATE-STATEFULSET-N`) count as defined; a StatefulSet's own \
           claim templates are not references.",
    why: "A pod whose claim does not exist stays Pending (`persistentvolumeclaim \"…\" not found`) until \
          someone creates it. Claims are sometimes created by hand or by another tool, so this is a \
          warning.",
    fix: "Add the PersistentVolumeClaim to the manifests in the pod's namespace, or correct `claimName`. For \
          per-replica storage, use a StatefulSet's `volumeClaimTemplates` instead.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: reports, namespace: shop }
spec:
  replicas: 1
  strategy: { type: Recreate }
  selector: { matchLabels: { app: reports } }
  template:
    metadata: { labels: { app: reports } }
    spec:
      containers:
        - name: reports
          image: ghcr.io/acme/reports:0.9.0
          volumeMounts: [{ name: data, mountPath: /data }, { name: backup, mountPath: /backup }]
      volumes:
        - name: data
          persistentVolumeClaim: { claimName: reports-dat }
        - name: backup
          persistentVolumeClaim: { claimName: data-postgres-0, readOnly: true }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: reports-data, namespace: shop }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 10Gi } }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: postgres, namespace: shop }
spec:
  serviceName: postgres
  selector: { matchLabels: { app: postgres } }
  template:
    metadata: { labels: { app: postgres } }
    spec:
      containers:
        - name: postgres
          image: docker.io/library/postgres:16.4
          volumeMounts: [{ name: data, mountPath: /var/lib/postgresql/data }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 50Gi } }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: reports-dat, namespace: billing }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Gi } }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: reports, namespace: shop }
spec:
  replicas: 1
  strategy: { type: Recreate }
  selector: { matchLabels: { app: reports } }
  template:
    metadata: { labels: { app: reports } }
    spec:
      containers:
        - name: reports
          image: ghcr.io/acme/reports:0.9.0
          volumeMounts: [{ name: data, mountPath: /data }, { name: backup, mountPath: /backup }]
      volumes:
        - name: data
          persistentVolumeClaim: { claimName: reports-data }
        - name: backup
          persistentVolumeClaim: { claimName: data-postgres-0, readOnly: true }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: reports-data, namespace: shop }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 10Gi } }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: postgres, namespace: shop }
spec:
  serviceName: postgres
  selector: { matchLabels: { app: postgres } }
  template:
    metadata: { labels: { app: postgres } }
    spec:
      containers:
        - name: postgres
          image: docker.io/library/postgres:16.4
          volumeMounts: [{ name: data, mountPath: /var/lib/postgresql/data }]
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 50Gi } }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: reports-dat, namespace: billing }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 1Gi } }
"#,
};

impl Check for PvcNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        // (namespace, "TEMPLATE-STATEFULSET") for every claim template.
        let mut templated: HashSet<(&str, String)> = HashSet::new();
        for &i in cx.index.of_kind("StatefulSet") {
            let o = &cx.objects[i];
            let tpls = o.value.at("/spec/volumeClaimTemplates").and_then(Value::as_array);
            for t in tpls.into_iter().flatten() {
                if let Some(name) = t.at("/metadata/name").and_then(Value::as_str) {
                    templated.insert((o.ns(), format!("{name}-{}", o.name)));
                }
            }
        }
        let known = super::names_by_ns(cx, "PersistentVolumeClaim");
        for pod in cx.pods() {
            let ns = cx.objects[pod.object].ns();
            let volumes = pod.get("volumes").and_then(Value::as_array);
            for (i, v) in volumes.into_iter().flatten().enumerate() {
                let Some(claim) = v.at("/persistentVolumeClaim/claimName").and_then(Value::as_str) else {
                    continue;
                };
                if claim.is_empty() || cx.index.get("PersistentVolumeClaim", ns, claim).is_some() {
                    continue;
                }
                let from_template = claim
                    .rsplit_once('-')
                    .is_some_and(|(stem, n)| n.parse::<u32>().is_ok() && templated.contains(&(ns, stem.to_string())));
                if from_template {
                    continue;
                }
                let mut help = format!(
                    "unless something outside these manifests creates it, the pod stays Pending; add the PersistentVolumeClaim to namespace {ns}"
                );
                if let Some(s) = crate::diag::did_you_mean(claim, known.get(ns).into_iter().flatten().copied()) {
                    help = format!("did you mean `{s}`?");
                }
                out.report(
                    pod.object,
                    pod.field(&format!("volumes/{i}/persistentVolumeClaim/claimName")),
                    format!("PersistentVolumeClaim `{claim}` is not in the checked set; it may be defined elsewhere"),
                )
                .help(help);
            }
        }
    }
}
