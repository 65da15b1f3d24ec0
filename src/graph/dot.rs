//! The graph as Graphviz DOT: one `cluster_NAMESPACE` subgraph per
//! namespace, left to right, edges coloured by what the policies decide.

use std::fmt::Write as _;

use super::{Graph, Node, Role, State};

/// A DOT double-quoted string.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn node_attrs(n: &Node) -> String {
    let label = if n.detail.is_empty() { n.name.clone() } else { format!("{}\n{}", n.name, n.detail) };
    let style = match n.role {
        Role::Ingress => r##"shape=box, style="rounded,filled,bold", fillcolor="#e3f2fd", color="#1565c0""##,
        Role::App => r##"shape=box, style="rounded,filled", fillcolor="#ffffff", color="#455a64""##,
        Role::Job => r##"shape=box, style="rounded,filled,dashed", fillcolor="#eceff1", color="#607d8b""##,
        Role::Datastore => r##"shape=cylinder, style="filled", fillcolor="#fff8e1", color="#f9a825""##,
        Role::External => r##"shape=box, style="filled,dashed", fillcolor="#f3e5f5", color="#7b1fa2""##,
    };
    format!("label={}, {style}", quote(&label))
}

pub fn render(g: &Graph) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph kubeproof {{");
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, fontname=\"Helvetica\", fontsize=14, labelloc=t, label={}, nodesep=0.3, ranksep=1.2];",
        quote(&g.title)
    );
    let _ = writeln!(out, "  node [fontname=\"Helvetica\", fontsize=11];");
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=9];");
    for n in g.nodes.iter().filter(|n| n.namespace.is_none() && n.role == Role::Ingress) {
        let _ = writeln!(out, "  {} [{}];", quote(&n.id), node_attrs(n));
    }
    for ns in g.namespaces() {
        let _ = writeln!(out, "  subgraph {} {{", quote(&format!("cluster_{ns}")));
        let _ = writeln!(
            out,
            "    label={}; style=\"rounded,dashed\"; color=\"#90a4ae\"; fontcolor=\"#546e7a\";",
            quote(&format!("namespace {ns}"))
        );
        for n in g.nodes.iter().filter(|n| n.namespace.as_deref() == Some(ns)) {
            let _ = writeln!(out, "    {} [{}];", quote(&n.id), node_attrs(n));
        }
        let _ = writeln!(out, "  }}");
    }
    for n in g.nodes.iter().filter(|n| n.namespace.is_none() && n.role != Role::Ingress) {
        let _ = writeln!(out, "  {} [{}];", quote(&n.id), node_attrs(n));
    }
    for e in &g.edges {
        let style = match e.state {
            State::Allowed => r##"color="#2e7d32", fontcolor="#2e7d32""##,
            State::Blocked => r##"color="#c62828", fontcolor="#c62828", style=dashed, penwidth=1.5"##,
            State::Unknown => r##"color="#ef6c00", fontcolor="#ef6c00", style=dotted"##,
        };
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, tooltip={}, {style}];",
            quote(&e.from),
            quote(&e.to),
            quote(&e.label()),
            quote(&format!(
                "{}{}",
                e.state.word(),
                if e.why.is_empty() { String::new() } else { format!(": {}", e.why) }
            ))
        );
    }
    let _ = writeln!(out, "}}");
    out
}
