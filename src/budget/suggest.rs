//! Which of the description's options would make an environment fit its
//! cluster. Every option is a concrete edit of the description; each is
//! applied to a copy, the stack regenerated and budgeted again, and only
//! what the recomputed budget shows is reported: what each option saves,
//! which options fit on their own, and — when none does — the smallest
//! combinations that do.
//!
//! The options:
//! - drop one component of the observability stack (services running the
//!   Prometheus, Alertmanager, Grafana, Loki, Jaeger… images);
//! - shrink a volume: a datastore's `storage` or a service volume's `size`
//!   by the storage overshoot, or halve an observability volume (shorter
//!   retention);
//! - fewer replicas: a service's minimum to 1, or (for the maximum scale) a
//!   lower autoscaling `max`;
//! - the environment's `scale`: the largest factor, in steps of 0.05, at
//!   which CPU and memory requests fit.

use std::path::Path;

use serde::Serialize;

use crate::description::resolve::{Resolved, VolKind};
use crate::description::{Bytes, Environment, Name, Platform, Replicas, Service};
use crate::model::resources::{Budget, Capacity, Resource, Scale};

const GI: u64 = 1 << 30;
/// Most combinations verified by regenerating the stack.
const MAX_VERIFIED: usize = 300;
/// Combinations shown.
const MAX_SHOWN: usize = 5;

/// What the suggestions say, for the table and the JSON report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestions {
    /// The scale whose excess the options address (minimum, unless only the
    /// maximum exceeds).
    pub scale: Scale,
    pub options: Vec<Opt>,
    /// Combinations of options (by their `change`) that fit together, the
    /// fewest and least intrusive first; empty when one option fits alone.
    pub combinations: Vec<Vec<String>>,
}

/// One option, with what the recomputed budget says.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Opt {
    /// The edit, for people: "drop `loki` (log aggregation)".
    pub change: String,
    /// Saved at the scale addressed (negative: costs more).
    pub saves_cpu_millis: i64,
    pub saves_memory_bytes: i64,
    pub saves_storage_bytes: i64,
    /// Whether everything fits at that scale with this option alone.
    pub fits: bool,
    #[serde(skip)]
    key: String,
    #[serde(skip)]
    rank: u32,
    #[serde(skip)]
    edit: Edit,
}

#[derive(Debug, Clone)]
enum Edit {
    Drop(String),
    MinReplicas(String, u32, u32),
    MaxReplicas(String, u32, u32),
    Storage(String, Bytes),
    Volume(String, String, Bytes),
    Scale(f64),
}

/// A description edited for one environment, ready to budget.
struct Variant {
    p: Platform,
    env: Option<String>,
}

impl Variant {
    fn new(p: &Platform, env: Option<&str>) -> Variant {
        Variant { p: p.clone(), env: env.map(str::to_string) }
    }

    /// The service as this environment sees it: its override when it has one.
    fn service(&mut self, name: &str) -> Option<&mut Service> {
        match &self.env {
            Some(e) => {
                let env = self.p.environments.get_mut(e.as_str())?;
                if !self.p.services.contains_key(name) {
                    return None;
                }
                Some(env.services.entry(Name::synthetic(name)).or_default())
            }
            None => self.p.services.get_mut(name),
        }
    }

    fn apply(&mut self, e: &Edit) {
        match e {
            Edit::Drop(name) => {
                self.p.services.remove(name.as_str());
                for env in self.p.environments.values_mut() {
                    env.services.remove(name.as_str());
                }
                let all = self
                    .p
                    .services
                    .values_mut()
                    .chain(self.p.environments.values_mut().flat_map(|e| e.services.values_mut()));
                for s in all {
                    if let Some(u) = &mut s.uses {
                        u.retain(|x| x.as_str() != name);
                    }
                }
            }
            Edit::MinReplicas(name, min, max) | Edit::MaxReplicas(name, min, max) => {
                if let Some(s) = self.service(name) {
                    s.replicas = Some(serde_saphyr::Spanned {
                        value: Replicas { min: Some(*min), max: Some(*max) },
                        referenced: serde_saphyr::Location::UNKNOWN,
                        defined: serde_saphyr::Location::UNKNOWN,
                    });
                }
            }
            Edit::Storage(name, size) => {
                let d = match &self.env {
                    Some(e) => self
                        .p
                        .environments
                        .get_mut(e.as_str())
                        .map(|env| env.datastores.entry(Name::synthetic(name.as_str())).or_default()),
                    None => self.p.datastores.get_mut(name.as_str()),
                };
                if let Some(d) = d {
                    d.storage = Some(crate::description::Storage::Size(*size));
                }
            }
            Edit::Volume(svc, volume, size) => {
                // The volumes this environment sees, with one size changed.
                let list = self
                    .p
                    .environments
                    .get(self.env.as_deref().unwrap_or(""))
                    .and_then(|e| e.services.get(svc.as_str()))
                    .and_then(|s| s.volumes.clone())
                    .or_else(|| self.p.services.get(svc.as_str()).and_then(|s| s.volumes.clone()));
                let Some(mut list) = list else { return };
                for v in &mut list {
                    if v.name.as_str() == volume {
                        v.size = Some(*size);
                    }
                }
                if let Some(s) = self.service(svc) {
                    s.volumes = Some(list);
                }
            }
            Edit::Scale(f) => {
                let spanned = serde_saphyr::Spanned {
                    value: crate::description::Factor(*f),
                    referenced: serde_saphyr::Location::UNKNOWN,
                    defined: serde_saphyr::Location::UNKNOWN,
                };
                match &self.env {
                    Some(e) => {
                        if let Some(env) = self.p.environments.get_mut(e.as_str()) {
                            env.scale = Some(spanned);
                        }
                    }
                    None => {
                        // The single `default` overlay, given a scale.
                        let name = crate::build::DEFAULT_ENV;
                        self.p.environments.insert(
                            Name::synthetic(name),
                            Environment { scale: Some(spanned), ..Environment::default() },
                        );
                        self.env = Some(name.to_string());
                    }
                }
            }
        }
    }

    fn budget(&self, file: &Path, capacity: &Capacity) -> Option<Budget> {
        let stack = super::generate(&self.p, self.env.as_deref(), file).ok()?;
        Some(super::of_stack(&stack, capacity.nodes))
    }
}

fn fits_at(b: &Budget, c: &Capacity, scale: Scale) -> bool {
    Resource::ALL.iter().all(|&r| c.get(r).is_none_or(|have| b.total.at(scale).get(r) <= have))
}

/// An edit before it is verified: the change for people, the target (two
/// options on one target do not combine), the rank (least intrusive first),
/// and the edit.
type Candidate = (String, String, u32, Edit);

/// The options for environment `env` of `p`, verified against `capacity`.
pub fn suggest(p: &Platform, env: Option<&str>, file: &Path, capacity: &Capacity, budget: &Budget) -> Suggestions {
    let excesses = budget.excesses(capacity);
    let scale = if excesses.iter().any(|e| e.scale == Scale::Min) { Scale::Min } else { Scale::Max };
    let over: Vec<(Resource, u64)> =
        excesses.iter().filter(|e| e.scale == scale).map(|e| (e.resource, e.over())).collect();
    let over_in = |r: Resource| over.iter().find(|(x, _)| *x == r).map(|(_, n)| *n);
    let Ok(base) = crate::description::resolve::resolve(p, env, file) else {
        return Suggestions { scale, options: Vec::new(), combinations: Vec::new() };
    };

    let mut edits = drop_observability(&base);
    if let Some(need) = over_in(Resource::Storage) {
        edits.extend(smaller_storage(&base, need));
    }
    let compute_over = over_in(Resource::Cpu).is_some() || over_in(Resource::Memory).is_some();
    if compute_over {
        edits.extend(fewer_replicas(p, env, file, capacity, scale, &base));
        edits.extend(lower_scale(p, env, file, capacity, scale));
    }

    let options = verify(p, env, file, capacity, scale, budget, edits);
    let mut combinations = Vec::new();
    if !options.iter().any(|o| o.fits) {
        combinations = combine(p, env, file, capacity, scale, &options, &over);
    }
    Suggestions { scale, options, combinations }
}

/// Dropping each component of the observability stack.
fn drop_observability(base: &Resolved) -> Vec<Candidate> {
    let mut edits = Vec::new();
    for s in &base.services {
        if let Some(role) = s.component.map(|c| c.does()) {
            edits.push((
                format!("drop `{}` ({role})", s.name),
                format!("service {}", s.name),
                0,
                Edit::Drop(s.name.clone()),
            ));
        }
    }
    edits
}

/// Shrinking each datastore's storage and each service volume by `need`
/// bytes (to at least 1Gi), or halving an observability volume.
fn smaller_storage(base: &Resolved, need: u64) -> Vec<Candidate> {
    let mut edits = Vec::new();
    for d in &base.datastores {
        // An ephemeral datastore claims nothing.
        let Some(storage) = d.storage else { continue };
        let size = storage.get();
        if size > need {
            let new = Bytes::new(((size - need) / GI).max(1) * GI);
            if new.get() < size {
                edits.push((
                    format!("datastore `{}`: storage {storage} → {new}", d.name),
                    format!("datastore {}", d.name),
                    1,
                    Edit::Storage(d.name.clone(), new),
                ));
            }
        }
    }
    for s in &base.services {
        for v in &s.volumes {
            let VolKind::Claim { size, .. } = &v.kind else { continue };
            let observability = s.component.is_some();
            let new = if size.get() > need {
                ((size.get() - need) / GI).max(1) * GI
            } else if observability {
                (size.get() / 2 / GI).max(1) * GI
            } else {
                continue;
            };
            if new >= size.get() {
                continue;
            }
            let new = Bytes::new(new);
            let why = if observability { " (shorter retention)" } else { "" };
            edits.push((
                format!("`{}` volume `{}`: size {size} → {new}{why}", s.name, v.name),
                format!("service {}", s.name),
                1,
                Edit::Volume(s.name.clone(), v.name.clone(), new),
            ));
        }
    }
    edits
}

/// Fewer replicas: at the minimum scale, each replicated service down to
/// one; at the maximum, each autoscaled service's largest `max` that fits.
fn fewer_replicas(
    p: &Platform,
    env: Option<&str>,
    file: &Path,
    capacity: &Capacity,
    scale: Scale,
    base: &Resolved,
) -> Vec<Candidate> {
    let mut edits = Vec::new();
    for s in &base.services {
        match scale {
            Scale::Min if s.min_replicas > 1 => {
                let max = s.max_replicas.max(1);
                let change = if s.autoscaled() {
                    format!("`{}`: replicas min {} → 1", s.name, s.min_replicas)
                } else {
                    format!("`{}`: replicas {} → 1", s.name, s.min_replicas)
                };
                let max = if s.autoscaled() { max } else { 1 };
                edits.push((change, format!("service {}", s.name), 2, Edit::MinReplicas(s.name.clone(), 1, max)));
            }
            Scale::Max if s.autoscaled() => {
                // The largest max that fits, if any.
                for max in (s.min_replicas..s.max_replicas).rev() {
                    let e = Edit::MaxReplicas(s.name.clone(), s.min_replicas, max);
                    let mut v = Variant::new(p, env);
                    v.apply(&e);
                    if v.budget(file, capacity).is_some_and(|b| fits_at(&b, capacity, scale)) {
                        edits.push((
                            format!("`{}`: replicas max {} → {max}", s.name, s.max_replicas),
                            format!("service {}", s.name),
                            2,
                            e,
                        ));
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    edits
}

/// The largest scale (below the current one, in steps of 0.05) at which
/// CPU and memory fit.
fn lower_scale(p: &Platform, env: Option<&str>, file: &Path, capacity: &Capacity, scale: Scale) -> Option<Candidate> {
    let current = env.and_then(|e| p.environments.get(e)).and_then(|e| e.scale.as_ref()).map_or(1.0, |s| s.value.0);
    let steps = (current / 0.05).round() as i64;
    for k in (1..steps).rev() {
        let f = k as f64 * 0.05;
        let f = (f * 100.0).round() / 100.0;
        let e = Edit::Scale(f);
        let mut v = Variant::new(p, env);
        v.apply(&e);
        let Some(b) = v.budget(file, capacity) else { continue };
        let ok = [Resource::Cpu, Resource::Memory]
            .iter()
            .all(|&r| capacity.get(r).is_none_or(|have| b.total.at(scale).get(r) <= have));
        if ok {
            let change = match env {
                Some(e) => format!("environment `{e}`: scale {current} → {f}"),
                None => format!("scale {f} (an environment `default` with `scale: {f}`)"),
            };
            return Some((change, "scale".into(), 3, e));
        }
    }
    None
}

/// Applies each candidate on its own and budgets the result: the options
/// that save something, with what they save and whether they fit.
fn verify(
    p: &Platform,
    env: Option<&str>,
    file: &Path,
    capacity: &Capacity,
    scale: Scale,
    budget: &Budget,
    edits: Vec<Candidate>,
) -> Vec<Opt> {
    let now = budget.total.at(scale);
    let mut options = Vec::new();
    for (change, key, rank, edit) in edits {
        let mut v = Variant::new(p, env);
        v.apply(&edit);
        let Some(b) = v.budget(file, capacity) else { continue };
        let after = b.total.at(scale);
        let saves = |r: Resource| now.get(r) as i64 - after.get(r) as i64;
        options.push(Opt {
            change,
            saves_cpu_millis: saves(Resource::Cpu),
            saves_memory_bytes: saves(Resource::Memory),
            saves_storage_bytes: saves(Resource::Storage),
            fits: fits_at(&b, capacity, scale),
            key,
            rank,
            edit,
        });
    }
    options.retain(|o| o.saves_cpu_millis > 0 || o.saves_memory_bytes > 0 || o.saves_storage_bytes > 0);
    options
}

/// The smallest sets of options (2 or 3, on different targets) that fit
/// together, verified; none contains another.
#[allow(clippy::too_many_arguments)]
fn combine(
    p: &Platform,
    env: Option<&str>,
    file: &Path,
    capacity: &Capacity,
    scale: Scale,
    options: &[Opt],
    over: &[(Resource, u64)],
) -> Vec<Vec<String>> {
    let n = options.len();
    let mut sets: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            sets.push(vec![i, j]);
            for k in j + 1..n {
                sets.push(vec![i, j, k]);
            }
        }
    }
    let enough = |set: &[usize]| {
        let mut keys: Vec<&str> = set.iter().map(|&i| options[i].key.as_str()).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len() == set.len()
            && over.iter().all(|&(r, need)| {
                let saved: i64 = set
                    .iter()
                    .map(|&i| match r {
                        Resource::Cpu => options[i].saves_cpu_millis,
                        Resource::Memory => options[i].saves_memory_bytes,
                        Resource::Storage => options[i].saves_storage_bytes,
                    })
                    .sum();
                saved >= need as i64
            })
    };
    sets.retain(|s| enough(s));
    sets.sort_by_key(|s| (s.len(), s.iter().map(|&i| options[i].rank).sum::<u32>(), s.clone()));
    let mut fitting: Vec<Vec<usize>> = Vec::new();
    for set in sets.into_iter().take(MAX_VERIFIED) {
        if fitting.len() >= MAX_SHOWN {
            break;
        }
        if fitting.iter().any(|f| f.iter().all(|i| set.contains(i))) {
            continue;
        }
        let mut v = Variant::new(p, env);
        for &i in &set {
            v.apply(&options[i].edit);
        }
        if v.budget(file, capacity).is_some_and(|b| fits_at(&b, capacity, scale)) {
            fitting.push(set);
        }
    }
    fitting.into_iter().map(|s| s.into_iter().map(|i| options[i].change.clone()).collect()).collect()
}
