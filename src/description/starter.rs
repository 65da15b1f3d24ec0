//! `kubeproof init`: a commented starter description, and the bundled examples.

/// A small, valid description that shows every common field.
pub const STARTER: &str = r#"# A kubeproof platform description. `kubeproof gen platform.yaml -o deploy`
# turns it into a kustomize base and one overlay per environment.
# Editor completion: `kubeproof schema > platform.schema.json`.
apiVersion: kubeproof.dev/v1alpha1
name: shop                      # a DNS label; also the default namespace
domain: shop.example.com

cluster:
  kubernetes: "1.30"            # quoted: YAML would read 1.30 as 1.3
  capacity: { nodes: 3, cpu: 12, memory: 48Gi, storage: 500Gi }
  ingressClass: nginx
  issuer: letsencrypt-prod      # cert-manager ClusterIssuer

environments:
  staging:
    scale: 0.5                  # halves replicas, requests and limits
    logLevel: debug
  production:
    logLevel: warn
    services:                   # override any field of any service
      web: { replicas: { min: 3, max: 10 } }

services:
  web:
    image: ghcr.io/example/shop-web:1.0.0   # pin a tag; `latest` is refused
    port: 8080                  # protocol: http (default), grpc, websocket or tcp
    expose: { host: shop.example.com }
    replicas: { min: 2, max: 6 }  # min < max adds a HorizontalPodAutoscaler
    resources: { cpu: 250m, memory: 256Mi, limits: { memory: 512Mi } }
    probes:
      live: /healthz
      ready: { path: /ready, period: 5s, timeout: 2s, failureThreshold: 3 }
    metrics: /metrics
    uses: [db, cache]           # wires DB_URL, CACHE_URL, … into the environment
    env: { LOG_FORMAT: json }
    secrets: [SESSION_KEY]      # values come from a git-ignored env file

datastores:
  db:    { engine: postgres, version: "16.4", storage: 20Gi }
  cache: { engine: redis, storage: 2Gi }
"#;

/// The five reference platforms and the polyglot shop, bundled so
/// `kubeproof init --example NAME` works anywhere.
pub const EXAMPLES: [(&str, &str); 6] = [
    ("fingerprint-api", include_str!("../../examples/fingerprint-api.yaml")),
    ("hdr-empire", include_str!("../../examples/hdr-empire.yaml")),
    ("health-platform", include_str!("../../examples/health-platform.yaml")),
    ("kailash", include_str!("../../examples/kailash.yaml")),
    ("machine-native-ops", include_str!("../../examples/machine-native-ops.yaml")),
    ("polyglot-shop", include_str!("../../examples/polyglot-shop.yaml")),
];

pub fn example(name: &str) -> Option<&'static str> {
    EXAMPLES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
