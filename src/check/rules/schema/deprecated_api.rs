use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};
use crate::model::schema::lifecycle;

/// KP006: an apiVersion the target Kubernetes version still serves but has deprecated.
pub struct DeprecatedApi;

static META: Meta = Meta {
    code: "KP006",
    name: "deprecated-api",
    family: Family::Schema,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "the apiVersion is deprecated in the target Kubernetes version and will be removed",
    what: "Reports objects whose apiVersion and kind the target version still serves but has deprecated: \
           flowcontrol `v1beta2` (deprecated in 1.26, removed in 1.29), flowcontrol `v1beta3` (1.29, removed \
           in 1.32), and `v1` Endpoints (deprecated in 1.33 in favour of EndpointSlice).",
    why: "The API server answers with a deprecation warning today and refuses the object after the \
          removal: the manifest breaks on the next upgrades unless it is migrated first.",
    fix: "Change the apiVersion (or the kind) to the replacement named in the help line.",
    fail: r#"
apiVersion: v1
kind: Endpoints
metadata:
  name: legacy-db
  namespace: shop
subsets:
  - addresses:
      - ip: 10.0.12.7
    ports:
      - name: postgres
        port: 5432
"#,
    pass: r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: legacy-db-1
  namespace: shop
  labels:
    kubernetes.io/service-name: legacy-db
addressType: IPv4
endpoints:
  - addresses: ["10.0.12.7"]
ports:
  - name: postgres
    port: 5432
"#,
};

impl Check for DeprecatedApi {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for (i, o) in cx.objects.iter().enumerate() {
            let Some(l) = lifecycle(&o.api_version, &o.kind) else { continue };
            if l.deprecated > cx.minor || l.removed.is_some_and(|r| r <= cx.minor) {
                continue;
            }
            let until = match l.removed {
                Some(r) => format!(", and removed in 1.{r}"),
                None => String::new(),
            };
            out.report(
                i,
                "/apiVersion",
                format!("`{}` {} is deprecated since Kubernetes 1.{}{until}", o.api_version, o.kind, l.deprecated),
            )
            .help(cx.schemas.replacement(l, &o.kind));
        }
    }
}
