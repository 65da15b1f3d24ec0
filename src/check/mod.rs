//! `kubeproof check`: load any manifests with source positions, validate
//! them against the Kubernetes schema, run single-object and cross-object
//! checks, and report findings at file:line:column.
//!
//! Objects, their loading and the shared analysis live in [`crate::model`].
//!
//! - [`rules`]: one file per check, and the registry of stable codes.
//! - [`config`]: `.kubeproof.yaml` and the per-object ignore annotation.
//! - [`report`]: text, JSON, SARIF and JUnit.

pub mod config;
pub mod cut;
pub mod report;
pub mod rules;

use std::path::PathBuf;
use std::sync::Arc;

pub use crate::diag::Severity;
pub use crate::model::finding::Finding;
use crate::model::{Loaded, Manifests, Source, load, schema};
use config::Config;
/// The annotation of `gen`'s in-memory stand-ins for generated Secrets (KP320 reads their env files instead).
pub use rules::SECRET_STAND_IN;

/// The families of checks, by the hundreds digit of their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// KP0xx: input, schema, API versions.
    Schema,
    /// KP1xx: pod and container security.
    Security,
    /// KP2xx: availability, scaling, disruption.
    Reliability,
    /// KP3xx: references between objects.
    References,
    /// KP4xx: network policies and reachability.
    Network,
    /// KP5xx: service mesh.
    Mesh,
    /// KP6xx: monitoring and alerting.
    Observability,
    /// KP7xx: capacity and quotas.
    Budget,
}

/// What a check reads to report on an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reads {
    /// That object alone (its own pod template, rules, fields): it runs on
    /// each input as it is read ([`early`]), before the object's value is
    /// cut down to what the other checks read.
    Object,
    /// Other objects too (references, selectors, policies, the whole set's
    /// names): it runs once everything is read.
    Set,
}

/// What a check is: its stable code, default severity and documentation.
/// `fail` and `pass` are fixtures (YAML streams): the tests run every check
/// over both, and `kubeproof explain` shows them.
#[derive(Debug)]
pub struct Meta {
    pub code: &'static str,
    /// kebab-case name, e.g. `service-selects-nothing`.
    pub name: &'static str,
    pub family: Family,
    /// What it reads: one object at a time, or the whole set.
    pub reads: Reads,
    pub severity: Severity,
    /// One line, shown by `kubeproof rules`.
    pub summary: &'static str,
    /// What it does.
    pub what: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix a finding.
    pub fix: &'static str,
    /// Objects this check reports (at least once).
    pub fail: &'static str,
    /// Objects it does not report.
    pub pass: &'static str,
}

/// One check. Implementations live one per file under [`rules`].
pub trait Check: Send + Sync {
    fn meta(&self) -> &'static Meta;
    fn run(&self, cx: &Context, out: &mut Sink);
}

/// What a check sees: the objects with their index and pod templates
/// ([`Manifests`], through `Deref`), the schemas and the run's configuration.
pub struct Context<'a> {
    pub manifests: &'a Manifests<'a>,
    pub schemas: &'a schema::Schemas,
    /// Target Kubernetes minor version (1.`minor`).
    pub minor: u32,
    /// The run's configuration (`.kubeproof.yaml`).
    pub config: &'a Config,
    /// The network policies, built by the first check that asks
    /// ([`Context::policies`]): three checks read them, and each building
    /// its own took 110 bytes an object at its peak, twice when two ran
    /// at once.
    policies: std::sync::OnceLock<crate::model::netpol::Policies<'a>>,
    /// The PromQL the checks parsed, kept for the others of the run and
    /// the later runs of the process ([`rules::shared_memos`]).
    pub(crate) promql: std::sync::Arc<rules::PromqlMemo>,
    /// The dashboards read, kept for every run of the process.
    pub(crate) dashboards: std::sync::Arc<rules::DashboardMemo>,
    /// The rule files of ConfigMaps read, kept for every run of the process.
    pub(crate) rule_files: std::sync::Arc<rules::RuleFileMemo>,
}

impl<'a> Context<'a> {
    pub fn new(manifests: &'a Manifests<'a>, schemas: &'a schema::Schemas, minor: u32, config: &'a Config) -> Self {
        let (promql, dashboards, rule_files) = rules::shared_memos();
        Context {
            manifests,
            schemas,
            minor,
            config,
            policies: std::sync::OnceLock::new(),
            promql,
            dashboards,
            rule_files,
        }
    }

    /// The network policies of the set, read as the checks do
    /// ([`crate::model::netpol::World::Open`]).
    pub fn policies(&self) -> &crate::model::netpol::Policies<'a> {
        self.policies.get_or_init(|| crate::model::netpol::Policies::build(self.manifests))
    }
}

impl<'a> std::ops::Deref for Context<'a> {
    type Target = Manifests<'a>;

    fn deref(&self) -> &Manifests<'a> {
        self.manifests
    }
}

/// Collects one check's findings, stamping its code and severity.
pub struct Sink {
    meta: &'static Meta,
    pub findings: Vec<Finding>,
    /// What the findings may take, counted as they are made (`check`).
    room: Option<Arc<Room>>,
    /// The findings counted so far (a help is given after its finding).
    counted: usize,
    /// Where a finding goes once the room is passed: not kept.
    spare: Option<Box<Finding>>,
}

impl Sink {
    pub fn new(meta: &'static Meta) -> Self {
        Sink { meta, findings: Vec::new(), room: None, counted: 0, spare: None }
    }

    /// A sink whose findings count against `room`.
    pub fn within(meta: &'static Meta, room: &Arc<Room>) -> Self {
        Sink { room: Some(Arc::clone(room)), ..Sink::new(meta) }
    }

    /// Reports `message` about the field at `pointer` of object `object`.
    /// A long value quoted in `message` is clipped here ([`crate::diag::clip_message`]):
    /// findings are kept until the report is written.
    pub fn report(&mut self, object: usize, pointer: impl Into<String>, message: impl Into<String>) -> &mut Finding {
        let mut message = message.into();
        crate::diag::clip_message(&mut message);
        let finding = Finding {
            code: self.meta.code,
            severity: self.meta.severity,
            object,
            pointer: Finding::exact(pointer.into()),
            at: None,
            message: Finding::exact(message),
            help: None,
        };
        if self.settle() {
            return self.spare.insert(Box::new(finding));
        }
        self.findings.push(finding);
        let last = self.findings.len() - 1;
        &mut self.findings[last]
    }

    /// Counts the findings not yet counted against the room; whether it is
    /// passed (then none is kept: see [`Room`]).
    fn settle(&mut self) -> bool {
        let Some(room) = &self.room else { return false };
        // Shared as they come, from the last one counted, so that a help
        // given again is not counted again.
        share_help(&mut self.findings[self.counted.saturating_sub(1)..]);
        let new = &self.findings[self.counted..];
        let bytes = new.iter().map(|f| Room::BESIDE + f.kept_bytes()).sum();
        self.counted = self.findings.len();
        room.take(bytes)
    }
}

/// What the findings of the checks run once everything is read may take:
/// the memory budget less what reading kept. Checks running at once share
/// it. Past it, none of their findings is kept, and the run says so in one
/// error: which findings are past it would depend on the order the checks
/// ran in, and the report must not (the same input, the same report). A
/// hundred megabytes of small Deployments gave three million findings, and
/// took a run with a budget of 870 MiB to 1.9 GiB.
pub struct Room {
    left: usize,
    taken: std::sync::atomic::AtomicUsize,
}

impl Room {
    /// What a finding takes beside what it keeps ([`Finding::kept_bytes`]):
    /// more room in its check's list (which doubles: up to three slots
    /// while it grows), its slot in the run's list, and its two indexes
    /// while findings are placed and sorted.
    const BESIDE: usize = 2 * size_of::<Finding>() + 2 * size_of::<usize>();

    pub fn new(left: usize) -> Arc<Room> {
        Arc::new(Room { left, taken: std::sync::atomic::AtomicUsize::new(0) })
    }

    /// Takes `bytes`; whether the room is passed now.
    fn take(&self, bytes: usize) -> bool {
        let taken = self.taken.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed).saturating_add(bytes);
        taken > self.left
    }

    /// Whether the findings passed the room (or would have, all counted).
    pub fn passed(&self) -> bool {
        self.taken.load(std::sync::atomic::Ordering::Relaxed) > self.left
    }
}

/// The result of a run: findings sorted by place, and what was checked.
#[derive(Debug, Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub objects: usize,
}

/// Runs every enabled check over `objects` and applies the ignore
/// annotations and the configuration's severities.
pub fn run(loaded: &Loaded, config: &Config) -> Outcome {
    run_above(loaded, config, None)
}

/// [`run`], keeping only the findings more severe than `floor` (`gen`'s
/// proof shows no info): the others are not placed, which may parse their
/// objects again (see `place`).
pub fn run_above(loaded: &Loaded, config: &Config, floor: Option<Severity>) -> Outcome {
    let checks: Vec<&dyn Check> = rules::registry().iter().copied().filter(|c| config.enabled(c.meta())).collect();
    let findings = with_context(loaded, config, |cx| run_checks(cx, &checks, None));
    finish(findings.into_iter().flatten().collect(), loaded, config, floor)
}

/// Places every finding once, not at every comparison of the sort: an
/// object read from a file (or rendered by `gen`) parses its document again
/// for a position inside it. In object order, so that each document is
/// parsed once (a file keeps the last few).
/// On every core when there are many (each its own run of objects): the
/// 28,572 findings of a million objects in one stream took a second on one.
fn place(findings: &mut [Finding], objects: &[crate::model::Object]) {
    let mut unplaced: Vec<usize> = (0..findings.len()).filter(|&i| findings[i].at.is_none()).collect();
    unplaced.sort_by_key(|&i| findings[i].object);
    let threads = crate::model::load::cores();
    if threads <= 1 || unplaced.len() < PLACED_ON_EVERY_CORE {
        for i in unplaced {
            let f = &mut findings[i];
            f.at = Some(f.pos(&objects[f.object]));
        }
        return;
    }
    let shared: &[Finding] = findings;
    let per = unplaced.len().div_ceil(threads);
    let placed: Vec<Vec<crate::diag::Pos>> = std::thread::scope(|scope| {
        let workers: Vec<_> = unplaced
            .chunks(per)
            .map(|run| scope.spawn(move || run.iter().map(|&i| shared[i].pos(&objects[shared[i].object])).collect()))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    });
    for (i, pos) in unplaced.into_iter().zip(placed.into_iter().flatten()) {
        findings[i].at = Some(pos);
    }
}

/// Unplaced findings from which [`place`] runs on every core.
const PLACED_ON_EVERY_CORE: usize = 1_024;

/// Reads `inputs` and checks them as `check` does: the checks that read
/// one object at a time ([`Reads::Object`]) run on each document as it is
/// read ([`early`]), the others once everything is read. The outcome is
/// the one [`run`] gives on the same objects. `namespace` is `--namespace`;
/// what is kept of the inputs may take `budget` bytes (`--memory-budget`,
/// by default [`load::MAX_HEAP`]).
pub fn run_inputs(inputs: &[PathBuf], config: &Config, namespace: Option<&str>, budget: usize) -> (Loaded, Outcome) {
    let mut loaded = load::load_with(inputs, budget, early(config, namespace));
    if let Some(ns) = namespace {
        loaded.apply_namespace(ns);
    }
    let checks: Vec<&dyn Check> = rules::registry()
        .iter()
        .copied()
        .filter(|c| c.meta().reads == Reads::Set && config.enabled(c.meta()))
        .collect();
    let mut findings = std::mem::take(&mut loaded.findings);
    // Reading counted the context and some room for these findings with
    // each object (`load::AFTER_READING`). The findings read so far are
    // copied once into the run's list, and sorted through their indexes.
    let left = budget
        .saturating_sub(loaded.heap)
        .saturating_add(loaded.objects.len().saturating_mul(load::FINDINGS_ROOM))
        .saturating_sub(findings.len().saturating_mul(size_of::<Finding>() + size_of::<usize>()));
    let room = Room::new(left);
    let found = with_context(&loaded, config, |cx| run_checks(cx, &checks, Some(&room)));
    if room.passed() {
        drop(found);
        loaded.errors.push(findings_refused(&loaded, budget));
    } else {
        findings.reserve_exact(found.iter().map(Vec::len).sum());
        for mut f in found {
            findings.append(&mut f);
        }
    }
    let outcome = finish(findings, &loaded, config, None);
    (loaded, outcome)
}

/// The loader's [`load::Early`] for `check`: gives objects without a
/// namespace `namespace`, runs the enabled single-object checks on them,
/// places each finding while the object still has every position, then
/// cuts the objects down to what the other checks read ([`cut`]).
pub fn early(config: &Config, namespace: Option<&str>) -> Arc<load::Early> {
    let checks: Vec<&'static dyn Check> = rules::registry()
        .iter()
        .copied()
        .filter(|c| c.meta().reads == Reads::Object && config.enabled(c.meta()))
        .collect();
    let config = config.clone();
    let namespace = namespace.map(str::to_string);
    let schemas = schema::Schemas::shared(config.minor());
    let makers: Vec<_> = crate::model::operators::BUILTIN.iter().chain(&config.operators).cloned().collect();
    // The last help of each check: findings on many documents share one copy.
    let helps = std::sync::Mutex::new(std::collections::HashMap::<&'static str, Arc<str>>::new());
    Arc::new(move |objects: &mut [crate::model::Object], sources: crate::model::Sources<'_>| {
        if let Some(ns) = &namespace {
            for o in objects.iter_mut() {
                if o.namespace.is_none() && !crate::model::gvk::cluster_scoped(&o.kind) {
                    o.namespace = Some(ns.as_str().into());
                }
            }
        }
        let manifests = Manifests::of(objects, sources, &makers);
        let cx = Context::new(&manifests, &schemas, config.minor(), &config);
        let mut findings = Vec::new();
        for check in &checks {
            let mut sink = Sink::new(check.meta());
            check.run(&cx, &mut sink);
            findings.append(&mut sink.findings);
        }
        // Placed before the fields they point at may be cut.
        for f in &mut findings {
            f.at = Some(f.pos(&objects[f.object]));
        }
        drop(manifests);
        for o in objects.iter_mut() {
            cut::cut(o);
        }
        if findings.is_empty() {
            return findings;
        }
        let mut helps = helps.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for f in &mut findings {
            if let Some(help) = &mut f.help {
                match helps.get(f.code) {
                    Some(same) if **same == **help => *help = Arc::clone(same),
                    _ => {
                        helps.insert(f.code, Arc::clone(help));
                    }
                }
            }
        }
        findings
    })
}

/// The ignores and severities of the configuration applied to `findings`
/// on `loaded`; those more severe than `floor` kept, placed and sorted by
/// place.
fn finish(findings: Vec<Finding>, loaded: &Loaded, config: &Config, floor: Option<Severity>) -> Outcome {
    let objects = &loaded.objects[..];
    let mut findings = config::apply(findings, objects, config);
    if let Some(floor) = floor {
        findings.retain(|f| f.severity > floor);
    }
    place(&mut findings, objects);
    // Again, for the checks that edit a message after reporting it.
    for f in &mut findings {
        crate::diag::clip_message(&mut f.message);
        if let Some(help) = f.help.as_mut().filter(|h| h.len() > crate::diag::QUOTE_MAX) {
            let mut text = help.to_string();
            crate::diag::clip_message(&mut text);
            *help = text.into();
        }
    }
    // Stable: findings alike in all four stay in the checks' order. The
    // order is sorted, not the findings: the scratch of a stable sort is
    // half what it sorts (150 MB of 3 million findings; 12 MB as indexes).
    let key = |f: &Finding| {
        let o = &objects[f.object];
        (o.source, f.pos(o), f.code)
    };
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&findings[a], &findings[b]);
        key(a).cmp(&key(b)).then_with(|| a.message.cmp(&b.message))
    });
    permute(&mut findings, order);
    findings.dedup();
    Outcome { findings, objects: objects.len() }
}

/// Puts the item at `order[i]` of `items` at `i`, in place: one cycle of
/// swaps at a time, each place marked done in `order`.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    const DONE: usize = usize::MAX;
    for start in 0..items.len() {
        let mut at = start;
        while order[at] != DONE {
            let from = order[at];
            order[at] = DONE;
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

/// The stack of a thread running checks, as the main thread's: a PromQL
/// tree within the bounds of [`crate::model::promql`] (1,025 levels) needs
/// about 250 KiB in a debug build (a spawned thread's default 2 MiB
/// overflowed between 8,000 and 16,000 levels), so 8 MiB leaves margin for
/// the walks over it; only the pages touched are resident.
pub const CHECK_STACK: usize = 8 << 20;

/// Runs `checks` on every core: the checks only read the context, and each
/// writes its own findings, joined in the registry's order (then sorted by
/// `run`), so the outcome does not depend on the threads.
/// Each check's findings, in the order of `checks`; within `room`, when
/// given (else none are kept once it is passed: see [`Room`]).
fn run_checks(cx: &Context, checks: &[&dyn Check], room: Option<&Arc<Room>>) -> Vec<Vec<Finding>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = crate::model::load::cores().min(checks.len());
    let one = |check: &dyn Check| {
        let mut sink = room.map_or_else(|| Sink::new(check.meta()), |room| Sink::within(check.meta(), room));
        check.run(cx, &mut sink);
        if sink.settle() {
            return Vec::new();
        }
        share_help(&mut sink.findings);
        sink.findings
    };
    if threads <= 1 || cx.objects.len() < 64 {
        return checks.iter().map(|c| one(*c)).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut mine = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(check) = checks.get(i) else { break };
            mine.push((i, one(*check)));
        }
        mine
    };
    // This thread is one of the workers: a thread fewer to start, and to
    // give memory of its own (each keeps its allocator's pages).
    let mut done: Vec<(usize, Vec<Finding>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (1..threads)
            .filter_map(|_| std::thread::Builder::new().stack_size(CHECK_STACK).spawn_scoped(scope, work).ok())
            .collect();
        let mut done = work();
        // A check that panicked is a bug; let it surface as one.
        done.extend(workers.into_iter().flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e))));
        done
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, f)| f).collect()
}

/// The error of a run whose cross-object findings would pass `budget`.
fn findings_refused(loaded: &Loaded, budget: usize) -> crate::diag::Diagnostic {
    let file = loaded.sources.first().map(|s| s.name.clone()).unwrap_or_default();
    crate::diag::Diagnostic::error(
        file,
        crate::diag::Pos::UNKNOWN,
        format!(
            "the findings of the checks across objects (references, selectors, network policies, \
             alerts: `kubeproof rules`) would take the run over {} MiB of memory: none of them is \
             reported; those of the checks of one object at a time are",
            budget >> 20
        ),
    )
    .with_help(
        "check the manifests in several runs (e.g. one per namespace or application), \
         give `check --memory-budget` more, or turn off the checks that report most (`.kubeproof.yaml`)",
    )
}

/// Consecutive findings with the same help share one copy of it: a check
/// gives the same help for each of 100,000 containers (90 MB of copies).
fn share_help(findings: &mut [Finding]) {
    let mut last: Option<Arc<str>> = None;
    for help in findings.iter_mut().filter_map(|f| f.help.as_mut()) {
        match &last {
            Some(same) if **same == **help => *help = Arc::clone(same),
            _ => last = Some(Arc::clone(help)),
        }
    }
}

/// Calls `f` with a [`Context`] over `loaded`.
pub fn with_context<R>(loaded: &Loaded, config: &Config, f: impl FnOnce(&Context) -> R) -> R {
    let makers: Vec<_> = crate::model::operators::BUILTIN.iter().chain(&config.operators).cloned().collect();
    let manifests = Manifests::with_operators(loaded, &makers);
    let schemas = schema::Schemas::shared(config.minor());
    let cx = Context::new(&manifests, &schemas, config.minor(), config);
    f(&cx)
}

/// A finding as a positioned diagnostic, for the reports.
pub fn diagnostic(f: &Finding, loaded: &Loaded) -> crate::diag::Diagnostic {
    let o = &loaded.objects[f.object];
    crate::diag::Diagnostic {
        severity: f.severity,
        code: Some(f.code.to_string()),
        file: loaded.sources[o.source].name.clone(),
        pos: f.pos(o),
        message: format!("{}: {}", shown_id(o), f.message),
        help: f.help.as_deref().map(str::to_string),
        template: o.template().map(|t| Box::new(t.to_string())),
    }
}

/// [`crate::model::Object::id`] as reports show it: each part clipped
/// ([`crate::diag::clip`]; a valid name never is), as a 50 MB name would be
/// repeated in every finding about its object.
pub fn shown_id(o: &crate::model::Object) -> String {
    use crate::diag::clip;
    if o.api_version == crate::model::load::files::FILE_API {
        return crate::model::load::files::shown(&o.kind).to_string();
    }
    if crate::model::gvk::cluster_scoped(&o.kind) {
        format!("{}/{}", clip(&o.kind), clip(&o.name))
    } else {
        format!("{}/{}/{}", clip(&o.kind), clip(o.ns()), clip(&o.name))
    }
}

/// Loads one text (named `name`) and checks it: for tests, fixtures and `gen`.
pub fn check_text(name: &str, text: &str, config: &Config) -> (Loaded, Outcome) {
    let mut loaded = Loaded::default();
    load::add_source(&mut loaded, Source { name: PathBuf::from(name), text: text.to_string() });
    let outcome = run(&loaded, config);
    (loaded, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_permutation_is_applied_in_place_as_a_copy_would_be() {
        // Every permutation of 5, and a long one with cycles of many lengths.
        let mut orders: Vec<Vec<usize>> = Vec::new();
        let mut all = vec![vec![]];
        for n in 0..5 {
            all = all
                .into_iter()
                .flat_map(|p: Vec<usize>| {
                    (0..=n).map(move |i| {
                        let mut q = p.clone();
                        q.insert(i, n);
                        q
                    })
                })
                .collect();
        }
        orders.extend(all);
        orders.push((0..1000).map(|i| (i * 7919 + 13) % 1000).collect());
        for order in orders {
            let items: Vec<String> = (0..order.len()).map(|i| format!("item {i}")).collect();
            let copied: Vec<String> = order.iter().map(|&i| items[i].clone()).collect();
            let mut permuted = items.clone();
            permute(&mut permuted, order.clone());
            assert_eq!(permuted, copied, "{order:?}");
        }
    }

    #[test]
    fn consecutive_findings_share_an_equal_help() {
        let mut sink = Sink::new(rules::registry()[0].meta());
        for (i, help) in ["a", "a", "b", "a"].into_iter().enumerate() {
            sink.report(i, "", "m").help(help.to_string());
        }
        sink.report(4, "", "m");
        share_help(&mut sink.findings);
        let helps: Vec<_> = sink.findings.iter().map(|f| f.help.clone()).collect();
        let [Some(a0), Some(a1), Some(b), Some(a3), None] = &helps[..] else { panic!("{helps:?}") };
        assert!(Arc::ptr_eq(a0, a1), "equal neighbours share");
        assert_eq!((&**b, &**a3), ("b", "a"));
        assert!(!Arc::ptr_eq(a0, a3), "only neighbours are compared");
    }
}

#[cfg(test)]
mod allocation_tests;

#[cfg(test)]
mod room_tests {
    use super::*;

    /// Services that select no pod (a finding across objects each) and a
    /// Deployment whose image has no digest (a finding of one object).
    fn manifests(dir: &std::path::Path) -> PathBuf {
        let mut text = String::from(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  \
             selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    \
             spec: {containers: [{name: web, image: 'nginx:1.27'}]}\n",
        );
        // Long values: the findings, which quote them, take more than
        // their objects (fewer objects keep the test fast).
        let long = "x".repeat(200);
        for i in 0..2_000 {
            text += &format!(
                "---\napiVersion: v1\nkind: Service\nmetadata: {{name: s{i}, namespace: a}}\n\
                 spec: {{selector: {{app: none-{long}-{i}}}, ports: [{{port: 80}}]}}\n"
            );
        }
        let path = dir.join("m.yaml");
        std::fs::write(&path, text).expect("written");
        path
    }

    fn across(outcome: &Outcome) -> usize {
        let set = |code: &str| rules::find(code).is_some_and(|c| c.meta().reads == Reads::Set);
        outcome.findings.iter().filter(|f| set(f.code)).count()
    }

    #[test]
    fn findings_placed_on_every_core_are_where_one_core_places_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inputs = [manifests(dir.path())];
        let (loaded, outcome) = run_inputs(&inputs, &Config::default(), None, load::MAX_HEAP);
        let set = |f: &Finding| rules::find(f.code).is_some_and(|c| c.meta().reads == Reads::Set);
        let placed: Vec<&Finding> = outcome.findings.iter().filter(|f| set(f)).collect();
        assert!(placed.len() >= PLACED_ON_EVERY_CORE, "{} findings across objects", placed.len());
        for f in placed {
            let o = &loaded.objects[f.object];
            let mut alone = f.clone();
            alone.at = None;
            assert_eq!(f.at, Some(alone.pos(o)), "{f:?}");
            assert!(f.at.is_some_and(|p| p.line > 1), "{f:?}");
        }
    }

    #[test]
    fn findings_across_objects_past_the_budget_are_refused_together() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inputs = [manifests(dir.path())];
        let config = Config::default();
        let (loaded, all) = run_inputs(&inputs, &config, None, load::MAX_HEAP);
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        let (many, one) = (across(&all), all.findings.len() - across(&all));
        assert!(many >= 2_000 && one > 0, "{many} across objects, {one} of one object");
        // What reading kept (the checks' context and some room for their
        // findings included) fits, with room for what reading holds only
        // while it reads (the file's text, its lists' room as they double):
        // those findings take twice what is left, so none of them is kept,
        // and one error says so; the findings of one object at a time stay.
        let copied = one * (size_of::<Finding>() + size_of::<usize>());
        let reading = std::fs::metadata(&inputs[0]).map_or(0, |m| m.len() as usize) + (512 << 10);
        let tight = loaded.heap + copied + reading;
        let set = |f: &&Finding| rules::find(f.code).is_some_and(|c| c.meta().reads == Reads::Set);
        let need: usize = all.findings.iter().filter(set).map(|f| Room::BESIDE + f.kept_bytes()).sum();
        let left = reading + loaded.objects.len() * load::FINDINGS_ROOM;
        assert!(need > left + left / 4, "{need} bytes of findings, {left} left");
        for _ in 0..2 {
            let (refused, outcome) = run_inputs(&inputs, &config, None, tight);
            assert_eq!(across(&outcome), 0);
            assert_eq!(outcome.findings.len(), one, "the findings of one object at a time: {:?}", refused.errors);
            assert_eq!(refused.errors.len(), 1, "{:?}", refused.errors);
            assert!(refused.errors[0].message.contains("would take the run over"), "{}", refused.errors[0].message);
        }
        // With room for them all, the same findings as without a budget.
        let roomy = tight + many * (Room::BESIDE + size_of::<Finding>() + 200);
        let (fits, outcome) = run_inputs(&inputs, &config, None, roomy);
        assert!(fits.errors.is_empty(), "{:?}", fits.errors);
        assert_eq!(outcome.findings, all.findings);
    }
}

#[cfg(test)]
mod finding_bytes_tests {
    use super::*;

    fn meta() -> &'static Meta {
        rules::registry()[0].meta()
    }

    /// A `format!`ted message has room to grow: kept as it came, a third
    /// of what three million findings of small Deployments kept was that
    /// room, which the budget did not count (their run went 17 % over it).
    #[test]
    fn a_finding_keeps_its_texts_in_allocations_of_their_length() {
        let mut sink = Sink::new(meta());
        let name = "web";
        let mut pointer = String::with_capacity(200);
        pointer.push_str("/spec/template/spec/containers/0/image");
        let f =
            sink.report(0, pointer, format!("container `{name}` has an image without a digest, so nodes may differ"));
        assert_eq!(f.message.capacity(), f.message.len());
        assert_eq!(f.pointer.capacity(), f.pointer.len());
        let one = f.kept_bytes();
        assert_eq!(one, size_of::<Finding>() + f.pointer.len() + f.message.len());
        // What is counted is what is allocated: a help's two counts too.
        f.help("pin the digest");
        assert_eq!(f.kept_bytes(), one + 2 * size_of::<usize>() + "pin the digest".len());
    }

    #[test]
    fn a_text_with_room_is_counted_with_it() {
        let mut message = String::with_capacity(100);
        message.push_str("short");
        let f = Finding {
            code: "T1",
            severity: Severity::Warning,
            object: 0,
            pointer: String::new(),
            at: None,
            message,
            help: None,
        };
        assert_eq!(f.kept_bytes(), size_of::<Finding>() + 100);
        assert_eq!(Finding::exact(f.message).capacity(), 5);
    }
}
