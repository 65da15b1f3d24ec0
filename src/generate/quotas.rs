//! A ResourceQuota and a LimitRange per namespace, derived from the budget
//! of the objects generated for it (see [`crate::model::resources`]).
//!
//! The quota (`budget`) caps `requests.cpu`, `requests.memory`,
//! `requests.storage` and the number of `persistentvolumeclaims` at what the
//! namespace asks at maximum scale (HPA maxReplicas), plus room for a
//! rolling update (each Deployment's `maxSurge`) and for one run of each Job
//! and CronJob, plus 10%; rounded up to 10m, 1Mi and 1Gi, and never above
//! `cluster.capacity` (a quota larger than the cluster bounds nothing). So
//! the quota admits every pod it was written for, and stops anything else
//! from eating the platform's share of the cluster.
//!
//! It sets no `limits.*`: a quota on limits makes Kubernetes reject every
//! pod without that limit, and kubeproof leaves CPU limits unset on purpose
//! (throttling). The LimitRange (`container-defaults`) gives containers that
//! declare no requests the defaults kubeproof uses (100m CPU, 128Mi memory),
//! so that they are admitted under the quota and scheduled as Burstable
//! rather than BestEffort; it sets no default limits, which could fall below
//! a container's own request and get its pods rejected.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;
use serde_json::Value;

use super::*;
use crate::description::resolve::{Resolved, defaults};
use crate::model::resources::{Budget, Item, Resource, surges};

pub const QUOTA_NAME: &str = "budget";
pub const LIMIT_RANGE_NAME: &str = "container-defaults";

/// Adds the quota and the LimitRange of every namespace of `r`.
pub fn quotas(r: &Resolved, stack: &mut Stack) {
    let budgeted = stack.budgeted();
    let items: Vec<Item> = budgeted.iter().map(|(o, v)| o.item(v)).collect();
    let budget = Budget::of(&items, None);
    let surge = surges(&items, &budget);
    let mut add = Vec::new();
    for ns in r.namespaces() {
        let usage = budget.namespaces.get(ns).copied().unwrap_or_default();
        let mut need = usage.max;
        need.add(&usage.batch);
        if let Some(s) = surge.get(ns) {
            need.add(s);
        }
        let claims = stack
            .objects
            .iter()
            .filter(|o| o.namespace.as_deref() == Some(ns))
            .map(|o| match o.kind.as_str() {
                "PersistentVolumeClaim" => 1,
                "StatefulSet" => {
                    let templates =
                        o.value.pointer("/spec/volumeClaimTemplates").and_then(Value::as_array).map_or(0, Vec::len);
                    let replicas = budget
                        .workloads
                        .iter()
                        .find(|w| w.kind == "StatefulSet" && w.namespace == ns && w.name == o.name)
                        .map_or(1, |w| w.max_replicas);
                    templates as u64 * replicas
                }
                _ => 0,
            })
            .sum::<u64>();
        let labels = BTreeMap::from([
            ("app.kubernetes.io/part-of".to_string(), r.platform.clone()),
            ("app.kubernetes.io/managed-by".to_string(), MANAGED_BY.to_string()),
        ]);
        // 10% of headroom, but never more than the cluster holds: a quota
        // larger than the cluster bounds nothing.
        let headroom = |v: u64, step: u64, res: Resource| {
            let h = (v.saturating_add(v.div_ceil(10))).div_ceil(step).max(1) * step;
            r.capacity.get(res).map_or(h, |c| h.min(c.max(step)))
        };
        let cpu = headroom(need.cpu_requests_millis, 10, Resource::Cpu);
        let memory = headroom(need.memory_requests_bytes, 1 << 20, Resource::Memory);
        let mut hard = BTreeMap::from([
            ("requests.cpu".to_string(), quantity(crate::description::Cpu::from_millis(cpu))),
            ("requests.memory".to_string(), quantity(crate::description::Bytes::new(memory))),
        ]);
        if claims > 0 {
            hard.insert(
                "requests.storage".into(),
                quantity(crate::description::Bytes::new(headroom(need.storage_bytes, 1 << 30, Resource::Storage))),
            );
            hard.insert("persistentvolumeclaims".into(), quantity(claims));
        }
        let mut meta = meta(QUOTA_NAME, ns, &labels);
        meta.annotations = Some(BTreeMap::from([(
            "kubeproof.dev/budget".to_string(),
            "requests at maximum scale + rollout surge + one run of each Job + 10%, at most cluster.capacity"
                .to_string(),
        )]));
        add.push(Object::from_typed(&core::ResourceQuota {
            metadata: meta,
            spec: Some(core::ResourceQuotaSpec { hard: Some(hard), ..Default::default() }),
            ..Default::default()
        }));
        add.push(Object::from_typed(&core::LimitRange {
            metadata: super::meta(LIMIT_RANGE_NAME, ns, &labels),
            spec: Some(core::LimitRangeSpec {
                limits: vec![core::LimitRangeItem {
                    type_: "Container".into(),
                    default_request: Some(BTreeMap::from([
                        ("cpu".to_string(), quantity(crate::description::Cpu::from_millis(defaults::CPU_MILLIS))),
                        ("memory".to_string(), quantity(crate::description::Bytes::new(defaults::MEMORY))),
                    ])),
                    ..Default::default()
                }],
            }),
        }));
    }
    stack.objects.extend(add);
}
