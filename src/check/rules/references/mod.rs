//! KP3xx: references between objects — Services to pods, pods to their
//! ConfigMaps, Secrets, claims and accounts, Ingresses and Gateway API routes to Services,
//! autoscalers and bindings to their targets.

use crate::model::At;
use std::collections::{BTreeSet, HashMap, HashSet};

use crate::model::Value;

use crate::check::{Check, Context};
use crate::model::pods::Pod;
use crate::model::ports::PortRef;

mod access_mode_not_offered;
mod binding_subject_not_found;
mod configmap_not_found;
mod hpa_target_not_found;
mod ingress_host_invalid;
mod ingress_port_not_found;
mod ingress_service_not_found;
mod key_not_found;
mod probe_port_undeclared;
mod probe_port_unknown_name;
mod pvc_not_found;
mod role_not_found;
mod route_backend_not_found;
mod secret_not_found;
pub mod secret_value_unfilled;
mod service_account_not_found;
mod service_selects_nothing;
mod service_target_port_undeclared;
mod service_target_port_unknown_name;
mod statefulset_service;
mod url_encoded_key_mismatch;

pub const CHECKS: &[&dyn Check] = &[
    &service_selects_nothing::ServiceSelectsNothing,
    &service_target_port_unknown_name::ServiceTargetPortUnknownName,
    &service_target_port_undeclared::ServiceTargetPortUndeclared,
    &probe_port_unknown_name::ProbePortUnknownName,
    &probe_port_undeclared::ProbePortUndeclared,
    &configmap_not_found::ConfigMapNotFound,
    &secret_not_found::SecretNotFound,
    &pvc_not_found::PvcNotFound,
    &service_account_not_found::ServiceAccountNotFound,
    &key_not_found::KeyNotFound,
    &ingress_service_not_found::IngressServiceNotFound,
    &ingress_port_not_found::IngressPortNotFound,
    &hpa_target_not_found::HpaTargetNotFound,
    &statefulset_service::StatefulSetService,
    &role_not_found::RoleNotFound,
    &binding_subject_not_found::BindingSubjectNotFound,
    &access_mode_not_offered::AccessModeNotOffered,
    &url_encoded_key_mismatch::UrlEncodedKeyMismatch,
    &route_backend_not_found::RouteBackendNotFound,
    &secret_value_unfilled::SecretValueUnfilled,
    &ingress_host_invalid::IngressHostInvalid,
];

/// Where configuration data is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    ConfigMap,
    Secret,
}

impl Store {
    pub fn kind(self) -> &'static str {
        match self {
            Store::ConfigMap => "ConfigMap",
            Store::Secret => "Secret",
        }
    }
}

/// One reference from a pod template to a ConfigMap or a Secret.
#[derive(Debug)]
pub struct DataRef<'a> {
    pub store: Store,
    pub name: &'a str,
    /// Pointer of the field holding the name.
    pub name_ptr: String,
    /// Keys read from it, with the pointer of each `key` field.
    pub keys: Vec<(&'a str, String)>,
    pub optional: bool,
    /// How it is used, for messages: "env DB_HOST of container api".
    pub via: String,
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

fn array(v: Option<&Value>) -> impl Iterator<Item = (usize, &Value)> {
    v.and_then(Value::as_array).into_iter().flatten().enumerate()
}

/// Every ConfigMap and Secret a pod template reads: env `valueFrom`,
/// `envFrom`, `configMap`/`secret` volumes, projected volumes and
/// `imagePullSecrets`. References without a name are skipped.
pub fn data_refs<'a>(pod: &Pod<'a>) -> Vec<DataRef<'a>> {
    let mut out = Vec::new();
    for c in pod.containers() {
        let cname = c.name();
        for (i, e) in array(c.value.get("env")) {
            let var = e.get("name").and_then(Value::as_str).unwrap_or("?");
            for (field, store) in [("configMapKeyRef", Store::ConfigMap), ("secretKeyRef", Store::Secret)] {
                let Some(r) = e.at(&format!("/valueFrom/{field}")) else { continue };
                let Some(name) = r.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) else { continue };
                let base = c.field(&format!("/env/{i}/valueFrom/{field}"));
                let keys =
                    r.get("key").and_then(Value::as_str).map(|k| (k, format!("{base}/key"))).into_iter().collect();
                out.push(DataRef {
                    store,
                    name,
                    name_ptr: format!("{base}/name"),
                    keys,
                    optional: is_true(r.get("optional")),
                    via: format!("env {var} of container {cname}"),
                });
            }
        }
        for (i, e) in array(c.value.get("envFrom")) {
            for (field, store) in [("configMapRef", Store::ConfigMap), ("secretRef", Store::Secret)] {
                let Some(r) = e.get(field) else { continue };
                let Some(name) = r.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) else { continue };
                out.push(DataRef {
                    store,
                    name,
                    name_ptr: c.field(&format!("/envFrom/{i}/{field}/name")),
                    keys: Vec::new(),
                    optional: is_true(r.get("optional")),
                    via: format!("envFrom of container {cname}"),
                });
            }
        }
    }
    let items = |r: &'a Value, base: &str| -> Vec<(&'a str, String)> {
        array(r.get("items"))
            .filter_map(|(j, it)| Some((it.get("key")?.as_str()?, format!("{base}/items/{j}/key"))))
            .collect()
    };
    for (i, v) in array(pod.get("volumes")) {
        let vname = v.get("name").and_then(Value::as_str).unwrap_or("?");
        for (field, name_field, store) in
            [("configMap", "name", Store::ConfigMap), ("secret", "secretName", Store::Secret)]
        {
            let Some(r) = v.get(field) else { continue };
            let Some(name) = r.get(name_field).and_then(Value::as_str).filter(|n| !n.is_empty()) else { continue };
            let base = pod.field(&format!("volumes/{i}/{field}"));
            out.push(DataRef {
                store,
                name,
                name_ptr: format!("{base}/{name_field}"),
                keys: items(r, &base),
                optional: is_true(r.get("optional")),
                via: format!("volume {vname}"),
            });
        }
        for (j, s) in array(v.at("/projected/sources")) {
            for (field, store) in [("configMap", Store::ConfigMap), ("secret", Store::Secret)] {
                let Some(r) = s.get(field) else { continue };
                let Some(name) = r.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) else { continue };
                let base = pod.field(&format!("volumes/{i}/projected/sources/{j}/{field}"));
                out.push(DataRef {
                    store,
                    name,
                    name_ptr: format!("{base}/name"),
                    keys: items(r, &base),
                    optional: is_true(r.get("optional")),
                    via: format!("projected volume {vname}"),
                });
            }
        }
    }
    for (i, s) in array(pod.get("imagePullSecrets")) {
        let Some(name) = s.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()) else { continue };
        out.push(DataRef {
            store: Store::Secret,
            name,
            name_ptr: pod.field(&format!("imagePullSecrets/{i}/name")),
            keys: Vec::new(),
            optional: false,
            via: "imagePullSecrets".into(),
        });
    }
    out
}

/// ConfigMaps and Secrets that the checked set produces without defining
/// them as such: kustomize generators, SealedSecrets, ExternalSecrets and
/// cert-manager Certificates. The keys of a SealedSecret
/// (`spec.encryptedData`, `spec.template.data`) and of an ExternalSecret
/// (`spec.data[].secretKey`) are known unless it takes them from elsewhere
/// (no `data`, `dataFrom`, a target template, the deprecated whole-Secret `data`).
#[derive(Debug, Default)]
pub struct Produced {
    /// (store, namespace, name) → keys, `None` when not known; namespace
    /// `None` for a kustomize generator that does not say where its output goes.
    names: HashMap<ProducedKey, Option<BTreeSet<String>>>,
}

/// (store kind, namespace, name) of a produced ConfigMap or Secret.
type ProducedKey = (&'static str, Option<String>, String);

impl Produced {
    pub fn build(cx: &Context) -> Produced {
        let mut p = Produced::default();
        let mut add = |store: Store, ns: Option<&str>, name: &str, keys: Option<BTreeSet<String>>| {
            let entry = p
                .names
                .entry((store.kind(), ns.map(str::to_string), name.to_string()))
                .or_insert(Some(BTreeSet::new()));
            // Two producers of one name: their keys together, unknown if either's are.
            match (entry.as_mut(), keys) {
                (Some(have), Some(more)) => have.extend(more),
                _ => *entry = None,
            }
        };
        for &i in cx.index.of_kind("Kustomization") {
            let k = &cx.objects[i].value;
            let ns = k.get("namespace").and_then(Value::as_str);
            for (field, store) in [("configMapGenerator", Store::ConfigMap), ("secretGenerator", Store::Secret)] {
                for (_, g) in array(k.get(field)) {
                    if let Some(name) = g.get("name").and_then(Value::as_str) {
                        add(store, g.get("namespace").and_then(Value::as_str).or(ns), name, None);
                    }
                }
            }
        }
        let names = |v: Option<&Value>| -> Vec<String> {
            v.and_then(Value::as_object).into_iter().flatten().map(|(k, _)| k.to_string()).collect()
        };
        for &i in cx.index.of_kind("SealedSecret") {
            let o = &cx.objects[i];
            let name = o.value.at("/spec/template/metadata/name").and_then(Value::as_str).unwrap_or(&o.name);
            let keys = o.value.at("/spec/data").is_none().then(|| {
                let mut keys: BTreeSet<String> = names(o.value.at("/spec/encryptedData")).into_iter().collect();
                keys.extend(names(o.value.at("/spec/template/data")));
                keys
            });
            add(Store::Secret, Some(o.ns()), name, keys);
        }
        for &i in cx.index.of_kind("ExternalSecret") {
            let o = &cx.objects[i];
            let name = o.value.at("/spec/target/name").and_then(Value::as_str).unwrap_or(&o.name);
            // Without `data` it writes what `dataFrom` brings, or merges into another Secret.
            let more = o.value.at("/spec/data").and_then(Value::as_array).is_none_or(<[Value]>::is_empty)
                || ["/spec/dataFrom", "/spec/target/template"]
                    .iter()
                    .any(|p| o.value.at(p).is_some_and(|v| !v.is_null()));
            let keys = (!more).then(|| {
                array(o.value.at("/spec/data"))
                    .filter_map(|(_, d)| d.get("secretKey").and_then(Value::as_str).map(str::to_string))
                    .collect()
            });
            add(Store::Secret, Some(o.ns()), name, keys);
        }
        for &i in cx.index.of_kind("Certificate") {
            let o = &cx.objects[i];
            if let Some(name) = o.value.at("/spec/secretName").and_then(Value::as_str) {
                add(Store::Secret, Some(o.ns()), name, None);
            }
        }
        p
    }

    pub fn has(&self, store: Store, ns: &str, name: &str) -> bool {
        self.keys(store, ns, name).is_some()
    }

    /// `None` when nothing produces `name`; else its keys, if known.
    pub fn keys(&self, store: Store, ns: &str, name: &str) -> Option<Option<&BTreeSet<String>>> {
        let key = |ns: Option<&str>| (store.kind(), ns.map(str::to_string), name.to_string());
        // A generator without a namespace may produce it too: keys unknown.
        if self.names.contains_key(&key(None)) {
            return Some(None);
        }
        self.names.get(&key(Some(ns))).map(Option::as_ref)
    }
}

/// Whether `name` exists in `ns` as a `store` object of the set, is produced
/// by one, or always exists (`kube-root-ca.crt` in every namespace).
pub fn store_defined(cx: &Context, produced: &Produced, store: Store, ns: &str, name: &str) -> bool {
    crate::model::builtin::exists(store.kind(), ns, name)
        || cx.index.get(store.kind(), ns, name).is_some()
        || produced.has(store, ns, name)
}

/// `Kind name` of an object, for messages: "Deployment web".
pub fn kind_name(cx: &Context, object: usize) -> String {
    let o = &cx.objects[object];
    format!("{} {}", o.kind, o.name)
}

/// Names of the objects of `kind`, by namespace: for "did you mean".
pub fn names_by_ns<'a>(cx: &'a Context, kind: &str) -> HashMap<&'a str, Vec<&'a str>> {
    let mut m: HashMap<&str, Vec<&str>> = HashMap::new();
    for &i in cx.index.of_kind(kind) {
        m.entry(cx.objects[i].ns()).or_default().push(&cx.objects[i].name);
    }
    m
}

/// Reports one missing ConfigMap or Secret per object and name, at its
/// first reference.
pub fn report_missing(cx: &Context, out: &mut crate::check::Sink, store: Store) {
    let produced = Produced::build(cx);
    let kind = store.kind();
    let known = names_by_ns(cx, kind);
    for pod in cx.pods() {
        let ns = cx.objects[pod.object].ns();
        let refs = data_refs(&pod);
        let mut seen = HashSet::new();
        for r in refs.iter().filter(|r| r.store == store && !r.optional) {
            if store_defined(cx, &produced, store, ns, r.name) || !seen.insert(r.name) {
                continue;
            }
            let more = refs.iter().filter(|x| x.store == store && x.name == r.name).count() - 1;
            let mut help = if r.via == "imagePullSecrets" {
                format!(
                    "unless something outside these manifests creates it, pulls from a private registry fail; \
                     add the Secret to namespace {ns} or remove the entry"
                )
            } else {
                format!(
                    "unless something outside these manifests creates it, the pod does not start; add the {kind} \
                     to namespace {ns}, or mark the reference `optional: true` if the pod can run without it"
                )
            };
            if more > 0 {
                help.push_str(&format!(" (it is referenced {more} more time(s) in this object)"));
            }
            let candidates = known.get(ns).into_iter().flatten().copied();
            if let Some(s) = crate::diag::did_you_mean(r.name, candidates) {
                help = format!("did you mean `{s}`?");
            }
            out.report(
                pod.object,
                &r.name_ptr,
                format!("{kind} `{}` ({}) is not in the checked set; it may be defined elsewhere", r.name, r.via),
            )
            .help(help);
        }
    }
}

/// A Service backend of an Ingress.
#[derive(Debug)]
pub struct Backend<'a> {
    pub service: &'a str,
    pub service_ptr: String,
    pub port: Option<PortRef<'a>>,
    pub port_ptr: String,
}

/// The default backend and every rule path's backend that is a Service
/// (`networking.k8s.io/v1` and the older `serviceName`/`servicePort` form).
pub fn ingress_backends(ingress: &Value) -> Vec<Backend<'_>> {
    let mut at: Vec<(String, &Value)> = Vec::new();
    for f in ["defaultBackend", "backend"] {
        if let Some(b) = ingress.at(&format!("/spec/{f}")) {
            at.push((format!("/spec/{f}"), b));
        }
    }
    for (i, rule) in array(ingress.at("/spec/rules")) {
        for (j, path) in array(rule.at("/http/paths")) {
            if let Some(b) = path.get("backend") {
                at.push((format!("/spec/rules/{i}/http/paths/{j}/backend"), b));
            }
        }
    }
    at.into_iter()
        .filter_map(|(ptr, b)| {
            if let Some(s) = b.get("service") {
                let service = s.get("name")?.as_str()?;
                let (port, port_ptr) = match (s.at("/port/number"), s.at("/port/name")) {
                    (Some(n), _) => (PortRef::of(Some(n)), format!("{ptr}/service/port/number")),
                    (None, Some(n)) => (PortRef::of(Some(n)), format!("{ptr}/service/port/name")),
                    _ => (None, format!("{ptr}/service")),
                };
                Some(Backend { service, service_ptr: format!("{ptr}/service/name"), port, port_ptr })
            } else {
                let service = b.get("serviceName")?.as_str()?;
                Some(Backend {
                    service,
                    service_ptr: format!("{ptr}/serviceName"),
                    port: PortRef::of(b.get("servicePort")),
                    port_ptr: format!("{ptr}/servicePort"),
                })
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
