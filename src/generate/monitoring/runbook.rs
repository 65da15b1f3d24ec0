//! The runbook sections of the alerts: one per alert name, in the order the
//! names first appear in the rules, listing every rule of that name.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::super::RunbookSection;
use super::alert::{Alert, Group};

pub(super) fn sections(groups: &[Group]) -> Vec<RunbookSection> {
    let mut by_name: BTreeMap<&str, (Vec<&Alert>, usize)> = BTreeMap::new();
    let mut order = 0;
    for a in groups.iter().flat_map(|g| &g.alerts) {
        by_name.entry(a.name.as_str()).or_insert_with(|| {
            order += 1;
            (Vec::new(), order)
        });
        if let Some(e) = by_name.get_mut(a.name.as_str()) {
            e.0.push(a);
        }
    }
    let mut list: Vec<(&str, Vec<&Alert>, usize)> = by_name.into_iter().map(|(k, (v, o))| (k, v, o)).collect();
    list.sort_by_key(|x| x.2);
    list.into_iter()
        .map(|(name, alerts, _)| {
            let [means, checks, fix] = alerts[0].runbook;
            let mut body = String::new();
            let mut sevs: Vec<&str> = alerts.iter().map(|a| a.severity.as_str()).collect();
            sevs.sort();
            sevs.dedup();
            let _ = writeln!(body, "**Severity:** {}\n", sevs.join(", "));
            let _ = writeln!(body, "**What it means.** {means}\n");
            let _ = writeln!(body, "**Where and when it fires:**\n");
            for a in &alerts {
                let _ = writeln!(body, "- {}", a.scope);
            }
            let _ = writeln!(body, "\n**First checks.** {checks}\n");
            let _ = write!(body, "**Fix.** {fix}");
            RunbookSection { title: name.to_string(), body }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::alert::{Test, lbl};
    use super::*;
    use crate::description::alerts::Severity;

    fn alert(name: &str, severity: Severity, scope: &str) -> Alert {
        Alert {
            name: name.into(),
            expr: "vector(1)".into(),
            for_seconds: 0,
            severity,
            labels: lbl(&[]),
            summary: String::new(),
            description: String::new(),
            runbook: ["it means", "look here", "do this"],
            scope: scope.into(),
            test: Test { interval: 60, fire: vec![], quiet: vec![], at: 0, out: lbl(&[]), also_quiet: Vec::new() },
        }
    }

    #[test]
    fn one_section_per_name_in_first_appearance_order_listing_every_rule() {
        let alerts = vec![
            alert("ServiceDown", Severity::Critical, "`api`"),
            alert("CrashLooping", Severity::Warning, "`api` restarts"),
            alert("ServiceDown", Severity::Warning, "`web`"),
        ];
        let g = Group { name: "g".into(), alerts, ..Group::default() };
        let s = sections(&[g]);
        let titles: Vec<&str> = s.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["ServiceDown", "CrashLooping"]);
        assert!(s[0].body.starts_with("**Severity:** critical, warning\n"), "{}", s[0].body);
        assert!(s[0].body.contains("- `api`\n- `web`\n"), "{}", s[0].body);
        assert!(s[0].body.contains("**What it means.** it means"));
        assert!(s[0].body.ends_with("**Fix.** do this"));
    }
}
