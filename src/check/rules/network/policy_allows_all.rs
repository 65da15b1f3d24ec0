use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::netpol::{Direction, Policy, every_port, peers_admit_all};

/// KP407: a NetworkPolicy rule that allows every peer on every port.
pub struct PolicyAllowsAll;

static META: Meta = Meta {
    code: "KP407",
    name: "policy-allows-all",
    family: Family::Network,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a NetworkPolicy rule allows all traffic: every peer, every port",
    what: "Looks at every ingress rule of a policy isolating pods for ingress, and every egress rule of a policy \
           isolating them for egress, for one without a port restriction (`ports` absent or empty) whose peers \
           are everyone: `from`/`to` absent or empty (`- {}`), a peer with an empty `namespaceSelector` and no \
           `podSelector` (every pod of every namespace), or an `ipBlock` of `0.0.0.0/0` or `::/0` without \
           exceptions.",
    why: "NetworkPolicy rules add up: one allow-everything rule cancels the default deny of the namespace and \
          every narrower rule for the pods it selects. It is the usual leftover of debugging a connection (\"open \
          it all and see\") and it makes every other policy of those pods decorative.",
    fix: "Name the peers (`podSelector`, `namespaceSelector` with the namespace's `kubernetes.io/metadata.name`) \
          and the ports the pods really need; if allowing everything is intended, say so with the ignore \
          annotation and a reason.",
    fail: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web } } }]
      ports: [{ port: 8080 }]
    - from: [{ namespaceSelector: {} }]
      ports: [{ port: 9090 }]
    - {}
  egress:
    - to: [{ ipBlock: { cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16] } }]
      ports: [{ port: 443 }]
"#,
    pass: r#"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress, Egress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: web } } }]
      ports: [{ port: 8080 }]
    - from: [{ namespaceSelector: {} }]
      ports: [{ port: 9090 }]
  egress:
    - to: [{ ipBlock: { cidr: 0.0.0.0/0, except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16] } }]
      ports: [{ port: 443 }]
"#,
};

impl Check for PolicyAllowsAll {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("NetworkPolicy") {
            let Some(p) = Policy::read(cx, i) else { continue };
            let who = match super::describe_selector(&p.selector) {
                s if s.is_empty() => format!("every pod of {}", p.ns),
                s => format!("the pods {s} of {}", p.ns),
            };
            for (dir, isolates, rules) in
                [(Direction::Ingress, p.ingress, p.ingress_rules), (Direction::Egress, p.egress, p.egress_rules)]
            {
                if !isolates {
                    continue;
                }
                for (n, r) in rules.iter().enumerate() {
                    if !every_port(r.get("ports")) || !peers_admit_all(r.get(dir.peers())) {
                        continue;
                    }
                    let (what, help) = match dir {
                        Direction::Ingress => (
                            format!("admits traffic from anywhere on every port to {who}"),
                            "name the clients (`from: [{podSelector: …}]`, with a namespaceSelector for other \
                             namespaces) and the ports they use",
                        ),
                        Direction::Egress => (
                            format!("lets {who} send traffic anywhere on every port"),
                            "name the destinations (`to: [{podSelector: …}]`, DNS in kube-system, ipBlocks of \
                             external services) and their ports",
                        ),
                    };
                    out.report(
                        i,
                        format!("/spec/{}/{n}", dir.field()),
                        format!("{0} rule {n} {what}: every other {0} rule for these pods is void", dir.field()),
                    )
                    .help(help);
                }
            }
        }
    }
}
