//! A service, resolved: each field with its default, checked.

use std::collections::BTreeMap;

use super::names::{check_image, is_env_name, is_hostname, is_label};
use super::{
    CanaryR, Cx, Exposure, Handler, LimitsR, MetricsR, PdbR, Port, ProbeR, Requests, Scaling, Svc, Vol, VolKind,
    defaults,
};
use crate::description::value::pos_of;
use crate::description::{AccessMode, Bytes, Cpu, LogLevel, PortRef, Probe, Protocol, Service, Traffic};
use crate::diag::Pos;

impl Cx<'_> {
    pub(super) fn service(&mut self, s: &Service, default_ns: &str, env_log: Option<LogLevel>) -> Option<Svc> {
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
            for metric in names.filter(|n| !crate::description::alerts::is_metric_name(n)) {
                self.err(Pos::UNKNOWN, format!("`{name}`: `{metric}` is not a Prometheus metric name"), None);
            }
            if !crate::description::alerts::is_metric_name(&m.endpoint_label) || m.endpoint_label.contains(':') {
                self.err(
                    Pos::UNKNOWN,
                    format!("`{name}`: `{}` is not a Prometheus label name", m.endpoint_label),
                    None,
                );
            }
            if !crate::description::alerts::is_metric_name(&m.status_label) || m.status_label.contains(':') {
                self.err(Pos::UNKNOWN, format!("`{name}`: `{}` is not a Prometheus label name", m.status_label), None);
            }
        }
        let alerts = crate::description::alerts::service(
            s.alerts.as_ref(),
            s.slo.as_ref(),
            self.name.pos(),
            &name,
            self.file,
            self.errors,
        );

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
    pub(super) fn traffic(&mut self, t: &Traffic) -> Option<CanaryR> {
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

    pub(super) fn ports(&mut self, s: &Service) -> Vec<Port> {
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

    pub(super) fn volumes(&mut self, s: &Service, max_replicas: u32) -> Vec<Vol> {
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
}
