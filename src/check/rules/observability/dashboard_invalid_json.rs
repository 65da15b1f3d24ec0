use super::dashboards;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP609: a Grafana dashboard that is not valid JSON.
pub struct DashboardInvalidJson;

static META: Meta = Meta {
    code: "KP609",
    name: "dashboard-invalid-json",
    family: Family::Observability,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a Grafana dashboard is not valid JSON (or not a JSON object)",
    what: "Parses the `*.json` keys of ConfigMaps labelled `grafana_dashboard` (the Grafana dashboard \
           sidecar's default label) and the `spec.json` of GrafanaDashboard objects as JSON, and reports \
           those that do not parse or are not an object. Dashboards in ConfigMaps without the label are \
           found by their content (a JSON object with `panels` or `rows`), so only parsed ones are seen: \
           their queries are checked by KP601, KP608 and KP610.",
    why: "Grafana's sidecar and operator skip a dashboard they cannot read, with a line in their log and \
          nothing in the UI: the dashboard someone opens during an incident is not there. A trailing \
          comma or a stray quote from hand editing is the usual cause.",
    fix: "Correct the JSON (the message gives the line and column inside it), or export the dashboard \
          again from Grafana.",
    fail: r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-dashboard
  namespace: monitoring
  labels: { grafana_dashboard: "1" }
data:
  api.json: |
    {
      "title": "API",
      "panels": [{"title": "Requests", "targets": [{"expr": "sum(rate(http_requests_total[5m]))"}]},]
    }
"#,
    pass: r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: api-dashboard
  namespace: monitoring
  labels: { grafana_dashboard: "1" }
data:
  api.json: |
    {
      "title": "API",
      "panels": [{"title": "Requests", "targets": [{"expr": "sum(rate(http_requests_total[5m]))"}]}]
    }
"#,
};

impl Check for DashboardInvalidJson {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for d in dashboards(cx) {
            let read = d.read(cx);
            let Err(message) = read.as_ref() else { continue };
            out.report(d.object, &d.ptr, format!("dashboard `{}` {message}", d.key))
                .help("Grafana skips a dashboard it cannot read; correct the JSON or export the dashboard again");
        }
    }
}
