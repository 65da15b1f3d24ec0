use std::collections::HashSet;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::netpol::{Target, every_port, host_network, peers_admit_all, ports_allow};
use crate::model::pods::Pod;

/// KP406: a datastore that every pod of the cluster may connect to.
pub struct DatastoreOpen;

static META: Meta = Meta {
    code: "KP406",
    name: "datastore-open-to-all",
    family: Family::Network,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a datastore accepts connections from every pod: no NetworkPolicy restricts its ingress",
    what: "Finds the datastores among the long-running workloads (Deployments, StatefulSets, DaemonSets, \
           ReplicaSets, Pods): a container whose image is a known datastore (postgres, mysql, mariadb, redis, \
           valkey, keydb, mongo, neo4j, minio, rabbitmq, cassandra, elasticsearch, opensearch, etcd, memcached, \
           kafka, zookeeper, clickhouse, cockroach, couchdb, influxdb, nats, qdrant, weaviate, milvus, and their \
           variants such as `redis-cluster`, but not `NAME-exporter`), on its declared client port (or the \
           engine's usual port when it declares none), or a StatefulSet container declaring a usual \
           datastore port (5432, 3306, 6379, 27017, 7687, 9000, 5672, 9042, 9200, 2379, 11211, 9092, 2181, \
           26257, 5984, 8086, 4222). Reported when its namespace has NetworkPolicies but none isolates the \
           datastore for ingress (a namespace without any policy is KP402's finding), and at each ingress \
           rule that opens the datastore port to everyone (no `from`, or an empty `namespaceSelector`); a \
           rule without any port restriction is KP407's.",
    why: "A database, cache or queue holds the data every other control protects; when any pod of the cluster \
          can open a connection to it, one compromised or misconfigured workload anywhere reaches it, and only \
          its password stands in the way (Redis and memcached often have none).",
    fix: "Select the datastore with a NetworkPolicy (a namespace default deny does it) and admit only its \
          clients: `from: [{podSelector: {matchLabels: {app: api}}}]` (with a namespaceSelector for clients in \
          other namespaces) on the client port.",
    fail: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: redis, namespace: shop }
spec:
  serviceName: redis
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis, role: primary } }
    spec:
      containers:
        - name: redis
          image: docker.io/library/redis:7.4
          ports: [{ name: redis, containerPort: 6379 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: redis, namespace: shop }
spec:
  podSelector:
    matchLabels: { app: redis }
    matchExpressions: [{ key: role, operator: In, values: [replica] }]
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: api } } }]
      ports: [{ port: redis }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web } } }]
---
# Selects pods named redis, but of another namespace.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: redis, namespace: billing }
spec:
  podSelector: { matchLabels: { app: redis } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: api } } }]
      ports: [{ port: redis }]
"#,
    pass: r#"
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: redis, namespace: shop }
spec:
  serviceName: redis
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis, role: primary } }
    spec:
      containers:
        - name: redis
          image: docker.io/library/redis:7.4
          ports: [{ name: redis, containerPort: 6379 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: redis, namespace: shop }
spec:
  podSelector:
    matchLabels: { app: redis }
    matchExpressions: [{ key: role, operator: In, values: [primary, replica] }]
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: api } } }]
      ports: [{ port: redis }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web } } }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Ingress]
---
# Selects pods named redis, but of another namespace.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: redis, namespace: billing }
spec:
  podSelector: { matchLabels: { app: redis } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: api } } }]
      ports: [{ port: redis }]
"#,
};

/// Ports that, declared by a StatefulSet, say "datastore".
const PORTS: &[i64] =
    &[5432, 3306, 6379, 27017, 7687, 9000, 5672, 9042, 9200, 2379, 11211, 9092, 2181, 26257, 5984, 8086, 4222];

/// The datastore engine an image runs, with its client port.
fn engine(image: &str) -> Option<(&'static str, i64)> {
    crate::engines::by_image(image).map(|k| (k.name, i64::from(k.client_port)))
}

impl Check for DatastoreOpen {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let policies = cx.policies();
        if policies.all.is_empty() {
            return;
        }
        let with_policies: HashSet<&str> = policies.all.iter().map(|p| p.ns).collect();
        let mut reported_rules = HashSet::new();
        for t in &cx.index.templates {
            let o = &cx.objects[t.object];
            if !matches!(o.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Pod")
                || host_network(cx, t.object)
            {
                continue;
            }
            let Some(pod) = Pod::of(cx.objects, t.object) else { continue };
            // (pointer, what, port, protocol, port name) of each datastore port.
            let mut ports = Vec::new();
            for c in pod.app_containers() {
                let image = c.get("/image").and_then(Value::as_str).unwrap_or("");
                let known = engine(image);
                let declared: Vec<_> = c.ports().collect();
                for (j, &(n, name, proto)) in declared.iter().enumerate() {
                    let fits = match known {
                        Some((_, port)) => n == port,
                        None => o.kind == "StatefulSet" && PORTS.contains(&n),
                    };
                    if fits {
                        ports.push((c.field(&format!("/ports/{j}")), c.name().to_string(), n, proto, name));
                    }
                }
                if let (Some((_, port)), true) = (known, declared.is_empty()) {
                    ports.push((c.field("/image"), c.name().to_string(), port, "TCP", None));
                }
            }
            let Some(first) = ports.first() else { continue };
            let who = format!("{} {}", o.kind, o.name);
            let mut isolating = policies.ingress(t.object).peekable();
            if isolating.peek().is_none() {
                if with_policies.contains(o.ns()) {
                    out.report(
                        t.object,
                        first.0.clone(),
                        format!(
                            "datastore port {} (container {}) accepts connections from every pod: no NetworkPolicy \
                             of {} selects {who} for ingress",
                            first.2,
                            first.1,
                            o.ns()
                        ),
                    )
                    .help(format!(
                        "add a NetworkPolicy selecting the pods of {who} that admits only its clients on port {}, or \
                         a default deny `{{podSelector: {{}}, policyTypes: [Ingress]}}` in {} with an allow rule for them",
                        first.2,
                        o.ns()
                    ));
                }
                continue;
            }
            for p in isolating {
                for (n, r) in p.ingress_rules.iter().enumerate() {
                    if every_port(r.get("ports")) || !peers_admit_all(r.get("from")) {
                        continue;
                    }
                    let Some(port) = ports
                        .iter()
                        .find(|x| ports_allow(r.get("ports"), Target { number: x.2, protocol: x.3, name: x.4 }))
                    else {
                        continue;
                    };
                    if !reported_rules.insert((p.object, n, t.object)) {
                        continue;
                    }
                    out.report(
                        p.object,
                        format!("/spec/ingress/{n}"),
                        format!(
                            "ingress rule {n} opens port {} of datastore {who} to every pod of every namespace",
                            port.2
                        ),
                    )
                    .help(format!(
                        "admit only the clients of {who}: `from: [{{podSelector: {{matchLabels: {{…}}}}}}]`, with a \
                         namespaceSelector naming the namespace of clients elsewhere"
                    ));
                }
            }
        }
    }
}
