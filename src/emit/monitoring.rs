//! `DIR/monitoring/`: the plain Prometheus and Alertmanager files of the base
//! (`rules.yaml`, `rules.test.yaml` and, with slow burns,
//! `rules.long.test.yaml`, `prometheus.yml`, `alertmanager.yml`), and
//! `monitoring/ENV/` for an environment whose rules or scrape configuration
//! differ from the base's. `promtool test rules rules.test.yaml` runs from
//! each directory (the tests name `rules.yaml` relatively).

use std::fmt::Write;

use super::files::Tree;
use super::{header, to_yaml};
use crate::generate::Stack;
use crate::generate::monitoring::{LONG_INTERVAL, LoadedBy, Monitoring, RULES_FILE};

const ROOT: &str = "monitoring";
/// The tests that simulate a day or more, evaluated every 10 minutes.
const LONG_TESTS: &str = "rules.long.test.yaml";

pub fn emit(base: &Stack, envs: &[(String, Stack)], source: &str, tree: &mut Tree) -> Result<(), crate::Error> {
    let Some(m) = &base.monitoring else { return Ok(()) };
    files(m, ROOT, source, tree)?;
    if let Some(am) = &m.alertmanager {
        tree.insert(format!("{ROOT}/alertmanager.yml"), format!("{}{}", header(source), to_yaml(am)?));
    }
    for (env, stack) in envs {
        if let Some(e) = &stack.monitoring
            && (e.rules != m.rules || e.scrape != m.scrape)
        {
            files(e, &format!("{ROOT}/{env}"), source, tree)?;
        }
    }
    tree.insert(format!("{ROOT}/README.md"), readme(base, envs));
    Ok(())
}

fn files(m: &Monitoring, dir: &str, source: &str, tree: &mut Tree) -> Result<(), crate::Error> {
    tree.insert(format!("{dir}/{RULES_FILE}"), format!("{}{}", header(source), to_yaml(&m.rules)?));
    tree.insert(format!("{dir}/rules.test.yaml"), format!("{}{}", header(source), to_yaml(&m.tests)?));
    if let Some(long) = &m.long_tests {
        tree.insert(format!("{dir}/{LONG_TESTS}"), format!("{}{}", header(source), to_yaml(long)?));
    }
    tree.insert(format!("{dir}/prometheus.yml"), format!("{}{}", header(source), to_yaml(&m.scrape)?));
    Ok(())
}

/// Who reads the files: the platform's own stack, or the Operator's.
fn who_loads(s: &mut String, own: &[LoadedBy]) {
    if own.is_empty() {
        s.push_str(
            "With the Prometheus Operator, the ServiceMonitors and the PrometheusRule are part of the kustomize\n\
             output. Without it, give Prometheus `prometheus.yml` (scrape jobs and `rules.yaml`).\n\n",
        );
        return;
    }
    s.push_str("The platform runs its own monitoring stack; the kustomize output mounts these files into it:\n\n");
    for l in own {
        let _ = writeln!(
            s,
            "- {} (`{}/{}`): ConfigMap `{}` at `{}`.",
            l.component, l.namespace, l.service, l.config_map, l.path
        );
    }
    s.push('\n');
}

fn readme(base: &Stack, envs: &[(String, Stack)]) -> String {
    let mut s = String::from("# Monitoring\n\n");
    let own = base.monitoring.as_ref().map(|m| m.loaded_by.as_slice()).unwrap_or_default();
    who_loads(&mut s, own);
    let long = base.monitoring.as_ref().is_some_and(|m| m.long_tests.is_some());
    s.push_str(
        "\
         - `rules.yaml`: recording rules and alerts (the PrometheusRule's `spec`).\n\
         - `rules.test.yaml`: `promtool test rules` input: each alert fires above its threshold and stays \
          silent below (alerts of one name evaluated alike are tested together: two tests, each where \
          half of them fire and the other half stay silent).\n",
    );
    if long {
        let _ = writeln!(
            s,
            "- `{LONG_TESTS}`: the same for the alerts whose test simulates a day or more (the slow burns), \
             evaluated every {} minutes rather than every minute, so promtool takes seconds, not minutes.",
            LONG_INTERVAL / 60
        );
    }
    s.push_str("- `prometheus.yml`: scrape configuration for clusters without the Operator.\n");
    let different: Vec<&str> = envs
        .iter()
        .filter(|(_, e)| {
            matches!((&e.monitoring, &base.monitoring), (Some(a), Some(b)) if a.rules != b.rules || a.scrape != b.scrape)
        })
        .map(|(n, _)| n.as_str())
        .collect();
    for env in &different {
        let _ = writeln!(s, "- `{env}/`: the same files for the environment `{env}`, whose rules differ.");
    }
    let am = base.monitoring.as_ref().and_then(|m| m.alertmanager.as_ref());
    if let Some(am) = am {
        s.push_str("- `alertmanager.yml`: routes by severity, inhibition, receivers.\n\n");
        credentials(&mut s, am, own);
    }
    s.push_str("\n## Proof\n\n```sh\npromtool check rules rules.yaml\npromtool test rules rules.test.yaml");
    if long {
        let _ = write!(s, " {LONG_TESTS}");
    }
    s.push_str(
        "\npromtool check config prometheus.yml\namtool check-config alertmanager.yml\n\
         amtool config routes test --config.file=alertmanager.yml severity=critical\n```\n",
    );
    s
}

/// Where Alertmanager's receiver credentials come from: the overlays'
/// secret generators for the platform's own, else a Secret to create.
fn credentials(s: &mut String, am: &serde_json::Value, own: &[LoadedBy]) {
    s.push_str("## Receiver credentials\n\nAlertmanager reads them from files, never from this repository:\n\n");
    let mut files = Vec::new();
    for r in am["receivers"].as_array().into_iter().flatten() {
        for (_, cfgs) in r.as_object().into_iter().flatten() {
            for c in cfgs.as_array().into_iter().flatten() {
                for key in ["routing_key_file", "api_url_file", "auth_password_file", "url_file"] {
                    if let Some(f) = c[key].as_str() {
                        files.push(f.to_string());
                    }
                }
            }
        }
    }
    let own_am = own.iter().find(|l| l.component == "alertmanager");
    if let (Some(first), Some(am)) = (files.first(), own_am) {
        let (dir, _) = first.rsplit_once('/').unwrap_or(("", ""));
        let secret = dir.rsplit('/').next().unwrap_or_default();
        let _ = writeln!(
            s,
            "Each overlay's `secrets/{secret}.env` holds them (one key per receiver); its secretGenerator makes\n\
             the Secret `{secret}` in `{}`, mounted at `{dir}/`.",
            am.namespace
        );
    } else if let Some(first) = files.first() {
        let (dir, _) = first.rsplit_once('/').unwrap_or(("", ""));
        let secret = dir.rsplit('/').next().unwrap_or_default();
        let _ = writeln!(
            s,
            "```sh\nkubectl -n monitoring create secret generic {secret} \\\n{}\n```\n",
            files
                .iter()
                .map(|f| {
                    let key = f.rsplit('/').next().unwrap_or_default();
                    format!("  --from-file={key}=./{key}.secret")
                })
                .collect::<Vec<_>>()
                .join(" \\\n")
        );
        let _ = writeln!(
            s,
            "With the Operator, list `{secret}` in `Alertmanager.spec.secrets`: it is mounted at `{dir}/`.\n\
             Otherwise mount the Secret there yourself."
        );
    }
}
