//! The report of `kubeproof check` (issue 14): its size follows the number
//! of findings, not the length of the input's lines, and it is written as it
//! is rendered rather than built whole. Measured before (release build):
//! a 50 MB image name peaked at 1.38 GB (quoted whole in findings and
//! snippets), 100,000 containers in one workload at 2.1 GB (2.9 GB as
//! SARIF), 40,000 Deployments at 1.5 GB (1.7 GB as SARIF).

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use super::harness::{Run, kp, temp, write};

const FORMATS: [&str; 4] = ["text", "json", "sarif", "junit"];

/// A Deployment whose pod's `containers:` is `containers` (indented for a
/// block sequence under it, or a flow sequence after it).
fn deployment(name: &str, containers: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:{containers}\n"
    )
}

/// `kubeproof check --format FORMAT FILE`, under a memory bound in MiB.
fn check(dir: &Path, format: &str, file: &Path, max_mib: u64) -> Run {
    let args = [OsStr::new("check"), OsStr::new("--format"), OsStr::new(format), file.as_os_str()];
    let run = kp(dir, args).max_rss_mib(max_mib).run();
    assert_eq!(run.code, 1, "{format}: exit code\n{}", run.stderr);
    run
}

#[test]
fn a_long_value_is_quoted_short_in_every_format() {
    let dir = temp();
    let image = "x".repeat(2_000_000);
    let file = write(dir.path(), "long.yaml", deployment("d", &format!("\n      - name: c\n        image: {image}")));
    let short = write(dir.path(), "short.yaml", deployment("d", "\n      - name: c\n        image: x"));
    let clipped = format!("{}…", "x".repeat(kubeproof::diag::QUOTE_MAX - 1));
    for format in FORMATS {
        // Before: 10 MB of text (the image twice per finding quoting it).
        let run = check(dir.path(), format, &file, 64);
        let base = check(dir.path(), format, &short, 64).stdout.len();
        assert!(run.stdout.len() < base + (8 << 10), "{format}: {} bytes, {base} with a short image", run.stdout.len());
        assert!(run.stdout.contains(&clipped), "{format}: no clipped image in\n{}", run.stdout);
        assert!(run.stdout.contains("(2000000 characters)"), "{format}: no length in\n{}", run.stdout);
    }
    let text = check(dir.path(), "text", &file, 64).stdout;
    // The snippet of the image's line is a window of it, cut where it goes on.
    let (line, _) = shown(&text, 17);
    assert!(line.starts_with("17 |         image: xxxxxxxxxx") && line.ends_with("x..."), "{line}");
    assert!(text.lines().all(|l| l.len() < 1000), "a long line in\n{text}");
}

/// The line numbered `n` of a rendered snippet and the line under it.
fn shown(text: &str, n: usize) -> (&str, &str) {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(&format!("{n} | ")));
    (lines.next().unwrap_or_else(|| panic!("no line {n} in\n{text}")), lines.next().unwrap_or_default())
}

/// One line holding `n` containers, with the column of the last one's `name`.
fn flow_line(n: usize) -> (String, usize) {
    let items: Vec<String> = (0..n).map(|i| format!("{{name: c{i}, image: x}}")).collect();
    let line = format!(" [{}]", items.join(", "));
    let column = line.rfind("{name:").map(|i| "      containers:".len() + i + 2).expect("an item");
    (deployment("d", &line), column)
}

#[test]
fn a_long_line_is_shown_as_a_window_around_the_column() {
    let dir = temp();
    let n = 2_000;
    let (text, column) = flow_line(n);
    let file = write(dir.path(), "flow.yaml", text);
    // Before: each of the 18,000 findings walked the 50 KB line (minutes).
    let run =
        kp(dir.path(), [OsStr::new("check"), file.as_os_str()]).limit(Duration::from_secs(20)).max_rss_mib(200).run();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let last = n - 1;
    let message = format!("Deployment/default/d: container `c{last}` does not set `allowPrivilegeEscalation: false`");
    let at = run.stdout.find(&message).unwrap_or_else(|| panic!("no finding on c{last}"));
    let finding = &run.stdout[at..run.stdout[at..].find("\n\n").map_or(run.stdout.len(), |e| at + e)];
    // The place is the line's, the snippet the end of the line, the caret
    // under the key.
    assert!(finding.contains(&format!("/flow.yaml:15:{column}\n")), "{finding}");
    let (line, carets) = shown(finding, 15);
    assert!(line.starts_with("15 | ...") && line.ends_with(&format!("{{name: c{last}, image: x}}]")), "{finding}");
    let key = line.rfind("{name:").expect("the last item") + 1;
    assert_eq!(carets.find("^^^^"), Some(key), "{finding}");
    assert!(run.stdout.lines().all(|l| l.len() < 1000), "a long line in the report");
}

/// A Deployment of `n` containers (one line each).
fn many_containers(n: usize) -> String {
    let items: String = (0..n).map(|i| format!("\n      - {{name: c{i}, image: x}}")).collect();
    deployment("d", &items)
}

/// `n` Deployments of four containers without resources.
fn many_deployments(n: usize) -> String {
    let containers: String = (0..4).map(|i| format!("\n      - {{name: c{i}, image: nginx}}")).collect();
    (0..n).map(|i| deployment(&format!("d{i}"), &containers)).collect()
}

/// The number of findings in a report (JUnit: its failures and infos).
fn findings(run: &Run, format: &str) -> usize {
    match format {
        "json" => serde_json::from_str::<serde_json::Value>(&run.stdout).expect("JSON")["findings"]
            .as_array()
            .map_or(0, Vec::len),
        "sarif" => serde_json::from_str::<serde_json::Value>(&run.stdout).expect("SARIF")["runs"][0]["results"]
            .as_array()
            .map_or(0, Vec::len),
        "junit" => run.stdout.matches("<failure ").count() + run.stdout.matches(": info[KP").count(),
        _ => run.stdout.lines().filter(|l| ["error[", "warning[", "info["].iter().any(|s| l.starts_with(s))).count(),
    }
}

// Debug build, peak before -> after (MiB): text 133 -> 66, JSON 112 -> 62,
// SARIF 184 -> 62, JUnit 99 -> 62.
#[test]
fn many_findings_in_one_workload_are_streamed() {
    let dir = temp();
    let file = write(dir.path(), "containers.yaml", many_containers(4_000));
    for format in FORMATS {
        // 36,003 findings; before, the report was held whole (2.1 GB for 100,000 containers).
        let run = check(dir.path(), format, &file, 90);
        assert_eq!(findings(&run, format), 36_003, "{format}");
    }
}

// Debug build, peak before -> after (MiB): text 157 -> 81, JSON 124 -> 85,
// SARIF 213 -> 83, JUnit 113 -> 82.
#[test]
fn many_workloads_are_streamed() {
    let dir = temp();
    let file = write(dir.path(), "deployments.yaml", many_deployments(1_000));
    for format in FORMATS {
        // 38,001 findings; before, 1.5 GB for 40,000 Deployments (1.7 GB as SARIF).
        let run = check(dir.path(), format, &file, 100);
        assert_eq!(findings(&run, format), 38_001, "{format}");
    }
}
