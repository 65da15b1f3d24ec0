//! Checks that need more than one field: names, references, environments.
//! Per-service value checks happen while resolving (see `resolve`), once per
//! environment, so an override that breaks a rule is caught too.

use std::collections::BTreeMap;
use std::path::Path;

use super::value::pos_of;
use super::{API_VERSION, Environment, Name, Platform, Service};
use serde_saphyr::Spanned;

use crate::diag::{Diagnostic, did_you_mean};

/// Every error in `p`, sorted by position: names and references first; the
/// values, per environment, only when those are right.
pub fn validate(p: &Platform, file: &Path) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if p.api_version.value != API_VERSION {
        out.push(
            Diagnostic::error(
                file,
                pos_of(&p.api_version.referenced),
                format!("unsupported apiVersion `{}`", p.api_version.value),
            )
            .with_help(format!("use `{API_VERSION}`")),
        );
    }
    check_label(&p.name, "platform name", file, &mut out);
    if let Some(v) = &p.version
        && let Err(e) = semver::Version::parse(&v.value)
    {
        out.push(
            Diagnostic::error(
                file,
                pos_of(&v.referenced),
                format!("`version: {}` is not a semantic version: {e}", v.value),
            )
            .with_help("write MAJOR.MINOR.PATCH, e.g. `1.4.0` (Helm takes it as the chart's version)"),
        );
    }
    if let Some(ns) = &p.namespace {
        check_label(ns, "namespace", file, &mut out);
    }
    let names = check_names(p, file, &mut out);
    for (name, svc) in &p.services {
        check_uses("service", name, svc.uses.as_deref(), &names, file, &mut out);
        check_after(svc, p, file, &mut out);
        if let Some(ns) = &svc.namespace {
            check_label(ns, "namespace", file, &mut out);
        }
    }
    let jobs = p.jobs.iter().map(|(n, j)| ("job", n, j.uses.as_deref(), j.namespace.as_ref()));
    let cronjobs = p.cronjobs.iter().map(|(n, c)| ("cronjob", n, c.uses.as_deref(), c.namespace.as_ref()));
    for (what, name, uses, namespace) in jobs.chain(cronjobs) {
        check_uses(what, name, uses, &names, file, &mut out);
        check_not_a_backup(what, name, p, file, &mut out);
        if let Some(ns) = namespace {
            check_label(ns, "namespace", file, &mut out);
        }
    }
    for store in p.datastores.values() {
        if let Some(ns) = &store.namespace {
            check_label(ns, "namespace", file, &mut out);
        }
    }
    for (env_name, env) in &p.environments {
        check_environment(p, env_name, env, file, &mut out);
    }
    for (key, value) in p.cluster.monitoring_selector.iter().flatten() {
        check_selector_label(key, value, file, &mut out);
    }
    out.extend(super::credential::check(p, file));
    out.extend(super::delivery::check(p.cluster.secrets.as_ref(), p.cluster.delivery.as_ref(), file));
    if out.is_empty() {
        check_values(p, file, &mut out);
    }
    out.sort_by_key(|d| d.pos);
    out
}

/// What has each name, by name: services, datastores and external hosts
/// share one name space (`uses` names them, and services and datastores
/// become Services), so a name is taken once.
fn check_names<'p>(p: &'p Platform, file: &Path, out: &mut Vec<Diagnostic>) -> BTreeMap<&'p str, (&'p str, &'p Name)> {
    let mut seen: BTreeMap<&str, (&str, &Name)> = BTreeMap::new();
    let all = p
        .services
        .keys()
        .map(|n| ("service", n))
        .chain(p.datastores.keys().map(|n| ("datastore", n)))
        .chain(p.external.keys().map(|n| ("external host", n)))
        .chain(p.jobs.keys().map(|n| ("job", n)))
        .chain(p.cronjobs.keys().map(|n| ("cronjob", n)));
    for (what, name) in all {
        if what == "external host" {
            check_label(name, what, file, out);
        } else if let Some(max) = batch_name_max(what)
            && name.len() > max
        {
            out.push(Diagnostic::error(file, name.pos(), format!("{what} name `{name}` is longer than {max}")).with_help(
                if what == "job" {
                    "a Job's name carries a hash of its spec (`NAME-1a2b3c4d`) and is a label value: at most 63 in all"
                } else {
                    "Kubernetes appends the time of each run to a CronJob's name: at most 52 characters"
                },
            ));
        } else {
            check_dns1035(name, what, file, out);
        }
        if let Some((first_what, first)) = seen.get(name.as_str()) {
            out.push(
                Diagnostic::error(file, name.pos(), format!("duplicate name `{name}`: a {first_what} has it already"))
                    .with_help(if [what, *first_what].iter().any(|w| matches!(*w, "job" | "cronjob")) {
                        format!(
                            "the first is at line {}; jobs and cronjobs share the names of services, datastores \
                             and external hosts (a name selects its pods)",
                            first.pos().line
                        )
                    } else {
                        format!(
                            "the first is at line {}; names of services, datastores and external hosts must be unique",
                            first.pos().line
                        )
                    }),
            );
        } else {
            seen.insert(name.as_str(), (what, name));
        }
    }
    seen
}

/// The longest name of a job (a hash follows it in the Job's name) or a
/// cronjob (Kubernetes appends 11 characters to each run's Job).
fn batch_name_max(what: &str) -> Option<usize> {
    match what {
        "job" => Some(63 - 9),
        "cronjob" => Some(52),
        _ => None,
    }
}

/// Each name in the `uses` of a service, job or cronjob is a service, a
/// datastore or an external host (a job is no server).
fn check_uses(
    what: &str,
    name: &Name,
    uses: Option<&[Name]>,
    names: &BTreeMap<&str, (&str, &Name)>,
    file: &Path,
    out: &mut Vec<Diagnostic>,
) {
    for target in uses.into_iter().flatten() {
        let batch = names.get(target.as_str()).is_some_and(|(what, _)| matches!(*what, "job" | "cronjob"));
        if target.as_str() == name.as_str() {
            out.push(Diagnostic::error(file, target.pos(), format!("{what} `{name}` uses itself")));
        } else if batch {
            out.push(
                Diagnostic::error(
                    file,
                    target.pos(),
                    format!("`uses` names `{target}`, which is a job: it serves nothing"),
                )
                .with_help(format!("to run after it, write `after: [{target}]` on the service")),
            );
        } else if !names.contains_key(target.as_str()) {
            let d = Diagnostic::error(
                file,
                target.pos(),
                format!("`uses` names `{target}`, which is no service, datastore or external host"),
            );
            out.push(match did_you_mean(target, names.keys().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(format!("declared: {}", names.keys().copied().collect::<Vec<_>>().join(", "))),
            });
        }
    }
}

/// A datastore's backups are a CronJob `NAME-backup` and a CronJob
/// `NAME-restore` (and their ServiceAccount), from which the runbook starts
/// the Job `NAME-restore-run`: a job or cronjob of one of those names would
/// be the same object.
fn check_not_a_backup(what: &str, name: &Name, p: &Platform, file: &Path, out: &mut Vec<Diagnostic>) {
    let store = ["-backup", "-restore", "-restore-run"].iter().find_map(|suffix| name.strip_suffix(suffix));
    if let Some(store) = store.filter(|s| p.datastores.get(*s).is_some_and(|d| d.backup.is_some())) {
        out.push(
            Diagnostic::error(file, name.pos(), format!("{what} `{name}` has the name of a backup of `{store}`"))
                .with_help(format!("`{store}` declares `backup`: its CronJobs are `{store}-backup` and `{store}-restore`, and a restore runs as the Job `{store}-restore-run`; rename this one")),
        );
    }
}

/// Each name in a service's `after` is a job of `jobs` (a cronjob runs on
/// its schedule, not per release), named once.
fn check_after(svc: &Service, p: &Platform, file: &Path, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<&str> = Vec::new();
    for job in svc.after.iter().flatten() {
        if seen.contains(&job.as_str()) {
            out.push(Diagnostic::error(file, job.pos(), format!("`after` names `{job}` twice")));
            continue;
        }
        seen.push(job);
        if p.jobs.contains_key(job.as_str()) {
            continue;
        }
        let d = Diagnostic::error(file, job.pos(), format!("`after` names `{job}`, which is no job"));
        let help = if p.cronjobs.contains_key(job.as_str()) {
            format!("`{job}` is a cronjob: it runs on its schedule, not once per release; declare it under `jobs`")
        } else {
            match did_you_mean(job, p.jobs.keys().map(|k| k.as_str())) {
                Some(s) => format!("did you mean `{s}`?"),
                None if p.jobs.is_empty() => "declare it under `jobs:` (no job is declared)".to_string(),
                None => format!("declared jobs: {}", p.jobs.keys().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")),
            }
        };
        out.push(d.with_help(help));
    }
}

/// An environment's name and scale, and its overrides: each of something
/// declared, none moving it to another namespace.
fn check_environment(p: &Platform, env_name: &Name, env: &Environment, file: &Path, out: &mut Vec<Diagnostic>) {
    check_label(env_name, "environment name", file, out);
    if let Some(scale) = &env.scale
        && !(scale.value.0 > 0.0 && scale.value.0 <= 10.0)
    {
        out.push(
            Diagnostic::error(file, pos_of(&scale.referenced), format!("scale {} is out of range", scale.value.0))
                .with_help("use a factor above 0 and at most 10, e.g. 0.5"),
        );
    }
    overrides_exist(&env.services, &p.services, "service", file, out);
    overrides_exist(&env.datastores, &p.datastores, "datastore", file, out);
    overrides_exist(&env.jobs, &p.jobs, "job", file, out);
    for svc in env.services.values() {
        check_after(svc, p, file, out);
    }
    overrides_exist(&env.cronjobs, &p.cronjobs, "cronjob", file, out);
    let jobs = env.jobs.iter().map(|(name, o)| (name, o.namespace.as_ref()));
    check_no_moves(env_name, jobs, "job", file, out);
    let cronjobs = env.cronjobs.iter().map(|(name, o)| (name, o.namespace.as_ref()));
    check_no_moves(env_name, cronjobs, "cronjob", file, out);
    let services = env.services.iter().map(|(name, o)| (name, o.namespace.as_ref()));
    check_no_moves(env_name, services, "service", file, out);
    let datastores = env.datastores.iter().map(|(name, o)| (name, o.namespace.as_ref()));
    check_no_moves(env_name, datastores, "datastore", file, out);
}

/// Namespaces are the same in every environment: an override sets none.
fn check_no_moves<'a>(
    env_name: &Name,
    overrides: impl Iterator<Item = (&'a Name, Option<&'a Name>)>,
    what: &str,
    file: &Path,
    out: &mut Vec<Diagnostic>,
) {
    for (name, namespace) in overrides {
        if let Some(ns) = namespace {
            out.push(
                Diagnostic::error(
                    file,
                    ns.pos(),
                    format!("environment `{env_name}` moves `{name}` to another namespace"),
                )
                .with_help(format!(
                    "namespaces are the same in every environment; set `namespace` on the {what} itself"
                )),
            );
        }
    }
}

/// The value checks of resolving, for the base and each environment.
fn check_values(p: &Platform, file: &Path, out: &mut Vec<Diagnostic>) {
    // Value checks run per environment; report each distinct error once.
    let envs = std::iter::once(None).chain(p.environments.keys().map(|k| Some(k.as_str())));
    for env in envs {
        if let Err(errors) = super::resolve::resolve(p, env, file) {
            // An environment repeats the errors of the base (with scaled numbers,
            // say): report each place once, and name the environment otherwise.
            let earlier = out.len();
            for mut e in errors {
                if out[..earlier].iter().any(|o| o.pos == e.pos) {
                    continue;
                }
                if let Some(env) = env {
                    e.message = format!("{} (in environment `{env}`)", e.message);
                }
                if !out.contains(&e) {
                    out.push(e);
                }
            }
        }
    }
}

fn overrides_exist<V, W>(
    overrides: &BTreeMap<Name, V>,
    declared: &BTreeMap<Name, W>,
    what: &str,
    file: &Path,
    out: &mut Vec<Diagnostic>,
) {
    for name in overrides.keys() {
        if !declared.contains_key(name.as_str()) {
            let d = Diagnostic::error(file, name.pos(), format!("override for `{name}`, which is no {what}"));
            out.push(match did_you_mean(name, declared.keys().map(|k| k.as_str())) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d,
            });
        }
    }
}

pub use crate::model::is_label;

fn check_label(name: &Name, what: &str, file: &Path, out: &mut Vec<Diagnostic>) {
    if !is_label(name) {
        out.push(Diagnostic::error(file, name.pos(), format!("invalid {what} `{name}`")).with_help(
            "use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit",
        ));
    }
}

/// A label of `cluster.monitoringSelector`: a Kubernetes label key
/// (`[prefix/]name`) and value, or the API server refuses the objects.
fn check_selector_label(key: &Name, value: &Spanned<String>, file: &Path, out: &mut Vec<Diagnostic>) {
    let (prefix, name) = key.rsplit_once('/').map_or((None, key.as_str()), |(p, n)| (Some(p), n));
    let prefix_ok = prefix.is_none_or(|p| p.len() <= 253 && p.split('.').all(is_label));
    if !prefix_ok || name.is_empty() || !is_label_value(name) {
        out.push(Diagnostic::error(file, key.pos(), format!("invalid label key `{key}`")).with_help(
            "a key is an optional DNS prefix and `/`, then at most 63 letters, digits, '-', '_' and '.', \
             starting and ending with a letter or digit",
        ));
    }
    if prefix == Some("app.kubernetes.io") {
        out.push(
            Diagnostic::error(file, key.pos(), format!("label `{key}` is kubeproof's own"))
                .with_help("kubeproof sets the `app.kubernetes.io/` labels itself; select by another label"),
        );
    }
    if !is_label_value(&value.value) {
        out.push(
            Diagnostic::error(file, pos_of(&value.referenced), format!("invalid label value `{}`", value.value))
                .with_help("at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit"),
        );
    }
}

/// A Kubernetes label or annotation key: an optional DNS prefix and `/`,
/// then a name of at most 63 letters, digits, '-', '_' and '.'.
pub(crate) fn is_qualified_key(key: &str) -> bool {
    let (prefix, name) = key.rsplit_once('/').map_or((None, key), |(p, n)| (Some(p), n));
    prefix.is_none_or(|p| p.len() <= 253 && p.split('.').all(is_label)) && !name.is_empty() && is_label_value(name)
}

/// A Kubernetes label value (also the name part of a key, when not empty).
pub(crate) fn is_label_value(s: &str) -> bool {
    let alnum = |c: Option<char>| c.is_none_or(|c| c.is_ascii_alphanumeric());
    s.len() <= 63
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && alnum(s.chars().next())
        && alnum(s.chars().last())
}

/// RFC 1035 label: Service names must also start with a letter.
fn check_dns1035(name: &Name, what: &str, file: &Path, out: &mut Vec<Diagnostic>) {
    if !is_label(name) || !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.push(Diagnostic::error(file, name.pos(), format!("invalid {what} name `{name}`")).with_help(
            "it becomes a Service name: at most 63 lower-case letters, digits and '-', starting with a letter",
        ));
    }
}
