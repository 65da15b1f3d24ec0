//! KP6xx: monitoring and alerting — PromQL that does not parse (or is too
//! long or deep to parse safely), alerts without severity or runbook,
//! severities no route delivers, pages without `for:`, ServiceMonitors and
//! PodMonitors that scrape nothing, queries on metrics that nothing
//! records or exports, and ranges shorter than four scrapes of their job.
//!
//! Rules come from PrometheusRule objects (`spec.groups[].rules[]`), from
//! Prometheus rule files kept in ConfigMaps (a data key with `rule` in its
//! name holding `groups:`) and from bare rule files (`groups:` at the top of
//! a checked file, as `gen` writes); routing from AlertmanagerConfig objects and from
//! `alertmanager.yaml`/`alertmanager.yml` in a Secret or ConfigMap;
//! dashboards from ConfigMaps labelled `grafana_dashboard`, from any
//! ConfigMap value that parses as a dashboard, and from GrafanaDashboard
//! objects. A finding inside embedded text points at the
//! key holding it.

use crate::model::At;
use crate::model::promql;
use crate::model::selector::Selector;
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::model::Value;
use promql_parser::parser::Expr;

use crate::check::{Check, Context};
use crate::model::pointer::escape;

mod alert_not_routed;
mod alert_without_runbook;
mod alert_without_severity;
mod dashboard_invalid_json;
mod latency_not_a_bucket;
mod monitor_port_not_found;
mod monitor_selects_nothing;
mod page_without_for;
mod promql_invalid;
mod promql_too_complex;
pub mod routing;
mod unknown_metric;
mod window_below_scrapes;

pub const CHECKS: &[&dyn Check] = &[
    &promql_invalid::PromqlInvalid,
    &alert_without_severity::AlertWithoutSeverity,
    &alert_without_runbook::AlertWithoutRunbook,
    &alert_not_routed::AlertNotRouted,
    &page_without_for::PageWithoutFor,
    &monitor_selects_nothing::MonitorSelectsNothing,
    &monitor_port_not_found::MonitorPortNotFound,
    &unknown_metric::UnknownMetric,
    &dashboard_invalid_json::DashboardInvalidJson,
    &promql_too_complex::PromqlTooComplex,
    &window_below_scrapes::WindowBelowScrapes,
    &latency_not_a_bucket::LatencyNotABucket,
];

/// Parses embedded YAML (a rule file, an Alertmanager configuration) with
/// the default budgets (alias bombs and deep nesting are refused).
pub fn parse_yaml(text: &str) -> Option<Value> {
    serde_saphyr::from_str::<Value>(text).ok()
}

/// One alerting or recording rule.
#[derive(Debug)]
pub struct Rule<'a> {
    pub object: usize,
    /// Pointer of the rule, or of the data key holding its file.
    base: String,
    /// Whether the rule is inside embedded text (every field is then
    /// reported at the key holding it).
    embedded: bool,
    pub value: &'a Value,
    pub group: &'a str,
}

impl<'a> Rule<'a> {
    pub fn alert(&self) -> Option<&'a str> {
        self.value.get("alert").and_then(Value::as_str)
    }

    pub fn record(&self) -> Option<&'a str> {
        self.value.get("record").and_then(Value::as_str)
    }

    /// The expression (a number is an expression too).
    pub fn expr(&self) -> Option<String> {
        match self.value.get("expr")? {
            Value::String(s) => Some(s.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// Pointer of one of the rule's fields (`labels/severity`).
    pub fn at(&self, field: &str) -> String {
        if self.embedded { self.base.clone() } else { format!("{}/{field}", self.base) }
    }

    /// Where the rule is, for messages on embedded files: ` (group g of key k)`.
    pub fn place(&self) -> String {
        if self.embedded { format!(" (group `{}` of the rule file)", self.group) } else { String::new() }
    }

    /// `alert \`X\`` or `recording rule \`Y\``.
    pub fn describe(&self) -> String {
        match (self.alert(), self.record()) {
            (Some(a), _) => format!("alert `{a}`"),
            (None, Some(r)) => format!("recording rule `{r}`"),
            _ => "rule".to_string(),
        }
    }

    /// The rule's labels whose values are fixed (not templated), plus
    /// `alertname` for alerts.
    pub fn static_labels(&self) -> BTreeMap<&'a str, &'a str> {
        let mut out: BTreeMap<&str, &str> = self
            .value
            .get("labels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
            .filter(|(_, v)| !v.contains("{{"))
            .collect();
        if let Some(a) = self.alert() {
            out.insert("alertname", a);
        }
        out
    }

    pub fn label(&self, name: &str) -> Option<&'a str> {
        self.value.get("labels").and_then(|l| l.get(name)).and_then(Value::as_str)
    }
}

/// The rule groups of a PrometheusRule or of a rule file.
fn groups_of<'a>(groups: Option<&'a Value>, object: usize, base: &str, embedded: bool, f: &mut impl FnMut(&Rule<'a>)) {
    for (i, g) in groups.and_then(Value::as_array).into_iter().flatten().enumerate() {
        let group = g.get("name").and_then(Value::as_str).unwrap_or("?");
        for (j, r) in g.get("rules").and_then(Value::as_array).into_iter().flatten().enumerate() {
            if !r.is_object() {
                continue;
            }
            let base = if embedded { base.to_string() } else { format!("{base}/{i}/rules/{j}") };
            f(&Rule { object, base, embedded, value: r, group });
        }
    }
}

/// Whether a ConfigMap data key looks like a Prometheus rule file.
fn rule_file_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("rule") && (k.ends_with(".yml") || k.ends_with(".yaml") || k.ends_with(".rules"))
}

/// Calls `f` with every rule of the checked set: PrometheusRule objects,
/// rule files held in ConfigMaps, and bare rule files.
pub fn for_each_rule(cx: &Context, mut f: impl FnMut(&Rule)) {
    for &i in cx.index.of_kind("PrometheusRule") {
        let o = &cx.objects[i];
        if o.group() != "monitoring.coreos.com" {
            continue;
        }
        groups_of(o.value.at("/spec/groups"), i, "/spec/groups", false, &mut f);
    }
    // Bare rule files (promtool's format), as `gen` writes beside the manifests.
    for &i in cx.index.of_kind(crate::model::load::files::RULE_FILE) {
        let o = &cx.objects[i];
        if o.api_version == crate::model::load::files::FILE_API {
            groups_of(o.value.get("groups"), i, "/groups", false, &mut f);
        }
    }
    for &i in cx.index.of_kind("ConfigMap") {
        let o = &cx.objects[i];
        for (key, text) in o.value.get("data").and_then(Value::as_object).into_iter().flatten() {
            let Some(text) = text.as_str().filter(|t| rule_file_key(key) && t.contains("groups")) else { continue };
            let file = rule_file(cx, text);
            let Some(file) = file.as_ref() else { continue };
            groups_of(file.get("groups"), i, &format!("/data/{}", escape(key)), true, &mut f);
        }
    }
}

/// An expression as [`promql::parse`] reads it (`None` past its bounds,
/// which KP610 reports), shared by the checks of one run.
pub type Parsed = promql::Parsed;

use crate::model::memo::TextMemo;

/// The expressions the checks parsed: five checks read each rule's
/// expression, and parsing was a tenth of `gen`'s instructions (PromQL's
/// parser is table-driven and allocates every token). The process's is
/// the model's ([`promql::parsed_memo`]), which `gen` fills first.
pub type PromqlMemo = TextMemo<Parsed>;

/// `expr` parsed ([`promql::parse`]), once while the memo has room.
pub fn parsed(cx: &Context, expr: &str) -> Parsed {
    promql::parsed_in(&cx.promql, expr)
}

/// What the checks read of a dashboard's text: its PromQL queries
/// ([`queries`]), or why it is not a JSON object (a message for KP605).
pub type DashboardRead = Arc<Result<Vec<Query>, String>>;

/// The dashboards the checks read: four checks read each one's JSON, and
/// parsing it was a twentieth of `gen`'s instructions.
pub type DashboardMemo = TextMemo<DashboardRead>;

/// A rule file held in a ConfigMap, parsed ([`parse_yaml`]).
pub type RuleFileRead = Arc<Option<Value>>;

/// The rule files the checks read: a dozen checks walk every rule, and
/// parsing the rule files of ConfigMaps for each was a fifth of `gen`'s
/// instructions on health-platform.
pub type RuleFileMemo = TextMemo<RuleFileRead>;

/// The memos every run in this process shares: the expressions (the
/// model's), the dashboards and the rule files the checks read (one static
/// for the two: a static cannot be generic).
pub fn shared_memos() -> (Arc<PromqlMemo>, Arc<DashboardMemo>, Arc<RuleFileMemo>) {
    type Memos = (Arc<DashboardMemo>, Arc<RuleFileMemo>);
    static SHARED: std::sync::OnceLock<Memos> = std::sync::OnceLock::new();
    let (dashboards, rule_files) = SHARED.get_or_init(Memos::default);
    (promql::parsed_memo(), Arc::clone(dashboards), Arc::clone(rule_files))
}

/// The rule file `text` parsed, once while the memo has room.
pub fn rule_file(cx: &Context, text: &str) -> RuleFileRead {
    cx.rule_files.get_or(text, |t| Arc::new(parse_yaml(t)))
}

/// Calls `f` with every series selector of an expression, a range's
/// (`x[5m]`) included.
pub fn selectors(expr: &Expr, f: impl FnMut(&promql_parser::parser::VectorSelector)) {
    struct Walk<F>(F);
    impl<F: FnMut(&promql_parser::parser::VectorSelector)> promql_parser::util::ExprVisitor for Walk<F> {
        type Error = ();
        fn pre_visit(&mut self, e: &Expr) -> Result<bool, ()> {
            match e {
                Expr::VectorSelector(vs) => (self.0)(vs),
                Expr::MatrixSelector(ms) => (self.0)(&ms.vs),
                _ => {}
            }
            Ok(true)
        }
    }
    let _ = promql_parser::util::walk_expr(&mut Walk(f), expr);
}

/// The metric names an expression selects (by name or `__name__="…"`), in
/// order, once each.
pub fn metric_names(expr: &Expr) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    selectors(expr, |vs| {
        let by_matcher = vs.matchers.matchers.iter().find(|m| {
            m.name == "__name__" && matches!(m.op, promql_parser::label::MatchOp::Equal) && !m.value.is_empty()
        });
        if let Some(name) = vs.name.as_deref().or(by_matcher.map(|m| m.value.as_str()))
            && !names.iter().any(|n| n == name)
        {
            names.push(name.to_string());
        }
    });
    names
}

/// Severity label values that page someone.
pub fn pages(severity: &str) -> bool {
    matches!(severity.to_ascii_lowercase().as_str(), "critical" | "page" | "pager" | "paging" | "emergency")
}

// ---------------------------------------------------------------------------
// Grafana dashboards

/// A dashboard's JSON text, where it is written.
#[derive(Debug)]
pub struct DashboardText<'a> {
    pub object: usize,
    /// Pointer of the key holding the JSON.
    pub ptr: String,
    /// The key (ConfigMap) or `spec.json` (GrafanaDashboard).
    pub key: &'a str,
    pub text: &'a str,
}

impl DashboardText<'_> {
    /// The dashboard read, once while the memo has room.
    pub fn read(&self, cx: &Context) -> DashboardRead {
        cx.dashboards.get_or(self.text, |text| {
            Arc::new(match serde_json::from_str::<Value>(text) {
                Ok(d @ Value::Object(_)) => Ok(queries(&d)),
                Ok(_) => Err("is JSON but not an object".to_string()),
                Err(e) => Err(format!("is not valid JSON: {e} (inside the JSON text)")),
            })
        })
    }
}

/// Dashboard JSON of the checked set: `*.json` keys of ConfigMaps labelled
/// `grafana_dashboard` (the Grafana sidecar's default label), any value of
/// other ConfigMaps that parses as a dashboard ([`looks_like_dashboard`]:
/// stacks such as Istio's addons mount them without the label),
/// GrafanaDashboard objects' `spec.json`, and bare dashboard files.
pub fn dashboards<'a>(cx: &'a Context) -> Vec<DashboardText<'a>> {
    let mut out = Vec::new();
    for &i in cx.index.of_kind("ConfigMap") {
        let o = &cx.objects[i];
        let labelled = o.labels().is_some_and(|l| l.contains_key("grafana_dashboard"));
        for (key, text) in o.value.get("data").and_then(Value::as_object).into_iter().flatten() {
            let Some(text) = text.as_str() else { continue };
            let found = if labelled { key.ends_with(".json") } else { looks_like_dashboard(text) };
            if found {
                out.push(DashboardText { object: i, ptr: format!("/data/{}", escape(key)), key, text });
            }
        }
    }
    for &i in cx.index.of_kind("GrafanaDashboard") {
        if let Some(text) = cx.objects[i].value.at("/spec/json").and_then(Value::as_str) {
            out.push(DashboardText { object: i, ptr: "/spec/json".into(), key: "spec.json", text });
        }
    }
    // Bare dashboard files (as `gen` writes beside the manifests): their text is the JSON.
    for &i in cx.index.of_kind(crate::model::load::files::DASHBOARD_FILE) {
        let o = &cx.objects[i];
        // A dashboard written as YAML is not judged as JSON.
        let json = |text: &str| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
        let Some((name, text)) = cx
            .sources
            .get(o.source)
            .filter(|(_, text)| o.api_version == crate::model::load::files::FILE_API && json(text))
        else {
            continue;
        };
        let key = name.file_name().and_then(|n| n.to_str()).unwrap_or("dashboard");
        out.push(DashboardText { object: i, ptr: String::new(), key, text });
    }
    out
}

/// Whether a text is a Grafana dashboard: a JSON object whose `panels` or
/// (before Grafana 5) `rows` is a list of objects. A text that does not
/// parse is not one: without the label nothing says it was meant to be.
pub fn looks_like_dashboard(text: &str) -> bool {
    let t = text.trim_start();
    if !t.starts_with('{') || !(t.contains("\"panels\"") || t.contains("\"rows\"")) {
        return false;
    }
    let Ok(Value::Object(d)) = serde_json::from_str::<Value>(t) else { return false };
    ["panels", "rows"]
        .iter()
        .any(|f| d.get(f).and_then(Value::as_array).is_some_and(|a| !a.is_empty() && a.iter().all(Value::is_object)))
}

/// One PromQL query of a dashboard panel.
#[derive(Debug)]
pub struct Query {
    /// `panel "Errors", query A`.
    pub label: String,
    /// The expression as written.
    pub expr: String,
    /// The expression with Grafana's variables replaced, or `None` when a
    /// variable stands where no placeholder keeps it PromQL (it is not judged).
    pub promql: Option<String>,
}

/// The PromQL queries of a dashboard (panels, rows, collapsed rows' panels);
/// targets of Loki and other non-Prometheus data sources are left out.
pub fn queries(dashboard: &Value) -> Vec<Query> {
    let vars = dashboard.at("/templating/list").and_then(Value::as_array).unwrap_or_default();
    let mut out = Vec::new();
    let mut stack: Vec<&Value> = Vec::new();
    for field in ["panels", "rows"] {
        stack.extend(dashboard.get(field).and_then(Value::as_array).into_iter().flatten().rev());
    }
    let mut budget = 100_000usize;
    while let Some(panel) = stack.pop() {
        budget = budget.saturating_sub(1);
        if budget == 0 {
            break;
        }
        stack.extend(panel.get("panels").and_then(Value::as_array).into_iter().flatten().rev());
        let title = panel.get("title").and_then(Value::as_str).unwrap_or("");
        let panel_ds = panel.get("datasource");
        for (n, t) in panel.get("targets").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let Some(expr) = t.get("expr").and_then(Value::as_str).filter(|e| !e.trim().is_empty()) else { continue };
            let ds = t.get("datasource").filter(|d| !d.is_null()).or(panel_ds);
            match datasource_type(ds, vars) {
                Some(kind) if !is_prometheus(&kind) => continue,
                None if expr.contains('|') => continue, // LogQL pipelines on a default data source
                _ => {}
            }
            let refid = t.get("refId").and_then(Value::as_str).map_or_else(|| format!("#{}", n + 1), str::to_string);
            out.push(Query {
                label: format!("panel \"{title}\", query {refid}"),
                expr: expr.to_string(),
                promql: substitute(expr),
            });
        }
    }
    out
}

fn is_prometheus(kind: &str) -> bool {
    ["prometheus", "thanos", "mimir", "cortex", "victoria", "promql"].iter().any(|p| kind.contains(p))
}

/// The type (or name) of a target's data source, lower-case, when known.
fn datasource_type(ds: Option<&Value>, vars: &[Value]) -> Option<String> {
    let name = match ds? {
        Value::Object(m) => match m.get("type").and_then(Value::as_str) {
            Some(t) => return Some(t.to_ascii_lowercase()),
            None => m.get("uid").and_then(Value::as_str)?,
        },
        Value::String(s) => s.as_str(),
        _ => return None,
    };
    let var = name.trim_start_matches('$').trim_start_matches('{').trim_end_matches('}');
    if name.starts_with('$') {
        let v = vars.iter().find(|v| v.get("name").and_then(Value::as_str) == Some(var))?;
        if v.get("type").and_then(Value::as_str) != Some("datasource") {
            return None;
        }
        return v.get("query").and_then(Value::as_str).map(str::to_ascii_lowercase);
    }
    let lower = name.to_ascii_lowercase();
    ["loki", "tempo", "elasticsearch", "influx", "graphite", "jaeger", "zipkin", "mysql", "postgres", "cloudwatch"]
        .iter()
        .any(|other| lower.contains(other))
        .then_some(lower)
}

/// Replaces Grafana variables: in string literals by `x`, interval and range
/// variables (and any variable inside `[…]`) by `5m`. `None` when a variable
/// stands elsewhere (a metric name, a `by` label, a number).
pub fn substitute(expr: &str) -> Option<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut brackets = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(q) = quote {
            if c == '\\' && q != '`' {
                out.push(c);
                if let Some(&n) = chars.get(i + 1) {
                    out.push(n);
                }
                i += 2;
                continue;
            }
            if c == q {
                quote = None;
            }
        } else {
            match c {
                '"' | '\'' | '`' => quote = Some(c),
                '[' if chars.get(i + 1) != Some(&'[') => brackets += 1,
                ']' if brackets > 0 => brackets -= 1,
                _ => {}
            }
        }
        let var_end = match (c, chars.get(i + 1)) {
            ('$', Some('{')) => chars[i..].iter().position(|&c| c == '}').map(|p| i + p + 1),
            ('$', Some(n)) if n.is_ascii_alphanumeric() || *n == '_' => Some(
                chars[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
                    .map_or(chars.len(), |p| i + 1 + p),
            ),
            ('[', Some('[')) => chars[i..].windows(2).position(|w| w == [']', ']']).map(|p| i + p + 2),
            _ => None,
        };
        let Some(end) = var_end else {
            out.push(c);
            i += 1;
            continue;
        };
        let name: String = chars[i..end].iter().filter(|c| c.is_ascii_alphanumeric() || **c == '_').collect();
        if quote.is_some() {
            out.push('x');
        } else if name.starts_with("__") && (name.contains("interval") || name.contains("range")) {
            out.push_str(if name.ends_with("_ms") || name.ends_with("_s") { "300" } else { "5m" });
        } else if brackets > 0 {
            out.push_str("5m");
        } else {
            return None;
        }
        i = end;
    }
    Some(out)
}

#[cfg(test)]
mod tests;

// ---------------------------------------------------------------------------
// ServiceMonitors and PodMonitors

/// What a ServiceMonitor or PodMonitor selects in the checked set.
#[derive(Debug)]
pub struct Targets {
    /// `Service` or `pod template`.
    pub what: &'static str,
    /// The namespaces it looks in (`every namespace` for `any: true`).
    pub namespaces: String,
    /// The same, as a list (empty for `any: true`).
    pub in_ns: Vec<String>,
    /// Selected Services or pod-template objects.
    pub selected: Vec<usize>,
    /// Whether any namespace it looks in has Services (pod templates) in
    /// the checked set: otherwise nothing can be judged.
    pub judged: bool,
    /// Whether the selector names a custom resource of one of those
    /// namespaces (an operator makes its Services and pods).
    pub operator_made: bool,
}

/// The job of the targets a ServiceMonitor with `job_label` (its
/// `spec.jobLabel`) finds through Service `svc`, as the Prometheus Operator
/// names it: the value of that label of the Service (`None` when the Service
/// lacks it: the Operator then names no job after it), or without a
/// `jobLabel`, the Service's name.
pub fn service_job<'o>(svc: &'o crate::model::Object, job_label: Option<&str>) -> Option<&'o str> {
    match job_label {
        Some(l) => svc.labels()?.get(l)?.as_str(),
        None => Some(&svc.name),
    }
}

/// The targets of a ServiceMonitor or PodMonitor object; `None` for other
/// objects and for monitors without a selector.
pub fn targets(cx: &Context, crs: &std::collections::HashSet<(&str, &str)>, i: usize) -> Option<Targets> {
    let o = &cx.objects[i];
    if o.group() != "monitoring.coreos.com" {
        return None;
    }
    let services = match o.kind.as_str() {
        "ServiceMonitor" => true,
        "PodMonitor" => false,
        _ => return None,
    };
    let selector = o.value.at("/spec/selector").filter(|s| s.is_object())?;
    let ns_selector = o.value.at("/spec/namespaceSelector");
    let any = ns_selector.and_then(|n| n.get("any")).and_then(Value::as_bool) == Some(true);
    let names: Vec<&str> = ns_selector
        .and_then(|n| n.get("matchNames"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let with_pods;
    let namespaces: Vec<&str> = if any {
        if services {
            cx.index.service_namespaces().collect()
        } else {
            with_pods = crate::model::scope::namespaces_with_pods(cx);
            let mut v: Vec<&str> = with_pods.iter().copied().collect();
            v.sort_unstable();
            v
        }
    } else if names.is_empty() {
        vec![o.ns()]
    } else {
        names.clone()
    };
    let mut selected = Vec::new();
    let mut judged = false;
    let typed = Selector::of(selector);
    for ns in &namespaces {
        if services {
            judged |= cx.index.has_services(ns);
            selected.extend(cx.index.services_selected(ns, &typed).into_iter().map(|s| s.object));
        } else {
            judged |= cx.index.has_templates(ns);
            selected.extend(cx.index.selected(ns, &typed).into_iter().map(|t| t.object));
        }
    }
    let operator_made = namespaces.iter().any(|ns| crate::model::scope::names_custom_resource(crs, ns, &typed));
    let in_ns = if any { Vec::new() } else { namespaces.iter().map(|n| n.to_string()).collect() };
    let namespaces = if any {
        "every namespace".to_string()
    } else if namespaces.len() == 1 {
        format!("namespace {}", namespaces[0])
    } else {
        format!("namespaces {}", namespaces.join(", "))
    };
    Some(Targets {
        what: if services { "Service" } else { "pod template" },
        namespaces,
        in_ns,
        selected,
        judged,
        operator_made,
    })
}

/// `app=api,tier in (web)` for messages.
pub fn describe_selector(selector: &Value) -> String {
    let selector = Selector::of(selector);
    let mut parts: Vec<String> = selector.pairs().iter().map(|(k, v)| format!("{k}={}", v.unwrap_or("?"))).collect();
    for r in selector.requirements() {
        let (key, op) =
            (if r.key.is_empty() { "?" } else { r.key }, if r.written.is_empty() { "?" } else { r.written });
        parts.push(format!("{key} {op} ({})", r.values.join(",")));
    }
    if parts.is_empty() { "{}".to_string() } else { parts.join(",") }
}
