//! What the security checks share: how a container's settings combine with
//! its pod's, where to point when a field is missing, and findings that one
//! pod-level field causes for several containers.

use crate::model::At;
use std::collections::{HashMap, HashSet};

use crate::model::Value;

use crate::check::{Context, Sink};
use crate::model::pods::{Container, Pod};

/// Linux-only settings (seccomp, capabilities, no_new_privs, read-only root,
/// /proc masks) do not apply to Windows pods.
pub fn linux(pod: &Pod) -> bool {
    pod.get("os").and_then(|o| o.get("name")).and_then(Value::as_str) != Some("windows")
}

/// `hostUsers: false`: the pod has its own user namespace, so root inside is
/// an unprivileged user on the node.
pub fn user_namespaced(pod: &Pod) -> bool {
    pod.get("hostUsers").and_then(Value::as_bool) == Some(false)
}

/// `container `api`` or `init container `migrate``.
pub fn label(c: &Container) -> String {
    format!("{} `{}`", if c.init { "init container" } else { "container" }, c.name())
}

/// Where to point for a missing `securityContext` field: the container's
/// `securityContext` if it has one (the field goes there), else its `name`.
pub fn anchor(c: &Container) -> String {
    if c.value.get("securityContext").is_some_and(Value::is_object) {
        c.field("/securityContext")
    } else if c.value.get("name").is_some() {
        c.field("/name")
    } else {
        c.ptr.clone()
    }
}

/// A `securityContext` field as it applies to one container.
pub struct Setting<'a> {
    pub value: &'a Value,
    /// Where it is written.
    pub pointer: String,
    /// Inherited from the pod's `securityContext`.
    pub from_pod: bool,
}

/// The container's own value of `path` (e.g. `/runAsUser`) in its
/// `securityContext`, else the pod's: container settings override pod ones.
pub fn effective<'a>(pod: &Pod<'a>, c: &Container<'a>, path: &str) -> Option<Setting<'a>> {
    if let Some(v) = c.get(&format!("/securityContext{path}")).filter(|v| !v.is_null()) {
        return Some(Setting { value: v, pointer: c.field(&format!("/securityContext{path}")), from_pod: false });
    }
    let v = pod.spec.at(&format!("/securityContext{path}")).filter(|v| !v.is_null())?;
    Some(Setting { value: v, pointer: format!("{}/securityContext{path}", pod.ptr), from_pod: true })
}

/// The capabilities a container adds, upper-cased and without `CAP_`, with pointers.
pub fn added_capabilities<'a>(c: &Container<'a>) -> impl Iterator<Item = (String, String)> + 'a {
    let ptr = c.field("/securityContext/capabilities/add");
    c.get("/securityContext/capabilities/add").and_then(Value::as_array).into_iter().flatten().enumerate().filter_map(
        move |(i, v)| {
            let name = v.as_str()?.trim().to_ascii_uppercase();
            let name = name.strip_prefix("CAP_").map(str::to_string).unwrap_or(name);
            Some((name, format!("{ptr}/{i}")))
        },
    )
}

pub fn privileged(c: &Container) -> bool {
    c.get("/securityContext/privileged").and_then(Value::as_bool) == Some(true)
}

/// "container `a`", "containers `a` and `b`", "container `a` and init container `m`".
pub fn who(containers: &[(bool, String)]) -> String {
    let quoted: Vec<String> = containers.iter().map(|(_, n)| format!("`{n}`")).collect();
    if containers.len() > 1 && containers.iter().all(|(init, _)| init == &containers[0].0) {
        let kind = if containers[0].0 { "init containers" } else { "containers" };
        return format!("{kind} {}", join(&quoted));
    }
    let labels: Vec<String> = containers
        .iter()
        .map(|(init, n)| format!("{} `{n}`", if *init { "init container" } else { "container" }))
        .collect();
    join(&labels)
}

fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Findings about containers, merged when one field (a pod-level setting)
/// causes the same finding for several containers of a pod: one finding at
/// that field naming them all. Messages hold `{who}` for the containers.
#[derive(Default)]
pub struct ByField {
    keys: HashMap<(usize, String, String), usize>,
    items: Vec<Item>,
}

struct Item {
    object: usize,
    pointer: String,
    message: String,
    help: String,
    containers: Vec<(bool, String)>,
}

impl ByField {
    pub fn add(&mut self, object: usize, pointer: String, c: &Container, message: &str, help: &str) {
        let key = (object, pointer, message.to_string());
        let at = *self.keys.entry(key.clone()).or_insert_with(|| {
            self.items.push(Item {
                object,
                pointer: key.1,
                message: key.2,
                help: help.to_string(),
                containers: Vec::new(),
            });
            self.items.len() - 1
        });
        self.items[at].containers.push((c.init, c.name().to_string()));
    }

    pub fn report(self, out: &mut Sink) {
        for it in self.items {
            out.report(it.object, it.pointer, it.message.replace("{who}", &who(&it.containers))).help(it.help);
        }
    }
}

/// The ServiceAccount a pod runs as (`default` when none is named).
pub fn service_account<'a>(pod: &Pod<'a>) -> (&'a str, Option<String>) {
    for field in ["serviceAccountName", "serviceAccount"] {
        if let Some(name) = pod.get(field).and_then(Value::as_str).filter(|n| !n.is_empty()) {
            return (name, Some(pod.field(field)));
        }
    }
    ("default", None)
}

/// The ServiceAccounts that some RoleBinding or ClusterRoleBinding of the
/// input grants something to: (namespace, name), whole namespaces
/// (`system:serviceaccounts:NS`), or all of them (`system:serviceaccounts`).
#[derive(Default)]
pub struct Bound {
    accounts: HashSet<(String, String)>,
    namespaces: HashSet<String>,
    all: bool,
}

impl Bound {
    pub fn build(cx: &Context) -> Bound {
        let mut b = Bound::default();
        for kind in ["RoleBinding", "ClusterRoleBinding"] {
            for &i in cx.index.of_kind(kind) {
                let o = &cx.objects[i];
                let subjects = o.value.get("subjects").and_then(Value::as_array).unwrap_or_default();
                for s in subjects {
                    let name = s.get("name").and_then(Value::as_str).unwrap_or("");
                    match s.get("kind").and_then(Value::as_str) {
                        Some("ServiceAccount") => {
                            let ns = s.get("namespace").and_then(Value::as_str).unwrap_or(o.ns());
                            b.accounts.insert((ns.to_string(), name.to_string()));
                        }
                        Some("Group") if name == "system:serviceaccounts" => b.all = true,
                        Some("Group") => {
                            if let Some(ns) = name.strip_prefix("system:serviceaccounts:") {
                                b.namespaces.insert(ns.to_string());
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        b
    }

    pub fn contains(&self, ns: &str, name: &str) -> bool {
        self.all || self.namespaces.contains(ns) || self.accounts.contains(&(ns.to_string(), name.to_string()))
    }
}

/// The rules of a Role or ClusterRole, with the object and pointer of each;
/// for an aggregated ClusterRole, the rules of the ClusterRoles it selects.
pub fn rules<'a>(cx: &Context<'a>, role: usize) -> Vec<(usize, String, &'a Value)> {
    let o = &cx.objects[role];
    let own = |i: usize| -> Vec<(usize, String, &'a Value)> {
        let rules = cx.objects[i].value.get("rules").and_then(Value::as_array).unwrap_or_default();
        rules.iter().enumerate().map(|(j, r)| (i, format!("/rules/{j}"), r)).collect()
    };
    let Some(selectors) = o.value.at("/aggregationRule/clusterRoleSelectors").and_then(Value::as_array) else {
        return own(role);
    };
    let mut out = Vec::new();
    for &i in cx.index.of_kind("ClusterRole") {
        let labels = cx.objects[i].labels();
        let matches = |sel: &Value| {
            let have: std::collections::BTreeMap<String, String> = labels
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.to_string(), v.as_str()?.to_string())))
                .collect();
            crate::model::selector::Selector::of(sel).matches(&have)
        };
        if i != role && selectors.iter().any(matches) {
            out.extend(own(i));
        }
    }
    out
}

/// The strings of a rule's list field (`verbs`, `resources`, `apiGroups`).
pub fn strings<'a>(rule: &'a Value, field: &str) -> Vec<&'a str> {
    rule.get(field).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect()
}

/// `ServiceAccount ns/name`, `Group name`, `User name` for a binding's subjects.
pub fn subject(s: &Value) -> String {
    let kind = s.get("kind").and_then(Value::as_str).unwrap_or("?");
    let name = s.get("name").and_then(Value::as_str).unwrap_or("?");
    match (kind, s.get("namespace").and_then(Value::as_str)) {
        ("ServiceAccount", Some(ns)) => format!("ServiceAccount `{ns}/{name}`"),
        _ => format!("{kind} `{name}`"),
    }
}

/// The hostPath volumes of a pod: (pointer of `hostPath.path`, volume name, path).
pub fn host_paths<'a>(pod: &Pod<'a>) -> Vec<(String, &'a str, &'a str)> {
    let volumes = pod.get("volumes").and_then(Value::as_array).unwrap_or_default();
    volumes
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let path = v.at("/hostPath/path")?.as_str()?;
            let name = v.get("name").and_then(Value::as_str).unwrap_or("?");
            Some((format!("{}/volumes/{i}/hostPath/path", pod.ptr), name, path))
        })
        .collect()
}

/// The containers mounting volume `name`, each with whether every mount of it is read-only.
pub fn mounted_by<'a>(pod: &Pod<'a>, name: &str) -> Vec<(Container<'a>, bool)> {
    pod.containers()
        .filter_map(|c| {
            let mounts: Vec<&Value> = c
                .value
                .get("volumeMounts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|m| m.get("name").and_then(Value::as_str) == Some(name))
                .collect();
            if mounts.is_empty() {
                return None;
            }
            let read_only = mounts.iter().all(|m| m.get("readOnly").and_then(Value::as_bool) == Some(true));
            Some((c, read_only))
        })
        .collect()
}

/// Container runtime sockets at their usual places.
const SOCKETS: &[&str] = &[
    "/run/containerd/containerd.sock",
    "/var/run/containerd/containerd.sock",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/k3s/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
    "/run/crio/crio.sock",
    "/var/run/cri-dockerd.sock",
    "/run/cri-dockerd.sock",
    "/run/podman/podman.sock",
];

/// The container runtime socket a hostPath exposes: the socket itself (at
/// its usual place or any path ending in a runtime socket's name), or a
/// directory that contains one (`/var/run`, `/run/containerd`, `/`).
pub fn runtime_socket(path: &str) -> Option<String> {
    let trimmed = path.trim();
    let p = trimmed.trim_end_matches('/');
    let p = if p.is_empty() && trimmed.starts_with('/') { "/" } else { p };
    if p.is_empty() {
        return None;
    }
    let file = p.rsplit('/').next().unwrap_or(p);
    if ["docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "podman.sock", "dockershim.sock"]
        .contains(&file)
    {
        return Some(p.to_string());
    }
    SOCKETS
        .iter()
        .find(|s| p == "/" || s.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')))
        .map(|s| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_containers() {
        assert_eq!(who(&[(false, "a".into())]), "container `a`");
        assert_eq!(who(&[(false, "a".into()), (false, "b".into())]), "containers `a` and `b`");
        assert_eq!(
            who(&[(true, "m".into()), (true, "n".into()), (true, "o".into())]),
            "init containers `m`, `n` and `o`"
        );
        assert_eq!(who(&[(false, "a".into()), (true, "m".into())]), "container `a` and init container `m`");
    }

    #[test]
    fn finds_runtime_sockets() {
        assert_eq!(runtime_socket("/var/run/docker.sock").as_deref(), Some("/var/run/docker.sock"));
        assert_eq!(runtime_socket("/run/containerd/").as_deref(), Some("/run/containerd/containerd.sock"));
        assert_eq!(runtime_socket("/var/run").as_deref(), Some("/var/run/containerd/containerd.sock"));
        assert_eq!(runtime_socket("/run").as_deref(), Some("/run/containerd/containerd.sock"));
        assert_eq!(runtime_socket("/").as_deref(), Some("/run/containerd/containerd.sock"));
        assert_eq!(runtime_socket("/custom/dir/containerd.sock").as_deref(), Some("/custom/dir/containerd.sock"));
        assert_eq!(runtime_socket("/var/log"), None);
        assert_eq!(runtime_socket("/var/run-data"), None);
        assert_eq!(runtime_socket("/run/containerd-logs"), None);
        assert_eq!(runtime_socket(""), None);
    }
}
