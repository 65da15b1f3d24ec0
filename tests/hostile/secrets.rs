//! Credentials by value (issue 14, point 7): a credential written as a plain
//! value under a harmless name is refused with a pointer to `secrets:`, at
//! its file:line:column; harmless values (URLs without a password,
//! templates, `$(VAR)` references, plain words) generate as before. An
//! Alertmanager receiver's URL comes from the Secret, never the file.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use super::harness::{Run, kp, temp, write};

const HEAD: &str = "apiVersion: kubeproof.dev/v1alpha1\nname: shop\ncluster:\n  kubernetes: \"1.33\"\n\
                    environments:\n  prod: {}\n";

/// A platform whose one service `api` has the `env` entry `NAME: VALUE`
/// (written on line 12, the value quoted as YAML).
fn with_env(name: &str, value: &str) -> String {
    format!(
        "{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n    env:\n      \
         {name}: {}\n",
        yaml_quoted(value)
    )
}

fn yaml_quoted(s: &str) -> String {
    serde_json::to_string(s).expect("a JSON string is a YAML scalar")
}

/// `kubeproof gen p.yaml -o out` of `platform`, with the output folder.
fn gen_platform(platform: &str) -> (tempfile::TempDir, Run, PathBuf) {
    let dir = temp();
    let file = write(dir.path(), "p.yaml", platform);
    let out = dir.path().join("out");
    let run = kp(dir.path(), [OsStr::new("gen"), file.as_os_str(), OsStr::new("-o"), out.as_os_str()]).run();
    (dir, run, out)
}

/// Every file under `dir`, as text.
fn all_text(dir: &Path) -> String {
    let mut text = String::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return text };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            text.push_str(&all_text(&path));
        } else if let Ok(t) = std::fs::read_to_string(&path) {
            text.push_str(&t);
        }
    }
    text
}

/// `platform` is refused with `what` and a pointer to `secrets` at `at`
/// (`p.yaml:LINE:`), and nothing is written.
fn refused_at(platform: &str, at: &str, what: &str) {
    let (_dir, run, out) = gen_platform(platform);
    run.expect(2, at).expect(2, what).expect(2, "secrets");
    assert!(!out.join("kustomize").exists(), "something was written:\n{}", run.all());
}

/// `value` as the env value `name` is refused at line 12 (where the value
/// is), with a pointer to `secrets:`, and nothing is written.
fn refused(name: &str, value: &str, what: &str) {
    refused_at(&with_env(name, value), "p.yaml:12:", what);
}

#[test]
fn a_database_url_with_a_password_is_refused() {
    refused("DATABASE_URL", "postgres://admin:hunter2@db.example.com:5432/shop", "password");
}

#[test]
fn an_amqp_url_with_a_password_is_refused() {
    refused("BROKER", "amqp://shop:s3cr3t-Pass@rabbit.example.com:5672/vhost", "password");
}

#[test]
fn a_bearer_token_is_refused() {
    refused("AUTH_HEADER", "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "bearer token");
}

#[test]
fn a_basic_token_is_refused() {
    refused("UPSTREAM_AUTH", "Basic YWRtaW46aHVudGVyMg==", "basic");
}

#[test]
fn well_known_token_prefixes_are_refused() {
    let cases = [
        ("PAYMENTS", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "Stripe"),
        ("PAYMENTS_TEST", "rk_test_51Hh2kLJ3bQ9a8x7YzW6v5U4t", "Stripe"),
        ("REPO", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "GitHub"),
        ("REPO_PAT", "github_pat_11ABCDEFG0123456789_abcdefghijklmnop", "GitHub"),
        ("CHAT", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", "Slack"),
        ("CLOUD", "AKIAIOSFODNN7EXAMPLE", "AWS"),
        ("CI", "glpat-xxxxxxxxxxxxxxxxxxxx", "GitLab"),
        ("MAPS", "AIzaSyA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvW", "Google"),
    ];
    for (name, value, what) in cases {
        refused(name, value, what);
    }
}

#[test]
fn a_private_key_is_refused() {
    refused("TLS", "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "private key");
}

#[test]
fn a_jwt_is_refused() {
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    refused("SERVICE_TOKEN", jwt, "JSON Web Token");
}

#[test]
fn a_sentry_dsn_with_its_key_is_refused() {
    refused("SENTRY", "https://0123456789abcdef0123456789abcdef@o123.ingest.sentry.io/1", "key");
}

#[test]
fn a_token_in_a_query_string_is_refused() {
    refused("CALLBACK", "https://hooks.example.com/notify?channel=ops&token=a1b2c3d4e5f6a7b8", "token");
}

#[test]
fn a_credential_in_a_template_s_literal_part_is_refused() {
    refused("DB", "postgres://admin:hunter2@${db.host}:${db.port}/shop", "password");
}

/// The same rule for a job's env, an init container's env and a cronjob's
/// environment override: each at its value's (or container's) line.
#[test]
fn jobs_containers_and_overrides_are_inspected_too() {
    let job = format!(
        "{HEAD}jobs:\n  migrate:\n    image: registry.example.com/m:1.0.0\n    env:\n      \
         URL: \"mysql://root:toor@db.example.com/x\"\n"
    );
    refused_at(&job, "p.yaml:11:", "secrets:");
    let sidecar = format!(
        "{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n    sidecars:\n      \
         - name: proxy\n        image: registry.example.com/p:1.0.0\n        env:\n          \
         TOKEN: \"ghp_16C7e42F292c6912E7710c838347Ae178B4a\"\n"
    );
    refused_at(&sidecar, "p.yaml:", "GitHub");
    let over = format!(
        "{HEAD}  staging:\n    services:\n      api:\n        env:\n          \
         AUTH: \"Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0\"\nservices:\n  api:\n    \
         image: registry.example.com/api:1.0.0\n    port: 8080\n"
    );
    refused_at(&over, "p.yaml:11:", "secrets:");
}

/// Arguments, patches and datastore settings are written as they are too.
#[test]
fn arguments_patches_and_settings_are_inspected_too() {
    let svc = "services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n";
    let args = format!("{HEAD}{svc}    args: [\"--token\", \"xoxb-123456789012-AbCdEfGhIjKl\"]\n");
    refused_at(&args, "p.yaml:8:", "Slack");
    let patch = format!(
        "{HEAD}{svc}    patches:\n      - ops:\n          - {{ op: add, path: /metadata/annotations/x, \
         value: \"https://u:hunter2@x.example.com\" }}\n"
    );
    refused_at(&patch, "p.yaml:13:", "password");
    let settings = format!(
        "{HEAD}{svc}datastores:\n  db:\n    engine: postgres\n    version: \"16.4\"\n    storage: 1Gi\n    \
         settings:\n      primary_conninfo: \"postgresql://rep:s3cret@primary:5432\"\n"
    );
    refused_at(&settings, "p.yaml:17:", "password");
}

/// URL fields of the description: the backup endpoint, an external host,
/// the tracing and logs endpoints.
#[test]
fn url_fields_with_credentials_are_refused() {
    let backup = format!(
        "{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n\
         backup:\n  bucket: s3://shop-backups\n  endpoint: \"https://minio:minio123@minio.example.com\"\n"
    );
    refused_at(&backup, "p.yaml:13:", "password");
    let tracing = format!(
        "{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n\
         tracing:\n  exporter: otlp\n  endpoint: \"https://user:pa55word@otlp.example.com:4317\"\n"
    );
    refused_at(&tracing, "p.yaml:13:", "password");
    let logs = format!(
        "{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n\
         logs:\n  backend: elasticsearch\n  endpoint: \"elastic:changeme1@es.example.com:9200\"\n"
    );
    refused_at(&logs, "p.yaml:13:", "password");
    let external = format!(
        "{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n    \
         uses: [stripe]\nexternal:\n  stripe:\n    host: \"sk_live_4eC39HqLyjWDarjtT1zdp7dc@api.stripe.com\"\n"
    );
    refused_at(&external, "p.yaml:14:", "Stripe");
}

/// Values that look like URLs or carry words such as "Bearer" but hold no
/// credential generate, and land in the ConfigMap as written.
#[test]
fn harmless_values_generate() {
    let values = [
        ("DATABASE_URL", "postgres://db:5432/shop"),
        ("USER_URL", "postgres://admin@db.example.com:5432/shop"),
        ("UPSTREAM", "https://api.example.com/v1/orders?page=2&sort=asc"),
        ("GREETING", "Basic plan for everyone"),
        ("AUTH_SCHEME", "Bearer"),
        ("MODE", "production"),
        ("TASK_ID", "tsk_1234"),
        ("DOCS", "https://docs.example.com/skip_live_updates"),
        ("HOST", "${api.host}:${api.port}"),
        ("COMPOSED", "http://$(HOST)/health"),
    ];
    let mut platform =
        format!("{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n    env:\n");
    for (k, v) in values {
        platform.push_str(&format!("      {k}: {}\n", yaml_quoted(v)));
    }
    platform.push_str("    uses: [api2]\n  api2:\n    image: registry.example.com/api2:1.0.0\n    port: 8080\n");
    let platform = platform.replace("${api.", "${api2.");
    let (_d, run, out) = gen_platform(&platform);
    assert_eq!(run.code, 0, "{}", run.all());
    let text = all_text(&out);
    for (k, v) in values.iter().filter(|(_, v)| !v.contains('$')) {
        assert!(text.contains(v), "{k}: `{v}` is not in the output");
    }
}

/// A webhook receiver: the description gives only its address (where
/// Alertmanager connects); the URL it posts to (user:password, a token in
/// the path) is read from the Secret with `url_file`, and never written.
/// A `url` with a user, a password, a path or a query is refused.
#[test]
fn a_webhook_url_comes_from_the_secret() {
    let base = format!(
        "{HEAD}services:\n  api:\n    image: registry.example.com/api:1.0.0\n    port: 8080\n\
         alerts:\n  critical: [hook]\nreceivers:\n  hook: {{ kind: webhook, url: \"https://hooks.example.com\" }}\n"
    );
    let (_d, run, out) = gen_platform(&base);
    assert_eq!(run.code, 0, "{}", run.all());
    let am = std::fs::read_to_string(out.join("monitoring/alertmanager.yml")).expect("alertmanager.yml");
    assert!(am.contains("url_file: /etc/alertmanager/secrets/"), "{am}");
    assert!(!am.contains("url: ") && !am.contains("hooks.example.com"), "{am}");
    amtool_accepts(&out.join("monitoring/alertmanager.yml"));
    for url in ["https://alert:hunter2@hooks.example.com/am", "https://hooks.example.com/services/T00/B00/XXXXsecret"] {
        let with_url = base.replace("https://hooks.example.com", url);
        let (_d, run, out) = gen_platform(&with_url);
        run.expect(2, "p.yaml:14:").expect(2, "secrets file");
        assert!(!all_text(&out).contains(url));
    }
}

/// `amtool check-config` of `config`, each `*_file` pointing at a file
/// holding a plausible value. amtool before 0.26 (Debian bookworm ships
/// 0.25) does not know a webhook's `url_file`: for it the copy carries the
/// URL inline, as Alertmanager 0.26+ reads it from the file.
fn amtool_accepts(config: &Path) {
    let Ok(version) = std::process::Command::new("amtool").arg("--version").output() else {
        assert!(std::env::var_os("KUBEPROOF_SKIP_MISSING_TOOLS").is_some(), "amtool is required");
        return;
    };
    let version = String::from_utf8_lossy(&version.stdout).to_string() + &String::from_utf8_lossy(&version.stderr);
    // "amtool, version 0.25.0 (branch: ...)": the minor version.
    let minor = version.split("version 0.").nth(1).and_then(|v| v.split('.').next()?.parse::<u32>().ok());
    let old = minor.is_some_and(|m| m < 26);
    let dir = temp();
    let text = std::fs::read_to_string(config).expect("config");
    let mut out = String::new();
    for line in text.lines() {
        let Some((head, path)) = line.split_once("_file: ") else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let local = write(dir.path(), path.trim_start_matches('/'), "https://hooks.example.com/services/T0/B0/x\n");
        if old && head.trim_start().trim_start_matches("- ") == "url" {
            out.push_str(&format!("{head}: https://hooks.example.com/services/T0/B0/x\n"));
        } else {
            out.push_str(&format!("{head}_file: {}\n", local.display()));
        }
    }
    let copy = write(dir.path(), "alertmanager.yml", out);
    let run = std::process::Command::new("amtool").arg("check-config").arg(&copy).output().expect("amtool");
    assert!(run.status.success(), "{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
}
