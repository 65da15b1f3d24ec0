//! Scenarios for the network checks beyond their fixtures: namespaces,
//! egress, ipBlocks, named ports, host forms.

use crate::check::check_text;
use crate::check::config::Config;

/// Messages of findings with `code` for a YAML stream.
fn found(code: &str, text: &str) -> Vec<String> {
    let (loaded, outcome) = check_text("t.yaml", text, &Config::default());
    assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
    outcome.findings.iter().filter(|f| f.code == code).map(|f| f.message.clone()).collect()
}

const API: &str = r#"
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api }
  ports:
    - { name: http, port: 80, targetPort: http }
    - { name: admin, port: 9090, targetPort: 9090 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          ports: [{ name: http, containerPort: 8080 }, { name: admin, containerPort: 9090 }]
"#;

fn client(ns: &str, env: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{ name: web, namespace: {ns} }}
spec:
  selector: {{ matchLabels: {{ app: web }} }}
  template:
    metadata: {{ labels: {{ app: web }} }}
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.0
          env: {env}
"#
    )
}

fn policy(ns: &str, name: &str, spec: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {{ name: {name}, namespace: {ns} }}\nspec: {spec}\n"
    )
}

fn stream(parts: &[&str]) -> String {
    parts.join("\n---\n")
}

const DENY: &str = "{ podSelector: {}, policyTypes: [Ingress] }";

#[test]
fn same_namespace_allowed_by_pod_label_and_named_port() {
    let allow = policy(
        "shop",
        "api",
        "{ podSelector: { matchLabels: { app: api } }, ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }], ports: [{ port: http }] }] }",
    );
    let c = client("shop", r#"[{ name: API_URL, value: "http://api" }]"#);
    // Any port of the Service will do when none is written.
    assert!(found("KP405", &stream(&[API, &c, &policy("shop", "deny", DENY), &allow])).is_empty());
    // The admin port is dialed explicitly and is not allowed.
    let c = client("shop", r#"[{ name: API_URL, value: "http://api:9090" }]"#);
    let f = found("KP405", &stream(&[API, &c, &policy("shop", "deny", DENY), &allow]));
    assert_eq!(f, ["the network policies of shop do not allow Deployment web to reach api:9090 (env API_URL)"]);
    // Without any policy admitting web at all: reported.
    let c = client("shop", r#"[{ name: API_HOST, value: api }]"#);
    assert_eq!(found("KP405", &stream(&[API, &c, &policy("shop", "deny", DENY)])).len(), 1);
}

#[test]
fn port_ranges_and_sibling_port_variables() {
    let allow = policy(
        "shop",
        "api",
        "{ podSelector: { matchLabels: { app: api } }, ingress: [{ ports: [{ port: 8000, endPort: 8999 }] }] }",
    );
    let c = client("shop", r#"[{ name: API_HOST, value: api }, { name: API_PORT, value: "9090" }]"#);
    let f = found("KP405", &stream(&[API, &c, &policy("shop", "deny", DENY), &allow]));
    assert_eq!(f.len(), 1, "{f:?}");
    let c = client("shop", r#"[{ name: API_HOST, value: api }, { name: API_PORT, value: "80" }]"#);
    assert!(found("KP405", &stream(&[API, &c, &policy("shop", "deny", DENY), &allow])).is_empty());
}

#[test]
fn words_that_are_not_hosts_are_not_read_as_hosts() {
    let c = client("shop", r#"[{ name: CACHE_DRIVER, value: api }, { name: MODE, value: "api" }]"#);
    assert!(found("KP405", &stream(&[API, &c, &policy("shop", "deny", DENY)])).is_empty());
}

#[test]
fn other_namespaces_by_namespace_labels() {
    let allow_team = policy(
        "shop",
        "api",
        "{ podSelector: { matchLabels: { app: api } }, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: front } }, podSelector: { matchLabels: { app: web } } }] }] }",
    );
    let c = client("web", r#"[{ name: API_URL, value: "http://api.shop.svc.cluster.local" }]"#);
    let ns_front = "apiVersion: v1\nkind: Namespace\nmetadata: { name: web, labels: { team: front } }";
    let ns_back = "apiVersion: v1\nkind: Namespace\nmetadata: { name: web, labels: { team: back } }";
    let deny = policy("shop", "deny", DENY);
    assert!(found("KP405", &stream(&[API, &c, &deny, &allow_team, ns_front])).is_empty());
    assert_eq!(found("KP405", &stream(&[API, &c, &deny, &allow_team, ns_back])).len(), 1);
    // The namespace's labels are unknown: no finding.
    assert!(found("KP405", &stream(&[API, &c, &deny, &allow_team])).is_empty());
    // Only the automatic name label is known, and it does not match.
    let by_name = policy(
        "shop",
        "api",
        "{ podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ingress-nginx } } }] }] }",
    );
    let f = found("KP405", &stream(&[API, &c, &deny, &by_name]));
    assert_eq!(f, ["the network policies of shop do not allow Deployment web to reach api:80 (env API_URL)"]);
    // A selector written without a value is absent: the policy's namespace only.
    let null_ns = policy(
        "shop",
        "api",
        "{ podSelector: {}, ingress: [{ from: [{ namespaceSelector: null, podSelector: { matchLabels: { app: web } } }] }] }",
    );
    assert_eq!(found("KP405", &stream(&[API, &c, &null_ns])).len(), 1);
    // A podSelector alone means the policy's namespace: web of another namespace is not admitted.
    let same_ns_only = policy(
        "shop",
        "api",
        "{ podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }] }] }",
    );
    assert_eq!(found("KP405", &stream(&[API, &c, &same_ns_only])).len(), 1);
}

#[test]
fn ip_blocks_that_may_hold_pods_are_not_denials() {
    let c = client("shop", r#"[{ name: API_URL, value: "http://api" }]"#);
    let any = policy("shop", "api", "{ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: 0.0.0.0/0 } }] }] }");
    assert!(found("KP405", &stream(&[API, &c, &any])).is_empty());
    let external =
        policy("shop", "api", "{ podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: 203.0.113.0/24 } }] }] }");
    assert_eq!(found("KP405", &stream(&[API, &c, &external])).len(), 1);
}

#[test]
fn egress_isolation_of_the_client() {
    let c = client("shop", r#"[{ name: API_URL, value: "http://api.shop:80" }]"#);
    let egress = policy(
        "shop",
        "web-egress",
        "{ podSelector: { matchLabels: { app: web } }, policyTypes: [Egress], egress: [{ ports: [{ port: 53, protocol: UDP }] }] }",
    );
    let f = found("KP405", &stream(&[API, &c, &egress]));
    assert_eq!(f, ["the network policies of shop do not allow Deployment web to reach api:80 (env API_URL)"]);
    let to_api = policy(
        "shop",
        "web-to-api",
        "{ podSelector: { matchLabels: { app: web } }, policyTypes: [Egress], egress: [{ to: [{ podSelector: { matchLabels: { app: api } } }], ports: [{ port: 8080 }] }] }",
    );
    assert!(found("KP405", &stream(&[API, &c, &egress, &to_api])).is_empty());
    // The egress policy is the one with the DNS rule: KP403 is quiet.
    assert!(found("KP403", &stream(&[API, &c, &egress, &to_api])).is_empty());
}

#[test]
fn configmap_values_headless_pods_and_self_references() {
    let pg = r#"
apiVersion: v1
kind: Service
metadata: { name: pg-headless, namespace: shop }
spec:
  clusterIP: None
  selector: { app: pg }
  ports: [{ name: pg, port: 5432 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: pg, namespace: shop }
spec:
  serviceName: pg-headless
  selector: { matchLabels: { app: pg } }
  template:
    metadata: { labels: { app: pg } }
    spec:
      containers:
        - name: pg
          image: docker.io/library/postgres:16.4
          ports: [{ name: pg, containerPort: 5432 }]
          env: [{ name: PEER_HOST, value: pg-0.pg-headless }]
"#;
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: web, namespace: shop }\ndata: { DATABASE_HOST: pg-0.pg-headless.shop.svc.cluster.local, DATABASE_PORT: \"5432\" }";
    let c = client("shop", "[]").replace("env: []", "envFrom: [{ configMapRef: { name: web } }]");
    let f = found("KP405", &stream(&[pg, cm, &c, &policy("shop", "deny", DENY)]));
    assert_eq!(
        f,
        [
            "the network policies of shop do not allow Deployment web to reach pg-headless:5432 (DATABASE_HOST of ConfigMap web)"
        ]
    );
}

#[test]
fn dns_rules() {
    let api = client("shop", "[]");
    let egress = |rules: &str| {
        policy("shop", "egress", &format!("{{ podSelector: {{}}, policyTypes: [Egress], egress: {rules} }}"))
    };
    let blocked = |rules: &str| !found("KP403", &stream(&[&api, &egress(rules)])).is_empty();
    assert!(blocked("[]"));
    assert!(blocked("[{ ports: [{ port: 443 }] }]"));
    assert!(blocked("[{ to: [{ podSelector: { matchLabels: { app: db } } }] }]"));
    assert!(blocked("[{ ports: [{ port: 53, protocol: TCP }] }]"));
    assert!(!blocked("[{ ports: [{ port: 53, protocol: UDP }] }]"));
    assert!(!blocked("[{ to: [{ namespaceSelector: {} }] }]"));
    assert!(!blocked("[{ to: [{ ipBlock: { cidr: 169.254.20.10/32 } }], ports: [{ port: 53, protocol: UDP }] }]"));
    assert!(!blocked(
        "[{ to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: kube-system } }, podSelector: { matchLabels: { k8s-app: kube-dns } } }] }]"
    ));
    assert!(blocked("[{ to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: monitoring } } }] }]"));
    assert!(!blocked(
        "[{ to: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: openshift-dns } } }] }]"
    ));
    // Pods on the node's network are not isolated by policies.
    let host = api.replace("    spec:\n      containers:", "    spec:\n      hostNetwork: true\n      containers:");
    assert!(host.contains("hostNetwork"));
    assert!(found("KP403", &stream(&[&host, &egress("[]")])).is_empty());
    // An ingress-only policy does not isolate egress.
    let ingress_only = policy("shop", "in", "{ podSelector: {}, policyTypes: [Ingress] }");
    assert!(found("KP403", &stream(&[&api, &ingress_only])).is_empty());
}

#[test]
fn default_deny_forms() {
    let api = client("shop", "[]");
    let has_deny = |spec: &str| found("KP402", &stream(&[&api, &policy("shop", "p", spec)])).is_empty();
    assert!(has_deny("{ podSelector: {} }"));
    assert!(has_deny("{ podSelector: {}, policyTypes: [Ingress, Egress], ingress: [] }"));
    assert!(!has_deny("{ podSelector: {}, policyTypes: [Egress] }"));
    assert!(!has_deny("{ podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress] }"));
    assert!(!has_deny("{ podSelector: {}, ingress: [{}] }"));
    // Reported once per namespace, at the first workload without a Namespace object.
    let two = stream(&[&api, &api.replace("name: web", "name: web2")]);
    assert_eq!(found("KP402", &two).len(), 1);
}

/// Online Boutique (GoogleCloudPlatform/microservices-demo): its services,
/// the addresses each workload is given, and its network-policies component
/// (deny-all, then per service its clients on the container port).
fn boutique(drop_client: Option<(&str, &str)>) -> String {
    // (service, Service port, container port, clients)
    let services: &[(&str, u16, u16, &[&str])] = &[
        ("emailservice", 5000, 8080, &["checkoutservice"]),
        ("checkoutservice", 5050, 5050, &["frontend"]),
        ("recommendationservice", 8080, 8080, &["frontend"]),
        ("paymentservice", 50051, 50051, &["checkoutservice"]),
        ("productcatalogservice", 3550, 3550, &["frontend", "checkoutservice", "recommendationservice"]),
        ("cartservice", 7070, 7070, &["frontend", "checkoutservice"]),
        ("currencyservice", 7000, 7000, &["frontend", "checkoutservice"]),
        ("shippingservice", 50051, 50051, &["frontend", "checkoutservice"]),
        ("adservice", 9555, 9555, &["frontend"]),
        ("redis-cart", 6379, 6379, &["cartservice"]),
    ];
    let env: &[(&str, &[(&str, &str)])] = &[
        (
            "checkoutservice",
            &[
                ("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550"),
                ("SHIPPING_SERVICE_ADDR", "shippingservice:50051"),
                ("PAYMENT_SERVICE_ADDR", "paymentservice:50051"),
                ("EMAIL_SERVICE_ADDR", "emailservice:5000"),
                ("CURRENCY_SERVICE_ADDR", "currencyservice:7000"),
                ("CART_SERVICE_ADDR", "cartservice:7070"),
            ],
        ),
        ("recommendationservice", &[("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550")]),
        (
            "frontend",
            &[
                ("PRODUCT_CATALOG_SERVICE_ADDR", "productcatalogservice:3550"),
                ("CURRENCY_SERVICE_ADDR", "currencyservice:7000"),
                ("CART_SERVICE_ADDR", "cartservice:7070"),
                ("RECOMMENDATION_SERVICE_ADDR", "recommendationservice:8080"),
                ("SHIPPING_SERVICE_ADDR", "shippingservice:50051"),
                ("CHECKOUT_SERVICE_ADDR", "checkoutservice:5050"),
                ("AD_SERVICE_ADDR", "adservice:9555"),
            ],
        ),
        ("cartservice", &[("REDIS_ADDR", "redis-cart:6379")]),
        ("loadgenerator", &[("FRONTEND_ADDR", "frontend:80")]),
    ];
    let mut docs = vec![policy("boutique", "deny-all", "{ podSelector: {}, policyTypes: [Ingress, Egress] }")];
    let workloads =
        services.iter().map(|s| (s.0, Some(s.2))).chain([("frontend", Some(8080)), ("loadgenerator", None)]);
    for (name, port) in workloads {
        let vars = env.iter().find(|e| e.0 == name).map_or(&[][..], |e| e.1);
        let vars: Vec<String> = vars.iter().map(|(k, v)| format!("{{ name: {k}, value: \"{v}\" }}")).collect();
        let ports = port.map(|p| format!("ports: [{{ containerPort: {p} }}], ")).unwrap_or_default();
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{ name: {name}, namespace: boutique }}\nspec:\n  selector: {{ matchLabels: {{ app: {name} }} }}\n  template:\n    metadata: {{ labels: {{ app: {name} }} }}\n    spec:\n      containers:\n        - {{ name: server, image: x, {ports}env: [{}] }}",
            vars.join(", ")
        ));
    }
    docs.push(policy("boutique", "frontend", "{ podSelector: { matchLabels: { app: frontend } }, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{}] }"));
    docs.push(policy(
        "boutique",
        "loadgenerator",
        "{ podSelector: { matchLabels: { app: loadgenerator } }, policyTypes: [Ingress, Egress], egress: [{}] }",
    ));
    docs.push("apiVersion: v1\nkind: Service\nmetadata: { name: frontend, namespace: boutique }\nspec: { selector: { app: frontend }, ports: [{ name: http, port: 80, targetPort: 8080 }] }".into());
    for (name, port, target, clients) in services {
        docs.push(format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{ name: {name}, namespace: boutique }}\nspec: {{ selector: {{ app: {name} }}, ports: [{{ name: grpc, port: {port}, targetPort: {target} }}] }}"
        ));
        let from: Vec<String> = clients
            .iter()
            .filter(|c| drop_client != Some((name, c)))
            .map(|c| format!("{{ podSelector: {{ matchLabels: {{ app: {c} }} }} }}"))
            .collect();
        docs.push(policy(
            "boutique",
            name,
            &format!(
                "{{ podSelector: {{ matchLabels: {{ app: {name} }} }}, policyTypes: [Ingress, Egress], ingress: [{{ from: [{}], ports: [{{ port: {target}, protocol: TCP }}] }}], egress: [{{}}] }}",
                from.join(", ")
            ),
        ));
    }
    stream(&docs.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
fn online_boutique_policies_allow_what_its_configuration_needs() {
    let text = boutique(None);
    for code in ["KP401", "KP402", "KP403", "KP404", "KP405"] {
        assert!(found(code, &text).is_empty(), "{code}: {:?}", found(code, &text));
    }
    // Without its only client, emailservice's rule has `from: []`: everyone is admitted.
    assert!(found("KP405", &boutique(Some(("emailservice", "checkoutservice")))).is_empty());
    let f = found("KP405", &boutique(Some(("cartservice", "checkoutservice"))));
    assert_eq!(
        f,
        [
            "the network policies of boutique do not allow Deployment checkoutservice to reach cartservice:7070 (env CART_SERVICE_ADDR)"
        ]
    );
    let f = found("KP405", &boutique(Some(("productcatalogservice", "recommendationservice"))));
    assert_eq!(f.len(), 1, "{f:?}");
}

const REDIS: &str = r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: redis, namespace: shop }
spec:
  serviceName: redis
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis } }
    spec:
      containers:
        - { name: redis, image: "docker.io/bitnami/redis:7.4@sha256:0000", ports: [{ name: redis, containerPort: 6379 }] }
"#;

#[test]
fn datastores_open_to_every_pod() {
    // No policy at all in the set: KP402's business, not KP406's.
    assert!(found("KP406", REDIS).is_empty());
    // Isolated, but a rule opens the port to every namespace.
    let open = policy(
        "shop",
        "redis",
        "{ podSelector: { matchLabels: { app: redis } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 6379 }] }] }",
    );
    let f = found("KP406", &stream(&[REDIS, &open]));
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0].contains("opens port 6379 of datastore StatefulSet redis"), "{f:?}");
    // The same rule on another port, or for one namespace: fine.
    let other = policy(
        "shop",
        "redis",
        "{ podSelector: { matchLabels: { app: redis } }, ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ port: 9121 }] }, \
         { from: [{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: shop } } }], ports: [{ port: redis }] }] }",
    );
    assert!(found("KP406", &stream(&[REDIS, &other])).is_empty());
    // A backup Job running the postgres image is a client, not a datastore.
    let job = r#"
apiVersion: batch/v1
kind: Job
metadata: { name: dump, namespace: shop }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: dump, image: "postgres:16", command: [pg_dump] }]
"#;
    assert!(
        found("KP406", &stream(&[job, &policy("shop", "deny-out", "{ podSelector: {}, policyTypes: [Egress] }")]))
            .is_empty()
    );
}

#[test]
fn rules_allowing_everything() {
    let all_egress = policy("shop", "out", "{ podSelector: {}, policyTypes: [Egress], egress: [{ to: [] }] }");
    let f = found("KP407", &all_egress);
    assert!(f.len() == 1 && f[0].contains("egress rule 0 lets every pod of shop send traffic anywhere"), "{f:?}");
    let every_ns = policy(
        "shop",
        "in",
        "{ podSelector: { matchLabels: { app: api } }, ingress: [{ from: [{ namespaceSelector: {} }] }] }",
    );
    assert_eq!(found("KP407", &every_ns).len(), 1);
    // Egress rules of a policy that does not isolate for egress do not count.
    let ignored = policy("shop", "in", "{ podSelector: {}, policyTypes: [Ingress], egress: [{}] }");
    assert!(found("KP407", &ignored).is_empty());
    // Pods of one namespace, or a port restriction: not everything.
    let narrower = policy(
        "shop",
        "in",
        "{ podSelector: {}, ingress: [{ from: [{ podSelector: {} }] }, { ports: [{ port: 8080 }] }, \
         { from: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: web } } }] }] }",
    );
    assert!(found("KP407", &narrower).is_empty());
}
