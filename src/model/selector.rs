//! Label selectors: which pod templates a selector picks, and why one picks
//! none.

use std::collections::BTreeSet;

use serde_json::Value;

use super::Manifests;

/// Why a label selector selects no pod template of `ns`: the first
/// `matchLabels` pair no pod has, with the closest value pods do have.
pub fn selector_hint(cx: &Manifests, ns: &str, selector: &Value) -> String {
    let everything = serde_json::Map::new();
    let in_ns = cx.index.with_labels(ns, &everything);
    for (k, v) in selector.get("matchLabels").and_then(Value::as_object).into_iter().flatten() {
        let v = v.as_str().unwrap_or("");
        if in_ns.iter().any(|t| t.labels.get(k).map(String::as_str) == Some(v)) {
            continue;
        }
        let values: BTreeSet<&str> = in_ns.iter().filter_map(|t| t.labels.get(k)).map(String::as_str).collect();
        return match crate::diag::did_you_mean(v, values.iter().copied()) {
            Some(s) => format!("no pod of {ns} has {k}={v}; did you mean {k}={s}?"),
            None if values.is_empty() => format!("no pod template of {ns} has the label {k}"),
            None => format!(
                "no pod of {ns} has {k}={v}; pods there have {k}={}",
                values.into_iter().collect::<Vec<_>>().join(", ")
            ),
        };
    }
    format!("no pod template of {ns} has labels matching this selector")
}
