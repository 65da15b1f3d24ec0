use crate::model::Value;

use super::route_lists;
use crate::check::{Check, Context, Family, Meta, Reads, Severity, Sink};

/// KP504: the weights of a route's destinations do not add up to 100.
pub struct WeightsNot100;

static META: Meta = Meta {
    code: "KP504",
    name: "route-weights-do-not-sum",
    family: Family::Mesh,
    reads: Reads::Object,
    severity: Severity::Warning,
    summary: "the weights of a VirtualService route do not add up to 100",
    what: "For every HTTP, TCP and TLS route of a VirtualService with several destinations (or a weighted \
           one), adds up the `weight`s (a missing weight counts 0). Reports a sum other than 100; a sum of 0 \
           is an error, since no destination can receive traffic.",
    why: "Weights are read as percentages by the people who write them (a canary at 10%) but Istio (1.15 and \
          later) treats them as proportions: 90 and 25 send 21.7% to the canary, not 25%, and older Istio \
          rejects the route. A split edited on one side only is the usual cause. With every weight 0 Envoy \
          rejects the route configuration.",
    fix: "Make the weights of each route add up to 100 (e.g. 75 and 25).",
    fail: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: stable }
          weight: 90
        - destination: { host: reviews, subset: canary }
          weight: 25
    - route:
        - destination: { host: reviews, subset: stable }
  tcp:
    - route:
        - destination: { host: reviews, port: { number: 9000 } }
          weight: 100
"#,
    pass: r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: stable }
          weight: 75
        - destination: { host: reviews, subset: canary }
          weight: 25
    - route:
        - destination: { host: reviews, subset: stable }
  tcp:
    - route:
        - destination: { host: reviews, port: { number: 9000 } }
          weight: 100
"#,
};

impl Check for WeightsNot100 {
    fn meta(&self) -> &'static Meta {
        &META
    }

    fn run(&self, cx: &Context, out: &mut Sink) {
        for &i in cx.index.of_kind("VirtualService") {
            let o = &cx.objects[i];
            if o.group() != "networking.istio.io" {
                continue;
            }
            for (pointer, entries) in route_lists(&o.value) {
                let weights: Vec<Option<i64>> =
                    entries.iter().map(|e| e.get("weight").and_then(Value::as_i64)).collect();
                if entries.len() < 2 && weights.iter().all(Option::is_none) {
                    continue;
                }
                let sum: i64 = weights.iter().flatten().sum();
                if sum == 100 {
                    continue;
                }
                let shares: Vec<String> = entries
                    .iter()
                    .zip(&weights)
                    .map(|(e, w)| {
                        let d = e.get("destination");
                        let host = d.and_then(|d| d.get("host")).and_then(Value::as_str).unwrap_or("?");
                        let name = match d.and_then(|d| d.get("subset")).and_then(Value::as_str) {
                            Some(s) => format!("{host} subset {s}"),
                            None => host.to_string(),
                        };
                        let w = w.unwrap_or(0);
                        if sum > 0 { format!("{name} {:.1}%", w as f64 * 100.0 / sum as f64) } else { name }
                    })
                    .collect();
                if sum == 0 {
                    let f = out.report(
                        i,
                        pointer,
                        format!("no destination of this route has a weight above 0 ({})", shares.join(", ")),
                    );
                    f.severity = Severity::Error;
                    f.help("give each destination its percentage of the traffic; the weights must add up to 100");
                } else {
                    let at = weights
                        .iter()
                        .position(Option::is_some)
                        .map_or(pointer.clone(), |j| format!("{pointer}/{j}/weight"));
                    out.report(
                        i,
                        at,
                        format!(
                            "the weights of this route add up to {sum}, not 100: Istio sends {}",
                            shares.join(", ")
                        ),
                    )
                    .help("make the weights add up to 100 so that each one is the percentage it reads as");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_route_whose_weights_are_all_zero_names_its_destinations_without_shares() {
        let text = "apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews, namespace: shop }
spec:
  hosts: [reviews]
  http:
    - route:
        - { destination: { host: reviews, subset: stable }, weight: 0 }
        - { destination: { host: reviews, subset: canary }, weight: 0 }
";
        let (_, outcome) = crate::check::check_text("t.yaml", text, &crate::check::config::Config::default());
        let messages: Vec<&str> =
            outcome.findings.iter().filter(|f| f.code == "KP504").map(|f| f.message.as_str()).collect();
        assert_eq!(
            messages,
            ["no destination of this route has a weight above 0 (reviews subset stable, reviews subset canary)"]
        );
    }
}
