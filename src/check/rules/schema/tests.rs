//! KP007 against every row of the features table: each row's fixture is
//! reported one release before the feature is on by default and not from
//! that release on, and the table's alpha releases agree with the vendored
//! schemas (KP001 reports the field as unknown before its alpha).

use super::field_too_new::{FieldTooNew, META};
use crate::check::config::Config;
use crate::check::{Check, Context, Finding, Sink, check_text};
use crate::model::features::{FEATURES, Feature};
use crate::model::schema::{NEWEST_MINOR, OLDEST_MINOR, Schemas};
use crate::model::{Loaded, Manifests, Source, load};

/// KP007's findings on `text` with Kubernetes 1.`minor` as the target (any
/// minor: the releases of the table go past the newest vendored schema).
fn kp007(text: &str, minor: u32) -> Vec<Finding> {
    let mut loaded = Loaded::default();
    load::add_source(&mut loaded, Source { name: "t.yaml".into(), text: text.to_string() });
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let manifests = Manifests::new(&loaded);
    let schemas = Schemas::new(minor);
    let config = Config::default();
    let cx = Context::new(&manifests, &schemas, minor, &config);
    let mut sink = Sink::new(&META);
    FieldTooNew.run(&cx, &mut sink);
    sink.findings
}

/// The codes `check` reports on `text` for a vendored target version.
fn codes(text: &str, minor: u32) -> Vec<(&'static str, String)> {
    let config = Config { kubernetes: Some(format!("1.{minor}")), ..Default::default() };
    let (loaded, outcome) = check_text("t.yaml", text, &config);
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome.findings.into_iter().map(|f| (f.code, f.message)).collect()
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: { name: p, namespace: shop }\nspec:\n";

/// One object that uses the feature of each row, valid for the schema of its release.
fn fixture(f: &Feature) -> Option<String> {
    let pod = |spec: &str| format!("{POD}{spec}");
    let job = |spec: &str| {
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{ name: j, namespace: shop }}\nspec:\n{spec}  template:\n    \
             spec:\n      restartPolicy: Never\n      containers: [{{ name: j, image: x:1 }}]\n"
        )
    };
    Some(match f.gate {
        "SidecarContainers" => pod(
            "  initContainers: [{ name: proxy, image: x:1, restartPolicy: Always }]\n  containers: [{ name: a, image: x:1 }]\n",
        ),
        "JobPodReplacementPolicy" => job("  podReplacementPolicy: Failed\n"),
        "JobBackoffLimitPerIndex" => {
            job("  completionMode: Indexed\n  completions: 3\n  parallelism: 3\n  backoffLimitPerIndex: 1\n")
        }
        "PodLifecycleSleepAction" => r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: d, namespace: shop }
spec:
  selector: { matchLabels: { app: d } }
  template:
    metadata: { labels: { app: d } }
    spec:
      containers:
        - name: d
          image: x:1
          lifecycle: { preStop: { sleep: { seconds: 5 } } }
"#
        .into(),
        "AppArmorFields" => pod(
            "  securityContext: { appArmorProfile: { type: RuntimeDefault } }\n  containers: [{ name: a, image: x:1 }]\n",
        ),
        "RecursiveReadOnlyMounts" => {
            pod("  volumes: [{ name: v, emptyDir: {} }]\n  containers:\n    - name: a\n      image: x:1\n      \
             volumeMounts: [{ name: v, mountPath: /v, readOnly: true, recursiveReadOnly: IfPossible }]\n")
        }
        "MatchLabelKeysInPodAffinity" => {
            pod("  affinity:\n    podAntiAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        \
             - labelSelector: { matchLabels: { app: a } }\n          topologyKey: kubernetes.io/hostname\n          \
             matchLabelKeys: [pod-template-hash]\n  containers: [{ name: a, image: x:1 }]\n")
        }
        "ServiceTrafficDistribution" => {
            "apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: shop }\nspec:\n  \
             selector: { app: a }\n  ports: [{ port: 80 }]\n  trafficDistribution: PreferClose\n"
                .into()
        }
        "JobSuccessPolicy" => job(
            "  completionMode: Indexed\n  completions: 3\n  successPolicy: { rules: [{ succeededIndexes: \"0\" }] }\n",
        ),
        "RelaxedEnvironmentVariableValidation" => {
            pod("  containers: [{ name: a, image: x:1, env: [{ name: 2FA_KEY, value: x }] }]\n")
        }
        "JobManagedBy" => job("  managedBy: example.com/batch\n"),
        "PodLifecycleSleepActionAllowZero" => {
            pod("  containers: [{ name: a, image: x:1, lifecycle: { preStop: { sleep: { seconds: 0 } } } }]\n")
        }
        "UserNamespacesSupport" => pod("  hostUsers: false\n  containers: [{ name: a, image: x:1 }]\n"),
        "SupplementalGroupsPolicy" => {
            pod("  securityContext: { supplementalGroupsPolicy: Strict }\n  containers: [{ name: a, image: x:1 }]\n")
        }
        "RelaxedDNSSearchValidation" => {
            pod("  dnsConfig: { searches: [_sip._tcp.example.com] }\n  containers: [{ name: a, image: x:1 }]\n")
        }
        "PodLevelResources" => {
            pod("  resources: { limits: { cpu: \"1\", memory: 1Gi } }\n  containers: [{ name: a, image: x:1 }]\n")
        }
        "PreferSameTrafficDistribution" => "apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: shop }\n\
             spec:\n  selector: { app: a }\n  ports: [{ port: 80 }]\n  trafficDistribution: PreferSameZone\n"
            .into(),
        "VolumeAttributesClass" => {
            "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: c, namespace: shop }\n\
             spec:\n  accessModes: [ReadWriteOnce]\n  resources: { requests: { storage: 1Gi } }\n  \
             volumeAttributesClassName: fast\n"
                .into()
        }
        "ImageVolume" => pod(
            "  volumes: [{ name: m, image: { reference: \"registry.example.com/models:1\" } }]\n  containers:\n    \
             - name: a\n      image: x:1\n      volumeMounts: [{ name: m, mountPath: /models }]\n",
        ),
        "EnvFiles" => {
            pod("  volumes: [{ name: cfg, emptyDir: {} }]\n  containers:\n    - name: a\n      image: x:1\n      \
             env: [{ name: KEY, valueFrom: { fileKeyRef: { volumeName: cfg, path: k.env, key: KEY } } }]\n      \
             volumeMounts: [{ name: cfg, mountPath: /cfg }]\n")
        }
        "MaxUnavailableStatefulSet" => META.fail.into(),
        "HPAConfigurableTolerance" => "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n\
             metadata: { name: h, namespace: shop }\nspec:\n  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, \
             name: d }\n  maxReplicas: 4\n  behavior: { scaleUp: { tolerance: 50m } }\n"
            .into(),
        _ => return None,
    })
}

#[test]
fn every_row_is_reported_one_release_before_its_own_and_not_from_it() {
    for f in FEATURES {
        let text = fixture(f).unwrap_or_else(|| panic!("{}: no fixture", f.gate));
        let before = kp007(&text, f.release - 1);
        assert!(
            before.iter().any(|x| x.message.contains(f.what) && x.help.as_deref().is_some_and(|h| h.contains(f.gate))),
            "{} at 1.{}: {before:#?}",
            f.gate,
            f.release - 1
        );
        assert!(kp007(&text, f.release).is_empty(), "{} at 1.{}: {:#?}", f.gate, f.release, kp007(&text, f.release));
    }
}

#[test]
fn fixtures_are_valid_from_their_alpha_and_unknown_fields_before_it() {
    for f in FEATURES {
        let text = fixture(f).unwrap_or_default();
        // A value (no alpha of its own) is valid for the schema where KP007 reports it: no schema expresses it.
        let from = f.alpha.unwrap_or(f.release - 1).max(OLDEST_MINOR);
        let schema = |m: u32| codes(&text, m).into_iter().filter(|(c, _)| *c == "KP001").collect::<Vec<_>>();
        assert_eq!(schema(from), [], "{} at 1.{from}", f.gate);
        assert_eq!(schema(f.release.min(NEWEST_MINOR)), [], "{} at 1.{}", f.gate, f.release.min(NEWEST_MINOR));
        if let Some(alpha) = f.alpha.filter(|a| *a > OLDEST_MINOR) {
            let unknown = schema(alpha - 1);
            assert!(
                unknown.iter().any(|(_, m)| m.contains("unknown field")),
                "{} at 1.{}: {unknown:?}",
                f.gate,
                alpha - 1
            );
        }
    }
}

#[test]
fn before_its_alpha_a_field_is_said_to_be_missing_and_after_it_dropped_or_rejected() {
    let sidecar = fixture(&crate::model::features::SIDECARS).unwrap_or_default();
    let missing = kp007(&sidecar, 27);
    assert!(
        missing[0].message.ends_with(
            "1.27 does not have the field (`kubectl apply` refuses it, other clients lose it with at most a warning)"
        ),
        "{missing:?}"
    );
    let dropped = kp007(&sidecar, 28);
    assert_eq!(
        dropped[0].message,
        "`spec.initContainers[0].restartPolicy` needs Kubernetes 1.29 for native sidecar containers: in 1.28 the \
         SidecarContainers feature gate is off by default, and the API server drops the field without a word"
    );
    assert_eq!(dropped[0].pointer, "/spec/initContainers/0/restartPolicy");
    let zero = fixture(&crate::model::features::SLEEP_ZERO).unwrap_or_default();
    let rejected = kp007(&zero, 32);
    assert!(rejected[0].message.contains("1.32 rejects the value (PodLifecycleSleepActionAllowZero"), "{rejected:?}");
    assert!(rejected[0].help.as_deref().is_some_and(|h| h.starts_with("for 1.32, leave the hook out")), "{rejected:?}");
}

#[test]
fn a_value_is_not_reported_where_its_field_is_dropped_already() {
    let zero = fixture(&crate::model::features::SLEEP_ZERO).unwrap_or_default();
    let at29: Vec<_> = kp007(&zero, 29).into_iter().map(|f| f.pointer).collect();
    assert_eq!(at29, ["/spec/containers/0/lifecycle/preStop/sleep"]);
    let same = fixture(&crate::model::features::PREFER_SAME).unwrap_or_default();
    let at30 = kp007(&same, 30);
    assert_eq!(at30.len(), 1, "{at30:#?}");
    assert!(at30[0].message.contains("traffic distribution preferences"), "{at30:#?}");
}

#[test]
fn the_documentation_names_every_gate_of_the_table() {
    for f in FEATURES {
        assert!(META.what.contains(f.gate), "KP007's `what` does not name {}", f.gate);
        assert!(META.what.contains(&format!("{}, 1.{})", f.gate, f.release)), "{}: release", f.gate);
    }
}

/// (line, column, message) of KP001's findings on `text` at the newest version.
fn kp001(text: &str) -> Vec<(u32, u32, String)> {
    let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome
        .findings
        .iter()
        .filter(|f| f.code == "KP001")
        .map(|f| {
            let pos = loaded.objects[f.object].pos(&f.pointer);
            (pos.line, pos.column, f.message.clone())
        })
        .collect()
}

const SIZED: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  replicas: REPLICAS
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: GRACE
      containers:
        - name: web
          image: ghcr.io/example/web:1.0.0
          ports: [{ containerPort: PORT }]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  endpoints: [{ port: http }]
  sampleLimit: SAMPLES
"#;

fn sized(replicas: &str, port: &str, grace: &str, samples: &str) -> String {
    SIZED.replace("REPLICAS", replicas).replace("PORT", port).replace("GRACE", grace).replace("SAMPLES", samples)
}

#[test]
fn integers_past_their_format_are_reported_at_the_field() {
    assert_eq!(kp001(&sized("2147483647", "8080", "9223372036854775807", "4294967295")), vec![]);
    let found = kp001(&sized("3000000000", "2147483648", "9223372036854775808", "18446744073709551616"));
    let at: Vec<(u32, u32)> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(at, vec![(5, 3), (10, 7), (14, 21), (22, 3)], "{found:?}");
    assert!(found[0].2.contains("3000000000 does not fit in a 32-bit integer (at most 2147483647)"), "{found:?}");
    assert!(found[1].2.contains("does not fit in a 64-bit integer"), "{found:?}");
    assert!(found[2].2.contains("2147483648 does not fit in a 32-bit integer"), "{found:?}");
    let low = kp001(&sized("-2147483649", "8080", "0", "0"));
    assert!(
        low.len() == 1 && low[0].2.contains("-2147483649 does not fit in a 32-bit integer (at least -2147483648)"),
        "{low:?}"
    );
}

#[test]
fn service_ports_and_autoscaler_bounds_are_int32_too() {
    let text = r#"apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ port: 4294967376, targetPort: 8080, nodePort: 30080 }]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: web, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: web }
  minReplicas: 1
  maxReplicas: 99999999999
"#;
    let found = kp001(text);
    let at: Vec<(u32, u32)> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(at, vec![(7, 13), (15, 3)], "{found:?}");
    assert!(found.iter().all(|(_, _, m)| m.contains("does not fit in a 32-bit integer")), "{found:?}");
}

/// The "exactly one of" fields of a CRD (`oneOf` of branches that each
/// require one field) are named, whether two are set or one of them is
/// set wrong: read from the schema at the error's schema path.
#[test]
fn one_of_the_fields_a_crd_allows_is_named() {
    let rule = |lb: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{ name: api, namespace: shop }}\n\
             spec:\n  host: api\n  trafficPolicy:\n    loadBalancer: {lb}\n"
        )
    };
    let both = kp001(&rule("{ simple: ROUND_ROBIN, consistentHash: { httpHeaderName: x } }"));
    assert!(
        both.iter().any(|(line, _, m)| *line == 7 && m.contains("set at most one of `simple`, `consistentHash`")),
        "{both:?}"
    );
    assert!(kp001(&rule("{ simple: ROUND_ROBIN }")).is_empty());
}
