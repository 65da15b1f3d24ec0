use crate::model::At;

use crate::model::Value;

use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP317: a claim asks ReadWriteMany of a StorageClass whose provisioner
/// serves block storage only.
pub struct AccessModeNotOffered;

/// Provisioners of block storage, attached to one node at a time: their
/// volumes offer ReadWriteOnce (and ReadWriteOncePod), never
/// ReadWriteMany in the default `Filesystem` volume mode.
const BLOCK_ONLY: &[&str] = &[
    "ebs.csi.aws.com",
    "kubernetes.io/aws-ebs",
    "pd.csi.storage.gke.io",
    "kubernetes.io/gce-pd",
    "disk.csi.azure.com",
    "kubernetes.io/azure-disk",
    "cinder.csi.openstack.org",
    "kubernetes.io/cinder",
    "dobs.csi.digitalocean.com",
    "csi.hetzner.cloud",
    "rancher.io/local-path",
    "kubernetes.io/no-provisioner",
    "openebs.io/local",
];

static META: Meta = Meta {
    code: "KP317",
    name: "access-mode-not-offered",
    family: Family::References,
    reads: Reads::Set,
    severity: Severity::Error,
    summary: "a claim asks ReadWriteMany of a StorageClass that provides block storage only",
    what: "Follows the `storageClassName` of every PersistentVolumeClaim and StatefulSet claim template \
           that asks `ReadWriteMany` in the `Filesystem` volume mode, to the StorageClass of the checked set \
           it names, and reports it when that class's provisioner serves block storage (AWS EBS, GCE PD, \
           Azure Disk, Cinder, DigitalOcean, Hetzner, local-path, local volumes, OpenEBS local). Classes \
           outside the set and other provisioners are not judged.",
    why: "A block volume attaches to one node at a time: the provisioner refuses the claim and it stays \
          Pending, with every pod that mounts it. Pods on several nodes sharing one volume need file \
          storage (NFS, CephFS, EFS, Azure Files, Filestore).",
    fix: "Name a StorageClass of file storage for a volume pods on several nodes share, or give each pod \
          its own ReadWriteOnce volume (a StatefulSet's claim templates), or run one replica.",
    fail: r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: gp3 }
provisioner: ebs.csi.aws.com
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: shared, namespace: shop }
spec:
  accessModes: [ReadWriteMany]
  storageClassName: gp3
  resources: { requests: { storage: 10Gi } }
"#,
    pass: r#"
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: gp3 }
provisioner: ebs.csi.aws.com
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: efs }
provisioner: efs.csi.aws.com
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: shared, namespace: shop }
spec:
  accessModes: [ReadWriteMany]
  storageClassName: efs
  resources: { requests: { storage: 10Gi } }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: own, namespace: shop }
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: gp3
  resources: { requests: { storage: 10Gi } }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: raw, namespace: shop }
spec:
  accessModes: [ReadWriteMany]
  volumeMode: Block
  storageClassName: gp3
  resources: { requests: { storage: 10Gi } }
"#,
};

impl Check for AccessModeNotOffered {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let mut claims: Vec<(usize, String)> = Vec::new();
        for &i in cx.index.of_kind("PersistentVolumeClaim") {
            claims.push((i, "/spec".into()));
        }
        for &i in cx.index.of_kind("StatefulSet") {
            let templates = cx.objects[i].value.at("/spec/volumeClaimTemplates").and_then(Value::as_array);
            for (t, _) in templates.into_iter().flatten().enumerate() {
                claims.push((i, format!("/spec/volumeClaimTemplates/{t}/spec")));
            }
        }
        for (i, pointer) in claims {
            let Some(spec) = cx.objects[i].value.at(&pointer) else { continue };
            let modes = spec.get("accessModes").and_then(Value::as_array);
            let Some(at) = modes.into_iter().flatten().position(|m| m == "ReadWriteMany") else { continue };
            if spec.get("volumeMode").and_then(Value::as_str) == Some("Block") {
                continue;
            }
            let Some(class) = spec.get("storageClassName").and_then(Value::as_str) else { continue };
            let Some(sc) = cx.index.get("StorageClass", "", class) else { continue };
            let provisioner = cx.objects[sc].value.get("provisioner").and_then(Value::as_str).unwrap_or_default();
            if !BLOCK_ONLY.contains(&provisioner) {
                continue;
            }
            out.report(
                i,
                format!("{pointer}/accessModes/{at}"),
                format!(
                    "ReadWriteMany of StorageClass `{class}`, whose provisioner {provisioner} serves block storage"
                ),
            )
            .help("name a StorageClass of file storage (NFS, CephFS, EFS, Azure Files), or one volume per pod");
        }
    }
}
