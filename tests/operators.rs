//! Pods an operator makes from a custom resource (issue 17.2): the checks
//! that select pods, `reach` and `graph` see them, from the built-in table
//! (the Prometheus Operator's kinds first) and from `.kubeproof.yaml`.

use crate::common;

use std::process::Command;

use common::{bin, repo};
use serde_json::Value;

fn data(name: &str) -> String {
    repo().join("tests/data/operators").join(name).display().to_string()
}

/// (code, object) of every finding of `check` on `args`.
fn findings(args: &[&str]) -> Vec<(String, String)> {
    let out = Command::new(bin()).arg("check").args(["--format", "json"]).args(args).output().expect("runs");
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["code"].as_str().unwrap_or("").to_string(), f["object"].as_str().unwrap_or("").to_string()))
        .collect()
}

#[test]
fn selectors_on_a_prometheus_pods_labels_select_them() {
    let found = findings(&[&data("prometheus.yaml")]);
    // The PDB selects the operator's label, the policy the podMetadata label,
    // the Service the operator's label: none selects nothing.
    for code in ["KP211", "KP301", "KP401", "KP404"] {
        assert!(!found.iter().any(|(c, _)| c == code), "{code} in {found:?}");
    }
}

#[test]
fn reach_and_graph_see_a_prometheus_pods() {
    let out = Command::new(bin())
        .args(["reach", "-f", &data("prometheus.yaml"), "grafana", "prometheus", "9090"])
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("→ Prometheus monitoring/main"), "{text}");
    assert!(text.contains("allowed by NetworkPolicy monitoring/prometheus"), "{text}");
    let out = Command::new(bin()).args(["graph", "--format", "dot", &data("prometheus.yaml")]).output().expect("runs");
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.contains("\"monitoring/Prometheus/main\""), "{dot}");
}

#[test]
fn the_configuration_teaches_another_operator() {
    let widget = data("widget.yaml");
    let config = data("widget-config.yaml");
    let pdb = |f: &[(String, String)]| f.iter().filter(|(c, o)| c == "KP211" && o == "spinner").count();
    assert_eq!(pdb(&findings(&[&widget])), 1, "unknown operator: its pods are not seen");
    assert_eq!(pdb(&findings(&["--config", &config, &widget])), 0);
}
