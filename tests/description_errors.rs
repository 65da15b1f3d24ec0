//! Every class of mistake in a description: `kubeproof gen` must exit 2, write
//! nothing, and report the mistake at the exact `file:line:column` of the
//! offending token, with a help line where there is a fix to suggest.
//!
//! Each case is the starter description (`kubeproof init`) with one deliberate
//! mistake. Expected positions are computed from the mistaken text by
//! locating a unique snippet in it, so the cases keep working when the starter
//! changes; `parse_*` tests at the end pin positions in a fixed text.

use std::path::{Path, PathBuf};
use std::process::Command;

use kubeproof::description::starter::STARTER;
use kubeproof::diag::{Diagnostic, Pos};

/// The starter with `old` (which must occur exactly once) replaced by `new`.
fn starter_with(old: &str, new: &str) -> String {
    assert_eq!(STARTER.matches(old).count(), 1, "`{old}` must occur exactly once in the starter");
    STARTER.replacen(old, new, 1)
}

/// 1-based line and column (in characters) of `needle`, which must occur exactly
/// once in `text`; `offset` characters further right.
fn locate(text: &str, needle: &str, offset: u32) -> Pos {
    assert_eq!(text.matches(needle).count(), 1, "`{needle}` must occur exactly once in:\n{text}");
    let at = text.find(needle).unwrap();
    let before = &text[..at];
    let line = before.matches('\n').count() as u32 + 1;
    let column = before.rsplit('\n').next().unwrap().chars().count() as u32 + 1;
    Pos::new(line, column + offset)
}

/// What one `kubeproof gen platform.yaml -o deploy` did.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Whether `deploy` exists afterwards.
    wrote_output: bool,
    _dir: tempfile::TempDir,
}

/// Runs `gen` on `bytes` written to `platform.yaml` in a fresh directory.
fn gen_bytes(bytes: &[u8]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("platform.yaml"), bytes).unwrap();
    gen_in(dir, "platform.yaml")
}

fn gen_text(text: &str) -> Run {
    gen_bytes(text.as_bytes())
}

fn gen_in(dir: tempfile::TempDir, description: &str) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .current_dir(dir.path())
        .args(["gen", description, "-o", "deploy"])
        .output()
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wrote_output: dir.path().join("deploy").exists(),
        _dir: dir,
    }
}

impl Run {
    /// Exit 2, nothing written, and no panic.
    fn assert_refused(&self) {
        assert_eq!(self.code, Some(2), "exit code; stderr:\n{}", self.stderr);
        assert!(!self.wrote_output, "the output directory was created; stderr:\n{}", self.stderr);
        assert!(!self.stderr.contains("panicked"), "panic:\n{}", self.stderr);
        assert!(self.stdout.is_empty(), "stdout:\n{}", self.stdout);
        assert!(self.stderr.contains("nothing was written"), "stderr:\n{}", self.stderr);
    }

    /// Refused with an error `message` at `pos` of `platform.yaml`, with a help
    /// line starting with `help` (or, with `None`, no help for this error).
    fn assert_error(&self, pos: Pos, message: &str, help: Option<&str>) -> &Self {
        self.assert_refused();
        let block = self.error_block(message);
        let at = format!("--> platform.yaml:{}:{}\n", pos.line, pos.column);
        assert!(block.contains(&at), "expected `{at}` in:\n{block}\n(full stderr:\n{})", self.stderr);
        match help {
            Some(h) => {
                assert!(block.contains(&format!("= help: {h}")), "expected help `{h}` in:\n{block}");
            }
            None => assert!(!block.contains("= help:"), "unexpected help in:\n{block}"),
        }
        // With the source readable, the offending line is shown with a caret.
        assert!(block.contains(&format!("{} |", pos.line)), "no source line in:\n{block}");
        assert!(block.contains('^'), "no caret in:\n{block}");
        self
    }

    /// The report (title to blank line) whose title is `error: {message}`.
    fn error_block(&self, message: &str) -> String {
        let title = format!("error: {message}\n");
        let start = self.stderr.find(&title).unwrap_or_else(|| {
            panic!("expected `error: {message}` in stderr:\n{}", self.stderr);
        });
        let rest = &self.stderr[start..];
        let end = rest.find("\n\n").map_or(rest.len(), |i| i + 1);
        rest[..end].to_string()
    }

    /// How many errors the summary line reports.
    fn error_count(&self) -> usize {
        let line = self.stderr.lines().find(|l| l.ends_with("error(s); nothing was written")).unwrap();
        let n: usize = line.split(" has ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        // One title per diagnostic, plus the summary line.
        let titles = self.stderr.lines().filter(|l| l.starts_with("error: ")).count();
        assert_eq!(titles, n + 1, "{}", self.stderr);
        n
    }
}

#[test]
fn the_starter_itself_generates() {
    let run = gen_text(STARTER);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.wrote_output);
}

// ------------------------------------------------------------ unknown fields

#[test]
fn unknown_field_suggests_the_closest() {
    let text = starter_with("    replicas: { min: 2, max: 6 }", "    replicsa: { min: 2, max: 6 }");
    let run = gen_text(&text);
    run.assert_error(locate(&text, "replicsa", 0), "unknown field `replicsa`", Some("did you mean `replicas`?"));
    assert_eq!(run.error_count(), 1);
}

#[test]
fn unknown_field_at_top_level() {
    let text = starter_with("domain: shop.example.com", "domian: shop.example.com");
    let run = gen_text(&text);
    run.assert_error(locate(&text, "domian", 0), "unknown field `domian`", Some("did you mean `domain`?"));
}

#[test]
fn a_version_that_is_not_semver() {
    let text = starter_with("domain: shop.example.com", "domain: shop.example.com\nversion: \"1.4\"");
    gen_text(&text).assert_error(
        locate(&text, "\"1.4\"", 0),
        "`version: 1.4` is not a semantic version: unexpected end of input while parsing minor version number",
        Some("write MAJOR.MINOR.PATCH, e.g. `1.4.0` (Helm takes it as the chart's version)"),
    );
}

#[test]
fn unknown_field_with_nothing_close_lists_the_fields() {
    let text = starter_with("  ingressClass: nginx", "  zzzzzz: nginx");
    let run = gen_text(&text);
    let block = run.error_block("unknown field `zzzzzz`");
    assert!(block.contains("--> platform.yaml:"), "{block}");
    assert!(block.contains("= help: expected one of: kubernetes, capacity, mesh, ingressClass"), "{block}");
}

#[test]
fn unknown_enum_value_suggests_the_closest() {
    let text = starter_with("engine: postgres", "engine: postgress");
    gen_text(&text).assert_error(
        locate(&text, "postgress", 0),
        "unknown value `postgress`",
        Some("did you mean `postgres`?"),
    );
}

#[test]
fn unknown_component_suggests_the_closest() {
    let text = starter_with("    port: 8080", "    port: 8080\n    component: prometeus");
    gen_text(&text).assert_error(
        locate(&text, "prometeus", 0),
        "unknown value `prometeus`",
        Some("did you mean `prometheus`?"),
    );
}

#[test]
fn a_role_on_an_engine_that_does_not_evict() {
    let text = starter_with(
        r#"db:    { engine: postgres, version: "16.4", storage: 20Gi }"#,
        r#"db:    { engine: postgres, version: "16.4", storage: 20Gi, role: cache }"#,
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "cache }", 0),
        "datastore `db` (postgres): `role` is for engines that evict data when memory is full",
        Some("remove `role` (it applies to redis)"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn an_unknown_role_suggests_the_closest() {
    let text =
        starter_with("cache: { engine: redis, storage: 2Gi }", "cache: { engine: redis, storage: 2Gi, role: cahce }");
    gen_text(&text).assert_error(locate(&text, "cahce", 0), "unknown value `cahce`", Some("did you mean `cache`?"));
}

/// The starter's web service with a shared volume of `class` (none: the
/// default class), and `classes` under `cluster`.
fn starter_with_shared_volume(class: &str, classes: &str) -> String {
    let volume =
        format!("    volumes: [{{ name: files, path: /srv/files, size: 1Gi, accessMode: ReadWriteMany{class} }}]\n");
    let text = starter_with("    env: { LOG_FORMAT: json }\n", &format!("    env: {{ LOG_FORMAT: json }}\n{volume}"));
    let line = "# quoted: YAML would read 1.30 as 1.3\n";
    text.replacen(line, &format!("{line}{classes}\n"), 1)
}

#[test]
fn read_write_many_on_the_default_storage_class() {
    let text = starter_with_shared_volume("", "");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "files, path", 0),
        "volume `files` asks ReadWriteMany of the cluster's default storage class, which may be block storage",
        Some("name a class that offers it"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn read_write_many_on_a_class_that_does_not_offer_it() {
    let classes =
        "  storageClasses: { block: { accessModes: [ReadWriteOnce] }, nfs: { accessModes: [ReadWriteMany] } }";
    let text = starter_with_shared_volume(", storageClass: block", classes);
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "files, path", 0),
        "volume `files` asks ReadWriteMany of storage class `block`, which offers ReadWriteOnce",
        Some("classes that offer it: nfs"),
    );
    assert_eq!(run.error_count(), 1);
    // The class that offers it generates, and names the class on the claim.
    let fixed = starter_with_shared_volume(", storageClass: nfs", classes);
    let run = gen_text(&fixed);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let base = run._dir.path().join("deploy/kustomize/base");
    let named = std::fs::read_dir(&base)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| std::fs::read_dir(e.path()).into_iter().flatten().flatten())
        .any(|f| std::fs::read_to_string(f.path()).is_ok_and(|t| t.contains("storageClassName: nfs")));
    assert!(named, "a claim of class nfs under {}", base.display());
}

#[test]
fn an_undeclared_storage_class() {
    let classes = "  storageClass: fast\n  storageClasses: { block: { accessModes: [ReadWriteOnce] } }";
    let text = starter_with_shared_volume(", storageClass: nfs", classes);
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "fast", 0),
        "storage class `fast` is not declared",
        Some("`cluster.storageClasses` declares: block"),
    );
    run.assert_error(
        locate(&text, "files, path", 0),
        "volume `files`: storage class `nfs` is not declared",
        Some("`cluster.storageClasses` declares: block"),
    );
}

// ------------------------------------------------------------ wrong types

#[test]
fn string_where_a_number_goes() {
    let text = starter_with("    port: 8080", "    port: eighty");
    gen_text(&text).assert_error(locate(&text, "eighty", 0), "expected a whole number from 0 to 65535", None);
}

#[test]
fn number_out_of_range() {
    let text = starter_with("    port: 8080", "    port: 70000");
    gen_text(&text).assert_error(locate(&text, "70000", 0), "expected a whole number from 0 to 65535", None);
}

#[test]
fn map_where_a_list_goes() {
    let text = starter_with("uses: [db, cache]", "uses: { db: true }");
    gen_text(&text).assert_error(
        locate(&text, "{ db: true }", 0),
        "expected a list",
        Some("write `[a, b]` or one `- item` per line"),
    );
}

#[test]
fn scalar_where_a_map_goes() {
    let text = starter_with("expose: { host: shop.example.com }", "expose: shop.example.com");
    gen_text(&text).assert_error(
        locate(&text, "expose: shop", 8),
        "expected a map",
        Some("write `{ key: value }` or one `key: value` per line"),
    );
}

#[test]
fn wrong_type_for_a_value_with_several_shapes_points_at_the_value() {
    // `replicas` is a number or a map; a string is neither. serde-saphyr
    // reports such errors at the key; kubeproof moves them to the value.
    let text = starter_with("replicas: { min: 2, max: 6 }", "replicas: three");
    gen_text(&text).assert_error(
        locate(&text, "three", 0),
        "invalid type: string \"three\", expected a replica count or {min, max}",
        None,
    );
    let text = starter_with("    metrics: /metrics", "    metrics: 9090");
    gen_text(&text).assert_error(
        locate(&text, "9090", 0),
        "invalid type: integer `9090`, expected a path such as /healthz, or a map",
        None,
    );
}

#[test]
fn probe_path_must_be_absolute() {
    let text = starter_with("live: /healthz", "live: healthz");
    gen_text(&text).assert_error(locate(&text, "healthz", 0), "a path must start with '/': \"healthz\"", None);
}

// ------------------------------------------------------------ quantities and durations

#[test]
fn memory_in_gb_suggests_gi() {
    let text = starter_with("memory: 256Mi,", "memory: 5Gb,");
    gen_text(&text).assert_error(
        locate(&text, "5Gb", 0),
        "invalid quantity \"5Gb\": unknown unit \"Gb\"; use Gi (2^30) or G (10^9)",
        Some("did you mean \"5Gi\"?"),
    );
}

#[test]
fn cpu_in_mega_suggests_millicores() {
    let text = starter_with("cpu: 250m", "cpu: 250M");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "250M", 0),
        "invalid CPU quantity \"250M\": \"M\" means mega (a million cores); millicores are a lowercase \"m\"",
        Some("did you mean \"250m\"?"),
    );
}

#[test]
fn quantity_with_a_space_suggests_without() {
    let text = starter_with("storage: 20Gi", "storage: 10 Gi");
    gen_text(&text).assert_error(
        locate(&text, "10 Gi", 0),
        "invalid quantity \"10 Gi\": spaces are not allowed",
        Some("did you mean \"10Gi\"?"),
    );
}

#[test]
fn capacity_quantities_are_checked_too() {
    let text = starter_with("memory: 48Gi", "memory: 48GB");
    let run = gen_text(&text);
    run.assert_refused();
    assert!(run.stderr.contains(&format!("--> platform.yaml:{}:", locate(&text, "48GB", 0).line)), "{}", run.stderr);
    assert!(run.stderr.contains("did you mean \"48Gi\"?"), "{}", run.stderr);
}

#[test]
fn bad_duration_unit() {
    let text = starter_with("period: 5s", "period: 5x");
    gen_text(&text).assert_error(
        locate(&text, "5x", 0),
        "invalid duration \"5x\": unknown unit \"x\"; use ms, s, m, h or d",
        None,
    );
    let text = starter_with("timeout: 2s", "timeout: 2sec");
    gen_text(&text).assert_error(
        locate(&text, "2sec", 0),
        "invalid duration \"2sec\": unknown unit \"sec\"; use ms, s, m, h or d",
        Some("did you mean \"2s\"?"),
    );
}

// ------------------------------------------------------------ references and names

#[test]
fn uses_a_misspelt_datastore() {
    // A swap of two letters in a two-letter name.
    let text = starter_with("uses: [db, cache]", "uses: [bd, cache]");
    gen_text(&text).assert_error(
        locate(&text, "bd,", 0),
        "`uses` names `bd`, which is no service, datastore or external host",
        Some("did you mean `db`?"),
    );
    let text = starter_with("uses: [db, cache]", "uses: [db, cahce]");
    gen_text(&text).assert_error(
        locate(&text, "cahce", 0),
        "`uses` names `cahce`, which is no service, datastore or external host",
        Some("did you mean `cache`?"),
    );
}

#[test]
fn uses_nothing_close_lists_what_is_declared() {
    let text = starter_with("uses: [db, cache]", "uses: [db, queue]");
    gen_text(&text).assert_error(
        locate(&text, "queue", 0),
        "`uses` names `queue`, which is no service, datastore or external host",
        Some("declared: cache, db, web"),
    );
}

#[test]
fn service_uses_itself() {
    let text = starter_with("uses: [db, cache]", "uses: [db, web]");
    gen_text(&text).assert_error(locate(&text, "web]", 0), "service `web` uses itself", None);
}

#[test]
fn duplicate_key_in_a_map() {
    let text = starter_with(
        "\ndatastores:\n",
        "  web:   # a second service of the same name\n    image: ghcr.io/example/web2:1.0.0\n    port: 9090\n\ndatastores:\n",
    );
    gen_text(&text).assert_error(
        locate(&text, "web:   # a second", 0),
        "duplicate key `web`",
        Some("a key may appear only once in a map: merge the two entries or rename one"),
    );
}

#[test]
fn service_and_datastore_with_the_same_name() {
    let text = starter_with(
        "  cache: { engine: redis, storage: 2Gi }",
        "  cache: { engine: redis, storage: 2Gi }\n  web: { engine: redis, storage: 1Gi }",
    );
    let first = locate(&text, "  web:\n    image", 2);
    gen_text(&text).assert_error(
        locate(&text, "web: { engine", 0),
        "duplicate name `web`: a service has it already",
        Some(&format!(
            "the first is at line {}; names of services, datastores and external hosts must be unique",
            first.line
        )),
    );
}

#[test]
fn invalid_service_name() {
    let text = starter_with(
        "\ndatastores:\n",
        "  Api:\n    image: ghcr.io/example/api:1.0.0\n    port: 9000\n\ndatastores:\n",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "Api:", 0),
        "invalid service name `Api`",
        Some("it becomes a Service name: at most 63 lower-case letters, digits and '-', starting with a letter"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn invalid_platform_name() {
    let text = starter_with("name: shop ", "name: Shop_1 ");
    gen_text(&text).assert_error(
        locate(&text, "Shop_1", 0),
        "invalid platform name `Shop_1`",
        Some("use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit"),
    );
}

// ------------------------------------------------------------ replicas and pdb

#[test]
fn replicas_min_greater_than_max() {
    let text = starter_with("replicas: { min: 2, max: 6 }", "replicas: { min: 7, max: 6 }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "{ min: 7", 0),
        "replicas min 7 is greater than max 6",
        Some("make `min` at most `max`"),
    );
    // Reported once, not again for each environment with scaled numbers.
    assert_eq!(run.error_count(), 1, "{}", run.stderr);
}

#[test]
fn pdb_min_available_not_below_replicas() {
    let text = starter_with("    metrics: /metrics\n", "    metrics: /metrics\n    pdb: { minAvailable: 2 }\n");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "{ minAvailable", 0),
        "pdb minAvailable 2 with 2 replica(s) blocks every node drain",
        Some("use minAvailable 1 or less, or more replicas"),
    );
    assert_eq!(run.error_count(), 1, "{}", run.stderr);
}

#[test]
fn pdb_that_only_an_environment_breaks_names_the_environment() {
    // 3 replicas are fine for minAvailable 2, but staging scales them to 2.
    let text =
        starter_with("replicas: { min: 2, max: 6 }", "replicas: { min: 3, max: 6 }\n    pdb: { minAvailable: 2 }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "{ minAvailable", 0),
        "pdb minAvailable 2 with 2 replica(s) blocks every node drain (in environment `staging`)",
        Some("use minAvailable 1 or less, or more replicas"),
    );
    assert_eq!(run.error_count(), 1, "{}", run.stderr);
}

#[test]
fn read_write_once_volume_with_several_replicas() {
    let text = starter_with(
        "    secrets: [SESSION_KEY]      # values come from a git-ignored env file\n",
        "    secrets: [SESSION_KEY]\n    volumes:\n      - { name: data, path: /data, size: 1Gi }\n",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "data, path", 0),
        "volume `data` is ReadWriteOnce but `web` runs up to 6 replicas",
        Some("pods on different nodes cannot share it: use `accessMode: ReadWriteMany` or one replica"),
    );
    assert_eq!(run.error_count(), 1, "{}", run.stderr);
}

// ------------------------------------------------------------ cluster and apiVersion

#[test]
fn wrong_api_version() {
    let text = starter_with("apiVersion: kubeproof.dev/v1alpha1", "apiVersion: kubeproof.dev/v1beta1");
    gen_text(&text).assert_error(
        locate(&text, "kubeproof.dev/v1beta1", 0),
        "unsupported apiVersion `kubeproof.dev/v1beta1`",
        Some("use `kubeproof.dev/v1alpha1`"),
    );
}

#[test]
fn unquoted_kubernetes_version_is_a_float() {
    let text = starter_with("kubernetes: \"1.30\"", "kubernetes: 1.30");
    gen_text(&text).assert_error(
        locate(&text, "kubernetes: 1.30", 12),
        "the Kubernetes version must be quoted: YAML reads it as the number 1.3 (write \"1.30\", not 1.30)",
        None,
    );
}

#[test]
fn unsupported_kubernetes_version() {
    let text = starter_with("kubernetes: \"1.30\"", "kubernetes: \"1.19\"");
    let run = gen_text(&text);
    run.assert_refused();
    let pos = locate(&text, "\"1.19\"", 0);
    let title = run.stderr.lines().next().unwrap();
    assert!(title.starts_with("error: Kubernetes 1.19 is not supported: use 1."), "{}", run.stderr);
    run.assert_error(pos, &title["error: ".len()..], None);
}

#[test]
fn missing_required_field() {
    let text = starter_with("name: shop ", "# name: shop ");
    let run = gen_text(&text);
    run.assert_refused();
    assert!(run.stderr.contains("error: missing field `name`"), "{}", run.stderr);
    assert!(run.stderr.contains("--> platform.yaml:"), "{}", run.stderr);
}

// ------------------------------------------------------------ environments

#[test]
fn override_of_an_unknown_service() {
    let text =
        starter_with("      web: { replicas: { min: 3, max: 10 } }", "      wbe: { replicas: { min: 3, max: 10 } }");
    gen_text(&text).assert_error(
        locate(&text, "wbe", 0),
        "override for `wbe`, which is no service",
        Some("did you mean `web`?"),
    );
}

#[test]
fn environment_changes_a_namespace() {
    let text = starter_with("      web: { replicas: { min: 3, max: 10 } }", "      web: { namespace: other }");
    gen_text(&text).assert_error(
        locate(&text, "other }", 0),
        "environment `production` moves `web` to another namespace",
        Some("namespaces are the same in every environment; set `namespace` on the service itself"),
    );
}

#[test]
fn environment_scale_out_of_range() {
    let text = starter_with("scale: 0.5", "scale: 0");
    gen_text(&text).assert_error(
        locate(&text, "scale: 0", 7),
        "scale 0 is out of range",
        Some("use a factor above 0 and at most 10, e.g. 0.5"),
    );
}

#[test]
fn environment_override_that_breaks_a_rule_points_at_the_override() {
    let text = starter_with("web: { replicas: { min: 3, max: 10 } }", "web: { replicas: { min: 12, max: 10 } }");
    gen_text(&text).assert_error(
        locate(&text, "{ min: 12", 0),
        "replicas min 12 is greater than max 10 (in environment `production`)",
        Some("make `min` at most `max`"),
    );
}

// ------------------------------------------------------------ images and secrets

#[test]
fn image_tagged_latest() {
    let text = starter_with("shop-web:1.0.0", "shop-web:latest");
    gen_text(&text).assert_error(
        locate(&text, "ghcr.io/example/shop-web:latest", 0),
        "image `ghcr.io/example/shop-web:latest` uses the mutable tag `latest`",
        Some("pin a version tag or a digest, e.g. `ghcr.io/org/app:1.4.2`"),
    );
}

#[test]
fn credential_as_a_plain_env_value() {
    let text = starter_with("env: { LOG_FORMAT: json }", "env: { LOG_FORMAT: json, STRIPE_API_KEY: sk_live_123 }");
    gen_text(&text).assert_error(
        locate(&text, "web:\n", 0),
        "`web` sets `STRIPE_API_KEY` as a plain env value",
        Some(
            "`STRIPE_API_KEY` looks like a credential: list it under `secrets:` and put its value in the \
             environment's secrets file instead",
        ),
    );
}

#[test]
fn image_without_a_tag() {
    let text = starter_with("shop-web:1.0.0", "shop-web");
    gen_text(&text).assert_error(
        locate(&text, "ghcr.io/example/shop-web ", 0),
        "image `ghcr.io/example/shop-web` has no tag, so it means `latest`",
        Some("pin a version tag or a digest, e.g. `ghcr.io/org/app:1.4.2`"),
    );
}

#[test]
fn image_with_a_registry_port_but_no_tag() {
    // The `:5000` is the registry's port, not a tag.
    let text = starter_with("ghcr.io/example/shop-web:1.0.0", "registry.local:5000/shop-web");
    gen_text(&text).assert_error(
        locate(&text, "registry.local:5000/shop-web", 0),
        "image `registry.local:5000/shop-web` has no tag, so it means `latest`",
        Some("pin a version tag or a digest, e.g. `ghcr.io/org/app:1.4.2`"),
    );
}

#[test]
fn secret_with_the_name_of_a_plain_env_value() {
    let text = starter_with("secrets: [SESSION_KEY]", "secrets: [LOG_FORMAT]");
    gen_text(&text).assert_error(
        locate(&text, "LOG_FORMAT]", 0),
        "`LOG_FORMAT` is both a secret and a plain env value",
        Some("keep it in `secrets` only"),
    );
}

#[test]
fn invalid_secret_name() {
    let text = starter_with("secrets: [SESSION_KEY]", "secrets: [session-key]");
    gen_text(&text).assert_error(
        locate(&text, "session-key", 0),
        "invalid secret name `session-key`",
        Some("secrets become environment variables: use letters, digits and '_'"),
    );
}

// ------------------------------------------------------------ malformed files

#[test]
fn unclosed_bracket_points_at_the_bracket() {
    let text = starter_with("uses: [db, cache]", "uses: [db, cache");
    let run = gen_text(&text);
    let at = locate(&text, "[db, cache", 0);
    let stop = locate(&text, "env: {", 3);
    run.assert_error(
        at,
        "unclosed `[`",
        Some(&format!("close it with `]`; the YAML parser stopped at line {}, column {}: ", stop.line, stop.column)),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn unclosed_brace_points_at_the_brace() {
    let text = starter_with("expose: { host: shop.example.com }", "expose: { host: shop.example.com");
    let run = gen_text(&text);
    run.assert_refused();
    let block = run.error_block("unclosed `{`");
    let at = locate(&text, "{ host", 0);
    assert!(block.contains(&format!("--> platform.yaml:{}:{}\n", at.line, at.column)), "{block}");
    assert!(block.contains("= help: close it with `}`; the YAML parser stopped at line"), "{block}");
}

#[test]
fn unclosed_brace_on_the_last_line() {
    let text = starter_with("  cache: { engine: redis, storage: 2Gi }", "  cache: { engine: redis, storage: 2Gi");
    let run = gen_text(&text);
    run.assert_refused();
    let at = locate(&text, "{ engine: redis", 0);
    let title = run.stderr.lines().next().unwrap();
    assert!(title.starts_with("error: unclosed"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("--> platform.yaml:{}:{}\n", at.line, at.column)), "{}", run.stderr);
}

#[test]
fn tab_indentation() {
    let text = starter_with("  web:\n    image:", "  web:\n\timage:");
    let run = gen_text(&text);
    run.assert_refused();
    let at = locate(&text, "\timage", 1);
    assert!(run.stderr.contains(&format!("--> platform.yaml:{}:{}\n", at.line, at.column)), "{}", run.stderr);
    assert!(run.stderr.contains("tabs"), "{}", run.stderr);
    assert!(!run.stderr.contains(" at line "), "location repeated in the message:\n{}", run.stderr);
}

#[test]
fn several_yaml_documents() {
    let text = format!("{STARTER}---\nname: other\n");
    let run = gen_text(&text);
    run.assert_refused();
    assert!(run.stderr.contains("error: only single YAML document expected but multiple found"), "{}", run.stderr);
    assert!(!run.stderr.contains("from_str_multiple"), "API advice in a user message:\n{}", run.stderr);
}

#[test]
fn invalid_utf8() {
    // A 0x01 marks where the invalid byte goes; `ö` checks that columns count
    // characters, not bytes.
    let text = starter_with("domain: shop.example.com", "domain: shöp\u{1}.example.com");
    let bad: Vec<u8> = text.bytes().map(|b| if b == 1 { 0xFF } else { b }).collect();
    let run = gen_bytes(&bad);
    run.assert_refused();
    let pos = locate(&text, "\u{1}", 0);
    assert!(run.stderr.starts_with("error: the description is not valid UTF-8\n"), "{}", run.stderr);
    assert!(run.stderr.contains(&format!("--> platform.yaml:{}:{}\n", pos.line, pos.column)), "{}", run.stderr);
}

#[test]
fn empty_file() {
    for text in ["", "\n\n", "   \n", "# only a comment\n\n# and another\n"] {
        let run = gen_text(text);
        run.assert_error(
            Pos::new(1, 1),
            "the description is empty",
            Some("run `kubeproof init` for a commented starter"),
        );
    }
}

#[test]
fn missing_file() {
    let dir = tempfile::tempdir().unwrap();
    let run = gen_in(dir, "nope.yaml");
    run.assert_refused();
    assert!(run.stderr.starts_with("error: cannot read the description: "), "{}", run.stderr);
    assert!(run.stderr.contains("--> nope.yaml\n"), "{}", run.stderr);
}

// ------------------------------------------------------------ several errors at once

#[test]
fn independent_errors_are_all_reported() {
    let text = STARTER
        .replacen("apiVersion: kubeproof.dev/v1alpha1", "apiVersion: kubeproof.dev/v2", 1)
        .replacen("      web: { replicas", "      wbe: { replicas", 1)
        .replacen("uses: [db, cache]", "uses: [dbb, web]", 1)
        .replacen(
            "  cache: { engine: redis, storage: 2Gi }",
            "  cache: { engine: redis, storage: 2Gi }\n  web: { engine: redis, storage: 1Gi }",
            1,
        );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "kubeproof.dev/v2", 0),
        "unsupported apiVersion `kubeproof.dev/v2`",
        Some("use `kubeproof.dev/v1alpha1`"),
    );
    run.assert_error(locate(&text, "wbe", 0), "override for `wbe`, which is no service", Some("did you mean `web`?"));
    run.assert_error(
        locate(&text, "dbb", 0),
        "`uses` names `dbb`, which is no service, datastore or external host",
        Some("did you mean `db`?"),
    );
    run.assert_error(locate(&text, "web]", 0), "service `web` uses itself", None);
    let first = locate(&text, "  web:\n    image", 2);
    run.assert_error(
        locate(&text, "web: { engine", 0),
        "duplicate name `web`: a service has it already",
        Some(&format!("the first is at line {};", first.line)),
    );
    assert_eq!(run.error_count(), 5, "{}", run.stderr);
    assert!(run.stderr.contains("has 5 error(s); nothing was written"), "{}", run.stderr);

    // Value errors of one service are collected too.
    let text = STARTER
        .replacen("shop-web:1.0.0", "shop-web", 1)
        .replacen("secrets: [SESSION_KEY]", "secrets: [LOG_FORMAT]", 1)
        .replacen("replicas: { min: 2, max: 6 }", "replicas: { min: 2, max: 6 }\n    pdb: { minAvailable: 5 }", 1);
    let run = gen_text(&text);
    assert_eq!(run.error_count(), 3, "{}", run.stderr);
    for title in [
        "error: image `ghcr.io/example/shop-web` has no tag, so it means `latest`\n",
        "error: pdb minAvailable 5 with 2 replica(s) blocks every node drain\n",
        "error: `LOG_FORMAT` is both a secret and a plain env value\n",
    ] {
        assert!(run.stderr.contains(title), "missing {title} in:\n{}", run.stderr);
    }
    // In file order.
    let lines: Vec<u32> = run
        .stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> platform.yaml:"))
        .map(|l| l.split(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(lines.is_sorted(), "{lines:?}");
}

// ------------------------------------------------------------ the library

fn parse_err(text: &str) -> Vec<Diagnostic> {
    match kubeproof::description::parse(text, Path::new("platform.yaml")) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(d) => d,
    }
}

/// A small fixed description, so positions can be written down.
const SMALL: &str = "\
apiVersion: kubeproof.dev/v1alpha1
name: shop
cluster: { kubernetes: \"1.30\" }
services:
  web:
    image: ghcr.io/example/web:1.0.0
    port: 8080
    uses: [db]
datastores:
  db: { engine: postgres, storage: 20Gi }
";

#[test]
fn parse_accepts_the_small_description() {
    kubeproof::description::parse(SMALL, Path::new("platform.yaml")).unwrap();
}

#[test]
fn parse_reports_positions() {
    let cases: [(&str, &str, Pos, &str, Option<&str>); 6] = [
        ("    port: 8080", "    prot: 8080", Pos::new(7, 5), "unknown field `prot`", Some("did you mean `port`?")),
        ("storage: 20Gi", "storage: 5Gb", Pos::new(10, 36), "invalid quantity \"5Gb\"", Some("did you mean \"5Gi\"?")),
        ("uses: [db]", "uses: [bd]", Pos::new(8, 12), "`uses` names `bd`", Some("did you mean `db`?")),
        ("\"1.30\"", "1.30", Pos::new(3, 24), "the Kubernetes version must be quoted", None),
        ("web:1.0.0", "web:latest", Pos::new(6, 12), "image `ghcr.io/example/web:latest` uses the mutable tag", None),
        ("uses: [db]", "uses: [db", Pos::new(8, 11), "unclosed `[`", None),
    ];
    for (old, new, pos, message, help) in cases {
        let text = SMALL.replacen(old, new, 1);
        let diags = parse_err(&text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        let d = &diags[0];
        assert_eq!(d.pos, pos, "{new}: {d}");
        assert_eq!(d.file, PathBuf::from("platform.yaml"));
        assert!(d.message.starts_with(message), "{new}: {d}");
        assert!(!d.message.contains(" at line "), "{new}: position repeated in the message: {d}");
        if let Some(h) = help {
            assert_eq!(d.help.as_deref(), Some(h), "{new}: {d}");
        }
    }
}

#[test]
fn parse_collects_several_errors_in_file_order() {
    let text = SMALL.replacen("name: shop", "name: Shop", 1).replacen("uses: [db]", "uses: [db, web, cache]", 1);
    let diags = parse_err(&text);
    let got: Vec<(Pos, &str)> = diags.iter().map(|d| (d.pos, d.message.as_str())).collect();
    assert_eq!(
        got,
        [
            (Pos::new(2, 7), "invalid platform name `Shop`"),
            (Pos::new(8, 16), "service `web` uses itself"),
            (Pos::new(8, 21), "`uses` names `cache`, which is no service, datastore or external host"),
        ]
    );
}

#[test]
fn library_and_cli_agree() {
    let text = starter_with("    replicas: { min: 2, max: 6 }", "    replicsa: { min: 2, max: 6 }");
    let diags = parse_err(&text);
    assert_eq!(diags.len(), 1);
    let run = gen_text(&text);
    let rendered =
        kubeproof::diag::render::render_all(&diags, &|_| Some(std::borrow::Cow::Borrowed(text.as_str())), false);
    assert!(run.stderr.starts_with(&format!("{rendered}\n")), "cli:\n{}\nlibrary:\n{rendered}", run.stderr);
}

// ------------------------------------------------------------ backups

/// The starter with backups: a bucket and a backup on `db`.
fn starter_with_backup(db_backup: &str, platform_backup: &str) -> String {
    let text = starter_with(
        "  db:    { engine: postgres, version: \"16.4\", storage: 20Gi }",
        &format!("  db:    {{ engine: postgres, version: \"16.4\", storage: 20Gi, backup: {db_backup} }}"),
    );
    format!("{text}{platform_backup}")
}

#[test]
fn backup_with_its_bucket_generates() {
    let text = starter_with_backup("{ every: 4h, keep: 30d }", "backup: { bucket: s3://shop-backups }\n");
    let run = gen_text(&text);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn datastore_backup_without_a_bucket() {
    let text = starter_with_backup("{ every: 4h, keep: 30d }", "");
    gen_text(&text).assert_error(
        locate(&text, "4h", 0),
        "datastore `db` has a backup but the platform has no `backup.bucket`",
        Some("add `backup: { bucket: s3://BUCKET }` at the top level"),
    );
}

#[test]
fn backup_interval_that_is_no_cron_schedule() {
    let text = starter_with_backup("{ every: 7h, keep: 30d }", "backup: { bucket: s3://shop-backups }\n");
    gen_text(&text).assert_error(
        locate(&text, "7h", 0),
        "backups every 7h cannot be written as a cron schedule",
        Some("use minutes that divide an hour"),
    );
}

#[test]
fn backups_kept_shorter_than_taken() {
    let text = starter_with_backup("{ every: 1d, keep: 12h }", "backup: { bucket: s3://shop-backups }\n");
    gen_text(&text).assert_error(
        locate(&text, "12h", 0),
        "backups of `db` are kept 12h, not longer than they are taken (every 1d)",
        Some("keep them longer than 1d"),
    );
}

#[test]
fn invalid_backup_bucket() {
    let text = starter_with_backup("{ every: 4h, keep: 30d }", "backup: { bucket: shop-backups }\n");
    gen_text(&text).assert_error(
        locate(&text, "shop-backups }", 0),
        "invalid backup bucket \"shop-backups\"",
        Some("write `s3://BUCKET` or `s3://BUCKET/PREFIX`"),
    );
}

#[test]
fn backup_of_an_engine_without_a_dump_job() {
    let text = format!(
        "{}  queue: {{ engine: rabbitmq, storage: 5Gi, backup: {{ every: 1d, keep: 7d }} }}\nbackup: {{ bucket: s3://shop-backups }}\n",
        STARTER
    );
    gen_text(&text).assert_error(
        locate(&text, "1d", 0),
        "datastore `queue` (rabbitmq) has no backup job: RabbitMQ keeps messages, not data worth a dump",
        Some("remove `backup`; the Velero schedules of `backup.velero` snapshot its volume"),
    );
}

// ------------------------------------------------------------ datastore metrics

#[test]
fn metrics_of_an_engine_without_an_endpoint() {
    let text = format!("{}  graph: {{ engine: neo4j, storage: 5Gi, metrics: true }}\n", STARTER);
    gen_text(&text).assert_error(
        locate(&text, "true }", 0),
        "datastore `graph` (neo4j) has no metrics: Neo4j Community serves no Prometheus endpoint (only Enterprise does)",
        Some("remove `metrics` from this datastore"),
    );
}

#[test]
fn metrics_error_in_an_environment_override() {
    let text = format!("{}  graph: {{ engine: neo4j, storage: 5Gi }}\n", STARTER);
    let text = text.replacen(
        "      web: { replicas: { min: 3, max: 10 } }",
        "      web: { replicas: { min: 3, max: 10 } }\n    datastores:\n      graph: { metrics: true }",
        1,
    );
    gen_text(&text).assert_error(
        locate(&text, "true }", 0),
        "datastore `graph` (neo4j) has no metrics: Neo4j Community serves no Prometheus endpoint (only Enterprise does) (in environment `production`)",
        Some("remove `metrics` from this datastore"),
    );
}

#[test]
fn datastore_metrics_generate() {
    let text = starter_with(
        "  cache: { engine: redis, storage: 2Gi }",
        "  cache: { engine: redis, storage: 2Gi, metrics: true }\n  files: { engine: minio, storage: 5Gi, metrics: true }",
    );
    let run = gen_text(&text);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn invalid_velero_time() {
    let text = starter_with_backup(
        "{ every: 4h, keep: 30d }",
        "backup: { bucket: s3://shop-backups, velero: { daily: { at: \"2am\", keep: 30d } } }\n",
    );
    gen_text(&text).assert_error(
        locate(&text, "\"2am\"", 0),
        "invalid time \"2am\" for the daily Velero backup",
        Some("write \"HH:MM\" in UTC"),
    );
}

#[test]
fn backup_error_in_an_environment_override() {
    let text = starter_with_backup("{ every: 4h, keep: 30d }", "backup: { bucket: s3://shop-backups }\n");
    let text = text.replacen(
        "      web: { replicas: { min: 3, max: 10 } }",
        "      web: { replicas: { min: 3, max: 10 } }\n    datastores:\n      db: { backup: { every: 45m, keep: 7d } }",
        1,
    );
    gen_text(&text).assert_error(
        locate(&text, "45m", 0),
        "backups every 45m cannot be written as a cron schedule (in environment `production`)",
        Some("use minutes that divide an hour"),
    );
}

// ------------------------------------------------------------ mesh traffic

#[test]
fn canary_steps_not_increasing() {
    let text = starter_with(
        "    port: 8080 ",
        "    traffic: { canary: { image: ghcr.io/example/shop-web:1.1.0, steps: [50, 25] } }\n    port: 8080 ",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "[50, 25]", 0),
        "traffic.canary.steps of `web` must be increasing percentages from 1 to 100",
        Some("e.g. `steps: [10, 25, 50, 100]`"),
    );
}

#[test]
fn canary_image_tagged_latest() {
    let text = starter_with(
        "    port: 8080 ",
        "    traffic: { canary: { image: ghcr.io/example/shop-canary:latest } }\n    port: 8080 ",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "ghcr.io/example/shop-canary:latest", 0),
        "image `ghcr.io/example/shop-canary:latest` uses the mutable tag `latest`",
        Some("pin the canary's version tag or digest"),
    );
}

// ------------------------------------------------------------ alerting

#[test]
fn route_to_an_unknown_receiver_points_at_its_name() {
    let text = format!("{STARTER}alerts:\n  critical: [pagerduty, slakc]\n");
    let run = gen_text(&text);
    run.assert_error(locate(&text, "slakc", 0), "unknown receiver `slakc`", Some("did you mean `slack`?"));
    assert_eq!(run.error_count(), 1);
}

#[test]
fn slo_availability_below_95_is_refused_at_the_service() {
    let text = starter_with("    metrics: /metrics", "    metrics: /metrics\n    slo: { availability: \"90\" }");
    let run = gen_text(&text);
    let block = run.error_block("`web`: slo availability \"90\" must be a percent from 95 to below 100 (below 95 a 14.4× burn rate exceeds 100% errors)");
    assert!(block.contains("--> platform.yaml:"), "{block}");
}

#[test]
fn a_latency_objective_off_the_buckets_points_at_its_threshold() {
    // 300ms lies between the default buckets 250ms and 500ms: no series
    // counts the requests under it.
    let text = starter_with(
        "    metrics: /metrics",
        "    metrics: /metrics\n    slo: { latency: { under: 300ms, target: \"99\" } }",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "300ms", 0),
        "`web`: the latency objective's threshold 300ms is not a bucket boundary of `http_request_duration_seconds`",
        Some("pick one of the buckets (5ms, 10ms, 25ms, 50ms, 100ms, 250ms, 500ms, 1000ms, 2500ms, 5000ms, 10000ms)"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_latency_objective_on_a_declared_bucket_generates() {
    let text = starter_with(
        "    metrics: /metrics",
        "    metrics: { path: /metrics, buckets: [0.1, 0.3, 1] }\n    slo: { latency: { under: 300ms, target: \"99\" } }",
    );
    let run = gen_text(&text);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
}

#[test]
fn a_components_latency_objective_needs_its_buckets_declared() {
    // Envoy's request histogram has buckets of its own, in milliseconds: no default applies.
    let example =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/health-platform.yaml")).unwrap();
    let old = "    metrics: { path: /stats/prometheus, port: 9901 }\n";
    assert_eq!(example.matches(old).count(), 1);
    let text = example.replacen(old, &format!("{old}    slo: {{ latency: {{ under: 250ms, target: \"99\" }} }}\n"), 1);
    let run = gen_text(&text);
    let block = run.error_block(
        "`webauthn-gateway`: the latency objective's threshold 250ms is not a bucket boundary of `envoy_http_downstream_rq_time`",
    );
    assert!(block.contains("= help: declare the buckets of `envoy_http_downstream_rq_time` in seconds"), "{block}");
    assert!(block.contains(&format!("--> platform.yaml:{}:", locate(&text, "under: 250ms", 0).line)), "{block}");
}

#[test]
fn buckets_out_of_order_and_a_minimum_rate_of_zero_are_refused() {
    let text = starter_with(
        "    metrics: /metrics",
        "    metrics: { path: /metrics, buckets: [0.1, 1, 0.3] }\n    slo: { availability: \"99.9\", minRate: 0 }",
    );
    let run = gen_text(&text);
    run.error_block("`web`: metrics.buckets must be increasing numbers of seconds above 0");
    run.error_block("`web`: slo minRate must be a number of requests per second above 0");
    assert_eq!(run.error_count(), 2);
}

#[test]
fn an_objective_that_cannot_page_over_its_period_is_refused() {
    // 90 days: the page's factor is 43.2, and 43.2 × 5% is more than every request.
    let text =
        starter_with("    metrics: /metrics", "    metrics: /metrics\n    slo: { availability: \"95\", period: 90d }");
    let run = gen_text(&text);
    run.error_block("`web`: a 95% availability objective over 90 days cannot page: its page burn rate (43.2× the budget) is more than every request failing");
    assert_eq!(run.error_count(), 1);
}

#[test]
fn an_slo_period_outside_a_week_to_a_quarter_is_refused() {
    let text =
        starter_with("    metrics: /metrics", "    metrics: /metrics\n    slo: { availability: \"99.9\", period: 3d }");
    let run = gen_text(&text);
    run.error_block("`web`: the slo period must be whole days from 7d to 90d");
}

#[test]
fn custom_alert_with_a_bad_metric_name_is_refused() {
    let text = starter_with(
        "    metrics: /metrics",
        "    metrics: /metrics\n    alerts: { custom: [{ name: QueueSlow, metric: queue-wait, threshold: 5 }] }",
    );
    let run = gen_text(&text);
    run.error_block("`web`: `queue-wait` is not a Prometheus metric name");
}

// ------------------------------------------------------------ traces and logs

#[test]
fn sampling_above_100_percent_points_at_the_value() {
    let text = format!("{STARTER}tracing: {{ exporter: jaeger, sampling: \"120%\" }}\n");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"120%\"", 0),
        "percentage 120 is out of range: it must be above 0 and at most 100",
        None,
    );
}

#[test]
fn unknown_log_backend_is_refused() {
    let text = format!("{STARTER}logs: {{ backend: splunk }}\n");
    let run = gen_text(&text);
    run.assert_refused();
    assert!(run.stderr.contains("splunk"), "{}", run.stderr);
}

// ------------------------------------------------------------ monitoring stack

#[test]
fn monitoring_selector_labels_must_be_kubernetes_labels() {
    let text = starter_with(
        "  ingressClass: nginx\n",
        "  ingressClass: nginx\n  monitoringSelector: { \"bad key!\": ok, release: \"-stack\" }\n",
    );
    let run = gen_text(&text);
    run.assert_error(locate(&text, "\"bad key!\"", 0), "invalid label key `bad key!`", Some("a key is"));
    run.assert_error(locate(&text, "\"-stack\"", 0), "invalid label value `-stack`", Some("at most 63"));
    assert_eq!(run.error_count(), 2);
}

#[test]
fn monitoring_selector_cannot_set_kubeproofs_own_labels() {
    let text = starter_with(
        "  ingressClass: nginx\n",
        "  ingressClass: nginx\n  monitoringSelector: { app.kubernetes.io/part-of: other }\n",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "app.kubernetes.io/part-of:", 0),
        "label `app.kubernetes.io/part-of` is kubeproof's own",
        Some("kubeproof sets"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn an_own_alertmanager_needs_routed_alerts() {
    let text = starter_with(
        "\ndatastores:",
        "  alertmanager:\n    image: docker.io/prom/alertmanager:v0.27.0\n    port: 9093\n    \
         resources: { cpu: 100m, memory: 128Mi }\n\ndatastores:",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "alertmanager:\n", 0),
        "`alertmanager` is the platform's Alertmanager, but `alerts` routes no severity to a receiver",
        Some("route severities to receivers"),
    );
    assert_eq!(run.error_count(), 1);
}

// ------------------------------------------------------------ host names

#[test]
fn expose_hosts_are_bare_lower_case_dns_names() {
    let cases = [
        (
            "https://shop.example.com",
            "expose: host `https://shop.example.com` has a scheme (`https://`)",
            "write the host alone, `shop.example.com`",
        ),
        (
            "shop.example.com/api",
            "expose: host `shop.example.com/api` has a path",
            "write `host: shop.example.com` and `path: /api`",
        ),
        ("\"*\"", "expose: wildcard host `*`", "name each host in full"),
        ("\"*.example.com\"", "expose: wildcard host `*.example.com`", "name each host in full"),
        (
            "shop.example.com:8443",
            "expose: host `shop.example.com:8443` has a port",
            "write the host alone, `shop.example.com`",
        ),
        (
            "Shop.Example.com",
            "expose: host `Shop.Example.com` has upper-case letters",
            "write it in lower case: `shop.example.com`",
        ),
        ("shop_1.example.com", "expose: invalid host name `shop_1.example.com`", "DNS labels of lower-case letters"),
    ];
    for (host, message, help) in cases {
        let text = starter_with("expose: { host: shop.example.com }", &format!("expose: {{ host: {host} }}"));
        let run = gen_text(&text);
        run.assert_error(locate(&text, host, 0), message, Some(help));
        assert_eq!(run.error_count(), 1, "{host}");
    }
}

#[test]
fn external_hosts_are_bare_dns_names() {
    let text = format!("{STARTER}external:\n  payments: {{ host: \"https://api.payments.example/v2\" }}\n");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"https://api.payments.example/v2\"", 0),
        "external `payments`: host `https://api.payments.example/v2` has a scheme (`https://`)",
        Some("write the host alone, `api.payments.example`"),
    );
}

// ------------------------------------------------------------ exposure and placement

#[test]
fn exposure_kinds_refuse_what_they_cannot_carry() {
    let cases = [
        (
            "expose: { type: loadBalancer, host: shop.example.com }",
            "loadBalancer",
            "`host` set with `type: loadBalancer`: a LoadBalancer Service publishes the port as it is, with no host, path or HTTP settings",
            "remove them, or use `type: ingress`",
        ),
        (
            "expose: { type: gateway, host: shop.example.com }",
            "gateway",
            "`type: gateway` needs `cluster.gateway`",
            "name the Gateway installed in the cluster",
        ),
        (
            "expose: { type: ingress }",
            "ingress",
            "`expose` of `web` has no `host`",
            "add `host: web.example.com`, or publish the port as it is with `type: loadBalancer`",
        ),
    ];
    for (expose, kind, message, help) in cases {
        let text = starter_with("expose: { host: shop.example.com }", expose);
        let run = gen_text(&text);
        run.assert_error(locate(&text, &format!("type: {kind}"), 6), message, Some(help));
        assert_eq!(run.error_count(), 1, "{expose}");
    }
}

#[test]
fn gateway_routes_carry_http_only() {
    let text = starter_with(
        "  kubernetes: \"1.30\"",
        "  kubernetes: \"1.30\"\n  gateway: { name: public, namespace: gateway }",
    );
    let text = text.replacen(
        "    port: 8080                  # protocol",
        "    port: 8080\n    protocol: grpc              # protocol",
        1,
    );
    let text = text.replacen(
        "expose: { host: shop.example.com }",
        "expose: { type: gateway, host: shop.example.com, rateLimit: 10 }",
        1,
    );
    let run = gen_text(&text);
    let at = locate(&text, "type: gateway", 6);
    run.assert_error(
        at,
        "`type: gateway` writes an HTTPRoute, which cannot carry gRPC port `grpc`",
        Some("publish it with `type: ingress` or `type: loadBalancer`"),
    );
    run.assert_error(
        at,
        "`rateLimit` and `timeout` are not part of the Gateway API's HTTPRoute",
        Some("set them on the Gateway's implementation"),
    );
    assert_eq!(run.error_count(), 2);
}

#[test]
fn an_exposed_port_names_no_other_and_is_exposed_once() {
    let text = starter_with(
        "    port: 8080                  # protocol",
        "    ports:\n      - { port: 8080, expose: { host: shop.example.com, port: 9000 } }\n    # protocol",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "8080, expose", 0),
        "`expose` inside a port publishes that port; it names no other",
        Some("remove `port` from it"),
    );
    run.assert_error(locate(&text, "8080, expose", 0), "port `http` is exposed twice", Some("keep one of the two"));
}

#[test]
fn vpa_auto_is_refused_beside_an_hpa_on_cpu() {
    // The starter's web has `replicas: { min: 2, max: 6 }`: an HPA on cpu (70% by default).
    let text = starter_with(
        "    expose: { host: shop.example.com }\n",
        "    expose: { host: shop.example.com }\n    vpa: { mode: auto }\n",
    );
    let run = gen_text(&text);
    let block = run.assert_error(
        locate(&text, "auto }", 0),
        "`web`: `vpa: { mode: auto }` with an HPA on cpu or memory: they fight — the VPA raises requests when usage is \
         high, which lowers the utilisation the HPA scales on, so it removes replicas, and the rest get busier",
        Some("use `mode: off` (recommendations) or `initial`"),
    );
    assert_eq!(block.error_count(), 1);
    // Recommendations only are fine beside the HPA.
    let text = starter_with(
        "    expose: { host: shop.example.com }\n",
        "    expose: { host: shop.example.com }\n    vpa: { mode: off }\n",
    );
    assert_eq!(gen_text(&text).code, Some(0));
}

#[test]
fn labels_never_override_kubeproofs_own() {
    let text = starter_with(
        "    expose: { host: shop.example.com }\n",
        "    expose: { host: shop.example.com }\n    labels: { app.kubernetes.io/name: shop, team: web }\n",
    );
    gen_text(&text).assert_error(
        locate(&text, "app.kubernetes.io/name: shop", 0),
        "label `app.kubernetes.io/name` is kubeproof's own",
        Some("kubeproof's selectors, policies and monitors select by it"),
    );
    let text = starter_with(
        "    expose: { host: shop.example.com }\n",
        "    expose: { host: shop.example.com }\n    annotations: { kubeproof.dev/config-hash: x }\n",
    );
    gen_text(&text).assert_error(
        locate(&text, "kubeproof.dev/config-hash", 0),
        "annotation `kubeproof.dev/config-hash` is kubeproof's own",
        Some("kubeproof writes the `kubeproof.dev/` annotations"),
    );
    let text = starter_with(
        "    expose: { host: shop.example.com }\n",
        "    expose: { host: shop.example.com }\n    nodeSelector: { \"disk type\": ssd }\n",
    );
    gen_text(&text).assert_error(
        locate(&text, "\"disk type\"", 0),
        "nodeSelector: invalid key `disk type`",
        Some("an optional DNS prefix and `/`"),
    );
}

#[test]
fn namespace_metadata_names_a_namespace_of_the_platform() {
    let text = format!(
        "{STARTER}namespaces:\n  shpo: {{ labels: {{ team: web }} }}\n  shop: {{ labels: {{ istio-injection: disabled }} }}\n"
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "shpo", 0),
        "namespace `shpo` holds nothing of the platform",
        Some("the namespaces it writes: shop"),
    );
    run.assert_error(
        locate(&text, "istio-injection", 0),
        "namespace `shop`: label `istio-injection` is kubeproof's own",
        Some("kubeproof sets it"),
    );
}

#[test]
fn misspelt_affinity_keys_are_errors_at_their_line() {
    let text = starter_with(
        "    expose: { host: shop.example.com }\n",
        "    expose: { host: shop.example.com }\n    affinity: { nodeAffinity: { requiredDuringScheduling: {} } }\n",
    );
    gen_text(&text).assert_error(
        locate(&text, "requiredDuringScheduling:", 0),
        "unknown field `requiredDuringScheduling`",
        Some("did you mean `requiredDuringSchedulingIgnoredDuringExecution`?"),
    );
}

// ------------------------------------------------------------ env templates

/// The starter's web service with `env` replaced by `env`.
fn starter_with_env(env: &str) -> String {
    starter_with("    env: { LOG_FORMAT: json }\n", &format!("    env: {env}\n"))
}

#[test]
fn a_template_naming_an_unknown_target() {
    let text = starter_with_env(r#"{ LOG_FORMAT: json, CART_ADDR: "${cart.host}:${cart.port}" }"#);
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"${cart.host}", 0),
        "`${cart.host}` in `CART_ADDR`: no service, datastore or external host is named `cart`",
        Some("`web` uses: db, cache"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_template_naming_a_target_the_service_does_not_use() {
    let text = starter_with_env("{ SELF: \"${web.url}\" }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"${web.url}\"", 0),
        "`${web.url}` in `SELF`: `web` does not use `web`",
        Some("add `web` to `uses`"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_template_naming_an_unknown_field_lists_the_fields() {
    let text = starter_with_env("{ DB_NAME: \"${db.name}\", CACHE: \"${cache.database}\" }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"${db.name}\"", 0),
        "`${db.name}` in `DB_NAME`: `db` has no field `name`",
        Some("fields of `db`: host, port, database, user, password, url"),
    );
    // Redis has no database name nor user: the engine's wiring says so.
    run.assert_error(
        locate(&text, "\"${cache.database}\"", 0),
        "`${cache.database}` in `CACHE`: `cache` has no field `database`",
        Some("fields of `cache`: host, port, password, url"),
    );
    assert_eq!(run.error_count(), 2);
}

#[test]
fn a_template_naming_an_unknown_port() {
    let text = starter_with(
        "\ndatastores:",
        "  cart:\n    image: ghcr.io/example/cart:1.0.0\n    ports: [{ name: grpc, port: 7070, protocol: grpc }]\n\ndatastores:",
    );
    let text = text.replace("uses: [db, cache]", "uses: [db, cache, cart]").replace(
        "    env: { LOG_FORMAT: json }\n",
        "    env: { CART: \"${cart.host}:${cart.port.http}\", CART_URL: \"${cart.url}\" }\n",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"${cart.host}", 0),
        "`${cart.port.http}` in `CART`: `cart` has no field `port.http`",
        Some("fields of `cart`: host, port, port.grpc"),
    );
    // gRPC has no URL scheme: no `url` field.
    run.assert_error(
        locate(&text, "\"${cart.url}\"", 0),
        "`${cart.url}` in `CART_URL`: `cart` has no field `url`",
        Some("fields of `cart`: host, port, port.grpc"),
    );
    assert_eq!(run.error_count(), 2);
}

#[test]
fn a_malformed_template() {
    let text = starter_with_env("{ A: \"${db.url\", B: \"${db}\" }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"${db.url\"", 0),
        "`A`: `${` without its closing `}` in \"${db.url\"",
        Some("write `${TARGET.FIELD}`"),
    );
    run.assert_error(locate(&text, "\"${db}\"", 0), "`B`: `${db}` is not `${TARGET.FIELD}`", Some("write"));
    assert_eq!(run.error_count(), 2);
}

#[test]
fn kubelet_references_in_a_cycle() {
    let text = starter_with_env("{ A: \"x$(B)\", B: \"y$(A)\" }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"x$(B)\"", 0),
        "`$(VAR)` references in a cycle: A, B",
        Some("a variable can only name variables set before it"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_template_cannot_take_a_name_uses_sets() {
    // `uses: [db, cache]`: a template naming `db` only leaves cache's defaults.
    let text = starter_with_env("{ CACHE_HOST: \"${db.host}\" }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "web:\n", 0),
        "`web` declares the env value `CACHE_HOST`, which its `uses` already sets",
        Some("remove `CACHE_HOST`"),
    );
    assert_eq!(run.error_count(), 1);
}

// ------------------------------------------------------------ silent mistakes

#[test]
fn an_unquoted_version_is_refused_with_the_fix() {
    let text = starter_with(r#"version: "16.4""#, "version: 16.10");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "16.10", 0),
        "the version must be quoted: YAML reads it as the number 16.1, which drops trailing zeros (`16.10` would be \
         16.1); write it as a string, e.g. \"16.1\"",
        None,
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_memory_size_without_a_unit() {
    let text = starter_with("memory: 256Mi,", "memory: 256,");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "256,", 0),
        "the size 256 has no unit, so it would be 256 bytes: write \"256Mi\" or \"256Gi\"",
        None,
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_storage_size_without_a_unit() {
    let text = starter_with("storage: 20Gi", "storage: 20");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "20 }", 0),
        "the size 20 has no unit, so it would be 20 bytes: write \"20Mi\" or \"20Gi\"",
        None,
    );
}

#[test]
fn cores_beyond_one_nodes_share_of_the_capacity() {
    // capacity: 12 cores over 3 nodes, so a pod gets at most 4.
    let text = starter_with("{ cpu: 250m, memory: 256Mi,", "{ cpu: 500, memory: 256Mi,");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "web:\n", 0),
        "cpu request 500 of `web` exceeds one node's share of `cluster.capacity.cpu` (12 cores over 3 nodes: 4)",
        Some("CPU is in cores: `cpu: 500` is 500 cores; write \"500m\" for millicores"),
    );
}

#[test]
fn a_scale_written_as_a_percentage() {
    let text = starter_with("scale: 0.5 ", "scale: 50% ");
    let run = gen_text(&text);
    run.assert_error(locate(&text, "50%", 0), "the scale is a factor, not a percentage: write 0.5 for 50%", None);
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_grace_period_within_the_default_drain_names_the_default() {
    let text =
        starter_with("    env: { LOG_FORMAT: json }\n", "    env: { LOG_FORMAT: json }\n    shutdown: { grace: 5s }\n");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "web:\n", 0),
        "shutdown grace 5s must be longer than drain 5s (the default `shutdown.drain`)",
        Some("the app needs time to stop after draining: set `shutdown.grace` above 5s"),
    );
}

#[test]
fn a_kubelet_reference_to_no_variable() {
    // `$(LOG_FORMAT)` is an env value and `$(DB_URL)` what `uses` sets: both fine.
    let text = starter_with_env("{ LOG_FORMAT: json, A: \"$(LOG_FORMAT)-$(DB_URL)-$(NOPE)\" }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"$(LOG_FORMAT)", 0),
        "`$(NOPE)` in `A` names no variable of the container",
        Some("the kubelet would leave `$(NOPE)` as written"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_limit_below_a_default_request_names_the_default() {
    let text = starter_with("{ cpu: 250m, memory: 256Mi, limits: { memory: 512Mi } }", "{ limits: { memory: 64Mi } }");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "web:\n", 0),
        "memory limit 64Mi of `web` is below its request 128Mi (the default; set `resources.memory`)",
        None,
    );
    assert_eq!(run.error_count(), 1, "{}", run.stderr);
}

#[test]
fn a_pdb_against_the_default_replicas_names_the_default() {
    let text = starter_with(
        "    replicas: { min: 2, max: 6 }  # min < max adds a HorizontalPodAutoscaler\n",
        "    pdb: { minAvailable: 2 }\n",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "{ minAvailable", 0),
        "pdb minAvailable 2 with 2 replica(s) (the default `replicas`) blocks every node drain",
        Some("use minAvailable 1 or less, or more replicas"),
    );
}

/// The starter with a job that uses `db` and has `env`.
fn starter_with_job_env(env: &str) -> String {
    starter_with(
        "\ndatastores:",
        &format!(
            "\njobs:\n  migrate:\n    image: ghcr.io/example/migrate:1.0.0\n    uses: [db]\n    env: {env}\n\ndatastores:"
        ),
    )
}

#[test]
fn a_job_template_is_checked_as_a_service_template() {
    let text = starter_with_job_env(
        "{ DATABASE_URL: \"${db.url}\", CACHE: \"${cache.host}\", GREETING: \"at $(DB_HOSTNAME)\", LOOP: \"$(LOOP)\" }",
    );
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "\"${cache.host}\"", 0),
        "`${cache.host}` in `CACHE`: `migrate` does not use `cache`",
        Some("add `cache` to `uses`"),
    );
    run.assert_error(
        locate(&text, "\"at $(DB_HOSTNAME)\"", 0),
        "`$(DB_HOSTNAME)` in `GREETING` names no variable of the container",
        Some(
            "the kubelet would leave `$(DB_HOSTNAME)` as written: name a variable of `env`, `secrets` or what `uses` \
             sets, or write `$$(DB_HOSTNAME)` for the text itself",
        ),
    );
    run.assert_error(
        locate(&text, "\"$(LOOP)\"", 0),
        "`$(VAR)` references in a cycle: LOOP",
        Some("a variable can only name variables set before it"),
    );
    assert_eq!(run.error_count(), 3, "{}", run.stderr);
}

#[test]
fn a_job_template_naming_what_it_uses_generates() {
    let run = gen_text(&starter_with_job_env("{ DIR: /app, DATABASE_URL: \"${db.url}\", ADDR: \"$(DIR)/x\" }"));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.wrote_output);
}

// ------------------------------------------------- secrets and delivery

/// The starter with `lines` under `cluster:`.
fn starter_cluster(lines: &str) -> String {
    starter_with(
        "  kubernetes: \"1.30\"            # quoted: YAML would read 1.30 as 1.3\n",
        &format!("  kubernetes: \"1.30\"            # quoted: YAML would read 1.30 as 1.3\n{lines}"),
    )
}

#[test]
fn secrets_from_a_manager_need_its_store() {
    let text = starter_cluster("  secrets: { provider: external-secrets }\n");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "external-secrets }", 0),
        "`provider: external-secrets` needs `store`",
        Some("name the ClusterSecretStore"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn a_store_without_external_secrets_is_refused_at_the_store() {
    let text = starter_cluster("  secrets: { provider: sealed-secrets, store: vault }\n");
    gen_text(&text).assert_error(
        locate(&text, "vault", 0),
        "`store` is read only with `provider: external-secrets`",
        Some("remove it"),
    );
}

#[test]
fn an_unknown_secrets_provider_names_the_known_ones() {
    let text = starter_cluster("  secrets: { provider: vault }\n");
    let run = gen_text(&text);
    run.assert_refused();
    let at = locate(&text, "vault }", 0);
    assert!(run.stderr.contains(&format!("--> platform.yaml:{}:{}", at.line, at.column)), "{}", run.stderr);
    assert!(run.stderr.contains("external-secrets") && run.stderr.contains("sealed-secrets"), "{}", run.stderr);
}

#[test]
fn gitops_cannot_build_overlays_from_git_ignored_env_files() {
    let text = starter_cluster("  delivery: { argocd: { repo: https://git.example.com/shop.git, path: deploy } }\n");
    let run = gen_text(&text);
    run.assert_error(
        locate(&text, "https://git.example.com", 0),
        "a GitOps controller cannot build overlays whose Secrets come from git-ignored env files",
        Some("set `cluster.secrets: { provider: external-secrets, store: … }`"),
    );
    assert_eq!(run.error_count(), 1);
}

#[test]
fn delivery_names_one_controller_with_a_git_url_and_a_path_inside_the_repository() {
    let secrets = "  secrets: { provider: sealed-secrets }\n";
    let none = starter_cluster(&format!("{secrets}  delivery: {{}}\n"));
    gen_text(&none).assert_error(locate(&none, "{}", 0), "`delivery` names no controller", Some("write `delivery:"));
    let bad = starter_cluster(&format!(
        "{secrets}  delivery: {{ argocd: {{ repo: git.example.com/a, path: ../deploy }} }}\n"
    ));
    let run = gen_text(&bad);
    run.assert_error(
        locate(&bad, "git.example.com/a", 0),
        "`repo: git.example.com/a` is not a git URL",
        Some("write the repository's"),
    );
    run.assert_error(
        locate(&bad, "../deploy", 0),
        "`path: ../deploy` is not inside the repository",
        Some("write the folder"),
    );
    assert_eq!(run.error_count(), 2);
    // One controller, and Flux reads URLs only.
    let both = starter_cluster(&format!(
        "{secrets}  delivery:\n    argocd: {{ repo: https://git.example.com/a.git, path: deploy }}\n    \
         flux: {{ repo: https://git.example.com/b.git, path: deploy }}\n"
    ));
    gen_text(&both).assert_error(
        locate(&both, "https://git.example.com/b.git", 0),
        "`delivery` names both `argocd` and `flux`",
        Some("one controller syncs the stack"),
    );
    let scp = starter_cluster(&format!(
        "{secrets}  delivery: {{ flux: {{ repo: git@git.example.com:a.git, path: deploy }} }}\n"
    ));
    gen_text(&scp).assert_error(
        locate(&scp, "git@git.example.com:a.git", 0),
        "Flux reads `repo: git@git.example.com:a.git` as no URL",
        Some("write it as `ssh://git@HOST/PATH`"),
    );
}
