//! The description for one environment, with every default filled in.
//!
//! `resolve(platform, env)` applies the environment's scale to the base
//! values, merges the environment's overrides on top (explicit values win over
//! scaling), checks each value, and returns plain structs the generators use.

pub mod defaults;
mod resolved;

pub use resolved::{
    BackupTarget, CanaryR, Exposure, Ext, Handler, LimitsR, MetricsR, PdbR, Port, ProbeR, Requests, Resolved, Scaling,
    Store, StoreBackup, Svc, Vol, VolKind,
};

use std::collections::BTreeMap;
use std::path::Path;

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

/// `uses` sets variables such as `DB_HOST` and `DB_PASSWORD`; a secret or
/// env value of the same name would silently shadow or duplicate one.
fn check_wiring(p: &Platform, r: &Resolved, file: &Path) -> Result<(), Vec<Diagnostic>> {
    let mut errors = Vec::new();
    for svc in &r.services {
        let pos = p.services.keys().find(|k| k.as_str() == svc.name).map_or(Pos::UNKNOWN, |k| k.pos());
        let wired = super::wiring::wiring(r, svc);
        let reserved = std::iter::once("LOG_LEVEL").chain(wired.names());
        for name in reserved {
            let clash = if svc.secrets.iter().any(|s| s == name) {
                "secret"
            } else if svc.env.contains_key(name) {
                "env value"
            } else {
                continue;
            };
            let why = if name == "LOG_LEVEL" { "`logLevel`".to_string() } else { "its `uses`".to_string() };
            errors.push(
                Diagnostic::error(
                    file,
                    pos,
                    format!("`{}` declares the {clash} `{name}`, which {why} already sets", svc.name),
                )
                .with_help(format!("remove `{name}` from the {clash}s; kubeproof sets it")),
            );
        }
        // A credential among the plain values would land in a ConfigMap, in
        // git, in clear: the same rule `kubeproof check` applies (KP121).
        for (name, value) in &svc.env {
            if !value.is_empty() && crate::model::env::credential_name(name) {
                errors.push(
                    Diagnostic::error(file, pos, format!("`{}` sets `{name}` as a plain env value", svc.name))
                        .with_help(format!(
                            "`{name}` looks like a credential: list it under `secrets:` and put its value in the \
                             environment's secrets file instead"
                        )),
                );
            }
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
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

    fn service(&mut self, s: &Service, default_ns: &str, env_log: Option<LogLevel>) -> Option<Svc> {
        let name = self.name.to_string();
        let before = self.errors.len();
        let image = match &s.image {
            Some(i) => {
                if let Err(m) = check_image(&i.value) {
                    let help = "pin a version tag or a digest, e.g. `ghcr.io/org/app:1.4.2`";
                    self.err(pos_of(&i.referenced), m, Some(help.into()));
                }
                i.value.clone()
            }
            None => {
                self.err(Pos::UNKNOWN, format!("service `{name}` has no `image`"), None);
                String::new()
            }
        };
        let mut ports = self.ports(s);
        if let Some(n) = s.metrics.as_ref().and_then(|m| m.port)
            && !ports.iter().any(|p| p.port == n)
        {
            ports.push(Port { name: "metrics".into(), port: n, service_port: n, protocol: Protocol::Http });
        }
        let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();

        let (min, max, rpos) = match &s.replicas {
            Some(r) => {
                let min = r.value.min.unwrap_or(defaults::REPLICAS);
                (min, r.value.max.unwrap_or(min), pos_of(&r.referenced))
            }
            None => (defaults::REPLICAS, defaults::REPLICAS, Pos::UNKNOWN),
        };
        if min == 0 {
            self.err(rpos, "replicas must be at least 1", None);
        }
        if min > max {
            self.err(
                rpos,
                format!("replicas min {min} is greater than max {max}"),
                Some("make `min` at most `max`".into()),
            );
        }

        let res = s.resources.clone().unwrap_or_default();
        let requests = Requests {
            cpu: res.cpu.unwrap_or(Cpu::from_millis(defaults::CPU_MILLIS)),
            memory: res.memory.unwrap_or(Bytes(defaults::MEMORY)),
        };
        let lim = res.limits.unwrap_or_default();
        let limits = LimitsR { cpu: lim.cpu, memory: lim.memory.unwrap_or(requests.memory) };
        self.check_limits(&requests, &limits);

        let first = ports.first().cloned();
        let find_port = |r: &Option<PortRef>| -> Result<Option<Port>, String> {
            match r {
                None => Ok(first.clone()),
                Some(PortRef::Name(n)) => ports
                    .iter()
                    .find(|p| &p.name == n)
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| format!("no port named `{n}` (ports: {})", names.join(", "))),
                Some(PortRef::Number(n)) => ports
                    .iter()
                    .find(|p| p.port == *n || p.service_port == *n)
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| format!("no port {n} on the service")),
            }
        };

        let expose = match &s.expose {
            None => None,
            Some(e) => {
                let port = match find_port(&e.port) {
                    Ok(p) => p,
                    Err(m) => {
                        self.err(Pos::UNKNOWN, format!("expose: {m}"), None);
                        None
                    }
                };
                let host = match &e.host {
                    Some(h) if is_hostname(&h.value) => h.value.clone(),
                    Some(h) => {
                        self.err(pos_of(&h.referenced), format!("invalid host name `{}`", h.value), None);
                        String::new()
                    }
                    None => {
                        self.err(Pos::UNKNOWN, format!("`expose` of `{name}` has no `host`"), None);
                        String::new()
                    }
                };
                let path = e.path.clone().unwrap_or_else(|| "/".into());
                if !path.starts_with('/') {
                    self.err(Pos::UNKNOWN, format!("expose path must start with '/': {path:?}"), None);
                }
                port.map(|p| Exposure {
                    host,
                    path,
                    timeout_seconds: e.timeout.map(|t| t.get()).unwrap_or(if p.protocol == Protocol::Websocket {
                        defaults::WS_TIMEOUT
                    } else {
                        defaults::HTTP_TIMEOUT
                    }),
                    port_name: p.name,
                    rate_limit: e.rate_limit,
                })
            }
        };

        let probes = s.probes.clone().unwrap_or_default();
        let websocket = ports.iter().any(|p| p.protocol == Protocol::Websocket);
        let mut probe = |p: &Option<Probe>, period: u32, failure: u32, fallback: Option<&ProbeR>| -> Option<ProbeR> {
            let spec = match (p, fallback) {
                (None, Some(f)) => {
                    return Some(ProbeR { initial_delay: 0, period: 5, failure_threshold: 30, ..f.clone() });
                }
                (None, None) => Probe::default(),
                (Some(p), _) => p.clone(),
            };
            let port = match find_port(&spec.port) {
                Ok(p) => p?,
                Err(m) => {
                    self.err(Pos::UNKNOWN, format!("probe: {m}"), None);
                    return None;
                }
            };
            let handler = if let Some(cmd) = spec.exec {
                Handler::Exec(cmd)
            } else if let Some(path) = spec.path {
                Handler::Http { path, port: port.name.clone() }
            } else if port.protocol == Protocol::Grpc {
                Handler::Grpc { port: port.port }
            } else {
                Handler::Tcp { port: port.name.clone() }
            };
            Some(ProbeR {
                handler,
                initial_delay: spec.initial_delay.map_or(0, |d| d.get()),
                period: spec.period.map_or(period, |d| d.get()),
                timeout: spec.timeout.map_or(3, |d| d.get()),
                failure_threshold: spec.failure_threshold.unwrap_or(failure),
            })
        };
        let live = probe(&probes.live, 10, 3, None);
        let ready = probe(&probes.ready, 5, 3, None);
        let startup = probe(&probes.startup, 5, 30, live.as_ref());
        for (which, p) in [("live", &live), ("ready", &ready), ("startup", &startup)] {
            if let Some(p) = p
                && (p.period == 0 || p.timeout == 0 || p.failure_threshold == 0)
            {
                self.err(
                    Pos::UNKNOWN,
                    format!("probe `{which}` of `{name}`: period, timeout and failureThreshold must be above 0"),
                    None,
                );
            }
        }

        let metrics = s.metrics.as_ref().map(|m| MetricsR {
            path: m.path.clone().unwrap_or_else(|| "/metrics".into()),
            port_name: match m.port {
                Some(n) => ports.iter().find(|p| p.port == n).map_or_else(|| "metrics".into(), |p| p.name.clone()),
                None => first.as_ref().map_or_else(|| "metrics".into(), |p| p.name.clone()),
            },
            interval: m.interval.map_or(defaults::METRICS_INTERVAL, |i| i.get()),
            requests: m.requests.clone().unwrap_or_else(|| defaults::REQUESTS_METRIC.into()),
            status_label: m.status_label.clone().unwrap_or_else(|| defaults::STATUS_LABEL.into()),
            duration: m.duration.clone().unwrap_or_else(|| defaults::DURATION_METRIC.into()),
            histograms: m.histograms.clone().unwrap_or_default(),
            endpoint_label: m.endpoint_label.clone().unwrap_or_else(|| "handler".into()),
            gauges: m.gauges.clone().unwrap_or_default(),
        });
        if let Some(m) = &metrics {
            let names = [&m.requests, &m.duration].into_iter().chain(&m.histograms).chain(&m.gauges);
            for metric in names.filter(|n| !super::alerts::is_metric_name(n)) {
                self.err(Pos::UNKNOWN, format!("`{name}`: `{metric}` is not a Prometheus metric name"), None);
            }
            if !super::alerts::is_metric_name(&m.endpoint_label) || m.endpoint_label.contains(':') {
                self.err(
                    Pos::UNKNOWN,
                    format!("`{name}`: `{}` is not a Prometheus label name", m.endpoint_label),
                    None,
                );
            }
            if !super::alerts::is_metric_name(&m.status_label) || m.status_label.contains(':') {
                self.err(Pos::UNKNOWN, format!("`{name}`: `{}` is not a Prometheus label name", m.status_label), None);
            }
        }
        let alerts =
            super::alerts::service(s.alerts.as_ref(), s.slo.as_ref(), self.name.pos(), &name, self.file, self.errors);

        let env: BTreeMap<String, String> =
            s.env.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
        for k in env.keys() {
            if !is_env_name(k) {
                self.err(
                    Pos::UNKNOWN,
                    format!("invalid environment variable name `{k}` in `{name}`"),
                    Some("use letters, digits and '_', not starting with a digit".into()),
                );
            }
        }
        let mut secrets = Vec::new();
        for sec in s.secrets.iter().flatten() {
            let pos = pos_of(&sec.referenced);
            if !is_env_name(&sec.value) {
                self.err(
                    pos,
                    format!("invalid secret name `{}`", sec.value),
                    Some("secrets become environment variables: use letters, digits and '_'".into()),
                );
            } else if secrets.contains(&sec.value) {
                self.err(pos, format!("duplicate secret `{}`", sec.value), None);
            } else if env.contains_key(&sec.value) {
                self.err(
                    pos,
                    format!("`{}` is both a secret and a plain env value", sec.value),
                    Some("keep it in `secrets` only".into()),
                );
            } else {
                secrets.push(sec.value.clone());
            }
        }

        let volumes = self.volumes(s, max);

        let pdb = match &s.pdb {
            None => PdbR::MaxUnavailable(1),
            Some(p) => {
                let pos = pos_of(&p.referenced);
                match (p.value.min_available, p.value.max_unavailable) {
                    (Some(m), None) => {
                        if m >= min {
                            self.err(
                                pos,
                                format!("pdb minAvailable {m} with {min} replica(s) blocks every node drain"),
                                Some(format!("use minAvailable {} or less, or more replicas", min.saturating_sub(1))),
                            );
                        }
                        PdbR::MinAvailable(m)
                    }
                    (None, Some(m)) => {
                        if m == 0 {
                            self.err(
                                pos,
                                "pdb maxUnavailable 0 blocks every node drain",
                                Some("use maxUnavailable 1".into()),
                            );
                        }
                        PdbR::MaxUnavailable(m)
                    }
                    _ => {
                        self.err(pos, "pdb needs exactly one of `minAvailable` and `maxUnavailable`", None);
                        PdbR::MaxUnavailable(1)
                    }
                }
            }
        };

        let shutdown = s.shutdown.clone().unwrap_or_default();
        let (dd, dg) =
            if websocket { (defaults::WS_DRAIN, defaults::WS_GRACE) } else { (defaults::DRAIN, defaults::GRACE) };
        let drain = shutdown.drain.map_or(dd, |d| d.get());
        let grace = shutdown.grace.map_or(dg.max(drain + 10), |d| d.get());
        if grace <= drain {
            self.err(
                Pos::UNKNOWN,
                format!("shutdown grace {grace}s must be longer than drain {drain}s"),
                Some("the app needs time to stop after draining".into()),
            );
        }

        let a = s.autoscale.clone().unwrap_or_default();
        let mut autoscale = Scaling {
            cpu: a.cpu,
            memory: a.memory,
            metrics: a.metrics.unwrap_or_default().into_iter().map(|m| (m.name, m.average_value.0)).collect(),
        };
        if autoscale.cpu.is_none() && autoscale.memory.is_none() && autoscale.metrics.is_empty() {
            autoscale.cpu = Some(defaults::HPA_CPU);
        }
        if autoscale.cpu == Some(0) || autoscale.memory == Some(0) {
            self.err(Pos::UNKNOWN, format!("autoscale targets of `{name}` must be above 0%"), None);
        }

        let traffic = s.traffic.clone().unwrap_or_default();
        let canary = self.traffic(&traffic);

        if self.errors.len() > before {
            return None;
        }
        Some(Svc {
            traffic,
            canary,
            namespace: s.namespace.as_ref().map_or(default_ns.to_string(), |n| n.to_string()),
            name,
            image,
            ports,
            expose,
            min_replicas: min,
            max_replicas: max,
            autoscale,
            requests,
            limits,
            live: live?,
            ready: ready?,
            startup: startup?,
            metrics,
            uses: s.uses.iter().flatten().map(|u| u.to_string()).collect(),
            env,
            secrets,
            volumes,
            command: s.command.clone(),
            args: s.args.clone(),
            log_level: s.log_level.or(env_log).unwrap_or(LogLevel::Info),
            run_as_user: s.run_as_user.unwrap_or(defaults::RUN_AS_USER),
            pdb,
            drain_seconds: drain,
            grace_seconds: grace,
            read_own_config: s.rbac.as_ref().and_then(|r| r.read_own_config).unwrap_or(false),
            alerts,
        })
    }

    /// Checks the mesh traffic settings; returns the canary release, if any.
    fn traffic(&mut self, t: &Traffic) -> Option<CanaryR> {
        let name = self.name.to_string();
        if let Some(f) = &t.fault {
            let percents = [f.delay.as_ref().and_then(|d| d.percent), f.abort.as_ref().and_then(|a| a.percent)];
            if percents.into_iter().flatten().any(|p| !(0.0..=100.0).contains(&p)) {
                self.err(Pos::UNKNOWN, format!("traffic.fault of `{name}`: percent must be between 0 and 100"), None);
            }
            if let Some(d) = &f.delay
                && d.fixed_delay.is_none()
            {
                self.err(Pos::UNKNOWN, format!("traffic.fault.delay of `{name}` has no `fixedDelay`"), None);
            }
            if let Some(a) = &f.abort
                && !a.http_status.is_some_and(|s| (200..=599).contains(&s))
            {
                self.err(
                    Pos::UNKNOWN,
                    format!("traffic.fault.abort of `{name}` needs an `httpStatus` between 200 and 599"),
                    Some("e.g. `abort: { percent: 5, httpStatus: 503 }`".into()),
                );
            }
        }
        if let Some(j) = &t.jwt
            && j.issuer.as_deref().is_none_or(str::is_empty)
        {
            self.err(Pos::UNKNOWN, format!("traffic.jwt of `{name}` has no `issuer`"), None);
        }
        if let Some(o) = &t.outlier_detection
            && o.max_ejection_percent.is_some_and(|p| p > 100)
        {
            self.err(
                Pos::UNKNOWN,
                format!("traffic.outlierDetection of `{name}`: maxEjectionPercent is above 100"),
                None,
            );
        }
        let c = t.canary.as_ref()?;
        let image = match &c.image {
            Some(i) => {
                if let Err(m) = check_image(&i.value) {
                    self.err(pos_of(&i.referenced), m, Some("pin the canary's version tag or digest".into()));
                }
                i.value.clone()
            }
            None => {
                self.err(
                    Pos::UNKNOWN,
                    format!("traffic.canary of `{name}` has no `image`"),
                    Some("the canary Deployment runs the new version: `image: registry/app:NEW`".into()),
                );
                return None;
            }
        };
        let (steps, pos) = match &c.steps {
            Some(s) => (s.value.clone(), pos_of(&s.referenced)),
            None => (vec![10, 25, 50, 100], Pos::UNKNOWN),
        };
        if steps.is_empty() || steps.iter().any(|&s| s == 0 || s > 100) || steps.windows(2).any(|w| w[0] >= w[1]) {
            self.err(
                pos,
                format!("traffic.canary.steps of `{name}` must be increasing percentages from 1 to 100"),
                Some("e.g. `steps: [10, 25, 50, 100]`".into()),
            );
            return None;
        }
        let step = c.step.unwrap_or(1);
        let Some(&weight) = steps.get((step as usize).wrapping_sub(1)) else {
            self.err(
                pos,
                format!("traffic.canary.step {step} of `{name}`: there are {} steps", steps.len()),
                Some(format!("use a step from 1 to {}", steps.len())),
            );
            return None;
        };
        let replicas = c.replicas.unwrap_or(1);
        if replicas == 0 {
            self.err(Pos::UNKNOWN, format!("traffic.canary.replicas of `{name}` must be at least 1"), None);
        }
        Some(CanaryR { image, weight, replicas })
    }

    fn ports(&mut self, s: &Service) -> Vec<Port> {
        let name = self.name.to_string();
        struct Raw {
            name: Option<String>,
            port: u16,
            pos: Pos,
            service_port: Option<u16>,
            protocol: Option<Protocol>,
        }
        let specs: Vec<Raw> = match (&s.port, &s.ports) {
            (Some(p), None) => vec![Raw {
                name: None,
                port: p.value,
                pos: pos_of(&p.referenced),
                service_port: s.service_port,
                protocol: s.protocol,
            }],
            (None, Some(list)) => {
                if s.service_port.is_some() || s.protocol.is_some() {
                    self.err(
                        Pos::UNKNOWN,
                        format!("`{name}`: `servicePort` and `protocol` go inside each entry of `ports`"),
                        None,
                    );
                }
                list.iter()
                    .map(|p| Raw {
                        name: p.name.clone(),
                        port: p.port.value,
                        pos: pos_of(&p.port.referenced),
                        service_port: p.service_port,
                        protocol: p.protocol,
                    })
                    .collect()
            }
            (Some(p), Some(_)) => {
                self.err(
                    pos_of(&p.referenced),
                    format!("`{name}` sets both `port` and `ports`"),
                    Some("use `port` for one port, `ports` for several".into()),
                );
                return Vec::new();
            }
            (None, None) => {
                self.err(
                    Pos::UNKNOWN,
                    format!("service `{name}` has no `port`"),
                    Some("add `port: 8080` (and `protocol` if it is not http)".into()),
                );
                return Vec::new();
            }
        };
        let mut out: Vec<Port> = Vec::new();
        for Raw { name: pname, port, pos, service_port: sp, protocol } in specs {
            let protocol = protocol.unwrap_or(Protocol::Http);
            let pname = pname.unwrap_or_else(|| {
                let base = match protocol {
                    Protocol::Http | Protocol::Websocket => "http",
                    Protocol::Grpc => "grpc",
                    Protocol::Tcp => "tcp",
                };
                if out.iter().any(|p| p.name == base) { format!("{base}-{port}") } else { base.to_string() }
            });
            if port == 0 {
                self.err(pos, "port 0 is not a valid port", None);
            }
            if pname.len() > 15 || !is_label(&pname) || !pname.chars().any(|c| c.is_ascii_lowercase()) {
                self.err(
                    pos,
                    format!("invalid port name `{pname}`"),
                    Some("at most 15 lower-case letters, digits and '-', with at least one letter".into()),
                );
            }
            if out.iter().any(|p| p.name == pname || p.port == port) {
                self.err(pos, format!("duplicate port `{pname}` ({port}) on `{name}`"), None);
            }
            out.push(Port { name: pname, port, service_port: sp.unwrap_or(port), protocol });
        }
        out
    }

    fn volumes(&mut self, s: &Service, max_replicas: u32) -> Vec<Vol> {
        let mut out: Vec<Vol> = Vec::new();
        for v in s.volumes.iter().flatten() {
            let pos = v.name.pos();
            if !is_label(&v.name) {
                self.err(pos, format!("invalid volume name `{}`", v.name), None);
            }
            if v.name.as_str() == "tmp" || v.path == "/tmp" {
                self.err(pos, "`/tmp` is mounted already (an emptyDir, as the root filesystem is read-only)", None);
            }
            if !v.path.starts_with('/') {
                self.err(pos, format!("volume path must be absolute: {:?}", v.path), None);
            }
            if out.iter().any(|o| o.name == v.name.as_str() || o.path == v.path) {
                self.err(pos, format!("duplicate volume `{}`", v.name), None);
            }
            let kind = match v.size {
                Some(size) => {
                    let access_mode = v.access_mode.unwrap_or(AccessMode::ReadWriteOnce);
                    if max_replicas > 1
                        && matches!(access_mode, AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod)
                    {
                        self.err(pos, format!("volume `{}` is {} but `{}` runs up to {max_replicas} replicas", v.name, access_mode.as_str(), self.name), Some("pods on different nodes cannot share it: use `accessMode: ReadWriteMany` or one replica".into()));
                    }
                    if v.size_limit.is_some() {
                        self.err(pos, "`sizeLimit` is for emptyDir volumes; a claim has `size`", None);
                    }
                    VolKind::Claim { size, access_mode, storage_class: v.storage_class.clone() }
                }
                None => VolKind::Empty { size_limit: v.size_limit },
            };
            out.push(Vol {
                name: v.name.to_string(),
                path: v.path.clone(),
                kind,
                read_only: v.read_only.unwrap_or(false),
            });
        }
        out
    }

    fn check_limits(&mut self, r: &Requests, l: &LimitsR) {
        if l.memory < r.memory {
            self.err(
                Pos::UNKNOWN,
                format!("memory limit {} of `{}` is below its request {}", l.memory, self.name, r.memory),
                None,
            );
        }
        if let Some(c) = l.cpu
            && c < r.cpu
        {
            self.err(Pos::UNKNOWN, format!("cpu limit {c} of `{}` is below its request {}", self.name, r.cpu), None);
        }
        if r.cpu.millis() == 0 || r.memory.0 == 0 {
            self.err(Pos::UNKNOWN, format!("requests of `{}` must be above zero", self.name), None);
        }
    }

    fn datastore(&mut self, d: &Datastore, default_ns: &str, has_bucket: bool) -> Option<Store> {
        let name = self.name.to_string();
        let before = self.errors.len();
        let Some(engine) = &d.engine else {
            self.err(
                Pos::UNKNOWN,
                format!("datastore `{name}` has no `engine`"),
                Some(format!("one of: {}", Engine::names().join(", "))),
            );
            return None;
        };
        let engine = engine.value;
        let storage = d.storage.unwrap_or_else(|| {
            self.err(
                Pos::UNKNOWN,
                format!("datastore `{name}` has no `storage` size"),
                Some("e.g. `storage: 10Gi`".into()),
            );
            Bytes(0)
        });
        let replicas = d.replicas.unwrap_or(1);
        if replicas != 1 {
            self.err(Pos::UNKNOWN, format!("datastore `{name}`: {replicas} replicas need {} replication, which kubeproof does not generate yet", engine.as_str()), Some("use one replica (or an operator for a replicated cluster)".into()));
        }
        let (cpu, mem) = engine.default_requests();
        let res = d.resources.clone().unwrap_or_default();
        let requests = Requests { cpu: res.cpu.unwrap_or(cpu), memory: res.memory.unwrap_or(mem) };
        let lim = res.limits.unwrap_or_default();
        let limits = LimitsR { cpu: lim.cpu, memory: lim.memory.unwrap_or(requests.memory) };
        self.check_limits(&requests, &limits);
        let image = match (&d.image, &d.version) {
            (Some(i), _) => i.clone(),
            (None, v) => engine.image().reference(v.as_ref().map(|v| v.0.as_str())),
        };
        if let Err(m) = check_image(&image) {
            self.err(Pos::UNKNOWN, m, None);
        }
        let backup = d.backup.as_ref().and_then(|b| self.store_backup(b, engine, has_bucket));
        let metrics = d.metrics.as_ref().is_some_and(|m| m.value);
        if metrics && let Err(why) = engine.metrics() {
            self.err(
                d.metrics.as_ref().map_or(Pos::UNKNOWN, |m| pos_of(&m.referenced)),
                format!("datastore `{name}` ({}) has no metrics: {why}", engine.as_str()),
                Some("remove `metrics` from this datastore".into()),
            );
        }
        if self.errors.len() > before {
            return None;
        }
        Some(Store {
            backup,
            namespace: d.namespace.as_ref().map_or(default_ns.to_string(), |n| n.to_string()),
            database: d.database.clone().unwrap_or_else(|| name.replace('-', "_")),
            name,
            engine,
            image,
            storage,
            storage_class: d.storage_class.clone(),
            replicas,
            requests,
            limits,
            metrics,
        })
    }
}

impl Cx<'_> {
    fn store_backup(&mut self, b: &DatastoreBackup, engine: Engine, has_bucket: bool) -> Option<StoreBackup> {
        let name = self.name.to_string();
        let every_pos = pos_of(&b.every.referenced);
        let (every, keep) = (b.every.value, b.keep.value);
        if let Err(no) = engine.backup() {
            self.err(
                every_pos,
                format!("datastore `{name}` ({}) has no backup job: {}", engine.as_str(), no.why),
                Some("remove `backup`; the Velero schedules of `backup.velero` snapshot its volume".into()),
            );
            return None;
        }
        if !has_bucket {
            self.err(
                every_pos,
                format!("datastore `{name}` has a backup but the platform has no `backup.bucket`"),
                Some("add `backup: { bucket: s3://BUCKET }` at the top level".into()),
            );
            return None;
        }
        let cron = match crate::model::cron::every(every.get(), &name)
            .ok_or_else(|| format!("backups every {} cannot be written as a cron schedule", Seconds::new(every.get())))
        {
            Ok(c) => c,
            Err(m) => {
                self.err(
                    every_pos,
                    m,
                    Some(
                        "use minutes that divide an hour (15m, 30m), hours that divide a day (1h, 4h, 12h) or 1d"
                            .into(),
                    ),
                );
                return None;
            }
        };
        if keep <= every {
            self.err(
                pos_of(&b.keep.referenced),
                format!("backups of `{name}` are kept {keep}, not longer than they are taken (every {every})"),
                Some(format!("keep them longer than {every}, so that a backup always exists, e.g. `keep: 7d`")),
            );
            return None;
        }
        Some(StoreBackup { every, keep, cron })
    }
}

/// Checks `backup` and turns it into the resolved target.
fn backup_target(b: &Backup, file: &Path, errors: &mut Vec<Diagnostic>) -> Option<BackupTarget> {
    let before = errors.len();
    let url = b.bucket.value.as_str();
    let (bucket, prefix) = match url.strip_prefix("s3://") {
        Some(rest) => rest.split_once('/').unwrap_or((rest, "")),
        None => ("", ""),
    };
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix = prefix.trim_matches('/');
    let prefix_ok = prefix.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c));
    if !bucket_ok || !prefix_ok {
        errors.push(
            Diagnostic::error(file, pos_of(&b.bucket.referenced), format!("invalid backup bucket {url:?}")).with_help(
                "write `s3://BUCKET` or `s3://BUCKET/PREFIX` (bucket: 3-63 lower-case letters, digits, '-', '.')",
            ),
        );
    }
    let endpoint = match &b.endpoint {
        Some(e) => {
            let v = e.value.trim_end_matches('/');
            let host = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://")).unwrap_or("");
            if host.is_empty() || host.contains(['/', ' ', '@']) {
                errors.push(
                    Diagnostic::error(file, pos_of(&e.referenced), format!("invalid S3 endpoint {:?}", e.value))
                        .with_help("write the URL of the S3 API, e.g. `https://minio.example.com:9000`"),
                );
            }
            v.to_string()
        }
        None => defaults::S3_ENDPOINT.to_string(),
    };
    let velero = b.velero.clone().unwrap_or_default();
    let mut schedules = Vec::new();
    for (kind, s, default_at) in
        [("daily", &velero.daily, defaults::VELERO_DAILY_AT), ("hourly", &velero.hourly, defaults::VELERO_HOURLY_AT)]
    {
        let Some(s) = s else { continue };
        let at = s.at.as_ref().map_or(default_at, |a| a.value.as_str());
        let at_pos = s.at.as_ref().map_or(Pos::UNKNOWN, |a| pos_of(&a.referenced));
        let cron = match (kind, at.split_once(':')) {
            ("daily", Some((h, m))) if h.len() == 2 && m.len() == 2 => match (h.parse::<u8>(), m.parse::<u8>()) {
                (Ok(h), Ok(m)) if h < 24 && m < 60 => Some(format!("{m} {h} * * *")),
                _ => None,
            },
            ("hourly", Some(("", m))) if m.len() == 2 => {
                m.parse::<u8>().ok().filter(|m| *m < 60).map(|m| format!("{m} * * * *"))
            }
            _ => None,
        };
        let Some(cron) = cron else {
            let want = if kind == "daily" { "\"HH:MM\" in UTC, e.g. \"02:00\"" } else { "\":MM\", e.g. \":30\"" };
            errors.push(
                Diagnostic::error(file, at_pos, format!("invalid time {at:?} for the {kind} Velero backup"))
                    .with_help(format!("write {want}")),
            );
            continue;
        };
        let period = if kind == "daily" { 86_400 } else { 3600 };
        if s.keep.value.get() <= period {
            errors.push(
                Diagnostic::error(
                    file,
                    pos_of(&s.keep.referenced),
                    format!("{kind} Velero backups kept {} expire before the next one", s.keep.value),
                )
                .with_help("keep them longer than the period, e.g. `keep: 7d`"),
            );
            continue;
        }
        schedules.push((kind.to_string(), cron, s.keep.value));
    }
    if errors.len() > before {
        return None;
    }
    Some(BackupTarget {
        bucket: bucket.to_string(),
        prefix: prefix.to_string(),
        endpoint,
        credentials: b.credentials.as_ref().map_or(defaults::BACKUP_CREDENTIALS.to_string(), |c| c.to_string()),
        velero_namespace: velero.namespace.as_ref().map_or(defaults::VELERO_NAMESPACE.to_string(), |n| n.to_string()),
        velero: schedules,
    })
}

/// Image references must be pinned: a tag other than `latest`, or a digest.
fn check_image(image: &str) -> Result<(), String> {
    if image.is_empty() || image.contains(char::is_whitespace) {
        return Err(format!("invalid image reference {image:?}"));
    }
    if image.contains("@sha256:") {
        return Ok(());
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Err(format!("image `{image}` has no tag, so it means `latest`")),
        Some((_, "latest")) => Err(format!("image `{image}` uses the mutable tag `latest`")),
        Some((_, "")) => Err(format!("image `{image}` has an empty tag")),
        Some(_) => Ok(()),
    }
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_label(s: &str) -> bool {
    super::validate::is_label(s)
}

fn is_hostname(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|l| is_label(l) || (l.starts_with("*") && l.len() == 1))
}
