//! Where backups go: the bucket, the S3 endpoint, the Velero schedules.

use std::path::Path;

use super::{BackupTarget, defaults};
use crate::description::value::pos_of;
use crate::description::{Backup, Seconds, Velero, VeleroSchedule};
use crate::diag::{Diagnostic, Pos};

/// Checks `backup` and turns it into the resolved target.
pub(super) fn backup_target(b: &Backup, file: &Path, errors: &mut Vec<Diagnostic>) -> Option<BackupTarget> {
    let before = errors.len();
    let (bucket, prefix) = bucket_and_prefix(b, file, errors);
    let endpoint = endpoint(b, file, errors);
    let velero = b.velero.clone().unwrap_or_default();
    let schedules = velero_schedules(&velero, file, errors);
    if errors.len() > before {
        return None;
    }
    Some(BackupTarget {
        bucket,
        prefix,
        endpoint,
        credentials: b.credentials.as_ref().map_or(defaults::BACKUP_CREDENTIALS.to_string(), |c| c.to_string()),
        velero_namespace: velero.namespace.as_ref().map_or(defaults::VELERO_NAMESPACE.to_string(), |n| n.to_string()),
        velero: schedules,
    })
}

/// `s3://BUCKET/PREFIX`: the bucket and the prefix without slashes at its ends.
fn bucket_and_prefix(b: &Backup, file: &Path, errors: &mut Vec<Diagnostic>) -> (String, String) {
    let url = b.bucket.value.as_str();
    let (bucket, prefix) = match url.strip_prefix("s3://") {
        Some(rest) => rest.split_once('/').unwrap_or((rest, "")),
        None => ("", ""),
    };
    let bucket_ok = (3..=63).contains(&bucket.len())
        && bucket.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
        && bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
        && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
    let prefix = prefix.trim_matches('/');
    let prefix_ok = prefix.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_./".contains(&c));
    if !bucket_ok || !prefix_ok {
        errors.push(
            Diagnostic::error(file, pos_of(&b.bucket.referenced), format!("invalid backup bucket {url:?}")).with_help(
                "write `s3://BUCKET` or `s3://BUCKET/PREFIX` (bucket: 3-63 lower-case letters, digits, '-', '.')",
            ),
        );
    }
    (bucket.to_string(), prefix.to_string())
}

/// The URL of the S3 API: AWS's unless written.
fn endpoint(b: &Backup, file: &Path, errors: &mut Vec<Diagnostic>) -> String {
    let Some(e) = &b.endpoint else {
        return defaults::S3_ENDPOINT.to_string();
    };
    let v = e.value.trim_end_matches('/');
    let host = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://")).unwrap_or("");
    if host.is_empty() || host.contains(['/', ' ', '@']) {
        errors.push(
            Diagnostic::error(file, pos_of(&e.referenced), format!("invalid S3 endpoint {:?}", e.value))
                .with_help("write the URL of the S3 API, e.g. `https://minio.example.com:9000`"),
        );
    }
    v.to_string()
}

/// The Velero schedules written, as (kind, cron, ttl).
fn velero_schedules(velero: &Velero, file: &Path, errors: &mut Vec<Diagnostic>) -> Vec<(String, String, Seconds)> {
    let mut schedules = Vec::new();
    for (kind, s, default_at) in
        [("daily", &velero.daily, defaults::VELERO_DAILY_AT), ("hourly", &velero.hourly, defaults::VELERO_HOURLY_AT)]
    {
        let Some(s) = s else { continue };
        if let Some(cron) = velero_schedule(kind, s, default_at, file, errors) {
            schedules.push((kind.to_string(), cron, s.keep.value));
        }
    }
    schedules
}

/// The cron schedule of a `daily` ("HH:MM") or `hourly` (":MM") backup, kept
/// longer than its period.
fn velero_schedule(
    kind: &str,
    s: &VeleroSchedule,
    default_at: &str,
    file: &Path,
    errors: &mut Vec<Diagnostic>,
) -> Option<String> {
    let at = s.at.as_ref().map_or(default_at, |a| a.value.as_str());
    let at_pos = s.at.as_ref().map_or(Pos::UNKNOWN, |a| pos_of(&a.referenced));
    let cron = match (kind, at.split_once(':')) {
        ("daily", Some((h, m))) if h.len() == 2 && m.len() == 2 => match (h.parse::<u8>(), m.parse::<u8>()) {
            (Ok(h), Ok(m)) if h < 24 && m < 60 => Some(format!("{m} {h} * * *")),
            _ => None,
        },
        ("hourly", Some(("", m))) if m.len() == 2 => {
            m.parse::<u8>().ok().filter(|m| *m < 60).map(|m| format!("{m} * * * *"))
        }
        _ => None,
    };
    let Some(cron) = cron else {
        let want = if kind == "daily" { "\"HH:MM\" in UTC, e.g. \"02:00\"" } else { "\":MM\", e.g. \":30\"" };
        errors.push(
            Diagnostic::error(file, at_pos, format!("invalid time {at:?} for the {kind} Velero backup"))
                .with_help(format!("write {want}")),
        );
        return None;
    };
    let period = if kind == "daily" { 86_400 } else { 3600 };
    if s.keep.value.get() <= period {
        errors.push(
            Diagnostic::error(
                file,
                pos_of(&s.keep.referenced),
                format!("{kind} Velero backups kept {} expire before the next one", s.keep.value),
            )
            .with_help("keep them longer than the period, e.g. `keep: 7d`"),
        );
        return None;
    }
    Some(cron)
}
