//! Environment variables: plain `env` values and the names of `secrets`.

use std::collections::BTreeMap;

use super::super::Cx;
use super::super::names::is_env_name;
use crate::description::Service;
use crate::description::value::pos_of;
use crate::diag::Pos;

impl Cx<'_> {
    pub(in crate::description::resolve) fn env_values(&mut self, s: &Service) -> BTreeMap<String, String> {
        let env: BTreeMap<String, String> =
            s.env.clone().unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
        for k in env.keys() {
            if !is_env_name(k) {
                self.err(
                    Pos::UNKNOWN,
                    format!("invalid environment variable name `{k}` in `{}`", self.name),
                    Some("use letters, digits and '_', not starting with a digit".into()),
                );
            }
        }
        env
    }

    /// The secrets' names, each once and none also among the plain `env` values.
    pub(in crate::description::resolve) fn secrets(
        &mut self,
        s: &Service,
        env: &BTreeMap<String, String>,
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
            } else if env.contains_key(&sec.value) {
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
