//! For clusters with the Prometheus Operator: a ServiceMonitor per service
//! with metrics, a PodMonitor per datastore with `metrics: true`, and the
//! rule groups as one PrometheusRule.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::DATASTORE_INTERVAL;
use crate::description::resolve::{MetricsR, Resolved, Svc};
use crate::generate::datastores::store_scrape;
use crate::generate::{Object, Stack, labels, selector_labels};

/// Pushes the monitors, and the PrometheusRule holding `rules` unless there
/// are no rule groups.
pub(super) fn objects(r: &Resolved, rules: &Value, has_groups: bool, stack: &mut Stack) {
    for svc in &r.services {
        let Some(m) = &svc.metrics else { continue };
        // A worker has no Service to select: its pods are scraped directly.
        if svc.worker {
            stack.objects.push(pod_monitor(r, &svc.name, &svc.namespace, (&m.port_name, &m.path, m.interval)));
        } else {
            stack.objects.push(service_monitor(r, svc, m));
        }
    }
    for d in &r.datastores {
        let Some(s) = store_scrape(d) else { continue };
        stack.objects.push(pod_monitor(r, &d.name, &d.namespace, (s.port_name, s.path, DATASTORE_INTERVAL)));
    }
    if has_groups {
        stack.objects.push(crd(
            "PrometheusRule",
            &format!("{}-alerts", r.platform),
            &rule_namespace(r),
            selected(r, &r.platform),
            rules.clone(),
        ));
    }
}

/// The object's labels and those the Operator's selectors require
/// (`cluster.monitoringSelector`); ours win, so selectors never break.
fn selected(r: &Resolved, name: &str) -> BTreeMap<String, String> {
    let mut l = r.monitoring_selector.clone();
    l.extend(labels(&r.platform, name, "monitoring"));
    l
}

/// The platform's namespace when something lives there, else the first in use.
fn rule_namespace(r: &Resolved) -> String {
    if r.namespaces().contains(r.namespace.as_str()) {
        r.namespace.clone()
    } else {
        r.namespaces().into_iter().next().unwrap_or(r.namespace.as_str()).to_string()
    }
}

/// The service's Service endpoints on its metrics port.
fn service_monitor(r: &Resolved, svc: &Svc, m: &MetricsR) -> Object {
    crd(
        "ServiceMonitor",
        &svc.name,
        &svc.namespace,
        selected(r, &svc.name),
        json!({
            "selector": { "matchLabels": selector_labels(&r.platform, &svc.name) },
            "namespaceSelector": { "matchNames": [svc.namespace] },
            "endpoints": [{
                "port": m.port_name,
                "path": m.path,
                "interval": format!("{}s", m.interval),
                "scheme": "http",
            }],
        }),
    )
}

/// A datastore's or worker's pods themselves (the exporter sidecar, or the
/// engine's own endpoint), on (port name, path, interval); the job is the
/// workload's name, as for services and in the plain scrape configuration.
fn pod_monitor(r: &Resolved, name: &str, namespace: &str, (port, path, interval): (&str, &str, u32)) -> Object {
    crd(
        "PodMonitor",
        name,
        namespace,
        selected(r, name),
        json!({
            "selector": { "matchLabels": selector_labels(&r.platform, name) },
            "namespaceSelector": { "matchNames": [namespace] },
            "jobLabel": "app.kubernetes.io/name",
            "podMetricsEndpoints": [{
                "port": port,
                "path": path,
                "interval": format!("{interval}s"),
                "scheme": "http",
            }],
        }),
    )
}

fn crd(kind: &str, name: &str, namespace: &str, labels: BTreeMap<String, String>, spec: Value) -> Object {
    Object {
        api_version: "monitoring.coreos.com/v1".into(),
        kind: kind.into(),
        name: name.into(),
        namespace: Some(namespace.into()),
        value: json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": kind,
            "metadata": { "name": name, "namespace": namespace, "labels": labels },
            "spec": spec,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::shop;
    use super::*;

    fn ids(stack: &Stack) -> Vec<String> {
        stack.objects.iter().map(Object::id).collect()
    }

    #[test]
    fn monitors_for_what_is_scraped_and_the_rules_in_the_platform_namespace() {
        let r = shop();
        let mut stack = Stack::default();
        objects(&r, &json!({ "groups": [] }), true, &mut stack);
        assert_eq!(
            ids(&stack),
            [
                "ServiceMonitor/shop/api",
                "PodMonitor/shop/cache",
                "PodMonitor/shop/db",
                "PodMonitor/shop/files",
                "PrometheusRule/shop/shop-alerts",
            ]
        );
        let sm = &stack.objects[0].value;
        assert_eq!(sm["apiVersion"], "monitoring.coreos.com/v1");
        assert_eq!(sm["spec"]["endpoints"][0]["port"], "http");
        assert_eq!(sm["spec"]["selector"]["matchLabels"], json!(selector_labels("shop", "api")));
        let pm = &stack.objects[2].value;
        assert_eq!(pm["spec"]["podMetricsEndpoints"][0]["port"], "metrics");
        assert_eq!(pm["spec"]["jobLabel"], "app.kubernetes.io/name");
    }

    #[test]
    fn the_operators_selector_labels_are_on_every_monitor_and_the_rule() {
        let mut r = shop();
        r.monitoring_selector = BTreeMap::from([("release".to_string(), "kube-prometheus-stack".to_string())]);
        let mut stack = Stack::default();
        objects(&r, &json!({ "groups": [] }), true, &mut stack);
        assert_eq!(stack.objects.len(), 5);
        for o in &stack.objects {
            let l = &o.value["metadata"]["labels"];
            assert_eq!(l["release"], "kube-prometheus-stack", "{}", o.id());
            assert_eq!(l["app.kubernetes.io/part-of"], "shop", "{}", o.id());
        }
        // Without the field, no extra label.
        let mut plain = Stack::default();
        objects(&shop(), &json!({ "groups": [] }), true, &mut plain);
        assert!(plain.objects.iter().all(|o| o.value["metadata"]["labels"].get("release").is_none()));
    }

    #[test]
    fn no_prometheus_rule_without_groups() {
        let mut stack = Stack::default();
        objects(&shop(), &json!({ "groups": [] }), false, &mut stack);
        assert!(stack.objects.iter().all(|o| o.kind != "PrometheusRule"));
    }
}
