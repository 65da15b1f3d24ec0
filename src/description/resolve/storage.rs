//! Storage classes: a claim asks only an access mode its class offers, as
//! `cluster.storageClasses` declares them.

use std::path::Path;

use super::Cx;
use crate::description::{AccessMode, Cluster};
use crate::diag::{Diagnostic, Pos};

/// The cluster's default `storageClass`, when classes are declared, is one of them.
pub(super) fn cluster_class(cluster: &Cluster, file: &Path, errors: &mut Vec<Diagnostic>) {
    let (Some(class), Some(declared)) = (&cluster.storage_class, &cluster.storage_classes) else { return };
    if !declared.contains_key(class.value.as_str()) {
        let pos = crate::description::value::pos_of(&class.referenced);
        let mut d = Diagnostic::error(file, pos, format!("storage class `{}` is not declared", class.value));
        d.help = Some(declared_help(cluster));
        errors.push(d);
    }
}

fn declared_help(cluster: &Cluster) -> String {
    let names: Vec<&str> = cluster.storage_classes.iter().flatten().map(|(n, _)| n.as_str()).collect();
    format!("`cluster.storageClasses` declares: {}", names.join(", "))
}

/// Whether `mode` needs a class declared to offer it: block storage, the
/// usual default, offers only single-node modes.
fn shared(mode: AccessMode) -> bool {
    matches!(mode, AccessMode::ReadWriteMany | AccessMode::ReadOnlyMany)
}

impl Cx<'_> {
    /// Checks that the class of a claim (`class`, else the cluster's) offers
    /// `mode`; `what` names the claim in errors, at `pos`.
    pub(super) fn storage_class(&mut self, class: Option<&str>, mode: AccessMode, what: &str, pos: Pos) {
        let class = class.or(self.cluster.storage_class.as_ref().map(|c| c.value.as_str()));
        let mode_name = mode.as_str();
        match (class, &self.cluster.storage_classes) {
            (Some(c), Some(declared)) => match declared.get(c) {
                None => {
                    let help = declared_help(self.cluster);
                    self.err(pos, format!("{what}: storage class `{c}` is not declared"), Some(help));
                }
                Some(spec) if !spec.access_modes.contains(&mode) => {
                    let offers: Vec<&str> = spec.access_modes.iter().map(AccessMode::as_str).collect();
                    let others: Vec<&str> =
                        declared.iter().filter(|(_, s)| s.access_modes.contains(&mode)).map(|(n, _)| n.as_str()).collect();
                    let help = if others.is_empty() {
                        format!("no declared class offers {mode_name}: declare one (file storage) or use one replica")
                    } else {
                        format!("classes that offer it: {}", others.join(", "))
                    };
                    self.err(
                        pos,
                        format!("{what} asks {mode_name} of storage class `{c}`, which offers {}", offers.join(", ")),
                        Some(help),
                    );
                }
                Some(_) => {}
            },
            _ if !shared(mode) => {}
            (Some(c), None) => self.err(
                pos,
                format!("{what} asks {mode_name} of storage class `{c}`, whose access modes are not declared"),
                Some(format!("declare them if it offers it: `cluster.storageClasses: {{ {c}: {{ accessModes: [ReadWriteOnce, {mode_name}] }} }}`")),
            ),
            (None, _) => self.err(
                pos,
                format!("{what} asks {mode_name} of the cluster's default storage class, which may be block storage"),
                Some("name a class that offers it: `storageClass:` on the volume, declared under `cluster.storageClasses`".into()),
            ),
        }
    }
}
