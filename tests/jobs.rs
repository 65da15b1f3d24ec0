//! The platform's jobs and cronjobs (`tests/data/jobs/shop.yaml`): a
//! migration Job named by a hash of its spec (a new Job when the image
//! changes, the same one otherwise), with the hooks Argo CD and Helm order
//! it by, run first by `kustomize/pre-deploy/ENV` for plain kubectl; a
//! CronJob with the written schedule, time zone and defaults. Every build
//! (base, overlays, pre-deploy) passes `kubectl kustomize` and
//! `kubernetes-validate`; the network policies let the jobs reach their
//! datastore (the proof `gen` runs, and `reach`'s evaluation here); mistakes
//! are errors at their line and column.

use crate::common;

use std::path::Path;

use kubeproof::build::connections::judge;
use kubeproof::generate::connections::{Class, End, intended};
use kubeproof::model::Manifests;
use serde_json::Value;

const SHOP: &str = "tests/data/jobs/shop.yaml";

fn shop_text() -> String {
    std::fs::read_to_string(common::repo().join(SHOP)).expect("the fixture")
}

/// `gen` in process on a description's text: each environment's objects.
fn build(text: &str) -> kubeproof::build::Built {
    let file = Path::new("platform.yaml");
    let p = kubeproof::description::parse(text, file).expect("a valid description");
    kubeproof::build::build(&p, file).expect("gen builds it")
}

/// The objects of kind `kind` in environment `env`, by name.
fn objects<'a>(built: &'a kubeproof::build::Built, env: &str, kind: &str) -> Vec<&'a kubeproof::generate::Object> {
    let (_, stack) = built.envs.iter().find(|(e, _)| e == env).expect("the environment");
    stack.objects.iter().filter(|o| o.kind == kind).collect()
}

fn job_name(built: &kubeproof::build::Built, env: &str) -> String {
    let jobs = objects(built, env, "Job");
    assert_eq!(jobs.len(), 1, "one Job");
    jobs[0].name.clone()
}

#[test]
fn a_job_is_named_by_a_hash_of_its_spec() {
    let text = shop_text();
    let built = build(&text);
    let name = job_name(&built, "staging");
    let hash = name.strip_prefix("migrate-").expect("named after the job");
    assert!(hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
    // The same description, the same Job: applied again, a no-op.
    assert_eq!(job_name(&build(&text), "staging"), name);
    // Something the Job does not run: the same Job.
    let other = text.replace("port: 8080", "port: 8081");
    assert_ne!(other, text);
    assert_eq!(job_name(&build(&other), "staging"), name);
    // Another image: another Job, as its template cannot change.
    let newer = text.replace("shop-migrate:1.0.0", "shop-migrate:1.0.2");
    assert_ne!(job_name(&build(&newer), "staging"), name);
    // An environment's own image (production overrides it): its own Job.
    assert_ne!(job_name(&built, "production"), name);
}

#[test]
fn a_job_carries_the_hooks_and_its_run_settings() {
    let built = build(&shop_text());
    let job = &objects(&built, "production", "Job")[0].value;
    let a = &job["metadata"]["annotations"];
    assert_eq!(a["argocd.argoproj.io/hook"], "Sync");
    assert_eq!(a["argocd.argoproj.io/sync-wave"], "1");
    assert_eq!(a["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation");
    assert_eq!(a["helm.sh/hook"], "post-install,pre-upgrade");
    assert_eq!(a["helm.sh/hook-delete-policy"], "before-hook-creation");
    let spec = &job["spec"];
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["activeDeadlineSeconds"], 1800, "activeDeadline: 30m");
    assert_eq!(spec["ttlSecondsAfterFinished"], 86400);
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    assert_eq!(pod["serviceAccountName"], "migrate");
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = common::pod_container(pod, "migrate");
    assert_eq!(c["image"], "ghcr.io/example/shop-migrate:1.0.1", "production's image");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    let env: Vec<&str> = c["env"].as_array().expect("env").iter().filter_map(|e| e["name"].as_str()).collect();
    // Plain values first, then secrets, then the URL composed from them.
    assert_eq!(
        env,
        [
            "DB_DATABASE",
            "DB_HOST",
            "DB_PORT",
            "MIGRATIONS_DIR",
            "MIGRATE_TOKEN",
            "DB_USER",
            "DB_PASSWORD",
            "DB_USER_URLENCODED",
            "DB_PASSWORD_URLENCODED",
            "DB_URL"
        ]
    );
    let secret_of = |var: &str| {
        let e = c["env"].as_array().and_then(|a| a.iter().find(|e| e["name"] == var)).expect("the variable");
        e["valueFrom"]["secretKeyRef"]["name"].as_str().expect("a secret").to_string()
    };
    // The Job's own copy of the credentials, generated without a hash suffix.
    assert_eq!(secret_of("DB_PASSWORD"), "migrate.db-credentials");
    // Its URL reads the encoded keys of the same copy: any password works.
    assert_eq!(secret_of("DB_PASSWORD_URLENCODED"), "migrate.db-credentials");
    assert_eq!(secret_of("MIGRATE_TOKEN"), "migrate-secrets");
    // The service that waits comes in the next sync wave.
    let web = &objects(&built, "production", "Deployment")[0].value;
    assert_eq!(web["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "2");
}

#[test]
fn a_cronjob_has_its_schedule_and_the_defaults() {
    let built = build(&shop_text());
    let staging = &objects(&built, "staging", "CronJob")[0].value;
    assert_eq!(staging["metadata"]["name"], "report");
    let spec = &staging["spec"];
    assert_eq!(spec["schedule"], "30 2 * * *");
    assert_eq!(spec["timeZone"], "Europe/Berlin");
    assert_eq!(spec["concurrencyPolicy"], "Forbid");
    assert_eq!(spec["successfulJobsHistoryLimit"], 3);
    assert_eq!(spec["failedJobsHistoryLimit"], 3);
    assert_eq!(spec["startingDeadlineSeconds"], 300);
    assert_eq!(spec["suspend"], Value::Null);
    let job = &spec["jobTemplate"]["spec"];
    assert_eq!(job["backoffLimit"], 6);
    assert_eq!(job["ttlSecondsAfterFinished"], Value::Null, "the history limits keep runs");
    let pod = &job["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Never");
    // A CronJob's template may change: it reads the hashed Secret as services do.
    let c = common::pod_container(pod, "report");
    let password = c["env"].as_array().and_then(|a| a.iter().find(|e| e["name"] == "DB_PASSWORD")).expect("wired");
    assert_eq!(password["valueFrom"]["secretKeyRef"]["name"], "db-credentials");
    let production = &objects(&built, "production", "CronJob")[0].value;
    assert_eq!(production["spec"]["suspend"], true, "production suspends it");
}

#[test]
fn the_jobs_reach_their_datastore_and_nothing_else_is_open() {
    let file = common::repo().join(SHOP);
    let platform = kubeproof::description::load(&file).expect("the fixture loads");
    // `gen` proves every intended connection open, and nothing more.
    let built = kubeproof::build::build(&platform, &file).expect("gen proves its connections");
    for (env, stack) in &built.envs {
        let r = kubeproof::description::resolve::resolve(&platform, Some(env), &file).expect("resolves");
        let wanted = intended(&r);
        for job in ["migrate", "report"] {
            let from = End::Workload { namespace: "shop".into(), name: job.into() };
            let to = End::Workload { namespace: "shop".into(), name: "db".into() };
            let edge: Vec<_> = wanted.iter().filter(|c| c.class == Class::Uses && c.from == from).collect();
            assert_eq!(edge.len(), 1, "{env}: {job} uses db only: {edge:?}");
            assert_eq!((&edge[0].to, edge[0].port), (&to, 5432));
        }
        let loaded = kubeproof::build::stack_sources("overlay", stack).expect("loads");
        let cx = Manifests::new(&loaded);
        let (proven, blocked) = judge(&cx, &wanted);
        assert!(blocked.is_empty(), "{env}: {blocked:?}");
        let migrate = proven.iter().find(|p| p.connection.from.to_string() == "shop/migrate").expect("proven");
        let by: String = migrate.allowed_by.join(" ");
        assert!(by.contains("migrate") && by.contains("db"), "{env}: opened by both ends' policies: {by}");
        // Without the datastore's rule for it, the job is blocked.
        let mut cut = stack.clone();
        for o in cut.objects.iter_mut().filter(|o| o.kind == "NetworkPolicy" && o.name == "db") {
            let from = o.value.pointer_mut("/spec/ingress/0/from").and_then(Value::as_array_mut).expect("rule");
            from.retain(|peer| {
                peer.pointer("/podSelector/matchLabels/app.kubernetes.io~1name") != Some(&"migrate".into())
            });
        }
        let loaded = kubeproof::build::stack_sources("overlay", &cut).expect("loads");
        let (_, blocked) = judge(&Manifests::new(&loaded), &wanted);
        assert_eq!(blocked.len(), 1, "{env}: {blocked:?}");
        assert_eq!(blocked[0].connection.from.to_string(), "shop/migrate");
    }
}

#[test]
fn under_istio_the_jobs_stop_with_a_native_sidecar_and_are_authorized() {
    let text = shop_text().replace("kubernetes: \"1.30\"", "kubernetes: \"1.30\", mesh: istio");
    // `gen` proves the connections under the mesh's authorization too.
    let built = build(&text);
    let job = &objects(&built, "staging", "Job")[0].value;
    assert_eq!(job["spec"]["template"]["metadata"]["annotations"]["sidecar.istio.io/nativeSidecar"], "true");
    let policies = objects(&built, "staging", "AuthorizationPolicy");
    let db = policies.iter().find(|o| o.name == "db").expect("the datastore's policy");
    let text = db.value.to_string();
    for sa in ["cluster.local/ns/shop/sa/migrate", "cluster.local/ns/shop/sa/report"] {
        assert!(text.contains(sa), "{sa} in {text}");
    }
}

/// Every build of the generated stack: base, overlays, pre-deploy.
#[test]
fn every_build_passes_kustomize_and_the_schema() {
    if !common::have_kubectl() || !common::have_validator() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    common::gen_ok(&common::repo().join(SHOP), &out);
    let k = out.join("kustomize");
    for env in ["staging", "production"] {
        common::prepare_secrets(&k.join("overlays").join(env));
    }
    let mut builds = Vec::new();
    for dir in ["base", "overlays/staging", "overlays/production", "pre-deploy/staging", "pre-deploy/production"] {
        let yaml = common::kustomize(&k.join(dir)).unwrap_or_else(|e| panic!("{e}"));
        builds.push((dir, yaml));
    }
    let yamls: Vec<&str> = builds.iter().map(|(_, y)| y.as_str()).collect();
    for ((dir, _), result) in builds.iter().zip(common::validate_many(&yamls, "1.30")) {
        let v = result.unwrap_or_else(|e| panic!("{dir}: {e}"));
        assert!(v.passed > 20, "{dir}: {v:?}");
    }
    let ids = |dir: &str| -> Vec<String> {
        let (_, yaml) = builds.iter().find(|(d, _)| *d == dir).expect("built");
        common::parse_built(yaml).expect("parses").iter().map(common::object_id).collect()
    };
    for env in ["staging", "production"] {
        let overlay = ids(&format!("overlays/{env}"));
        let pre = ids(&format!("pre-deploy/{env}"));
        let job = overlay.iter().find(|i| i.starts_with("Job/shop/migrate-")).expect("the Job");
        assert!(pre.contains(job), "{env}: pre-deploy runs the Job");
        assert!(overlay.contains(&"Deployment/shop/web".to_string()));
        assert!(!pre.contains(&"Deployment/shop/web".to_string()), "{env}: web waits for the Job");
        // Everything else is in both: the Job finds its datastore, Secrets and policies.
        let rest: Vec<&String> = overlay.iter().filter(|i| *i != "Deployment/shop/web").collect();
        assert_eq!(rest, pre.iter().collect::<Vec<_>>(), "{env}");
        // Only the base's Job is replaced, by the environment's.
        assert_eq!(overlay.iter().filter(|i| i.starts_with("Job/")).count(), 1, "{env}: {overlay:?}");
        let readme = std::fs::read_to_string(out.join("README.md")).expect("README");
        let name = job.rsplit('/').next().expect("name");
        let wait = format!("kubectl -n shop wait --for=condition=complete --timeout=1800s job/{name}");
        let order = [
            format!("kubectl apply -k kustomize/pre-deploy/{env}"),
            wait,
            format!("kubectl apply -k kustomize/overlays/{env}"),
        ];
        let at: Vec<usize> =
            order.iter().map(|l| readme.find(l.as_str()).unwrap_or_else(|| panic!("`{l}` in README"))).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{env}: apply, wait, apply: {at:?}");
    }
    // The Secrets a Job reads keep their name; the services' are hashed.
    let (_, prod) = builds.iter().find(|(d, _)| *d == "overlays/production").expect("built");
    let secrets: Vec<String> = common::parse_built(prod)
        .expect("parses")
        .iter()
        .filter(|o| o["kind"] == "Secret")
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    assert!(secrets.contains(&"migrate.db-credentials".to_string()), "{secrets:?}");
    assert!(secrets.contains(&"migrate-secrets".to_string()), "{secrets:?}");
    assert!(secrets.iter().any(|s| s.starts_with("db-credentials-")), "{secrets:?}");
}

#[test]
fn the_failed_job_alerts_pass_promtool() {
    if !common::tool_available("promtool", &["--version"]) {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("deploy");
    common::gen_ok(&common::repo().join(SHOP), &out);
    for dir in ["monitoring", "monitoring/staging", "monitoring/production"] {
        let d = out.join(dir);
        let rules = std::fs::read_to_string(d.join("rules.yaml")).expect("rules");
        assert_eq!(rules.matches("alert: JobFailed").count(), 2, "{dir}: migrate and report");
        assert!(rules.contains("job_name=~\"report-[0-9]+\""), "{dir}");
        let o = std::process::Command::new("promtool")
            .current_dir(&d)
            .args(["test", "rules", "rules.test.yaml"])
            .output()
            .expect("promtool runs");
        assert!(
            o.status.success(),
            "{dir}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// `gen` on `text`: refused with exit 2, nothing written, and the error
/// `message` at the line and column of `needle` (which occurs once), with
/// its help line starting with `help`.
fn assert_refused(text: &str, needle: &str, message: &str, help: &str) {
    assert_eq!(text.matches(needle).count(), 1, "`{needle}` once in:\n{text}");
    let at = text.find(needle).expect("found");
    let line = text[..at].matches('\n').count() + 1;
    let column = text[..at].rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("platform.yaml"), text).expect("written");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .current_dir(dir.path())
        .args(["gen", "platform.yaml", "-o", "deploy"])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(!dir.path().join("deploy").exists(), "nothing written");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let start = stderr.find(&format!("error: {message}")).unwrap_or_else(|| panic!("`{message}` in:\n{stderr}"));
    let block = &stderr[start..];
    let block = &block[..block.find("\n\n").unwrap_or(block.len())];
    assert!(block.contains(&format!("--> platform.yaml:{line}:{column}\n")), "at {line}:{column}:\n{block}");
    assert!(block.contains(&format!("= help: {help}")), "help `{help}` in:\n{block}");
}

#[test]
fn an_invalid_schedule_is_an_error_at_its_line() {
    let text = shop_text().replace("\"30 2 * * *\"", "\"30 25 * * *\"");
    assert_refused(&text, "\"30 25", "invalid schedule `30 25 * * *`: hour `25`: 25 is outside 0-23", "e.g.");
    let text = shop_text().replace("\"30 2 * * *\"", "\"30 2 * *\"");
    assert_refused(&text, "\"30 2 * *\"", "invalid schedule `30 2 * *`: a schedule has 5 fields", "e.g.");
}

#[test]
fn after_an_unknown_job_is_an_error_at_its_line() {
    let text = shop_text().replace("after: [migrate]", "after: [migrat]");
    assert_refused(&text, "migrat]", "`after` names `migrat`, which is no job", "did you mean `migrate`?");
    let text = shop_text().replace("after: [migrate]", "after: [report]");
    assert_refused(&text, "report]", "`after` names `report`, which is no job", "`report` is a cronjob");
}

#[test]
fn a_job_is_no_target_of_uses() {
    let text = shop_text().replace("    uses: [db]\n    after", "    uses: [db, migrate]\n    after");
    assert_refused(
        &text,
        "migrate]\n    after",
        "`uses` names `migrate`, which is a job: it serves nothing",
        "to run after it",
    );
}

/// A worker has no port: a job or cronjob `uses` it in vain, as a service
/// would (its network policy would open every port of the worker).
#[test]
fn a_worker_is_no_target_of_a_jobs_uses() {
    let worker = "services:\n  consumer:\n    image: ghcr.io/example/consumer:1.0.0\n";
    let text = shop_text().replace("services:\n", worker);
    let job = text.replace("    uses: [db]\n    secrets", "    uses: [db, consumer]\n    secrets");
    let help = "remove `consumer` from `uses` (a worker reaches what it needs itself), or give `consumer` the `port` \
                it serves on";
    assert_refused(&job, "consumer]\n    secrets", "`migrate` uses `consumer`, a worker", help);
    let cron = text.replace("    uses: [db]\n    startingDeadline", "    uses: [consumer, db]\n    startingDeadline");
    assert_refused(&cron, "consumer, db]", "`report` uses `consumer`, a worker", help);
}

#[test]
fn a_time_zone_is_an_iana_name() {
    let text = shop_text().replace("Europe/Berlin", "Europe Berlin");
    assert_refused(&text, "Europe Berlin", "invalid timeZone `Europe Berlin`", "an IANA time zone name");
}

#[test]
fn a_job_shares_the_names_of_services_and_datastores() {
    let text = shop_text().replace("  report:\n", "  db:\n");
    assert_refused(&text, "db:\n    image", "duplicate name `db`: a datastore has it already", "the first is at line");
}

/// The jobs' alerts read a series the cluster exports (kube-state-metrics),
/// as every generated rule must (tests/alert_series.rs, for the examples).
#[test]
fn the_failed_job_alerts_read_exported_series() {
    let file = common::repo().join(SHOP);
    let p = kubeproof::description::load(&file).expect("the fixture loads");
    let built = kubeproof::build::build(&p, &file).expect("generated");
    for env in [None, Some("staging"), Some("production")] {
        let r = kubeproof::description::resolve::resolve(&p, env, &file).expect("resolves");
        let path = env.map_or_else(|| "monitoring/rules.yaml".to_string(), |e| format!("monitoring/{e}/rules.yaml"));
        let text = std::str::from_utf8(built.tree.get(Path::new(&path)).expect("written")).expect("UTF-8");
        let groups: Value = serde_saphyr::from_str(text).expect("YAML");
        let jobs = groups["groups"].as_array().and_then(|g| g.iter().find(|g| g["name"] == "shop.jobs")).expect("jobs");
        assert_eq!(jobs["rules"].as_array().map(Vec::len), Some(2), "{path}");
        let found = kubeproof::generate::monitoring::series::unknown(&r, &groups);
        assert!(found.is_empty(), "{path}: {:?}", found.iter().map(|u| &u.metric).collect::<Vec<_>>());
    }
}

#[test]
fn a_job_cannot_take_the_name_of_a_backup() {
    let text = shop_text()
        .replace("  report:\n", "  db-backup:\n")
        .replace("storage: 20Gi }", "storage: 20Gi, backup: { every: 1d, keep: 7d } }")
        + "backup: { bucket: s3://shop-backups }\n";
    assert_refused(
        &text,
        "db-backup:",
        "cronjob `db-backup` has the name of a backup of `db`",
        "`db` declares `backup`",
    );
    // Nor the name of the Job the runbook starts from the restore CronJob.
    assert_refused(
        &text.replace("  db-backup:\n", "  db-restore-run:\n"),
        "db-restore-run:",
        "cronjob `db-restore-run` has the name of a backup of `db`",
        "`db` declares `backup`: its CronJobs are `db-backup` and `db-restore`, and a restore runs as the Job `db-restore-run`",
    );
}

#[test]
fn an_environment_waits_only_for_declared_jobs() {
    let text = shop_text()
        .replace("  staging: { scale: 0.5 }", "  staging: { scale: 0.5, services: { web: { after: [seed] } } }");
    assert_refused(&text, "seed]", "`after` names `seed`, which is no job", "declared jobs: migrate");
    let text = shop_text()
        .replace("  staging: { scale: 0.5 }", "  staging: { scale: 0.5, jobs: { migrat: { backoffLimit: 2 } } }");
    assert_refused(&text, "migrat: {", "override for `migrat`, which is no job", "did you mean `migrate`?");
}

/// `kubeproof schema` offers the new fields to editors.
#[test]
fn the_schema_has_jobs_cronjobs_and_after() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kubeproof")).arg("schema").output().expect("runs");
    assert!(o.status.success());
    let s: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert!(s["properties"]["jobs"].is_object() && s["properties"]["cronjobs"].is_object(), "{}", s["properties"]);
    let defs = &s["$defs"];
    assert!(defs["Service"]["properties"]["after"].is_object());
    for field in ["schedule", "timeZone", "concurrencyPolicy", "startingDeadline", "suspend", "uses"] {
        assert!(defs["CronJob"]["properties"][field].is_object(), "CronJob.{field}");
    }
    for field in ["backoffLimit", "activeDeadline", "ttlAfterFinished", "uses", "secrets"] {
        assert!(defs["Job"]["properties"][field].is_object(), "Job.{field}");
    }
    assert!(defs["Environment"]["properties"]["jobs"].is_object());
}

/// The fixture with `env` templates in the migration Job and the CronJob.
fn templated_text() -> String {
    let text = shop_text()
        .replace(
            "env: { MIGRATIONS_DIR: /app/migrations }",
            "env: { MIGRATIONS_DIR: /app/migrations, DATABASE_URL: \"${db.url}\", DB_ADDR: \"${db.host}:${db.port}\" }",
        )
        .replace("    startingDeadline: 5m\n", "    startingDeadline: 5m\n    env: { DATABASE_URL: \"${db.url}\" }\n");
    assert_eq!(text.matches("${db.url}").count(), 2, "both replaced");
    text
}

/// A container's variable by name.
fn var<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["env"].as_array().and_then(|a| a.iter().find(|e| e["name"] == name)).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn env_templates_of_a_job_and_a_cronjob_read_the_encoded_credentials() {
    let built = build(&templated_text());
    let job = &objects(&built, "production", "Job")[0].value;
    let c = common::pod_container(&job["spec"]["template"]["spec"], "migrate");
    assert_eq!(var(c, "DB_ADDR")["value"], "db.shop.svc.cluster.local:5432", "resolved at generation");
    let url = var(c, "DATABASE_URL")["value"].as_str().expect("a value");
    assert!(
        url.starts_with(
            "postgresql://$(KUBEPROOF_DB_POSTGRES_USER_URLENCODED):$(KUBEPROOF_DB_POSTGRES_PASSWORD_URLENCODED)\
             @db.shop.svc.cluster.local:5432/"
        ),
        "{url}"
    );
    // The parts it reads come first, from the Job's own stable copy.
    let names: Vec<&str> = c["env"].as_array().expect("env").iter().filter_map(|e| e["name"].as_str()).collect();
    let at = |n: &str| names.iter().position(|x| *x == n).unwrap_or_else(|| panic!("no {n} in {names:?}"));
    assert!(at("KUBEPROOF_DB_POSTGRES_PASSWORD_URLENCODED") < at("DATABASE_URL"), "{names:?}");
    let secret = |c: &Value, n: &str| var(c, n)["valueFrom"]["secretKeyRef"].clone();
    let key = secret(c, "KUBEPROOF_DB_POSTGRES_PASSWORD_URLENCODED");
    assert_eq!(key["name"], "migrate.db-credentials");
    assert_eq!(key["key"], "POSTGRES_PASSWORD_URLENCODED");
    // A templated target's default variables are not set.
    assert!(!names.contains(&"DB_URL") && !names.contains(&"DB_PASSWORD"), "{names:?}");
    // The CronJob reads the hashed Secret, as services do.
    let cron = &objects(&built, "production", "CronJob")[0].value;
    let c = common::pod_container(&cron["spec"]["jobTemplate"]["spec"]["template"]["spec"], "report");
    assert!(var(c, "DATABASE_URL")["value"].as_str().expect("a value").starts_with("postgresql://$(KUBEPROOF_DB_"));
    assert_eq!(secret(c, "KUBEPROOF_DB_POSTGRES_USER_URLENCODED")["name"], "db-credentials");
}

#[test]
fn templated_jobs_build_with_kustomize_and_the_schema() {
    if !common::have_kubectl() || !common::have_validator() {
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let description = tmp.path().join("platform.yaml");
    std::fs::write(&description, templated_text()).expect("written");
    let out = tmp.path().join("deploy");
    common::gen_ok(&description, &out);
    let overlay = out.join("kustomize/overlays/production");
    common::prepare_secrets(&overlay);
    let yaml = common::kustomize(&overlay).unwrap_or_else(|e| panic!("{e}"));
    let v = common::validate_many(&[yaml.as_str()], "1.30").remove(0).unwrap_or_else(|e| panic!("{e}"));
    assert!(v.passed > 20, "{v:?}");
    // The Job's copy of the credentials holds the encoded keys its URL reads.
    let docs = common::parse_built(&yaml).expect("parses");
    let copy = docs.iter().find(|o| o["kind"] == "Secret" && o["metadata"]["name"] == "migrate.db-credentials");
    let data = &copy.expect("the Job's copy")["data"];
    assert!(data["POSTGRES_PASSWORD_URLENCODED"].is_string() && data["POSTGRES_USER_URLENCODED"].is_string(), "{data}");
}

#[test]
fn a_job_template_naming_what_it_does_not_use_is_an_error_at_its_line() {
    let text =
        templated_text().replace("DATABASE_URL: \"${db.url}\", DB_ADDR", "DATABASE_URL: \"${dbx.url}\", DB_ADDR");
    let message = "`${dbx.url}` in `DATABASE_URL`: no service, datastore or external host is named `dbx`";
    assert_refused(&text, "\"${dbx.url}\"", message, "`migrate` uses: db");
    let text = templated_text().replace("DB_ADDR: \"${db.host}:${db.port}\"", "DB_ADDR: \"${db.hostname}\"");
    let message = "`${db.hostname}` in `DB_ADDR`: `db` has no field `hostname`";
    assert_refused(&text, "\"${db.hostname}\"", message, "fields of `db`: host, port, database, user, password, url");
    let text =
        templated_text().replace("    env: { DATABASE_URL: \"${db.url}\" }\n", "    env: { WEB: \"${web.url}\" }\n");
    assert_refused(
        &text,
        "\"${web.url}\"",
        "`${web.url}` in `WEB`: `report` does not use `web`",
        "add `web` to `uses`",
    );
}
