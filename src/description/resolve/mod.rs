//! The description for one environment, with every default filled in.
//!
//! `resolve(platform, env)` applies the environment's scale to the base
//! values, merges the environment's overrides on top (explicit values win over
//! scaling), checks each value, and returns plain structs the generators use.
//!
//! Where each part is resolved:
//! - `environment`: choosing the environment, scaling, merging its overrides;
//! - `service/`: a service, one file per part (ports, probes, volumes, traffic, …);
//! - `datastore`: a datastore and its backup schedule;
//! - `resources`: requests and limits, of services and datastores;
//! - `backup`: the bucket, S3 endpoint and Velero schedules of `backup`;
//! - `checks`: the checks that need the whole resolved platform;
//! - `names`: the forms of written values (image references, variable and host names);
//! - `resolved`, `defaults`: what resolving yields, and the defaults it fills in.

mod backup;
mod checks;
mod datastore;
pub mod defaults;
mod environment;
pub mod jobs;
mod names;
pub mod patches;
mod placement;
mod resolved;
mod resources;
mod service;
mod storage;

pub use resolved::{
    BackupTarget, CanaryR, CronR, Exposure, Ext, ExtraR, Handler, JobR, LimitsR, MetricsR, NamespaceMeta, PdbR,
    Placement, Port, ProbeR, Requests, Resolved, Scaling, Served, Store, StoreBackup, Svc, Vol, VolKind, VpaR,
};

use std::path::Path;

use backup::backup_target;
use checks::check_wiring;

use super::value::pos_of;
use super::{Cluster, Environment, ExternalProtocol, Mesh, Name, Platform, TlsVersion};
use crate::diag::{Diagnostic, Pos};

/// Resolves `p` for environment `env` (`None`: the base). Errors name the line
/// that set the offending value.
pub fn resolve(p: &Platform, env: Option<&str>, file: &Path) -> Result<Resolved, Vec<Diagnostic>> {
    let environment = environment::named(p, env, file)?;
    let default_ns = p.namespace.as_ref().map_or(p.name.to_string(), |n| n.to_string());
    let mut errors = Vec::new();
    let services = services(p, environment, &default_ns, file, &mut errors);
    let datastores = datastores(p, environment, &default_ns, file, &mut errors);
    let (jobs, cronjobs) = batch(p, environment, &default_ns, file, &mut errors);
    let backup = p.backup.as_ref().and_then(|b| backup_target(b, file, &mut errors));
    storage::cluster_class(&p.cluster, file, &mut errors);
    external_hosts(p, file, &mut errors);
    let used: std::collections::BTreeSet<&str> = services
        .iter()
        .map(|s| s.namespace.as_str())
        .chain(datastores.iter().map(|d| d.namespace.as_str()))
        .chain(jobs.iter().map(|j| j.namespace.as_str()))
        .chain(cronjobs.iter().map(|c| c.job.namespace.as_str()))
        .collect();
    let namespace_meta = placement::namespaces(p, &used, file, &mut errors);
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
    let (tls_min, tls_max) = tls_versions(p, file)?;
    // Where Prometheus runs: as declared, else where the platform runs its own.
    let monitoring_namespace = p.cluster.monitoring_namespace.clone().unwrap_or_else(|| {
        services
            .iter()
            .find(|s| s.component.is_some_and(|c| c.name() == "prometheus"))
            .map_or_else(|| defaults::MONITORING_NAMESPACE.into(), |s| s.namespace.clone())
    });
    let resolved = Resolved {
        namespace: default_ns,
        capacity: p.cluster.capacity.as_ref().map(super::Capacity::figures).unwrap_or_default(),
        // A platform with its own Prometheus loads the plain files; operator
        // objects would be loaded by nothing there.
        prometheus_operator: p
            .cluster
            .prometheus_operator
            .unwrap_or_else(|| !services.iter().any(|s| s.component.is_some_and(|c| c.name() == "prometheus"))),
        monitoring_selector: p
            .cluster
            .monitoring_selector
            .iter()
            .flatten()
            .map(|(k, v)| (k.to_string(), v.value.clone()))
            .collect(),
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
        gateway: p.cluster.gateway.as_ref().map(|g| (g.namespace.to_string(), g.name.to_string())),
        tls_min,
        tls_max,
        monitoring_namespace,
        issuer: p.cluster.issuer.clone().unwrap_or_else(|| defaults::ISSUER.into()),
        storage_class: p.cluster.storage_class.as_ref().map(|c| c.value.clone()),
        services,
        datastores,
        namespace_meta,
        external: externals(p),
        jobs,
        cronjobs,
        backup,
        secrets: super::delivery::secrets_mode(p.cluster.secrets.as_ref()),
        delivery: super::delivery::delivery(p.cluster.delivery.as_ref()),
    };
    check_wiring(p, &resolved, file)?;
    Ok(resolved)
}

/// Each service of `p` as `environment` runs it; those with errors are left out.
fn services(
    p: &Platform,
    environment: Option<&Environment>,
    default_ns: &str,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Svc> {
    let env_log = environment.and_then(|e| e.log_level);
    let mut services = Vec::new();
    for (name, base) in &p.services {
        let svc = environment::service(environment, name, base);
        let mut cx = Cx { file, errors, name, cluster: &p.cluster };
        if let Some(s) = cx.service(&svc, default_ns, env_log) {
            services.push(s);
        }
    }
    services
}

/// Each datastore of `p` as `environment` runs it; those with errors are left out.
fn datastores(
    p: &Platform,
    environment: Option<&Environment>,
    default_ns: &str,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Store> {
    let mut datastores = Vec::new();
    for (name, base) in &p.datastores {
        let ds = environment::datastore(environment, name, base);
        let mut cx = Cx { file, errors, name, cluster: &p.cluster };
        if let Some(s) = cx.datastore(&ds, default_ns, p.backup.is_some()) {
            datastores.push(s);
        }
    }
    datastores
}

/// Each job and cronjob of `p` as `environment` runs it; those with errors are left out.
fn batch(
    p: &Platform,
    environment: Option<&Environment>,
    default_ns: &str,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> (Vec<JobR>, Vec<CronR>) {
    let mut jobs = Vec::new();
    for (name, base) in &p.jobs {
        let job = environment::job(environment, name, base);
        let mut cx = Cx { file, errors, name, cluster: &p.cluster };
        jobs.extend(cx.job(&job, default_ns));
    }
    let mut cronjobs = Vec::new();
    for (name, base) in &p.cronjobs {
        let cron = environment::cronjob(environment, name, base);
        let mut cx = Cx { file, errors, name, cluster: &p.cluster };
        cronjobs.extend(cx.cronjob(&cron, default_ns));
    }
    (jobs, cronjobs)
}

/// Each external host is a bare DNS name: its ServiceEntry resolves it by DNS.
fn external_hosts(p: &Platform, file: &Path, errors: &mut Vec<Diagnostic>) {
    for (name, e) in &p.external {
        if let Err((m, help)) = names::check_host(&e.host.value) {
            let mut d = Diagnostic::error(file, pos_of(&e.host.referenced), format!("external `{name}`: {m}"));
            d.help = Some(help);
            errors.push(d);
        }
    }
}

/// External hosts: HTTPS on 443 unless written.
fn externals(p: &Platform) -> Vec<Ext> {
    p.external
        .iter()
        .map(|(name, e)| Ext {
            name: name.to_string(),
            host: e.host.value.clone(),
            port: e.port.unwrap_or(443),
            protocol: e.protocol.unwrap_or(ExternalProtocol::Https),
        })
        .collect()
}

/// The TLS versions the ingress gateway accepts: from 1.2 unless written.
fn tls_versions(p: &Platform, file: &Path) -> Result<(TlsVersion, Option<TlsVersion>), Vec<Diagnostic>> {
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
    Ok((tls_min, tls.max_version))
}

/// Resolution context for one service or datastore: collects errors.
struct Cx<'a> {
    file: &'a Path,
    errors: &'a mut Vec<Diagnostic>,
    name: &'a Name,
    /// For the storage classes claims may use.
    cluster: &'a Cluster,
}

impl Cx<'_> {
    /// An error at `pos`, or at the service's or datastore's name when the
    /// value has no position of its own (a default, a merged override).
    fn err(&mut self, pos: Pos, msg: impl Into<String>, help: Option<String>) {
        let pos = if pos.is_known() { pos } else { self.name.pos() };
        let mut d = Diagnostic::error(self.file, pos, msg);
        d.help = help;
        self.errors.push(d);
    }

    /// The image of a service, job or cronjob (`what` says which, for the
    /// message): required, and pinned.
    fn image(&mut self, image: Option<&serde_saphyr::Spanned<String>>, what: &str) -> String {
        let Some(i) = image else {
            self.err(Pos::UNKNOWN, format!("{what}`{}` has no `image`", self.name), None);
            return String::new();
        };
        if let Err(m) = names::check_image(&i.value) {
            let help = "pin a version tag or a digest, e.g. `ghcr.io/org/app:1.4.2`";
            self.err(pos_of(&i.referenced), m, Some(help.into()));
        }
        i.value.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn monitoring_namespace(extra: &str) -> String {
        let text = format!(
            "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster: {{ kubernetes: \"1.30\"{extra} }}\nservices:\n  \
             web: {{ image: ghcr.io/example/web:1.0.0, port: 8080 }}\n  \
             prom: {{ image: docker.io/prom/prometheus:v2.55.1, port: 9090, namespace: observability }}\n"
        );
        let p = crate::description::parse(&text, Path::new("platform.yaml")).expect("a valid description");
        super::resolve(&p, None, Path::new("platform.yaml")).expect("resolves").monitoring_namespace
    }

    #[test]
    fn monitoring_namespace_is_declared_or_where_the_platform_runs_prometheus() {
        assert_eq!(monitoring_namespace(""), "observability");
        assert_eq!(monitoring_namespace(", monitoringNamespace: mon"), "mon");
    }
}
