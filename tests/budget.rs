//! `kubeproof budget` through the binary: the health-platform figures against
//! a hand calculation, the table, JSON, exit codes, `--env`, `--capacity`,
//! manifests from stdin and bad input.

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;

const MI: u64 = 1 << 20;
const GI: u64 = 1 << 30;

/// Runs `kubeproof ARGS` with `stdin`; (exit code, stdout, stderr).
fn run(args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(common::bin())
        .args(args)
        .current_dir(common::repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubeproof runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let out = child.wait_with_output().expect("kubeproof ends");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json(args: &[&str], stdin: &str) -> (i32, Value) {
    let (code, out, err) = run(args, stdin);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}\n{err}"));
    (code, v)
}

/// (pods, CPU requests m, CPU limits m, memory requests, memory limits, storage)
type Row = (u64, u64, u64, u64, u64, u64);

fn row(a: &Value) -> Row {
    let n = |k: &str| a[k].as_u64().unwrap_or_else(|| panic!("{k} in {a}"));
    (
        n("pods"),
        n("cpuRequestsMillis"),
        n("cpuLimitsMillis"),
        n("memoryRequestsBytes"),
        n("memoryLimitsBytes"),
        n("storageBytes"),
    )
}

#[test]
fn health_platform_matches_the_hand_calculation() {
    let (code, v) = json(&["budget", "examples/health-platform.yaml", "--format", "json"], "");
    assert_eq!(code, 1, "requests exceed the cluster: exit 1");
    let envs = v["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1, "no environments: the single `default` overlay");
    let e = &envs[0];
    assert_eq!(e["environment"], "default");
    assert_eq!(e["capacity"]["cpuMillis"], 4000);
    assert_eq!(e["capacity"]["memoryBytes"], 24 * GI);
    assert_eq!(e["capacity"]["storageBytes"], 200 * GI);
    let ns = |name: &str, scale: &str| row(&e["namespaces"][name][scale]);

    // health-api: health-api, HPA 2–5, requests 500m/512Mi, limits 1 CPU/1Gi.
    //   min 2 pods: CPU 2 × 500 = 1000m, limits 2 × 1000 = 2000m,
    //               memory 2 × 512Mi = 1024Mi, limits 2 × 1Gi = 2Gi
    //   max 5 pods: CPU 5 × 500 = 2500m, limits 5000m, memory 2560Mi, limits 5Gi
    assert_eq!(ns("health-api", "min"), (2, 1000, 2000, 1024 * MI, 2 * GI, 0));
    assert_eq!(ns("health-api", "max"), (5, 2500, 5000, 2560 * MI, 5 * GI, 0));

    // health-auth: webauthn-gateway 2 × (100m, 128Mi, memory limit 256Mi) and
    //   webauthn-server 2 × (250m, 256Mi, memory limit 512Mi); no CPU limits.
    //   CPU 2 × 100 + 2 × 250 = 700m; memory 2 × 128 + 2 × 256 = 768Mi;
    //   memory limits 2 × 256 + 2 × 512 = 1536Mi; CPU limits: none (4 containers).
    assert_eq!(ns("health-auth", "min"), (4, 700, 0, 768 * MI, 1536 * MI, 0));
    assert_eq!(ns("health-auth", "min"), ns("health-auth", "max"));
    assert_eq!(e["namespaces"]["health-auth"]["min"]["containersWithoutCpuLimit"], 4);

    // health-data: six single-replica StatefulSets, memory limit = request.
    //   CPU    health-data 500 + webauthn-auth 250 + health 100 + webauthn 100
    //          + datalake 250 + queue 250                          = 1450m
    //   memory 1024 + 512 + 256 + 256 + 1024 + 512                  = 3584Mi
    //   storage (volumeClaimTemplates × 1) 60 + 20 + 5 + 5 + 80 + 15 = 185Gi
    assert_eq!(ns("health-data", "min"), (6, 1450, 0, 3584 * MI, 3584 * MI, 185 * GI));
    assert_eq!(ns("health-data", "min"), ns("health-data", "max"));

    // health-etl: etl-engine HPA 1–3, 200m/1Gi, limits 1 CPU/2Gi, and one
    //   1Gi ReadWriteMany claim shared by all replicas (counted once).
    //   min 1 pod: 200m, limits 1000m, 1Gi, limits 2Gi, storage 1Gi
    //   max 3 pods: 600m, limits 3000m, 3Gi, limits 6Gi, storage 1Gi
    assert_eq!(ns("health-etl", "min"), (1, 200, 1000, GI, 2 * GI, GI));
    assert_eq!(ns("health-etl", "max"), (3, 600, 3000, 3 * GI, 6 * GI, GI));

    // health-observability: one replica each, no CPU limits.
    //   CPU    prometheus 500 + grafana 150 + jaeger 200 + loki 250 + alertmanager 100 = 1200m
    //   memory 2048 + 256 + 512 + 512 + 128                                          = 3456Mi
    //   limits 3072 + 512 + 1024 + 1024 + 256                                        = 5888Mi
    //   storage 20 + 5 + 10 + 5 + 5                                                   = 45Gi
    assert_eq!(ns("health-observability", "min"), (5, 1200, 0, 3456 * MI, 5888 * MI, 45 * GI));

    // Totals at minimum scale:
    //   pods    2 + 4 + 6 + 1 + 5                    = 18
    //   CPU     1000 + 700 + 1450 + 200 + 1200       = 4550m  > 4000m by 550m
    //   limits  2000 + 0 + 0 + 1000 + 0              = 3000m (a lower bound)
    //   memory  1024 + 768 + 3584 + 1024 + 3456      = 9856Mi < 24Gi
    //   limits  2048 + 1536 + 3584 + 2048 + 5888     = 15104Mi
    //   storage 0 + 0 + 185 + 1 + 45                 = 231Gi  > 200Gi by 31Gi
    assert_eq!(row(&e["total"]["min"]), (18, 4550, 3000, 9856 * MI, 15104 * MI, 231 * GI));
    // At maximum scale: health-api 5 and etl-engine 3 replicas.
    //   pods    5 + 4 + 6 + 3 + 5                    = 23
    //   CPU     2500 + 700 + 1450 + 600 + 1200       = 6450m  > 4000m by 2450m
    //   limits  5000 + 3000                          = 8000m
    //   memory  2560 + 768 + 3584 + 3072 + 3456      = 13440Mi
    //   limits  5120 + 1536 + 3584 + 6144 + 5888     = 22272Mi
    assert_eq!(row(&e["total"]["max"]), (23, 6450, 8000, 13440 * MI, 22272 * MI, 231 * GI));

    let exceeds: Vec<(String, String, u64, u64)> = e["exceeds"]
        .as_array()
        .expect("exceeds")
        .iter()
        .map(|x| {
            (
                x["resource"].as_str().unwrap_or("").to_string(),
                x["scale"].as_str().unwrap_or("").to_string(),
                x["requested"].as_u64().unwrap_or(0),
                x["capacity"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    let own = |r: &str, s: &str, a: u64, b: u64| (r.to_string(), s.to_string(), a, b);
    assert_eq!(
        exceeds,
        vec![
            own("cpu", "min", 4550, 4000),
            own("storage", "min", 231 * GI, 200 * GI),
            own("cpu", "max", 6450, 4000),
            own("storage", "max", 231 * GI, 200 * GI),
        ]
    );

    // Suggestions: each option's saving is the recomputed budget's.
    let s = &e["suggestions"];
    assert_eq!(s["scale"], "min");
    let opt = |change: &str| {
        s["options"]
            .as_array()
            .expect("options")
            .iter()
            .find(|o| o["change"].as_str().is_some_and(|c| c.starts_with(change)))
            .unwrap_or_else(|| panic!("no option `{change}` in {s}"))
            .clone()
    };
    // Dropping Loki (log aggregation): −250m, −512Mi, −5Gi; not enough alone.
    let loki = opt("drop `loki`");
    assert_eq!((&loki["savesCpuMillis"], &loki["savesMemoryBytes"]), (&250.into(), &(512 * MI).into()));
    assert_eq!((&loki["savesStorageBytes"], &loki["fits"]), (&(5 * GI).into(), &false.into()));
    // health-api down to 1 replica: −500m (4050m is still > 4000m).
    assert_eq!(opt("`health-api`: replicas min 2 → 1")["savesCpuMillis"], 500);
    // The data lake 31Gi smaller: 80Gi → 49Gi brings storage to 200Gi exactly.
    assert_eq!(opt("datastore `datalake`: storage 80Gi → 49Gi")["savesStorageBytes"], 31 * GI);
    // Prometheus with half the volume (shorter retention): −10Gi.
    assert_eq!(opt("`prometheus` volume `data`: size 20Gi → 10Gi")["savesStorageBytes"], 10 * GI);
    assert!(s["options"].as_array().is_some_and(|o| o.iter().all(|o| o["fits"] == false)), "none fits alone");
    let combos = s["combinations"].as_array().expect("combinations");
    assert!(!combos.is_empty(), "some combination fits: {s}");
    // Scale 0.85: every request ×0.85 rounded up; CPU 4550 → 3871m (< 4000m).
    assert!(
        combos.iter().any(|c| c.to_string().contains("scale 0.85") && c.to_string().contains("`datalake`")),
        "{combos:?}"
    );
}

#[test]
fn health_platform_table_says_what_exceeds_and_what_fits() {
    let (code, out, _) = run(&["budget", "examples/health-platform.yaml"], "");
    assert_eq!(code, 1);
    for line in [
        "environment default: cluster capacity 4000m CPU, 24Gi memory, 200Gi storage, 3 nodes",
        "at minimum scale: CPU requests 4550m exceed the capacity 4000m by 550m",
        "at minimum scale: storage 231Gi exceeds the capacity 200Gi by 31Gi",
        "at maximum scale: CPU requests 6450m exceed the capacity 4000m by 2450m",
        "no single option fits; together these do (each verified):",
    ] {
        assert!(out.contains(line), "missing `{line}` in:\n{out}");
    }
    let header = out.lines().find(|l| l.starts_with("NAMESPACE")).expect("header");
    for col in ["PODS", "CPU REQUESTS", "CPU LIMITS", "MEMORY REQUESTS", "MEMORY LIMITS", "STORAGE"] {
        assert!(header.contains(col), "{header}");
    }
    let total = out.lines().find(|l| l.starts_with("total ")).expect("total row");
    assert!(total.contains("4550m / 6450m") && total.contains("231Gi"), "{total}");
    assert!(out.contains("drop `loki` (log aggregation)"), "{out}");
}

#[test]
fn capacity_flag_overrides_the_description() {
    // 8 CPU and 300Gi: everything fits at both scales.
    let (code, out, err) = run(&["budget", "examples/health-platform.yaml", "--capacity", "cpu=8,storage=300Gi"], "");
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("8000m CPU, 24Gi memory, 300Gi storage"), "{out}");
    assert!(out.contains("at minimum scale: the requests fit the capacity"), "{out}");
    // Only the maximum exceeds: exit 0, with a line saying so.
    let (code, out, _) = run(&["budget", "examples/health-platform.yaml", "--capacity", "cpu=5,storage=300Gi"], "");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("at maximum scale: CPU requests 6450m exceed the capacity 5000m by 1450m"), "{out}");
    let (code, _, err) = run(&["budget", "examples/health-platform.yaml", "--capacity", "cpu=4,disk=1Gi"], "");
    assert_eq!(code, 2);
    assert!(err.contains("unknown capacity `disk`"), "{err}");
}

#[test]
fn env_selects_one_environment() {
    // kailash declares 24 CPUs, which staging fits: exit 0.
    let (code, v) = json(&["budget", "examples/kailash.yaml", "--format", "json", "--env", "staging"], "");
    assert_eq!(code, 0, "{v}");
    let envs = v["environments"].as_array().expect("environments");
    assert_eq!(envs.len(), 1);
    assert_eq!(envs[0]["environment"], "staging");
    let (code, _, err) = run(&["budget", "examples/kailash.yaml", "--env", "stagin"], "");
    assert_eq!(code, 2);
    assert!(err.contains("no environment `stagin`") && err.contains("did you mean `staging`"), "{err}");
    let (code, _, err) = run(&["budget", "examples/health-platform.yaml", "--env", "prod"], "");
    assert_eq!(code, 2, "{err}");
}

#[test]
fn every_example_is_budgeted() {
    for ex in common::examples() {
        let path = ex.to_string_lossy().into_owned();
        let (code, v) = json(&["budget", &path, "--format", "json"], "");
        assert!(code == 0 || code == 1, "{path}: exit {code}");
        let envs = v["environments"].as_array().expect("environments");
        assert!(!envs.is_empty(), "{path}");
        let fit = envs.iter().all(|e| e["exceeds"].as_array().is_some_and(|x| x.iter().all(|x| x["scale"] == "max")));
        assert_eq!(code == 0, fit, "{path}: exit 0 exactly when every environment fits at minimum scale");
    }
}

const MESHED: &str = r#"
apiVersion: v1
kind: Namespace
metadata: { name: shop, labels: { istio-injection: enabled } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata:
      labels: { app: api }
      annotations: { sidecar.istio.io/proxyCPU: 50m }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          resources:
            requests: { cpu: 250m, memory: 256Mi }
            limits: { cpu: "1", memory: 512Mi }
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: { name: api, namespace: shop }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: api }
  minReplicas: 2
  maxReplicas: 4
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: data }
spec:
  replicas: 2
  serviceName: db
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec:
      containers:
        - name: db
          image: docker.io/library/postgres:16.4
          resources: { requests: { cpu: 500m, memory: 1Gi } }
  volumeClaimTemplates:
    - metadata: { name: data }
      spec:
        accessModes: [ReadWriteOnce]
        resources: { requests: { storage: 10Gi } }
"#;

#[test]
fn manifests_from_stdin_with_sidecars_and_claim_templates() {
    let (code, v) = json(&["budget", "-", "--format", "json"], MESHED);
    assert_eq!(code, 0, "no capacity: nothing to exceed");
    let m = &v["manifests"];
    // shop: 2–4 pods × (api 250m/256Mi + istio-proxy 50m (annotation)/128Mi);
    //   limits api 1000m/512Mi + proxy 2000m/1Gi (Istio defaults).
    assert_eq!(row(&m["namespaces"]["shop"]["min"]), (2, 600, 6000, 768 * MI, 3 * GI, 0));
    assert_eq!(row(&m["namespaces"]["shop"]["max"]), (4, 1200, 12000, 1536 * MI, 6 * GI, 0));
    // data: 2 × 500m/1Gi, memory limit unset, 2 × 10Gi claims; no sidecar.
    assert_eq!(row(&m["namespaces"]["data"]["min"]), (2, 1000, 0, 2 * GI, 0, 20 * GI));
    let (code, out, _) = run(&["budget", "-", "--capacity", "cpu=1500m,memory=8Gi,storage=10Gi"], MESHED);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("at minimum scale: CPU requests 1600m exceed the capacity 1500m by 100m"), "{out}");
    assert!(out.contains("at minimum scale: storage 20Gi exceeds the capacity 10Gi by 10Gi"), "{out}");
    assert!(out.contains("(includes the Istio sidecar of 2 pod(s) at minimum scale)"), "{out}");
}

#[test]
fn bad_input_is_reported_at_its_line_with_exit_2() {
    let (code, _, err) = run(&["budget", "-"], "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x\n");
    assert_eq!(code, 2);
    assert!(err.contains("--> <stdin>:4:1"), "{err}");
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("platform.yaml");
    std::fs::write(
        &bad,
        "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster:\n  kubernetes: \"1.30\"\n  capacity: { cpu: 4, memory: 24GB }\n",
    )
    .expect("write");
    let (code, _, err) = run(&["budget", &bad.to_string_lossy()], "");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("platform.yaml:5:"), "{err}");
    let (code, _, err) = run(&["budget", "--env", "prod", "-"], MESHED);
    assert_eq!(code, 2);
    assert!(err.contains("--env applies to a platform description"), "{err}");
}
