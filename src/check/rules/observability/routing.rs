//! Alertmanager routing trees, read from AlertmanagerConfig objects and from
//! `alertmanager.yaml` held in Secrets and ConfigMaps, and walked for an
//! alert's labels as Alertmanager does (children in order, `continue`, the
//! parent's receiver when no child matches).
//!
//! An alert's labels are only partly known: a rule fixes some (`severity`),
//! the series its expression returns add others. A matcher on a label the
//! rule does not fix *may* match; the walk then follows both ways, so an
//! alert is said to reach only silent receivers only when every way does.

use crate::model::At;
use std::collections::{BTreeSet, HashMap};

use crate::model::Value;
use base64::Engine;
use regex::Regex;

use super::parse_yaml;

use crate::check::Context;
use crate::model::pointer::escape;

/// Alertmanager's keys for the configurations of a receiver.
const CONFIG_SUFFIXES: [&str; 2] = ["_configs", "Configs"];

#[derive(Debug)]
enum Op {
    Eq(String),
    Ne(String),
    Re(Regex),
    NotRe(Regex),
}

#[derive(Debug)]
pub struct Matcher {
    name: String,
    /// `None`: a matcher that could not be read (it may match).
    op: Option<Op>,
}

/// Whether a matcher holds: `Some(bool)` when the label is known, `None`
/// when it may or may not.
impl Matcher {
    pub fn eval(&self, labels: &std::collections::BTreeMap<&str, &str>) -> Option<bool> {
        let value = labels.get(self.name.as_str())?;
        Some(match self.op.as_ref()? {
            Op::Eq(v) => v == value,
            Op::Ne(v) => v != value,
            Op::Re(r) => r.is_match(value),
            Op::NotRe(r) => !r.is_match(value),
        })
    }
}

fn regex(re: &str) -> Option<Regex> {
    Regex::new(&format!("^(?:{re})$")).ok()
}

fn matcher(name: &str, op: &str, value: &str) -> Matcher {
    let op = match op {
        "=" => Some(Op::Eq(value.to_string())),
        "!=" => Some(Op::Ne(value.to_string())),
        "=~" => regex(value).map(Op::Re),
        "!~" => regex(value).map(Op::NotRe),
        _ => None,
    };
    Matcher { name: name.to_string(), op }
}

/// Parses Alertmanager's `matchers` strings: `severity="critical"`,
/// `team=~"a|b"`, `{a="b", c!=d}`.
pub fn parse_matchers(text: &str) -> Vec<Matcher> {
    let t = text.trim();
    let t = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or(t);
    let mut parts = Vec::new();
    let (mut cur, mut quoted, mut escaped) = (String::new(), false, false);
    for c in t.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == ',' && !quoted {
            parts.push(std::mem::take(&mut cur));
            continue;
        }
        cur.push(c);
    }
    parts.push(cur);
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .map(|p| {
            let Some(at) = p.find(['=', '!']) else { return Matcher { name: p.to_string(), op: None } };
            let name = p[..at].trim().trim_matches('"');
            let rest = &p[at..];
            let op = ["=~", "!~", "!=", "="].into_iter().find(|op| rest.starts_with(op)).unwrap_or("?");
            let value = rest[op.len().min(rest.len())..].trim();
            let value = match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                Some(v) => v.replace("\\\"", "\"").replace("\\\\", "\\"),
                None => value.to_string(),
            };
            matcher(name, op, &value)
        })
        .collect()
}

/// One route of a tree.
#[derive(Debug, Default)]
pub struct Route {
    matchers: Vec<Matcher>,
    receiver: Option<String>,
    cont: bool,
    routes: Vec<Route>,
}

/// How deep a routing tree is followed (real trees are a few levels).
const MAX_ROUTE_DEPTH: usize = 32;

impl Route {
    /// A route of `alertmanager.yaml` (snake_case: `match`, `match_re`, `matchers`).
    fn from_yaml(v: &Value, depth: usize) -> Route {
        let mut r = Route {
            receiver: v.get("receiver").and_then(Value::as_str).map(str::to_string),
            cont: v.get("continue").and_then(Value::as_bool).unwrap_or(false),
            ..Route::default()
        };
        for (k, val) in v.get("match").and_then(Value::as_object).into_iter().flatten() {
            r.matchers.push(matcher(k, "=", &scalar(val)));
        }
        for (k, val) in v.get("match_re").and_then(Value::as_object).into_iter().flatten() {
            r.matchers.push(matcher(k, "=~", &scalar(val)));
        }
        for m in v.get("matchers").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            r.matchers.extend(parse_matchers(m));
        }
        if depth < MAX_ROUTE_DEPTH {
            r.routes = v
                .get("routes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| Route::from_yaml(c, depth + 1))
                .collect();
        }
        r
    }

    /// A route of an AlertmanagerConfig (camelCase; `matchers` are objects).
    fn from_crd(v: &Value, depth: usize) -> Route {
        let mut r = Route {
            receiver: v.get("receiver").and_then(Value::as_str).map(str::to_string),
            cont: v.get("continue").and_then(Value::as_bool).unwrap_or(false),
            ..Route::default()
        };
        for m in v.get("matchers").and_then(Value::as_array).into_iter().flatten() {
            let name = m.get("name").and_then(Value::as_str).unwrap_or("");
            let value = m.get("value").map(scalar).unwrap_or_default();
            let op = match m.get("matchType").and_then(Value::as_str) {
                Some(op) => op,
                None if m.get("regex").and_then(Value::as_bool) == Some(true) => "=~",
                None => "=",
            };
            r.matchers.push(matcher(name, op, &value));
        }
        if depth < MAX_ROUTE_DEPTH {
            r.routes = v
                .get("routes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|c| Route::from_crd(c, depth + 1))
                .collect();
        }
        r
    }

    /// Whether the route matches: `Some(true)` surely, `Some(false)` surely
    /// not, `None` maybe.
    fn matches(&self, labels: &std::collections::BTreeMap<&str, &str>) -> Option<bool> {
        let mut sure = true;
        for m in &self.matchers {
            match m.eval(labels) {
                Some(false) => return Some(false),
                Some(true) => {}
                None => sure = false,
            }
        }
        sure.then_some(true)
    }

    /// The receivers an alert with `labels` may reach from this (matching)
    /// route, each with whether the way there surely matched on `alertname`
    /// (the alert was sent there on purpose, as a Watchdog to a null receiver).
    fn walk(
        &self,
        labels: &std::collections::BTreeMap<&str, &str>,
        inherited: Option<&str>,
        on_purpose: bool,
        out: &mut BTreeSet<(Option<String>, bool)>,
    ) {
        let receiver = self.receiver.as_deref().or(inherited);
        let mut surely_matched = false;
        for child in &self.routes {
            let m = child.matches(labels);
            if m == Some(false) {
                continue;
            }
            let named = m == Some(true) && child.matchers.iter().any(|x| x.name == "alertname");
            child.walk(labels, receiver, on_purpose || named, out);
            if m == Some(true) {
                surely_matched = true;
                if !child.cont {
                    break;
                }
            }
        }
        if !surely_matched {
            out.insert((receiver.map(str::to_string), on_purpose));
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// One routing configuration of the checked set.
#[derive(Debug)]
pub struct Config {
    pub object: usize,
    /// Pointer of the route (or of the key holding the configuration).
    pub ptr: String,
    /// `Secret monitoring/alertmanager-main` for messages.
    pub name: String,
    root: Route,
    /// Receiver name → whether it has any notification configuration.
    receivers: HashMap<String, bool>,
}

/// What an alert reaches in one configuration.
#[derive(Debug)]
pub enum Reach {
    /// Some receiver that notifies (or one that cannot be judged).
    Delivered,
    /// Only these receivers, none of which notifies.
    Silent(Vec<String>),
}

impl Config {
    fn new(object: usize, ptr: String, name: String, root: Route, receivers: &Value) -> Config {
        let receivers = receivers
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| {
                let name = r.get("name")?.as_str()?.to_string();
                let has = r.as_object().into_iter().flatten().any(|(k, v)| {
                    CONFIG_SUFFIXES.iter().any(|s| k.ends_with(s)) && v.as_array().is_some_and(|a| !a.is_empty())
                });
                Some((name, has))
            })
            .collect();
        Config { object, ptr, name, root, receivers }
    }

    /// Whether any receiver has a notification configuration.
    pub fn notifies_anyone(&self) -> bool {
        self.receivers.values().any(|&has| has)
    }

    pub fn reach(&self, labels: &std::collections::BTreeMap<&str, &str>) -> Reach {
        let mut out = BTreeSet::new();
        self.root.walk(labels, None, false, &mut out);
        let mut silent = Vec::new();
        for (r, on_purpose) in out {
            match r {
                // Routed by its name: silenced on purpose.
                _ if on_purpose => return Reach::Delivered,
                // No receiver at the root: the configuration is invalid, not judged here.
                None => return Reach::Delivered,
                Some(name) => match self.receivers.get(&name) {
                    Some(true) => return Reach::Delivered,
                    Some(false) => silent.push(format!("`{name}` (no notification configs)")),
                    None => silent.push(format!("`{name}` (not defined)")),
                },
            }
        }
        Reach::Silent(silent)
    }
}

/// The keys that hold Alertmanager's configuration in a Secret or ConfigMap.
const CONFIG_KEYS: [&str; 2] = ["alertmanager.yaml", "alertmanager.yml"];

/// Every routing configuration of the checked set.
pub fn configs(cx: &Context) -> Vec<Config> {
    let mut out = Vec::new();
    for &i in cx.index.of_kind("AlertmanagerConfig") {
        let o = &cx.objects[i];
        let Some(route) = o.value.at("/spec/route").filter(|r| r.is_object()) else { continue };
        let receivers = o.value.at("/spec/receivers").unwrap_or(&Value::Null);
        let name = format!("AlertmanagerConfig {}/{}", o.ns(), o.name);
        out.push(Config::new(i, "/spec/route".into(), name, Route::from_crd(route, 0), receivers));
    }
    for kind in ["Secret", "ConfigMap"] {
        for &i in cx.index.of_kind(kind) {
            let o = &cx.objects[i];
            for key in CONFIG_KEYS {
                let mut found: Option<(String, String)> = None;
                for field in ["stringData", "data"] {
                    let Some(v) = o.value.get(field).and_then(|d| d.get(key)).and_then(Value::as_str) else { continue };
                    let text = if kind == "Secret" && field == "data" {
                        let clean: String = v.chars().filter(|c| !c.is_whitespace()).collect();
                        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(clean) else { continue };
                        let Ok(text) = String::from_utf8(bytes) else { continue };
                        text
                    } else {
                        v.to_string()
                    };
                    found = Some((format!("/{field}/{}", escape(key)), text));
                    break;
                }
                let Some((ptr, text)) = found else { continue };
                let Some(doc) = parse_yaml(&text) else { continue };
                let Some(route) = doc.get("route").filter(|r| r.is_object()) else { continue };
                let receivers = doc.get("receivers").unwrap_or(&Value::Null);
                let name = format!("{kind} {}/{} key {key}", o.ns(), o.name);
                out.push(Config::new(i, ptr, name, Route::from_yaml(route, 0), receivers));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{MAX_ROUTE_DEPTH, Route};

    fn depth(r: &Route) -> usize {
        1 + r.routes.iter().map(depth).max().unwrap_or(0)
    }

    #[test]
    fn routes_are_followed_to_a_bounded_depth() {
        let mut v = serde_json::json!({ "receiver": "deepest" });
        for _ in 0..MAX_ROUTE_DEPTH + 5 {
            v = serde_json::json!({ "receiver": "r", "routes": [v] });
        }
        assert_eq!(depth(&Route::from_yaml(&v.into(), 0)), MAX_ROUTE_DEPTH + 1);
    }
}
