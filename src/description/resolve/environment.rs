//! What an environment changes: its scale applies to the base values (and the
//! defaults) before its overrides are merged, so explicit values win over
//! scaling. `None` for an environment is the base.

use std::path::Path;

use super::defaults;
use crate::description::merge::Merge;
use crate::description::{
    Bytes, Cpu, CronJob, Datastore, Environment, Job, Name, Platform, Replicas, Resources, Service,
};
use crate::diag::{Diagnostic, Pos, did_you_mean};

/// The environment `env` of `p` (`None`: the base); an unknown name is an error.
pub(super) fn named<'p>(
    p: &'p Platform,
    env: Option<&str>,
    file: &Path,
) -> Result<Option<&'p Environment>, Vec<Diagnostic>> {
    let Some(e) = env else {
        return Ok(None);
    };
    match p.environments.get(e) {
        Some(x) => Ok(Some(x)),
        None => {
            let d = Diagnostic::error(file, Pos::UNKNOWN, format!("no environment `{e}` in the description"));
            let d = match did_you_mean(e, p.environments.keys().map(|k| k.as_str())) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d,
            };
            Err(vec![d])
        }
    }
}

fn scale(environment: Option<&Environment>) -> f64 {
    environment.and_then(|e| e.scale.as_ref()).map_or(1.0, |s| s.value.0)
}

/// The service `name` as `environment` runs it: the base scaled, the overrides merged.
pub(super) fn service(environment: Option<&Environment>, name: &Name, base: &Service) -> Service {
    let mut svc = base.clone();
    scale_service(&mut svc, scale(environment));
    if let Some(o) = environment.and_then(|e| e.services.get(name.as_str())) {
        svc.merge(o.clone());
    }
    svc
}

/// The datastore `name` as `environment` runs it: the base scaled, the overrides merged.
pub(super) fn datastore(environment: Option<&Environment>, name: &Name, base: &Datastore) -> Datastore {
    let mut ds = base.clone();
    scale_datastore(&mut ds, scale(environment));
    if let Some(o) = environment.and_then(|e| e.datastores.get(name.as_str())) {
        ds.merge(o.clone());
    }
    ds
}

/// The job `name` as `environment` runs it: requests scaled as a service's, the overrides merged.
pub(super) fn job(environment: Option<&Environment>, name: &Name, base: &Job) -> Job {
    let mut job = base.clone();
    if scale(environment) != 1.0 {
        scale_resources(job.resources.get_or_insert_with(Resources::default), scale(environment));
    }
    if let Some(o) = environment.and_then(|e| e.jobs.get(name.as_str())) {
        job.merge(o.clone());
    }
    job
}

/// The cronjob `name` as `environment` runs it: requests scaled as a service's, the overrides merged.
pub(super) fn cronjob(environment: Option<&Environment>, name: &Name, base: &CronJob) -> CronJob {
    let mut cron = base.clone();
    if scale(environment) != 1.0 {
        scale_resources(cron.resources.get_or_insert_with(Resources::default), scale(environment));
    }
    if let Some(o) = environment.and_then(|e| e.cronjobs.get(name.as_str())) {
        cron.merge(o.clone());
    }
    cron
}

/// Scale applies to what the base declares (and to defaults); an
/// environment's explicit values are merged afterwards and are not scaled.
fn scale_service(svc: &mut Service, factor: f64) {
    if factor == 1.0 {
        return;
    }
    let r = svc.replicas.get_or_insert_with(|| serde_saphyr::Spanned {
        value: Replicas::default(),
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    });
    let scale_count = |n: u32| ((n as f64 * factor).ceil() as u32).max(1);
    let min = r.value.min.unwrap_or(defaults::REPLICAS);
    let max = r.value.max.unwrap_or(min);
    r.value.min = Some(scale_count(min));
    r.value.max = Some(scale_count(max));
    scale_resources(svc.resources.get_or_insert_with(Resources::default), factor);
}

/// A datastore's requests and limits; what the engine would get by default
/// is scaled too, as for services.
fn scale_datastore(ds: &mut Datastore, factor: f64) {
    if let Some(engine) = &ds.engine
        && factor != 1.0
    {
        let (cpu, memory) = engine.value.default_requests();
        let r = ds.resources.get_or_insert_with(Resources::default);
        r.cpu.get_or_insert(cpu);
        r.memory.get_or_insert(memory);
        scale_resources(r, factor);
    }
}

fn scale_resources(r: &mut Resources, factor: f64) {
    if factor == 1.0 {
        return;
    }
    r.cpu = Some(r.cpu.unwrap_or(Cpu::from_millis(defaults::CPU_MILLIS)).scale(factor));
    r.memory = Some(r.memory.unwrap_or(Bytes(defaults::MEMORY)).scale(factor));
    if let Some(l) = &mut r.limits {
        l.cpu = l.cpu.map(|c| c.scale(factor));
        l.memory = l.memory.map(|m| m.scale(factor));
    }
}
