//! `kubeproof gen`, `init` and `schema`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use super::color::Style;
use crate::emit::files;
use crate::{Error, Invalid};

/// What `gen` may override.
#[derive(Clone, Copy)]
pub struct Options {
    /// Overwrite files edited by hand.
    pub force: bool,
    /// Write a stack that exceeds `cluster.capacity`.
    pub over_capacity: bool,
    /// Write a generation whose apply over the earlier one is refused or loses data.
    pub allow_replace: bool,
}

/// Exit 0 written; errors: 1 refused (edited files, error-level findings, over
/// capacity), 2 invalid description.
pub fn gen_cmd(description: &Path, output: &Path, options: Options, style: Style) -> Result<ExitCode, Error> {
    write_stack(description, output, options, style).map_err(|e| match e {
        Error::Description(diags) => {
            let summary = format!("{} has {} error(s); nothing was written", file_of(&diags), diags.len());
            Invalid::new(diags).summary(summary).into()
        }
        other => other,
    })?;
    Ok(ExitCode::SUCCESS)
}

fn write_stack(description: &Path, output: &Path, options: Options, style: Style) -> Result<(), Error> {
    // Said here in the user's terms: the writer would fail on `OUT/.kubeproof/…`.
    if std::fs::metadata(output).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::Usage(format!(
            "{}: is a file, not a folder; `-o` names the folder the stack is written into",
            output.display()
        )));
    }
    let platform = crate::description::load(description).map_err(Error::Description)?;
    let mut built = crate::build::build(&platform, description)?;
    let proven = built.take_proven();
    let excess = over_capacity(&built, &platform, &proven);
    let (report, errors) = proof_report(&built, &platform, proven, style.stderr)?;
    if errors > 0 {
        return Err(Error::Findings { report, errors });
    }
    if !report.is_empty() {
        let _ = write!(std::io::stderr(), "{report}");
    }
    if !excess.is_empty() {
        let what =
            format!("{} does not fit its cluster.capacity at the release peak:\n{excess}", description.display());
        if !options.over_capacity {
            return Err(Error::OverCapacity(format!(
                "{what}`kubeproof budget {}` shows what to change; --over-capacity writes anyway\n",
                description.display()
            )));
        }
        let _ = writeln!(std::io::stderr(), "warning: {what}written anyway (--over-capacity)");
    }
    let unrecorded: Vec<&str> = built
        .envs
        .iter()
        .map(|(env, _)| env.as_str())
        .filter(|env| {
            let overlay = output.join(format!("kustomize/overlays/{env}"));
            overlay.is_dir() && crate::build::earlier_record(output, env).is_none()
        })
        .collect();
    if !unrecorded.is_empty() {
        // Written by a kubeproof without the record: nothing to compare with.
        let _ = writeln!(
            std::io::stderr(),
            "note: the earlier generation of {} in {} has no {} to compare with; `kubeproof diff` of the \
             built overlays (old and new) says what applying the new one changes",
            unrecorded.join(", "),
            output.display(),
            crate::build::IMMUTABLE_RECORD
        );
    }
    let summary = classified(&built, output);
    if !summary.is_empty() {
        let _ = write!(std::io::stderr(), "changes from the generation in {}:\n{summary}", output.display());
    }
    let (changes, deletes) = replaced(&built, output);
    if !changes.is_empty() {
        let what = format!(
            "applying this generation over the one in {} is refused by the API server or loses data:\n{changes}",
            output.display()
        );
        if !options.allow_replace {
            return Err(Error::Replace(format!(
                "{what}--allow-replace writes it anyway and lists the objects to delete first\n"
            )));
        }
        let _ = writeln!(
            std::io::stderr(),
            "warning: {what}written anyway (--allow-replace); delete these first, then apply:\n{deletes}"
        );
    }
    let report = files::write_tree(output, &built.tree, options.force)?;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "kubeproof: {} → {} ({} files: {} written, {} unchanged{}{})",
        description.display(),
        output.display(),
        built.tree.len(),
        report.written.len() + report.overwritten_edits.len(),
        report.unchanged.len(),
        if report.removed.is_empty() { String::new() } else { format!(", {} stale removed", report.removed.len()) },
        if report.overwritten_edits.is_empty() {
            String::new()
        } else {
            format!(", {} edited files overwritten (--force)", report.overwritten_edits.len())
        },
    );
    for p in &report.kept_edited_stale {
        let _ = writeln!(out, "  kept (edited, no longer generated): {}", p.display());
    }
    let _ = write!(out, "{}", summary_table(&built.summary()));
    let _ = write!(out, "{}", next_steps(&built, &platform, output));
    super::left_to_exit((built, platform));
    Ok(())
}

/// What to do with the output: the Secrets' values to provide (env files
/// to fill, entries of the secret manager, SealedSecrets to seal; values
/// never leave the user's machine or manager), then per environment the
/// build and the check, and the apply (or, with a GitOps controller, the
/// commit and the sync), and the Helm chart's install.
fn next_steps(built: &crate::build::Built, platform: &crate::description::Platform, output: &Path) -> String {
    use crate::description::delivery::{SecretsMode, Tool};
    let out = output.display();
    let mut text = String::from("\nnext steps:\n");
    text += &secret_steps(built, output);
    let delivery = crate::description::delivery::delivery(platform.cluster.delivery.as_ref());
    let check = |env: &str| {
        let overlay = format!("{out}/kustomize/overlays/{env}");
        format!("kubectl kustomize {overlay} | kubeproof check --config {out}/.kubeproof.yaml -")
    };
    match &delivery {
        None => {
            text += "  check, then apply, each environment:\n";
            for (env, _) in &built.envs {
                text += &format!("    {} && kubectl apply -k {out}/kustomize/overlays/{env}\n", check(env));
            }
        }
        Some(d) => {
            text += "  check each environment:\n";
            for (env, _) in &built.envs {
                text += &format!("    {}\n", check(env));
            }
            text += &format!(
                "  commit {out} to {} (revision {}) as `{}`, then register each environment once:\n",
                d.repo, d.revision, d.path
            );
            let tool = if d.tool == Tool::ArgoCd { "argocd" } else { "flux" };
            for (env, _) in &built.envs {
                text += &format!("    kubectl apply -f {out}/delivery/{tool}/{env}.yaml\n");
            }
            text += "  and follow each sync:\n";
            for (env, _) in &built.envs {
                let app = format!("{}-{env}", platform.name.as_str());
                text += &match d.tool {
                    Tool::ArgoCd => format!(
                        "    argocd app wait {app} --sync --health   # or: kubectl -n {} get application {app}\n",
                        d.namespace
                    ),
                    Tool::Flux => format!(
                        "    flux reconcile kustomization {app} -n {} --with-source   # after {app}-foundation\n",
                        d.namespace
                    ),
                };
            }
        }
    }
    let (name, chart) = (platform.name.as_str(), format!("{out}/helm/{}", platform.name.as_str()));
    let first = match built.envs.first().map(|(_, s)| &s.secrets_mode) {
        Some(SecretsMode::Sealed) => "the SealedSecrets to apply first",
        Some(SecretsMode::External { .. }) => "the entries its ExternalSecrets read",
        _ => "the Secrets to create first",
    };
    text += &format!(
        "  or with Helm (NOTES.txt lists {first}):\n    helm upgrade --install {name} {chart} -f {chart}/values-ENV.yaml\n"
    );
    text
}

/// The Secrets' values to provide, as the description's provider wants
/// them: env files still to fill, the secret manager's entries, or the
/// SealedSecrets still to seal (those not on disk yet).
fn secret_steps(built: &crate::build::Built, output: &Path) -> String {
    use crate::description::delivery::SecretsMode;
    let out = output.display();
    let mut text = String::new();
    let mut missing: Vec<String> = Vec::new();
    let mut entries: std::collections::BTreeMap<String, (String, Vec<String>)> = Default::default();
    let mut to_seal: Vec<String> = Vec::new();
    for (env, stack) in &built.envs {
        let dir = format!("kustomize/overlays/{env}");
        match &stack.secrets_mode {
            SecretsMode::Env => {
                for s in &stack.secrets {
                    let shown = output.join(format!("{dir}/secrets/{}", s.file)).display().to_string();
                    if !output.join(format!("{dir}/secrets/{}", s.file)).exists() && !missing.contains(&shown) {
                        missing.push(shown);
                    }
                }
            }
            SecretsMode::External { store, kind } => {
                // What the ExternalSecrets written read: entry → properties.
                for o in stack.objects.iter().filter(|o| o.kind == "ExternalSecret") {
                    for d in o.value.pointer("/spec/data").and_then(serde_json::Value::as_array).into_iter().flatten() {
                        let key = d.pointer("/remoteRef/key").and_then(serde_json::Value::as_str).unwrap_or_default();
                        let property =
                            d.pointer("/remoteRef/property").and_then(serde_json::Value::as_str).unwrap_or_default();
                        let e = entries
                            .entry(key.to_string())
                            .or_insert_with(|| (format!("{} `{store}`", kind.as_str()), Vec::new()));
                        if !e.1.iter().any(|p| p == property) {
                            e.1.push(property.to_string());
                        }
                    }
                }
            }
            SecretsMode::Sealed => {
                for s in &stack.secrets {
                    let sealed = crate::emit::kustomize::sealed_path(s);
                    if !output.join(format!("{dir}/{sealed}")).exists() {
                        to_seal.push(crate::emit::kustomize::seal_command(s, &format!("{out}/{dir}")));
                    }
                }
            }
        }
    }
    if !missing.is_empty() {
        text += "  fill the Secrets' values (copy each file's .example beside it and fill every key;\n";
        text += "  kubeproof check reports a key left empty):\n";
        for f in &missing {
            text += &format!("    {f}\n");
        }
    }
    if let Some((store, _)) = entries.values().next() {
        text += &format!("  put the Secrets' values in the secret manager behind the {store}, one entry per line\n");
        text += "  with these properties (a `_URLENCODED` one holds its namesake's value percent-encoded):\n";
        for (key, (_, properties)) in &entries {
            text += &format!("    {key}: {}\n", properties.join(", "));
        }
    }
    if !to_seal.is_empty() {
        text += "  seal each Secret (fill the env file from its .example first; each overlay's\n";
        text += "  sealed-secrets/README.md lists the keys), then commit the sealed files:\n";
        for c in &to_seal {
            text += &format!("    {}\n", c.replace("\n  ", "\n      "));
        }
    }
    text
}

/// Each environment whose release peak ([`release_peak`]: maximum scale,
/// rolling-update surge, one run of each Job) exceeds the description's
/// `cluster.capacity`, one line per resource; empty when it fits or no
/// capacity is declared.
fn over_capacity(
    built: &crate::build::Built,
    platform: &crate::description::Platform,
    proven: &[Option<(crate::model::Loaded, crate::check::Outcome)>],
) -> String {
    use crate::model::resources::{Budget, Item, Resource, release_peak};
    let Some(capacity) = platform.cluster.capacity.as_ref().map(crate::description::Capacity::figures) else {
        return String::new();
    };
    let mut out = String::new();
    for (i, (env, stack)) in built.envs.iter().enumerate() {
        // The proof's load holds the stack's objects as the model reads
        // them, first and in order, a source each: converting them again
        // took a fiftieth of `gen`'s wall time.
        let budgeted;
        let items: Vec<Item> = match proven.get(i).and_then(Option::as_ref) {
            Some((loaded, _)) => {
                let n = stack.objects.len();
                loaded.objects.iter().filter(|o| o.source < n).map(Item::of_checked).collect()
            }
            None => {
                budgeted = stack.budgeted();
                budgeted.iter().map(|(o, v)| o.item(v)).collect()
            }
        };
        let peak = release_peak(&items, &Budget::of(&items, capacity.nodes));
        for r in Resource::ALL {
            let (Some(have), need) = (capacity.get(r), peak.get(r)) else { continue };
            if need > have {
                let percent = need.saturating_mul(100) / have.max(1);
                let verb = if r == Resource::Storage { "exceeds" } else { "exceed" };
                out += &format!(
                    "  {env}: {} {} {verb} the capacity {} by {} ({percent}%)\n",
                    r.as_str(),
                    r.show(need),
                    r.show(have),
                    r.show(need - have)
                );
            }
        }
    }
    out
}

/// Per environment, what the new generation changes from the earlier one in
/// `output` (by the digests its record keeps): objects added, removed,
/// changed, and of those the ones whose pods are recreated or whose
/// connections change. Empty when there is no earlier record.
fn classified(built: &crate::build::Built, output: &Path) -> String {
    use crate::model::immutable::{Key, digests, effect_roots};
    let mut out = String::new();
    for (env, stack) in &built.envs {
        let Some((_, old)) = crate::build::earlier_record(output, env) else { continue };
        let Some(old) = old.as_object() else { continue };
        let (mut changed, mut added, mut pods, mut connections) = (0, 0, Vec::new(), Vec::new());
        let mut seen = std::collections::BTreeSet::new();
        for o in &stack.objects {
            let key = Key::of(&o.value).to_string();
            let new = digests(&o.value);
            seen.insert(key.clone());
            let Some(before) = old.get(&key) else {
                added += 1;
                continue;
            };
            if before.get("") == new.get("") {
                continue;
            }
            changed += 1;
            let moved = |r: &&&str| before.get(**r) != new.get(**r);
            match effect_roots(&o.kind).iter().find(moved) {
                Some(&"/spec/template") => pods.push(key),
                Some(_) => connections.push(key),
                None => {}
            }
        }
        let removed = old.keys().filter(|k| !seen.contains(*k)).count();
        if changed + added + removed == 0 {
            continue;
        }
        out += &format!("  {env}: {changed} changed, {added} added, {removed} removed\n");
        for (what, keys) in [("recreates pods", &pods), ("affects connections", &connections)] {
            if !keys.is_empty() {
                let (names, _) = crate::diag::some_of(keys.iter().map(String::as_str), 5);
                out += &format!("    {what}: {names}\n");
            }
        }
    }
    out
}

/// What applying each environment of the new generation over the earlier
/// one in `output` (its overlays' records) would have refused or lose, one
/// line each, and the `kubectl delete` lines that clear the way.
fn replaced(built: &crate::build::Built, output: &Path) -> (String, String) {
    use crate::model::immutable::{Finding, compare, reduce};
    let (mut changes, mut deletes) = (String::new(), Vec::new());
    for (env, stack) in &built.envs {
        let Some((old, _)) = crate::build::earlier_record(output, env) else { continue };
        let new: Vec<serde_json::Value> = stack.objects.iter().filter_map(|o| reduce(&o.value)).collect();
        for f in compare(&old, &new) {
            match &f {
                Finding::Refused(k, r) => {
                    let shown = |v: &Option<serde_json::Value>| v.as_ref().map_or("(absent)".into(), |v| v.to_string());
                    changes += &format!(
                        "  {env}: {k}: {}: {} → {} ({})\n",
                        r.pointer,
                        crate::diag::clip_at(&shown(&r.old), 80),
                        crate::diag::clip_at(&shown(&r.new), 80),
                        r.rule.says()
                    );
                    // Refused in place: deleted, it is created anew.
                    let ns = k.namespace.as_deref().map(|n| format!("-n {n} ")).unwrap_or_default();
                    let line = format!("  kubectl {ns}delete {} {}", k.kind.to_ascii_lowercase(), k.name);
                    if !deletes.contains(&line) {
                        deletes.push(line);
                    }
                }
                Finding::Lost(k, l) => {
                    let at = if l.pointer.is_empty() { String::new() } else { format!("{}: ", l.pointer) };
                    changes += &format!("  {env}: {k}: {at}loses data: {}\n", l.loss.says());
                }
            }
        }
    }
    (changes, deletes.join("\n") + if deletes.is_empty() { "" } else { "\n" })
}

fn file_of(diags: &[crate::diag::Diagnostic]) -> String {
    diags.first().map_or_else(|| "the description".into(), |d| d.file.display().to_string())
}

/// The findings of kubeproof's checks on each environment (warnings and
/// errors; info is left out), and the number of errors. Each environment's
/// proof is rendered and dropped before the next is loaded.
fn proof_report(
    built: &crate::build::Built,
    platform: &crate::description::Platform,
    proven: Vec<Option<(crate::model::Loaded, crate::check::Outcome)>>,
    color: bool,
) -> Result<(String, usize), Error> {
    let mut text = String::new();
    let mut errors = 0;
    // The proof keeps no info (`build::checked`).
    crate::build::prove_each_reusing(built, platform, proven, |env, loaded, outcome| {
        if outcome.findings.is_empty() {
            return;
        }
        errors += outcome.findings.iter().filter(|f| f.severity == crate::diag::Severity::Error).count();
        text.push_str(&format!("kubeproof check, environment {env}:\n"));
        text.push_str(&crate::check::report::render(crate::check::report::Format::Text, &loaded, &outcome, color));
    })?;
    Ok((text, errors))
}

/// Objects per kind (rows) per environment (columns).
fn summary_table(s: &BTreeMap<String, BTreeMap<String, usize>>) -> String {
    let envs: Vec<&String> = s.keys().collect();
    let mut kinds: Vec<&String> = s.values().flat_map(|m| m.keys()).collect();
    kinds.sort();
    kinds.dedup();
    let width = kinds.iter().map(|k| k.len()).max().unwrap_or(4).max(5);
    let mut t = format!("{:width$}", "kind");
    for e in &envs {
        t.push_str(&format!("  {e:>10}"));
    }
    t.push('\n');
    for k in kinds {
        t.push_str(&format!("{k:width$}"));
        for e in &envs {
            let n = s.get(*e).and_then(|m| m.get(k)).copied().unwrap_or(0);
            t.push_str(&format!("  {n:>10}"));
        }
        t.push('\n');
    }
    t.push_str(&format!("{:width$}", "total"));
    for e in &envs {
        let n: usize = s.get(*e).map_or(0, |m| m.values().sum());
        t.push_str(&format!("  {n:>10}"));
    }
    t.push('\n');
    t
}

/// Exit 0 written (or listed); errors: 1 cannot write, 2 usage.
pub fn init(path: &Path, example: Option<&str>, force: bool) -> Result<ExitCode, Error> {
    let text = match example {
        // What `--help` promises: the bundled examples, one a line; nothing is written.
        Some("list") => {
            for (name, _) in crate::description::starter::EXAMPLES {
                println!("{name}");
            }
            return Ok(ExitCode::SUCCESS);
        }
        None => crate::description::starter::STARTER,
        Some(name) => match crate::description::starter::example(name) {
            Some(t) => t,
            None => {
                return Err(Error::Usage(format!(
                    "no bundled example `{name}`; the examples are: {}",
                    crate::description::starter::EXAMPLES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )));
            }
        },
    };
    if path.exists() && !force {
        return Err(Error::Usage(format!("{} exists already; use --force to overwrite it", path.display())));
    }
    // `init` writes one file a person will edit: no manifest bookkeeping.
    super::write_one(path, text.as_bytes())?;
    println!("kubeproof: wrote {}; next: kubeproof gen {} -o deploy", path.display(), path.display());
    Ok(ExitCode::SUCCESS)
}

/// Exit 0; 1 when the schema cannot be serialised (a bug).
pub fn schema() -> Result<ExitCode, Error> {
    let schema = crate::description::json_schema();
    let text = serde_json::to_string_pretty(&schema).map_err(|e| Error::Internal(e.to_string()))?;
    println!("{text}");
    Ok(ExitCode::SUCCESS)
}
