//! The platform family: alerts that belong to no single service — volumes
//! filling up in every namespace in use, and (with node-exporter) node disk
//! and memory.

pub(super) mod node_disk_low;
pub(super) mod node_memory_high;
pub(super) mod volume_filling_up;

use std::collections::BTreeMap;

use super::alert::lbl;
use crate::description::alerts::Rule;

/// The labels of a platform alert: its severity only.
fn severity(rule: &Rule) -> BTreeMap<String, String> {
    lbl(&[("severity", rule.severity.as_str())])
}
