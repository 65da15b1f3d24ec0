//! A datastore, resolved: engine defaults, image, backup schedule, metrics.

use super::names::check_image;
use super::{Cx, Store, StoreBackup};
use crate::description::value::pos_of;
use crate::description::{
    AccessMode, Auth, Bytes, Datastore, DatastoreBackup, DatastoreRole, Engine, Seconds, Storage,
};
use crate::diag::Pos;

impl Cx<'_> {
    /// Resolves the datastore `self.name`; `None` after an error (all of them
    /// are collected first). `has_bucket`: the platform has a backup target.
    pub(super) fn datastore(&mut self, d: &Datastore, default_ns: &str, has_bucket: bool) -> Option<Store> {
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
        let storage = match d.storage {
            Some(Storage::Size(size)) => Some(size),
            Some(Storage::Ephemeral) => None,
            None => {
                self.err(
                    Pos::UNKNOWN,
                    format!("datastore `{name}` has no `storage` size"),
                    Some("e.g. `storage: 10Gi`, or `storage: ephemeral` for data that may be lost (a cache)".into()),
                );
                Some(Bytes(0))
            }
        };
        let replicas = self.datastore_replicas(d, engine);
        let (requests, limits) = self.resources(d.resources.as_ref(), engine.default_requests());
        let image = self.datastore_image(d, engine);
        let backup = d.backup.as_ref().and_then(|b| self.store_backup(b, engine, has_bucket));
        if storage.is_none() && d.backup.is_some() {
            self.ephemeral_backup(d);
        }
        let metrics = self.datastore_metrics(d, engine);
        let cache = self.datastore_role(d, engine);
        let auth = self.datastore_auth(d, engine);
        let settings = self.datastore_settings(d, engine, limits.memory.get());
        if storage.is_some() {
            let what = format!("datastore `{name}`");
            self.storage_class(d.storage_class.as_deref(), AccessMode::ReadWriteOnce, &what, Pos::UNKNOWN);
        } else if let Some(class) = &d.storage_class {
            self.err(
                Pos::UNKNOWN,
                format!("datastore `{name}` has `storage: ephemeral` and `storageClass: {class}`"),
                Some("an ephemeral datastore claims no volume: remove `storageClass`, or give `storage` a size".into()),
            );
        }
        let placement = self.placement(super::placement::written!(d), false);
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
            cache,
            auth,
            settings,
            placement,
        })
    }

    /// `storage: ephemeral` keeps nothing worth a backup, and a restore
    /// would be lost at the next restart.
    fn ephemeral_backup(&mut self, d: &Datastore) {
        let pos = d.backup.as_ref().map_or(Pos::UNKNOWN, |b| pos_of(&b.every.referenced));
        self.err(
            pos,
            format!("datastore `{}` has `storage: ephemeral` and a `backup`", self.name),
            Some(
                "an ephemeral datastore loses its data with its pod: remove `backup`, or give `storage` a size".into(),
            ),
        );
    }

    /// Whether clients authenticate (default: yes); `auth: none` only for an
    /// engine that can run without credentials.
    fn datastore_auth(&mut self, d: &Datastore, engine: Engine) -> bool {
        let Some(auth) = &d.auth else { return true };
        if auth.value == Auth::None
            && let Err(why) = engine.without_auth()
        {
            self.err(
                pos_of(&auth.referenced),
                format!("datastore `{}` ({}) cannot run with `auth: none`", self.name, engine.as_str()),
                Some(format!("{why}; remove `auth` (default `password`)")),
            );
        }
        auth.value == Auth::Password
    }

    /// The `settings`, each checked by the engine (against the memory limit
    /// for sizes), in name order.
    fn datastore_settings(&mut self, d: &Datastore, engine: Engine, memory_limit: u64) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (name, value) in d.settings.iter().flatten() {
            match engine.setting(name, &value.value.0, memory_limit) {
                Ok(v) => out.push((name.to_string(), v)),
                Err(e) => {
                    let pos = if e.message.contains("has no setting") { name.pos() } else { pos_of(&value.referenced) };
                    self.err(pos, format!("datastore `{}`: {}", self.name, e.message), Some(e.help));
                }
            }
        }
        out
    }

    /// Whether the datastore is a cache; a role only for an engine that
    /// evicts (elsewhere it would promise a behaviour nothing configures).
    fn datastore_role(&mut self, d: &Datastore, engine: Engine) -> bool {
        let Some(role) = &d.role else { return false };
        if !engine.evicts() {
            self.err(
                pos_of(&role.referenced),
                format!(
                    "datastore `{}` ({}): `role` is for engines that evict data when memory is full",
                    self.name,
                    engine.as_str()
                ),
                Some("remove `role` (it applies to redis)".into()),
            );
        }
        role.value == DatastoreRole::Cache
    }

    /// One replica: kubeproof does not generate replication.
    fn datastore_replicas(&mut self, d: &Datastore, engine: Engine) -> u32 {
        let replicas = d.replicas.unwrap_or(1);
        if replicas != 1 {
            self.err(
                Pos::UNKNOWN,
                format!(
                    "datastore `{}`: {replicas} replicas need {} replication, which kubeproof does not generate yet",
                    self.name,
                    engine.as_str()
                ),
                Some("use one replica (or an operator for a replicated cluster)".into()),
            );
        }
        replicas
    }

    /// The image written, or the engine's at the `version` written.
    fn datastore_image(&mut self, d: &Datastore, engine: Engine) -> String {
        let image = match (&d.image, &d.version) {
            (Some(i), _) => i.clone(),
            (None, v) => engine.image().reference(v.as_ref().map(|v| v.0.as_str())),
        };
        if let Err(m) = check_image(&image) {
            self.err(Pos::UNKNOWN, m, None);
        }
        image
    }

    /// `metrics: true`, for an engine that has metrics.
    fn datastore_metrics(&mut self, d: &Datastore, engine: Engine) -> bool {
        let metrics = d.metrics.as_ref().is_some_and(|m| m.value);
        if metrics && let Err(why) = engine.metrics() {
            self.err(
                d.metrics.as_ref().map_or(Pos::UNKNOWN, |m| pos_of(&m.referenced)),
                format!("datastore `{}` ({}) has no metrics: {why}", self.name, engine.as_str()),
                Some("remove `metrics` from this datastore".into()),
            );
        }
        metrics
    }

    /// The backup schedule: an engine with a backup job, a bucket to write
    /// to, a period cron can say, and backups kept longer than the period.
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
        let Some(cron) = crate::model::cron::every(every.get(), &name) else {
            self.err(
                every_pos,
                format!("backups every {} cannot be written as a cron schedule", Seconds::new(every.get())),
                Some("use minutes that divide an hour (15m, 30m), hours that divide a day (1h, 4h, 12h) or 1d".into()),
            );
            return None;
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
