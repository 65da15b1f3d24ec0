//! Cron schedules for periodic jobs (backups): writing one for a period, and
//! reading the period back from one (the backup alerts need it for schedules
//! they did not write).

/// A schedule for "every `seconds`", or `None` when cron cannot write it
/// (periods that do not divide an hour or a day). The minute of hourly and
/// daily schedules is spread by `spread` (a datastore's name), so that the
/// backups of several datastores do not all start at once.
pub fn every(seconds: u32, spread: &str) -> Option<String> {
    let minute = spread.bytes().map(u32::from).sum::<u32>() % 60;
    match seconds {
        0 => None,
        86_400 => Some(format!("{minute} 3 * * *")),
        s if s % 3600 == 0 && s < 86_400 && 24 % (s / 3600) == 0 => match s / 3600 {
            1 => Some(format!("{minute} * * * *")),
            h => Some(format!("{minute} */{h} * * *")),
        },
        s if s % 60 == 0 && s < 3600 && 60 % (s / 60) == 0 => Some(format!("*/{} * * * *", s / 60)),
        _ => None,
    }
}

/// Seconds between runs of a cron schedule, for the common forms
/// (`*/N * * * *`, `M * * * *`, `M */N * * *`, `M H * * *`, `M H * * D`).
pub fn interval(schedule: &str) -> Option<u32> {
    let f: Vec<&str> = schedule.split_whitespace().collect();
    let [min, hour, dom, mon, dow] = f.as_slice() else { return None };
    let step = |s: &str| s.strip_prefix("*/").and_then(|n| n.parse::<u32>().ok()).filter(|n| *n > 0);
    let fixed = |s: &str| s.parse::<u32>().is_ok();
    if *dom != "*" || *mon != "*" {
        return None;
    }
    // A step that does not divide the hour (day) leaves a shorter gap at its
    // end; a day of the week only combines with a fixed time of day.
    let period = match (*min, *hour) {
        (m, "*") if step(m).is_some() => step(m).filter(|n| 60 % n == 0).map(|n| n * 60)?,
        (m, "*") if fixed(m) => 3600,
        (m, h) if fixed(m) && step(h).is_some() => step(h).filter(|n| 24 % n == 0).map(|n| n * 3600)?,
        (m, h) if fixed(m) && fixed(h) => 86400,
        _ => return None,
    };
    match *dow {
        "*" => Some(period),
        d if fixed(d) && period == 86400 => Some(7 * 86400),
        _ => None,
    }
}

/// A schedule that never comes due (31 February), for a suspended CronJob
/// kept as a template to start Jobs from by hand: resuming it by mistake
/// still starts nothing, and it has no period for alerts to time.
pub const NEVER: &str = "0 0 31 2 *";

/// The macros Kubernetes' cron parser accepts in place of five fields.
const MACROS: [&str; 7] = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"];

/// Checks a CronJob schedule as Kubernetes reads it (five fields: minute,
/// hour, day of month, month, day of week; each `*`, `?`, a value, a range
/// `a-b`, a step `/n` or a list of these; names for months and days), or
/// one of the macros (`@daily`, `@hourly`…). Err: what is wrong, in words. The API server refuses
/// the CronJob otherwise, long after `gen`.
pub fn check(schedule: &str) -> Result<(), String> {
    let s = schedule.trim();
    if s.starts_with('@') {
        return if MACROS.contains(&s) {
            Ok(())
        } else {
            Err(format!("unknown schedule macro `{s}` (known: {})", MACROS.join(", ")))
        };
    }
    if s.starts_with("TZ=") || s.starts_with("CRON_TZ=") {
        return Err("a time zone in the schedule is refused by Kubernetes; use `timeZone`".into());
    }
    let fields: Vec<&str> = s.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "a schedule has 5 fields (minute hour day-of-month month day-of-week), not {}",
            fields.len()
        ));
    }
    const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
    const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    let specs: [(&str, u32, u32, &[&str]); 5] = [
        ("minute", 0, 59, &[]),
        ("hour", 0, 23, &[]),
        ("day of month", 1, 31, &[]),
        ("month", 1, 12, &MONTHS),
        ("day of week", 0, 6, &DAYS),
    ];
    for (field, (what, lo, hi, names)) in fields.iter().zip(specs) {
        for part in field.split(',') {
            check_part(part, lo, hi, names).map_err(|e| format!("{what} `{field}`: {e}"))?;
        }
    }
    Ok(())
}

/// One element of a list: `*`/`?`, `v`, `a-b`, each optionally `/step`.
fn check_part(part: &str, lo: u32, hi: u32, names: &[&str]) -> Result<(), String> {
    let (range, step) = match part.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (part, None),
    };
    if let Some(step) = step
        && !step.parse::<u32>().is_ok_and(|n| n > 0)
    {
        return Err(format!("step `{step}` is not a positive number"));
    }
    let value = |v: &str| -> Result<u32, String> {
        let named = names.iter().position(|n| n.eq_ignore_ascii_case(v)).map(|i| i as u32 + lo);
        let n = named.or_else(|| v.parse::<u32>().ok()).ok_or_else(|| format!("`{v}` is not a number"))?;
        if (lo..=hi).contains(&n) { Ok(n) } else { Err(format!("{n} is outside {lo}-{hi}")) }
    };
    match range {
        "*" | "?" => Ok(()),
        r => match r.split_once('-') {
            Some((a, b)) if value(a)? <= value(b)? => Ok(()),
            Some((a, b)) => Err(format!("range `{a}-{b}` runs backwards")),
            None => value(r).map(|_| ()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{check, every, interval};

    /// The backup alerts read a CronJob's period back from its schedule: every
    /// schedule `backup.every` can produce must read back as that period.
    #[test]
    fn backup_schedules_read_back_as_their_period() {
        let mut accepted = 0;
        for seconds in (60..=86_400).step_by(60) {
            let Ok(cron) = every(seconds, "postgres").ok_or(()) else { continue };
            accepted += 1;
            assert_eq!(interval(&cron), Some(seconds), "every {seconds}s is written `{cron}`");
        }
        // 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 minutes; 1, 2, 3, 4, 6, 8, 12 hours; 1 day.
        assert_eq!(accepted, 19);
        for (name, seconds) in [("postgres", 4 * 3600), ("redis", 1800), ("db", 3600), ("db", 86_400)] {
            let cron = every(seconds, name).unwrap_or_default();
            assert_eq!(interval(&cron), Some(seconds), "{name} every {seconds}s: `{cron}`");
        }
    }

    #[test]
    fn never_is_a_valid_schedule_without_a_period() {
        assert_eq!(check(super::NEVER), Ok(()));
        assert_eq!(interval(super::NEVER), None);
    }

    #[test]
    fn interval_refuses_what_it_cannot_time() {
        for cron in [
            "0 3 1 * *",
            "0 3 * 1 *",
            "0,30 * * * *",
            "0 3 * * 1-5",
            "*/7",
            "*/7 * * * *",
            "0 */5 * * *",
            "*/5 * * * 1",
            "",
        ] {
            assert_eq!(interval(cron), None, "{cron}");
        }
        assert_eq!(interval("15 3 * * 0"), Some(7 * 86_400));
    }

    #[test]
    fn schedules_kubernetes_accepts_and_refuses() {
        for ok in ["*/15 * * * *", "30 2 * * *", "0 3 * * mon-fri", "0 0 1 jan,jul ?", "5-55/10 * * * 0", "@daily"] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        let err = |s: &str| check(s).expect_err(s);
        assert!(err("* * * *").contains("5 fields"), "{}", err("* * * *"));
        assert!(err("60 * * * *").contains("minute `60`: 60 is outside 0-59"), "{}", err("60 * * * *"));
        assert!(err("0 24 * * *").contains("hour"));
        assert!(err("0 0 0 * *").contains("day of month"));
        assert!(err("0 0 * 13 *").contains("month `13`"));
        assert!(err("0 0 * * 7").contains("day of week"));
        assert!(err("*/0 * * * *").contains("step `0`"));
        assert!(err("0 5-2 * * *").contains("backwards"));
        assert!(err("x * * * *").contains("`x` is not a number"));
        assert!(err("@every 5m").contains("unknown schedule macro"));
        assert!(err("TZ=UTC 0 0 * * *").contains("timeZone"));
    }
}
