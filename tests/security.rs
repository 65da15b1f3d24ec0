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
        // Tag-only images (KP128, info) are every fixture's; that check has its own tests.
        .filter(|f| f.code.starts_with("KP1") && f.code != "KP128")
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
fn malformed_fields_are_schema_errors_and_misread_by_no_other_check() {
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
    let (loaded, outcome) = check_text("t.yaml", yaml, &Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    let codes = |code: &str| -> Vec<String> {
        outcome.findings.iter().filter(|f| f.code == code).map(|f| f.message.to_string()).collect()
    };
    // The schema check names every malformed field, once.
    let schema: Vec<String> = codes("KP001").iter().map(|m| m.split('`').nth(1).unwrap_or("?").to_string()).collect();
    assert_eq!(
        schema,
        [
            "spec.hostNetwork",
            "spec.securityContext",
            "spec.volumes",
            "spec.containers[0].image",
            "spec.containers[0].env[0].name",
            "spec.containers[0].env[0].value",
            "spec.containers[0].env[1]",
            "spec.containers[0].ports[0].containerPort",
            "spec.containers[0].ports[0].hostPort",
            "spec.containers[0].securityContext.privileged",
            "spec.containers[0].securityContext.capabilities.add",
            "spec.containers[0].securityContext.capabilities.drop",
            "spec.containers[1]",
            "roleRef",
            "subjects",
            // `n` is YAML 1.1's false, as kubectl reads it.
            "metadata.name",
            "metadata.labels[\"pod-security.kubernetes.io/enforce\"]",
        ]
    );
    // The other checks do not read strings as the booleans and lists they
    // stand in for: no privileged container, host network, added capability
    // or host port; the string `drop: "ALL"` drops nothing.
    for code in ["KP101", "KP104", "KP105", "KP106", "KP107", "KP127"] {
        assert!(codes(code).is_empty(), "{code}: {:?}", codes(code));
    }
    assert_eq!(codes("KP111").len(), 2, "{:?}", codes("KP111"));
    assert!(codes("KP111")[0].contains("container `a` keeps the runtime's default capabilities"));
}

/// (code, severity, line, column, message) of the findings with `code`.
fn located(yaml: &str, code: &str) -> Vec<(kubeproof::diag::Severity, u32, u32, String)> {
    let (loaded, outcome) = check_text("t.yaml", yaml, &Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome
        .findings
        .iter()
        .filter(|f| f.code == code)
        .map(|f| {
            let pos = loaded.objects[f.object].pos(&f.pointer);
            (f.severity, pos.line, pos.column, f.message.clone())
        })
        .collect()
}

#[test]
fn capabilities_beyond_baseline_are_reported_once_each() {
    use kubeproof::diag::Severity::{Error, Warning};
    let yaml = deployment("", "              add: [SYS_TIME, CAP_NET_RAW, SYS_ADMIN, CHOWN]")
        .replace("capabilities: { drop: [ALL] }", "capabilities:\n              drop: [ALL]");
    let kp127 = located(&yaml, "KP127");
    let at: Vec<_> = kp127.iter().map(|(s, l, c, _)| (*s, *l, *c)).collect();
    assert_eq!(at, [(Warning, 25, 21), (Warning, 25, 31)], "{kp127:?}");
    assert!(kp127[0].3.contains("container `app` adds capability SYS_TIME, which Pod Security `baseline` does not allow: it can set the node's clock"), "{kp127:?}");
    assert!(kp127[1].3.contains("adds capability NET_RAW"), "{kp127:?}");
    // SYS_ADMIN is KP104's error, not also KP127's warning; CHOWN is allowed by baseline.
    let kp104 = located(&yaml, "KP104");
    assert_eq!(kp104.iter().map(|(s, l, c, _)| (*s, *l, *c)).collect::<Vec<_>>(), [(Error, 25, 44)], "{kp104:?}");
}

#[test]
fn tag_only_images_are_info_and_unpinned_ones_stay_kp120() {
    use kubeproof::diag::Severity::Info;
    let yaml = deployment("", "").replace(
        "image: ghcr.io/example/app:1.0.0",
        "image: ghcr.io/example/app:1.0.0\n        - name: side\n          image: busybox",
    );
    let kp128 = located(&yaml, "KP128");
    assert_eq!(kp128.len(), 1, "{kp128:?}");
    assert_eq!((kp128[0].0, kp128[0].1, kp128[0].2), (Info, 19, 11));
    assert!(kp128[0].3.contains("the image `ghcr.io/example/app:1.0.0` of container `app` has no digest"), "{kp128:?}");
    assert_eq!(located(&yaml, "KP120").len(), 1, "busybox is KP120's only");
}

const ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ROLEKIND
metadata: { name: power, namespace: shop }
rules:
RULES
"#;

fn bound(role_kind: &str, rules: &str, binding_kind: &str) -> String {
    let role = ROLE.replace("ROLEKIND", role_kind).replace("RULES", rules);
    let role = if role_kind == "ClusterRole" { role.replace(", namespace: shop", "") } else { role };
    let ns = if binding_kind == "RoleBinding" { ", namespace: shop" } else { "" };
    format!(
        "{role}---
apiVersion: rbac.authorization.k8s.io/v1
kind: {binding_kind}
metadata: {{ name: grant{ns} }}
roleRef: {{ apiGroup: rbac.authorization.k8s.io, kind: {role_kind}, name: power }}
subjects:
  - {{ kind: ServiceAccount, name: robot, namespace: shop }}
  - {{ kind: Group, name: devs, apiGroup: rbac.authorization.k8s.io }}
"
    )
}

#[test]
fn escalating_rbac_is_reported_on_the_binding_with_its_scope() {
    use kubeproof::diag::Severity::Warning;
    let exec = r#"  - { apiGroups: [""], resources: [pods/exec], verbs: [get] }"#;
    let found = located(&bound("Role", exec, "RoleBinding"), "KP129");
    let [(severity, line, column, message)] = &found[..] else { panic!("{found:?}") };
    assert_eq!((*severity, *line, *column), (Warning, 11, 61), "the binding's roleRef.name");
    assert_eq!(
        message,
        "binds Role `power` to ServiceAccount `shop/robot`, Group `devs` in namespace `shop`, \
         which lets them run commands in pods that hold other ServiceAccounts' tokens (pods/exec, pods/attach)"
    );
    let wild = r#"  - { apiGroups: ["*"], resources: ["*"], verbs: [impersonate, bind] }"#;
    let found = located(&bound("ClusterRole", wild, "ClusterRoleBinding"), "KP129");
    let [(_, 11, _, message)] = &found[..] else { panic!("{found:?}") };
    assert!(
        message.starts_with("binds ClusterRole `power` to ServiceAccount `shop/robot`, Group `devs` cluster-wide"),
        "{message}"
    );
    assert!(message.contains(" cluster-wide, which lets them bind roles"), "{message}");
    assert!(message.contains("act as any user or group (`impersonate`)"), "{message}");
}

#[test]
fn escalation_needs_a_binding_and_a_scope_that_grants_it() {
    let node = r#"  - { apiGroups: [""], resources: [nodes/proxy], verbs: [get] }"#;
    // Bound nowhere: not reported.
    assert_eq!(located(&ROLE.replace("ROLEKIND", "ClusterRole").replace("RULES", node), "KP129"), []);
    // nodes are not namespaced: a RoleBinding grants nothing of it.
    assert_eq!(located(&bound("ClusterRole", node, "RoleBinding"), "KP129"), []);
    assert_eq!(located(&bound("ClusterRole", node, "ClusterRoleBinding"), "KP129").len(), 1);
    // Narrowed by resourceNames: not reported.
    let named = r#"  - { apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], resourceNames: [view], verbs: [bind] }"#;
    assert_eq!(located(&bound("ClusterRole", named, "ClusterRoleBinding"), "KP129"), []);
    // A subresource wildcard matches as the authorizer does.
    let sub = r#"  - { apiGroups: [""], resources: ["*/exec"], verbs: [create] }"#;
    assert_eq!(located(&bound("ClusterRole", sub, "RoleBinding"), "KP129").len(), 1);
}

#[test]
fn secret_listing_is_kp124_cluster_wide_and_kp129_in_a_namespace() {
    let list = r#"  - { apiGroups: [""], resources: [secrets], verbs: [list] }"#;
    let cluster = bound("ClusterRole", list, "ClusterRoleBinding");
    assert_eq!(located(&cluster, "KP129"), [], "KP124 owns it");
    assert_eq!(located(&cluster, "KP124").len(), 1);
    let found = located(&bound("Role", list, "RoleBinding"), "KP129");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].3.ends_with("read the values of every Secret (`list`/`watch` on secrets)"), "{found:?}");
}

#[test]
fn approving_certificates_needs_both_rules() {
    let approval = r#"  - { apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update] }"#;
    let signer = r#"  - { apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [kubernetes.io/kube-apiserver-client], verbs: [approve] }"#;
    let other = r#"  - { apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [example.com/mesh], verbs: [approve] }"#;
    assert_eq!(located(&bound("ClusterRole", approval, "ClusterRoleBinding"), "KP129"), []);
    assert_eq!(located(&bound("ClusterRole", &format!("{approval}\n{other}"), "ClusterRoleBinding"), "KP129"), []);
    let both = located(&bound("ClusterRole", &format!("{approval}\n{signer}"), "ClusterRoleBinding"), "KP129");
    assert!(both.len() == 1 && both[0].3.ends_with("issue client certificates for any user"), "{both:?}");
}

#[test]
fn a_full_wildcard_is_named_once_not_as_every_escalation() {
    let all = r#"  - { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }"#;
    let found = located(&bound("ClusterRole", all, "ClusterRoleBinding"), "KP129");
    let [(_, 11, _, message)] = &found[..] else { panic!("{found:?}") };
    assert!(
        message.ends_with(
            "cluster-wide, which lets them do anything to any resource (`*` verbs, resources and API groups): \
             cluster-admin in all but name"
        ),
        "{message}"
    );
    let found = located(&bound("ClusterRole", all, "RoleBinding"), "KP129");
    let [(_, 11, _, message)] = &found[..] else { panic!("{found:?}") };
    assert!(message.ends_with("in namespace `shop`, which lets them do anything to any resource (`*` verbs, resources and API groups): admin of the namespace"), "{message}");
}
