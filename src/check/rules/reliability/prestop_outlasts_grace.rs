use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

use super::support::prestop_sleep;

/// KP216: a preStop sleep as long as the termination grace period.
pub struct PrestopOutlastsGrace;

static META: Meta = Meta {
    code: "KP216",
    name: "prestop-outlasts-grace-period",
    family: Family::Reliability,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "a preStop hook sleeps as long as the pod's termination grace period or longer",
    what: "Compares the seconds a container's `lifecycle.preStop` hook sleeps (the `sleep` \
           action, or an `exec` of `sleep N`, directly or through `sh -c`) with the pod's \
           `terminationGracePeriodSeconds` (default 30), and reports hooks that sleep at least \
           as long.",
    why: "The grace period counts from the start of the preStop hook, and the container only \
          gets SIGTERM after the hook returns. A sleep that uses the whole period leaves the \
          application no time to drain connections and finish requests: it is killed with \
          SIGKILL (after a 2 s extension) mid-request, which is exactly what the sleep was \
          meant to prevent.",
    fix: "Make `terminationGracePeriodSeconds` the preStop sleep plus the application's own \
          shutdown time (e.g. sleep 10, grace period 45), or shorten the sleep.",
    fail: r#"
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          lifecycle:
            preStop:
              sleep: { seconds: 30 }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          lifecycle:
            preStop:
              exec: { command: [/bin/sleep, "5"] }
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
      terminationGracePeriodSeconds: 60
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          lifecycle:
            preStop:
              sleep: { seconds: 30 }
        - name: proxy
          image: ghcr.io/acme/proxy:2.0.1
          lifecycle:
            preStop:
              exec: { command: [/bin/sleep, "5"] }
"#,
};

impl Check for PrestopOutlastsGrace {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for pod in cx.pods() {
            let written = pod.get("terminationGracePeriodSeconds").filter(|g| !g.is_null());
            let grace = match written {
                Some(g) => match g.as_i64() {
                    Some(g) => g,
                    None => continue,
                },
                None => 30,
            };
            for c in pod.containers().filter(|c| !c.init) {
                let Some((sleep, pointer)) = prestop_sleep(&c) else { continue };
                if sleep < grace {
                    continue;
                }
                let period = if written.is_some() {
                    format!("terminationGracePeriodSeconds is {grace}")
                } else {
                    "the default terminationGracePeriodSeconds is 30".to_string()
                };
                out.report(
                    pod.object,
                    c.field(&pointer),
                    format!(
                        "container `{}` sleeps {sleep} s in preStop but {period}: it is killed before it can shut down",
                        c.name()
                    ),
                )
                .help(format!(
                    "set terminationGracePeriodSeconds to the sleep plus the shutdown time (e.g. {}), or shorten the sleep",
                    sleep + 15
                ));
            }
        }
    }
}
