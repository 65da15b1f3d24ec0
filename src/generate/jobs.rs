//! The platform's jobs and cronjobs: a ServiceAccount, the Secrets they
//! read, and the Job or CronJob, in pods built like a service's
//! ([`super::workloads::hardened_pod`]).
//!
//! A job runs once per release, before the services that declare `after:`
//! on it (a database migration before the code that needs the new schema).
//! A Job's pod template is immutable, so `kubectl apply` refuses a changed
//! Job; the Job's name therefore carries a hash of its spec (`migrate-
//! 1a2b3c4d`, as kustomize names generated ConfigMaps): a release that
//! changes the job (its image, most often) creates a new Job, one that does
//! not re-applies the same Job, a no-op. `ttlSecondsAfterFinished` deletes
//! it a day after it finished.
//!
//! Who runs it first:
//! - plain kustomize: `kustomize/pre-deploy/ENV` builds the overlay without
//!   the Deployments that wait (apply it, `kubectl wait
//!   --for=condition=complete` for the Jobs, then apply the overlay; the
//!   generated README lists the commands). On a first install the
//!   datastores come up with it; the Job's retries wait for them.
//! - Argo CD: a `Sync` hook in sync wave 1 — after wave 0 (namespaces,
//!   datastores, everything else) is healthy, before wave 2, the
//!   Deployments that wait. Not `PreSync`: that runs before anything is
//!   applied, so on a first install before the datastore the job migrates
//!   exists. A hook is not compared with the cluster, so the Job's deletion
//!   after its TTL does not leave the application out of sync.
//! - Helm (the objects as a chart's templates): `post-install` (after the
//!   release's objects are created: the datastore exists) and `pre-upgrade`
//!   (before the new Deployments), the previous Job deleted first.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1 as batch;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use super::workloads::{Wiring, hardened_container, hardened_pod, job_wiring};
use super::*;
use crate::description::Mesh;
use crate::description::resolve::{CronR, JobR, Resolved};

/// The annotation ordering a workload in Argo CD's sync waves.
pub const SYNC_WAVE: &str = "argocd.argoproj.io/sync-wave";
/// The wave of the jobs; the Deployments that wait for them come in the next.
const JOB_WAVE: &str = "1";
const AFTER_WAVE: &str = "2";

/// What the jobs of one environment ask of its deployment: the Jobs to
/// wait for, and the Deployments that wait (left out of `pre-deploy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Release {
    /// (namespace, Job name with its hash, its deadline in seconds).
    pub jobs: Vec<(String, String, u32)>,
    /// (namespace, Deployment name).
    pub waiting: Vec<(String, String)>,
    /// (namespace, Secret name): the Secrets the Jobs read, generated without
    /// kustomize's content-hash suffix (see [`env`]).
    pub stable_secrets: Vec<(String, String)>,
}

/// Every job and cronjob of `r`; the Deployments of services with `after:`
/// (generated before) go into the next sync wave.
pub fn jobs(r: &Resolved, stack: &mut Stack) {
    for j in &r.jobs {
        let name = job(r, j, stack);
        stack.release.jobs.push((j.namespace.clone(), name, j.active_deadline));
    }
    for c in &r.cronjobs {
        cronjob(r, c, stack);
    }
    for svc in r.services.iter().filter(|s| !s.after.is_empty()) {
        for o in stack.objects.iter_mut().filter(|o| o.kind == "Deployment") {
            let pods = o.value.pointer("/spec/template/metadata/labels/app.kubernetes.io~1name");
            if o.namespace.as_deref() == Some(svc.namespace.as_str()) && pods == Some(&Value::from(svc.name.as_str())) {
                annotate(&mut o.value, SYNC_WAVE, AFTER_WAVE);
                stack.release.waiting.push((svc.namespace.clone(), o.name.clone()));
            }
        }
    }
}

/// Sets one annotation of an object's metadata.
pub(super) fn annotate(value: &mut Value, key: &str, v: &str) {
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(key.to_string(), Value::from(v));
        }
    }
}

/// The Job of `j`, named `NAME-HASH`; returns that name.
fn job(r: &Resolved, j: &JobR, stack: &mut Stack) -> String {
    let labels = labels(&r.platform, &j.name, "job");
    let spec = batch::JobSpec {
        ttl_seconds_after_finished: Some(j.ttl_after_finished as i32),
        ..job_spec(r, j, &labels, true, stack)
    };
    // The spec decides the name: the same spec, the same Job (a no-op on
    // re-apply); another spec, another Job (a template cannot change).
    let hash = &crate::model::digest::sha256_hex(&serde_json::to_vec(&spec).unwrap_or_default())[..8];
    let name = format!("{}-{hash}", j.name);
    let mut metadata = meta(&name, &j.namespace, &labels);
    metadata.annotations = Some(BTreeMap::from([
        ("argocd.argoproj.io/hook".to_string(), "Sync".to_string()),
        ("argocd.argoproj.io/hook-delete-policy".to_string(), "BeforeHookCreation".to_string()),
        (SYNC_WAVE.to_string(), JOB_WAVE.to_string()),
        ("helm.sh/hook".to_string(), "post-install,pre-upgrade".to_string()),
        ("helm.sh/hook-delete-policy".to_string(), "before-hook-creation".to_string()),
    ]));
    stack.push(&batch::Job { metadata, spec: Some(spec), ..Default::default() });
    name
}

/// The CronJob of `c`.
fn cronjob(r: &Resolved, c: &CronR, stack: &mut Stack) {
    let labels = labels(&r.platform, &c.job.name, "cronjob");
    let spec = job_spec(r, &c.job, &labels, false, stack);
    stack.push(&batch::CronJob {
        metadata: meta(&c.job.name, &c.job.namespace, &labels),
        spec: Some(batch::CronJobSpec {
            schedule: c.schedule.clone(),
            time_zone: c.time_zone.clone(),
            concurrency_policy: Some(c.concurrency_policy.as_str().into()),
            starting_deadline_seconds: Some(c.starting_deadline.into()),
            successful_jobs_history_limit: Some(c.successful_history as i32),
            failed_jobs_history_limit: Some(c.failed_history as i32),
            suspend: c.suspend.then_some(true),
            job_template: batch::JobTemplateSpec {
                metadata: Some(ObjectMeta { labels: Some(labels.clone()), ..Default::default() }),
                spec: Some(spec),
            },
        }),
        ..Default::default()
    });
}

/// A run of `j`: its ServiceAccount and Secrets pushed, the pod retried
/// `backoffLimit` times within the deadline, never restarted in place (a
/// failed run's pod stays for its logs).
fn job_spec(
    r: &Resolved,
    j: &JobR,
    labels: &BTreeMap<String, String>,
    stable: bool,
    stack: &mut Stack,
) -> batch::JobSpec {
    stack.push(&core::ServiceAccount {
        metadata: meta(&j.name, &j.namespace, labels),
        automount_service_account_token: Some(false),
        ..Default::default()
    });
    let (tmp, tmp_mount) = scratch("tmp", "/tmp");
    let container = core::Container {
        command: j.command.clone(),
        args: j.args.clone(),
        env: Some(env(r, j, stable, stack)),
        resources: Some(resources(&j.requests, &j.limits)),
        volume_mounts: Some(vec![tmp_mount]),
        ..hardened_container(&j.name, &j.image)
    };
    // Under Istio the pod gets a sidecar; a classic one would keep the Job
    // running forever, a native one (Kubernetes 1.28+) stops with it.
    let annotations = (r.mesh == Mesh::Istio)
        .then(|| BTreeMap::from([("sidecar.istio.io/nativeSidecar".to_string(), "true".to_string())]));
    batch::JobSpec {
        backoff_limit: Some(j.backoff_limit as i32),
        active_deadline_seconds: Some(j.active_deadline.into()),
        template: core::PodTemplateSpec {
            metadata: Some(ObjectMeta { labels: Some(labels.clone()), annotations, ..Default::default() }),
            spec: Some(core::PodSpec {
                restart_policy: Some("Never".into()),
                volumes: Some(vec![tmp]),
                ..hardened_pod(&j.name, j.run_as_user, false, vec![container])
            }),
        },
        ..Default::default()
    }
}

/// The container's variables, all in the pod spec (a Job is made once, so
/// a ConfigMap would only be one more object to order before it): the
/// plain settings of `uses` and `env`, then its secrets, then the wired
/// credentials and the URLs the kubelet composes from them (`$(VAR)` reads
/// only variables defined before it).
///
/// `stable`: a Job's Secrets keep their name. kustomize appends a hash of a
/// generated Secret's content to its name and rewrites the references, so a
/// changed password would change the Job's pod template, which the API
/// server refuses to update. A Job reads its own Secret and its own copy of
/// each datastore's credentials (`JOB.DB-credentials`, from the same file;
/// the dot, which no name of the description has, keeps it from meeting
/// another datastore's `NAME-credentials`),
/// generated without the suffix; the services' Secrets keep theirs (a new
/// value rolls their pods). A CronJob's template may change: no copies.
fn env(r: &Resolved, j: &JobR, stable: bool, stack: &mut Stack) -> Vec<core::EnvVar> {
    let Wiring { config, env: mut wired, secrets, values, mut templated } = job_wiring(r, j);
    for mut source in secrets {
        if stable {
            let own = format!("{}.{}", j.name, source.name);
            // Templates read the same credentials: the same copy.
            for var in wired.iter_mut().chain(templated.iter_mut()) {
                let sel = var.value_from.as_mut().and_then(|v| v.secret_key_ref.as_mut());
                if let Some(sel) = sel.filter(|s| s.name == source.name) {
                    sel.name.clone_from(&own);
                }
            }
            source.name = own;
            stack.release.stable_secrets.push((source.namespace.clone(), source.name.clone()));
        }
        stack.secrets.push(source);
    }
    let mut plain = config;
    plain.extend(values);
    plain.extend(j.env.clone());
    let mut env: Vec<core::EnvVar> = plain.iter().map(|(k, v)| env_value(k, v)).collect();
    if !j.secrets.is_empty() {
        let secret = format!("{}-secrets", j.name);
        if stable {
            stack.release.stable_secrets.push((j.namespace.clone(), secret.clone()));
        }
        stack.secrets.push(SecretSource {
            name: secret.clone(),
            namespace: j.namespace.clone(),
            file: format!("{}.env", j.name),
            keys: j.secrets.clone(),
        });
        env.extend(j.secrets.iter().map(|k| env_secret(k, &secret, k)));
    }
    env.extend(wired);
    // After everything their `$(VAR)` may name.
    env.extend(templated);
    env
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::resolve::jobs::ACTIVE_DEADLINE;
    use crate::generate::monitoring::resolved;

    const TEXT: &str = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\n\
        cluster: { kubernetes: \"1.30\", mesh: istio }\n\
        services:\n  \
          web: { image: ghcr.io/example/web:1.0.0, port: 8080, after: [migrate], \
                 traffic: { canary: { image: ghcr.io/example/web:1.1.0, steps: [10, 50] } } }\n  \
          api: { image: ghcr.io/example/api:1.0.0, port: 8080, namespace: api }\n\
        jobs:\n  \
          migrate: { image: ghcr.io/example/migrate:1.0.0, namespace: data }\n";

    #[test]
    fn the_release_waits_for_its_jobs_with_every_deployment_of_the_service() {
        let r = resolved(TEXT);
        let stack = crate::generate::generate(&r);
        let (ns, name, deadline) = &stack.release.jobs[0];
        assert_eq!((ns.as_str(), *deadline), ("data", ACTIVE_DEADLINE));
        assert!(name.starts_with("migrate-"), "{name}");
        // The canary rolls the new image too: it waits as well.
        let waiting: Vec<(&str, &str)> = stack.release.waiting.iter().map(|(n, d)| (n.as_str(), d.as_str())).collect();
        assert_eq!(waiting, [("shop", "web"), ("shop", "web-canary")]);
        let wave = |name: &str| {
            let d = stack.objects.iter().find(|o| o.kind == "Deployment" && o.name == name).expect("generated");
            d.value.pointer("/metadata/annotations/argocd.argoproj.io~1sync-wave").cloned()
        };
        assert_eq!(wave("web"), Some(Value::from(AFTER_WAVE)));
        assert_eq!(wave("api"), None, "api waits for nothing");
        // The job's own namespace gets what every namespace gets.
        assert!(stack.objects.iter().any(|o| o.kind == "Namespace" && o.name == "data"));
        assert!(stack.objects.iter().any(|o| o.id() == "NetworkPolicy/data/default-deny"));
        // It uses nothing: no policy of its own, nothing stable to generate.
        assert!(!stack.objects.iter().any(|o| o.id() == "NetworkPolicy/data/migrate"));
        assert!(stack.release.stable_secrets.is_empty());
    }
}
