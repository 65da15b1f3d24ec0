//! The budget for people (an aligned table, as `kubectl top` prints) and for
//! programs (JSON).
//!
//! The JSON report is stable: an object with `environments` (or `manifests`
//! for manifests), each with `capacity` (`cpuMillis`, `memoryBytes`,
//! `storageBytes`, `nodes`; null when unknown), `namespaces` (name → `min`,
//! `max`, `batch`, each of [`crate::model::resources::Amounts`]: `pods`, `cpuRequestsMillis`,
//! `cpuLimitsMillis`, `memoryRequestsBytes`, `memoryLimitsBytes`,
//! `storageBytes`, `containersWithoutCpuLimit`,
//! `containersWithoutMemoryLimit`, `containersWithoutRequests`), `total`
//! (the same), `workloads`, `exceeds` (`resource`, `scale`, `requested`,
//! `capacity`) and, when something exceeds, `suggestions`.

use std::fmt::Write;

use super::EnvBudget;
use crate::model::resources::{
    Amounts, Budget, Capacity, Excess, Resource, Scale, bytes_text as bytes, cpu_text as cpu,
};

fn signed(r: Resource, v: i64) -> String {
    if v == 0 {
        return "0".into();
    }
    let sign = if v > 0 { "-" } else { "+" };
    format!("{sign}{}", r.show(v.unsigned_abs()))
}

fn pair(min: String, max: String) -> String {
    if min == max { min } else { format!("{min} / {max}") }
}

/// One table row's cells.
fn cells(name: &str, min: &Amounts, max: &Amounts) -> Vec<String> {
    let lim = |v: String, unlimited: u64| match unlimited {
        0 => v,
        _ if v == "0" || v == "0m" => "none".to_string(),
        _ => format!("{v}+"),
    };
    vec![
        name.to_string(),
        pair(min.pods.to_string(), max.pods.to_string()),
        pair(cpu(min.cpu_requests_millis), cpu(max.cpu_requests_millis)),
        pair(
            lim(cpu(min.cpu_limits_millis), min.containers_without_cpu_limit),
            lim(cpu(max.cpu_limits_millis), max.containers_without_cpu_limit),
        ),
        pair(bytes(min.memory_requests_bytes), bytes(max.memory_requests_bytes)),
        pair(
            lim(bytes(min.memory_limits_bytes), min.containers_without_memory_limit),
            lim(bytes(max.memory_limits_bytes), max.containers_without_memory_limit),
        ),
        pair(bytes(min.storage_bytes), bytes(max.storage_bytes)),
    ]
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().filter_map(|r| r.get(c)).map(|s| s.chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c > 0 {
                line.push_str("   ");
            }
            let pad = widths[c].saturating_sub(cell.chars().count());
            line.push_str(cell);
            line.push_str(&" ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The namespaces table of a budget, with totals and the capacity.
pub fn budget_table(b: &Budget, capacity: &Capacity) -> String {
    let mut rows = vec![
        ["NAMESPACE", "PODS", "CPU REQUESTS", "CPU LIMITS", "MEMORY REQUESTS", "MEMORY LIMITS", "STORAGE"]
            .map(String::from)
            .to_vec(),
    ];
    for (ns, u) in &b.namespaces {
        rows.push(cells(ns, &u.min, &u.max));
    }
    rows.push(cells("total", &b.total.min, &b.total.max));
    if !capacity.is_empty() {
        let show = |v: Option<u64>, f: fn(u64) -> String| v.map_or_else(|| "?".to_string(), f);
        rows.push(vec![
            "capacity".into(),
            String::new(),
            show(capacity.cpu_millis, cpu),
            String::new(),
            show(capacity.memory_bytes, bytes),
            String::new(),
            show(capacity.storage_bytes, bytes),
        ]);
    }
    let mut out = table(&rows);
    out.push_str(
        "(MIN / MAX: at minimum and at maximum scale — HPA minReplicas / maxReplicas; one figure when equal)\n",
    );
    let t = &b.total.max;
    if t.containers_without_cpu_limit + t.containers_without_memory_limit > 0 {
        out.push_str("(+: some containers have no limit; the sum is a lower bound)\n");
    }
    if b.total.min.containers_without_requests > 0 {
        let _ = writeln!(
            out,
            "({} container(s) at minimum scale have no requests and no LimitRange default: not counted)",
            b.total.min.containers_without_requests
        );
    }
    let sidecars: u64 = b.workloads.iter().filter(|w| w.istio_sidecar && !w.batch).map(|w| w.min_replicas).sum();
    if sidecars > 0 {
        let _ = writeln!(out, "(includes the Istio sidecar of {sidecars} pod(s) at minimum scale)");
    }
    let batch: Vec<String> = b
        .namespaces
        .iter()
        .filter(|(_, u)| u.batch.pods > 0)
        .map(|(ns, u)| {
            format!(
                "{ns} {} pod(s) {} {}",
                u.batch.pods,
                cpu(u.batch.cpu_requests_millis),
                bytes(u.batch.memory_requests_bytes)
            )
        })
        .collect();
    if !batch.is_empty() {
        let _ = writeln!(out, "batch (Jobs and CronJobs, one run each, not in the totals): {}", batch.join("; "));
    }
    out
}

/// One line per excess.
pub fn excess_lines(exceeds: &[Excess], capacity: &Capacity) -> String {
    let mut out = String::new();
    for scale in [Scale::Min, Scale::Max] {
        let here: Vec<&Excess> = exceeds.iter().filter(|e| e.scale == scale).collect();
        if here.is_empty() {
            if scale == Scale::Min && !capacity.is_empty() {
                let _ = writeln!(out, "at minimum scale: the requests fit the capacity");
            }
            continue;
        }
        for e in here {
            let r = e.resource;
            let verb = if r == Resource::Storage { "exceeds" } else { "exceed" };
            let _ = writeln!(
                out,
                "at {} scale: {} {} {verb} the capacity {} by {} ({}%)",
                scale.as_str(),
                r.as_str(),
                r.show(e.requested),
                r.show(e.capacity),
                r.show(e.over()),
                e.requested * 100 / e.capacity.max(1)
            );
        }
    }
    out
}

fn suggestions_text(s: &super::suggest::Suggestions) -> String {
    let mut out = String::new();
    if s.options.is_empty() {
        out.push_str("no option of the description brings it within capacity\n");
        return out;
    }
    let _ = writeln!(
        out,
        "options of the description, each applied alone and the budget recomputed (change of the totals at {} scale):",
        s.scale.as_str()
    );
    let mut rows =
        vec![["  CHANGE", "CPU REQUESTS", "MEMORY REQUESTS", "STORAGE", "ALL FIT"].map(String::from).to_vec()];
    for o in &s.options {
        rows.push(vec![
            format!("  {}", o.change),
            signed(Resource::Cpu, o.saves_cpu_millis),
            signed(Resource::Memory, o.saves_memory_bytes),
            signed(Resource::Storage, o.saves_storage_bytes),
            if o.fits { "yes".into() } else { "no".into() },
        ]);
    }
    out.push_str(&table(&rows));
    if s.options.iter().any(|o| o.fits) {
        return out;
    }
    if s.combinations.is_empty() {
        out.push_str("no single option fits, nor any two or three of them together\n");
    } else {
        out.push_str("no single option fits; together these do (each verified):\n");
        for c in &s.combinations {
            let _ = writeln!(out, "  - {}", c.join(" + "));
        }
    }
    out
}

/// The table report of a description's environments.
pub fn environments_text(envs: &[EnvBudget]) -> String {
    let mut out = String::new();
    for (i, e) in envs.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "environment {}{}", e.environment, capacity_text(&e.capacity));
        out.push_str(&budget_table(&e.budget, &e.capacity));
        out.push_str(&excess_lines(&e.exceeds, &e.capacity));
        if let Some(s) = &e.suggestions {
            out.push_str(&suggestions_text(s));
        }
    }
    out
}

/// The table report of manifests.
pub fn manifests_text(b: &Budget, capacity: &Capacity) -> String {
    let exceeds = b.excesses(capacity);
    let mut out = String::new();
    if !capacity.is_empty() {
        let _ = writeln!(out, "manifests{}", capacity_text(capacity));
    }
    out.push_str(&budget_table(b, capacity));
    out.push_str(&excess_lines(&exceeds, capacity));
    out
}

fn capacity_text(c: &Capacity) -> String {
    if c.is_empty() {
        return " (no capacity declared: give --capacity cpu=…,memory=…,storage=…)".into();
    }
    let mut parts = Vec::new();
    if let Some(v) = c.cpu_millis {
        parts.push(format!("{} CPU", cpu(v)));
    }
    if let Some(v) = c.memory_bytes {
        parts.push(format!("{} memory", bytes(v)));
    }
    if let Some(v) = c.storage_bytes {
        parts.push(format!("{} storage", bytes(v)));
    }
    if let Some(v) = c.nodes {
        parts.push(format!("{v} nodes"));
    }
    format!(": cluster capacity {}", parts.join(", "))
}

/// The JSON report of a description's environments.
pub fn environments_json(envs: &[EnvBudget]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({ "environments": envs })).unwrap_or_default() + "\n"
}

/// The JSON report of manifests.
pub fn manifests_json(b: &Budget, capacity: &Capacity) -> String {
    let v = serde_json::json!({
        "manifests": {
            "capacity": capacity,
            "namespaces": b.namespaces,
            "total": b.total,
            "workloads": b.workloads,
            "exceeds": b.excesses(capacity),
        }
    });
    serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
}
