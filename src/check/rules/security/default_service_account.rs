use super::common::service_account;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP119: a workload runs as its namespace's `default` ServiceAccount.
pub struct DefaultServiceAccount;

static META: Meta = Meta {
    code: "KP119",
    name: "default-service-account",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a workload runs as its namespace's `default` ServiceAccount",
    what: "Reports pod templates that name no ServiceAccount (`serviceAccountName`, or the deprecated \
           `serviceAccount`) or name `default`.",
    why: "The ServiceAccount is the pod's identity: RBAC, cloud workload identity (IRSA, GKE and Azure \
          Workload Identity), mesh authorization policies and audit logs all go by it. Every pod left on \
          `default` shares one identity, so access granted to one of them — often by a chart that binds \
          a Role to `default` — is granted to all, and nothing tells them apart in the logs.",
    fix: "Create a ServiceAccount per workload (with `automountServiceAccountToken: false` unless it calls \
          the API) and set `serviceAccountName` in the pod spec.",
    fail: r#"
apiVersion: v1
kind: ServiceAccount
metadata: { name: report, namespace: finance }
automountServiceAccountToken: false
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: report, namespace: finance }
spec:
  schedule: "0 6 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            seccompProfile: { type: RuntimeDefault }
          containers:
            - name: report
              image: ghcr.io/example/report:1.0.4
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: v1
kind: ServiceAccount
metadata: { name: report, namespace: finance }
automountServiceAccountToken: false
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: report, namespace: finance }
spec:
  schedule: "0 6 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          serviceAccountName: report
          securityContext:
            runAsNonRoot: true
            runAsUser: 10001
            seccompProfile: { type: RuntimeDefault }
          containers:
            - name: report
              image: ghcr.io/example/report:1.0.4
              securityContext:
                allowPrivilegeEscalation: false
                readOnlyRootFilesystem: true
                capabilities: { drop: [ALL] }
"#,
};

impl Check for DefaultServiceAccount {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            let (name, pointer) = service_account(&pod);
            if name != "default" {
                continue;
            }
            let message = if pointer.is_some() {
                "the pod runs as the namespace's `default` ServiceAccount, shared with every pod that names none"
            } else {
                "the pod names no ServiceAccount, so it runs as the namespace's `default` one, shared with every \
                 pod that names none"
            };
            out.report(pod.object, pointer.unwrap_or_else(|| pod.ptr.to_string()), message)
                .help("create a ServiceAccount for this workload and set `serviceAccountName`");
        }
    }
}
