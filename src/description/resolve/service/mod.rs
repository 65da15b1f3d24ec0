//! A service, resolved: each field with its default, checked. Each part has
//! its file, named for what it resolves; [`Cx::service`] calls them in the
//! order their errors are reported.

mod containers;
mod exposure;
mod metrics;
mod ports;
mod probes;
mod replicas;
mod shutdown;
mod traffic;
mod variables;
mod volumes;

use super::{Cx, MetricsR, Svc, defaults};
use crate::description::value::pos_of;
use crate::description::{Bytes, Component, Cpu, LogLevel, Protocol, Service};
use crate::diag::Pos;
use ports::PortLookup;

impl Cx<'_> {
    /// Resolves the service `self.name`; `None` after an error (all of them
    /// are collected first).
    pub(super) fn service(&mut self, s: &Service, default_ns: &str, env_log: Option<LogLevel>) -> Option<Svc> {
        let name = self.name.to_string();
        let before = self.errors.len();
        let image = self.image(s.image.as_ref(), "service ");
        let component = s.component.or_else(|| Component::by_image(&image));
        let worker = s.port.is_none() && s.ports.as_ref().is_none_or(Vec::is_empty);
        let ports = self.ports_with_metrics(s);
        let (min, max) = self.replicas(s);
        let default_requests = (Cpu::from_millis(defaults::CPU_MILLIS), Bytes(defaults::MEMORY));
        let (requests, limits) = self.resources(s.resources.as_ref(), default_requests);
        let lookup = PortLookup::new(&ports);
        if worker {
            self.worker_limits(s, component);
        }
        let exposures = if worker { Vec::new() } else { self.exposures(s, &ports, &lookup) };
        let (live, ready, startup) = self.probes(s, &lookup, worker);
        let metrics = self.metrics(s, &ports, component, worker);
        let alerts = crate::description::alerts::service(
            s.alerts.as_ref(),
            s.slo.as_ref(),
            self.name.pos(),
            &name,
            self.file,
            self.errors,
        );
        let (env, templates) = self.env_values(s);
        let secrets = self.secrets(s, &env, &templates);
        let volumes = self.volumes(s, max);
        let owner = containers::Owner { secrets: &secrets, volumes: &volumes, ports: &ports };
        let (init_containers, sidecars) =
            self.extra_containers(s.init_containers.as_deref(), s.sidecars.as_deref(), &owner);
        let pdb = self.pdb(s, min);
        let websocket = ports.iter().any(|p| p.protocol == Protocol::Websocket);
        let (drain, grace) = self.shutdown(s, websocket);
        let autoscale = self.autoscale(s);
        let traffic = s.traffic.clone().unwrap_or_default();
        let canary = self.traffic(&traffic);
        let hpa_on_resources = min < max && (autoscale.cpu.is_some() || autoscale.memory.is_some());
        let placement = self.placement(super::placement::written!(s), hpa_on_resources);

        self.check_served(&autoscale, metrics.as_ref());
        self.check_latency_bucket(s, &alerts, metrics.as_ref());
        if self.errors.len() > before {
            return None;
        }
        Some(Svc {
            traffic,
            canary,
            namespace: s.namespace.as_ref().map_or(default_ns.to_string(), |n| n.to_string()),
            name,
            component,
            image,
            ports,
            worker,
            exposures,
            min_replicas: min,
            max_replicas: max,
            autoscale,
            requests,
            limits,
            live,
            ready,
            startup,
            metrics,
            uses: s.uses.iter().flatten().map(|u| u.to_string()).collect(),
            after: s.after.iter().flatten().map(|u| u.to_string()).collect(),
            env,
            templates,
            secrets,
            volumes,
            command: s.command.clone(),
            args: s.args.clone(),
            init_containers,
            sidecars,
            log_level: s.log_level.or(env_log).unwrap_or(LogLevel::Info),
            run_as_user: s.run_as_user.unwrap_or(defaults::RUN_AS_USER),
            pdb,
            drain_seconds: drain,
            grace_seconds: grace,
            read_own_config: s.rbac.as_ref().and_then(|r| r.read_own_config).unwrap_or(false),
            alerts,
            placement,
        })
    }

    /// A latency objective reads the share of requests in the bucket of its
    /// threshold: a threshold between two boundaries has no series to read
    /// (its ratio would be empty, its alerts silent forever).
    fn check_latency_bucket(
        &mut self,
        s: &Service,
        alerts: &crate::description::alerts::SvcAlerts,
        m: Option<&MetricsR>,
    ) {
        let (Some(l), Some(m)) = (&alerts.latency_slo, m) else { return };
        let under = s.slo.as_ref().and_then(|x| x.latency.as_ref()).and_then(|x| x.under.as_ref());
        let pos = under.map_or(Pos::UNKNOWN, |u| pos_of(&u.referenced));
        // Buckets are compared in milliseconds, as the threshold is written.
        let ms = |x: f64| (x * 1000.0).round();
        if m.buckets.iter().any(|b| ms(*b) == ms(l.seconds)) {
            return;
        }
        let name = self.name.to_string();
        let written: Vec<String> = m.buckets.iter().map(|b| format!("{}ms", ms(*b))).collect();
        let help = if written.is_empty() {
            format!(
                "declare the buckets of `{}` in seconds: `metrics: {{ buckets: [0.1, {}, 1] }}`",
                m.duration, l.seconds
            )
        } else {
            format!(
                "pick one of the buckets ({}), or declare the service's own with `metrics: {{ buckets: [...] }}` (seconds)",
                written.join(", ")
            )
        };
        self.err(
            pos,
            format!(
                "`{name}`: the latency objective's threshold {}ms is not a bucket boundary of `{}`",
                ms(l.seconds),
                m.duration
            ),
            Some(help),
        );
    }

    /// What a worker (no port) cannot have: nothing reaches it.
    fn worker_limits(&mut self, s: &Service, component: Option<Component>) {
        let name = self.name.to_string();
        // The platform's wiring of a component (data sources, alerting,
        // trace export) connects to its port.
        if let Some(c) = component.filter(|c| c.main_port() != 0) {
            self.err(
                Pos::UNKNOWN,
                format!("`{name}` is the component `{}`, which serves, but has no `port`", c.name()),
                Some(format!("write the port it listens on, e.g. `port: {}`", c.main_port())),
            );
        }
        if s.expose.is_some() {
            self.err(
                Pos::UNKNOWN,
                format!("`{name}` is a worker (no `port`), so it cannot be exposed"),
                Some("give it the port it serves on (`port: 8080`), or remove `expose`".into()),
            );
        }
        // Its objectives would be measured on requests it does not serve,
        // unless it names the counter of what it handles.
        if s.slo.is_some() && s.metrics.as_ref().is_none_or(|m| m.requests.is_none()) {
            self.err(
                Pos::UNKNOWN,
                format!("`{name}` is a worker (no `port`): its `slo` has no requests to measure"),
                Some(
                    "name the counter of the work it does (`metrics: { requests: jobs_total }`), or remove `slo`"
                        .into(),
                ),
            );
        }
        if s.traffic.is_some() {
            self.err(
                Pos::UNKNOWN,
                format!("`{name}` is a worker (no `port`): `traffic` shapes requests to it, and it receives none"),
                Some("remove `traffic`, or give it the `port` it serves on".into()),
            );
        }
    }
}
