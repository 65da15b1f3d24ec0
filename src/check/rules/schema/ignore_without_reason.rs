use crate::check::config::{IGNORE, ignores};
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP004: an ignore annotation without a reason, or naming no known check.
pub struct IgnoreWithoutReason;

static META: Meta = Meta {
    code: "KP004",
    name: "ignore-without-reason",
    family: Family::Schema,
    reads: Reads::Object,
    severity: Severity::Error,
    summary: "a kubeproof.dev/ignore annotation gives no reason or names an unknown check",
    what: "Reads every `kubeproof.dev/ignore` annotation (`KP123: reason; KP456: reason`) and reports \
           entries without a reason, and entries naming a code that no check has.",
    why: "An ignore without a reason cannot be reviewed: a year later nobody knows whether the \
          exception still holds. An unknown code silences nothing, so the finding it meant to \
          silence is still reported (or the code was mistyped).",
    fix: "Write the reason after the code: `kubeproof.dev/ignore: \"KP105: the agent needs the host network\"`.",
    fail: r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    kubeproof.dev/ignore: "KP003"
"#,
    pass: r#"
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  annotations:
    kubeproof.dev/ignore: "KP003: defined twice on purpose while migrating"
"#,
};

impl Check for IgnoreWithoutReason {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        let pointer = format!("/metadata/annotations/{}", crate::model::pointer::escape(IGNORE));
        for (i, o) in cx.objects.iter().enumerate() {
            for ig in ignores(o) {
                if crate::check::rules::find(&ig.code).is_none() {
                    let codes = crate::check::rules::registry().iter().map(|c| c.meta().code);
                    let f = out.report(i, &pointer, format!("`{}` is not a kubeproof check", ig.code));
                    if let Some(s) = crate::diag::did_you_mean(&ig.code, codes) {
                        f.help(format!("did you mean `{s}`?"));
                    }
                } else if ig.reason.is_empty() {
                    out.report(i, &pointer, format!("the ignore of {} gives no reason", ig.code))
                        .help(format!("write `{}: <why this object is an exception>`", ig.code));
                }
            }
        }
    }
}
