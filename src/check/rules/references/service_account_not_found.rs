use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP309: a pod runs as a ServiceAccount that the set does not define.
pub struct ServiceAccountNotFound;

static META: Meta = Meta {
    code: "KP309",
    name: "service-account-not-found",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a pod runs as a ServiceAccount that is not in the checked set",
    what: "Reads `serviceAccountName` (or the deprecated `serviceAccount`) of every pod template and reports \
           names that no ServiceAccount of the same namespace has. `default` exists in every namespace and \
           is never reported.",
    why: "The API server refuses to create pods for a ServiceAccount that does not exist: the Deployment or \
          StatefulSet is accepted, but its ReplicaSet reports `serviceaccount \"…\" not found` and no pod \
          ever starts. The account may be created by another tool, so this is a warning.",
    fix: "Add the ServiceAccount to the manifests in the pod's namespace, or correct the name.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api-runner
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: api, namespace: shop }
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: ServiceAccount
metadata: { name: api-runner, namespace: billing }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: api, namespace: shop }
---
apiVersion: batch/v1
kind: Job
metadata: { name: migrate, namespace: shop }
spec:
  template:
    spec:
      serviceAccountName: default
      restartPolicy: Never
      containers:
        - name: migrate
          image: ghcr.io/acme/api:1.4.2
---
# Of that name, but in another namespace: it does not count.
apiVersion: v1
kind: ServiceAccount
metadata: { name: api-runner, namespace: billing }
"#,
};

impl Check for ServiceAccountNotFound {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let known = super::names_by_ns(cx, "ServiceAccount");
        for pod in cx.pods() {
            let ns = cx.objects[pod.object].ns();
            let Some((field, name)) = ["serviceAccountName", "serviceAccount"]
                .into_iter()
                .find_map(|f| Some((f, pod.get(f)?.as_str().filter(|s| !s.is_empty())?)))
            else {
                continue;
            };
            if name == "default" || cx.index.get("ServiceAccount", ns, name).is_some() {
                continue;
            }
            let mut help = format!(
                "unless something outside these manifests creates it, no pod is created; add the ServiceAccount to namespace {ns}"
            );
            if let Some(s) = crate::diag::did_you_mean(name, known.get(ns).into_iter().flatten().copied()) {
                help = format!("did you mean `{s}`?");
            }
            out.report(
                pod.object,
                pod.field(field),
                format!("ServiceAccount `{name}` is not in the checked set; it may be defined elsewhere"),
            )
            .help(help);
        }
    }
}
