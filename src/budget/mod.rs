//! `kubeproof budget`: what a platform or a set of manifests asks of the
//! cluster, per environment and namespace, at minimum and maximum scale,
//! against a capacity; and what to change when it does not fit.
//!
//! One code path for both inputs: a description is generated in memory (the
//! objects `gen` would write for an environment) and budgeted like any
//! manifests ([`crate::model::resources`] says how objects count).

pub mod render;
pub mod suggest;

use serde::Serialize;

use crate::model::resources::{Budget, Capacity, Excess, Item};

/// The budget of one environment of a description, as `gen` would write it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvBudget {
    pub environment: String,
    pub capacity: Capacity,
    #[serde(flatten)]
    pub budget: Budget,
    pub exceeds: Vec<Excess>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestions: Option<suggest::Suggestions>,
}

/// Generates the objects of environment `env` (`None`: the base) in memory.
pub fn generate(
    p: &crate::description::Platform,
    env: Option<&str>,
    file: &std::path::Path,
) -> Result<crate::generate::Stack, crate::Error> {
    let r = crate::description::resolve::resolve(p, env, file).map_err(crate::Error::Description)?;
    Ok(crate::generate::generate(&r))
}

/// Budgets generated objects.
pub fn of_stack(stack: &crate::generate::Stack, nodes: Option<u64>) -> Budget {
    let budgeted = stack.budgeted();
    let items: Vec<Item> = budgeted.iter().map(|(o, v)| o.item(v)).collect();
    Budget::of(&items, nodes)
}

/// The budget of each environment of a description (or of `only`), with
/// suggestions for those that do not fit.
pub fn of_description(
    p: &crate::description::Platform,
    file: &std::path::Path,
    only: Option<&str>,
    capacity_override: Option<&Capacity>,
) -> Result<Vec<EnvBudget>, crate::Error> {
    let mut capacity = p.cluster.capacity.as_ref().map(crate::description::Capacity::figures).unwrap_or_default();
    if let Some(o) = capacity_override {
        capacity = capacity.overridden(o);
    }
    let envs: Vec<Option<&str>> = if p.environments.is_empty() {
        if let Some(e) = only.filter(|e| *e != crate::build::DEFAULT_ENV) {
            return Err(crate::Error::Usage(format!(
                "no environment `{e}`: the description has none (its single overlay is `{}`)",
                crate::build::DEFAULT_ENV
            )));
        }
        vec![None]
    } else {
        match only {
            Some(e) => vec![Some(e)],
            None => p.environments.keys().map(|k| Some(k.as_str())).collect(),
        }
    };
    let mut out = Vec::new();
    for env in envs {
        let budget = of_stack(&generate(p, env, file)?, capacity.nodes);
        let exceeds = budget.excesses(&capacity);
        let suggestions = (!exceeds.is_empty()).then(|| suggest::suggest(p, env, file, &capacity, &budget));
        out.push(EnvBudget {
            environment: env.unwrap_or(crate::build::DEFAULT_ENV).to_string(),
            capacity,
            budget,
            exceeds,
            suggestions,
        });
    }
    Ok(out)
}

/// The resource quantities of manifests that cannot be counted: not a
/// Kubernetes quantity (`1e999m`), or too large for the sums (`1e999`).
/// Counted as absent they would hide a request; saturated they would print
/// a meaningless 18446744073709551615m.
pub fn uncountable(loaded: &crate::model::Loaded) -> Vec<crate::diag::Diagnostic> {
    let mut out = Vec::new();
    for o in &loaded.objects {
        let file = loaded.sources.get(o.source).map(|s| s.name.clone()).unwrap_or_default();
        let mut found = Vec::new();
        quantities(&o.value, &mut String::new(), &mut found);
        for (pointer, value) in found {
            let shown = match &value {
                crate::model::Value::String(s) => s.to_string(),
                other => other.to_string(),
            };
            out.push(
                crate::diag::Diagnostic::error(
                    &file,
                    o.pos(&pointer),
                    format!("`{shown}` is not a quantity `budget` can count (not a Kubernetes quantity, or too large)"),
                )
                .with_help("write it as Kubernetes does: `500m`, `2`, `512Mi`, `1Gi`"),
            );
        }
    }
    out
}

/// Every `resources.{requests,limits}.{cpu,memory,storage,…}` under `v` that
/// does not read as millicores (CPU) or bytes (the others), with its pointer.
fn quantities(v: &crate::model::Value, at: &mut String, out: &mut Vec<(String, crate::model::Value)>) {
    use crate::model::resources::{bytes, millis};
    let crate::model::Value::Object(map) = v else {
        if let crate::model::Value::Array(items) = v {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                quantities(item, at, out);
                at.truncate(len);
            }
        }
        return;
    };
    for (key, child) in map {
        let len = at.len();
        at.push('/');
        at.push_str(&key.replace('~', "~0").replace('/', "~1"));
        let side = at.ends_with("/resources/requests") || at.ends_with("/resources/limits");
        match child {
            crate::model::Value::Object(amounts) if side => {
                for (name, q) in amounts {
                    let counted = if name == "cpu" { millis(q).is_some() } else { bytes(q).is_some() };
                    if !counted && !q.is_null() && matches!(name.as_str(), "cpu" | "memory" | "storage") {
                        out.push((format!("{at}/{name}"), q.clone()));
                    }
                }
            }
            _ => quantities(child, at, out),
        }
        at.truncate(len);
    }
}

#[cfg(test)]
mod tests {
    use crate::model::resources::{Budget, Item, release_peak};

    /// The objects a budget reads give the budget of every object, on
    /// every example's environments: what [`crate::model::resources::budgeted`]
    /// leaves out the budget never read.
    #[test]
    fn the_budget_of_the_budgeted_objects_is_the_budget_of_all() {
        for (name, text) in crate::description::starter::EXAMPLES {
            let file = std::path::Path::new(name);
            let p = crate::description::parse(text, file).expect("the example parses");
            let envs: Vec<Option<&str>> =
                std::iter::once(None).chain(p.environments.keys().map(|e| Some(e.as_str()))).collect();
            for env in envs {
                let stack = super::generate(&p, env, file).expect("generates");
                let values: Vec<crate::model::Value> =
                    stack.objects.iter().map(crate::generate::Object::checked_value).collect();
                let all: Vec<Item> = stack.objects.iter().zip(&values).map(|(o, v)| o.item(v)).collect();
                let budgeted = stack.budgeted();
                let some: Vec<Item> = budgeted.iter().map(|(o, v)| o.item(v)).collect();
                assert!(some.len() < all.len() && some.iter().any(|i| i.kind == "Deployment"), "{name} {env:?}");
                let (whole, part) = (Budget::of(&all, Some(3)), Budget::of(&some, Some(3)));
                let json = |b: &Budget| serde_json::to_string(b).expect("serializes");
                assert_eq!(json(&whole), json(&part), "{name} {env:?}");
                assert_eq!(release_peak(&all, &whole), release_peak(&some, &part), "{name} {env:?}");
            }
        }
    }
}
