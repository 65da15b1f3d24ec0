//! The KP1xx family beyond its fixtures: passing fixtures are hardened
//! workloads that no security check reports, container settings override pod
//! ones, ServiceAccounts and bindings are looked up across objects, and two
//! checks never report the same defect twice.

use kubeproof::check::config::Config;
use kubeproof::check::{check_text, rules};

/// (code, line, message) of the KP1xx findings for `yaml`.
fn security(yaml: &str) -> Vec<(&'static str, u32, String)> {
    let (loaded, outcome) = check_text("t.yaml", yaml, &Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome
        .findings
        .iter()
        .filter(|f| f.code.starts_with("KP1"))
        .map(|f| (f.code, loaded.objects[f.object].pos(&f.pointer).line, f.message.clone()))
        .collect()
}

fn codes(yaml: &str) -> Vec<&'static str> {
    security(yaml).into_iter().map(|(c, _, _)| c).collect()
}

#[test]
fn passing_fixtures_of_the_family_are_hardened() {
    let mut problems = Vec::new();
    for check in rules::registry() {
        let m = check.meta();
        if !m.code.starts_with("KP1") {
            continue;
        }
        let found = security(m.pass);
        if !found.is_empty() {
            problems.push(format!("{}: the passing fixture is reported: {found:?}", m.code));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A hardened Deployment whose pod spec and container get `pod` and `container` added.
fn deployment(pod: &str, container: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{ name: app, namespace: shop }}
spec:
  selector: {{ matchLabels: {{ app: app }} }}
  template:
    metadata: {{ labels: {{ app: app }} }}
    spec:
      serviceAccountName: app
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {{ type: RuntimeDefault }}
{pod}
      containers:
        - name: app
          image: ghcr.io/example/app:1.0.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{ drop: [ALL] }}
{container}
"#
    )
}

#[test]
fn the_hardened_template_is_silent() {
    assert_eq!(codes(&deployment("", "")), Vec::<&str>::new());
}

#[test]
fn container_settings_override_pod_settings() {
    // The pod says non-root, the container says UID 0: reported at the container's field.
    let yaml = deployment("", "            runAsUser: 0");
    let found = security(&yaml);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "KP103");
    assert!(found[0].2.contains("container `app`"), "{found:?}");
    assert_eq!(yaml.lines().nth(found[0].1 as usize - 1).map(str::trim), Some("runAsUser: 0"));

    // The pod runs as root, but the container sets its own user: only others are affected.
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: shop }
spec:
  securityContext: { runAsUser: 0, seccompProfile: { type: Unconfined } }
  containers:
    - name: a
      image: x:1
      securityContext: { runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
    - name: b
      image: x:1
    - name: c
      image: x:1
"#;
    let found = security(yaml);
    let root: Vec<_> = found.iter().filter(|f| f.0 == "KP103").collect();
    assert_eq!(root.len(), 1, "{found:?}");
    assert!(root[0].2.contains("containers `b` and `c`"), "{root:?}");
    let unconfined: Vec<_> = found.iter().filter(|f| f.0 == "KP114").collect();
    assert_eq!(unconfined.len(), 1, "{found:?}");
    assert!(unconfined[0].2.contains("containers `b` and `c`") && !unconfined[0].2.contains("`a`"));
    assert!(!found.iter().any(|f| f.0 == "KP113"), "a set profile is not a missing one: {found:?}");
}

#[test]
fn init_containers_are_checked() {
    let yaml = deployment(
        "      initContainers:\n        - name: setup\n          image: ghcr.io/example/setup:1.0.0\n          \
         securityContext: { privileged: true }",
        "",
    );
    let found = security(&yaml);
    assert!(found.iter().any(|f| f.0 == "KP101" && f.2.contains("init container `setup`")), "{found:?}");
    // Privileged: escalation and capabilities are KP101's, not reported again.
    assert!(!found.iter().any(|f| f.0 == "KP102" || f.0 == "KP111"), "{found:?}");
}

#[test]
fn windows_and_user_namespaced_pods_are_judged_for_what_applies() {
    let windows = r#"
apiVersion: v1
kind: Pod
metadata: { name: w, namespace: shop }
spec:
  os: { name: windows }
  serviceAccountName: w
  automountServiceAccountToken: false
  containers:
    - { name: iis, image: "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022" }
"#;
    assert_eq!(codes(windows), Vec::<&str>::new());
    let userns = deployment("      hostUsers: false", "            runAsUser: 0");
    assert_eq!(codes(&userns), Vec::<&str>::new());
}

#[test]
fn service_account_token_follows_the_service_account() {
    let pod = |automount: &str| {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{ name: app, namespace: shop }}
spec:
  selector: {{ matchLabels: {{ app: app }} }}
  template:
    metadata: {{ labels: {{ app: app }} }}
    spec:
      serviceAccountName: app
{automount}
      containers: [{{ name: app, image: "x:1" }}]
"#
        )
    };
    let sa = |automount: &str| {
        format!("---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{ name: app, namespace: shop }}\n{automount}\n")
    };
    let kp118 = |yaml: String| codes(&yaml).iter().filter(|c| **c == "KP118").count();
    // The ServiceAccount is not in the set: judged by the pod alone.
    assert_eq!(kp118(pod("")), 1);
    assert_eq!(kp118(pod("      automountServiceAccountToken: false")), 0);
    // The ServiceAccount turns it off, and the pod does not turn it back on.
    assert_eq!(kp118(pod("") + &sa("automountServiceAccountToken: false")), 0);
    assert_eq!(kp118(pod("      automountServiceAccountToken: true") + &sa("automountServiceAccountToken: false")), 1);
    assert_eq!(kp118(pod("") + &sa("")), 1);
    // A ServiceAccount of the same name in another namespace does not count.
    let other = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: { name: app, namespace: billing \
                 }\nautomountServiceAccountToken: false\n";
    assert_eq!(kp118(pod("") + other), 1);
    // Bound to a Role: the pod uses its token.
    let binding = r#"---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: app, namespace: shop }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: app }
subjects: [{ kind: ServiceAccount, name: app, namespace: shop }]
"#;
    assert_eq!(kp118(pod("      automountServiceAccountToken: true") + binding), 0);
    let group = binding.replace(
        "{ kind: ServiceAccount, name: app, namespace: shop }",
        "{ kind: Group, name: \"system:serviceaccounts:shop\" }",
    );
    assert_eq!(kp118(pod("") + &group), 0);
}

#[test]
fn runtime_sockets_are_one_error_not_also_a_host_path_warning() {
    let yaml = deployment(
        "      volumes:\n        - { name: run, hostPath: { path: /run/containerd } }\n        - { name: logs, \
         hostPath: { path: /var/log } }",
        "          volumeMounts:\n            - { name: run, mountPath: /run/containerd }\n            - { name: \
         logs, mountPath: /var/log, readOnly: true }",
    );
    let found = security(&yaml);
    let codes: Vec<_> = found.iter().map(|f| f.0).collect();
    assert_eq!(codes, ["KP110", "KP109"], "{found:?}");
    assert!(found[1].2.contains("(read-only)"), "{found:?}");
}

#[test]
fn host_ports_of_host_network_pods_are_the_host_network_finding() {
    let yaml = deployment("      hostNetwork: true", "          ports: [{ containerPort: 9100, hostPort: 9100 }]");
    assert_eq!(codes(&yaml), ["KP105"]);
}

#[test]
fn sysctls_depend_on_the_target_version() {
    let pod = r#"
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: shop }
spec:
  securityContext:
    sysctls: [{ name: net.ipv4.tcp_rmem, value: "4096 87380 6291456" }]
  containers: [{ name: a, image: "x:1" }]
"#;
    let kp116 = |minor: &str| {
        let config = Config { kubernetes: Some(minor.to_string()), ..Config::default() };
        let (_, outcome) = check_text("t.yaml", pod, &config);
        outcome.findings.iter().filter(|f| f.code == "KP116").map(|f| f.message.clone()).collect::<Vec<_>>()
    };
    assert_eq!(kp116("1.32"), Vec::<String>::new());
    let old = kp116("1.30");
    assert_eq!(old.len(), 1);
    assert!(old[0].contains("only safe from Kubernetes 1.32"), "{old:?}");
}

#[test]
fn secrets_readable_through_aggregated_and_built_in_roles() {
    let yaml = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ops }
aggregationRule:
  clusterRoleSelectors: [{ matchLabels: { aggregate-to-ops: "true" } }]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ops-secrets, labels: { aggregate-to-ops: "true" } }
rules: [{ apiGroups: [""], resources: [secrets], verbs: [list] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ops }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops }
subjects: [{ kind: Group, name: ops }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: devs-edit }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit }
subjects: [{ kind: Group, name: devs }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: unknown }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: defined-elsewhere }
subjects: [{ kind: Group, name: devs }]
"#;
    let found: Vec<_> = security(yaml).into_iter().filter(|f| f.0 == "KP124").collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].2.contains("ClusterRole `ops`") && found[1].2.contains("ClusterRole `edit`"), "{found:?}");
}

#[test]
fn malformed_fields_do_not_panic() {
    let yaml = r#"
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: shop }
spec:
  hostNetwork: "yes"
  securityContext: [1, 2]
  volumes: { a: b }
  containers:
    - name: a
      image: 5
      env: [{ name: 7, value: 8 }, "x"]
      ports: [{ containerPort: "http", hostPort: "80" }]
      securityContext:
        privileged: "true"
        capabilities: { add: SYS_ADMIN, drop: "ALL" }
    - "not a container"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: b }
roleRef: cluster-admin
subjects: { kind: Group }
---
apiVersion: v1
kind: Namespace
metadata: { name: n, labels: { pod-security.kubernetes.io/enforce: 3 } }
"#;
    let (_, _) = check_text("t.yaml", yaml, &Config::default());
}
