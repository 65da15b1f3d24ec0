//! The `gen` pipeline: resolve the description for the base and every
//! environment, generate each, lay them out as kustomize, all in memory —
//! nothing touches the disk until everything has succeeded.

use std::collections::BTreeMap;
use std::path::Path;

use crate::Error;
use crate::description::Platform;
use crate::description::resolve::patches::patches;
use crate::description::resolve::resolve;
use crate::emit::files::Tree;
use crate::generate::{self, Stack};

pub mod connections;

/// Name of the single overlay written when a description has no environments.
pub const DEFAULT_ENV: &str = crate::description::DEFAULT_ENV;

/// What `gen` produced: the files, and each environment's stack for the summary.
pub struct Built {
    pub tree: Tree,
    pub base: Stack,
    pub envs: Vec<(String, Stack)>,
    /// Metrics the services declare in any environment (KP608 knows them).
    pub metrics: std::collections::BTreeSet<String>,
    /// Per environment, the intended connections, each proven open.
    pub connections: Vec<(String, Vec<connections::Proven>)>,
    /// Per environment, its stack as loaded for the connection proof and
    /// what `gen`'s checks say of it, kept for [`Built::take_proven`] when
    /// small (see [`REUSED_YAML`]).
    proven: Vec<Option<(crate::model::Loaded, crate::check::Outcome)>>,
}

/// The YAML of the environments whose loads `build` keeps for `gen`'s
/// proof, in all: rendering and parsing each stack a second time was a
/// sixth of `gen`'s instructions on the examples (at most 1.2 MB of YAML
/// for all their environments). A load takes several times its YAML in
/// memory, so what is kept stays within some tens of MiB; a dense `uses`
/// graph keeps none.
pub const REUSED_YAML: usize = 2 << 20;

impl Built {
    /// The environments' stacks as `build` loaded them, for
    /// [`prove_each_reusing`], with what `gen`'s checks said of them: valid
    /// while `envs` is unchanged, so taken once.
    pub fn take_proven(&mut self) -> Vec<Option<(crate::model::Loaded, crate::check::Outcome)>> {
        std::mem::take(&mut self.proven)
    }

    /// Objects per kind per environment.
    pub fn summary(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        self.envs
            .iter()
            .map(|(env, s)| (env.clone(), s.count_by_kind().into_iter().map(|(k, n)| (k.to_string(), n)).collect()))
            .collect()
    }
}

/// Builds the whole output tree for a loaded description read from `file`.
///
/// The schema validators the stacks' proof will need are compiled meanwhile
/// on a second core ([`Schemas::prepare`](crate::model::schema::Schemas::prepare)):
/// reading the vendored schemas and compiling a validator per kind was two
/// thirds of the proof's wall time, and generating keeps one core busy.
pub fn build(p: &Platform, file: &Path) -> Result<Built, Error> {
    use std::sync::atomic::{AtomicBool, Ordering};
    let schemas = crate::model::schema::Schemas::shared(target(p).minor());
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<Vec<(String, String)>>();
        let prepare = || {
            let mut seen = std::collections::HashSet::new();
            schemas.prepare(std::iter::empty(), &stop);
            for kinds in rx {
                let new = kinds.iter().filter(|k| seen.insert((*k).clone()));
                schemas.prepare(new.map(|(a, k)| (a.as_str(), k.as_str())), &stop);
            }
        };
        // Without a second thread the proof compiles them as it goes.
        let _ = std::thread::Builder::new().spawn_scoped(scope, prepare);
        let built = build_stacks(p, file, &|stack: &Stack| {
            let _ = tx.send(stack.objects.iter().map(|o| (o.api_version.clone(), o.kind.clone())).collect());
        });
        if built.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        built
    })
}

fn build_stacks(p: &Platform, file: &Path, generated: &dyn Fn(&Stack)) -> Result<Built, Error> {
    build_stacks_ahead(p, file, generated, AHEAD_OBJECTS)
}

/// [`build_stacks`], generating the environments ahead up to `ahead_objects`
/// (see [`AHEAD_OBJECTS`]).
fn build_stacks_ahead(
    p: &Platform,
    file: &Path,
    generated: &dyn Fn(&Stack),
    ahead_objects: usize,
) -> Result<Built, Error> {
    // Refused before anything is generated: the stacks themselves would take
    // past a gigabyte (400 services each using every later one: 1.6 GB).
    let edges = uses_edges(p);
    if edges * EDGE_YAML > MAX_STACK_YAML {
        return Err(Error::Description(vec![too_large(p, file, "each environment would be", edges * EDGE_YAML)]));
    }
    let resolved_base = resolve(p, None, file).map_err(Error::Description)?;
    // The base files are written as generated, their patches listed in the
    // base kustomization; everything else (overlays, proofs) sees them applied.
    let raw_base = generate::generate_showing(&resolved_base, generated);
    let (base_patches, _) = patches(p, None, file).map_err(Error::Description)?;
    // A patched copy only when there are patches: a stack takes about 13
    // bytes of memory per byte of its YAML.
    let mut patched = (!base_patches.is_empty()).then(|| raw_base.clone());
    let applied = match &mut patched {
        Some(b) => generate::patches::apply(b, &base_patches, file).map_err(Error::Description)?,
        None => Vec::new(),
    };
    let base = patched.as_ref().unwrap_or(&raw_base);
    generated(base);
    // Every environment resolved first: each one's proof is configured with
    // the metrics all of them declare (KP608), and starts as soon as that
    // environment is generated.
    let mut metrics = generate::monitoring::declared_metrics(&resolved_base);
    let mut resolved = Vec::new();
    for name in p.environments.keys() {
        let r = resolve(p, Some(name.as_str()), file).map_err(Error::Description)?;
        metrics.extend(generate::monitoring::declared_metrics(&r));
        resolved.push((name.to_string(), r));
    }
    let config = proof_config(&metrics, p);
    let source = file.file_name().map_or_else(|| "the description".to_string(), |f| f.to_string_lossy().into_owned());
    let delivery = crate::description::delivery::delivery(p.cluster.delivery.as_ref());
    let mut tree = Tree::new();
    let renders = crate::emit::Renders::new(&raw_base);
    let mut envs: Vec<(String, Stack)> = Vec::new();
    // Per environment, its stack before its own patches (when it has some)
    // and those patches: the overlay lists them after its computed diffs.
    let mut own_patches: Vec<OwnPatches> = Vec::new();
    // The Helm chart, the longest of the emitters, reads every environment:
    // when their stacks are small, all are generated first so that the
    // chart starts on a second core while each is rendered and its proof
    // started. Larger ones are rendered (and refused past
    // `MAX_KEPT_YAML`) one by one as they are generated.
    let environments = p.environments.len().max(1);
    let ahead = raw_base.objects.len() * environments <= ahead_objects;
    let (proofs, chart_tree) = std::thread::scope(|scope| -> Result<_, Error> {
        let mut proofs = Proofs::default();
        let mut kept = 0;
        // Renders environment `i` and starts its proof.
        let mut start = |i: usize, envs: &[(String, Stack)], own_patches: &[OwnPatches], tree: &mut Tree| {
            let (name, stack) = &envs[i];
            let r = if p.environments.is_empty() { &resolved_base } else { &resolved[i].1 };
            // A stack kept before its own patches is kept twice.
            let copies = if own_patches[i].0.is_some() { 2 } else { 1 };
            let env = Env { p, file, name: name.clone(), intended: generate::connections::intended(r) };
            let rendered = env.render(stack, (&mut kept, copies), &renders)?;
            // The GitOps objects that sync it are checked with it.
            if let Some(d) = &delivery {
                crate::emit::delivery::emit(d, p.name.as_str(), &envs[i..=i], &source, tree)?;
            }
            proofs.start(scope, env, rendered, tree, &config)
        };
        if p.environments.is_empty() {
            envs.push((DEFAULT_ENV.to_string(), base.clone()));
            own_patches.push((None, Vec::new()));
            if !ahead {
                start(0, &envs, &own_patches, &mut tree)?;
            }
        }
        for (name, r) in &resolved {
            let mut stack = generate::generate(r);
            let (workloads, own) = patches(p, Some(name.as_str()), file).map_err(Error::Description)?;
            generate::patches::apply(&mut stack, &workloads, file).map_err(Error::Description)?;
            let before = (!own.is_empty()).then(|| stack.clone());
            let applied = generate::patches::apply(&mut stack, &own, file).map_err(Error::Description)?;
            generated(&stack);
            envs.push((name.to_string(), stack));
            own_patches.push((before, applied));
            if !ahead {
                start(envs.len() - 1, &envs, &own_patches, &mut tree)?;
            }
        }
        let envs = &envs;
        let own_patches = &own_patches;
        let overlays: Vec<crate::emit::kustomize::Overlay> = envs
            .iter()
            .zip(own_patches)
            .map(|((name, stack), (before, applied))| crate::emit::kustomize::Overlay {
                name,
                stack: before.as_ref().unwrap_or(stack),
                applied,
            })
            .collect();
        let chart = crate::emit::helm::Chart {
            name: p.name.as_str(),
            kube: p.cluster.kubernetes.value,
            version: p.version.as_ref().map(|v| v.value.as_str()),
            base,
            envs,
            source: &source,
        };
        let helm = || {
            let mut chart_tree = Tree::new();
            crate::emit::helm::emit(&chart, &mut chart_tree).map(|()| chart_tree)
        };
        let others = |tree: &mut Tree| -> Result<(), Error> {
            crate::emit::kustomize::emit(
                &crate::emit::kustomize::Base { raw: &raw_base, renders: &renders, applied: &applied, patched: base },
                &overlays,
                &source,
                tree,
            )?;
            for ((env, _), record) in envs.iter().zip(immutable_records(envs, &source)?) {
                tree.insert(format!("kustomize/overlays/{env}/{IMMUTABLE_RECORD}"), record);
            }
            tree.insert(
                "README.md",
                crate::emit::readme::readme(
                    p.name.as_str(),
                    &source,
                    p.cluster.kubernetes.value,
                    envs,
                    delivery.as_ref(),
                ),
            );
            crate::emit::monitoring::emit(base, envs, &source, tree)?;
            crate::emit::dashboards::emit(base, &resolved_base.monitoring_namespace, &source, tree)?;
            let env_names: Vec<String> = p.environments.keys().map(|e| e.to_string()).collect();
            let stacks: Vec<&Stack> = std::iter::once(base).chain(envs.iter().map(|(_, s)| s)).collect();
            if let Some(text) = crate::emit::runbook::runbook(&resolved_base, &source, &env_names, &stacks) {
                tree.insert("RUNBOOK.md", text);
            }
            Ok(())
        };
        // The Helm chart, about half of the emitters' work on the examples, is
        // computed on a second core beside the others (it writes only under
        // `helm/`); generated ahead, the others run on a thread of their own
        // too, beside the renders (they write none of the environments'
        // paths; after the renders they kept one core alone for the last
        // fifth of a run). Without a thread, each runs here.
        let chart_tree = std::thread::scope(|inner| {
            let on_second = std::thread::Builder::new().spawn_scoped(inner, helm);
            let beside = ahead
                .then(|| {
                    std::thread::Builder::new()
                        .spawn_scoped(inner, || {
                            let mut own = Tree::new();
                            others(&mut own).map(|()| own)
                        })
                        .ok()
                })
                .flatten();
            if ahead {
                for i in 0..envs.len() {
                    start(i, envs, own_patches, &mut tree)?;
                }
            }
            match beside {
                Some(thread) => tree.append(joined(thread)?),
                None => others(&mut tree)?,
            }
            match on_second {
                Ok(thread) => joined(thread),
                Err(_) => helm(),
            }
        })?;
        Ok((proofs.finish()?, chart_tree))
    })?;
    tree.append(chart_tree);
    let base = patched.unwrap_or(raw_base);
    let (connections, proven) =
        envs.iter().zip(proofs).map(|((env, _), (connections, proven))| ((env.clone(), connections), proven)).unzip();
    tree.insert(".kubeproof.yaml", check_config_file(&config, &source));
    Ok(Built { tree, base, envs, metrics, connections, proven })
}

/// What the checks of `gen`'s proof say of an environment's load, checked
/// with the GitOps objects that sync it (`synced`).
fn checked(
    mut loaded: crate::model::Loaded,
    synced: Vec<crate::model::Source>,
    config: &crate::check::config::Config,
) -> (crate::model::Loaded, crate::check::Outcome) {
    for source in synced {
        crate::model::load::add_source(&mut loaded, source);
    }
    // Its info is not shown.
    let outcome = crate::check::run_above(&loaded, config, Some(crate::diag::Severity::Info));
    (loaded, outcome)
}

/// The GitOps objects that sync environment `env`, as sources to check with it.
fn synced_sources(tree: &Tree, env: &str) -> Vec<crate::model::Source> {
    let mut out = Vec::new();
    for tool in ["argocd", "flux"] {
        let path = format!("delivery/{tool}/{env}.yaml");
        if let Some(text) = tree.get(Path::new(&path)) {
            let text = String::from_utf8_lossy(text).into_owned();
            out.push(crate::model::Source { name: path.into(), text });
        }
    }
    out
}

/// One environment of `build`: what it intends to connect, proven on its
/// stack before anything is written ([`connections`]).
struct Env<'p> {
    p: &'p Platform,
    file: &'p Path,
    name: String,
    intended: Vec<generate::connections::Connection>,
}

/// An environment's connections proven open, and, when its load is kept
/// (see [`REUSED_YAML`]), the load and what the checks say of it.
type Proven = (Vec<connections::Proven>, Option<(crate::model::Loaded, crate::check::Outcome)>);

impl Env<'_> {
    fn dir(&self) -> String {
        format!("kustomize/overlays/{}", self.name)
    }

    fn over(&self, e: Unloadable) -> Error {
        match e {
            Unloadable::Over(bytes) => Error::Description(vec![too_large(
                self.p,
                self.file,
                &format!("environment `{}` is", self.name),
                bytes,
            )]),
            Unloadable::Broken(e) => e,
        }
    }

    /// The stack as loaded sources, and their bytes of YAML. `kept`: the
    /// YAML of the stacks kept so far, which this one's `copies` join,
    /// within [`MAX_KEPT_YAML`]; `base`: the base's renderings, for the
    /// objects the stack has as they are there.
    fn render(
        &self,
        stack: &Stack,
        (kept, copies): (&mut usize, usize),
        base: &crate::emit::Renders,
    ) -> Result<Rendered, Error> {
        let (loaded, bytes) = render_stack(&self.dir(), stack, Some(base)).map_err(|e| self.over(e))?;
        *kept += bytes * copies;
        if *kept > MAX_KEPT_YAML {
            let envs = self.p.environments.keys().position(|e| e.as_str() == self.name).map_or(1, |i| i + 1);
            return Err(too_many(self.p, self.file, envs));
        }
        Ok((loaded, bytes))
    }

    /// Proves the connections on the rendered stack.
    fn prove(&self, loaded: &crate::model::Loaded) -> Result<Vec<connections::Proven>, Error> {
        connections::prove_loaded(&self.dir(), loaded, &self.intended)
    }

    /// [`Env::prove`], then the checks of `gen`'s proof on the stack with
    /// the GitOps objects that sync it (`synced`).
    fn prove_and_check(
        &self,
        loaded: crate::model::Loaded,
        synced: Vec<crate::model::Source>,
        config: &crate::check::config::Config,
    ) -> Result<Proven, Error> {
        let proven = self.prove(&loaded)?;
        Ok((proven, Some(checked(loaded, synced, config))))
    }
}

/// The environments' proofs as `build` runs them: those whose loads are kept,
/// within [`REUSED_YAML`] in all, on threads of their own; the others here,
/// one at a time, their loads let go.
#[derive(Default)]
struct Proofs<'scope> {
    running: Vec<Proof<'scope>>,
    yaml: usize,
}

/// What a proof's thread returned; a check that panicked is a bug, and
/// surfaces as one.
fn joined<T>(thread: std::thread::ScopedJoinHandle<'_, T>) -> T {
    thread.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
}

enum Proof<'scope> {
    Running(std::thread::ScopedJoinHandle<'scope, Result<Proven, Error>>),
    Done(Box<Result<Proven, Error>>),
}

impl<'scope> Proofs<'scope> {
    fn start<'env>(
        &mut self,
        scope: &'scope std::thread::Scope<'scope, 'env>,
        env: Env<'env>,
        rendered: Rendered,
        tree: &Tree,
        config: &'env crate::check::config::Config,
    ) -> Result<(), Error> {
        let (loaded, bytes) = rendered;
        if self.yaml + bytes > REUSED_YAML {
            // Proven here and let go: `gen`'s proof loads it again.
            let proven = env.prove(&loaded)?;
            self.running.push(Proof::Done(Box::new(Ok((proven, None)))));
            return Ok(());
        }
        self.yaml += bytes;
        let synced = synced_sources(tree, &env.name);
        // At most one running a core and one more: each holds a check run's
        // memory, and more would only share the same cores.
        let limit = crate::model::load::cores() + 1;
        while self.running.iter().filter(|p| matches!(p, Proof::Running(_))).count() >= limit {
            self.settle_oldest();
        }
        // On a core of its own while the next environment is generated and
        // the files are laid out. The work is sent once the thread exists,
        // so that it is still here to do when none can be started.
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Env<'env>, _, _)>(1);
        let prove = move || match rx.recv() {
            Ok((env, loaded, synced)) => env.prove_and_check(loaded, synced, config),
            Err(_) => Err(Error::Internal("a proof thread got no work".into())),
        };
        // Its checks run on this thread too (`check::run_checks`).
        let thread = std::thread::Builder::new().stack_size(crate::check::CHECK_STACK);
        match thread.spawn_scoped(scope, prove) {
            Ok(thread) => {
                let _ = tx.send((env, loaded, synced));
                self.running.push(Proof::Running(thread));
            }
            Err(_) => self.running.push(Proof::Done(Box::new(env.prove_and_check(loaded, synced, config)))),
        }
        Ok(())
    }

    /// Waits for the oldest proof still running.
    fn settle_oldest(&mut self) {
        if let Some(oldest) = self.running.iter_mut().find(|p| matches!(p, Proof::Running(_))) {
            let placeholder = Proof::Done(Box::new(Ok((Vec::new(), None))));
            if let Proof::Running(thread) = std::mem::replace(oldest, placeholder) {
                *oldest = Proof::Done(Box::new(joined(thread)));
            }
        }
    }

    /// Each environment's proof, in order; the first that failed.
    fn finish(self) -> Result<Vec<Proven>, Error> {
        self.running
            .into_iter()
            .map(|proof| match proof {
                Proof::Running(thread) => joined(thread),
                Proof::Done(proven) => *proven,
            })
            .collect()
    }
}

/// An environment's stack before its own patches (when it has some), and
/// those patches.
type OwnPatches = (Option<Stack>, Vec<generate::patches::Applied>);

/// The objects of all environments' stacks together (the base's, times
/// their number) up to which they are generated before any is rendered:
/// the examples have at most about 500. A stack takes about 32 KB of memory
/// an object (kailash: 2.5 KB of YAML an object, 13 bytes a byte), so the
/// stacks generated ahead stay within about 130 MB.
const AHEAD_OBJECTS: usize = 4_000;

/// What the stacks of all environments may take together, in YAML: `gen`
/// keeps each to compare them (overlays, Helm values), at about 13 bytes of
/// memory per byte of YAML.
pub const MAX_KEPT_YAML: usize = 48 << 20;

/// The refusal of environments whose stacks together are over
/// [`MAX_KEPT_YAML`], at the description's `environments:` line.
fn too_many(p: &Platform, file: &Path, envs: usize) -> Error {
    let message = format!(
        "the stacks generated for the first {envs} of {} environments are over the budget of {} MiB of YAML \
         for all environments together (`gen` keeps them to compare them): {} service(s) × {} environment(s)",
        p.environments.len(),
        MAX_KEPT_YAML >> 20,
        p.services.len(),
        p.environments.len(),
    );
    let mut d = crate::diag::Diagnostic::error(file, key_line(file, "environments"), message);
    d.help = Some(
        "every environment is a whole stack; split the platform into several descriptions, \
         or write fewer environments"
            .to_string(),
    );
    Error::Description(vec![d])
}

/// The YAML a `uses` edge adds to a stack, at least: a rule in the
/// NetworkPolicy of each end and the address in the caller's ConfigMap
/// (measured: about 590 bytes).
const EDGE_YAML: usize = 512;

/// The `uses` edges of the description.
fn uses_edges(p: &Platform) -> usize {
    p.services.values().map(|s| s.uses.as_ref().map_or(0, Vec::len)).sum()
}

/// The refusal of a generated stack over [`MAX_STACK_YAML`] (`which`: what
/// is over it; `bytes`: its size, or the estimate), at the description's
/// `services:` line, with what drives its size.
fn too_large(p: &Platform, file: &Path, which: &str, bytes: usize) -> crate::diag::Diagnostic {
    let message = format!(
        "the stack generated for {which} over the budget of {} MiB of YAML per environment \
         (at least {} MiB): {} service(s) × {} environment(s), {} `uses` edge(s)",
        MAX_STACK_YAML >> 20,
        bytes >> 20,
        p.services.len(),
        p.environments.len().max(1),
        uses_edges(p),
    );
    let mut d = crate::diag::Diagnostic::error(file, key_line(file, "services"), message);
    d.help = Some(
        "each `uses` edge adds a NetworkPolicy rule on both sides and the address to the caller's \
         environment; split the platform into several descriptions, or let fewer services call each other"
            .to_string(),
    );
    d
}

/// Where the top-level `key:` of the description is (line 1 when it is not
/// found: a flow-style description).
fn key_line(file: &Path, key: &str) -> crate::diag::Pos {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    let line = text.lines().position(|l| l.strip_prefix(key).is_some_and(|r| r.trim_start().starts_with(':')));
    crate::diag::Pos::new(line.map_or(1, |l| u32::try_from(l + 1).unwrap_or(u32::MAX)), 1)
}

/// The configuration `gen` checks its output with: the cluster's Kubernetes
/// version, and the metrics the services declare (rules and dashboards on
/// them are not "unknown", KP608).
pub fn check_config(built: &Built, p: &Platform) -> crate::check::config::Config {
    proof_config(&built.metrics, p)
}

/// [`check_config`] of the `metrics` the services declare.
fn proof_config(metrics: &std::collections::BTreeSet<String>, p: &Platform) -> crate::check::config::Config {
    crate::check::config::Config { metrics: metrics.iter().cloned().collect(), ..target(p) }
}

/// The check configuration of the description's Kubernetes version alone.
fn target(p: &Platform) -> crate::check::config::Config {
    let k = &p.cluster.kubernetes.value;
    crate::check::config::Config { kubernetes: Some(format!("{}.{}", k.major, k.minor)), ..Default::default() }
}

/// [`check_config`] as the `.kubeproof.yaml` written beside the stack, so
/// that `kubeproof check` run there judges the built overlays as `gen` did.
fn check_config_file(config: &crate::check::config::Config, source: &str) -> String {
    let mut out = format!(
        "# Generated by kubeproof from {source}: what `gen` checked this stack with. `kubeproof check`\n\
         # run in this folder reads it, e.g. `kubectl kustomize kustomize/overlays/ENV | kubeproof check -`.\n"
    );
    if let Some(k) = &config.kubernetes {
        out += &format!("kubernetes: \"{k}\"\n");
    }
    if config.metrics.is_empty() {
        out += "metrics: []\n";
    } else {
        out += "# The metrics the services declare.\nmetrics:\n";
        for m in &config.metrics {
            // A JSON string is a YAML string.
            out += &format!("  - {}\n", serde_json::Value::from(m.as_str()));
        }
    }
    out
}

/// Each overlay's record of the fields the API server will not let the next
/// generation change ([`crate::model::immutable::reduce`]): `gen` compares
/// a new generation with it before writing. Not listed in the kustomization.
pub const IMMUTABLE_RECORD: &str = "immutable-fields.json";

/// Each environment's record ([`immutable_record`]). An object the same as
/// in the environment before reuses its digests: serializing every object
/// of every environment to hash it was 4 % of `gen`'s CPU on kailash, and
/// most objects are the same in every environment.
fn immutable_records(envs: &[(String, Stack)], source: &str) -> Result<Vec<String>, Error> {
    let mut before: std::collections::HashMap<String, (&serde_json::Value, serde_json::Value)> =
        std::collections::HashMap::new();
    let mut out = Vec::new();
    for (_, stack) in envs {
        let mut now = std::collections::HashMap::new();
        let digests: Vec<(String, serde_json::Value)> = stack
            .objects
            .iter()
            .map(|o| {
                let key = crate::model::immutable::Key::of(&o.value).to_string();
                let d = match before.get(&key) {
                    Some((v, d)) if **v == o.value => d.clone(),
                    _ => crate::model::immutable::digests(&o.value),
                };
                now.insert(key.clone(), (&o.value, d.clone()));
                (key, d)
            })
            .collect();
        out.push(immutable_record(stack, digests, source)?);
        before = now;
    }
    Ok(out)
}

/// The record of one environment's objects, in key order, with each
/// object's `digests` (its key and [`crate::model::immutable::digests`]).
fn immutable_record(stack: &Stack, digests: Vec<(String, serde_json::Value)>, source: &str) -> Result<String, Error> {
    use crate::model::immutable::{Key, reduce};
    let mut objects: Vec<(Key, serde_json::Value)> =
        stack.objects.iter().filter_map(|o| reduce(&o.value)).map(|v| (Key::of(&v), v)).collect();
    objects.sort_by(|a, b| a.0.cmp(&b.0));
    let parts: serde_json::Map<String, serde_json::Value> = digests.into_iter().collect();
    let record = serde_json::json!({
        "about": format!(
            "Generated by kubeproof from {source}: what the API server will not let a later generation of this \
             overlay change, and a digest of each object and of its parts that recreate pods or affect \
             connections; gen compares the next generation with it before writing"
        ),
        "objects": objects.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "digests": parts,
    });
    serde_json::to_string_pretty(&record)
        .map(|t| t + "\n")
        .map_err(|e| Error::Internal(format!("cannot write JSON: {e}")))
}

/// The earlier generation's record of environment `env` in `output`, read
/// back: its reduced objects and its digests by object (`None` when there is
/// none, or it is not kubeproof's).
pub fn earlier_record(output: &std::path::Path, env: &str) -> Option<(Vec<serde_json::Value>, serde_json::Value)> {
    let path = output.join(format!("kustomize/overlays/{env}/{IMMUTABLE_RECORD}"));
    std::fs::metadata(&path).ok().filter(|m| m.is_file() && m.len() <= 64 << 20)?;
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    Some((v.get("objects")?.as_array()?.clone(), v.get("digests").cloned().unwrap_or_default()))
}

/// What kubeproof's own checks say about each environment's stack (rung 1 of
/// the proof ladder): one source per object, named after its file in the
/// overlay, plus a stand-in for every Secret the secretGenerator builds
/// (keys without values) so that references to them are checked too.
pub fn prove(built: &Built, p: &Platform) -> Result<Vec<(String, crate::model::Loaded, crate::check::Outcome)>, Error> {
    let mut out = Vec::new();
    prove_each(built, p, |env, loaded, outcome| out.push((env.to_string(), loaded, outcome)))?;
    Ok(out)
}

/// [`prove`] one environment at a time: `each` gets its loaded sources and
/// outcome, which are dropped before the next environment is loaded (all of
/// them together took about 14 MB per environment of 50 services).
pub fn prove_each(
    built: &Built,
    p: &Platform,
    each: impl FnMut(&str, crate::model::Loaded, crate::check::Outcome),
) -> Result<(), Error> {
    prove_each_reusing(built, p, Vec::new(), each)
}

/// [`prove_each`], taking the proofs `build` ran ([`Built::take_proven`])
/// where it kept them rather than loading and checking those stacks again.
pub fn prove_each_reusing(
    built: &Built,
    p: &Platform,
    mut proven: Vec<Option<(crate::model::Loaded, crate::check::Outcome)>>,
    mut each: impl FnMut(&str, crate::model::Loaded, crate::check::Outcome),
) -> Result<(), Error> {
    let config = check_config(built, p);
    proven.resize_with(built.envs.len(), || None);
    for ((env, stack), proof) in built.envs.iter().zip(proven) {
        if let Some((loaded, outcome)) = proof {
            each(env, loaded, outcome);
            continue;
        }
        let loaded = stack_sources(&format!("kustomize/overlays/{env}"), stack)?;
        let (loaded, outcome) = checked(loaded, synced_sources(&built.tree, env), &config);
        each(env, loaded, outcome);
    }
    Ok(())
}

/// The YAML one environment's generated objects may take: its proof loads
/// them all, and with the stack itself, its files and the Helm chart, `gen`
/// takes up to about 60 bytes of memory per byte of it (a dense `uses` graph).
pub const MAX_STACK_YAML: usize = 16 << 20;

/// A stack as checkable sources: one per object, named after its file under
/// `dir` (`kustomize/overlays/ENV`), plus a stand-in for every Secret the
/// secretGenerator builds (keys without values). Past [`MAX_STACK_YAML`] it
/// is refused ([`Error::Usage`]; `gen` says what in the description drives it).
pub fn stack_sources(dir: &str, stack: &Stack) -> Result<crate::model::Loaded, Error> {
    let over = |e| match e {
        Unloadable::Over(bytes) => Error::Usage(over_budget(dir, bytes)),
        Unloadable::Broken(e) => e,
    };
    render_stack(dir, stack, None).map(|(loaded, _)| loaded).map_err(over)
}

/// Why a generated stack cannot be proven.
enum Unloadable {
    /// Over the budget: the YAML rendered when it was refused.
    Over(usize),
    Broken(Error),
}

fn over_budget(dir: &str, bytes: usize) -> String {
    format!(
        "{dir}: the generated stack is over the budget of {} MiB of YAML per environment (refused at {} MiB)",
        MAX_STACK_YAML >> 20,
        bytes >> 20
    )
}

/// A stack's objects, each rendered as YAML and loaded as `check` would
/// read that text, and the bytes of YAML they take.
type Rendered = (crate::model::Loaded, usize);

/// The stack rendered ([`Rendered`]), an object the same as in `base` as it
/// is rendered there; refused past [`MAX_STACK_YAML`], as soon as it is
/// reached.
fn render_stack(dir: &str, stack: &Stack, base: Option<&crate::emit::Renders>) -> Result<Rendered, Unloadable> {
    let mut loaded = crate::model::Loaded::default();
    let mut bytes = 0;
    let mut add = |name: String, text: String, value: &serde_json::Value| {
        bytes += text.len();
        if bytes > MAX_STACK_YAML {
            return Err(Unloadable::Over(bytes));
        }
        crate::model::load::add_rendered(&mut loaded, crate::model::Source { name: name.into(), text }, value);
        Ok(())
    };
    for o in &stack.objects {
        let path = crate::emit::kustomize::object_path(o);
        let text = match base {
            Some(base) => base.like(o, &path).map(std::borrow::Cow::into_owned),
            None => crate::emit::to_yaml(&o.value),
        };
        add(format!("{dir}/{path}"), text.map_err(Unloadable::Broken)?, &o.value)?;
    }
    use crate::description::delivery::SecretsMode;
    for s in &stack.secrets {
        // The ExternalSecrets are among the objects: checks read their keys.
        let (producer, name) = match stack.secrets_mode {
            SecretsMode::External { .. } => continue,
            SecretsMode::Env => {
                (format!("secretGenerator {}", s.file), format!("{dir}/secrets/{} (secretGenerator)", s.file))
            }
            SecretsMode::Sealed => {
                let path = crate::emit::kustomize::sealed_path(s);
                (format!("SealedSecret {path}"), format!("{dir}/{path} (to be sealed)"))
            }
        };
        let data: BTreeMap<&str, &str> = s.keys.iter().map(|k| (k.as_str(), "")).collect();
        let secret = serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": s.name, "namespace": s.namespace,
                "annotations": { crate::check::SECRET_STAND_IN: producer } },
            "data": data,
        });
        add(name, crate::emit::to_yaml(&secret).map_err(Unloadable::Broken)?, &secret)?;
    }
    Ok((loadable(loaded)?, bytes))
}

/// The rendered stack, unless an object of it is not one `check` would
/// read (its first error).
fn loadable(loaded: crate::model::Loaded) -> Result<crate::model::Loaded, Unloadable> {
    match loaded.errors.first() {
        None => Ok(loaded),
        // One line, not a dump of every error.
        Some(d) => Err(Unloadable::Broken(Error::Internal(format!(
            "generated YAML does not load: {}:{}:{}: {} ({} error(s))",
            d.file.display(),
            d.pos.line,
            d.pos.column,
            d.message,
            loaded.errors.len()
        )))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stack_over_its_budget_is_refused_in_words() {
        let mut stack = Stack::default();
        let big = "x".repeat(MAX_STACK_YAML + 1);
        stack.objects.push(generate::Object {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            name: "big".into(),
            namespace: Some("shop".into()),
            value: serde_json::json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": { "name": "big", "namespace": "shop" },
                "data": { "big": big },
            }),
        });
        let Err(Error::Usage(message)) = stack_sources("kustomize/overlays/prod", &stack) else {
            panic!("not refused as a usage error")
        };
        assert!(
            message.starts_with("kustomize/overlays/prod: the generated stack is over the budget of 16 MiB"),
            "{message}"
        );
    }

    /// The GitOps objects are proven with their environment's stack: a
    /// misspelt field of the Application is an error of `gen`'s proof.
    #[test]
    fn the_application_is_proven_with_its_environment() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("p.yaml");
        let text = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster:\n  kubernetes: \"1.30\"\n  \
                    secrets: { provider: sealed-secrets }\n  \
                    delivery: { argocd: { repo: https://git.example.com/shop.git, path: deploy } }\n\
                    services:\n  a: { image: ghcr.io/x/a:1.0.0, port: 8080, secrets: [TOKEN] }\n";
        std::fs::write(&file, text).expect("write");
        let p = crate::description::load(&file).expect("the description loads");
        let mut built = build(&p, &file).expect("generated");
        let errors = |built: &Built| -> Vec<String> {
            let proofs = prove(built, &p).expect("proven");
            proofs
                .iter()
                .flat_map(|(_, _, o)| &o.findings)
                .filter(|f| f.severity == crate::diag::Severity::Error)
                .map(|f| format!("{} {}", f.code, f.message))
                .collect()
        };
        assert!(errors(&built).is_empty(), "{:?}", errors(&built));
        let path = Path::new("delivery/argocd/default.yaml");
        let app = String::from_utf8_lossy(built.tree.get(path).expect("the Application")).into_owned();
        assert!(app.contains("selfHeal: true"), "{app}");
        built.tree.insert(path, app.replace("selfHeal: true", "selfheal: true"));
        let found = errors(&built);
        assert!(found.iter().any(|e| e.starts_with("KP001") && e.contains("selfheal")), "{found:?}");
    }

    /// Generating every environment before the first is rendered, or
    /// each as the one before is proven, writes the same files.
    #[test]
    fn the_environments_generated_ahead_or_one_by_one_are_the_same() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/polyglot-shop.yaml");
        let p = crate::description::load(&file).expect("the example loads");
        let ahead = build_stacks_ahead(&p, &file, &|_| {}, usize::MAX).expect("builds");
        let one_by_one = build_stacks_ahead(&p, &file, &|_| {}, 0).expect("builds");
        assert!(ahead.envs.len() > 1);
        assert!(ahead.tree == one_by_one.tree, "the trees differ");
        assert_eq!(format!("{:?}", ahead.connections), format!("{:?}", one_by_one.connections));
    }

    /// The records made reusing the digests of the objects the same as in
    /// the environment before are the records of each environment alone.
    #[test]
    fn the_records_reusing_digests_are_each_environments_own() {
        use crate::model::immutable::{Key, digests};
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/kailash.yaml");
        let p = crate::description::load(&file).expect("the example loads");
        let built = build_stacks_ahead(&p, &file, &|_| {}, usize::MAX).expect("builds");
        let records = immutable_records(&built.envs, "kailash.yaml").expect("recorded");
        for ((_, stack), record) in built.envs.iter().zip(&records) {
            let own = stack.objects.iter().map(|o| (Key::of(&o.value).to_string(), digests(&o.value))).collect();
            assert!(*record == immutable_record(stack, own, "kailash.yaml").expect("recorded"));
        }
        // Both kinds of object are met: the same as before, and changed.
        let [(_, a), (_, b), ..] = built.envs.as_slice() else { panic!("one environment") };
        let before: BTreeMap<String, &serde_json::Value> =
            a.objects.iter().map(|o| (Key::of(&o.value).to_string(), &o.value)).collect();
        let same = |o: &&generate::Object| before.get(&Key::of(&o.value).to_string()) == Some(&&o.value);
        assert!(b.objects.iter().any(|o| same(&o)) && !b.objects.iter().all(|o| same(&o)));
    }

    #[test]
    fn the_refusal_names_the_description_and_what_drives_the_size() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("p.yaml");
        let text = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster:\n  kubernetes: \"1.30\"\n\
                    environments:\n  prod: {}\n  dev: {}\nservices:\n  a:\n    image: ghcr.io/x/a:1.0.0\n    port: 8080\n    uses: [b, c]\n\
                    \x20 b:\n    image: ghcr.io/x/b:1.0.0\n    port: 8080\n    uses: [c]\n\
                    \x20 c:\n    image: ghcr.io/x/c:1.0.0\n    port: 8080\n";
        std::fs::write(&file, text).expect("write");
        let p = crate::description::load(&file).expect("the description loads");
        let d = too_large(&p, &file, "environment `prod` is", 20 << 20);
        assert_eq!((d.file.as_path(), d.pos.line, d.pos.column), (file.as_path(), 8, 1), "{d:?}");
        assert!(d.message.contains("environment `prod` is over the budget of 16 MiB"), "{}", d.message);
        assert!(d.message.contains("3 service(s) × 2 environment(s), 3 `uses` edge(s)"), "{}", d.message);
        let Error::Description(d) = too_many(&p, &file, 2) else { panic!("not a description error") };
        assert_eq!((d[0].pos.line, d[0].pos.column), (5, 1), "{d:?}");
        assert!(d[0].message.contains("first 2 of 2 environments are over the budget of 48 MiB"), "{}", d[0].message);
    }
}
