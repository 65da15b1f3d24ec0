//! The description for one environment, with every default filled in.
//!
//! `resolve(platform, env)` applies the environment's scale to the base
//! values, merges the environment's overrides on top (explicit values win over
//! scaling), checks each value, and returns plain structs the generators use.

mod backup;
mod checks;
mod datastore;
pub mod defaults;
mod environment;
mod names;
mod resolved;
mod resources;
mod service;

pub use resolved::{
    BackupTarget, CanaryR, Exposure, Ext, Handler, LimitsR, MetricsR, PdbR, Port, ProbeR, Requests, Resolved, Scaling,
    Store, StoreBackup, Svc, Vol, VolKind,
};

use std::path::Path;

use backup::backup_target;
use checks::check_wiring;
use environment::{scale_resources, scale_service};

use super::merge::Merge;
use super::value::pos_of;
use super::*;
use crate::diag::{Diagnostic, Pos, did_you_mean};

/// Resolves `p` for environment `env` (`None`: the base). Errors name the line
/// that set the offending value.
pub fn resolve(p: &Platform, env: Option<&str>, file: &Path) -> Result<Resolved, Vec<Diagnostic>> {
    let mut errors = Vec::new();
    let environment = match env {
        None => None,
        Some(e) => match p.environments.get(e) {
            Some(x) => Some(x),
            None => {
                let d = Diagnostic::error(file, Pos::UNKNOWN, format!("no environment `{e}` in the description"));
                let d = match did_you_mean(e, p.environments.keys().map(|k| k.as_str())) {
                    Some(s) => d.with_help(format!("did you mean `{s}`?")),
                    None => d,
                };
                return Err(vec![d]);
            }
        },
    };
    let scale = environment.and_then(|e| e.scale.as_ref()).map_or(1.0, |s| s.value);
    let env_log = environment.and_then(|e| e.log_level);
    let default_ns = p.namespace.as_ref().map_or(p.name.to_string(), |n| n.to_string());

    let mut services = Vec::new();
    for (name, base) in &p.services {
        let mut svc = base.clone();
        scale_service(&mut svc, scale);
        if let Some(o) = environment.and_then(|e| e.services.get(name.as_str())) {
            svc.merge(o.clone());
        }
        let mut cx = Cx { file, errors: &mut errors, name };
        if let Some(s) = cx.service(&svc, &default_ns, env_log) {
            services.push(s);
        }
    }
    let mut datastores = Vec::new();
    for (name, base) in &p.datastores {
        let mut ds = base.clone();
        if let Some(engine) = &ds.engine
            && scale != 1.0
        {
            // Scale what the engine would get by default too, as for services.
            let (cpu, memory) = engine.value.default_requests();
            let r = ds.resources.get_or_insert_with(Resources::default);
            r.cpu.get_or_insert(cpu);
            r.memory.get_or_insert(memory);
            scale_resources(r, scale);
        }
        if let Some(o) = environment.and_then(|e| e.datastores.get(name.as_str())) {
            ds.merge(o.clone());
        }
        let mut cx = Cx { file, errors: &mut errors, name };
        if let Some(s) = cx.datastore(&ds, &default_ns, p.backup.is_some()) {
            datastores.push(s);
        }
    }
    let external = p
        .external
        .iter()
        .map(|(name, e)| Ext {
            name: name.to_string(),
            host: e.host.value.clone(),
            port: e.port.unwrap_or(443),
            protocol: e.protocol.unwrap_or(ExternalProtocol::Https),
        })
        .collect();

    let backup = p.backup.as_ref().and_then(|b| backup_target(b, file, &mut errors));
    let alerting =
        match super::alerts::platform(p.alerts.as_ref(), &p.receivers, p.name.as_str(), p.domain.as_deref(), file) {
            Ok(a) => Some(a),
            Err(e) => {
                errors.extend(e);
                None
            }
        };
    let Some(alerting) = alerting.filter(|_| errors.is_empty()) else {
        return Err(errors);
    };
    let mesh = environment.and_then(|e| e.mesh).or(p.cluster.mesh).unwrap_or(Mesh::None);
    let tls = p.cluster.tls.clone().unwrap_or_default();
    let tls_min = tls.min_version.unwrap_or(TlsVersion::V1_2);
    if let Some(max) = tls.max_version
        && max < tls_min
    {
        return Err(vec![Diagnostic::error(
            file,
            pos_of(&p.cluster.kubernetes.referenced),
            format!("cluster.tls: maxVersion {} is below minVersion {}", max.as_str(), tls_min.as_str()),
        )]);
    }
    let monitoring_namespace =
        p.cluster.monitoring_namespace.clone().unwrap_or_else(|| defaults::MONITORING_NAMESPACE.into());
    let resolved = Resolved {
        namespace: default_ns.clone(),
        prometheus_operator: p.cluster.prometheus_operator.unwrap_or(true),
        alerting,
        telemetry: super::telemetry::resolve(p.tracing.as_ref(), p.logs.as_ref(), &monitoring_namespace),
        platform: p.name.to_string(),
        env: env.map(str::to_string),
        kube: p.cluster.kubernetes.value,
        mesh,
        ingress_class: p.cluster.ingress_class.clone().unwrap_or_else(|| defaults::INGRESS_CLASS.into()),
        ingress_namespace: p.cluster.ingress_namespace.clone().unwrap_or_else(|| {
            if mesh == Mesh::Istio { defaults::ISTIO_NAMESPACE.into() } else { defaults::INGRESS_NAMESPACE.into() }
        }),
        tls_min,
        tls_max: tls.max_version,
        monitoring_namespace,
        issuer: p.cluster.issuer.clone().unwrap_or_else(|| defaults::ISSUER.into()),
        storage_class: p.cluster.storage_class.clone(),
        services,
        datastores,
        external,
        backup,
    };
    check_wiring(p, &resolved, file)?;
    Ok(resolved)
}

/// Resolution context for one service or datastore: collects errors.
struct Cx<'a> {
    file: &'a Path,
    errors: &'a mut Vec<Diagnostic>,
    name: &'a Name,
}

impl Cx<'_> {
    fn err(&mut self, pos: Pos, msg: impl Into<String>, help: Option<String>) {
        let pos = if pos.is_known() { pos } else { self.name.pos() };
        let mut d = Diagnostic::error(self.file, pos, msg);
        d.help = help;
        self.errors.push(d);
    }
}
