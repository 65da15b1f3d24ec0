//! Shared helpers of the integration tests: running `kubeproof gen`, finding
//! the examples and the overlays, the external tools (`kubectl kustomize`,
//! `kubernetes-validate`) and reading whole output trees.
//!
//! Every integration test crate includes this module and uses a different
//! subset of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// Set by hand to let tests skip when a tool or server they need is missing
/// (said loudly on stderr). Unset, as in CI, a missing tool fails: a green
/// run never hides a test that did not run.
pub const SKIP_MISSING_TOOLS: &str = "KUBEPROOF_SKIP_MISSING_TOOLS";

/// Whether a missing tool or server fails the test (the default).
pub fn tools_required() -> bool {
    std::env::var_os(SKIP_MISSING_TOOLS).is_none()
}

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_kubeproof")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `examples/*.yaml`, sorted, whatever they are called today.
pub fn examples() -> Vec<PathBuf> {
    let dir = repo().join("examples");
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension() == Some(OsStr::new("yaml")) && p.is_file())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no examples/*.yaml found in {}", dir.display());
    out
}

/// `examples/foo.yaml` → `foo`.
pub fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Runs `kubeproof` with `args` in `cwd` (the repository when `None`).
pub fn kubeproof<I, S>(args: I, cwd: Option<&Path>) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(bin());
    cmd.args(args).current_dir(cwd.map_or_else(repo, Path::to_path_buf));
    cmd.output().unwrap_or_else(|e| panic!("cannot run {}: {e}", bin()))
}

/// [`kubeproof`] in the repository with `input` on stdin, written from
/// another thread (a child that writes while it reads cannot block).
pub fn kubeproof_stdin<I, S>(args: I, input: &[u8]) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(bin())
        .args(args)
        .current_dir(repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin()));
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("kubeproof's output");
    // A child that exits before reading everything closes the pipe: not ours to judge.
    let _ = writer.join();
    out
}

/// The examples whose descriptions document that they exceed their
/// `cluster.capacity` (PLATFORMS.md sizes health-platform's cluster below
/// what it asks): `gen` writes them only with `--over-capacity`
/// (tests/capacity.rs proves the refusal).
pub const OVER_CAPACITY: [&str; 1] = ["health-platform.yaml"];

/// `kubeproof gen DESCRIPTION -o OUT [extra]` (with `--over-capacity` for
/// the examples in [`OVER_CAPACITY`]).
pub fn gen_cmd(description: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&OsStr> = vec![OsStr::new("gen"), description.as_os_str(), OsStr::new("-o"), out.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let name = description.file_name().unwrap_or_default();
    if OVER_CAPACITY.iter().any(|e| name == *e) && !extra.contains(&"--over-capacity") {
        args.push(OsStr::new("--over-capacity"));
    }
    kubeproof(args, None)
}

/// `kubeproof gen DESCRIPTION -o OUT [extra]` exactly as given (no
/// `--over-capacity` for [`OVER_CAPACITY`]): exit code, stdout, stderr.
pub fn gen_as_given(description: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args: Vec<&OsStr> = vec![OsStr::new("gen"), description.as_os_str(), OsStr::new("-o"), out.as_os_str()];
    args.extend(extra.iter().map(OsStr::new));
    let o = kubeproof(args, None);
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// `kubeproof gen`, which must succeed.
pub fn gen_ok(description: &Path, out: &Path) {
    let o = gen_cmd(description, out, &[]);
    assert!(
        o.status.success(),
        "kubeproof gen {} -o {} failed ({}):\n{}{}",
        description.display(),
        out.display(),
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// `kubeproof gen`, or the reason it failed (for loops that collect failures).
pub fn try_gen(description: &Path, out: &Path) -> Result<(), String> {
    let o = gen_cmd(description, out, &[]);
    if o.status.success() {
        Ok(())
    } else {
        Err(format!(
            "kubeproof gen {} failed ({}):\n{}{}",
            description.display(),
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// The overlay names found on disk under `OUT/kustomize/overlays/`, sorted.
pub fn overlays(out: &Path) -> Vec<String> {
    let dir = out.join("kustomize/overlays");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The environments the description declares, or `default` when none: the
/// overlays `gen` must have written.
pub fn expected_overlays(platform: &kubeproof::description::Platform) -> Vec<String> {
    if platform.environments.is_empty() {
        vec![kubeproof::build::DEFAULT_ENV.to_string()]
    } else {
        platform.environments.keys().map(|k| k.to_string()).collect()
    }
}

/// Copies every `secrets/NAME.env.example` of an overlay to `secrets/NAME.env`
/// (as a person would), with `value(key)` as each key's value. Returns the
/// `.env` files written.
pub fn fill_secrets(overlay: &Path, value: &dyn Fn(&str) -> String) -> Vec<PathBuf> {
    let dir = overlay.join("secrets");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut written = Vec::new();
    for e in entries {
        let path = e.expect("directory entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let Some(env_name) = name.strip_suffix(".example") else {
            continue;
        };
        let example = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut text = String::new();
        for line in example.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let key = line.split_once('=').map_or(line, |(k, _)| k);
            text.push_str(&format!("{key}={}\n", value(key)));
        }
        let target = dir.join(env_name);
        std::fs::write(&target, text).unwrap_or_else(|e| panic!("{}: {e}", target.display()));
        written.push(target);
    }
    written.sort();
    written
}

/// Copies each `.env.example` to its `.env` name, with placeholder values;
/// a `X_URLENCODED` key gets `X`'s percent-encoded, as the example's comment says.
pub fn prepare_secrets(overlay: &Path) -> Vec<PathBuf> {
    use kubeproof::description::template::{URL_ENCODED, url_encode};
    let placeholder = |key: &str| format!("test-value-for-{}", key.to_ascii_lowercase());
    fill_secrets(overlay, &|key| match key.strip_suffix(URL_ENCODED) {
        Some(raw) => url_encode(&placeholder(raw)),
        None => placeholder(key),
    })
}

// ---- external tools --------------------------------------------------------

/// How to get each tool the tests call.
fn install_hint(tool: &str) -> &'static str {
    match tool {
        "kubernetes-validate" => "./scripts/test installs it (python3 -m pip install 'kubernetes-validate==1.37.0')",
        "promtool" | "amtool" | "prometheus" | "prometheus-alertmanager" => {
            "./scripts/test installs them (apt-get install prometheus prometheus-alertmanager)"
        }
        "kubectl" => "./scripts/test checks for it and the test tools; install kubectl (it bundles kustomize)",
        _ => "./scripts/test installs the test tools",
    }
}

/// Whether `tool` can be run. When it cannot: fails the test, unless
/// `KUBEPROOF_SKIP_MISSING_TOOLS` is set; then says loudly that the test is
/// skipped and returns false.
pub fn tool_available(tool: &str, version_args: &[&str]) -> bool {
    match Command::new(tool).args(version_args).output() {
        Ok(_) => true,
        Err(e) => {
            let msg = format!(
                "`{tool}` cannot be run ({e}); {}. Run the whole suite with ./scripts/test, which installs what it needs.",
                install_hint(tool)
            );
            if tools_required() || e.kind() != ErrorKind::NotFound {
                panic!("{msg}");
            }
            eprintln!(
                "\n{}\nSKIPPED: {msg}\n({SKIP_MISSING_TOOLS} is set; unset it to make this a failure)\n{}\n",
                "!".repeat(78),
                "!".repeat(78)
            );
            false
        }
    }
}

pub fn have_kubectl() -> bool {
    tool_available("kubectl", &["version", "--client"])
}

pub fn have_validator() -> bool {
    tool_available("kubernetes-validate", &["--version"])
}

/// `kubectl kustomize DIR`: the built YAML, or the tool's error.
pub fn kustomize(dir: &Path) -> Result<String, String> {
    let o =
        Command::new("kubectl").arg("kustomize").arg(dir).output().map_err(|e| format!("cannot run kubectl: {e}"))?;
    if o.status.success() {
        String::from_utf8(o.stdout)
            .map_err(|e| format!("kubectl kustomize {}: output is not UTF-8: {e}", dir.display()))
    } else {
        Err(format!(
            "kubectl kustomize {} failed ({}):\n{}{}",
            dir.display(),
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ))
    }
}

/// Every YAML document of a multi-document stream, as JSON values.
pub fn parse_docs(yaml: &str) -> Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(yaml).map_err(|e| format!("not valid YAML: {e}"))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// The objects `kubectl kustomize` printed, read the way kubectl reads them
/// (YAML 1.1 scalars: kustomize writes a hash such as `89536e4359532653`
/// unquoted, a string to kubectl but an infinite float to YAML 1.2).
pub fn parse_built(yaml: &str) -> Result<Vec<Value>, String> {
    let mut loaded = kubeproof::model::Loaded::default();
    let source = kubeproof::model::Source { name: "<kustomize output>".into(), text: yaml.to_string() };
    kubeproof::model::load::add_source(&mut loaded, source);
    match loaded.errors.first() {
        Some(e) => Err(format!("not valid YAML: {e:?}")),
        None => Ok(loaded.objects.into_iter().map(|o| o.value.to_json()).collect()),
    }
}

/// The base objects of `examples/EXAMPLE.yaml`, by [`object_id`], parsed
/// back from the YAML files `gen` writes (built in process).
#[allow(dead_code)] // not every test file uses it
pub fn base_objects(example: &str) -> BTreeMap<String, Value> {
    let description = repo().join(format!("examples/{example}.yaml"));
    let platform = kubeproof::description::load(&description).expect("the example loads");
    let built = kubeproof::build::build(&platform, &description).expect("the example generates");
    let mut out = BTreeMap::new();
    for (path, bytes) in built.tree.iter() {
        let p = path.to_string_lossy();
        if !p.starts_with("kustomize/base/") || !p.ends_with(".yaml") || p.ends_with("kustomization.yaml") {
            continue;
        }
        let text = std::str::from_utf8(bytes).expect("UTF-8");
        for doc in parse_docs(text).expect("generated YAML parses") {
            out.insert(object_id(&doc), doc);
        }
    }
    out
}

/// A container of a pod spec (init containers first), by name.
#[allow(dead_code)] // not every test file uses it
pub fn pod_container<'a>(pod: &'a Value, name: &str) -> &'a Value {
    ["initContainers", "containers"]
        .iter()
        .filter_map(|k| pod[*k].as_array())
        .flatten()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no container {name} in {pod}"))
}

/// `Kind/namespace/name` (or `Kind/name`) of a Kubernetes object.
pub fn object_id(o: &Value) -> String {
    let kind = o["kind"].as_str().unwrap_or("?");
    let name = o["metadata"]["name"].as_str().unwrap_or("?");
    match o["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{kind}/{ns}/{name}"),
        None => format!("{kind}/{name}"),
    }
}

/// What `kubernetes-validate` said about a file that passed.
#[derive(Debug)]
pub struct Validated {
    /// Objects the tool checked against the schema.
    pub passed: usize,
    /// Objects of kinds the tool has no schema for, outside the built-in API groups (CRDs).
    pub unchecked_custom: Vec<String>,
}

/// Groups under `k8s.io` that Kubernetes does not serve: CRDs of
/// Kubernetes SIGs, installed apart (Gateway API, the VPA).
const SIG_CRD_GROUPS: [&str; 2] = ["gateway.networking.k8s.io", "autoscaling.k8s.io"];

/// Whether an `apiVersion` belongs to Kubernetes itself: a core group
/// (`v1`, `apps/v1`, …) or a `*.k8s.io` one other than [`SIG_CRD_GROUPS`].
fn builtin_api(api_version: &str) -> bool {
    match api_version.rsplit_once('/') {
        None => true,
        Some((group, _)) => !group.contains('.') || (group.ends_with(".k8s.io") && !SIG_CRD_GROUPS.contains(&group)),
    }
}

/// Runs `kubernetes-validate -k VERSION.0 --strict` on `yaml` (written to a
/// temporary file) and decides, stricter than the tool's exit status:
///
/// - any `ERROR` or `FATAL` line, or a non-zero exit, fails (an unknown
///   field under `--strict`, a wrong type, an unsupported version, YAML the
///   tool cannot read);
/// - a `Couldn't find schema` warning for a built-in API group fails: the
///   tool only warns and exits 0, but it means the object uses an API
///   version the cluster does not serve (e.g. `autoscaling/v2beta2` on 1.30);
/// - every object must be accounted for: as many `passed` lines as objects
///   (minus custom resources the tool has no schema for), so an empty or
///   half-read input cannot pass silently.
///
/// The error carries the tool's output.
pub fn validate(yaml: &str, kube_version: &str) -> Result<Validated, String> {
    validate_many(&[yaml], kube_version).pop().expect("one result per input")
}

/// [`validate`] for several YAML streams in one run of the tool (it takes
/// a second to start): one result per input, in order.
pub fn validate_many(yamls: &[&str], kube_version: &str) -> Vec<Result<Validated, String>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let files: Vec<PathBuf> = (0..yamls.len()).map(|i| dir.path().join(format!("input-{i}.yaml"))).collect();
    for (file, yaml) in files.iter().zip(yamls) {
        std::fs::write(file, yaml).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    }
    let version = format!("{kube_version}.0");
    let o = match Command::new("kubernetes-validate").args(["-k", &version, "--strict"]).args(&files).output() {
        Ok(o) => o,
        Err(e) => return yamls.iter().map(|_| Err(format!("cannot run kubernetes-validate: {e}"))).collect(),
    };
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = stdout.lines().chain(stderr.lines()).collect();
    // Lines about one input mention its file; FATAL ones (unsupported
    // version, …) concern every input.
    let about = |file: &Path| -> Vec<&str> {
        let name = file.to_string_lossy();
        lines
            .iter()
            .copied()
            .filter(|l| l.contains(name.as_ref()) || l.starts_with("FATAL") || !l.contains(".yaml"))
            .collect()
    };
    let results: Vec<(Vec<String>, Validated, Vec<&str>)> = files
        .iter()
        .zip(yamls)
        .map(|(file, yaml)| {
            let mine = about(file);
            let (problems, v) = judge(&mine, yaml);
            (problems, v, mine)
        })
        .collect();
    // A non-zero exit the lines do not explain fails every input.
    let unexplained_exit = !o.status.success() && results.iter().all(|(p, _, _)| p.is_empty());
    results
        .into_iter()
        .map(|(mut problems, v, mine)| {
            if unexplained_exit {
                problems.push(format!("exit status {}", o.status));
            }
            if problems.is_empty() {
                Ok(v)
            } else {
                Err(format!(
                    "kubernetes-validate -k {version} --strict failed:\n  {}\n--- tool output ---\n{}\n{}",
                    problems.join("\n  "),
                    mine.join("\n"),
                    if unexplained_exit { stderr.as_ref() } else { "" }
                ))
            }
        })
        .collect()
}

/// The verdict on one input from the tool's lines about it.
fn judge(lines: &[&str], yaml: &str) -> (Vec<String>, Validated) {
    let mut problems = Vec::new();
    let mut v = Validated { passed: 0, unchecked_custom: Vec::new() };
    for line in lines {
        if line.starts_with("ERROR") || line.starts_with("FATAL") || line.starts_with("Couldn't") {
            problems.push(line.to_string());
        } else if line.starts_with("INFO") && line.contains(" passed for resource ") {
            v.passed += 1;
        } else if line.starts_with("WARN") && line.contains("Couldn't find schema") {
            let api = line.split(" with api version ").nth(1).and_then(|r| r.split_whitespace().next()).unwrap_or("");
            if builtin_api(api) {
                problems.push(format!("no schema for a built-in API (removed or misspelled apiVersion?): {line}"));
            } else {
                v.unchecked_custom.push(line.to_string());
            }
        }
    }
    match parse_built(yaml) {
        Err(e) => problems.push(e),
        Ok(objects) => {
            if problems.is_empty() && v.passed + v.unchecked_custom.len() != objects.len() {
                problems.push(format!(
                    "{} object(s) in the input but kubernetes-validate reported {} passed and {} without schema",
                    objects.len(),
                    v.passed,
                    v.unchecked_custom.len()
                ));
            }
        }
    }
    (problems, v)
}

// ---- trees on disk ---------------------------------------------------------

/// Every file under `root` (relative path → bytes), hidden ones included.
pub fn read_tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut |rel, path| {
        out.insert(rel.to_path_buf(), std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    });
    out
}

/// Every file under `root` (relative path → modification time).
pub fn mtimes(root: &Path) -> BTreeMap<PathBuf, std::time::SystemTime> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut |rel, path| {
        let m = std::fs::metadata(path).and_then(|m| m.modified());
        out.insert(rel.to_path_buf(), m.unwrap_or_else(|e| panic!("{}: {e}", path.display())));
    });
    out
}

fn walk(root: &Path, dir: &Path, f: &mut dyn FnMut(&Path, &Path)) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for e in entries {
        let path = e.expect("directory entry").path();
        if path.is_dir() {
            walk(root, &path, f);
        } else {
            let rel = path.strip_prefix(root).expect("under root");
            f(rel, &path);
        }
    }
}

/// Collects failures of a loop and reports them all at once.
#[derive(Default)]
pub struct Failures(Vec<String>);

impl Failures {
    pub fn add(&mut self, what: impl std::fmt::Display, why: impl std::fmt::Display) {
        self.0.push(format!("── {what}\n{why}"));
    }

    pub fn check(&mut self, what: impl std::fmt::Display, r: Result<(), String>) {
        if let Err(e) = r {
            self.add(what, e);
        }
    }

    pub fn extend(&mut self, other: Failures) {
        self.0.extend(other.0);
    }

    pub fn assert_none(self, context: &str) {
        assert!(self.0.is_empty(), "{context}: {} failure(s)\n\n{}\n", self.0.len(), self.0.join("\n\n"));
    }
}

/// The kubelet's expansion: `$(NAME)` of a defined variable is its value,
/// `$$` is `$`, anything else stays as written.
pub fn kubelet_expand(s: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(t) = tail.strip_prefix("$$") {
            out.push('$');
            rest = t;
        } else if let Some((name, t)) = tail.strip_prefix("$(").and_then(|t| t.split_once(')'))
            && let Some((_, v)) = env.iter().rev().find(|(n, _)| n == name)
        {
            out.push_str(v);
            rest = t;
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out + rest
}

/// The object `kind`/`name` of a built overlay.
pub fn built_object<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in the built overlay"))
}

/// A container's `env` list as the kubelet makes it, after the variables
/// already in `out` (its envFrom): values with each `$(VAR)` expanded from
/// the variables before them, secretKeyRefs read from the built Secret.
pub fn kubelet_env(docs: &[Value], list: &Value, mut out: Vec<(String, String)>) -> Vec<(String, String)> {
    use base64::Engine as _;
    for e in list.as_array().into_iter().flatten() {
        let name = e["name"].as_str().expect("env name").to_string();
        let value = if let Some(v) = e["value"].as_str() {
            kubelet_expand(v, &out)
        } else {
            let r = &e["valueFrom"]["secretKeyRef"];
            let secret = built_object(docs, "Secret", r["name"].as_str().expect("secret name"));
            let key = r["key"].as_str().expect("key");
            let data = secret["data"][key].as_str().unwrap_or_else(|| panic!("no key {key} in {secret}"));
            let bytes = base64::engine::general_purpose::STANDARD.decode(data).expect("base64");
            String::from_utf8(bytes).expect("UTF-8")
        };
        out.push((name, value));
    }
    out
}

/// The Helm binaries `./scripts/test` installs under `target/tools/`, by
/// version; fails (or says loudly, under `KUBEPROOF_SKIP_MISSING_TOOLS`)
/// when one is missing.
#[allow(dead_code)] // not every test file uses it
pub fn helms() -> Vec<(String, PathBuf)> {
    let found: Vec<(String, PathBuf)> = ["3.18.0", "4.1.4"]
        .iter()
        .map(|v| (v.to_string(), repo().join(format!("target/tools/helm-{v}/helm"))))
        .filter(|(_, p)| p.is_file())
        .collect();
    if found.len() < 2 {
        let msg = "Helm 3.18.0 and 4.1.4 are expected in target/tools/helm-VERSION/helm; ./scripts/test installs them";
        assert!(!tools_required(), "{msg}");
        eprintln!("SKIPPED (partly): {msg}");
    }
    found
}

// ---- a second validator for custom resources ----------------------------

/// tests/node/validate-custom-resources.mjs (its node_modules installed by
/// scripts/test): `None` when node cannot be run here (said loudly; a
/// failure unless skipping is asked for).
#[allow(dead_code)] // not every test file uses it
pub fn custom_resource_validator() -> Option<PathBuf> {
    if !tool_available("node", &["--version"]) {
        return None;
    }
    let dir = repo().join("tests/node");
    if !dir.join("node_modules/@kubernetes-models/prometheus-operator").is_dir() {
        let msg = "tests/node/node_modules is missing: `npm ci --prefix tests/node` (scripts/test runs it)";
        assert!(!tools_required(), "{msg}");
        eprintln!("SKIPPED: {msg}");
        return None;
    }
    Some(dir.join("validate-custom-resources.mjs"))
}

/// The upstream CRDs kubeproof vendors (schemas/crds/), as JSON.
#[allow(dead_code)]
pub fn vendored_crds() -> Vec<Value> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(repo().join("schemas/crds"))
        .expect("schemas/crds")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            parse_docs(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

/// Runs the second validator on `objects` (custom resources among them;
/// built-in kinds are skipped) with the vendored CRDs: Ok or Err with what
/// it printed, one line per custom resource.
#[allow(dead_code)]
pub fn validate_custom_resources(script: &Path, objects: &[Value]) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("node")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs");
    let input = serde_json::json!({ "crds": vendored_crds(), "objects": objects });
    let mut stdin = child.stdin.take().expect("stdin");
    // Written from another thread: the validator prints while it reads.
    let writer = std::thread::spawn(move || stdin.write_all(&serde_json::to_vec(&input).expect("JSON")));
    let out = child.wait_with_output().expect("node ends");
    writer.join().expect("writer").expect("input written");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    if out.status.success() { Ok(text) } else { Err(text) }
}

/// Whether an object is a custom resource (not of a group Kubernetes serves).
#[allow(dead_code)]
pub fn is_custom_resource(o: &Value) -> bool {
    !builtin_api(o["apiVersion"].as_str().unwrap_or(""))
}
