//! What an environment changes: its scale applies to the base values (and the
//! defaults) before its overrides are merged.

use super::defaults;
use crate::description::{Bytes, Cpu, Replicas, Resources, Service};

/// Scale applies to what the base declares (and to defaults); an
/// environment's explicit values are merged afterwards and are not scaled.
pub(super) fn scale_service(svc: &mut Service, factor: f64) {
    if factor == 1.0 {
        return;
    }
    let r = svc.replicas.get_or_insert_with(|| serde_saphyr::Spanned {
        value: Replicas::default(),
        referenced: serde_saphyr::Location::UNKNOWN,
        defined: serde_saphyr::Location::UNKNOWN,
    });
    let scale_count = |n: u32| ((n as f64 * factor).ceil() as u32).max(1);
    let min = r.value.min.unwrap_or(defaults::REPLICAS);
    let max = r.value.max.unwrap_or(min);
    r.value.min = Some(scale_count(min));
    r.value.max = Some(scale_count(max));
    scale_resources(svc.resources.get_or_insert_with(Resources::default), factor);
}

pub(super) fn scale_resources(r: &mut Resources, factor: f64) {
    if factor == 1.0 {
        return;
    }
    r.cpu = Some(r.cpu.unwrap_or(Cpu::from_millis(defaults::CPU_MILLIS)).scale(factor));
    r.memory = Some(r.memory.unwrap_or(Bytes(defaults::MEMORY)).scale(factor));
    if let Some(l) = &mut r.limits {
        l.cpu = l.cpu.map(|c| c.scale(factor));
        l.memory = l.memory.map(|m| m.scale(factor));
    }
}
