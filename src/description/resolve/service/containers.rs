//! `initContainers` and `sidecars`: named, pinned, reading only the
//! service's own Secret and volumes.

use std::collections::BTreeMap;

use super::super::names::{check_image, is_env_name, is_label};
use super::super::{Cx, ExtraR, Port, Vol};
use crate::description::value::pos_of;
use crate::description::{Bytes, Cpu, ExtraContainer};
use crate::diag::Pos;
use crate::model::env::credential_name;

/// A helper container's requests when none are written: small, as it is
/// not the workload.
const CPU_MILLIS: u64 = 50;
const MEMORY: u64 = 64 * 1024 * 1024;

/// What a helper container may refer to in its service.
pub(super) struct Owner<'a> {
    pub secrets: &'a [String],
    pub volumes: &'a [Vol],
    /// The ports of the service's own container (a sidecar's must differ).
    pub ports: &'a [Port],
}

impl Cx<'_> {
    /// The init containers and sidecars, each name unique in the pod (the
    /// service's own container is named after it).
    pub(super) fn extra_containers(
        &mut self,
        inits: Option<&[ExtraContainer]>,
        sidecars: Option<&[ExtraContainer]>,
        owner: &Owner,
    ) -> (Vec<ExtraR>, Vec<ExtraR>) {
        let mut names = vec![self.name.to_string()];
        let mut taken_ports: Vec<Port> = owner.ports.to_vec();
        let mut resolve = |cx: &mut Self, list: Option<&[ExtraContainer]>, sidecar: bool| -> Vec<ExtraR> {
            let mut out = Vec::new();
            for c in list.into_iter().flatten() {
                if names.iter().any(|n| n == c.name.as_str()) {
                    cx.err(c.name.pos(), format!("duplicate container name `{}` in `{}`", c.name, cx.name), None);
                }
                names.push(c.name.to_string());
                out.push(cx.extra(c, sidecar, owner, &mut taken_ports));
            }
            out
        };
        let inits = resolve(self, inits, false);
        let sidecars = resolve(self, sidecars, true);
        (inits, sidecars)
    }

    /// One helper container, checked.
    fn extra(&mut self, c: &ExtraContainer, sidecar: bool, owner: &Owner, taken: &mut Vec<Port>) -> ExtraR {
        let pos = c.name.pos();
        if !is_label(&c.name) {
            self.err(
                pos,
                format!("invalid container name `{}`", c.name),
                Some("a DNS label: lower-case letters, digits and '-'".into()),
            );
        }
        if let Err(m) = check_image(&c.image.value) {
            let help = "pin a version tag or a digest, e.g. `docker.io/library/busybox:1.36.1`";
            self.err(pos_of(&c.image.referenced), m, Some(help.into()));
        }
        let env = self.extra_env(c);
        let secrets = self.extra_refs(
            c.secrets.iter().flatten().map(|s| (s.value.clone(), pos_of(&s.referenced))),
            owner.secrets,
            "secret",
            c,
        );
        let vol_names: Vec<String> = owner.volumes.iter().map(|v| v.name.clone()).collect();
        let volumes =
            self.extra_refs(c.volumes.iter().flatten().map(|v| (v.to_string(), v.pos())), &vol_names, "volume", c);
        let ports = self.extra_ports(c, sidecar, taken);
        let default = (Cpu::from_millis(CPU_MILLIS), Bytes(MEMORY));
        let (requests, limits) = self.resources(c.resources.as_ref(), default);
        ExtraR {
            name: c.name.to_string(),
            image: c.image.value.clone(),
            command: c.command.clone(),
            args: c.args.clone(),
            env,
            secrets,
            requests,
            limits,
            volumes,
            ports,
        }
    }

    /// A helper's plain `env`: valid names, and no credential (the values
    /// are written in the pod spec, in git; the rule of services' `env`, KP121).
    fn extra_env(&mut self, c: &ExtraContainer) -> BTreeMap<String, String> {
        let pos = c.name.pos();
        let env: BTreeMap<String, String> =
            c.env.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
        for k in env.keys().filter(|k| !is_env_name(k)) {
            self.err(pos, format!("invalid environment variable name `{k}` in container `{}`", c.name), None);
        }
        for (k, _) in env.iter().filter(|(k, v)| !v.is_empty() && credential_name(k)) {
            self.err(
                pos,
                format!("container `{}` sets `{k}` as a plain env value", c.name),
                Some(format!(
                    "`{k}` looks like a credential: list it in the service's `secrets` and in this container's \
                     `secrets`"
                )),
            );
        }
        env
    }

    /// Names a helper container takes from its service (secrets, volumes):
    /// each must be the service's.
    fn extra_refs(
        &mut self,
        written: impl Iterator<Item = (String, Pos)>,
        known: &[String],
        what: &str,
        c: &ExtraContainer,
    ) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, pos) in written {
            if !known.contains(&name) {
                self.err(
                    pos,
                    format!("container `{}` names the {what} `{name}`, which `{}` does not declare", c.name, self.name),
                    Some(if known.is_empty() {
                        format!("declare it in the service's `{what}s` (it has none)")
                    } else {
                        format!("declare it in the service's `{what}s` (it has: {})", known.join(", "))
                    }),
                );
            } else if !out.contains(&name) {
                out.push(name);
            }
        }
        out
    }

    /// A sidecar's ports: named, unique in the pod. An init container has none.
    fn extra_ports(&mut self, c: &ExtraContainer, sidecar: bool, taken: &mut Vec<Port>) -> Vec<Port> {
        let written = c.ports.as_deref().unwrap_or_default();
        if !sidecar && !written.is_empty() {
            self.err(
                c.name.pos(),
                format!("init container `{}` has `ports`", c.name),
                Some("an init container runs to completion and serves nothing; ports are for `sidecars`".into()),
            );
            return Vec::new();
        }
        let mut out = Vec::new();
        for p in written {
            let Some(name) = &p.name else {
                self.err(
                    pos_of(&p.port.referenced),
                    format!("a port of sidecar `{}` has no `name`", c.name),
                    Some("name it, e.g. `{ name: proxy, port: 15000 }`".into()),
                );
                continue;
            };
            let port = Port {
                name: name.clone(),
                port: p.port.value,
                service_port: p.port.value,
                protocol: p.protocol.unwrap_or(crate::description::Protocol::Tcp),
            };
            if port.name.len() > 15 || !is_label(&port.name) || port.port == 0 {
                self.err(
                    pos_of(&p.port.referenced),
                    format!("invalid port `{}` ({}) of sidecar `{}`", port.name, port.port, c.name),
                    Some("at most 15 lower-case letters, digits and '-', and a port above 0".into()),
                );
            }
            if taken.iter().any(|t| t.name == port.name || t.port == port.port) {
                self.err(
                    pos_of(&p.port.referenced),
                    format!("sidecar `{}`: port `{}` ({}) is taken in the pod", c.name, port.name, port.port),
                    None,
                );
            }
            taken.push(port.clone());
            out.push(port);
        }
        out
    }
}
