//! The datastore family: `DatastoreDown` for every datastore with
//! `metrics: true` — the exporter's `pg_up` / `redis_up` (0 when it cannot
//! reach the engine), or `up` of the engine's own endpoint (minio,
//! rabbitmq); absent when nothing is scraped.

use super::alert::{Alert, Test, dur, lbl, series, timing, with};
use super::rules::anchor;
use crate::description::Engine;
use crate::description::alerts::Severity;
use crate::description::resolve::Resolved;
use crate::engines::Down;
use crate::generate::backup::{restore_title, supported};
use crate::generate::datastores::store_scrape;

const RUNBOOK: [&str; 3] = [
    "A datastore does not answer: its exporter reports the engine down (`pg_up`, `redis_up` at 0), its own metrics endpoint cannot be scraped, or no target is scraped at all (pod gone, NetworkPolicy or PodMonitor wrong). The services that use it fail.",
    "`kubectl -n NS get pods -l app.kubernetes.io/name=DATASTORE` (Pending? CrashLoopBackOff? not Ready?); `kubectl -n NS describe statefulset DATASTORE` (events, volume attach); `kubectl -n NS logs DATASTORE-0 -c ENGINE --previous`; the exporter's own log (`-c postgres-exporter` / `-c redis-exporter`) for authentication errors; the volume (`kubectl -n NS get pvc`): a full disk stops PostgreSQL.",
    "Fix what the events and logs show (volume full or not attached, credentials changed in the Secret but not in the database, out of memory: raise `resources` in the description); restart the pod (`kubectl -n NS delete pod DATASTORE-0`) once the cause is gone. Data lives on the volume, which survives the pod (not with `storage: ephemeral`: an emptyDir, empty again in a new pod); if the data itself is lost, restore it (the link above, when the datastore has backups).",
];

/// A datastore Prometheus scrapes.
pub(super) struct Watched {
    pub name: String,
    pub namespace: String,
    pub engine: Engine,
    /// The scraped port (the exporter's, or the engine's own).
    pub port: u16,
    /// The runbook section restoring its data, when it has backups.
    pub restore: Option<String>,
}

/// The datastores with `metrics: true`, in the resolved order.
pub(super) fn watched(r: &Resolved) -> Vec<Watched> {
    let mut out = Vec::new();
    for d in &r.datastores {
        let Some(scrape) = store_scrape(d) else { continue };
        out.push(Watched {
            name: d.name.clone(),
            namespace: d.namespace.clone(),
            engine: d.engine,
            port: scrape.port,
            restore: (d.backup.is_some() && r.backup.is_some() && supported(d.engine)).then(|| restore_title(&d.name)),
        });
    }
    out
}

pub fn datastore_down(w: &Watched) -> Option<Alert> {
    let (name, ns) = (w.name.as_str(), w.namespace.as_str());
    // What tells that the engine is down, and in words: the engine knows.
    let Down { metric, what } = w.engine.metrics().map_or(Down::SCRAPE, |m| m.down);
    let sel = format!("job=\"{name}\",namespace=\"{ns}\"");
    let out = lbl(&[("job", name), ("namespace", ns)]);
    let s = series(metric, &with(&out, "instance", &format!("10.0.0.1:{}", w.port)));
    let for_seconds = 300;
    let (at, n) = timing(for_seconds, 0);
    // When the data itself is lost: its restore procedure, if it has backups.
    let restore = w
        .restore
        .as_ref()
        .map_or_else(String::new, |title| format!("; if the data is lost: [{title}](#{})", anchor(title)));
    Some(Alert {
        name: "DatastoreDown".into(),
        expr: format!("max by (namespace, job) ({metric}{{{sel}}}) == 0 or absent({metric}{{{sel}}})"),
        for_seconds,
        severity: Severity::Critical,
        labels: lbl(&[("severity", "critical"), ("service", name)]),
        summary: format!("Datastore {name} ({}) is down", w.engine.as_str()),
        description: format!(
            "Datastore {name} in {ns}: {what}, or no target is scraped at all, for {}; the services using it fail.",
            dur(for_seconds)
        ),
        runbook: RUNBOOK,
        scope: format!("`{name}` ({}): `{metric}` 0 or absent for {}{restore}", w.engine.as_str(), dur(for_seconds)),
        test: Test {
            interval: 60,
            fire: vec![(s.clone(), format!("0x{n}"))],
            quiet: vec![(s, format!("1x{n}"))],
            at,
            out,
            also_quiet: Vec::new(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{assert_well_formed, last, matchers, metrics, shop};
    use super::*;

    fn down(name: &str) -> Alert {
        let found = watched(&shop()).into_iter().find(|w| w.name == name).and_then(|w| datastore_down(&w));
        found.unwrap_or_else(|| panic!("{name} is watched"))
    }

    #[test]
    fn watches_the_scraped_datastores_in_order_with_their_restore_section() {
        let w = watched(&shop());
        let names: Vec<&str> = w.iter().map(|w| w.name.as_str()).collect();
        // The resolved order: by name.
        assert_eq!(names, ["cache", "db", "files"]);
        assert_eq!(w[1].restore.as_deref(), Some("Restore db"));
        assert_eq!(w[2].restore, None, "files has no backup");
        assert_eq!((w[0].port, w[1].port), (9121, 9187));
    }

    #[test]
    fn an_exporter_engine_is_down_when_its_exporter_says_so_or_nothing_is_scraped() {
        let a = down("db");
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["pg_up"]);
        assert_eq!(matchers(&a.expr, "pg_up"), ["job=\"db\"", "namespace=\"shop\""]);
        assert!(a.expr.contains("absent(pg_up{"), "{}", a.expr);
        assert_eq!((a.severity, a.for_seconds), (Severity::Critical, 300));
        assert_eq!(a.labels["service"], "db");
        assert_eq!((last(&a.test.fire[0].1), last(&a.test.quiet[0].1)), (0.0, 1.0));
        assert!(a.test.fire[0].0.contains("instance=\"10.0.0.1:9187\""));
        assert!(a.scope.ends_with("; if the data is lost: [Restore db](#restore-db)"), "{}", a.scope);
        assert_eq!(metrics(&down("cache").expr), ["redis_up"]);
    }

    #[test]
    fn an_engine_with_its_own_endpoint_is_down_when_it_cannot_be_scraped() {
        let a = down("files");
        assert_well_formed(&a, &[]);
        assert_eq!(metrics(&a.expr), ["up"]);
        assert_eq!(a.summary, "Datastore files (minio) is down");
        assert!(!a.scope.contains("Restore"), "{}", a.scope);
    }
}
