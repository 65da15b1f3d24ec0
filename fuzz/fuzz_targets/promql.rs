//! Arbitrary text as PromQL, the way `kubeproof check` and `gen`'s proof
//! meet it: `model::promql::parse` bounds it before promql-parser runs, then
//! the checks walk the tree. Nothing may panic, overflow the stack or stall
//! (libFuzzer's `-timeout`), and a parsed tree is no larger than its text.
#![no_main]

use kubeproof::model::promql;
use libfuzzer_sys::fuzz_target;
use promql_parser::parser::Expr;
use promql_parser::util::{ExprVisitor, walk_expr};

/// Counts the nodes of a tree: a walk as deep as the tree, like the checks'.
struct Nodes(usize);

impl ExprVisitor for Nodes {
    type Error = ();
    fn pre_visit(&mut self, _: &Expr) -> Result<bool, ()> {
        self.0 += 1;
        Ok(true)
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match promql::parse(text) {
        Ok(Ok(expr)) => {
            let mut nodes = Nodes(0);
            let _ = walk_expr(&mut nodes, &expr);
            assert!(nodes.0 >= 1 && nodes.0 <= text.len(), "{} nodes from {} bytes", nodes.0, text.len());
        }
        Ok(Err(e)) => assert!(!e.is_empty()),
        Err(too_complex) => assert!(promql::bound(text).is_err() && !too_complex.to_string().is_empty()),
    }
});
