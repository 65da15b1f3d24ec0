//! Credentials written as values in the description: whatever a plain value
//! or URL field holds is written in clear (a ConfigMap, a pod spec, a
//! collector's configuration, in git), so a value that *is* a credential
//! (see [`crate::model::credential`]), whatever its name, is refused at its
//! place with a pointer to `secrets:`.

use std::collections::BTreeMap;
use std::path::Path;

use serde_saphyr::Spanned;

use super::jobs::Job;
use super::value::pos_of;
use super::{EnvValue, ExtraContainer, Name, Platform, Service};
use crate::diag::{Diagnostic, Pos};
use crate::model::credential::{credential, endpoint_credential};

/// The help of every refusal: where a credential goes instead.
const WHERE_TO: &str = "list it under `secrets:` (its value goes in the environment's git-ignored secrets file and \
                        reaches the container from a Secret), or compose it from what `uses` connects to \
                        (`${db.url}`)";

/// Every credential written as a value in `p`, at its place: env values
/// (services, jobs, cronjobs, their containers, environment overrides),
/// commands and arguments, datastore settings, patches, and the URL and
/// endpoint fields (backup, external hosts, tracing, logs, receivers).
pub(super) fn check(p: &Platform, file: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut refuse = |pos: Pos, what: String, found: &str| {
        let message = format!("{what} is {found}, written in clear");
        out.push(Diagnostic::error(file, pos, message).with_help(WHERE_TO.to_string()));
    };
    let envs = std::iter::once(None).chain(p.environments.values().map(Some));
    for env in envs {
        let services = env.map_or(&p.services, |e| &e.services);
        for (name, svc) in services {
            service(name, svc, &mut refuse);
        }
        let jobs = env.map_or(&p.jobs, |e| &e.jobs);
        for (name, job) in jobs {
            batch("job", name, job, &mut refuse);
        }
        let cronjobs = env.map_or(&p.cronjobs, |e| &e.cronjobs);
        for (name, c) in cronjobs {
            batch("cronjob", name, &c.pod(), &mut refuse);
        }
        let stores = env.map_or(&p.datastores, |e| &e.datastores);
        for (name, store) in stores {
            env_map(&format!("datastore `{name}`"), "setting", store.settings.iter().flatten(), &mut refuse);
        }
        let services = services.values().filter_map(|s| s.patches.as_ref());
        let stores = stores.values().filter_map(|d| d.patches.as_ref());
        for patch in env.and_then(|e| e.patches.as_ref()).into_iter().chain(services).chain(stores).flatten() {
            patch_values(patch, &mut refuse);
        }
    }
    endpoints(p, &mut refuse);
    out
}

type Refuse<'a> = dyn FnMut(Pos, String, &str) + 'a;

fn service(name: &Name, svc: &Service, refuse: &mut Refuse) {
    let what = format!("service `{name}`");
    env_map(&what, "env value", svc.env.iter().flatten(), refuse);
    words(&what, name.pos(), svc.command.iter().chain(&svc.args).flatten(), refuse);
    for c in svc.init_containers.iter().chain(&svc.sidecars).flatten() {
        container(&what, c, refuse);
    }
}

fn batch(kind: &str, name: &Name, job: &Job, refuse: &mut Refuse) {
    let what = format!("{kind} `{name}`");
    env_map(&what, "env value", job.env.iter().flatten(), refuse);
    words(&what, name.pos(), job.command.iter().chain(&job.args).flatten(), refuse);
}

/// A helper container's env values are not spanned: its name is the place.
fn container(owner: &str, c: &ExtraContainer, refuse: &mut Refuse) {
    let what = format!("{owner}'s container `{}`", c.name);
    for (k, v) in c.env.iter().flatten() {
        if let Some(found) = credential(&v.0) {
            refuse(c.name.pos(), format!("the env value `{k}` of {what}"), found);
        }
    }
    words(&what, c.name.pos(), c.command.iter().chain(&c.args).flatten(), refuse);
}

fn env_map<'a, K: std::fmt::Display + 'a>(
    what: &str,
    kind: &str,
    values: impl IntoIterator<Item = (&'a K, &'a Spanned<EnvValue>)>,
    refuse: &mut Refuse,
) {
    for (k, v) in values {
        if let Some(found) = credential(&v.value.0) {
            refuse(pos_of(&v.referenced), format!("the {kind} `{k}` of {what}"), found);
        }
    }
}

/// Commands and arguments are written in the pod spec as they are.
fn words<'a>(what: &str, pos: Pos, words: impl Iterator<Item = &'a String>, refuse: &mut Refuse) {
    if let Some(found) = words.into_iter().find_map(|w| credential(w)) {
        refuse(pos, format!("an argument of {what}"), found);
    }
}

/// A patch's values are written into the kustomizations as they are.
fn patch_values(patch: &super::Patch, refuse: &mut Refuse) {
    if let Some(ops) = &patch.ops
        && let Some(found) = ops.value.iter().find_map(json_credential)
    {
        refuse(pos_of(&ops.referenced), "a value of this patch".into(), found);
    }
    if let Some(merge) = &patch.merge
        && let Some(found) = json_credential(&merge.value)
    {
        refuse(pos_of(&merge.referenced), "a value of this patch".into(), found);
    }
}

fn json_credential(v: &serde_json::Value) -> Option<&'static str> {
    match v {
        serde_json::Value::String(s) => credential(s),
        serde_json::Value::Array(a) => a.iter().find_map(json_credential),
        serde_json::Value::Object(o) => o.values().find_map(json_credential),
        _ => None,
    }
}

/// The URL and endpoint fields, written into the generated configuration.
fn endpoints(p: &Platform, refuse: &mut Refuse) {
    let mut spanned = |what: &str, v: &Spanned<String>| {
        if let Some(found) = endpoint_credential(&v.value) {
            refuse(pos_of(&v.referenced), what.to_string(), found);
        }
    };
    if let Some(b) = &p.backup {
        spanned("the backup bucket", &b.bucket);
        if let Some(e) = &b.endpoint {
            spanned("the backup endpoint", e);
        }
    }
    for (name, ext) in &p.external {
        spanned(&format!("the host of external `{name}`"), &ext.host);
    }
    if let Some(e) = p.tracing.as_ref().and_then(|t| t.endpoint.as_ref()) {
        spanned("the tracing endpoint", e);
    }
    if let Some(e) = p.logs.as_ref().and_then(|l| l.endpoint.as_ref()) {
        spanned("the logs endpoint", e);
    }
    receivers(&p.receivers, refuse);
}

/// A receiver's fields: its URL is read from the Secret (a `url` written
/// here is refused while resolving); the rest must hold no credential.
fn receivers(receivers: &BTreeMap<Name, super::Receiver>, refuse: &mut Refuse) {
    for (name, r) in receivers {
        let fields = [("channel", &r.channel), ("to", &r.to), ("from", &r.from)];
        let found = fields.iter().find_map(|(f, v)| v.as_deref().and_then(credential).map(|c| (*f, c)));
        let smarthost = r.smarthost.as_deref().and_then(endpoint_credential).map(|c| ("smarthost", c));
        for (field, found) in found.into_iter().chain(smarthost) {
            {
                refuse(name.pos(), format!("the `{field}` of receiver `{name}`"), found);
            }
        }
    }
}
