use crate::model::Value;

use super::common::label;
use super::mutable_image_tag::mutable;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP128: an image pinned by tag only, not by digest.
pub struct ImageWithoutDigest;

static META: Meta = Meta {
    code: "KP128",
    name: "image-without-digest",
    family: Family::Security,
    reads: Reads::Object,
    severity: Severity::Info,
    summary: "an image is pinned by a tag but not by a digest (`@sha256:…`)",
    what: "Reports container and init container images with a version tag and no digest. Images without a \
           tag or with `latest` are KP120's; references holding a template variable (`$`, `{`) are left \
           alone.",
    why: "A tag is a name the registry owner can move: a re-pushed `1.2.0` (by mistake, by a compromised \
          publisher or a mirror) is pulled by the next node that starts the pod, so two replicas can run \
          different code and a review of the manifest proves nothing about what runs. A digest names the \
          content. Info, not warning: many teams rely on registry immutability or an admission policy that \
          resolves digests instead.",
    fix: "Append the digest to the tag (`image: ghcr.io/acme/api:1.2.0@sha256:…`, from `crane digest` or \
          `docker buildx imagetools inspect`), and let a bot such as Renovate update both; or enforce \
          digests at admission and turn this check off.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: api
          image: ghcr.io/example/api:1.4.2
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
    pass: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      serviceAccountName: api
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: { type: RuntimeDefault }
      containers:
        - name: api
          image: ghcr.io/example/api:1.4.2@sha256:9b2a5c3f1e0d4c7b8a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: { drop: [ALL] }
"#,
};

/// Whether an image reference is pinned by a tag alone (KP120 takes the unpinned ones).
pub fn tag_only(image: &str) -> bool {
    let image = image.trim();
    !image.is_empty() && !image.contains(['@', '$', '{']) && mutable(image).is_none()
}

impl Check for ImageWithoutDigest {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            for c in pod.containers() {
                let Some(image) = c.value.get("image").and_then(Value::as_str).filter(|i| tag_only(i)) else {
                    continue;
                };
                out.report(
                    pod.object,
                    c.field("/image"),
                    format!("the image `{image}` of {} has no digest", label(&c)),
                )
                .help("append the digest (`@sha256:…`) so that every node runs the same content");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::tag_only;

    #[test]
    fn only_tagged_references_without_digest() {
        assert!(tag_only("nginx:1.27"));
        assert!(tag_only("reg:5000/app:1.2"));
        assert!(!tag_only("nginx"), "KP120's");
        assert!(!tag_only("nginx:latest"), "KP120's");
        assert!(!tag_only("nginx:1.27@sha256:abc"));
        assert!(!tag_only("nginx@sha256:abc"));
        assert!(!tag_only("${IMAGE}"));
        assert!(!tag_only("{{ .Values.image }}"));
        assert!(!tag_only(""));
    }
}
