//! The request metrics kubeproof's alerts read on an off-the-shelf
//! component are the ones the real binary exports. Prometheus and
//! Alertmanager are packaged for Debian (`prometheus`,
//! `prometheus-alertmanager`, in scripts/test): each is started on a free
//! port, answers a few requests, and its `/metrics` must hold the
//! component's request series, with the status label the error ratio
//! filters on (or, where kubeproof says there is none, without one), and
//! its duration histogram. Grafana, Loki, Tempo and Envoy have no package
//! here: their names stay as documented upstream (cited in src/components).

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::tool_available;
use kubeproof::components::{Component, Http};

/// A child process killed when dropped (a failed assertion included).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// `GET path` over plain HTTP/1.1: status line and body, or `None` when nothing answers.
fn get(port: u16, path: &str) -> Option<(String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    Some((head.lines().next()?.to_string(), body.to_string()))
}

/// Starts `cmd` and waits until `/-/ready` answers 200.
fn start(cmd: &mut Command, port: u16) -> Running {
    let child = cmd.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("starts");
    let running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if get(port, "/-/ready").is_some_and(|(status, _)| status.contains(" 200")) {
            return running;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{cmd:?} not ready on port {port}");
}

/// The label names of every sample of `metric` in an exposition text.
fn label_sets(exposition: &str, metric: &str) -> Vec<Vec<String>> {
    let prefix = format!("{metric}{{");
    exposition
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|rest| {
            let labels = rest.split('}').next().unwrap_or_default();
            labels.split("\",").filter_map(|kv| kv.split_once('=')).map(|(k, _)| k.trim().to_string()).collect()
        })
        .collect()
}

/// `component`'s facts hold on `exposition`: requests counted, with the
/// status label (or without any), and the duration histogram present.
fn assert_family(name: &str, http: Http, exposition: &str) {
    let requests = label_sets(exposition, http.requests);
    assert!(!requests.is_empty(), "{name}: no `{}` sample in /metrics", http.requests);
    for labels in &requests {
        assert!(
            labels.iter().any(|l| l == http.endpoint),
            "{name}: `{}` has no `{}`: {labels:?}",
            http.requests,
            http.endpoint
        );
        match http.errors {
            Some((status, _)) => assert!(labels.iter().any(|l| l == status), "{name}: no `{status}` in {labels:?}"),
            None => assert!(
                !labels.iter().any(|l| ["code", "status", "status_code"].contains(&l.as_str())),
                "{name}: kubeproof says no status label, /metrics has {labels:?}"
            ),
        }
    }
    let buckets = label_sets(exposition, &format!("{}_bucket", http.duration));
    assert!(buckets.iter().any(|l| l.iter().any(|x| x == "le")), "{name}: no `{}_bucket`", http.duration);
}

fn scrape_after_traffic(port: u16, paths: &[&str]) -> String {
    for p in paths {
        assert!(get(port, p).is_some(), "GET {p} answered nothing");
    }
    get(port, "/metrics").map(|(_, body)| body).expect("/metrics answers")
}

fn facts(name: &str) -> Http {
    Component::by_name(name).and_then(Component::http).unwrap_or_else(|| panic!("{name} has an HTTP family"))
}

#[test]
fn prometheus_exports_the_request_family_its_alerts_read() {
    if !tool_available("prometheus", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").expect("written");
    let port = free_port();
    let data = dir.path().join("data");
    let _p = start(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}")),
        port,
    );
    let text = scrape_after_traffic(port, &["/api/v1/status/buildinfo", "/api/v1/query?query=up", "/-/healthy"]);
    assert_family("prometheus", facts("prometheus"), &text);
}

#[test]
fn alertmanager_exports_a_request_histogram_without_a_status() {
    if !tool_available("prometheus-alertmanager", &["--version"]) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("alertmanager.yml");
    std::fs::write(&config, "route: { receiver: none }\nreceivers: [{ name: none }]\n").expect("written");
    let port = free_port();
    let _a = start(
        Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.path={}", Path::new(dir.path()).join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address="),
        port,
    );
    let text = scrape_after_traffic(port, &["/api/v2/status", "/api/v2/alerts", "/-/healthy"]);
    assert_family("alertmanager", facts("alertmanager"), &text);
}
