//! Environment overrides: an environment's partial service or datastore is
//! merged over the base one, field by field.
//!
//! Maps merge key by key, nested structs field by field, and everything else
//! (scalars, lists) is replaced. Spans travel with the values, so an error in a
//! merged value points at the line that set it (the override, if any).

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::*;
use crate::model::duration::Millis;

pub trait Merge {
    /// Overlays `other` on `self`: what `other` sets wins.
    fn merge(&mut self, other: Self);
}

macro_rules! replace {
    ($($t:ty),* $(,)?) => {$(
        impl Merge for $t {
            fn merge(&mut self, other: Self) {
                *self = other;
            }
        }
    )*};
}

replace!(
    String,
    u8,
    u16,
    u32,
    u64,
    f64,
    bool,
    Name,
    EnvValue,
    Version,
    PortRef,
    Cpu,
    Bytes,
    Seconds,
    Mesh,
    LogLevel,
    Protocol,
    ExposeKind,
    AccessMode,
    Engine,
    Component,
    Pdb,
    DatastoreBackup,
    DatastoreRole,
    Auth,
    Storage,
    Millis,
    Slo,
    ServiceAlerts,
    ConcurrencyPolicy,
    Affinity,
    VpaMode,
    placement::VpaBound,
);

/// Field-by-field merge. The destructuring is exhaustive, so a field added to
/// the struct and forgotten here is a compile error.
macro_rules! fields {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl Merge for $t {
            fn merge(&mut self, other: Self) {
                let $t { $($f),* } = other;
                $( self.$f.merge($f); )*
            }
        }
    };
}

fields!(Service {
    image,
    component,
    namespace,
    port,
    service_port,
    protocol,
    ports,
    expose,
    replicas,
    autoscale,
    resources,
    probes,
    metrics,
    uses,
    after,
    env,
    secrets,
    volumes,
    command,
    args,
    init_containers,
    sidecars,
    log_level,
    run_as_user,
    pdb,
    shutdown,
    rbac,
    traffic,
    slo,
    alerts,
    node_selector,
    tolerations,
    affinity,
    priority_class,
    vpa,
    labels,
    annotations,
    patches,
});
fields!(Expose { kind, host, path, port, rate_limit, timeout });
fields!(Autoscale { cpu, memory, metrics });
fields!(Resources { cpu, memory, limits });
fields!(Limits { cpu, memory });
fields!(Probes { live, ready, startup });
fields!(Probe { path, port, exec, grpc, tcp, initial_delay, period, timeout, failure_threshold });
fields!(Metrics {
    path,
    port,
    interval,
    requests,
    status_label,
    duration,
    buckets,
    histograms,
    endpoint_label,
    gauges
});
fields!(Shutdown { drain, grace });
fields!(Rbac { read_own_config });
fields!(Replicas { min, max });
fields!(Job {
    image,
    command,
    args,
    env,
    secrets,
    uses,
    resources,
    namespace,
    run_as_user,
    backoff_limit,
    active_deadline,
    ttl_after_finished,
});
fields!(CronJob {
    schedule,
    time_zone,
    concurrency_policy,
    successful_jobs_history_limit,
    failed_jobs_history_limit,
    starting_deadline,
    suspend,
    image,
    command,
    args,
    env,
    secrets,
    uses,
    resources,
    namespace,
    run_as_user,
    backoff_limit,
    active_deadline,
});
fields!(Datastore {
    engine,
    version,
    image,
    storage,
    storage_class,
    replicas,
    namespace,
    resources,
    database,
    backup,
    metrics,
    role,
    auth,
    settings,
    node_selector,
    tolerations,
    affinity,
    priority_class,
    vpa,
    labels,
    annotations,
    patches,
});
fields!(Vpa { mode, min_allowed, max_allowed });

impl<T: Merge> Merge for Option<T> {
    fn merge(&mut self, other: Self) {
        match (self.as_mut(), other) {
            (Some(a), Some(b)) => a.merge(b),
            (None, Some(b)) => *self = Some(b),
            (_, None) => {}
        }
    }
}

impl<T> Merge for Vec<T> {
    fn merge(&mut self, other: Self) {
        *self = other;
    }
}

impl<K: Ord, V: Merge> Merge for BTreeMap<K, V> {
    fn merge(&mut self, other: Self) {
        for (k, v) in other {
            match self.get_mut(&k) {
                Some(mine) => mine.merge(v),
                None => {
                    self.insert(k, v);
                }
            }
        }
    }
}

impl<T: Merge> Merge for Spanned<T> {
    fn merge(&mut self, other: Self) {
        self.value.merge(other.value);
        self.referenced = other.referenced;
        self.defined = other.defined;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(yaml: &str) -> Service {
        serde_saphyr::from_str(yaml).expect("valid service yaml")
    }

    #[test]
    fn overrides_win_and_maps_merge_by_key() {
        let mut base =
            svc("image: a:1\nreplicas: {min: 2, max: 5}\nenv: {A: x, B: y}\nresources: {cpu: 250m, memory: 512Mi}\n");
        base.merge(svc("replicas: {max: 20}\nenv: {B: z}\nresources: {cpu: 1}\n"));
        let r = base.replicas.expect("replicas").value;
        assert_eq!((r.min, r.max), (Some(2), Some(20)));
        let env = base.env.expect("env");
        assert_eq!(env["A"].value.0, "x");
        assert_eq!(env["B"].value.0, "z");
        let res = base.resources.expect("resources");
        assert_eq!(res.cpu.map(|c| c.millis()), Some(1000));
        assert!(res.memory.is_some(), "untouched fields stay");
        assert_eq!(base.image.expect("image").value, "a:1");
    }

    #[test]
    fn span_follows_the_override() {
        let mut base = svc("image: a:1\nreplicas: 2\n");
        base.merge(svc("\n\n\nreplicas: 4\n"));
        let r = base.replicas.expect("replicas");
        assert_eq!(r.referenced.line(), 4);
    }
}
