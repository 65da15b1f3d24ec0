//! One refused and one accepted change per rule, and each kind of loss.

use serde_json::{Value, json};

use super::*;

fn rules(old: &Value, new: &Value) -> Vec<(String, Rule)> {
    refused(old, new).into_iter().map(|r| (r.pointer, r.rule)).collect()
}

fn workload(kind: &str, spec: Value) -> Value {
    json!({ "apiVersion": "apps/v1", "kind": kind, "metadata": { "name": "api", "namespace": "shop" }, "spec": spec })
}

fn selector(labels: Value) -> Value {
    json!({ "selector": { "matchLabels": labels }, "replicas": 2, "template": { "metadata": { "labels": labels } } })
}

#[test]
fn a_workload_selector_may_not_change_but_its_template_may() {
    for kind in ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"] {
        let old = workload(kind, selector(json!({ "app": "api" })));
        let new = workload(kind, selector(json!({ "app": "api", "track": "stable" })));
        assert_eq!(rules(&old, &new), [("/spec/selector".to_string(), Rule::Selector)], "{kind}");
        let r = &refused(&old, &new)[0];
        assert_eq!(r.old, Some(json!({ "matchLabels": { "app": "api" } })));
        assert_eq!(r.new, Some(json!({ "matchLabels": { "app": "api", "track": "stable" } })));
        let mut moved = old.clone();
        moved["spec"]["template"]["metadata"]["labels"]["extra"] = json!("x");
        moved["spec"]["replicas"] = json!(5);
        assert_eq!(rules(&old, &moved), [], "{kind}: template and replicas change in place");
    }
}

#[test]
fn a_stateful_set_changes_only_its_updatable_fields() {
    let old = workload(
        "StatefulSet",
        json!({ "serviceName": "db", "replicas": 1, "volumeClaimTemplates": [{ "metadata": { "name": "data" } }] }),
    );
    let mut new = old.clone();
    new["spec"]["serviceName"] = json!("db-headless");
    new["spec"]["podManagementPolicy"] = json!("Parallel");
    new["spec"]["volumeClaimTemplates"][0]["spec"] = json!({ "resources": { "requests": { "storage": "2Gi" } } });
    assert_eq!(
        rules(&old, &new),
        [
            ("/spec/podManagementPolicy".to_string(), Rule::StatefulSetSpec),
            ("/spec/serviceName".to_string(), Rule::StatefulSetSpec),
            ("/spec/volumeClaimTemplates".to_string(), Rule::StatefulSetSpec),
        ]
    );
    let mut fine = old.clone();
    for (k, v) in [
        ("replicas", json!(3)),
        ("ordinals", json!({ "start": 1 })),
        ("template", json!({ "spec": {} })),
        ("updateStrategy", json!({ "type": "OnDelete" })),
        ("persistentVolumeClaimRetentionPolicy", json!({ "whenDeleted": "Delete" })),
        ("minReadySeconds", json!(10)),
        // The server's defaults, written out: no change.
        ("podManagementPolicy", json!("OrderedReady")),
        ("revisionHistoryLimit", json!(10)),
    ] {
        fine["spec"][k] = v;
    }
    assert_eq!(rules(&old, &fine), []);
}

#[test]
fn a_job_keeps_its_template_and_selector_but_may_resume() {
    let old = json!({ "apiVersion": "batch/v1", "kind": "Job", "metadata": { "name": "restore" },
        "spec": { "suspend": true, "template": { "spec": { "containers": [{ "name": "r", "image": "pg:16" }] } } } });
    let mut new = old.clone();
    new["spec"]["template"]["spec"]["containers"][0]["image"] = json!("pg:17");
    new["spec"]["selector"] = json!({ "matchLabels": { "a": "b" } });
    assert_eq!(
        rules(&old, &new),
        [("/spec/selector".to_string(), Rule::Selector), ("/spec/template".to_string(), Rule::JobTemplate)]
    );
    let mut resumed = old.clone();
    resumed["spec"]["suspend"] = json!(false);
    assert_eq!(rules(&old, &resumed), []);
}

fn service(spec: Value) -> Value {
    json!({ "apiVersion": "v1", "kind": "Service", "metadata": { "name": "db", "namespace": "shop" }, "spec": spec })
}

#[test]
fn a_service_keeps_its_cluster_ip() {
    let allocated = service(json!({ "ports": [{ "port": 80 }] }));
    let headless = service(json!({ "clusterIP": "None", "ports": [{ "port": 80 }] }));
    assert_eq!(rules(&allocated, &headless), [("/spec/clusterIP".to_string(), Rule::ClusterIp)]);
    assert_eq!(rules(&headless, &allocated), [], "left out, the server keeps the old address");
    let pinned = service(json!({ "clusterIP": "10.0.0.10" }));
    assert_eq!(rules(&pinned, &service(json!({ "clusterIP": "10.0.0.11" }))).len(), 1);
    assert_eq!(rules(&pinned, &pinned.clone()), []);
    // ExternalName has no address: to and from it is allowed.
    let external = service(json!({ "type": "ExternalName", "externalName": "db.example.com" }));
    assert_eq!(rules(&headless, &external), []);
    assert_eq!(rules(&external, &headless), []);
}

#[test]
fn a_headless_service_cannot_become_a_load_balancer() {
    let headless = service(json!({ "clusterIP": "None" }));
    let lb = service(json!({ "type": "LoadBalancer" }));
    let r = refused(&headless, &lb);
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].pointer.as_str(), r[0].rule), ("/spec/type", Rule::TypeNeedsClusterIp));
    assert_eq!((r[0].old.clone(), r[0].new.clone()), (Some(json!("ClusterIP")), Some(json!("LoadBalancer"))));
    // An allocated address serves any type.
    assert_eq!(rules(&service(json!({})), &lb), []);
}

fn claim(spec: Value) -> Value {
    json!({ "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": { "name": "data", "namespace": "shop" },
        "spec": spec })
}

fn sized(size: &str, class: Option<&str>) -> Value {
    let mut spec = json!({ "accessModes": ["ReadWriteOnce"], "resources": { "requests": { "storage": size } } });
    if let Some(c) = class {
        spec["storageClassName"] = json!(c);
    }
    claim(spec)
}

#[test]
fn a_claim_grows_but_never_shrinks() {
    let r = refused(&sized("10Gi", None), &sized("5000Mi", None));
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].pointer.as_str(), r[0].rule), ("/spec/resources/requests/storage", Rule::StorageShrink));
    assert_eq!((r[0].old.clone(), r[0].new.clone()), (Some(json!("10Gi")), Some(json!("5000Mi"))));
    assert_eq!(rules(&sized("10Gi", None), &sized("20Gi", None)), []);
    assert_eq!(rules(&sized("1Gi", None), &sized("1024Mi", None)), [], "the same size, written otherwise");
}

#[test]
fn a_claim_keeps_its_storage_class_once_set() {
    let fast = sized("1Gi", Some("fast"));
    assert_eq!(rules(&fast, &sized("1Gi", Some("slow"))), [("/spec/storageClassName".to_string(), Rule::StorageClass)]);
    assert_eq!(rules(&fast, &sized("1Gi", None)), [("/spec/storageClassName".to_string(), Rule::StorageClass)]);
    assert_eq!(rules(&sized("1Gi", None), &fast), [], "set where it was absent (the default class)");
}

#[test]
fn a_claim_keeps_the_rest_of_its_spec() {
    let old = sized("1Gi", None);
    let mut new = old.clone();
    new["spec"]["accessModes"] = json!(["ReadWriteMany"]);
    new["spec"]["resources"]["limits"] = json!({ "storage": "2Gi" });
    assert_eq!(
        rules(&old, &new),
        [("/spec/accessModes".to_string(), Rule::ClaimSpec), ("/spec/resources".to_string(), Rule::ClaimSpec)]
    );
    let mut bound = old.clone();
    bound["spec"]["volumeName"] = json!("pv-1");
    assert_eq!(rules(&old, &bound), [], "bound to a volume");
    let mut moved = bound.clone();
    moved["spec"]["volumeName"] = json!("pv-2");
    assert_eq!(rules(&bound, &moved), [("/spec/volumeName".to_string(), Rule::ClaimSpec)]);
}

fn config(kind: &str, immutable: bool, value: &str) -> Value {
    let mut v =
        json!({ "apiVersion": "v1", "kind": kind, "metadata": { "name": "settings" }, "data": { "KEY": value } });
    if immutable {
        v["immutable"] = json!(true);
    }
    v
}

#[test]
fn an_immutable_config_map_or_secret_keeps_its_data_and_its_mark() {
    for kind in ["ConfigMap", "Secret"] {
        let frozen = config(kind, true, "a");
        assert_eq!(rules(&frozen, &config(kind, true, "b")), [("/data".to_string(), Rule::ImmutableData)], "{kind}");
        assert_eq!(rules(&frozen, &config(kind, false, "a")), [("/immutable".to_string(), Rule::ImmutableData)]);
        assert_eq!(rules(&config(kind, false, "a"), &config(kind, false, "b")), [], "{kind}: mutable");
        assert_eq!(rules(&config(kind, false, "a"), &frozen), [], "{kind}: marked immutable now");
    }
}

#[test]
fn a_secret_keeps_its_type() {
    let opaque = config("Secret", false, "a");
    let mut tls = opaque.clone();
    tls["type"] = json!("kubernetes.io/tls");
    assert_eq!(rules(&opaque, &tls), [("/type".to_string(), Rule::SecretType)]);
    let mut written = opaque.clone();
    written["type"] = json!("Opaque");
    assert_eq!(rules(&opaque, &written), [], "Opaque is the default");
}

#[test]
fn removing_what_holds_data_loses_it() {
    let sts = workload("StatefulSet", json!({ "volumeClaimTemplates": [{ "metadata": { "name": "data" } }] }));
    assert_eq!(lost_with(&sts), Some(Loss::StatefulSet));
    assert_eq!(lost_with(&sized("1Gi", None)), Some(Loss::Claim));
    assert_eq!(
        lost_with(&json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "shop" } })),
        Some(Loss::Namespace)
    );
    assert_eq!(lost_with(&workload("Deployment", json!({}))), None);
    let mut renamed = sts.clone();
    renamed["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] = json!("pgdata");
    assert_eq!(
        lost(&sts, &renamed),
        [Lost { pointer: "/spec/volumeClaimTemplates/0".into(), loss: Loss::ClaimTemplate }]
    );
    assert_eq!(lost(&sts, &sts.clone()), []);
}

#[test]
fn compare_matches_objects_by_group_kind_namespace_and_name() {
    let old_dep = workload("Deployment", selector(json!({ "app": "api" })));
    let new_dep = workload("Deployment", selector(json!({ "app": "api2" })));
    let sts = workload("StatefulSet", json!({}));
    let ns = json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": "shop" } });
    let found = compare(&[old_dep.clone(), sts, ns.clone()], &[new_dep, ns]);
    let key = |kind: &str| Key {
        group: "apps".into(),
        kind: kind.into(),
        namespace: Some("shop".into()),
        name: "api".into(),
    };
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(matches!(&found[0], Finding::Refused(k, r) if *k == key("Deployment") && r.rule == Rule::Selector));
    assert!(matches!(&found[1], Finding::Lost(k, l) if *k == key("StatefulSet") && l.loss == Loss::StatefulSet));
    assert_eq!(key("StatefulSet").to_string(), "StatefulSet/shop/api");
    // Another version of the same group is the same object.
    let mut v1beta = old_dep.clone();
    v1beta["apiVersion"] = json!("apps/v1beta2");
    assert_eq!(compare(&[v1beta], &[old_dep]), []);
}
