//! Schema validation (KP001) and API versions (KP002, KP006): everything
//! kubeproof generates passes at the Kubernetes version it declares and at
//! the newest vendored one; real mistakes are reported at the offending line.

use crate::common;

use std::path::Path;

use kubeproof::check::config::Config;

use kubeproof::check::report::{self, Format};
use kubeproof::check::{Outcome, check_text, diagnostic};
use kubeproof::model::schema::{NEWEST_MINOR, OLDEST_MINOR};
use kubeproof::model::{Loaded, load};

use common::{Failures, examples, have_kubectl, kustomize};

fn config(minor: u32) -> Config {
    Config { kubernetes: Some(format!("1.{minor}")), ..Config::default() }
}

/// The findings of the schema family's error and warning checks, rendered.
fn schema_findings(loaded: &Loaded, outcome: &Outcome) -> Option<String> {
    let mine: Vec<_> =
        outcome.findings.iter().filter(|f| matches!(f.code, "KP001" | "KP002" | "KP006")).cloned().collect();
    if mine.is_empty() {
        return None;
    }
    let only = Outcome { findings: mine, objects: outcome.objects };
    Some(report::render(Format::Text, loaded, &only, false))
}

fn minor_of(description: &Path) -> u32 {
    let platform =
        kubeproof::description::load(description).unwrap_or_else(|e| panic!("{}: {e:?}", description.display()));
    let v = platform.cluster.kubernetes.value.to_string();
    v.rsplit('.').next().and_then(|m| m.parse().ok()).unwrap_or_else(|| panic!("version {v}"))
}

#[test]
fn every_generated_object_passes_the_schema_of_its_version_and_the_newest() {
    if !have_kubectl() {
        return;
    }
    let mut failures = Failures::default();
    let mut checked = 0;
    for description in examples() {
        let name = common::stem(&description);
        let tmp = tempfile::tempdir().expect("temp dir");
        let out = tmp.path().join("deploy");
        if let Err(e) = common::try_gen(&description, &out) {
            failures.add(format!("{name}: gen"), e);
            continue;
        }
        let declared = minor_of(&description);
        let kustomize_dir = out.join("kustomize");
        // The base as written on disk (kustomization.yaml included), and every overlay as built.
        let mut inputs = vec![("base".to_string(), None)];
        for env in common::overlays(&out) {
            let overlay = kustomize_dir.join("overlays").join(&env);
            common::prepare_secrets(&overlay);
            match kustomize(&overlay) {
                Ok(yaml) => inputs.push((format!("overlays/{env}"), Some(yaml))),
                Err(e) => failures.add(format!("{name}: overlays/{env}"), e),
            }
        }
        for (what, yaml) in &inputs {
            for minor in [declared, NEWEST_MINOR] {
                let (loaded, outcome) = match yaml {
                    Some(y) => check_text(what, y, &config(minor)),
                    None => {
                        let loaded = load::load(&[kustomize_dir.join("base")]);
                        let outcome = kubeproof::check::run(&loaded, &config(minor));
                        (loaded, outcome)
                    }
                };
                assert!(loaded.errors.is_empty(), "{name} {what}: {:?}", loaded.errors);
                checked += loaded.objects.len();
                if let Some(r) = schema_findings(&loaded, &outcome) {
                    failures.add(format!("{name}: {what} at Kubernetes 1.{minor}"), r);
                }
            }
        }
    }
    assert!(checked > 0);
    failures.assert_none(&format!("{checked} object checks"));
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> u32 {
    let i = text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in the fixture"));
    u32::try_from(i + 1).expect("small")
}

/// `(code, line marker, message part, help part)` expected in `text` at `minor`, and nothing else of KP001/2/6.
fn expect(text: &str, minor: u32, expected: &[(&str, &str, &str, &str)]) {
    let (loaded, outcome) = check_text("case.yaml", text, &config(minor));
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let got: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| matches!(f.code, "KP001" | "KP002" | "KP006"))
        .map(|f| diagnostic(f, &loaded))
        .collect();
    let rendered = || report::render(Format::Text, &loaded, &outcome, false);
    for (code, marker, message, help) in expected {
        let line = line_of(text, marker);
        let found = got.iter().any(|d| {
            d.code.as_deref() == Some(*code)
                && d.pos.line == line
                && d.message.contains(message)
                && d.help.as_deref().unwrap_or_default().contains(help)
        });
        assert!(
            found,
            "expected {code} at line {line} ({marker:?}) saying {message:?} / {help:?}; got:\n{}",
            rendered()
        );
    }
    assert_eq!(got.len(), expected.len(), "unexpected findings:\n{}", rendered());
}

#[test]
fn a_misspelt_field_is_reported_at_its_key_with_a_suggestion() {
    let text = "\
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      contianers:
        - name: web
          image: registry.example.com/web:1.0.0
";
    expect(
        text,
        NEWEST_MINOR,
        &[
            ("KP001", "contianers", "unknown field `contianers` in `spec.template.spec`", "did you mean `containers`?"),
            ("KP001", "    spec:", "`spec.template.spec` is missing the required field `containers`", ""),
        ],
    );
}

#[test]
fn wrong_types_quantities_and_base64_are_reported() {
    let text = "\
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports:
    - name: http
      port: \"80\"
      targetPort: http
---
apiVersion: v1
kind: Pod
metadata:
  name: job
  namespace: shop
  annotations:
    prometheus.io/port: 9090
spec:
  containers:
    - name: job
      image: registry.example.com/job:1.0.0
      resources:
        limits: { memory: 1GB }
---
apiVersion: v1
kind: Secret
metadata: { name: db, namespace: shop }
data:
  password: s3cret
";
    expect(
        text,
        NEWEST_MINOR,
        &[
            ("KP001", "port: \"80\"", "expected an integer, found string \"80\"", "write 80 without quotes"),
            ("KP001", "prometheus.io/port", "expected a string, found integer 9090", "quote it: \"9090\""),
            ("KP001", "memory: 1GB", "`1GB` is not a Kubernetes quantity", "1Gi"),
            ("KP001", "password: s3cret", "`data.password`: not valid base64", "stringData"),
        ],
    );
}

#[test]
fn an_old_ingress_backend_is_reported_field_by_field() {
    let text = "\
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: shop }
spec:
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            backend:
              serviceName: web
              servicePort: 80
";
    expect(
        text,
        NEWEST_MINOR,
        &[
            ("KP001", "serviceName", "unknown field `serviceName`", "service"),
            ("KP001", "servicePort", "unknown field `servicePort`", "service"),
            ("KP001", "- path: /", "is missing the required field `pathType`", ""),
        ],
    );
}

#[test]
fn removed_and_deprecated_api_versions_depend_on_the_target() {
    let cronjob = "\
apiVersion: batch/v1beta1
kind: CronJob
metadata: { name: nightly, namespace: shop }
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{ name: job, image: registry.example.com/job:1.0.0 }]
";
    expect(
        cronjob,
        OLDEST_MINOR,
        &[("KP002", "apiVersion", "not served since Kubernetes 1.25", "`apiVersion: batch/v1`")],
    );

    let flow = "\
apiVersion: flowcontrol.apiserver.k8s.io/v1beta3
kind: FlowSchema
metadata: { name: batch }
spec:
  priorityLevelConfiguration: { name: workload-low }
";
    expect(flow, 28, &[]);
    expect(
        flow,
        30,
        &[(
            "KP006",
            "apiVersion",
            "deprecated since Kubernetes 1.29, and removed in 1.32",
            "flowcontrol.apiserver.k8s.io/v1`",
        )],
    );
    expect(
        flow,
        32,
        &[("KP002", "apiVersion", "not served since Kubernetes 1.32", "flowcontrol.apiserver.k8s.io/v1`")],
    );
    // The near miss: the same kind at the apiVersion that replaces it, served by then.
    expect(&flow.replace("/v1beta3", "/v1"), 30, &[]);

    let unknown = "\
apiVersion: apps/v1beta3
kind: Deployment
metadata: { name: web }
---
apiVersion: batch/v1
kind: Cronjob
metadata: { name: nightly }
";
    expect(
        unknown,
        NEWEST_MINOR,
        &[
            (
                "KP001",
                "apps/v1beta3",
                "`apps/v1beta3` is not served by Kubernetes 1.34",
                "Deployment is served as `apps/v1`",
            ),
            ("KP001", "kind: Cronjob", "`batch/v1` has no kind `Cronjob`", "did you mean `CronJob`?"),
        ],
    );
}

#[test]
fn int_or_string_fields_take_both() {
    let text = "\
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: web, namespace: shop }
spec:
  maxUnavailable: 50%
  selector: { matchLabels: { app: web } }
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: { name: api, namespace: shop }
spec:
  minAvailable: 1
  selector: { matchLabels: { app: api } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  ports: [{ port: 80, targetPort: http }, { name: b, port: 81, targetPort: 8081 }]
";
    expect(text, NEWEST_MINOR, &[]);
}

#[test]
fn custom_resources_are_checked_against_their_carried_crds() {
    let text = "\
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  endpoints:
    - port: http
      intervall: 30s
---
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: { name: web, namespace: shop }
spec:
  hosts: [web]
  http:
    - route:
        - destination: { host: web }
          wieght: 100
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: { name: web, namespace: shop }
spec: { dnsNames: [shop.example.com], issuerRef: { name: letsencrypt, kind: ClusterIssuer } }
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: { name: default, namespace: shop }
spec:
  mtls: { mode: STRIC }
---
apiVersion: velero.io/v1
kind: Schedule
metadata: { name: nightly, namespace: velero }
spec:
  schedule: \"0 3 * * *\"
  template: { includedNamespaces: [shop], ttl: 720h0m0s }
";
    expect(
        text,
        NEWEST_MINOR,
        &[
            ("KP001", "intervall", "unknown field `intervall` in `spec.endpoints[0]`", "did you mean `interval`?"),
            ("KP001", "wieght", "unknown field `wieght`", "did you mean `weight`?"),
            ("KP001", "dnsNames: [shop", "`spec` is missing the required field `secretName`", ""),
            ("KP001", "STRIC", "`STRIC` is not one of", "did you mean `STRICT`?"),
        ],
    );
}

/// `schemas/` is exactly what `scripts/vendor-schemas` writes (it needs python3 with PyYAML and
/// kubernetes-validate, which ./scripts/test installs).
#[test]
fn vendored_schemas_are_up_to_date() {
    if !common::have_validator() {
        return;
    }
    let out = std::process::Command::new("python3")
        .arg(common::repo().join("scripts/vendor-schemas"))
        .arg("--check")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "scripts/vendor-schemas --check: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
