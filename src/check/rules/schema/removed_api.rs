use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::schema::lifecycle;

/// KP002: an apiVersion the target Kubernetes version no longer serves.
pub struct RemovedApi;

static META: Meta = Meta {
    code: "KP002",
    name: "removed-api",
    family: Family::Schema,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "the apiVersion was removed from the target Kubernetes version",
    what: "Compares each object's apiVersion and kind with the Kubernetes deprecated API migration guide: \
           `extensions/v1beta1`, `apps/v1beta1` and `v1beta2` (removed in 1.16), `networking.k8s.io/v1beta1` \
           Ingress and the other 1.22 removals, `batch/v1beta1` CronJob, `policy/v1beta1` \
           PodDisruptionBudget and PodSecurityPolicy, `autoscaling/v2beta1` (1.25), `autoscaling/v2beta2` \
           (1.26), `storage.k8s.io/v1beta1` CSIStorageCapacity (1.27), flowcontrol `v1beta2` (1.29) and \
           `v1beta3` (1.32).",
    why: "The API server of the target version answers `no matches for kind` and the object is not \
          created: a chart or manifest that worked on the old cluster fails on the upgraded one.",
    fix: "Change the apiVersion to the one named in the help line and review the fields that changed \
          between versions (for example Ingress `backend.serviceName` became `backend.service.name`).",
    fail: r#"
apiVersion: policy/v1beta1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  minAvailable: 1
  selector:
    matchLabels: { app: web }
"#,
    pass: r#"
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
  namespace: shop
spec:
  minAvailable: 1
  selector:
    matchLabels: { app: web }
"#,
};

impl Check for RemovedApi {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for (i, o) in cx.objects.iter().enumerate() {
            let Some(l) = lifecycle(&o.api_version, &o.kind) else { continue };
            let Some(removed) = l.removed.filter(|r| *r <= cx.minor) else { continue };
            out.report(
                i,
                "/apiVersion",
                format!(
                    "`{}` {} is not served since Kubernetes 1.{removed} (the target is 1.{})",
                    o.api_version, o.kind, cx.minor
                ),
            )
            .help(cx.schemas.replacement(l, &o.kind));
        }
    }
}
