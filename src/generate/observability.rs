//! The platform's own monitoring stack loads what kubeproof generates for it.
//! Where a service is Prometheus, Alertmanager or Grafana (see
//! [`crate::components`]), its Deployment gets the generated files mounted
//! where its flags and environment point:
//! - Prometheus: `prometheus.yml` and `rules.yaml` side by side (the rule
//!   file is named relatively, so it resolves beside the configuration), and
//!   the RBAC its Kubernetes service discovery needs in each scraped namespace;
//! - Alertmanager: `alertmanager.yml`, receiver credentials from a Secret
//!   mounted where the configuration's `*_file` fields point;
//! - Grafana: data sources with fixed uids (the dashboards name them) and a
//!   dashboard provider reading the generated dashboards' ConfigMaps.
//!
//! Runs after the monitoring, dashboard and workload generators: it reads the
//! files they produced and changes the Deployments they wrote. A content hash
//! on each pod template rolls the pods when the files change.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::rbac::v1 as rbac;
use serde_json::{Value, json};

use super::monitoring::{LoadedBy, RULES_FILE};
use super::{SecretSource, Stack, labels, meta, short_hash};
use crate::description::alerts::SECRETS_DIR;
use crate::description::resolve::{Resolved, Svc};

/// Where the images read their configuration when no flag says otherwise.
pub const PROMETHEUS_CONFIG: &str = "/etc/prometheus/prometheus.yml";
pub const ALERTMANAGER_CONFIG: &str = "/etc/alertmanager/alertmanager.yml";
pub const GRAFANA_PROVISIONING: &str = "/etc/grafana/provisioning";
/// Where Grafana's dashboard provider reads the generated dashboards.
pub const GRAFANA_DASHBOARDS: &str = "/etc/grafana/dashboards";

/// The provisioned Prometheus data source's uid, which dashboards select.
pub const PROMETHEUS_UID: &str = "prometheus";

/// A data source per backend component: component, Grafana type, uid,
/// display name and the preferred Service port name.
const DATASOURCES: &[(&str, &str, &str, &str, &str)] = &[
    ("prometheus", "prometheus", PROMETHEUS_UID, "Prometheus", "http"),
    ("loki", "loki", "loki", "Loki", "http"),
    ("jaeger", "jaeger", "jaeger", "Jaeger", "query"),
    ("tempo", "tempo", "tempo", "Tempo", "http"),
];

pub fn observability(r: &Resolved, stack: &mut Stack) {
    if let Some(p) = r.component("prometheus") {
        prometheus(r, p, stack);
    }
    if let Some(a) = r.component("alertmanager") {
        alertmanager(r, a, stack);
    }
    if let Some(g) = r.component("grafana") {
        grafana(r, g, stack);
    }
}

// ---- Prometheus ---------------------------------------------------------------

fn prometheus(r: &Resolved, p: &Svc, stack: &mut Stack) {
    let Some(m) = &stack.monitoring else { return };
    let (path, args) = config_flag(p, PROMETHEUS_CONFIG, &["--storage.tsdb.path=/prometheus"]);
    let (dir, file) = split_path(&path);
    let data = BTreeMap::from([(file.to_string(), yaml(&m.scrape)), (RULES_FILE.to_string(), yaml(&m.rules))]);
    let namespaces = discovered_namespaces(&m.scrape);
    let dir = dir.to_string();
    let cm = config_map(r, p, "files", data, stack);
    discovery_rbac(r, p, &namespaces, stack);
    let volume = json!({ "name": "kubeproof-files", "configMap": { "name": cm.name, "optional": false } });
    let mount = json!({ "name": "kubeproof-files", "mountPath": dir, "readOnly": true });
    loaded(stack, "prometheus", p, &cm.name, &dir);
    let add = Attach { volumes: vec![volume], mounts: vec![mount], env: vec![], args, hash: cm.hash, token: true };
    attach(stack, p, add);
}

/// The namespaces the scrape jobs discover endpoints in.
fn discovered_namespaces(scrape: &Value) -> BTreeSet<String> {
    let jobs = scrape["scrape_configs"].as_array().into_iter().flatten();
    let sd = jobs.flat_map(|j| j["kubernetes_sd_configs"].as_array().into_iter().flatten());
    sd.flat_map(|c| c["namespaces"]["names"].as_array().into_iter().flatten())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect()
}

/// Kubernetes service discovery lists and watches Endpoints, Pods and
/// Services: a Role in each discovered namespace (not cluster-wide), bound to
/// Prometheus' ServiceAccount.
fn discovery_rbac(r: &Resolved, p: &Svc, namespaces: &BTreeSet<String>, stack: &mut Stack) {
    let l = labels(&r.platform, &p.name, "monitoring");
    let name = format!("{}-discovery", p.name);
    for ns in namespaces {
        let rules = vec![rbac::PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["endpoints".into(), "pods".into(), "services".into()]),
            verbs: vec!["get".into(), "list".into(), "watch".into()],
            ..Default::default()
        }];
        stack.push_role(meta(&name, ns, &l), rules, &p.name, &p.namespace);
    }
}

// ---- Alertmanager -------------------------------------------------------------

fn alertmanager(r: &Resolved, a: &Svc, stack: &mut Stack) {
    let Some(config) = stack.monitoring.as_ref().and_then(|m| m.alertmanager.clone()) else { return };
    let (path, args) = config_flag(a, ALERTMANAGER_CONFIG, &["--storage.path=/alertmanager"]);
    let (_, file) = split_path(&path);
    let cm = config_map(r, a, "files", BTreeMap::from([(file.to_string(), yaml(&config))]), stack);
    // The file alone (subPath): the credentials' Secret is mounted below
    // the configuration's directory, and nested mounts in a ConfigMap fail.
    let mut volumes = vec![json!({ "name": "kubeproof-files", "configMap": { "name": cm.name, "optional": false } })];
    let mut mounts = vec![json!({ "name": "kubeproof-files", "mountPath": path, "subPath": file, "readOnly": true })];
    let keys = credential_keys(&config);
    if !keys.is_empty() {
        let secret = &r.alerting.secret;
        stack.secrets.push(SecretSource {
            name: secret.clone(),
            namespace: a.namespace.clone(),
            file: format!("{secret}.env"),
            keys,
        });
        volumes.push(json!({ "name": "kubeproof-receivers", "secret": { "secretName": secret, "optional": false } }));
        mounts.push(json!({
            "name": "kubeproof-receivers",
            "mountPath": format!("{SECRETS_DIR}/{secret}"),
            "readOnly": true,
        }));
    }
    loaded(stack, "alertmanager", a, &cm.name, &path);
    attach(stack, a, Attach { volumes, mounts, env: vec![], args, hash: cm.hash, token: false });
}

/// The Secret keys the receivers read: the file names of their `*_file`
/// fields, sorted.
fn credential_keys(config: &Value) -> Vec<String> {
    let mut keys = BTreeSet::new();
    for receiver in config["receivers"].as_array().into_iter().flatten() {
        let configs = receiver.as_object().into_iter().flatten().filter_map(|(_, v)| v.as_array());
        for (k, v) in configs.flatten().filter_map(Value::as_object).flatten() {
            if let (true, Some(path)) = (k.ends_with("_file"), v.as_str()) {
                keys.insert(path.rsplit('/').next().unwrap_or(path).to_string());
            }
        }
    }
    keys.into_iter().collect()
}

// ---- Grafana ------------------------------------------------------------------

fn grafana(r: &Resolved, g: &Svc, stack: &mut Stack) {
    let written = g.env.get("GF_PATHS_PROVISIONING").cloned();
    let provisioning = written.clone().unwrap_or_else(|| GRAFANA_PROVISIONING.to_string());
    // Said explicitly, so the mounts and the path are seen together.
    let env = if written.is_none() {
        vec![json!({ "name": "GF_PATHS_PROVISIONING", "value": provisioning })]
    } else {
        vec![]
    };
    let data = BTreeMap::from([
        ("datasources.yaml".to_string(), yaml(&datasources(r))),
        ("dashboards.yaml".to_string(), yaml(&dashboard_provider(r))),
    ]);
    let cm = config_map(r, g, "provisioning", data, stack);
    let boards: Vec<Value> = stack
        .dashboards
        .iter()
        .map(|d| json!({ "configMap": { "name": format!("grafana-dashboard-{}", d.name), "optional": false } }))
        .collect();
    let item = |key: &str| json!({ "name": cm.name, "optional": false, "items": [{ "key": key, "path": key }] });
    let volumes = vec![
        json!({ "name": "kubeproof-datasources", "configMap": item("datasources.yaml") }),
        json!({ "name": "kubeproof-providers", "configMap": item("dashboards.yaml") }),
        json!({ "name": "kubeproof-dashboards", "projected": { "sources": boards } }),
    ];
    let mounts = vec![
        json!({ "name": "kubeproof-datasources", "mountPath": format!("{provisioning}/datasources"), "readOnly": true }),
        json!({ "name": "kubeproof-providers", "mountPath": format!("{provisioning}/dashboards"), "readOnly": true }),
        json!({ "name": "kubeproof-dashboards", "mountPath": GRAFANA_DASHBOARDS, "readOnly": true }),
    ];
    let hash = short_hash(&(&cm.hash, stack.dashboards.iter().map(|d| &d.json).collect::<Vec<_>>()));
    loaded(stack, "grafana", g, &cm.name, &provisioning);
    attach(stack, g, Attach { volumes, mounts, env, args: None, hash, token: false });
}

/// Grafana's data source provisioning: a source per backend the platform
/// runs, with a fixed uid; Prometheus is the default.
pub fn datasources(r: &Resolved) -> Value {
    let mut sources = Vec::new();
    for (component, kind, uid, title, port_name) in DATASOURCES {
        let Some(s) = r.component(component) else { continue };
        let port = s.ports.iter().find(|p| p.name == *port_name).or(s.ports.first()).map_or(0, |p| p.service_port);
        sources.push(json!({
            "name": title,
            "type": kind,
            "uid": uid,
            "access": "proxy",
            "url": format!("http://{}.{}.svc:{port}", s.name, s.namespace),
            "isDefault": *component == "prometheus",
            "editable": false,
        }));
    }
    json!({ "apiVersion": 1, "datasources": sources })
}

/// Grafana's dashboard provisioning: the generated dashboards, read-only, in
/// a folder named after the platform.
pub fn dashboard_provider(r: &Resolved) -> Value {
    json!({
        "apiVersion": 1,
        "providers": [{
            "name": r.platform,
            "folder": r.platform,
            "type": "file",
            "disableDeletion": true,
            "allowUiUpdates": false,
            "options": { "path": GRAFANA_DASHBOARDS },
        }],
    })
}

// ---- shared -------------------------------------------------------------------

/// The configuration file `--config.file` names (either flag form), and the
/// container's arguments when they must change to name it: prepended to the
/// written ones, or with the image's other defaults when none are written.
fn config_flag(s: &Svc, default: &str, image_defaults: &[&str]) -> (String, Option<Vec<String>>) {
    let args = s.args.clone().unwrap_or_default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let flag = a.trim_start_matches('-');
        if let Some(path) = flag.strip_prefix("config.file=") {
            return (path.to_string(), None);
        }
        if flag == "config.file"
            && let Some(path) = it.next()
        {
            return (path.clone(), None);
        }
    }
    let mut out = vec![format!("--config.file={default}")];
    match &s.args {
        Some(written) => out.extend(written.iter().cloned()),
        None => out.extend(image_defaults.iter().map(|a| a.to_string())),
    }
    (default.to_string(), Some(out))
}

/// `/etc/x/file.yml` → (`/etc/x`, `file.yml`).
fn split_path(path: &str) -> (&str, &str) {
    match path.rsplit_once('/') {
        Some(("", file)) => ("/", file),
        Some((dir, file)) => (dir, file),
        None => (".", path),
    }
}

/// Records, for the generated READMEs, who loads which files.
fn loaded(stack: &mut Stack, component: &'static str, s: &Svc, config_map: &str, path: &str) {
    if let Some(m) = stack.monitoring.as_mut() {
        m.loaded_by.push(LoadedBy {
            component,
            service: s.name.clone(),
            namespace: s.namespace.clone(),
            config_map: config_map.to_string(),
            path: path.to_string(),
        });
    }
}

fn yaml(v: &Value) -> String {
    serde_saphyr::to_string(v).unwrap_or_default()
}

struct Made {
    name: String,
    hash: String,
}

/// Pushes ConfigMap `SERVICE-suffix` holding `data` in the service's namespace.
fn config_map(r: &Resolved, s: &Svc, suffix: &str, data: BTreeMap<String, String>, stack: &mut Stack) -> Made {
    let name = format!("{}-{suffix}", s.name);
    let hash = short_hash(&data);
    let l = labels(&r.platform, &s.name, "monitoring");
    stack.push(&core::ConfigMap { metadata: meta(&name, &s.namespace, &l), data: Some(data), ..Default::default() });
    Made { name, hash }
}

/// What a Deployment gains.
struct Attach {
    volumes: Vec<Value>,
    mounts: Vec<Value>,
    env: Vec<Value>,
    /// New container arguments, when they change.
    args: Option<Vec<String>>,
    /// The generated files' hash: a change rolls the pods.
    hash: String,
    /// Whether the pod needs its ServiceAccount token (to call the API server).
    token: bool,
}

fn attach(stack: &mut Stack, s: &Svc, add: Attach) {
    let ours = |o: &&mut super::Object, kind: &str| {
        o.kind == kind && o.name == s.name && o.namespace.as_deref() == Some(s.namespace.as_str())
    };
    if add.token
        && let Some(sa) = stack.objects.iter_mut().find(|o| ours(o, "ServiceAccount"))
    {
        sa.value["automountServiceAccountToken"] = json!(true);
    }
    let Some(d) = stack.objects.iter_mut().find(|o| ours(o, "Deployment")) else { return };
    let t = &mut d.value["spec"]["template"];
    t["metadata"]["annotations"]["kubeproof.dev/files-hash"] = json!(add.hash);
    let pod = &mut t["spec"];
    if add.token {
        pod["automountServiceAccountToken"] = json!(true);
    }
    extend(pod, "volumes", add.volumes);
    let c = &mut pod["containers"][0];
    extend(c, "volumeMounts", add.mounts);
    extend(c, "env", add.env);
    if let Some(args) = add.args {
        c["args"] = json!(args);
    }
}

/// Appends `items` to the array `key` of `object`, creating it when absent
/// (and leaving the object untouched when there is nothing to add).
fn extend(object: &mut Value, key: &str, items: Vec<Value>) {
    if items.is_empty() {
        return;
    }
    let list = &mut object[key];
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(a) = list.as_array_mut() {
        a.extend(items);
    }
}

#[cfg(test)]
mod tests {
    use super::super::monitoring::resolved;
    use super::*;

    /// A platform running its own Prometheus, Alertmanager and Grafana.
    const OWN: &str = r#"
apiVersion: kubeproof.dev/v1alpha1
name: obs
cluster: { kubernetes: "1.30" }
services:
  api:
    image: ghcr.io/example/api:1.0
    port: 8080
    resources: { cpu: 100m, memory: 128Mi }
    metrics: /metrics
  prometheus:
    namespace: mon
    image: docker.io/prom/prometheus:v2.55.1
    port: 9090
    resources: { cpu: 100m, memory: 128Mi }
    args: [--config.file=/config/prom.yml, --storage.tsdb.path=/data]
  alertmanager:
    namespace: mon
    image: docker.io/prom/alertmanager:v0.27.0
    port: 9093
    resources: { cpu: 100m, memory: 128Mi }
  grafana:
    namespace: mon
    image: docker.io/grafana/grafana:11.3.0
    port: 3000
    resources: { cpu: 100m, memory: 128Mi }
alerts:
  critical: [pagerduty]
  warning: [hook]
receivers:
  pagerduty: {}
  hook: { kind: webhook, url: "https://hooks.example.com" }
"#;

    fn stack() -> (Resolved, Stack) {
        let r = resolved(OWN);
        let stack = crate::generate::generate(&r);
        (r, stack)
    }

    fn object<'a>(stack: &'a Stack, kind: &str, ns: &str, name: &str) -> &'a Value {
        match stack.objects.iter().find(|o| o.kind == kind && o.name == name && o.namespace.as_deref() == Some(ns)) {
            Some(o) => &o.value,
            None => panic!("no {kind} {ns}/{name}"),
        }
    }

    fn container(stack: &Stack, name: &str) -> Value {
        object(stack, "Deployment", "mon", name)["spec"]["template"]["spec"]["containers"][0].clone()
    }

    #[test]
    fn prometheus_reads_both_files_from_the_directory_of_its_config_flag() {
        let (r, stack) = stack();
        assert!(!r.prometheus_operator, "an own Prometheus: no Operator objects by default");
        assert!(stack.objects.iter().all(|o| o.kind != "ServiceMonitor" && o.kind != "PrometheusRule"));
        let cm = object(&stack, "ConfigMap", "mon", "prometheus-files");
        let keys: Vec<&String> = cm["data"].as_object().into_iter().flat_map(|m| m.keys()).collect();
        assert_eq!(keys, ["prom.yml", RULES_FILE]);
        let c = container(&stack, "prometheus");
        assert_eq!(c["args"], json!(["--config.file=/config/prom.yml", "--storage.tsdb.path=/data"]), "unchanged");
        assert!(c["volumeMounts"].as_array().into_iter().flatten().any(|m| m["mountPath"] == "/config"));
        let pod = &object(&stack, "Deployment", "mon", "prometheus")["spec"]["template"]["spec"];
        assert_eq!(pod["automountServiceAccountToken"], true);
        assert_eq!(object(&stack, "ServiceAccount", "mon", "prometheus")["automountServiceAccountToken"], true);
        // Discovery in the scraped namespaces only: api's (Prometheus has no `metrics:` here).
        let roles: Vec<String> = stack.objects.iter().filter(|o| o.kind == "Role").map(|o| o.id()).collect();
        assert_eq!(roles, ["Role/obs/prometheus-discovery"]);
        let binding = object(&stack, "RoleBinding", "obs", "prometheus-discovery");
        assert_eq!(
            binding["subjects"][0],
            json!({ "kind": "ServiceAccount", "name": "prometheus", "namespace": "mon" })
        );
    }

    #[test]
    fn alertmanager_gets_the_flag_the_file_and_only_the_credentials_it_reads() {
        let (r, stack) = stack();
        let c = container(&stack, "alertmanager");
        // No args written: the flag, with the image's storage default.
        assert_eq!(
            c["args"],
            json!(["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"])
        );
        let secret = &r.alerting.secret;
        let s = stack.secrets.iter().find(|s| &s.name == secret).map(|s| (s.namespace.as_str(), s.keys.clone()));
        // The webhook's URL, like PagerDuty's key, is a file of the Secret.
        assert_eq!(s, Some(("mon", vec!["hook".to_string(), "pagerduty".to_string()])));
        let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
        assert!(mounts.iter().any(|m| m["mountPath"] == format!("{SECRETS_DIR}/{secret}")));
        assert!(mounts.iter().any(|m| m["subPath"] == "alertmanager.yml"));
    }

    #[test]
    fn grafana_is_provisioned_with_fixed_uids_and_the_dashboards() {
        let (r, stack) = stack();
        let d = datasources(&r);
        let uids: Vec<&str> =
            d["datasources"].as_array().into_iter().flatten().filter_map(|s| s["uid"].as_str()).collect();
        assert_eq!(uids, [PROMETHEUS_UID], "no Loki or Jaeger here");
        assert_eq!(d["datasources"][0]["url"], "http://prometheus.mon.svc:9090");
        assert_eq!(d["datasources"][0]["isDefault"], true);
        let c = container(&stack, "grafana");
        assert_eq!(c["env"][0], json!({ "name": "GF_PATHS_PROVISIONING", "value": GRAFANA_PROVISIONING }));
        let g = &object(&stack, "Deployment", "mon", "grafana")["spec"]["template"]["spec"];
        let projected = g["volumes"].as_array().into_iter().flatten().find(|v| v["name"] == "kubeproof-dashboards");
        let sources = projected.map_or(0, |v| v["projected"]["sources"].as_array().map_or(0, Vec::len));
        assert_eq!(sources, stack.dashboards.len());
        for dash in &stack.dashboards {
            object(&stack, "ConfigMap", "mon", &format!("grafana-dashboard-{}", dash.name));
            assert_eq!(dash.json["templating"]["list"][0]["current"]["value"], PROMETHEUS_UID);
        }
    }

    #[test]
    fn the_config_flag_in_either_form_or_added() {
        let mut s = resolved(OWN).services.remove(1);
        s.args = Some(vec!["-config.file".into(), "/x/p.yml".into()]);
        assert_eq!(config_flag(&s, PROMETHEUS_CONFIG, &[]), ("/x/p.yml".to_string(), None));
        s.args = Some(vec!["--web.enable-lifecycle".into()]);
        let (path, args) = config_flag(&s, PROMETHEUS_CONFIG, &["--storage.tsdb.path=/prometheus"]);
        assert_eq!(path, PROMETHEUS_CONFIG);
        assert_eq!(args, Some(vec![format!("--config.file={PROMETHEUS_CONFIG}"), "--web.enable-lifecycle".into()]));
        assert_eq!(split_path("/etc/p.yml"), ("/etc", "p.yml"));
        assert_eq!(split_path("/p.yml"), ("/", "p.yml"));
    }
}
