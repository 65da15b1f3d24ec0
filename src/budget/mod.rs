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
    let items: Vec<Item> = stack.objects.iter().map(crate::generate::Object::item).collect();
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
