//! The platform's own monitoring stack loads what kubeproof generates for it
//! (health-platform runs Prometheus, Alertmanager and Grafana as services).
//! The overlay is built with `kubectl kustomize`; each pod's ConfigMap,
//! Secret and projected volumes are laid out in a directory exactly where
//! its container mounts them, and the real consumers read them from there:
//! `promtool check config` the Prometheus configuration at the path of
//! `--config.file` (its rule files resolving beside it), `amtool
//! check-config` the Alertmanager configuration with the receiver
//! credentials present as files, and the Grafana provisioning files at
//! `$GF_PATHS_PROVISIONING`, whose data source uids every dashboard panel
//! must resolve to. Each check also fails on a planted fault.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::{Value, json};

// ---- the built overlay ----------------------------------------------------------

/// The objects of health-platform's `default` overlay, built by kustomize,
/// and the generated tree they came from.
struct Built {
    out: tempfile::TempDir,
    docs: Vec<Value>,
}

fn build_health_platform() -> Option<Built> {
    if !have_kubectl() {
        return None;
    }
    let out = tempfile::tempdir().expect("temp dir");
    gen_ok(&repo().join("examples/health-platform.yaml"), out.path());
    let overlay = out.path().join("kustomize/overlays/default");
    prepare_secrets(&overlay);
    let yaml = kustomize(&overlay).unwrap_or_else(|e| panic!("{e}"));
    let docs = parse_built(&yaml).unwrap_or_else(|e| panic!("kustomize output: {e}"));
    Some(Built { out, docs })
}

fn find<'a>(docs: &'a [Value], kind: &str, ns: &str, name: &str) -> Result<&'a Value, String> {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["namespace"] == ns && d["metadata"]["name"] == name)
        .ok_or_else(|| format!("no {kind} {ns}/{name} in the built overlay"))
}

/// The Deployment running `component`, recognised by its image as kubeproof does.
fn deployment_of<'a>(docs: &'a [Value], component: &str) -> &'a Value {
    docs.iter()
        .filter(|d| d["kind"] == "Deployment")
        .find(|d| {
            let image = d["spec"]["template"]["spec"]["containers"][0]["image"].as_str().unwrap_or_default();
            kubeproof::components::Component::by_image(image).is_some_and(|c| c.name() == component)
        })
        .unwrap_or_else(|| panic!("no Deployment runs {component}"))
}

fn ns_of(o: &Value) -> &str {
    o["metadata"]["namespace"].as_str().unwrap_or_default()
}

/// The value of flag `name` in `args` (`--name=value` or `-name=value`).
fn flag(args: &Value, name: &str) -> Option<String> {
    args.as_array()?.iter().filter_map(Value::as_str).find_map(|a| {
        a.trim_start_matches('-').strip_prefix(name).and_then(|v| v.strip_prefix('=')).map(str::to_string)
    })
}

/// A container's environment variable, as written in its `env`.
fn env(container: &Value, name: &str) -> Option<String> {
    container["env"].as_array()?.iter().find(|e| e["name"] == name)?["value"].as_str().map(str::to_string)
}

// ---- laying out the mounted files ------------------------------------------------

/// Writes, under `root`, every file the first container of `deployment`
/// sees through its ConfigMap, Secret and projected volumes, at its mount
/// path (honouring `items` and `subPath`). Fails on a volume whose source is
/// not in the built overlay, as the kubelet would not start the pod.
fn lay_out(docs: &[Value], deployment: &Value, root: &Path) -> Result<(), String> {
    let pod = &deployment["spec"]["template"]["spec"];
    let ns = ns_of(deployment);
    for m in pod["containers"][0]["volumeMounts"].as_array().into_iter().flatten() {
        let name = m["name"].as_str().unwrap_or_default();
        let volume = pod["volumes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["name"] == name)
            .ok_or_else(|| format!("mount of the undeclared volume {name}"))?;
        let files = volume_files(docs, ns, volume)?;
        let at = root.join(m["mountPath"].as_str().unwrap_or_default().trim_start_matches('/'));
        match m["subPath"].as_str() {
            Some(sub) => {
                let text = files.get(sub).ok_or_else(|| format!("volume {name} has no {sub} for its subPath"))?;
                write(&at, text);
            }
            None => {
                std::fs::create_dir_all(&at).map_err(|e| e.to_string())?;
                for (path, text) in &files {
                    write(&at.join(path), text);
                }
            }
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The files a volume shows: path in the volume → contents.
fn volume_files(docs: &[Value], ns: &str, volume: &Value) -> Result<BTreeMap<String, String>, String> {
    if let Some(cm) = volume.get("configMap") {
        return source_files(docs, ns, "ConfigMap", cm);
    }
    if let Some(secret) = volume.get("secret") {
        let s = json!({ "name": secret["secretName"], "items": secret["items"] });
        return source_files(docs, ns, "Secret", &s);
    }
    if let Some(p) = volume.get("projected") {
        let mut files = BTreeMap::new();
        for source in p["sources"].as_array().into_iter().flatten() {
            if let Some(cm) = source.get("configMap") {
                files.extend(source_files(docs, ns, "ConfigMap", cm)?);
            }
        }
        return Ok(files);
    }
    Ok(BTreeMap::new()) // emptyDir, claims: nothing generated in them
}

/// A ConfigMap's or Secret's keys as files, through `items` when listed.
fn source_files(docs: &[Value], ns: &str, kind: &str, src: &Value) -> Result<BTreeMap<String, String>, String> {
    let o = find(docs, kind, ns, src["name"].as_str().unwrap_or_default())?;
    let data: BTreeMap<String, String> = o["data"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let text = v.as_str().unwrap_or_default();
            (k.clone(), if kind == "Secret" { base64_decode(text) } else { text.to_string() })
        })
        .collect();
    let Some(items) = src["items"].as_array() else { return Ok(data) };
    items
        .iter()
        .map(|i| {
            let key = i["key"].as_str().unwrap_or_default();
            let text = data.get(key).ok_or_else(|| format!("{kind} {ns}/{} has no key {key}", src["name"]))?;
            Ok((i["path"].as_str().unwrap_or(key).to_string(), text.clone()))
        })
        .collect()
}

/// Standard base64, as Secrets' `data` holds it.
fn base64_decode(s: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|c| *c != b'=') {
        let v = ABC.iter().position(|x| *x == c).unwrap_or_else(|| panic!("not base64: {s}")) as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 secret")
}

fn run(tool: &str, args: &[&str], dir: &Path) -> Result<String, String> {
    let o = Command::new(tool).args(args).current_dir(dir).output().map_err(|e| format!("cannot run {tool}: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    if o.status.success() { Ok(text) } else { Err(format!("{tool} {}:\n{text}", args.join(" "))) }
}

fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_saphyr::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// The built Service `host` (`name.namespace.svc`) names, when it has `port`.
fn service_port<'a>(docs: &'a [Value], host: &str, port: u64) -> Result<&'a Value, String> {
    let mut parts = host.split('.');
    let (Some(name), Some(ns), Some("svc")) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("{host} is not NAME.NAMESPACE.svc"));
    };
    let s = find(docs, "Service", ns, name)?;
    let ports = s["spec"]["ports"].as_array().into_iter().flatten();
    ports
        .clone()
        .any(|p| p["port"] == port)
        .then_some(s)
        .ok_or_else(|| format!("Service {ns}/{name} has no port {port}"))
}

/// `http://host:port` or `host:port` → (host, port).
fn host_port(url: &str) -> Result<(String, u64), String> {
    let hp = url.trim_start_matches("http://").trim_start_matches("https://");
    let hp = hp.split('/').next().unwrap_or(hp);
    let (h, p) = hp.rsplit_once(':').ok_or_else(|| format!("{url}: no port"))?;
    Ok((h.to_string(), p.parse().map_err(|_| format!("{url}: bad port"))?))
}

/// How many files of `dir` a `rule_files` pattern matches (`*` in the file
/// name only, as kubeproof writes them).
fn glob_count(dir: &Path, pattern: &str) -> usize {
    let path = dir.join(pattern);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else { return 0 };
    let Some((pre, post)) = name.split_once('*') else { return usize::from(path.is_file()) };
    std::fs::read_dir(parent)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().is_file())
        .filter(|e| e.file_name().to_str().is_some_and(|n| n.starts_with(pre) && n.ends_with(post)))
        .count()
}

// ---- Prometheus --------------------------------------------------------------------

/// Prometheus reads its configuration where `--config.file` points, its rule
/// files resolve beside it, its ServiceAccount may discover every scraped
/// namespace, its Alertmanager is a Service of the overlay, and `promtool
/// check config` accepts it. Returns the configuration as mounted.
fn prometheus_loads(docs: &[Value], root: &Path) -> Result<Value, String> {
    let d = deployment_of(docs, "prometheus");
    lay_out(docs, d, root)?;
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    let path = flag(&c["args"], "config.file").ok_or("Prometheus has no --config.file")?;
    let on_disk = root.join(path.trim_start_matches('/'));
    let config = read_yaml(&on_disk).map_err(|e| format!("the configuration is not mounted at {path}: {e}"))?;
    let dir = on_disk.parent().ok_or("no directory")?.to_path_buf();
    let rule_files = config["rule_files"].as_array().cloned().unwrap_or_default();
    if rule_files.is_empty() {
        return Err("no rule_files: the generated rules would not be loaded".into());
    }
    for pattern in rule_files.iter().filter_map(Value::as_str) {
        if glob_count(&dir, pattern) == 0 {
            return Err(format!("rule_files `{pattern}` matches no mounted file beside {path}"));
        }
    }
    discovery_allowed(docs, d, &config)?;
    alertmanagers_exist(docs, &config)?;
    // Debian's promtool is built without Kubernetes service discovery: the
    // copy it checks has each job's Service endpoints as static targets.
    write(&dir.join("prometheus.static.yml"), &serde_saphyr::to_string(&static_copy(docs, &config)?).expect("YAML"));
    run("promtool", &["check", "config", "prometheus.static.yml"], &dir)?;
    Ok(config)
}

/// `config` with every `kubernetes_sd_configs` replaced by the Service its
/// keep rule selects (`NAME;PORT_NAME`), as `NAME.NAMESPACE.svc:PORT` — the
/// Service and its named port must exist — and the relabelings that read
/// discovery metadata dropped (without discovery they have no input).
fn static_copy(docs: &[Value], config: &Value) -> Result<Value, String> {
    let mut copy = config.clone();
    for job in copy["scrape_configs"].as_array_mut().into_iter().flatten() {
        let Some(sd) = job.as_object_mut().and_then(|j| j.remove("kubernetes_sd_configs")) else { continue };
        let name = job["job_name"].as_str().unwrap_or_default().to_string();
        let ns = sd[0]["namespaces"]["names"][0].as_str().ok_or(format!("job {name}: no namespace"))?.to_string();
        let rules = job["relabel_configs"].as_array().cloned().unwrap_or_default();
        let keep = rules
            .iter()
            .find(|r| r["action"] == "keep" && r["source_labels"][0] == "__meta_kubernetes_service_name")
            .and_then(|r| r["regex"].as_str());
        let target = match keep {
            Some(keep) => service_target(docs, &name, &ns, keep)?,
            None => worker_target(docs, &name, &ns, &rules)?,
        };
        job["static_configs"] = json!([{ "targets": [target.0], "labels": { "namespace": ns, "service": target.1 } }]);
        let kept: Vec<Value> = rules
            .into_iter()
            .filter(|r| {
                !r["source_labels"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|l| l.as_str().is_some_and(|l| l.starts_with("__meta_kubernetes_")))
            })
            .collect();
        job["relabel_configs"] = json!(kept);
    }
    Ok(copy)
}

/// The target a job keeping Service endpoints (`NAME;PORT_NAME`) scrapes:
/// the Service and its named port must exist. (address, service name)
fn service_target(docs: &[Value], job: &str, ns: &str, keep: &str) -> Result<(String, String), String> {
    let (svc, port_name) = keep.split_once(';').ok_or(format!("job {job}: keep regex {keep}"))?;
    let s = find(docs, "Service", ns, svc)?;
    let port = s["spec"]["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == port_name)
        .ok_or(format!("job {job}: Service {ns}/{svc} has no port {port_name}"))?;
    Ok((format!("{svc}.{ns}.svc:{}", port["port"]), svc.to_string()))
}

/// The target of a worker's job, which keeps pods by name label and
/// container port name: the Deployment and the named port must exist.
fn worker_target(docs: &[Value], job: &str, ns: &str, rules: &[Value]) -> Result<(String, String), String> {
    let keep = rules
        .iter()
        .find(|r| {
            r["action"] == "keep" && r["source_labels"][0] == "__meta_kubernetes_pod_label_app_kubernetes_io_name"
        })
        .and_then(|r| r["regex"].as_str())
        .ok_or(format!("job {job}: no keep rule on the Service or pod name"))?;
    let (name, port_name) = keep.split_once(';').ok_or(format!("job {job}: keep regex {keep}"))?;
    let d = find(docs, "Deployment", ns, name)?;
    let containers = d["spec"]["template"]["spec"]["containers"].as_array().into_iter().flatten();
    let port = containers
        .flat_map(|c| c["ports"].as_array().into_iter().flatten())
        .find(|p| p["name"] == port_name)
        .ok_or(format!("job {job}: Deployment {ns}/{name} has no container port {port_name}"))?;
    Ok((format!("{name}.{ns}.pod:{}", port["containerPort"]), name.to_string()))
}

/// Each namespace the jobs discover in lets Prometheus' ServiceAccount get,
/// list and watch endpoints, pods and services, and the pod has its token.
fn discovery_allowed(docs: &[Value], d: &Value, config: &Value) -> Result<(), String> {
    let pod = &d["spec"]["template"]["spec"];
    let sa = pod["serviceAccountName"].as_str().ok_or("no serviceAccountName")?;
    if pod["automountServiceAccountToken"] == false {
        return Err("the pod has no ServiceAccount token: discovery cannot call the API server".into());
    }
    let jobs = config["scrape_configs"].as_array().into_iter().flatten();
    let sd = jobs.flat_map(|j| j["kubernetes_sd_configs"].as_array().into_iter().flatten());
    let namespaces: BTreeSet<&str> =
        sd.flat_map(|c| c["namespaces"]["names"].as_array().into_iter().flatten()).filter_map(Value::as_str).collect();
    if namespaces.is_empty() {
        return Err("no job discovers anything".into());
    }
    for ns in namespaces {
        let granted = granted(docs, ns, sa, ns_of(d));
        for resource in ["endpoints", "pods", "services"] {
            for verb in ["get", "list", "watch"] {
                if !granted.contains(&(resource.to_string(), verb.to_string())) {
                    return Err(format!("{sa} may not {verb} {resource} in {ns}"));
                }
            }
        }
    }
    Ok(())
}

/// (resource, verb) of the core API group granted in `ns` to ServiceAccount
/// `sa_ns/sa` by RoleBindings there and by ClusterRoleBindings.
fn granted(docs: &[Value], ns: &str, sa: &str, sa_ns: &str) -> BTreeSet<(String, String)> {
    let binds =
        docs.iter().filter(|b| (b["kind"] == "RoleBinding" && ns_of(b) == ns) || b["kind"] == "ClusterRoleBinding");
    let ours = binds.filter(|b| {
        b["subjects"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["kind"] == "ServiceAccount" && s["name"] == sa && s["namespace"] == sa_ns)
    });
    let mut out = BTreeSet::new();
    for b in ours {
        let r = &b["roleRef"];
        let role = docs.iter().find(|o| {
            o["kind"] == r["kind"]
                && o["metadata"]["name"] == r["name"]
                && (r["kind"] == "ClusterRole" || ns_of(o) == ns)
        });
        for rule in role.and_then(|o| o["rules"].as_array()).into_iter().flatten() {
            if !rule["apiGroups"].as_array().is_some_and(|g| g.iter().any(|g| g == "")) {
                continue;
            }
            for res in rule["resources"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                for verb in rule["verbs"].as_array().into_iter().flatten().filter_map(Value::as_str) {
                    out.insert((res.to_string(), verb.to_string()));
                }
            }
        }
    }
    out
}

/// Every Alertmanager target is a Service port of the overlay whose
/// selector picks the Alertmanager pods.
fn alertmanagers_exist(docs: &[Value], config: &Value) -> Result<(), String> {
    let am = deployment_of(docs, "alertmanager");
    let pod_labels = &am["spec"]["template"]["metadata"]["labels"];
    let sets = config["alerting"]["alertmanagers"].as_array().into_iter().flatten();
    let targets: Vec<&str> = sets
        .flat_map(|s| s["static_configs"].as_array().into_iter().flatten())
        .flat_map(|s| s["targets"].as_array().into_iter().flatten())
        .filter_map(Value::as_str)
        .collect();
    if targets.is_empty() {
        return Err("Prometheus sends alerts to no Alertmanager".into());
    }
    for t in targets {
        let (host, port) = host_port(t)?;
        let s = service_port(docs, &host, port)?;
        let selector = s["spec"]["selector"].as_object().ok_or(format!("{host}: no selector"))?;
        if selector.iter().any(|(k, v)| &pod_labels[k] != v) {
            return Err(format!("{t}: the Service does not select the Alertmanager pods"));
        }
    }
    Ok(())
}

// ---- Alertmanager --------------------------------------------------------------------

/// Alertmanager reads its configuration where `--config.file` points, each
/// `*_file` credential is a mounted file, and `amtool check-config` accepts
/// it. Returns the configuration as mounted and how many credential files it reads.
fn alertmanager_loads(docs: &[Value], root: &Path) -> Result<(Value, usize), String> {
    let d = deployment_of(docs, "alertmanager");
    lay_out(docs, d, root)?;
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    let path = flag(&c["args"], "config.file").ok_or("Alertmanager has no --config.file")?;
    let on_disk = root.join(path.trim_start_matches('/'));
    let config = read_yaml(&on_disk).map_err(|e| format!("the configuration is not mounted at {path}: {e}"))?;
    // The copy amtool checks reads the credentials from where they are laid out.
    let mut copy = config.clone();
    let mut files = 0;
    for receiver in copy["receivers"].as_array_mut().into_iter().flatten() {
        let configs = receiver.as_object_mut().into_iter().flatten().filter_map(|(_, v)| v.as_array_mut());
        for (k, v) in configs.flatten().filter_map(Value::as_object_mut).flatten() {
            let Some(file) = v.as_str().filter(|_| k.ends_with("_file")) else { continue };
            let local = root.join(file.trim_start_matches('/'));
            match std::fs::read_to_string(&local) {
                Ok(text) if !text.is_empty() => files += 1,
                _ => return Err(format!("{k}: {file} is not a mounted file")),
            }
            *v = json!(local.to_string_lossy());
        }
    }
    let check = root.join("alertmanager.check.yml");
    write(&check, &serde_saphyr::to_string(&copy).expect("YAML"));
    run("amtool", &["check-config", &check.to_string_lossy()], root)?;
    Ok((config, files))
}

// ---- Grafana ---------------------------------------------------------------------------

/// Grafana's provisioning directory holds data sources (each a Service of
/// the overlay, with a unique uid) and a dashboard provider whose path holds
/// the dashboards; every panel's data source resolves to a provisioned uid of
/// its type. Returns the data sources by uid and the dashboards found.
fn grafana_loads(docs: &[Value], root: &Path) -> Result<(BTreeMap<String, String>, Vec<Value>), String> {
    let d = deployment_of(docs, "grafana");
    lay_out(docs, d, root)?;
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    let prov = env(c, "GF_PATHS_PROVISIONING").unwrap_or_else(|| "/etc/grafana/provisioning".into());
    let prov = root.join(prov.trim_start_matches('/'));
    let mut uids = BTreeMap::new();
    for file in yaml_files(&prov.join("datasources")) {
        let f = read_yaml(&file)?;
        if f["apiVersion"] != 1 {
            return Err(format!("{}: apiVersion is not 1", file.display()));
        }
        for ds in f["datasources"].as_array().into_iter().flatten() {
            let (uid, kind, url) = (ds["uid"].as_str(), ds["type"].as_str(), ds["url"].as_str());
            let (Some(uid), Some(kind), Some(url), Some(_)) = (uid, kind, url, ds["name"].as_str()) else {
                return Err(format!("data source without name, type, uid or url: {ds}"));
            };
            let (host, port) = host_port(url)?;
            service_port(docs, &host, port)?;
            if uids.insert(uid.to_string(), kind.to_string()).is_some() {
                return Err(format!("data source uid {uid} twice"));
            }
        }
    }
    if uids.is_empty() {
        return Err("no data source is provisioned".into());
    }
    let mut dashboards = Vec::new();
    for file in yaml_files(&prov.join("dashboards")) {
        for p in read_yaml(&file)?["providers"].as_array().into_iter().flatten() {
            let path = p["options"]["path"].as_str().ok_or("a provider without options.path")?;
            for json in files_ending(&root.join(path.trim_start_matches('/')), ".json") {
                let text = std::fs::read_to_string(&json).map_err(|e| e.to_string())?;
                dashboards.push(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", json.display()))?);
            }
        }
    }
    for dash in &dashboards {
        datasources_resolve(dash, &uids).map_err(|e| format!("dashboard {}: {e}", dash["uid"]))?;
    }
    Ok((uids, dashboards))
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = files_ending(dir, ".yaml");
    v.extend(files_ending(dir, ".yml"));
    v
}

fn files_ending(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.to_string_lossy().ends_with(ext))
        .collect();
    v.sort();
    v
}

/// Every panel's and query's data source is a provisioned uid of its type,
/// directly or through a `datasource` variable whose current value is one.
fn datasources_resolve(dash: &Value, uids: &BTreeMap<String, String>) -> Result<(), String> {
    let vars: BTreeMap<&str, &Value> = dash["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["type"] == "datasource")
        .filter_map(|v| v["name"].as_str().map(|n| (n, v)))
        .collect();
    let panels = dash["panels"].as_array().into_iter().flatten();
    let nested = panels.flat_map(|p| std::iter::once(p).chain(p["panels"].as_array().into_iter().flatten()));
    let mut seen = 0;
    for p in nested {
        let refs = std::iter::once(&p["datasource"])
            .chain(p["targets"].as_array().into_iter().flatten().map(|t| &t["datasource"]));
        for ds in refs.filter(|d| !d.is_null()) {
            seen += 1;
            let (uid, kind) = (ds["uid"].as_str().unwrap_or_default(), ds["type"].as_str().unwrap_or_default());
            let resolved = match uid.strip_prefix("${").and_then(|u| u.strip_suffix('}')) {
                Some(var) => {
                    let v = vars.get(var).ok_or(format!("panel {}: no variable {var}", p["title"]))?;
                    if v["query"] != kind {
                        return Err(format!("variable {var} lists {} sources, the panel is {kind}", v["query"]));
                    }
                    v["current"]["value"].as_str().unwrap_or_default().to_string()
                }
                None => uid.to_string(),
            };
            match uids.get(&resolved) {
                Some(t) if t == kind => {}
                _ => {
                    return Err(format!(
                        "panel {}: data source uid `{resolved}` ({kind}) is not provisioned",
                        p["title"]
                    ));
                }
            }
        }
    }
    if seen == 0 { Err("no panel names a data source".into()) } else { Ok(()) }
}

// ---- the tests ---------------------------------------------------------------------------

fn tools() -> bool {
    tool_available("promtool", &["--version"]) && tool_available("amtool", &["--version"])
}

/// A generated plain file, parsed (its header is a YAML comment).
fn emitted(out: &Path, path: &str) -> Value {
    read_yaml(&out.join(path)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_own_prometheus_alertmanager_and_grafana_load_the_generated_files() {
    let Some(b) = build_health_platform() else { return };
    if !tools() {
        return;
    }
    let root = tempfile::tempdir().expect("temp dir");
    let config = prometheus_loads(&b.docs, &root.path().join("prometheus")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config, emitted(b.out.path(), "monitoring/prometheus.yml"), "mounted = monitoring/prometheus.yml");
    let jobs: Vec<&str> =
        config["scrape_configs"].as_array().into_iter().flatten().filter_map(|j| j["job_name"].as_str()).collect();
    assert!(jobs.contains(&"health-api") && jobs.contains(&"prometheus"), "{jobs:?}");

    let (am, credentials) =
        alertmanager_loads(&b.docs, &root.path().join("alertmanager")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(am, emitted(b.out.path(), "monitoring/alertmanager.yml"), "mounted = monitoring/alertmanager.yml");
    // PagerDuty's routing key and Slack's webhook URL, from the Secret.
    assert_eq!(credentials, 2);

    let (uids, dashboards) = grafana_loads(&b.docs, &root.path().join("grafana")).unwrap_or_else(|e| panic!("{e}"));
    let kinds: Vec<(&str, &str)> = uids.iter().map(|(u, t)| (u.as_str(), t.as_str())).collect();
    assert_eq!(kinds, [("jaeger", "jaeger"), ("loki", "loki"), ("prometheus", "prometheus")]);
    let written = files_ending(&b.out.path().join("monitoring/dashboards"), ".json");
    assert_eq!(dashboards.len(), written.len(), "every generated dashboard is provisioned");
    assert!(!dashboards.is_empty());
}

#[test]
fn with_an_own_prometheus_no_operator_objects_and_everything_in_namespaces_that_exist() {
    let Some(b) = build_health_platform() else { return };
    let kinds: BTreeSet<&str> = b.docs.iter().filter_map(|d| d["kind"].as_str()).collect();
    for k in ["ServiceMonitor", "PodMonitor", "PrometheusRule"] {
        assert!(!kinds.contains(k), "{k}: nothing in health-platform loads it");
    }
    let namespaces: BTreeSet<&str> =
        b.docs.iter().filter(|d| d["kind"] == "Namespace").filter_map(|d| d["metadata"]["name"].as_str()).collect();
    for d in b.docs.iter().filter(|d| {
        ["ConfigMap", "Secret", "Role", "RoleBinding", "Deployment"].contains(&d["kind"].as_str().unwrap_or_default())
    }) {
        assert!(namespaces.contains(ns_of(d)), "{} is in a namespace the overlay does not create", object_id(d));
    }
    // The mounts are where the flags and environment point.
    let prom = deployment_of(&b.docs, "prometheus");
    let c = &prom["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(flag(&c["args"], "config.file").as_deref(), Some("/etc/prometheus/prometheus.yml"));
    let mounts = |d: &Value| -> Vec<String> {
        d["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["mountPath"].as_str().map(str::to_string))
            .collect()
    };
    assert!(mounts(prom).contains(&"/etc/prometheus".to_string()));
    let am = deployment_of(&b.docs, "alertmanager");
    assert!(mounts(am).contains(&"/etc/alertmanager/alertmanager.yml".to_string()));
    assert!(mounts(am).contains(&"/etc/alertmanager/secrets/health-platform-alertmanager".to_string()));
    let g = deployment_of(&b.docs, "grafana");
    assert_eq!(
        env(&g["spec"]["template"]["spec"]["containers"][0], "GF_PATHS_PROVISIONING").as_deref(),
        Some("/etc/grafana/provisioning")
    );
    for p in
        ["/etc/grafana/provisioning/datasources", "/etc/grafana/provisioning/dashboards", "/etc/grafana/dashboards"]
    {
        assert!(mounts(g).contains(&p.to_string()), "{p}");
    }
}

/// Index of the Deployment running `component` in `docs`.
fn index_of(docs: &[Value], component: &str) -> usize {
    let d = deployment_of(docs, component);
    docs.iter().position(|x| std::ptr::eq(x, d)).expect("in docs")
}

fn drop_mount(docs: &mut [Value], component: &str, path: &str) {
    let i = index_of(docs, component);
    let mounts = &mut docs[i]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"];
    let before = mounts.as_array().map_or(0, Vec::len);
    mounts.as_array_mut().expect("mounts").retain(|m| m["mountPath"] != path);
    assert_eq!(mounts.as_array().map_or(0, Vec::len), before - 1, "{path} was mounted");
}

/// One of the checks above, its result ignored.
type Check = dyn Fn(&[Value], &Path) -> Result<(), String>;

#[test]
fn planted_faults_fail_the_checks() {
    let Some(b) = build_health_platform() else { return };
    if !tools() {
        return;
    }
    let fails = |docs: &[Value], check: &Check, want: &str| {
        let root = tempfile::tempdir().expect("temp dir");
        match check(docs, root.path()) {
            Ok(()) => panic!("the planted fault passed; expected an error with `{want}`"),
            Err(e) => assert!(e.contains(want), "expected `{want}` in: {e}"),
        }
    };
    let prometheus = |d: &[Value], r: &Path| prometheus_loads(d, r).map(|_| ());
    let alertmanager = |d: &[Value], r: &Path| alertmanager_loads(d, r).map(|_| ());
    let grafana = |d: &[Value], r: &Path| grafana_loads(d, r).map(|_| ());

    let mut docs = b.docs.clone();
    drop_mount(&mut docs, "prometheus", "/etc/prometheus");
    fails(&docs, &prometheus, "not mounted at /etc/prometheus/prometheus.yml");

    // A rule file that is not where the configuration says.
    let mut docs = b.docs.clone();
    let cm = docs
        .iter_mut()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "prometheus-files")
        .expect("ConfigMap");
    cm["data"].as_object_mut().expect("data").remove("rules.yaml");
    fails(&docs, &prometheus, "rule_files `rules.yaml` matches no mounted file");

    // Discovery without RBAC in one scraped namespace.
    let docs: Vec<Value> =
        b.docs.iter().filter(|d| !(d["kind"] == "RoleBinding" && ns_of(d) == "health-api")).cloned().collect();
    fails(&docs, &prometheus, "may not get endpoints in health-api");

    let mut docs = b.docs.clone();
    drop_mount(&mut docs, "alertmanager", "/etc/alertmanager/secrets/health-platform-alertmanager");
    fails(&docs, &alertmanager, "is not a mounted file");

    let mut docs = b.docs.clone();
    drop_mount(&mut docs, "alertmanager", "/etc/alertmanager/alertmanager.yml");
    fails(&docs, &alertmanager, "not mounted at /etc/alertmanager/alertmanager.yml");

    // A provisioned uid the dashboards do not name.
    let mut docs = b.docs.clone();
    let cm = docs
        .iter_mut()
        .find(|d| d["kind"] == "ConfigMap" && d["metadata"]["name"] == "grafana-provisioning")
        .expect("ConfigMap");
    let text = cm["data"]["datasources.yaml"].as_str().expect("datasources").replace("uid: prometheus", "uid: prom");
    cm["data"]["datasources.yaml"] = json!(text);
    fails(&docs, &grafana, "data source uid `prometheus` (prometheus) is not provisioned");

    let mut docs = b.docs.clone();
    drop_mount(&mut docs, "grafana", "/etc/grafana/provisioning/datasources");
    fails(&docs, &grafana, "no data source is provisioned");
}

#[test]
fn operator_objects_carry_the_configured_selector_labels() {
    let text = kubeproof::description::starter::STARTER
        .replacen(
            "  ingressClass: nginx\n",
            "  ingressClass: nginx\n  monitoringSelector: { release: kube-prometheus-stack }\n",
            1,
        )
        .replacen("db:    { engine: postgres,", "db:    { engine: postgres, metrics: true,", 1);
    let file = Path::new("platform.yaml");
    let platform = kubeproof::description::parse(&text, file).expect("parses");
    let built = kubeproof::build::build(&platform, file).expect("generates");
    let mut seen = BTreeSet::new();
    for (path, bytes) in built.tree.iter() {
        if !path.starts_with("kustomize/base") || path.extension().is_none_or(|e| e != "yaml") {
            continue;
        }
        for doc in parse_docs(std::str::from_utf8(bytes).expect("UTF-8")).expect("YAML") {
            let kind = doc["kind"].as_str().unwrap_or_default().to_string();
            if ["ServiceMonitor", "PodMonitor", "PrometheusRule"].contains(&kind.as_str()) {
                assert_eq!(doc["metadata"]["labels"]["release"], "kube-prometheus-stack", "{}", object_id(&doc));
                seen.insert(kind);
            }
        }
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["PodMonitor", "PrometheusRule", "ServiceMonitor"]);

    // The example that assumes kube-prometheus-stack says so.
    let ops = base_objects("machine-native-ops");
    let monitors: Vec<&Value> = ops.values().filter(|o| o["apiVersion"] == "monitoring.coreos.com/v1").collect();
    assert!(monitors.len() >= 3, "{}", monitors.len());
    for o in monitors {
        assert_eq!(o["metadata"]["labels"]["release"], "kube-prometheus-stack", "{}", object_id(o));
    }
}
