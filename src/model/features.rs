//! Fields and values that Kubernetes honours only from some release on: one
//! table ([`FEATURES`]), each with its feature gate, the first release whose
//! default cluster honours it, and where to read about it. Check KP007
//! compares it with the target version, `gen` asks it before writing such a
//! field, and the generated README lists the releases a stack relies on.
//!
//! A feature counts from the release where its gate is on by default (beta or
//! GA), not from its alpha: a default cluster runs with alpha gates off, and
//! its API server then drops the field before storing the object, without a
//! warning (`dropDisabledFields` in kubernetes `pkg/api/pod/util.go`, and the
//! same in the Job, Service, StatefulSet, PVC and HPA strategies), or rejects
//! the value. The vendored OpenAPI schema of a release already shows alpha
//! fields, so schema validation (KP001) passes them.
//!
//! The stages are the versioned feature specs of kubernetes
//! `pkg/features/kube_features.go` and the milestones of each KEP
//! (`https://kep.k8s.io/N`). Only features on by default after 1.27, the
//! oldest supported target, are listed: older ones hold on every target.

use crate::model::Value;

use super::pods::template_pointers;
use super::pointer::escape;

/// What a cluster whose gate is off does with the field or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Off {
    /// The API server removes the field before storing the object, silently.
    Dropped,
    /// The API server refuses the object.
    Rejected,
}

/// Where a feature's field is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A pod spec: a Pod's, or a workload template's.
    Pod,
    /// Every container and init container of a pod spec.
    Container,
    /// Every init container of a pod spec.
    InitContainer,
    /// A Job spec: a Job's, or a CronJob's job template.
    Job,
    /// A claim spec: a PersistentVolumeClaim's, or a StatefulSet's claim templates.
    Claim,
    /// Objects of this API group and kind, from the object's root.
    Kind(&'static str, &'static str),
}

/// One place a feature shows: a path under a scope (`*` matches any key or
/// index), where the value found makes `when` true.
#[derive(Debug)]
pub struct Place {
    pub scope: Scope,
    pub path: &'static str,
    pub when: fn(&Value) -> bool,
}

/// A field or value that needs a release.
#[derive(Debug)]
pub struct Feature {
    /// The field as the API reference writes it, with the value if only a value needs the release.
    pub field: &'static str,
    /// What it gives, in a few words.
    pub what: &'static str,
    pub gate: &'static str,
    /// The first release whose API has the field (alpha); `None` for a value.
    pub alpha: Option<u32>,
    /// The first release whose default cluster honours it (the gate on by default).
    pub release: u32,
    pub off: Off,
    /// The KEP (`https://kep.k8s.io/N`) with the feature's stages.
    pub kep: u32,
    /// What to write instead for an older target.
    pub instead: &'static str,
    pub places: &'static [Place],
}

impl Feature {
    pub fn source(&self) -> String {
        format!("https://kep.k8s.io/{}", self.kep)
    }

    /// Whether a default cluster of Kubernetes 1.`minor` honours it.
    pub fn available(&self, minor: u32) -> bool {
        minor >= self.release
    }
}

fn set(v: &Value) -> bool {
    !v.is_null()
}
fn zero(v: &Value) -> bool {
    v.as_f64() == Some(0.0)
}
fn always(v: &Value) -> bool {
    v.as_str() == Some("Always")
}
fn is_false(v: &Value) -> bool {
    v.as_bool() == Some(false)
}
fn strict(v: &Value) -> bool {
    v.as_str() == Some("Strict")
}
fn recursive_read_only(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s != "Disabled")
}
fn prefer_same(v: &Value) -> bool {
    matches!(v.as_str(), Some("PreferSameZone" | "PreferSameNode"))
}
fn fail_index(v: &Value) -> bool {
    v.as_str() == Some("FailIndex")
}

/// An environment variable name the relaxed rule accepts (printable ASCII
/// but `=`) and the older one (`[-._a-zA-Z][-._a-zA-Z0-9]*`) does not.
fn relaxed_env_name(v: &Value) -> bool {
    let Some(name) = v.as_str() else { return false };
    let old_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
    let old = name.chars().next().is_some_and(|c| old_char(c) && !c.is_ascii_digit()) && name.chars().all(old_char);
    let relaxed = !name.is_empty() && name.chars().all(|c| (' '..='~').contains(&c) && c != '=');
    relaxed && !old
}

/// A DNS search domain only the relaxed rule accepts: `.`, or one with `_`.
fn relaxed_search(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s == "." || s.contains('_'))
}

pub static SLEEP_ACTION: Feature = Feature {
    field: "lifecycle.{preStop,postStart}.sleep",
    what: "the `sleep` action of container lifecycle hooks",
    gate: "PodLifecycleSleepAction",
    alpha: Some(29),
    release: 30,
    off: Off::Dropped,
    kep: 3960,
    instead: "run `sleep` in an `exec` hook (the image needs a `sleep` binary)",
    places: &[
        Place { scope: Scope::Container, path: "/lifecycle/preStop/sleep", when: set },
        Place { scope: Scope::Container, path: "/lifecycle/postStart/sleep", when: set },
    ],
};

pub static SLEEP_ZERO: Feature = Feature {
    field: "lifecycle.{preStop,postStart}.sleep.seconds: 0",
    what: "a `sleep` hook of zero seconds",
    gate: "PodLifecycleSleepActionAllowZero",
    alpha: None,
    release: 33,
    off: Off::Rejected,
    kep: 4818,
    instead: "leave the hook out: a zero-second sleep does nothing",
    places: &[
        Place { scope: Scope::Container, path: "/lifecycle/preStop/sleep/seconds", when: zero },
        Place { scope: Scope::Container, path: "/lifecycle/postStart/sleep/seconds", when: zero },
    ],
};

pub static SIDECARS: Feature = Feature {
    field: "initContainers[].restartPolicy: Always",
    what: "native sidecar containers",
    gate: "SidecarContainers",
    alpha: Some(28),
    release: 29,
    off: Off::Dropped,
    kep: 753,
    instead: "run it as a regular container (it then neither starts before the others nor outlives them)",
    places: &[Place { scope: Scope::InitContainer, path: "/restartPolicy", when: always }],
};

pub static POD_RESOURCES: Feature = Feature {
    field: "spec.resources",
    what: "pod-level resource requests and limits",
    gate: "PodLevelResources",
    alpha: Some(32),
    release: 34,
    off: Off::Dropped,
    kep: 2837,
    instead: "set requests and limits on each container",
    places: &[Place { scope: Scope::Pod, path: "/resources", when: set }],
};

pub static APPARMOR_FIELDS: Feature = Feature {
    field: "securityContext.appArmorProfile",
    what: "AppArmor profiles as security context fields",
    gate: "AppArmorFields",
    alpha: Some(30),
    release: 30,
    off: Off::Dropped,
    kep: 24,
    instead: "use the pod annotation `container.apparmor.security.beta.kubernetes.io/CONTAINER: runtime/default`",
    places: &[
        Place { scope: Scope::Pod, path: "/securityContext/appArmorProfile", when: set },
        Place { scope: Scope::Container, path: "/securityContext/appArmorProfile", when: set },
    ],
};

pub static USER_NAMESPACES: Feature = Feature {
    field: "spec.hostUsers: false",
    what: "user namespaces for pods",
    gate: "UserNamespacesSupport",
    alpha: Some(25),
    release: 33,
    off: Off::Dropped,
    kep: 127,
    instead: "remove it, keep `runAsNonRoot` and drop capabilities: the pod's root is the node's root",
    places: &[Place { scope: Scope::Pod, path: "/hostUsers", when: is_false }],
};

pub static SUPPLEMENTAL_GROUPS_POLICY: Feature = Feature {
    field: "securityContext.supplementalGroupsPolicy: Strict",
    what: "the `Strict` supplemental groups policy",
    gate: "SupplementalGroupsPolicy",
    alpha: Some(31),
    release: 33,
    off: Off::Dropped,
    kep: 3619,
    instead: "remove it and build the image without extra `/etc/group` memberships, which still apply",
    places: &[Place { scope: Scope::Pod, path: "/securityContext/supplementalGroupsPolicy", when: strict }],
};

pub static RECURSIVE_READ_ONLY: Feature = Feature {
    field: "volumeMounts[].recursiveReadOnly",
    what: "recursively read-only mounts",
    gate: "RecursiveReadOnlyMounts",
    alpha: Some(30),
    release: 31,
    off: Off::Dropped,
    kep: 3857,
    instead: "use `readOnly: true` alone, which leaves submounts writable",
    places: &[Place { scope: Scope::Container, path: "/volumeMounts/*/recursiveReadOnly", when: recursive_read_only }],
};

pub static IMAGE_VOLUMES: Feature = Feature {
    field: "volumes[].image",
    what: "OCI image volumes",
    gate: "ImageVolume",
    alpha: Some(31),
    release: 35,
    off: Off::Dropped,
    kep: 4639,
    instead: "copy the files into an `emptyDir` from an init container running that image",
    places: &[Place { scope: Scope::Pod, path: "/volumes/*/image", when: set }],
};

pub static ENV_FILES: Feature = Feature {
    field: "env[].valueFrom.fileKeyRef",
    what: "environment variables read from a file",
    gate: "EnvFiles",
    alpha: Some(34),
    release: 35,
    off: Off::Dropped,
    kep: 3721,
    instead: "use a ConfigMap or Secret key reference",
    places: &[Place { scope: Scope::Container, path: "/env/*/valueFrom/fileKeyRef", when: set }],
};

pub static RELAXED_ENV_NAMES: Feature = Feature {
    field: "env[].name outside [-._a-zA-Z][-._a-zA-Z0-9]*",
    what: "environment variable names of any printable character",
    gate: "RelaxedEnvironmentVariableValidation",
    alpha: None,
    release: 32,
    off: Off::Rejected,
    kep: 4369,
    instead: "use a name of letters, digits, `_`, `-` and `.` that does not start with a digit",
    places: &[Place { scope: Scope::Container, path: "/env/*/name", when: relaxed_env_name }],
};

pub static RELAXED_DNS_SEARCH: Feature = Feature {
    field: "dnsConfig.searches: `.` or a name with `_`",
    what: "DNS search domains of `.` or with underscores",
    gate: "RelaxedDNSSearchValidation",
    alpha: None,
    release: 33,
    off: Off::Rejected,
    kep: 4427,
    instead: "use search domains that are DNS names without `_`",
    places: &[Place { scope: Scope::Pod, path: "/dnsConfig/searches/*", when: relaxed_search }],
};

pub static AFFINITY_LABEL_KEYS: Feature = Feature {
    field: "podAffinityTerm.matchLabelKeys, mismatchLabelKeys",
    what: "`matchLabelKeys` and `mismatchLabelKeys` in pod (anti-)affinity",
    gate: "MatchLabelKeysInPodAffinity",
    alpha: Some(29),
    release: 31,
    off: Off::Dropped,
    kep: 3633,
    instead: "put the label values in `labelSelector` (old and new pods of a rollout then count together)",
    places: &[
        Place {
            scope: Scope::Pod,
            path: "/affinity/*/requiredDuringSchedulingIgnoredDuringExecution/*/matchLabelKeys",
            when: set,
        },
        Place {
            scope: Scope::Pod,
            path: "/affinity/*/requiredDuringSchedulingIgnoredDuringExecution/*/mismatchLabelKeys",
            when: set,
        },
        Place {
            scope: Scope::Pod,
            path: "/affinity/*/preferredDuringSchedulingIgnoredDuringExecution/*/podAffinityTerm/matchLabelKeys",
            when: set,
        },
        Place {
            scope: Scope::Pod,
            path: "/affinity/*/preferredDuringSchedulingIgnoredDuringExecution/*/podAffinityTerm/mismatchLabelKeys",
            when: set,
        },
    ],
};

pub static TRAFFIC_DISTRIBUTION: Feature = Feature {
    field: "Service spec.trafficDistribution",
    what: "traffic distribution preferences of Services",
    gate: "ServiceTrafficDistribution",
    alpha: Some(30),
    release: 31,
    off: Off::Dropped,
    kep: 4444,
    instead: "use the annotation `service.kubernetes.io/topology-mode: Auto` (topology-aware routing)",
    places: &[Place { scope: Scope::Kind("", "Service"), path: "/spec/trafficDistribution", when: set }],
};

pub static PREFER_SAME: Feature = Feature {
    field: "Service spec.trafficDistribution: PreferSameZone | PreferSameNode",
    what: "the `PreferSameZone` and `PreferSameNode` traffic distributions",
    gate: "PreferSameTrafficDistribution",
    alpha: None,
    release: 34,
    off: Off::Rejected,
    kep: 3015,
    instead: "use `PreferClose`, which `PreferSameZone` renames",
    places: &[Place { scope: Scope::Kind("", "Service"), path: "/spec/trafficDistribution", when: prefer_same }],
};

pub static POD_REPLACEMENT_POLICY: Feature = Feature {
    field: "Job spec.podReplacementPolicy",
    what: "replacing a Job's pods only once they are gone",
    gate: "JobPodReplacementPolicy",
    alpha: Some(28),
    release: 29,
    off: Off::Dropped,
    kep: 3939,
    instead: "remove it: a replacement pod starts while the failed one still terminates",
    places: &[Place { scope: Scope::Job, path: "/podReplacementPolicy", when: set }],
};

pub static BACKOFF_PER_INDEX: Feature = Feature {
    field: "Job spec.backoffLimitPerIndex, maxFailedIndexes, podFailurePolicy action FailIndex",
    what: "retry limits per index of indexed Jobs",
    gate: "JobBackoffLimitPerIndex",
    alpha: Some(28),
    release: 29,
    off: Off::Dropped,
    kep: 3850,
    instead: "use `backoffLimit` for the whole Job",
    places: &[
        Place { scope: Scope::Job, path: "/backoffLimitPerIndex", when: set },
        Place { scope: Scope::Job, path: "/maxFailedIndexes", when: set },
        Place { scope: Scope::Job, path: "/podFailurePolicy/rules/*/action", when: fail_index },
    ],
};

pub static SUCCESS_POLICY: Feature = Feature {
    field: "Job spec.successPolicy",
    what: "success policies of indexed Jobs",
    gate: "JobSuccessPolicy",
    alpha: Some(30),
    release: 31,
    off: Off::Dropped,
    kep: 3998,
    instead: "use `completions`: every index must then succeed",
    places: &[Place { scope: Scope::Job, path: "/successPolicy", when: set }],
};

pub static JOB_MANAGED_BY: Feature = Feature {
    field: "Job spec.managedBy",
    what: "Jobs handed to another controller",
    gate: "JobManagedBy",
    alpha: Some(30),
    release: 32,
    off: Off::Dropped,
    kep: 4368,
    instead: "remove it: the built-in Job controller runs the Job whatever the field says",
    places: &[Place { scope: Scope::Job, path: "/managedBy", when: set }],
};

pub static STATEFULSET_MAX_UNAVAILABLE: Feature = Feature {
    field: "StatefulSet spec.updateStrategy.rollingUpdate.maxUnavailable",
    what: "StatefulSet rolling updates of several pods at a time",
    gate: "MaxUnavailableStatefulSet",
    alpha: Some(24),
    release: 35,
    off: Off::Dropped,
    kep: 961,
    instead: "remove it: a rolling update replaces one pod at a time (stage it with `partition`)",
    places: &[Place {
        scope: Scope::Kind("apps", "StatefulSet"),
        path: "/spec/updateStrategy/rollingUpdate/maxUnavailable",
        when: set,
    }],
};

pub static VOLUME_ATTRIBUTES_CLASS: Feature = Feature {
    field: "PersistentVolumeClaim spec.volumeAttributesClassName",
    what: "volume attributes classes (IOPS, throughput) of claims",
    gate: "VolumeAttributesClass",
    alpha: Some(29),
    release: 34,
    off: Off::Dropped,
    kep: 3751,
    instead: "use a StorageClass with those parameters",
    places: &[Place { scope: Scope::Claim, path: "/volumeAttributesClassName", when: set }],
};

pub static HPA_TOLERANCE: Feature = Feature {
    field: "HorizontalPodAutoscaler spec.behavior.scaleUp.tolerance (and scaleDown)",
    what: "HPA tolerances per scaling direction",
    gate: "HPAConfigurableTolerance",
    alpha: Some(33),
    release: 35,
    off: Off::Dropped,
    kep: 4951,
    instead: "remove it: the cluster-wide tolerance (10% by default) applies",
    places: &[Place {
        scope: Scope::Kind("autoscaling", "HorizontalPodAutoscaler"),
        path: "/spec/behavior/*/tolerance",
        when: set,
    }],
};

/// Every feature, by release.
pub static FEATURES: &[&Feature] = &[
    &SIDECARS,
    &POD_REPLACEMENT_POLICY,
    &BACKOFF_PER_INDEX,
    &SLEEP_ACTION,
    &APPARMOR_FIELDS,
    &RECURSIVE_READ_ONLY,
    &AFFINITY_LABEL_KEYS,
    &TRAFFIC_DISTRIBUTION,
    &SUCCESS_POLICY,
    &RELAXED_ENV_NAMES,
    &JOB_MANAGED_BY,
    &SLEEP_ZERO,
    &USER_NAMESPACES,
    &SUPPLEMENTAL_GROUPS_POLICY,
    &RELAXED_DNS_SEARCH,
    &POD_RESOURCES,
    &PREFER_SAME,
    &VOLUME_ATTRIBUTES_CLASS,
    &IMAGE_VOLUMES,
    &ENV_FILES,
    &STATEFULSET_MAX_UNAVAILABLE,
    &HPA_TOLERANCE,
];

/// One use of a feature in an object: the JSON pointer of the field.
#[derive(Debug, Clone)]
pub struct Use {
    pub feature: &'static Feature,
    pub pointer: String,
}

/// Every feature of the table that an object uses, in table order, then by place.
pub fn uses(api_version: &str, kind: &str, value: &Value) -> Vec<Use> {
    let mut out = Vec::new();
    // Every check runs this on every object: the roots of a scope are found
    // once per object, and a pointer is written only for a field found.
    let mut roots_of: Vec<(Scope, Vec<String>)> = Vec::new();
    for place in FEATURES.iter().flat_map(|f| f.places) {
        if !roots_of.iter().any(|(s, _)| *s == place.scope) {
            roots_of.push((place.scope, roots(place.scope, api_version, kind)));
        }
    }
    let mut tokens: Vec<&str> = Vec::new();
    let mut path: Vec<Step> = Vec::new();
    for feature in FEATURES {
        for place in feature.places {
            let roots = roots_of.iter().find(|(s, _)| *s == place.scope).map_or(&[][..], |(_, r)| r.as_slice());
            for root in roots {
                tokens.clear();
                tokens.extend(root.split('/').skip(1).chain(place.path.split('/').skip(1)));
                walk(value, &tokens, &mut path, &mut |pointer, v| {
                    if !v.is_null() && (place.when)(v) {
                        out.push(Use { feature, pointer: pointer() });
                    }
                });
            }
        }
    }
    out
}

/// Whether an object of this kind can use a feature of the table: [`uses`]
/// finds none in the others, so they need not be converted for it (the
/// examples' ConfigMaps of dashboards and their rules were most of what
/// `gen` converted to list its prerequisites).
pub fn applies(api_version: &str, kind: &str) -> bool {
    FEATURES.iter().flat_map(|f| f.places).any(|place| !roots(place.scope, api_version, kind).is_empty())
}

/// The pointers (with `*` patterns) of a scope's roots in an object.
fn roots(scope: Scope, api_version: &str, kind: &str) -> Vec<String> {
    let group = super::gvk::split(api_version).0;
    let pod = template_pointers(kind).map(|(p, _)| p);
    match scope {
        Scope::Pod => pod.into_iter().map(String::from).collect(),
        Scope::Container => {
            pod.into_iter().flat_map(|p| [format!("{p}/containers/*"), format!("{p}/initContainers/*")]).collect()
        }
        Scope::InitContainer => pod.into_iter().map(|p| format!("{p}/initContainers/*")).collect(),
        Scope::Job => match (group, kind) {
            ("batch", "Job") => vec!["/spec".into()],
            ("batch", "CronJob") => vec!["/spec/jobTemplate/spec".into()],
            _ => Vec::new(),
        },
        Scope::Claim => match (group, kind) {
            ("", "PersistentVolumeClaim") => vec!["/spec".into()],
            ("apps", "StatefulSet") => vec!["/spec/volumeClaimTemplates/*/spec".into()],
            _ => Vec::new(),
        },
        Scope::Kind(g, k) => {
            if group == g && kind == k {
                vec![String::new()]
            } else {
                Vec::new()
            }
        }
    }
}

/// Calls `found` with the pointer and value of every match of `tokens`
/// (`*` is any key of a mapping or any index of a list) under `v`.
/// One step of the path `walk` is at.
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// Calls `found` with each value at `tokens` (`*` any key or index) and a
/// way to write its pointer.
fn walk<'a>(
    v: &'a Value,
    tokens: &[&str],
    path: &mut Vec<Step<'a>>,
    found: &mut dyn FnMut(&dyn Fn() -> String, &'a Value),
) {
    let Some((first, rest)) = tokens.split_first() else {
        let pointer = || {
            path.iter().fold(String::new(), |mut s, step| {
                match step {
                    Step::Key(k) => {
                        s.push('/');
                        s.push_str(&escape(k));
                    }
                    Step::Index(i) => s.push_str(&format!("/{i}")),
                }
                s
            })
        };
        found(&pointer, v);
        return;
    };
    match (v, *first) {
        (Value::Object(map), "*") => {
            for (k, child) in map {
                path.push(Step::Key(k));
                walk(child, rest, path, found);
                path.pop();
            }
        }
        (Value::Array(list), "*") => {
            for (i, child) in list.iter().enumerate() {
                path.push(Step::Index(i));
                walk(child, rest, path, found);
                path.pop();
            }
        }
        (Value::Object(map), key) => {
            if let Some((k, child)) = map.get_key_value(key) {
                path.push(Step::Key(k));
                walk(child, rest, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::value::value as json;

    #[test]
    fn the_table_is_ordered_by_release_and_every_release_is_checkable() {
        for pair in FEATURES.windows(2) {
            assert!(pair[0].release <= pair[1].release, "{} before {}", pair[0].gate, pair[1].gate);
        }
        for f in FEATURES {
            // A release at or below the oldest target would never be reported.
            assert!(f.release > super::super::schema::OLDEST_MINOR, "{}", f.gate);
            assert!(f.alpha.is_none_or(|a| a <= f.release), "{}", f.gate);
            assert!(!f.places.is_empty() && f.places.iter().all(|p| p.path.starts_with('/')), "{}", f.gate);
        }
    }

    /// The kinds that hold pods, Jobs, claims or a feature of their own may
    /// use one; a ConfigMap or a PrometheusRule cannot.
    #[test]
    fn features_apply_to_the_kinds_that_hold_their_places() {
        for (api_version, kind) in [
            ("apps/v1", "Deployment"),
            ("batch/v1", "CronJob"),
            ("v1", "Pod"),
            ("v1", "PersistentVolumeClaim"),
            ("v1", "Service"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
        ] {
            assert!(applies(api_version, kind), "{kind}");
        }
        for (api_version, kind) in [
            ("v1", "ConfigMap"),
            ("monitoring.coreos.com/v1", "PrometheusRule"),
            ("networking.k8s.io/v1", "NetworkPolicy"),
        ] {
            assert!(!applies(api_version, kind), "{kind}");
            let pod =
                json!({ "containers": [{ "name": "a", "lifecycle": { "preStop": { "sleep": { "seconds": 0 } } } }] });
            let v = json!({ "spec": { "template": { "spec": pod.clone() } }, "data": pod });
            assert!(uses(api_version, kind, &v).is_empty(), "{kind}");
        }
    }

    #[test]
    fn places_are_found_in_every_pod_kind_and_only_where_they_hold() {
        let pod = json!({
            "containers": [{ "name": "a", "lifecycle": { "preStop": { "sleep": { "seconds": 0 } } } }],
            "initContainers": [{ "name": "s", "restartPolicy": "Always" }, { "name": "i", "restartPolicy": "Never" }],
        });
        let cron = json!({ "spec": { "jobTemplate": { "spec": { "template": { "spec": pod } } } } });
        let found: Vec<(&str, String)> =
            uses("batch/v1", "CronJob", &cron).into_iter().map(|u| (u.feature.gate, u.pointer)).collect();
        let spec = "/spec/jobTemplate/spec/template/spec";
        assert_eq!(
            found,
            [
                ("SidecarContainers", format!("{spec}/initContainers/0/restartPolicy")),
                ("PodLifecycleSleepAction", format!("{spec}/containers/0/lifecycle/preStop/sleep")),
                ("PodLifecycleSleepActionAllowZero", format!("{spec}/containers/0/lifecycle/preStop/sleep/seconds")),
            ]
        );
        // Not a pod kind, or another API group's kind of the same name.
        assert!(uses("v1", "ConfigMap", &json!({ "spec": { "template": { "spec": pod } } })).is_empty());
        let knative = json!({ "spec": { "trafficDistribution": "PreferClose" } });
        assert!(uses("serving.knative.dev/v1", "Service", &knative).is_empty());
        assert_eq!(uses("v1", "Service", &knative).len(), 1);
    }

    #[test]
    fn env_names_are_relaxed_only_where_the_old_rule_refuses_them() {
        for ok in ["PORT", "_x", "a.b-c", "-x"] {
            assert!(!relaxed_env_name(&json!(ok)), "{ok}");
        }
        for relaxed in ["2FA_KEY", "my var", "a:b", "x@y"] {
            assert!(relaxed_env_name(&json!(relaxed)), "{relaxed}");
        }
        // Invalid either way: not this feature's business.
        assert!(!relaxed_env_name(&json!("A=B")) && !relaxed_env_name(&json!("")) && !relaxed_env_name(&json!("é")));
    }
}
