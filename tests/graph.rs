//! `kubeproof graph`: the SVG of every example parses as XML and holds a node
//! for every workload; the DOT is accepted by Graphviz's `dot`; a dependency
//! cut by a NetworkPolicy is drawn blocked, naming the policy; the output is
//! deterministic; bad input exits 2 with file:line.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use quick_xml::XmlVersion;
use quick_xml::events::Event;

const WORKLOAD_KINDS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

fn graph(args: &[&str]) -> Output {
    let mut all = vec!["graph"];
    all.extend_from_slice(args);
    common::kubeproof(all, None)
}

fn ok(o: &Output, what: &str) -> String {
    assert!(o.status.success(), "{what} failed ({}):\n{}", o.status, String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

/// What the SVG shows: node ids (`data-id` of `<g class="node …">`), edge
/// classes, and every piece of text (`<text>` and `<title>`).
#[derive(Default, Debug)]
struct Svg {
    nodes: BTreeSet<String>,
    edges: Vec<String>,
    texts: Vec<String>,
}

fn parse_svg(xml: &str) -> Svg {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut svg = Svg::default();
    let mut open: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut root = None;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| panic!("not well-formed XML: {e}"));
        match event {
            Event::Start(e) if root.is_none() => {
                root = Some(e.name().as_ref().to_string());
                open.push(e.name().as_ref().to_string());
            }
            Event::Start(e) => {
                let name = e.name().as_ref().to_string();
                if name == "g" {
                    let attr = |k: &str| {
                        e.attributes().map(|a| a.expect("a well-formed attribute")).find(|a| a.key.as_ref() == k).map(
                            |a| {
                                a.normalized_value(XmlVersion::Implicit1_0)
                                    .expect("an attribute that unescapes")
                                    .into_owned()
                            },
                        )
                    };
                    let class = attr("class").unwrap_or_default();
                    if class.starts_with("node ") {
                        svg.nodes.insert(attr("data-id").expect("a node has a data-id"));
                    }
                    if class.starts_with("edge ") {
                        svg.edges.push(class);
                    }
                }
                open.push(name);
                text.clear();
            }
            Event::End(e) => {
                let name = e.name().as_ref().to_string();
                assert_eq!(open.pop().as_deref(), Some(name.as_str()), "unbalanced </{name}>");
                if name == "text" || name == "title" {
                    svg.texts.push(std::mem::take(&mut text));
                }
            }
            Event::Text(t) => text.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().expect("a valid character reference") {
                    Some(c) => c,
                    None => match &*r {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "quot" => '"',
                        "apos" => '\'',
                        other => panic!("undefined entity &{other};"),
                    },
                };
                text.push(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(root.as_deref(), Some("svg"), "the root element is <svg>");
    assert!(open.is_empty(), "unclosed elements: {open:?}");
    svg
}

/// `(namespace/Kind/name, name)` of every workload the description generates.
fn workloads(description: &Path) -> Vec<(String, String)> {
    let platform = kubeproof::description::load(description).expect("a valid example");
    let built = kubeproof::build::build(&platform, description).expect("the example builds");
    let loaded = kubeproof::build::stack_sources("kustomize/base", &built.base).expect("the stack loads");
    let mut out: Vec<(String, String)> = loaded
        .objects
        .iter()
        .filter(|o| WORKLOAD_KINDS.contains(&o.kind.as_str()))
        .map(|o| (format!("{}/{}/{}", o.ns(), o.kind, o.name), o.name.to_string()))
        .collect();
    out.sort();
    out
}

#[test]
fn every_example_svg_is_xml_with_every_workload() {
    for example in common::examples() {
        let path = example.to_string_lossy().into_owned();
        let svg = parse_svg(&ok(&graph(&[&path]), &format!("graph {path}")));
        let expected = workloads(&example);
        assert!(!expected.is_empty(), "{path}: no workloads");
        for (id, name) in &expected {
            assert!(svg.nodes.contains(id), "{path}: no node {id} in the SVG; nodes: {:?}", svg.nodes);
            assert!(svg.texts.iter().any(|t| t.contains(name.as_str())), "{path}: no text naming {name}");
        }
        // The generated policies open every declared edge.
        assert!(!svg.edges.is_empty(), "{path}: no edges");
        assert!(
            svg.edges.iter().all(|c| c == "edge allowed"),
            "{path}: the generated policies should allow every edge: {:?}",
            svg.edges
        );
    }
}

#[test]
fn every_example_dot_is_accepted_by_graphviz() {
    if !common::tool_available("dot", &["-V"]) {
        return;
    }
    for example in common::examples() {
        let path = example.to_string_lossy().into_owned();
        let text = ok(&graph(&[&path, "--format", "dot"]), &format!("graph {path} --format dot"));
        for (id, _) in workloads(&example) {
            assert!(text.contains(&format!("\"{id}\"")), "{path}: no node {id} in the DOT");
        }
        let mut child = Command::new("dot")
            .arg("-Tsvg")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dot runs");
        {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("write to dot");
        }
        let o = child.wait_with_output().expect("dot finishes");
        assert!(o.status.success(), "dot refused the DOT of {path}:\n{}\n{text}", String::from_utf8_lossy(&o.stderr));
        assert!(o.stderr.is_empty(), "dot warned on {path}:\n{}", String::from_utf8_lossy(&o.stderr));
    }
}

/// A web front calling an API through a URL; the API's policy admits only a
/// storefront, so the dependency is cut. The ingress routes to web.
const CUT: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: shop }
spec:
  ingressClassName: nginx
  rules:
    - host: shop.example.com
      http:
        paths:
          - { path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: web
          image: ghcr.io/acme/web:2.0.0
          ports: [{ containerPort: 8080 }]
          env:
            - { name: API_URL, value: "http://api.shop.svc.cluster.local:80" }
            - { name: PAYMENTS_URL, value: "https://api.payments.example:443/v1" }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: shop }
spec:
  selector: { app: api }
  ports: [{ name: http, port: 80, targetPort: http }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: ghcr.io/acme/api:1.4.2
          ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api, namespace: shop }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress:
    - from: [{ podSelector: { matchLabels: { app: storefront } } }]
      ports: [{ port: http }]
"#;

fn write_fixture(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p.to_string_lossy().into_owned()
}

#[test]
fn a_cut_dependency_is_blocked_and_names_the_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = write_fixture(dir.path(), "shop.yaml", CUT);
    let dot = ok(&graph(&["-f", &f, "--format", "dot"]), "graph --format dot");
    let edge = dot
        .lines()
        .find(|l| l.contains(r#""shop/Deployment/web" -> "shop/Deployment/api""#))
        .unwrap_or_else(|| panic!("no web → api edge:\n{dot}"));
    assert!(edge.contains("blocked by shop/api") && edge.contains("style=dashed"), "{edge}");
    assert!(edge.contains(":8080"), "the edge names the pod port: {edge}");
    let ingress = dot
        .lines()
        .find(|l| l.contains(r#""ingress" -> "shop/Deployment/web""#))
        .unwrap_or_else(|| panic!("no ingress → web edge:\n{dot}"));
    assert!(ingress.contains("shop.example.com") && !ingress.contains("blocked"), "{ingress}");
    let external = dot
        .lines()
        .find(|l| l.contains(r#""shop/Deployment/web" -> "external:api.payments.example""#))
        .unwrap_or_else(|| panic!("no web → external host edge:\n{dot}"));
    assert!(external.contains(":443") && !external.contains("blocked"), "{external}");

    let svg = parse_svg(&ok(&graph(&[&f]), "graph (svg)"));
    assert_eq!(svg.edges.iter().filter(|c| *c == "edge blocked").count(), 1, "{:?}", svg.edges);
    assert!(svg.texts.iter().any(|t| t.contains("blocked by shop/api")), "the SVG labels the blocked edge");

    // Admit web: the edge turns allowed.
    let fixed = CUT.replace("app: storefront", "app: web");
    let f = write_fixture(dir.path(), "fixed.yaml", &fixed);
    let dot = ok(&graph(&["-f", &f, "--format", "dot"]), "graph fixed");
    assert!(!dot.contains("blocked by"), "{dot}");
}

#[test]
fn output_is_deterministic_and_written_atomically() {
    let example = common::repo().join("examples/health-platform.yaml");
    let path = example.to_string_lossy().into_owned();
    let a = graph(&[&path]);
    let b = graph(&[&path]);
    assert_eq!(ok(&a, "first run"), ok(&b, "second run"), "two runs differ");
    let dot_a = ok(&graph(&[&path, "--format", "dot"]), "dot 1");
    let dot_b = ok(&graph(&[&path, "--format", "dot"]), "dot 2");
    assert_eq!(dot_a, dot_b);
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("g.svg");
    let o = graph(&[&path, "-o", &out.to_string_lossy()]);
    ok(&o, "graph -o");
    assert!(o.stdout.is_empty(), "-o writes nothing to stdout");
    assert_eq!(std::fs::read(&out).expect("written"), a.stdout);
}

#[test]
fn environments_and_externals_of_a_description() {
    let example = common::repo().join("examples/machine-native-ops.yaml");
    let path = example.to_string_lossy().into_owned();
    let dot = ok(&graph(&[&path, "--format", "dot"]), "graph machine-native-ops");
    for host in ["pg.shared.machine-native-ops.example.net", "auth.machine-native-ops.example.com"] {
        assert!(dot.contains(&format!("-> \"external:{host}\"")), "no edge to {host}:\n{dot}");
    }
    assert!(dot.contains("jwt-issuer"), "the external node carries its description name");
    let kailash = common::repo().join("examples/kailash.yaml");
    let k = kailash.to_string_lossy().into_owned();
    ok(&graph(&[&k, "--env", "prod"]), "graph --env prod");
    let o = graph(&[&k, "--env", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no environment `nope`"));
}

#[test]
fn bad_input_exits_2_with_file_and_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = write_fixture(dir.path(), "bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: x\n");
    let o = graph(&["-f", &f]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("bad.yaml:"), "{err}");
    let o = graph(&[]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn malformed_fields_draw_nothing_they_do_not_say() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: shop }
spec: { rules: "x", defaultBackend: { service: { name: 5, port: "http" } } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { selector: { app: web }, ports: 5 }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - { name: web, image: 7, ports: "80", env: [{ name: API_URL, value: 3 }, { name: X_URL, value: "http://web:99999999999999999999" }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p, namespace: shop }
spec: { podSelector: 3, policyTypes: [Egress], egress: [{ to: [{ ipBlock: { cidr: "300.0.0.0/99" } }], ports: "x" }] }
---
apiVersion: networking.k8s.io/v1
kind: VirtualService
metadata: { name: v, namespace: shop }
spec: { gateways: [gw, 4], http: [{ route: [{ destination: { host: 4 } }] }] }
"#;
    let f = write_fixture(dir.path(), "odd.yaml", text);
    for format in ["svg", "dot"] {
        let o = graph(&["-f", &f, "--format", format]);
        assert!(o.status.success(), "{format}: {}", String::from_utf8_lossy(&o.stderr));
    }
    // The one well-formed workload is drawn; nothing malformed becomes an
    // edge (the Ingress' rules and backend, the Service's ports, the
    // VirtualService's hosts are not read as something they are not).
    let o = graph(&["-f", &f, "--format", "dot"]);
    let dot = String::from_utf8_lossy(&o.stdout);
    let nodes: Vec<&str> =
        dot.lines().filter(|l| l.contains("[label=") && !l.trim_start().starts_with("label=")).collect();
    assert_eq!(nodes.len(), 2, "{dot}");
    assert!(nodes[1].contains(r#""shop/Deployment/web" [label="web\nDeployment""#), "{dot}");
    assert!(!dot.contains("->"), "{dot}");
}
