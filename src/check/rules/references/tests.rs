//! Scenarios for the reference checks beyond their fixtures.

use crate::check::check_text;
use crate::check::config::Config;

fn found(code: &str, text: &str) -> Vec<String> {
    let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome.findings.iter().filter(|f| f.code == code).map(|f| f.message.clone()).collect()
}

fn deployment(spec: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{ name: api, namespace: shop }}
spec:
  selector: {{ matchLabels: {{ app: api }} }}
  template:
    metadata: {{ labels: {{ app: api }} }}
    spec: {spec}
"#
    )
}

#[test]
fn named_target_ports_need_the_protocol_and_every_template() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: { name: dns, namespace: shop }\nspec: { selector: { app: api }, ports: [{ port: 53, targetPort: dns, protocol: UDP }] }";
    let tcp = deployment("{ containers: [{ name: a, image: x, ports: [{ name: dns, containerPort: 53 }] }] }");
    let f = found("KP302", &format!("{svc}\n---\n{tcp}"));
    assert_eq!(f, ["targetPort `dns` is TCP in Deployment api, but this Service port is UDP"]);
    let udp =
        deployment("{ containers: [{ name: a, image: x, ports: [{ name: dns, containerPort: 53, protocol: UDP }] }] }");
    assert!(found("KP302", &format!("{svc}\n---\n{udp}")).is_empty());
    // A second template selected by the same labels, without the port.
    let other = udp.replace("name: api, namespace", "name: canary, namespace").replace("name: dns, ", "name: dnss, ");
    assert_eq!(found("KP302", &format!("{svc}\n---\n{udp}\n---\n{other}")).len(), 1);
}

#[test]
fn keys_of_configmaps_and_secrets() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: shop }\ndata: { a: '1' }\nbinaryData: { b: AA== }";
    let pod = |env: &str| deployment(&format!("{{ containers: [{{ name: a, image: x, env: {env} }}] }}"));
    let key = |k: &str, opt: bool| {
        pod(&format!("[{{ name: X, valueFrom: {{ configMapKeyRef: {{ name: c, key: {k}, optional: {opt} }} }} }}]"))
    };
    assert!(found("KP310", &format!("{cm}\n---\n{}", key("a", false))).is_empty());
    assert!(found("KP310", &format!("{cm}\n---\n{}", key("b", false))).is_empty());
    assert!(found("KP310", &format!("{cm}\n---\n{}", key("z", true))).is_empty());
    assert_eq!(found("KP310", &format!("{cm}\n---\n{}", key("z", false))).len(), 1);
    // Volume items.
    let vol = deployment(
        "{ containers: [{ name: a, image: x }], volumes: [{ name: v, configMap: { name: c, items: [{ key: a, path: a }, { key: q, path: q }] } }] }",
    );
    assert_eq!(found("KP310", &format!("{cm}\n---\n{vol}")), ["ConfigMap `c` has no key `q` (volume v)"]);
    // A Secret also produced by an ExternalSecret: its keys are not known.
    let secret = "apiVersion: v1\nkind: Secret\nmetadata: { name: s, namespace: shop }\nstringData: { a: x }";
    let es = "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata: { name: s, namespace: shop }\nspec: { target: { name: s } }";
    let refs = pod("[{ name: X, valueFrom: { secretKeyRef: { name: s, key: b } } }]");
    assert_eq!(found("KP310", &format!("{secret}\n---\n{refs}")).len(), 1);
    assert!(found("KP310", &format!("{secret}\n---\n{es}\n---\n{refs}")).is_empty());
    // An ExternalSecret alone, with `data`: its keys are those it writes.
    let es = |keys: &str| {
        format!(
            "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{ name: e, namespace: shop }}\n\
             spec: {{ target: {{ name: s }}, data: [{keys}] }}"
        )
    };
    let entry = |k: &str| format!("{{ secretKey: {k}, remoteRef: {{ key: shop/s, property: {k} }} }}");
    assert!(found("KP310", &format!("{}\n---\n{refs}", es(&entry("b")))).is_empty());
    assert_eq!(
        found("KP310", &format!("{}\n---\n{refs}", es(&entry("c")))),
        ["Secret `s` has no key `b` (env X of container a)"]
    );
    // With `dataFrom` too, its keys are not known.
    let from = es(&entry("c")).replace("data: [", "dataFrom: [{ extract: { key: shop/all } }], data: [");
    assert!(found("KP310", &format!("{from}\n---\n{refs}")).is_empty());
    // A SealedSecret: the keys it seals, and those its template adds.
    let sealed = |keys: &str| {
        format!(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {{ name: s, namespace: shop }}\n\
             spec: {{ encryptedData: {{ {keys} }}, template: {{ data: {{ t: x }} }} }}"
        )
    };
    assert!(found("KP310", &format!("{}\n---\n{refs}", sealed("b: AgB="))).is_empty());
    assert_eq!(found("KP310", &format!("{}\n---\n{refs}", sealed("a: AgB="))).len(), 1);
    let templated = pod("[{ name: X, valueFrom: { secretKeyRef: { name: s, key: t } } }]");
    assert!(found("KP310", &format!("{}\n---\n{templated}", sealed("a: AgB="))).is_empty());
}

#[test]
fn producers_of_secrets_and_configmaps() {
    let refs = deployment(
        "{ containers: [{ name: a, image: x, envFrom: [{ secretRef: { name: app-secrets } }, { configMapRef: { name: app-env } }] }] }",
    );
    assert_eq!(found("KP307", &refs).len(), 1);
    assert_eq!(found("KP306", &refs).len(), 1);
    let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: shop\nsecretGenerator: [{ name: app-secrets, envs: [a.env] }]\nconfigMapGenerator: [{ name: app-env, literals: [A=1] }]";
    assert!(found("KP307", &format!("{refs}\n---\n{kustomization}")).is_empty());
    assert!(found("KP306", &format!("{refs}\n---\n{kustomization}")).is_empty());
    let sealed = "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: { name: app-secrets, namespace: shop }\nspec: { encryptedData: { A: AgB= } }";
    assert!(found("KP307", &format!("{refs}\n---\n{sealed}")).is_empty());
    // Reported once per object and name.
    let twice = deployment(
        "{ containers: [{ name: a, image: x, env: [{ name: A, valueFrom: { secretKeyRef: { name: s, key: a } } }, { name: B, valueFrom: { secretKeyRef: { name: s, key: b } } }] }] }",
    );
    assert_eq!(found("KP307", &twice).len(), 1);
}

#[test]
fn ingress_backends_in_both_forms() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: shop }\nspec: { ports: [{ name: http, port: 80 }] }";
    let old = "apiVersion: networking.k8s.io/v1beta1\nkind: Ingress\nmetadata: { name: i, namespace: shop }\nspec: { backend: { serviceName: web, servicePort: 8080 }, rules: [{ http: { paths: [{ backend: { serviceName: wbe, servicePort: http } }] } }] }";
    assert_eq!(found("KP312", &format!("{svc}\n---\n{old}")), ["Service web has no port 8080"]);
    assert_eq!(found("KP311", &format!("{svc}\n---\n{old}")), ["Service `wbe` is not in namespace shop"]);
    // Another namespace does not count.
    let elsewhere = svc.replace("namespace: shop", "namespace: web");
    assert_eq!(found("KP311", &format!("{elsewhere}\n---\n{old}")).len(), 2);
}

#[test]
fn bindings_and_builtin_roles() {
    let crb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: { name: b }\nroleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: system:auth-delegator }\nsubjects: [{ kind: ServiceAccount, name: api, namespace: shop }, { kind: User, name: jane }]";
    assert!(found("KP315", crb).is_empty());
    assert_eq!(
        found("KP316", crb),
        ["ServiceAccount `api` of namespace shop is not in the checked set; it may be defined elsewhere"]
    );
    // A RoleBinding cannot bind a Role of another namespace.
    let rb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: { name: b, namespace: shop }\nroleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: r }";
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: { name: r, namespace: ops }";
    assert_eq!(found("KP315", &format!("{rb}\n---\n{role}")).len(), 1);
    assert!(found("KP315", &format!("{rb}\n---\n{}", role.replace("ops", "shop"))).is_empty());
    // A ServiceAccount subject of a RoleBinding with an empty namespace is
    // in the binding's (the RBAC authorizer reads it so).
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: api, namespace: shop }";
    let subject =
        |ns: &str| format!("{rb}\nsubjects: [{{ kind: ServiceAccount, name: api, namespace: {ns} }}]\n---\n{sa}");
    assert!(found("KP316", &subject("\"\"")).is_empty());
    assert_eq!(found("KP316", &subject("ops")).len(), 1);
    // A ClusterRoleBinding's ServiceAccount subject without a namespace names
    // no account (the API server refuses it): not judged here.
    let no_ns = crb.replace(", namespace: shop }", " }");
    assert!(found("KP316", &no_ns).is_empty(), "{:?}", found("KP316", &no_ns));
    assert!(found("KP316", &no_ns.replace(" }, {", ", namespace: \"\" }, {")).is_empty());
}

#[test]
fn statefulset_claims_and_services() {
    let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: { name: pg, namespace: shop }\nspec: { serviceName: pg, selector: { matchLabels: { app: pg } }, template: { metadata: { labels: { app: pg } }, spec: { containers: [{ name: pg, image: x }] } }, volumeClaimTemplates: [{ metadata: { name: data } }] }";
    assert_eq!(found("KP314", sts), ["Service `pg` is not in the checked set; it may be defined elsewhere"]);
    let reader = deployment(
        "{ containers: [{ name: a, image: x }], volumes: [{ name: d, persistentVolumeClaim: { claimName: data-pg-1 } }, { name: e, persistentVolumeClaim: { claimName: data-pg-x } }] }",
    );
    assert_eq!(found("KP308", &format!("{sts}\n---\n{reader}")).len(), 1);
}

#[test]
fn malformed_fields_do_not_panic() {
    let odd = r#"apiVersion: v1
kind: Service
metadata: { name: s, namespace: shop }
spec: { selector: [a], ports: { port: x } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: i, namespace: shop }
spec: { rules: [{ http: { paths: [{ backend: { service: { name: 3, port: { number: x } } } }] } }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p, namespace: shop }
spec: { podSelector: [], policyTypes: Ingress, ingress: [{ from: {}, ports: [{ port: [] }] }], egress: 3 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  template:
    metadata: { labels: [x] }
    spec:
      serviceAccountName: 7
      containers: [{ name: a, env: [{ name: X, valueFrom: { configMapKeyRef: 3 } }], envFrom: 4, ports: [{ containerPort: http }], readinessProbe: { httpGet: { port: {} } } }]
      volumes: [{ name: v, projected: { sources: [{ configMap: { items: [1] } }] } }]
"#;
    let (_, outcome) = check_text("t.yaml", odd, &Config::default());
    let _ = outcome.findings.len();
}

#[test]
fn selectors_naming_a_custom_resource_select_operator_pods() {
    let svc = "apiVersion: v1\nkind: Service\nmetadata: { name: prometheus, namespace: mon }\nspec: { selector: { operator.prometheus.io/name: main }, ports: [{ port: 9090 }] }";
    let other = "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: grafana, namespace: mon }\nspec: { selector: { matchLabels: { app: grafana } }, template: { metadata: { labels: { app: grafana } }, spec: { containers: [{ name: g, image: x }] } } }";
    let cr = "apiVersion: monitoring.coreos.com/v1\nkind: Prometheus\nmetadata: { name: main, namespace: mon }\nspec: { replicas: 2 }";
    assert_eq!(found("KP301", &format!("{svc}\n---\n{other}")).len(), 1);
    assert!(found("KP301", &format!("{svc}\n---\n{other}\n---\n{cr}")).is_empty());
    let policy = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: p, namespace: mon }\nspec: { podSelector: { matchLabels: { operator.prometheus.io/name: main } }, ingress: [{ from: [{ podSelector: { matchLabels: { operator.prometheus.io/name: main } } }] }] }";
    assert_eq!(found("KP401", &format!("{policy}\n---\n{other}")).len(), 1);
    assert_eq!(found("KP404", &format!("{policy}\n---\n{other}")).len(), 1);
    assert!(found("KP401", &format!("{policy}\n---\n{other}\n---\n{cr}")).is_empty());
    assert!(found("KP404", &format!("{policy}\n---\n{other}\n---\n{cr}")).is_empty());
}

#[test]
fn read_write_many_claim_templates_on_block_storage() {
    let class =
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: { name: disk }\nprovisioner: disk.csi.azure.com";
    let set = |mode: &str, class: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{ name: db, namespace: shop }}\nspec:\n  serviceName: db\n  \
             selector: {{ matchLabels: {{ app: db }} }}\n  template:\n    metadata: {{ labels: {{ app: db }} }}\n    \
             spec: {{ containers: [{{ name: db, image: x }}] }}\n  volumeClaimTemplates:\n    - metadata: {{ name: data }}\n      \
             spec: {{ accessModes: [ReadWriteOnce, {mode}], storageClassName: {class}, resources: {{ requests: {{ storage: 1Gi }} }} }}"
        )
    };
    let f = found("KP317", &format!("{class}\n---\n{}", set("ReadWriteMany", "disk")));
    assert_eq!(f, ["ReadWriteMany of StorageClass `disk`, whose provisioner disk.csi.azure.com serves block storage"]);
    // A class outside the set, or a single-node mode, is not judged.
    assert!(found("KP317", &set("ReadWriteMany", "disk")).is_empty());
    assert!(found("KP317", &format!("{class}\n---\n{}", set("ReadWriteOncePod", "disk"))).is_empty());
}

#[test]
fn roles_every_cluster_has_are_not_missing() {
    let binding = |ns: &str, role: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{ name: b, namespace: {ns} }}\n\
             roleRef: {{ apiGroup: rbac.authorization.k8s.io, kind: Role, name: {role} }}\n\
             subjects: [{{ kind: ServiceAccount, name: default, namespace: {ns} }}]"
        )
    };
    // The metrics adapter's read of the API server's client CA (kubernetes/examples' prometheus-adapter).
    assert!(found("KP315", &binding("kube-system", "extension-apiserver-authentication-reader")).is_empty());
    assert!(found("KP315", &binding("kube-system", "system::leader-locking-kube-scheduler")).is_empty());
    // The same Role name anywhere else is not built in.
    assert_eq!(found("KP315", &binding("monitoring", "extension-apiserver-authentication-reader")).len(), 1);
}

/// An install stream without namespaces (applied with `kubectl apply -n`),
/// whose cluster-scoped binding names the namespace it expects.
const STREAM: &str = "apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: controller }\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: controller }\n\
rules: [{ apiGroups: [''], resources: [configmaps], verbs: [get] }]\n---\n\
apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: { name: controller }\n\
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: controller }\n\
subjects: [{ kind: ServiceAccount, name: controller, namespace: argocd }]";

#[test]
fn objects_without_a_namespace_land_where_they_are_applied() {
    // Unknown apply namespace: the account may well be applied to argocd.
    assert!(found("KP316", STREAM).is_empty());
    // Told where they are applied: elsewhere, the reference is missing.
    let elsewhere = |ns: &str| {
        let mut loaded = crate::model::Loaded::default();
        let source = crate::model::Source { name: "t.yaml".into(), text: STREAM.to_string() };
        crate::model::load::add_source(&mut loaded, source);
        loaded.apply_namespace(ns);
        let outcome = crate::check::run(&loaded, &Config::default());
        outcome.findings.iter().filter(|f| f.code == "KP316").count()
    };
    assert_eq!(elsewhere("tools"), 1);
    assert_eq!(elsewhere("argocd"), 0);
    // Written in another namespace, it is not the one the binding names.
    assert_eq!(
        found("KP316", &STREAM.replace("name: controller }\n---", "name: controller, namespace: ci }\n---")).len(),
        1
    );
}

/// A near miss: one label of a two-label selector matches, the other does not.
#[test]
fn a_service_selector_must_match_every_label() {
    let svc = |selector: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{ name: api, namespace: shop }}\n\
             spec: {{ selector: {selector}, ports: [{{ port: 80 }}] }}"
        )
    };
    let pods = deployment("{ containers: [{ name: a, image: x }] }")
        .replace("metadata: { labels: { app: api } }", "metadata: { labels: { app: api, tier: web } }");
    let pods = pods.replace("matchLabels: { app: api }", "matchLabels: { app: api, tier: web }");
    assert!(found("KP301", &format!("{}\n---\n{pods}", svc("{ app: api, tier: web }"))).is_empty());
    assert_eq!(found("KP301", &format!("{}\n---\n{pods}", svc("{ app: api, tier: worker }"))).len(), 1);
    assert_eq!(found("KP301", &format!("{}\n---\n{pods}", svc("{ app: apii, tier: web }"))).len(), 1);
}

/// Named and numbered target ports are looked up in the pods the whole
/// selector picks: `api-admin` shares `app: api` and declares the port, but
/// not `tier: backend` (which `worker` has, so each label alone picks two
/// templates).
#[test]
fn target_ports_are_read_from_the_pods_every_label_selects() {
    let pods = |name: &str, app: &str, tier: &str, port: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{ name: {name}, namespace: shop }}\n\
             spec:\n  selector: {{ matchLabels: {{ app: {app}, tier: {tier} }} }}\n  template:\n    \
             metadata: {{ labels: {{ app: {app}, tier: {tier} }} }}\n    \
             spec: {{ containers: [{{ name: c, image: x, ports: [{port}] }}] }}\n"
        )
    };
    let set = |target: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{ name: api, namespace: shop }}\n\
             spec: {{ selector: {{ app: api, tier: backend }}, ports: [{{ port: 80, targetPort: {target} }}] }}\n---\n{}---\n{}---\n{}",
            pods("api", "api", "backend", "{ name: http, containerPort: 8080 }"),
            pods("api-admin", "api", "admin", "{ name: metrics, containerPort: 9090 }"),
            pods("worker", "worker", "backend", "{ name: metrics, containerPort: 9090 }"),
        )
    };
    assert!(found("KP302", &set("http")).is_empty());
    assert_eq!(found("KP302", &set("metrics")).len(), 1);
    assert!(found("KP303", &set("8080")).is_empty());
    assert_eq!(found("KP303", &set("9090")).len(), 1);
}
