//! Liveness, readiness and startup probes: the handler follows the port's
//! protocol unless `path`, `exec`, `grpc` or `tcp` says otherwise.
//!
//! Which probes there are: a service with ports gets a default for each
//! unwritten one; a worker (no port) only those written, as there is no
//! port a default could check; `probes: {}` means none. An unwritten
//! startup probe copies the liveness probe with a start-up budget.

use super::super::{Cx, Handler, ProbeR};
use super::PortLookup;
use crate::description::{Probe, Probes, Protocol, Service};
use crate::diag::Pos;

impl Cx<'_> {
    /// The live, ready and startup probes; `None` for each the service has
    /// not (errors are collected).
    pub(super) fn probes(
        &mut self,
        s: &Service,
        ports: &PortLookup,
        worker: bool,
    ) -> (Option<ProbeR>, Option<ProbeR>, Option<ProbeR>) {
        let explicitly_none =
            s.probes.as_ref().is_some_and(|p| p.live.is_none() && p.ready.is_none() && p.startup.is_none());
        // (No port on a service that is no worker: its ports had errors, said already.)
        let fill = !worker && !explicitly_none && !ports.is_empty();
        let probes = s.probes.clone().unwrap_or_default();
        let Probes { live, ready, startup } = probes;
        let pick = |cx: &mut Self, which: &str, p: Option<Probe>, period, failure| match p {
            Some(p) => cx.probe(which, p, period, failure, ports),
            None if fill => cx.probe(which, Probe::default(), period, failure, ports),
            None => None,
        };
        let live = pick(self, "live", live, 10, 3);
        let ready = pick(self, "ready", ready, 5, 3);
        let startup = match startup {
            Some(p) => self.probe("startup", p, 5, 30, ports),
            None => live.as_ref().map(|f| ProbeR { initial_delay: 0, period: 5, failure_threshold: 30, ..f.clone() }),
        };
        for (which, p) in [("live", &live), ("ready", &ready), ("startup", &startup)] {
            if let Some(p) = p
                && (p.period == 0 || p.timeout == 0 || p.failure_threshold == 0)
            {
                self.err(
                    Pos::UNKNOWN,
                    format!("probe `{which}` of `{}`: period, timeout and failureThreshold must be above 0", self.name),
                    None,
                );
            }
        }
        (live, ready, startup)
    }

    /// One probe with `period` and `failure` as defaults; `None` after an error.
    fn probe(&mut self, which: &str, spec: Probe, period: u32, failure: u32, ports: &PortLookup) -> Option<ProbeR> {
        let handler = self.handler(which, &spec, ports)?;
        Some(ProbeR {
            handler,
            initial_delay: spec.initial_delay.map_or(0, |d| d.get()),
            period: spec.period.map_or(period, |d| d.get()),
            timeout: spec.timeout.map_or(3, |d| d.get()),
            failure_threshold: spec.failure_threshold.unwrap_or(failure),
        })
    }

    /// What the probe runs: at most one of `exec`, `path`, `grpc`, `tcp`;
    /// without any, the port's protocol decides (gRPC or TCP).
    fn handler(&mut self, which: &str, spec: &Probe, ports: &PortLookup) -> Option<Handler> {
        let kinds = [spec.exec.is_some(), spec.path.is_some(), spec.grpc == Some(true), spec.tcp == Some(true)];
        if kinds.iter().filter(|k| **k).count() > 1 {
            self.err(
                Pos::UNKNOWN,
                format!("probe `{which}` of `{}` sets more than one of `exec`, `path`, `grpc` and `tcp`", self.name),
                Some("a probe runs one check: keep one of them".into()),
            );
            return None;
        }
        if let Some(cmd) = &spec.exec {
            if cmd.is_empty() {
                self.err(Pos::UNKNOWN, format!("probe `{which}` of `{}`: `exec` is an empty command", self.name), None);
                return None;
            }
            return Some(Handler::Exec(cmd.clone()));
        }
        let port = match ports.find(&spec.port) {
            Ok(Some(p)) => p,
            Ok(None) => {
                self.err(
                    Pos::UNKNOWN,
                    format!("probe `{which}` of `{}` checks a port, but the service has none", self.name),
                    Some("a worker's probe runs a command (`exec: [...]`), or checks its `metrics.port`".into()),
                );
                return None;
            }
            Err(m) => {
                self.err(Pos::UNKNOWN, format!("probe `{which}` of `{}`: {m}", self.name), None);
                return None;
            }
        };
        Some(if let Some(path) = &spec.path {
            Handler::Http { path: path.clone(), port: port.name.clone() }
        } else if spec.tcp == Some(true) {
            Handler::Tcp { port: port.name.clone() }
        } else if spec.grpc == Some(true) || port.protocol == Protocol::Grpc {
            // The API server takes only a number for a gRPC probe's port.
            Handler::Grpc { port: port.port }
        } else {
            Handler::Tcp { port: port.name.clone() }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::description::resolve::{Handler, Svc, resolve};

    /// The service `svc` of a platform whose services are `services` (YAML
    /// lines under `services:`).
    fn service(services: &str, svc: &str) -> Svc {
        let text = format!(
            "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster: {{ kubernetes: \"1.30\" }}\nservices:\n{services}"
        );
        let file = Path::new("platform.yaml");
        let p = crate::description::parse(&text, file).expect("a valid description");
        let r = resolve(&p, None, file).unwrap_or_else(|e| panic!("{e:?}"));
        r.services.into_iter().find(|s| s.name == svc).expect("the service")
    }

    fn handlers(s: &Svc) -> [Option<Handler>; 3] {
        [&s.live, &s.ready, &s.startup].map(|p| p.as_ref().map(|p| p.handler.clone()))
    }

    #[test]
    fn a_service_with_ports_gets_default_probes_unless_it_writes_none() {
        let tcp = Some(Handler::Tcp { port: "http".into() });
        let s = service("  web: { image: ghcr.io/x/web:1.0.0, port: 8080 }\n", "web");
        assert_eq!(handlers(&s), [tcp.clone(), tcp.clone(), tcp]);
        assert!(!s.worker);
        let s = service("  web: { image: ghcr.io/x/web:1.0.0, port: 8080, probes: {} }\n", "web");
        assert_eq!(handlers(&s), [None, None, None]);
    }

    #[test]
    fn a_worker_has_only_the_probes_it_declares() {
        let s = service("  work: { image: ghcr.io/x/work:1.0.0 }\n", "work");
        assert!(s.worker && s.ports.is_empty());
        assert_eq!(handlers(&s), [None, None, None]);
        let s = service(
            "  work: { image: ghcr.io/x/work:1.0.0, ports: [], probes: { ready: { exec: [test, -f, /tmp/ok] } } }\n",
            "work",
        );
        let exec = Some(Handler::Exec(vec!["test".into(), "-f".into(), "/tmp/ok".into()]));
        assert_eq!(handlers(&s), [None, exec, None]);
        // A liveness probe brings its startup copy, with a start-up budget.
        let s = service("  work: { image: ghcr.io/x/work:1.0.0, probes: { live: { exec: [true] } } }\n", "work");
        let startup = s.startup.expect("startup probe");
        assert_eq!(
            (startup.handler, startup.failure_threshold, startup.period),
            (Handler::Exec(vec!["true".into()]), 30, 5)
        );
        // Its metrics port is a port a probe may check.
        let s = service(
            "  work: { image: ghcr.io/x/work:1.0.0, metrics: { port: 9464 }, probes: { live: /healthz } }\n",
            "work",
        );
        assert_eq!(s.live.map(|p| p.handler), Some(Handler::Http { path: "/healthz".into(), port: "metrics".into() }));
    }

    #[test]
    fn grpc_and_tcp_are_chosen_by_name_on_any_port() {
        let services = "  api:\n    image: ghcr.io/x/api:1.0.0\n    ports: [{ name: http, port: 8080 }, { name: admin, port: 9000, protocol: grpc }]\n    probes: { live: { grpc: true, port: admin }, ready: { tcp: true, port: admin }, startup: { grpc: true, port: 8080 } }\n";
        let s = service(services, "api");
        let grpc_admin = Some(Handler::Grpc { port: 9000 });
        assert_eq!(
            handlers(&s),
            [grpc_admin, Some(Handler::Tcp { port: "admin".into() }), Some(Handler::Grpc { port: 8080 })]
        );
    }
}
