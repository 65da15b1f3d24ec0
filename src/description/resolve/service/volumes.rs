//! Volumes: a claim when a `size` is written, an emptyDir otherwise.

use super::super::names::is_label;
use super::super::{Cx, Vol, VolKind};
use crate::description::{AccessMode, Bytes, Service, Volume};
use crate::diag::Pos;

impl Cx<'_> {
    /// `max_replicas` decides whether a claim can be ReadWriteOnce.
    pub(super) fn volumes(&mut self, s: &Service, max_replicas: u32) -> Vec<Vol> {
        let mut out: Vec<Vol> = Vec::new();
        for v in s.volumes.iter().flatten() {
            let pos = v.name.pos();
            if !is_label(&v.name) {
                self.err(pos, format!("invalid volume name `{}`", v.name), None);
            }
            if v.name.as_str() == "tmp" || v.path == "/tmp" {
                self.err(pos, "`/tmp` is mounted already (an emptyDir, as the root filesystem is read-only)", None);
            }
            if !v.path.starts_with('/') {
                self.err(pos, format!("volume path must be absolute: {:?}", v.path), None);
            }
            if out.iter().any(|o| o.name == v.name.as_str() || o.path == v.path) {
                self.err(pos, format!("duplicate volume `{}`", v.name), None);
            }
            let kind = match v.size {
                Some(size) => self.claim(v, size, pos, max_replicas),
                None => VolKind::Empty { size_limit: v.size_limit },
            };
            out.push(Vol {
                name: v.name.to_string(),
                path: v.path.clone(),
                kind,
                read_only: v.read_only.unwrap_or(false),
            });
        }
        out
    }

    /// A PersistentVolumeClaim of `size`; pods on several nodes need ReadWriteMany.
    fn claim(&mut self, v: &Volume, size: Bytes, pos: Pos, max_replicas: u32) -> VolKind {
        let access_mode = v.access_mode.unwrap_or(AccessMode::ReadWriteOnce);
        if max_replicas > 1 && matches!(access_mode, AccessMode::ReadWriteOnce | AccessMode::ReadWriteOncePod) {
            self.err(
                pos,
                format!(
                    "volume `{}` is {} but `{}` runs up to {max_replicas} replicas",
                    v.name,
                    access_mode.as_str(),
                    self.name
                ),
                Some("pods on different nodes cannot share it: use `accessMode: ReadWriteMany` or one replica".into()),
            );
        }
        if v.size_limit.is_some() {
            self.err(pos, "`sizeLimit` is for emptyDir volumes; a claim has `size`", None);
        }
        self.storage_class(v.storage_class.as_deref(), access_mode, &format!("volume `{}`", v.name), pos);
        VolKind::Claim { size, access_mode, storage_class: v.storage_class.clone() }
    }
}
