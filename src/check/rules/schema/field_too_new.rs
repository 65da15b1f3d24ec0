use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::features::{self, Off, Use};
use crate::model::schema::{NEWEST_MINOR, field_path};

/// KP007: a field or value the target Kubernetes version does not honour yet.
pub struct FieldTooNew;

pub(super) static META: Meta = Meta {
    code: "KP007",
    name: "field-too-new",
    family: Family::Schema,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a field or value needs a feature that is off by default in the target Kubernetes version",
    what: "Compares every object with a table of fields and values that Kubernetes honours only from some \
           release on, each with the release where its feature gate is on by default: native sidecars \
           (`initContainers[].restartPolicy: Always`, SidecarContainers, 1.29), Job `podReplacementPolicy` \
           (JobPodReplacementPolicy, 1.29), `backoffLimitPerIndex`, `maxFailedIndexes` and `FailIndex` rules \
           (JobBackoffLimitPerIndex, 1.29), the lifecycle `sleep` action (PodLifecycleSleepAction, 1.30), \
           `appArmorProfile` (AppArmorFields, 1.30), `recursiveReadOnly` mounts (RecursiveReadOnlyMounts, 1.31), \
           `matchLabelKeys`/`mismatchLabelKeys` in pod affinity (MatchLabelKeysInPodAffinity, 1.31), Service \
           `trafficDistribution` (ServiceTrafficDistribution, 1.31), Job `successPolicy` (JobSuccessPolicy, \
           1.31), environment variable names outside `[-._a-zA-Z][-._a-zA-Z0-9]*` \
           (RelaxedEnvironmentVariableValidation, 1.32), Job `managedBy` (JobManagedBy, 1.32), a `sleep` of 0 \
           seconds (PodLifecycleSleepActionAllowZero, 1.33), `hostUsers: false` (UserNamespacesSupport, 1.33), \
           `supplementalGroupsPolicy: Strict` (SupplementalGroupsPolicy, 1.33), DNS search domains `.` or with \
           `_` (RelaxedDNSSearchValidation, 1.33), pod-level `resources` (PodLevelResources, 1.34), \
           `PreferSameZone`/`PreferSameNode` traffic distribution (PreferSameTrafficDistribution, 1.34), \
           `volumeAttributesClassName` (VolumeAttributesClass, 1.34), image volumes (ImageVolume, 1.35), \
           `fileKeyRef` (EnvFiles, 1.35), StatefulSet `maxUnavailable` (MaxUnavailableStatefulSet, 1.35) and HPA \
           `tolerance` (HPAConfigurableTolerance, 1.35). A feature counts from the release where its gate is on \
           by default, not from its alpha. Below the release that first has a field, KP001 also reports it as \
           unknown.",
    why: "A default cluster runs with alpha feature gates off, and the schema of its version shows alpha fields \
          all the same, so schema validation passes them. The API server then drops most such fields before \
          storing the object, without an error or a warning: a preStop `sleep` disappears with its hook and the \
          pod stops without draining, a native sidecar becomes an init container that never exits and the pod \
          never starts, a StatefulSet's `maxUnavailable` is gone and updates go one pod at a time. A value the \
          version does not accept yet, such as a `sleep` of 0 seconds before 1.33, is rejected and the object is \
          not created.",
    fix: "Write what the help line says for the target version, or raise the target (`--kubernetes`, \
          `.kubeproof.yaml`, the description's `cluster.kubernetes`) once the cluster runs that release. A cluster \
          that enables the gate itself can ignore the finding, with the reason.",
    fail: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cache
  namespace: shop
spec:
  serviceName: cache
  replicas: 6
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 2
  selector:
    matchLabels: { app: cache }
  template:
    metadata:
      labels: { app: cache }
    spec:
      containers:
        - name: cache
          image: registry.example.com/cache:2.1.0
"#,
    pass: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: cache
  namespace: shop
spec:
  serviceName: cache
  replicas: 6
  podManagementPolicy: Parallel
  updateStrategy:
    type: RollingUpdate
  selector:
    matchLabels: { app: cache }
  template:
    metadata:
      labels: { app: cache }
    spec:
      containers:
        - name: cache
          image: registry.example.com/cache:2.1.0
"#,
};

impl Check for FieldTooNew {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for (i, o) in cx.objects.iter().enumerate() {
            let missing: Vec<Use> = features::uses(&o.api_version, &o.kind, &o.value)
                .into_iter()
                .filter(|u| !u.feature.available(cx.minor))
                .collect();
            for u in missing.iter().filter(|u| !covered(u, &missing)) {
                out.report(i, u.pointer.clone(), message(u, cx.minor)).help(help(u, cx.minor));
            }
        }
    }
}

/// Whether an older feature at the same field or one that holds it is
/// reported instead: a zero `sleep` where `sleep` itself is dropped.
fn covered(u: &Use, all: &[Use]) -> bool {
    all.iter().any(|o| {
        o.feature.release < u.feature.release
            && (o.pointer == u.pointer || u.pointer.starts_with(&format!("{}/", o.pointer)))
    })
}

fn message(u: &Use, minor: u32) -> String {
    let f = u.feature;
    let head = format!("`{}` needs Kubernetes 1.{} for {}", field_path(&u.pointer), f.release, f.what);
    match (f.off, f.alpha) {
        (_, Some(alpha)) if minor < alpha => format!(
            "{head}: 1.{minor} does not have the field (`kubectl apply` refuses it, other clients lose it with at most a warning)"
        ),
        (Off::Dropped, _) => format!(
            "{head}: in 1.{minor} the {} feature gate is off by default, and the API server drops the field without a word",
            f.gate
        ),
        (Off::Rejected, _) => {
            format!("{head}: 1.{minor} rejects the value ({} is off by default) and the object is not created", f.gate)
        }
    }
}

fn help(u: &Use, minor: u32) -> String {
    let f = u.feature;
    let later = if f.release > NEWEST_MINOR {
        format!("Kubernetes 1.{} turns it on by default", f.release)
    } else {
        format!("or target 1.{} or later", f.release)
    };
    format!("for 1.{minor}, {}; {later} ({}, {})", f.instead, f.gate, f.source())
}
