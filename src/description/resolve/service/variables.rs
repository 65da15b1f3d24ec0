//! Environment variables: plain `env` values and the names of `secrets`.

use std::collections::BTreeMap;

use super::super::Cx;
use super::super::names::is_env_name;
use crate::description::Service;
use crate::description::template::{self, EnvTemplate};
use crate::description::value::pos_of;

impl Cx<'_> {
    /// The plain values (for the ConfigMap) and the templates: values with
    /// a `${target.field}` or a `$(VAR)`, resolved once the whole platform is.
    pub(in crate::description::resolve) fn env_values(
        &mut self,
        s: &Service,
    ) -> (BTreeMap<String, String>, Vec<EnvTemplate>) {
        let mut env = BTreeMap::new();
        let mut templates = Vec::new();
        for (k, v) in s.env.iter().flatten() {
            let pos = pos_of(&v.referenced);
            if !is_env_name(k) {
                self.err(
                    pos,
                    format!("invalid environment variable name `{k}` in `{}`", self.name),
                    Some("use letters, digits and '_', not starting with a digit".into()),
                );
            }
            if !template::is_template(&v.value.0) {
                env.insert(k.clone(), v.value.0.clone());
                continue;
            }
            match template::parse(k, &v.value.0, pos) {
                Ok(t) => templates.push(t),
                Err(m) => self.err(pos, m, Some("write `${TARGET.FIELD}`, e.g. `${db.url}`".into())),
            }
        }
        (env, templates)
    }

    /// The secrets' names, each once and none also among the plain `env` values.
    pub(in crate::description::resolve) fn secrets(
        &mut self,
        s: &Service,
        env: &BTreeMap<String, String>,
        templates: &[EnvTemplate],
    ) -> Vec<String> {
        let mut secrets = Vec::new();
        for sec in s.secrets.iter().flatten() {
            let pos = pos_of(&sec.referenced);
            if !is_env_name(&sec.value) {
                self.err(
                    pos,
                    format!("invalid secret name `{}`", sec.value),
                    Some("secrets become environment variables: use letters, digits and '_'".into()),
                );
            } else if secrets.contains(&sec.value) {
                self.err(pos, format!("duplicate secret `{}`", sec.value), None);
            } else if env.contains_key(&sec.value) || templates.iter().any(|t| t.name == sec.value) {
                self.err(
                    pos,
                    format!("`{}` is both a secret and a plain env value", sec.value),
                    Some("keep it in `secrets` only".into()),
                );
            } else {
                secrets.push(sec.value.clone());
            }
        }
        secrets
    }
}
