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

#[cfg(test)]
mod tests {
    use super::{every, interval};

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
}
