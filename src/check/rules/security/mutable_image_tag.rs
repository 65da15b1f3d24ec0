use crate::model::Value;

use super::common::label;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP120: an image reference that can point at different images over time.
pub struct MutableImageTag;

static META: Meta = Meta {
    code: "KP120",
    name: "mutable-image-tag",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a container image has no tag or the `latest` tag",
    what: "Reports container and init container images without a tag (which means `latest`) or tagged \
           `latest`. Digests (`@sha256:…`) are fine; a registry port (`registry:5000/app`) is not a tag. \
           Templated images (`${IMAGE}`, `{{ .Values.image }}`) are skipped; check the rendered output.",
    why: "`latest` is whatever was pushed last: two replicas of one Deployment can run different code, a \
          rollback redeploys the same moving tag, and a compromised or careless push reaches production \
          at the next pod restart with no change in git. Nothing records which build actually runs.",
    fix: "Pin a version tag produced by your release process (`app:2.3.1`), or better a digest \
          (`app:2.3.1@sha256:…`), and change it through a commit.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      initContainers:
        - name: wait-for-db
          image: registry.example.com:5000/tools/wait-for
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
      containers:
        - name: web
          image: ghcr.io/example/web:latest
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      serviceAccountName: web
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      initContainers:
        - name: wait-for-db
          image: registry.example.com:5000/tools/wait-for:1.2.0
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
      containers:
        - name: web
          image: ghcr.io/example/web@sha256:3b1d5e8f2a4c6e9b0d7f1a3c5e7b9d2f4a6c8e0b1d3f5a7c9e2b4d6f8a0c1e3b
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

/// Why an image reference is mutable, if it is.
pub fn mutable(image: &str) -> Option<&'static str> {
    let image = image.trim();
    if image.is_empty() || image.contains('@') || image.contains('$') || image.contains('{') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag, so it pulls `latest`"),
        Some((_, "latest")) => Some("uses the mutable `latest` tag"),
        Some(_) => None,
    }
}

impl Check for MutableImageTag {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                let Some(image) = c.value.get("image").and_then(Value::as_str) else { continue };
                let Some(why) = mutable(image) else { continue };
                out.report(pod.object, c.field("/image"), format!("the image `{image}` of {} {why}", label(&c)))
                    .help("pin a version tag or a digest (`@sha256:…`)");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::mutable;

    #[test]
    fn tells_tags_from_ports_and_digests() {
        assert!(mutable("nginx").is_some());
        assert!(mutable("nginx:latest").is_some());
        assert!(mutable("reg:5000/app").is_some());
        assert!(mutable("reg:5000/app:latest").is_some());
        assert!(mutable("reg:5000/app:1.2").is_none());
        assert!(mutable("nginx:1.27").is_none());
        assert!(mutable("nginx@sha256:abc").is_none());
        assert!(mutable("nginx:latest@sha256:abc").is_none());
        assert!(mutable("${IMAGE}").is_none());
    }
}
