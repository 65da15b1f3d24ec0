//! Traffic into the platform: an Ingress with TLS from cert-manager per
//! exposed service. (Network policies and the mesh build on this module.)

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1 as net;

use super::*;
use crate::spec::Protocol;
use crate::spec::resolve::Resolved;

pub fn ingresses(r: &Resolved, stack: &mut Stack) {
    let nginx = r.ingress_class.contains("nginx");
    for svc in &r.services {
        let Some(e) = &svc.expose else { continue };
        let Some(port) = svc.ports.iter().find(|p| p.name == e.port_name) else { continue };
        let labels = labels(&r.platform, &svc.name, "service");
        let mut annotations = BTreeMap::from([("cert-manager.io/cluster-issuer".to_string(), r.issuer.clone())]);
        if nginx {
            let mut set = |k: &str, v: String| {
                annotations.insert(format!("nginx.ingress.kubernetes.io/{k}"), v);
            };
            set("ssl-redirect", "true".into());
            set("proxy-read-timeout", e.timeout_seconds.to_string());
            set("proxy-send-timeout", e.timeout_seconds.to_string());
            match port.protocol {
                Protocol::Grpc => set("backend-protocol", "GRPC".into()),
                // Websocket sessions stay on their pod across reconnects.
                Protocol::Websocket => {
                    set("affinity", "cookie".into());
                    set("session-cookie-name", format!("{}-affinity", svc.name));
                    set("session-cookie-max-age", "10800".into());
                }
                Protocol::Http | Protocol::Tcp => {}
            }
            if let Some(rps) = e.rate_limit {
                set("limit-rps", rps.to_string());
                set("limit-burst-multiplier", "5".into());
            }
        }
        let mut metadata = meta(&svc.name, &svc.namespace, &labels);
        metadata.annotations = Some(annotations);
        stack.push(&net::Ingress {
            metadata,
            spec: Some(net::IngressSpec {
                ingress_class_name: Some(r.ingress_class.clone()),
                tls: Some(vec![net::IngressTLS {
                    hosts: Some(vec![e.host.clone()]),
                    secret_name: Some(format!("{}-tls", svc.name)),
                }]),
                rules: Some(vec![net::IngressRule {
                    host: Some(e.host.clone()),
                    http: Some(net::HTTPIngressRuleValue {
                        paths: vec![net::HTTPIngressPath {
                            path: Some(e.path.clone()),
                            path_type: "Prefix".into(),
                            backend: net::IngressBackend {
                                service: Some(net::IngressServiceBackend {
                                    name: svc.name.clone(),
                                    port: Some(net::ServiceBackendPort { name: Some(port.name.clone()), number: None }),
                                }),
                                ..Default::default()
                            },
                        }],
                    }),
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
}
