//! Every application workload (not an off-the-shelf component) of a
//! platform that declares `tracing:` is told where to send its spans: `OTEL_EXPORTER_OTLP_ENDPOINT` (a URL with its scheme, as
//! the OpenTelemetry SDK specification requires), the protocol the port
//! speaks, and `OTEL_SERVICE_NAME`; a platform without `tracing:` gets none.

use crate::common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use serde_json::Value;

/// Each Deployment's environment as the kubelet assembles it: its
/// ConfigMaps' data (`envFrom`), then its `env` values.
fn environments(objects: &[kubeproof::generate::Object]) -> BTreeMap<String, BTreeMap<String, String>> {
    let maps: BTreeMap<(String, String), &Value> = objects
        .iter()
        .filter(|o| o.kind == "ConfigMap")
        .map(|o| ((o.namespace.clone().unwrap_or_default(), o.name.clone()), &o.value["data"]))
        .collect();
    let mut out = BTreeMap::new();
    for d in objects.iter().filter(|o| o.kind == "Deployment") {
        let containers = d.value["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default();
        let c = &containers[0];
        let mut env = BTreeMap::new();
        for from in c["envFrom"].as_array().into_iter().flatten() {
            let Some(name) = from["configMapRef"]["name"].as_str() else { continue };
            let data = maps
                .get(&(d.namespace.clone().unwrap_or_default(), name.to_string()))
                .expect("the ConfigMap it reads exists");
            for (k, v) in data.as_object().into_iter().flatten() {
                env.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
            }
        }
        for e in c["env"].as_array().into_iter().flatten() {
            if let (Some(k), Some(v)) = (e["name"].as_str(), e["value"].as_str()) {
                env.insert(k.to_string(), v.to_string());
            }
        }
        out.insert(format!("{}/{}", d.namespace.as_deref().unwrap_or_default(), d.name), env);
    }
    out
}

/// Recognised from its image, as `gen` does.
fn is_component_image(s: &kubeproof::description::Service) -> bool {
    s.image.as_ref().is_some_and(|i| kubeproof::description::Component::by_image(&i.value).is_some())
}

#[test]
fn every_workload_of_a_traced_platform_knows_where_to_send_spans() {
    let mut traced = 0;
    for file in examples() {
        let example = stem(&file);
        let text = std::fs::read_to_string(&file).expect("readable");
        let p = kubeproof::description::parse(&text, &file).expect("valid");
        let built = kubeproof::build::build(&p, &file).expect("generated");
        let stacks = std::iter::once(&built.base).chain(built.envs.iter().map(|(_, s)| s));
        for stack in stacks {
            let envs = environments(&stack.objects);
            assert!(!envs.is_empty(), "{example}: no Deployment");
            for (workload, env) in envs {
                let endpoint = env.get("OTEL_EXPORTER_OTLP_ENDPOINT");
                let name = workload.rsplit('/').next().unwrap_or_default();
                let component = p.services.get(name).is_some_and(|s| s.component.is_some() || is_component_image(s));
                if p.tracing.is_none() || component {
                    assert_eq!(endpoint, None, "{example} {workload}: no tracing declared");
                    continue;
                }
                traced += 1;
                let Some(url) = endpoint else { panic!("{example} {workload}: no OTEL_EXPORTER_OTLP_ENDPOINT") };
                assert!(url.starts_with("http://") || url.starts_with("https://"), "{example} {workload}: {url}");
                let port = url.rsplit(':').next().unwrap_or_default();
                let proto = env.get("OTEL_EXPORTER_OTLP_PROTOCOL").map(String::as_str);
                assert!(
                    port != "4317" || proto == Some("grpc"),
                    "{example} {workload}: 4317 is OTLP/gRPC, not {proto:?}"
                );
                let service = env.get("OTEL_SERVICE_NAME").map(String::as_str).unwrap_or_default();
                assert!(!service.is_empty() && name.starts_with(service), "{example} {workload}: service {service:?}");
            }
        }
    }
    assert!(traced > 0, "some example declares tracing");
}

#[test]
fn health_platform_services_send_to_its_jaeger() {
    let file = repo().join("examples/health-platform.yaml");
    let text = std::fs::read_to_string(&file).expect("readable");
    let p = kubeproof::description::parse(&text, Path::new(&file)).expect("valid");
    let built = kubeproof::build::build(&p, &file).expect("generated");
    let envs = environments(&built.base.objects);
    let api = &envs["health-api/health-api"];
    assert_eq!(api["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://jaeger.health-observability.svc.cluster.local:4317");
    assert_eq!(api["OTEL_SERVICE_NAME"], "health-api");
    assert!(!envs["health-observability/grafana"].contains_key("OTEL_EXPORTER_OTLP_ENDPOINT"));
}
