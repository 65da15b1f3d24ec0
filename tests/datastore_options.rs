//! Datastore options of issue 13 refused where they cannot hold: `gen`
//! exits 2, writes nothing, and names the mistake at its line and column
//! with what is allowed. What they generate is run in tests/datastores_run.rs.

use std::path::Path;
use std::process::Command;

const STORES: &str = include_str!("data/stores/platform.yaml");

/// The fixture with `old` (exactly once) replaced by `new`.
fn stores_with(old: &str, new: &str) -> String {
    assert_eq!(STORES.matches(old).count(), 1, "`{old}` once in the fixture");
    STORES.replacen(old, new, 1)
}

/// `line:column` of `needle` (exactly once in `text`), `offset` characters on.
fn at(text: &str, needle: &str, offset: usize) -> String {
    assert_eq!(text.matches(needle).count(), 1, "`{needle}` once in:\n{text}");
    let before = &text[..text.find(needle).expect("found")];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1 + offset;
    format!("platform.yaml:{line}:{column}")
}

/// `gen` of `text`: its exit code, stderr, and whether it wrote anything.
fn run_gen(text: &str) -> (Option<i32>, String, bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("platform.yaml"), text).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_kubeproof"))
        .current_dir(dir.path())
        .args(["gen", "platform.yaml", "-o", "deploy"])
        .output()
        .expect("kubeproof runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned(), Path::exists(&dir.path().join("deploy")))
}

/// Refused, with `message` at `pos` and a help line containing `help`.
fn refused(text: &str, message: &str, pos: &str, help: &str) {
    let (code, stderr, wrote) = run_gen(text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!wrote && !stderr.contains("panicked"), "{stderr}");
    let found =
        stderr.split("\n\n").find(|e| e.contains(message)).unwrap_or_else(|| panic!("`{message}` in:\n{stderr}"));
    assert!(found.contains(&format!("--> {pos}\n")), "at {pos}:\n{found}");
    assert!(found.contains("= help: ") && found.contains(help), "help `{help}`:\n{found}");
}

#[test]
fn the_fixture_generates() {
    let (code, stderr, wrote) = run_gen(STORES);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(wrote);
}

#[test]
fn auth_none_is_refused_where_the_engine_cannot_run_safely_without_credentials() {
    let text = stores_with("    engine: postgres\n", "    engine: postgres\n    auth: none\n");
    let pos = at(&text, "auth: none\n    storage: 1Gi", 6);
    refused(
        &text,
        "datastore `orders` (postgres) cannot run with `auth: none`",
        &pos,
        "PostgreSQL `trust` admits anyone",
    );
}

#[test]
fn an_ephemeral_datastore_has_no_backup() {
    let text = stores_with("    role: cache\n", "    role: cache\n    backup: { every: 1h, keep: 7d }\n")
        + "backup: { bucket: s3://stores-backups }\n";
    let pos = at(&text, "every: 1h", 7);
    refused(&text, "datastore `cart-cache` has `storage: ephemeral` and a `backup`", &pos, "remove `backup`");
}

#[test]
fn an_unknown_setting_is_refused_at_its_name_with_the_known_ones() {
    let text = stores_with("maxmemory-policy: allkeys-lfu", "maxmemory: 1Gi");
    let pos = at(&text, "maxmemory: 1Gi", 0);
    refused(&text, "redis has no setting `maxmemory`", &pos, "the settings of redis: `maxmemory-policy`");
}

#[test]
fn a_bad_setting_value_is_refused_at_the_value_with_the_allowed_ones() {
    let text = stores_with("allkeys-lfu", "lru");
    refused(&text, "`maxmemory-policy: lru` is not allowed", &at(&text, "lru\n", 0), "one of: noeviction, allkeys-lru");
    let text = stores_with("max_connections: 40", "max_connections: 2");
    refused(&text, "`max_connections: 2` is not allowed", &at(&text, "2\n", 0), "a whole number from 4 to 262143");
    // Buffers as large as the memory limit leave nothing for connections.
    let text = stores_with("shared_buffers: 64Mi", "shared_buffers: 512Mi");
    let pos = at(&text, "512Mi\n", 0);
    refused(&text, "`shared_buffers: 512Mi` is not allowed", &pos, "below the memory limit (512Mi)");
}

#[test]
fn an_engine_without_settings_says_so() {
    let text = STORES.to_string()
        + "  queue:\n    engine: rabbitmq\n    storage: 1Gi\n    settings:\n      vm_memory_high_watermark: 0.4\n";
    let pos = at(&text, "vm_memory_high_watermark", 0);
    refused(
        &text,
        "rabbitmq has no setting `vm_memory_high_watermark`",
        &pos,
        "kubeproof knows no settings of rabbitmq",
    );
}

#[test]
fn an_ephemeral_datastore_names_no_storage_class() {
    let text = stores_with("    storage: ephemeral\n", "    storage: ephemeral\n    storageClass: fast-ssd\n");
    let (code, stderr, wrote) = run_gen(&text);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(!wrote, "{stderr}");
    assert!(
        stderr.contains("datastore `cart-cache` has `storage: ephemeral` and `storageClass: fast-ssd`"),
        "{stderr}"
    );
    assert!(stderr.contains("remove `storageClass`"), "{stderr}");
}
