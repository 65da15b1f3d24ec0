//! What a run checks: `.kubeproof.yaml` (target version, checks to run,
//! severity overrides) and the per-object ignore annotation
//! `kubeproof.dev/ignore: "KP123: reason; KP456: reason"`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::{Finding, Meta, Severity};
use crate::diag::{Diagnostic, Pos};
use crate::model::Object;
use crate::model::schema::{NEWEST_MINOR, parse_minor};

/// The annotation that silences findings on one object.
pub const IGNORE: &str = "kubeproof.dev/ignore";

/// Severity in the config file: a severity, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Off,
    Info,
    Warning,
    Error,
}

/// `.kubeproof.yaml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Target Kubernetes version, e.g. "1.30".
    #[serde(default)]
    pub kubernetes: Option<String>,
    /// Run only these checks (codes); all when empty.
    #[serde(default)]
    pub only: Vec<String>,
    /// Never run these checks (codes).
    #[serde(default)]
    pub disable: Vec<String>,
    /// Severity per code (`off` disables).
    #[serde(default)]
    pub severity: BTreeMap<String, Level>,
    /// Metrics the services export, for KP608 (`unknown-metric`): exact names
    /// (a histogram or summary name covers its `_bucket`, `_sum` and `_count`
    /// series) or prefixes ending in `*` (`shop_*`).
    #[serde(default)]
    pub metrics: Vec<String>,
    /// Custom resources whose operator makes pods, beyond the known ones
    /// (the Prometheus Operator's, CloudNativePG, Strimzi, RabbitMQ): their
    /// group, kind, the labels the pods get (`{name}`: the resource's name)
    /// and where the resource lists more (`podLabels: /spec/podMetadata/labels`).
    #[serde(default)]
    pub operators: Vec<crate::model::operators::PodMaker>,
}

impl Config {
    /// The target minor version (validated by [`Config::validate`]).
    pub fn minor(&self) -> u32 {
        self.kubernetes.as_deref().and_then(|v| parse_minor(v).ok()).unwrap_or(NEWEST_MINOR)
    }

    pub fn enabled(&self, meta: &Meta) -> bool {
        (self.only.is_empty() || self.only.iter().any(|c| c == meta.code))
            && !self.disable.iter().any(|c| c == meta.code)
            && self.severity.get(meta.code) != Some(&Level::Off)
    }

    fn severity_of(&self, code: &str, default: Severity) -> Severity {
        match self.severity.get(code) {
            Some(Level::Info) => Severity::Info,
            Some(Level::Warning) => Severity::Warning,
            Some(Level::Error) => Severity::Error,
            _ => default,
        }
    }

    /// Reads a config file; errors name the file, line and column.
    pub fn read(path: &Path) -> Result<Config, Vec<Diagnostic>> {
        // Read with the manifests' bound: `--config` may name a device.
        let bytes = crate::model::load::read_file(path).map_err(|d| vec![d])?;
        let text = String::from_utf8(bytes)
            .map_err(|_| vec![Diagnostic::error(path, Pos::UNKNOWN, "cannot read: not valid UTF-8")])?;
        let config: Config =
            serde_saphyr::from_str(&text).map_err(|e| vec![crate::diag::yaml::from_yaml_error(path, &e)])?;
        config.validate(path)?;
        Ok(config)
    }

    /// Unknown codes and versions are errors, with a suggestion.
    pub fn validate(&self, path: &Path) -> Result<(), Vec<Diagnostic>> {
        let codes: Vec<&str> = super::rules::registry().iter().map(|c| c.meta().code).collect();
        let mut errors = Vec::new();
        let named = self.only.iter().chain(&self.disable).chain(self.severity.keys());
        for code in named {
            if !codes.contains(&code.as_str()) {
                let mut d = Diagnostic::error(path, Pos::UNKNOWN, format!("unknown check `{code}`"));
                if let Some(s) = crate::diag::did_you_mean(code, codes.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                errors.push(d);
            }
        }
        if let Some(v) = &self.kubernetes
            && let Err(e) = parse_minor(v)
        {
            errors.push(Diagnostic::error(path, Pos::UNKNOWN, e));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// One entry of an ignore annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    pub code: String,
    /// Empty when none was given (which is itself a finding).
    pub reason: String,
}

/// Parses `KP101: reason; KP202: reason` (entries separated by `;` or new lines).
pub fn ignores(o: &Object) -> Vec<Ignore> {
    let Some(text) = o.annotation(IGNORE) else { return Vec::new() };
    text.split([';', '\n'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| match e.split_once(':') {
            Some((code, reason)) => Ignore { code: code.trim().to_string(), reason: reason.trim().to_string() },
            None => Ignore { code: e.to_string(), reason: String::new() },
        })
        .collect()
}

/// Drops findings silenced by a (reasoned) ignore annotation on their
/// object and applies severity overrides.
pub fn apply(findings: Vec<Finding>, objects: &[Object], config: &Config) -> Vec<Finding> {
    findings
        .into_iter()
        .filter(|f| !ignores(&objects[f.object]).iter().any(|i| i.code == f.code && !i.reason.is_empty()))
        .map(|mut f| {
            f.severity = config.severity_of(f.code, f.severity);
            f
        })
        .collect()
}
