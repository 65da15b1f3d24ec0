use crate::model::Value;

use super::common::{Bound, service_account};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP118: a pod gets an API token it has no use for.
pub struct ServiceAccountTokenMounted;

static META: Meta = Meta {
    code: "KP118",
    name: "service-account-token-mounted",
    family: Family::Security,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a pod mounts an API token although no binding in the manifests grants its ServiceAccount anything",
    what: "Reports pod templates that get a Kubernetes API token: the pod does not set \
           `automountServiceAccountToken: false`, and its ServiceAccount (looked up in the checked \
           manifests) does not either — the pod's setting wins when both are set. Pods whose \
           ServiceAccount is granted something by a RoleBinding or ClusterRoleBinding of the checked \
           manifests are skipped: they evidently call the API. A ServiceAccount that is not in the \
           manifests is judged by the pod alone.",
    why: "The token is mounted into every container at a well-known path: anyone who gets code execution \
          or a file-read bug in the pod can talk to the API server as that ServiceAccount — enough to \
          enumerate the cluster, and to use whatever RBAC is granted to it later or by someone else. An \
          app that never calls the API should not carry a credential for it.",
    fix: "Set `automountServiceAccountToken: false` on the ServiceAccount (or on the pod spec). If the app \
          does call the API, keep the token and bind a Role with just the access it needs to its \
          ServiceAccount.",
    fail: r#"
apiVersion: v1
kind: ServiceAccount
metadata: { name: web, namespace: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: web
          image: ghcr.io/example/web:2.3.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
# Of that name in another namespace: its setting does not apply here.
apiVersion: v1
kind: ServiceAccount
metadata: { name: web, namespace: billing }
automountServiceAccountToken: false
"#,
    pass: r#"
apiVersion: v1
kind: ServiceAccount
metadata: { name: web, namespace: shop }
automountServiceAccountToken: false
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: web
          image: ghcr.io/example/web:2.3.1
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: leader-election, namespace: shop }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: leader-election, namespace: shop }
rules:
  - apiGroups: [coordination.k8s.io]
    resources: [leases]
    verbs: [get, create, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: leader-election, namespace: shop }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: leader-election }
subjects:
  - { kind: ServiceAccount, name: leader-election, namespace: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: scheduler, namespace: shop }
spec:
  selector: { matchLabels: { app: scheduler } }
  template:
    metadata: { labels: { app: scheduler } }
    spec:
      serviceAccountName: leader-election
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: scheduler
          image: ghcr.io/example/scheduler:1.5.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
---
# Of that name in another namespace: its setting does not apply here.
apiVersion: v1
kind: ServiceAccount
metadata: { name: web, namespace: billing }
automountServiceAccountToken: false
"#,
};

impl Check for ServiceAccountTokenMounted {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut bound: Option<Bound> = None;
        for pod in cx.pods() {
            let own = pod.get("automountServiceAccountToken").and_then(Value::as_bool);
            if own == Some(false) {
                continue;
            }
            let ns = cx.objects[pod.object].ns();
            let (sa_name, sa_pointer) = service_account(&pod);
            let sa = cx.index.get("ServiceAccount", ns, sa_name);
            let sa_setting =
                sa.and_then(|i| cx.objects[i].value.get("automountServiceAccountToken")).and_then(Value::as_bool);
            if own.is_none() && sa_setting == Some(false) {
                continue;
            }
            if bound.get_or_insert_with(|| Bound::build(cx)).contains(ns, sa_name) {
                continue;
            }
            let (pointer, message) = if own == Some(true) {
                (
                    pod.field("automountServiceAccountToken"),
                    format!(
                        "the pod mounts a token of ServiceAccount `{sa_name}`, but no RoleBinding or \
                         ClusterRoleBinding in these manifests grants it anything"
                    ),
                )
            } else {
                let pointer = sa_pointer.unwrap_or_else(|| pod.ptr.to_string());
                let whose = match sa {
                    Some(i) => {
                        let o = &cx.objects[i];
                        format!(
                            "neither the pod nor the ServiceAccount ({}:{}) sets `automountServiceAccountToken: false`",
                            cx.source_name(o.source),
                            o.pos("/metadata/name").line
                        )
                    }
                    None if sa_name == "default" => {
                        "the namespace's `default` ServiceAccount mounts one unless told otherwise".to_string()
                    }
                    None => "the ServiceAccount is not in these manifests (it may be defined elsewhere, with \
                             `automountServiceAccountToken: false`)"
                        .to_string(),
                };
                (
                    pointer,
                    format!("the pod mounts a token of ServiceAccount `{sa_name}` it does not appear to use: {whose}"),
                )
            };
            out.report(pod.object, pointer, message).help(
                "set `automountServiceAccountToken: false` on the pod or its ServiceAccount; if the app calls the \
                 API, bind a Role to its ServiceAccount",
            );
        }
    }
}
