use crate::model::At;
use crate::model::Value;

use super::common::{rules, strings, subject};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP129: a binding hands its subjects a way to gain more rights than it grants.
pub struct RbacEscalation;

static META: Meta = Meta {
    code: "KP129",
    name: "rbac-escalation",
    family: Family::Security,
    reads: Reads::Set,
    severity: Severity::Warning,
    summary: "a RoleBinding or ClusterRoleBinding grants a permission that lets its subjects escalate",
    what: "Follows each RoleBinding and ClusterRoleBinding to its Role or ClusterRole in the checked \
           manifests (aggregated ClusterRoles included) and reports the binding when a rule without \
           `resourceNames` grants, wildcards included: `bind` or `escalate` on roles or clusterroles; \
           `impersonate` on users, groups or serviceaccounts; `create` or `get` on pods/exec or pods/attach; \
           `get`, `create` (or any other HTTP verb) on nodes/proxy; `create`, `update` or `patch` on \
           validating or mutating webhook configurations; CSR approval (`update` on certificatesigningrequests/approval together with \
           `approve` on a `kubernetes.io/` signer); `create` on serviceaccounts/token; `list` or `watch` on \
           secrets; a rule of `*` verbs on `*` resources of `*` groups is named as that. A RoleBinding grants \
           only the namespaced ones, in its namespace. The finding names the \
           binding, the role, the subjects and the scope. Not reported: roles bound nowhere, roles not in \
           the checked set, bindings to `cluster-admin` (KP123), and Secrets readable through a \
           ClusterRoleBinding (KP124).",
    why: "Each of these is a documented path from the granted rights to more (Kubernetes' \"RBAC good \
          practices\"): `bind` and `escalate` skip the check that one cannot grant what one does not hold; \
          `impersonate` acts as any identity, `system:masters` included; exec and attach run commands in \
          pods that hold other ServiceAccounts' tokens (WebSocket exec is a GET, authorized by `get` until \
          the API server also demands `create`); nodes/proxy reaches every kubelet's API, which execs into \
          any pod without audit; a webhook sees, and a mutating one rewrites, every object sent to the API \
          server; an approved CSR is a client certificate for any user; a minted token is any \
          ServiceAccount of the namespace; `list` and `watch` return Secret values. A warning, not an \
          error: controllers shipped by public projects (admission webhook patchers, GitOps and secrets \
          operators) need some of these, and whether their subject is trusted is not in the manifests; \
          keep the grant visible and ignore it with the reason.",
    fix: "Grant the narrowest rule: `resourceNames` for the roles to bind, the webhook configuration to \
          patch or the signer to approve; a RoleBinding in the namespace that needs it instead of a \
          ClusterRoleBinding; a `kubectl debug` or a CI job instead of exec rights. Where the permission is \
          the subject's job, ignore the finding on the binding with that reason.",
    fail: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ops-debug }
rules:
  - apiGroups: [""]
    resources: [pods, pods/exec]
    verbs: [get, list, create]
  - apiGroups: [""]
    resources: [nodes/proxy]
    verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ops-debug }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops-debug }
subjects:
  - { kind: ServiceAccount, name: debugger, namespace: ops }
"#,
    pass: r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ops-debug }
rules:
  - apiGroups: [""]
    resources: [pods, pods/log, nodes]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: ops-debug }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ops-debug }
subjects:
  - { kind: ServiceAccount, name: debugger, namespace: ops }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: webhook-patcher }
rules:
  - apiGroups: [admissionregistration.k8s.io]
    resources: [validatingwebhookconfigurations]
    resourceNames: [shop-admission]
    verbs: [get, update]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: webhook-patcher }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: webhook-patcher }
subjects:
  - { kind: ServiceAccount, name: patcher, namespace: shop }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: unbound }
rules:
  - apiGroups: [""]
    resources: [users, groups]
    verbs: [impersonate]
"#,
};

/// A permission that leads to more: what it matches and what it lets one do.
struct Power {
    verbs: &'static [&'static str],
    group: &'static str,
    resources: &'static [&'static str],
    /// Granted only cluster-wide: the resources are not namespaced.
    cluster_only: bool,
    does: &'static str,
}

const RBAC: &str = "rbac.authorization.k8s.io";
const WEBHOOKS: &str = "admissionregistration.k8s.io";

const POWERS: &[Power] = &[
    Power {
        verbs: &["bind"],
        group: RBAC,
        resources: &["roles", "clusterroles"],
        cluster_only: false,
        does: "bind roles with more rights than its own (`bind`)",
    },
    Power {
        verbs: &["escalate"],
        group: RBAC,
        resources: &["roles", "clusterroles"],
        cluster_only: false,
        does: "write roles with any rights (`escalate`)",
    },
    Power {
        verbs: &["impersonate"],
        group: "",
        resources: &["users", "groups"],
        cluster_only: true,
        does: "act as any user or group (`impersonate`)",
    },
    Power {
        verbs: &["impersonate"],
        group: "",
        resources: &["serviceaccounts"],
        cluster_only: false,
        does: "act as other ServiceAccounts (`impersonate`)",
    },
    Power {
        verbs: &["create", "get"],
        group: "",
        resources: &["pods/exec", "pods/attach"],
        cluster_only: false,
        does: "run commands in pods that hold other ServiceAccounts' tokens (pods/exec, pods/attach)",
    },
    Power {
        // The kubelet authorizes its API by HTTP method: GET is `get`, POST `create`…
        verbs: &["get", "create", "update", "patch", "delete"],
        group: "",
        resources: &["nodes/proxy"],
        cluster_only: true,
        does: "reach every kubelet's API, which execs into any pod (nodes/proxy)",
    },
    Power {
        verbs: &["create", "update", "patch"],
        group: WEBHOOKS,
        resources: &["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
        cluster_only: true,
        does: "register or repoint admission webhooks, which see every object sent to the API server",
    },
    Power {
        verbs: &["create"],
        group: "",
        resources: &["serviceaccounts/token"],
        cluster_only: false,
        does: "mint tokens of other ServiceAccounts (serviceaccounts/token)",
    },
    Power {
        verbs: &["list", "watch"],
        group: "",
        resources: &["secrets"],
        cluster_only: false,
        does: "read the values of every Secret (`list`/`watch` on secrets)",
    },
];

const EVERYTHING_CLUSTER: &str =
    "do anything to any resource (`*` verbs, resources and API groups): cluster-admin in all but name";
const EVERYTHING_NAMESPACE: &str =
    "do anything to any resource (`*` verbs, resources and API groups): admin of the namespace";

/// What approving CertificateSigningRequests lets one do (needs two rules).
const CSR: &str = "approve CertificateSigningRequests, i.e. issue client certificates for any user";

/// Whether `rule` grants `verbs` on `resources` of `group`, as the RBAC authorizer matches
/// (`*` everywhere, and `*/sub` for a subresource).
fn grants(rule: &Value, verbs: &[&str], group: &str, resources: &[&str]) -> bool {
    strings(rule, "verbs").iter().any(|v| *v == "*" || verbs.contains(v))
        && strings(rule, "apiGroups").iter().any(|g| *g == "*" || *g == group)
        && strings(rule, "resources").iter().any(|r| {
            resources.iter().any(|want| {
                *r == "*" || r == want || want.split_once('/').is_some_and(|(_, sub)| r.strip_prefix("*/") == Some(sub))
            })
        })
}

/// The escalating permissions of a role's rules (in [`POWERS`] order), each with the first rule
/// granting it; `cluster` when the binding is cluster-wide.
fn escalations(found: &[(usize, String, &Value)], cluster: bool) -> Vec<(&'static str, usize, String)> {
    let mut out = Vec::new();
    let open = |rule: &&Value| strings(rule, "resourceNames").is_empty();
    // Everything on everything: one phrase says it better than the list of what it includes.
    let everything =
        |rule: &&Value| ["verbs", "resources", "apiGroups"].iter().all(|f| strings(rule, f).contains(&"*"));
    if let Some((o, p, _)) = found.iter().find(|(_, _, r)| open(r) && everything(r)) {
        let does = if cluster { EVERYTHING_CLUSTER } else { EVERYTHING_NAMESPACE };
        return vec![(does, *o, p.clone())];
    }
    for power in POWERS.iter().filter(|p| cluster || !p.cluster_only) {
        // Secrets read cluster-wide are KP124's.
        if cluster && power.resources == ["secrets"] {
            continue;
        }
        let hit = found.iter().find(|(_, _, r)| open(r) && grants(r, power.verbs, power.group, power.resources));
        if let Some((o, p, _)) = hit {
            out.push((power.does, *o, p.clone()));
        }
    }
    if cluster {
        let approval = found.iter().find(|(_, _, r)| {
            open(r) && grants(r, &["update"], "certificates.k8s.io", &["certificatesigningrequests/approval"])
        });
        let signer = found.iter().any(|(_, _, r)| {
            let names = strings(r, "resourceNames");
            grants(r, &["approve"], "certificates.k8s.io", &["signers"])
                && (names.is_empty() || names.iter().any(|n| n.starts_with("kubernetes.io/") || *n == "*"))
        });
        if let (Some((o, p, _)), true) = (approval, signer) {
            out.push((CSR, *o, p.clone()));
        }
    }
    out
}

impl Check for RbacEscalation {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for kind in ["RoleBinding", "ClusterRoleBinding"] {
            for &i in cx.index.of_kind(kind) {
                report_binding(cx, i, kind == "ClusterRoleBinding", out);
            }
        }
    }
}

fn report_binding(cx: &Context, i: usize, cluster: bool, out: &mut Sink) {
    let o = &cx.objects[i];
    let (Some(role_kind), Some(role)) =
        (o.value.at("/roleRef/kind").and_then(Value::as_str), o.value.at("/roleRef/name").and_then(Value::as_str))
    else {
        return;
    };
    let subjects: Vec<String> =
        o.value.get("subjects").and_then(Value::as_array).into_iter().flatten().map(subject).collect();
    if subjects.is_empty() || role == "cluster-admin" {
        return;
    }
    let found = match role_kind {
        "ClusterRole" => cx.index.get("ClusterRole", "", role),
        "Role" if !cluster => cx.index.get("Role", o.ns(), role),
        _ => None,
    };
    let Some(r) = found else { return };
    let powers = escalations(&rules(cx, r), cluster);
    if powers.is_empty() {
        return;
    }
    let scope = if cluster { "cluster-wide".to_string() } else { format!("in namespace `{}`", o.ns()) };
    let does: Vec<&str> = powers.iter().map(|(d, _, _)| *d).collect();
    let mut places: Vec<String> = Vec::new();
    for (_, obj, p) in &powers {
        let ro = &cx.objects[*obj];
        let place = format!("{}:{}", cx.source_name(ro.source), ro.pos(p).line);
        if !places.contains(&place) {
            places.push(place);
        }
    }
    out.report(
        i,
        "/roleRef/name",
        format!("binds {role_kind} `{role}` to {} {scope}, which lets them {}", subjects.join(", "), does.join("; ")),
    )
    .help(format!(
        "the rules are at {}; grant only what the subject needs (`resourceNames`, a RoleBinding), or ignore the \
         finding on the binding with the reason",
        places.join(", ")
    ));
}
