//! Durations as written in a description: `30s`, `5m`, `1h30m`, `500ms`, or a
//! plain integer.
//!
//! Two types because Kubernetes fields differ: probe periods, timeouts and
//! grace periods are whole seconds ([`Seconds`]), latency targets are finer
//! ([`Millis`]). Parsing explains common mistakes (`30 sec`, `5min`) with a
//! fix, and the canonical text (`Display`) uses the largest exact unit.

use std::borrow::Cow;
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

const SECOND: u64 = 1000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Units in milliseconds, largest first (the order `Display` tries them).
const UNITS: [(&str, u64); 5] = [("d", DAY), ("h", HOUR), ("m", MINUTE), ("s", SECOND), ("ms", 1)];

const UNIT_LIST: &str = "use ms, s, m, h or d";

/// A duration in whole seconds (timeouts, probe periods, grace periods).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Seconds(u32);

/// A duration in milliseconds (latencies).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Millis(u64);

/// Why a text is not a duration, and the corrected text when there is an
/// obvious one.
struct Invalid {
    problem: String,
    fix: Option<String>,
}

impl Invalid {
    fn new(problem: impl Into<String>, fix: Option<String>) -> Self {
        Invalid { problem: problem.into(), fix }
    }

    fn render(self, input: &str) -> String {
        match self.fix {
            Some(fix) => format!("invalid duration {input:?}: {}; did you mean {fix:?}?", self.problem),
            None => format!("invalid duration {input:?}: {}", self.problem),
        }
    }
}

/// The precision a type keeps: what a plain number means, and the step a
/// value must be a whole multiple of.
#[derive(Clone, Copy)]
struct Grain {
    /// Milliseconds per step (1000 for [`Seconds`], 1 for [`Millis`]).
    step_ms: u64,
    /// The unit of `step_ms`, for messages and fixes.
    unit: &'static str,
    /// The largest value, in steps.
    max: u64,
}

const SECONDS: Grain = Grain { step_ms: SECOND, unit: "s", max: u32::MAX as u64 };
const MILLIS: Grain = Grain { step_ms: 1, unit: "ms", max: u64::MAX };

/// Canonical text of `steps` of `grain`: the largest unit that divides exactly.
fn canonical(steps: u64, grain: Grain) -> String {
    let ms = u128::from(steps) * u128::from(grain.step_ms);
    if ms == 0 {
        return format!("0{}", grain.unit);
    }
    for (unit, unit_ms) in UNITS {
        let unit_ms = u128::from(unit_ms);
        if ms.is_multiple_of(unit_ms) {
            return format!("{}{unit}", ms / unit_ms);
        }
    }
    // Unreachable: every whole number of milliseconds divides by 1ms.
    format!("{ms}ms")
}

/// A non-negative decimal: `digits / 10^frac`.
struct Decimal {
    digits: u128,
    frac: u32,
}

/// Reads `123` or `1.25` (no sign, no exponent, digits on both sides of the point).
fn parse_decimal(num: &str) -> Result<Decimal, &'static str> {
    let (int, frac) = num.split_once('.').unwrap_or((num, ""));
    if int.is_empty() || (num.contains('.') && frac.is_empty()) || frac.contains('.') {
        return Err("malformed");
    }
    // Trailing zeros after the point carry no value; dropping them keeps `1.000…0` in range.
    let frac = frac.trim_end_matches('0');
    let mut digits: u128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        digits = digits.checked_mul(10).and_then(|d| d.checked_add(u128::from(b - b'0'))).ok_or("too many digits")?;
    }
    Ok(Decimal { digits, frac: frac.len() as u32 })
}

/// The canonical unit (and its milliseconds) a written unit stands for.
/// `None` for units with no meaning here.
fn known_unit(unit: &str) -> Option<(&'static str, u64)> {
    let canonical = match unit.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millisecond" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        _ => return None,
    };
    UNITS.iter().copied().find(|(u, _)| *u == canonical)
}

/// Parses `s` into a number of `grain` steps.
fn parse(s: &str, grain: Grain) -> Result<u64, Invalid> {
    if s.trim().is_empty() {
        return Err(Invalid::new("it is empty; write e.g. \"30s\", \"5m\" or \"1h30m\"", None));
    }
    if s.contains(char::is_whitespace) {
        let joined: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        let fix = match parse(&joined, grain) {
            Ok(_) => Some(joined),
            Err(e) => e.fix,
        };
        return Err(Invalid::new("spaces are not allowed", fix));
    }
    if s.starts_with('-') {
        return Err(Invalid::new("a duration must not be negative", None));
    }

    // Split into (number, unit) parts: "1h30m" → [("1", "h"), ("30", "m")].
    let mut parts = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (num, tail) = rest.split_at(n);
        let u = tail.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(u);
        parts.push((num, unit));
        rest = tail;
    }

    // Every number needs a unit, except a lone plain number.
    let plain = matches!(parts.as_slice(), [(_, "")]);
    let mut total = Decimal { digits: 0, frac: 0 };
    let mut rewritten = String::new();
    let mut unknown = None;
    for &(num, unit) in &parts {
        let dec = match parse_decimal(num) {
            Ok(d) => d,
            Err("malformed") => {
                return Err(Invalid::new("expected a number and a unit, e.g. \"30s\", \"5m\" or \"1h30m\"", None));
            }
            Err(e) => return Err(Invalid::new(e, None)),
        };
        let unit_ms = if plain {
            grain.step_ms
        } else if unit.is_empty() {
            return Err(Invalid::new(format!("the number {num} needs a unit; {UNIT_LIST}"), None));
        } else {
            match known_unit(unit) {
                Some((canon, ms)) => {
                    if canon != unit && unknown.is_none() {
                        unknown = Some(unit);
                    }
                    rewritten.push_str(num);
                    rewritten.push_str(canon);
                    ms
                }
                None => {
                    return Err(Invalid::new(format!("unknown unit {unit:?}; {UNIT_LIST}"), None));
                }
            }
        };
        total = add_scaled(total, &dec, unit_ms).ok_or_else(|| Invalid::new("too long", None))?;
    }
    if let Some(unit) = unknown {
        let fix = match parse(&rewritten, grain) {
            Ok(_) => Some(rewritten),
            Err(e) => e.fix,
        };
        return Err(Invalid::new(format!("unknown unit {unit:?}; {UNIT_LIST}"), fix));
    }

    // total is digits / 10^frac milliseconds; convert to whole steps.
    let den = 10u128
        .checked_pow(total.frac)
        .and_then(|d| d.checked_mul(u128::from(grain.step_ms)))
        .ok_or_else(|| Invalid::new("too many digits", None))?;
    let steps = total.digits.div_ceil(den);
    if steps > u128::from(grain.max) {
        return Err(Invalid::new("too long", None));
    }
    let steps = steps as u64;
    if !total.digits.is_multiple_of(den) {
        let problem = if plain {
            format!("a number without a unit counts {}, so it must be whole", unit_name(grain))
        } else {
            format!("this takes whole {}", unit_name(grain))
        };
        return Err(Invalid::new(problem, Some(canonical(steps, grain))));
    }
    Ok(steps)
}

fn unit_name(grain: Grain) -> &'static str {
    if grain.step_ms == SECOND { "seconds" } else { "milliseconds" }
}

/// `acc + dec * unit_ms`, exactly, over a common power of ten.
fn add_scaled(acc: Decimal, dec: &Decimal, unit_ms: u64) -> Option<Decimal> {
    let frac = acc.frac.max(dec.frac);
    let widen = |d: u128, from: u32| d.checked_mul(10u128.checked_pow(frac - from)?);
    let a = widen(acc.digits, acc.frac)?;
    let b = widen(dec.digits.checked_mul(u128::from(unit_ms))?, dec.frac)?;
    Some(Decimal { digits: a.checked_add(b)?, frac })
}

// ---------------------------------------------------------------- Seconds

impl Seconds {
    pub const fn new(seconds: u32) -> Self {
        Seconds(seconds)
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    /// Reads `"30s"`, `"5m"`, `"1h30m"`, `"1d"` or plain seconds (`"30"`);
    /// the result must be whole seconds, as Kubernetes fields are.
    pub fn parse(s: &str) -> Result<Seconds, String> {
        // parse() caps the value at SECONDS.max, which is u32::MAX.
        parse(s, SECONDS).map(|v| Seconds(v as u32)).map_err(|e| e.render(s))
    }
}

impl FromStr for Seconds {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Seconds::parse(s)
    }
}

/// The largest single unit that divides exactly: `2m`, `1h`, `90m`, `90s`.
impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&canonical(u64::from(self.0), SECONDS))
    }
}

/// Saturating, like the other sums of the description.
impl Add for Seconds {
    type Output = Seconds;
    fn add(self, rhs: Seconds) -> Seconds {
        Seconds(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Seconds {
    fn add_assign(&mut self, rhs: Seconds) {
        *self = *self + rhs;
    }
}

impl Sum for Seconds {
    fn sum<I: Iterator<Item = Seconds>>(iter: I) -> Seconds {
        iter.fold(Seconds(0), Add::add)
    }
}

impl<'a> Sum<&'a Seconds> for Seconds {
    fn sum<I: Iterator<Item = &'a Seconds>>(iter: I) -> Seconds {
        iter.copied().sum()
    }
}

impl From<Seconds> for Millis {
    fn from(s: Seconds) -> Millis {
        Millis(u64::from(s.0) * SECOND)
    }
}

impl Serialize for Seconds {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts a string or a YAML integer of seconds (`timeout: 5`).
impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"30s\", \"5m\" or \"1h30m\", or a number of seconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Seconds, E> {
                Seconds::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Seconds, E> {
                u32::try_from(v).map(Seconds).map_err(|_| E::custom(format!("invalid duration {v}: too long")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Seconds, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("invalid duration {v}: a duration must not be negative"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Seconds, E> {
                // Display of f64 is the shortest exact form, never exponent notation.
                Seconds::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Seconds {
    fn schema_name() -> Cow<'static, str> {
        "Seconds".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "integer"],
            "pattern": "^([0-9]+|([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+)$",
            "minimum": 0,
            "description": "Whole seconds: a number, or with units such as \"30s\", \"5m\", \"1h30m\", \"1d\""
        })
    }
}

// ---------------------------------------------------------------- Millis

impl Millis {
    pub const fn new(millis: u64) -> Self {
        Millis(millis)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// Reads `"500ms"`, `"2s"`, `"1.5s"`, `"1m"` or plain milliseconds (`"500"`).
    pub fn parse(s: &str) -> Result<Millis, String> {
        parse(s, MILLIS).map(Millis).map_err(|e| e.render(s))
    }
}

impl FromStr for Millis {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Millis::parse(s)
    }
}

/// The largest single unit that divides exactly: `500ms`, `2s`, `1500ms`, `1m`.
impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&canonical(self.0, MILLIS))
    }
}

/// Saturating, like the other sums of the description.
impl Add for Millis {
    type Output = Millis;
    fn add(self, rhs: Millis) -> Millis {
        Millis(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Millis {
    fn add_assign(&mut self, rhs: Millis) {
        *self = *self + rhs;
    }
}

impl Sum for Millis {
    fn sum<I: Iterator<Item = Millis>>(iter: I) -> Millis {
        iter.fold(Millis(0), Add::add)
    }
}

impl<'a> Sum<&'a Millis> for Millis {
    fn sum<I: Iterator<Item = &'a Millis>>(iter: I) -> Millis {
        iter.copied().sum()
    }
}

impl Serialize for Millis {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts a string or a YAML integer of milliseconds (`p99: 250`).
impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Millis;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"500ms\", \"2s\" or \"1.5s\", or a number of milliseconds")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Millis, E> {
                Millis::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Millis, E> {
                Ok(Millis(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Millis, E> {
                match u64::try_from(v) {
                    Ok(v) => Ok(Millis(v)),
                    Err(_) => Err(E::custom(format!("invalid duration {v}: a duration must not be negative"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Millis, E> {
                // Display of f64 is the shortest exact form, never exponent notation.
                Millis::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Millis {
    fn schema_name() -> Cow<'static, str> {
        "Millis".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "integer"],
            "pattern": "^([0-9]+|([0-9]+(\\.[0-9]+)?(ms|s|m|h|d))+)$",
            "minimum": 0,
            "description": "Milliseconds: a number, or with units such as \"500ms\", \"2s\", \"1.5s\", \"1m\""
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: &str) -> Seconds {
        Seconds::parse(s).unwrap()
    }

    fn millis(s: &str) -> Millis {
        Millis::parse(s).unwrap()
    }

    #[test]
    fn seconds_parse() {
        for (text, n) in [
            ("30s", 30),
            ("5m", 300),
            ("2h", 7200),
            ("1d", 86_400),
            ("1h30m", 5400),
            ("1m30s", 90),
            ("1d2h", 93_600),
            ("5", 5),
            ("0", 0),
            ("1.5m", 90),
            ("2000ms", 2),
            ("4294967295", u32::MAX),
        ] {
            assert_eq!(secs(text).get(), n, "{text}");
        }
        assert_eq!("45s".parse::<Seconds>(), Ok(Seconds::new(45)));
    }

    #[test]
    fn seconds_display_is_canonical_and_round_trips() {
        for (n, text) in [
            (0, "0s"),
            (90, "90s"),
            (120, "2m"),
            (3600, "1h"),
            (86_400, "1d"),
            (5400, "90m"),
            (1, "1s"),
            (172_800, "2d"),
        ] {
            assert_eq!(Seconds::new(n).to_string(), text);
            assert_eq!(secs(text), Seconds::new(n));
        }
        assert_eq!(secs("1h30m").to_string(), "90m");
    }

    #[test]
    fn seconds_rejections_suggest_a_fix() {
        for (bad, hint, fix) in [
            ("500ms", "whole seconds", "1s"),
            ("1500ms", "whole seconds", "2s"),
            ("1.5s", "whole seconds", "2s"),
            ("1.5", "must be whole", "2s"),
            ("30 s", "spaces are not allowed", "30s"),
            ("1h 30m", "spaces are not allowed", "1h30m"),
            ("30sec", "unknown unit \"sec\"; use ms, s, m, h or d", "30s"),
            ("5min", "unknown unit \"min\"", "5m"),
            ("5 minutes", "spaces are not allowed", "5m"),
            ("2hrs", "unknown unit \"hrs\"", "2h"),
            ("1day", "unknown unit \"day\"", "1d"),
            ("30S", "unknown unit \"S\"", "30s"),
            ("1h30mins", "unknown unit \"mins\"", "1h30m"),
            ("500msec", "unknown unit \"msec\"", "1s"),
        ] {
            let e = Seconds::parse(bad).unwrap_err();
            assert!(e.starts_with(&format!("invalid duration {bad:?}: ")), "{e}");
            assert!(e.contains(hint), "{bad}: {e}");
            assert!(e.ends_with(&format!("did you mean {fix:?}?")), "{bad}: {e}");
        }
    }

    #[test]
    fn seconds_other_rejections() {
        let err = |s: &str| Seconds::parse(s).unwrap_err();
        assert!(err("").contains("empty"));
        assert!(err("-5s").contains("must not be negative"));
        assert!(err("abc").contains("expected a number"));
        assert!(err("s").contains("expected a number"));
        assert!(err("1h30").contains("the number 30 needs a unit"));
        assert!(err("3w").contains("unknown unit \"w\""));
        assert!(err("4294967296").contains("too long"));
        assert!(err("200y").contains("unknown unit"));
        assert!(!err("abc").contains("did you mean"));
    }

    #[test]
    fn millis_parse_and_display() {
        for (text, n) in [("500ms", 500), ("2s", 2000), ("1.5s", 1500), ("1m", 60_000), ("250", 250), ("1s250ms", 1250)]
        {
            assert_eq!(millis(text).get(), n, "{text}");
        }
        for (n, text) in [(0, "0ms"), (500, "500ms"), (2000, "2s"), (1500, "1500ms"), (60_000, "1m"), (3_600_000, "1h")]
        {
            assert_eq!(Millis::new(n).to_string(), text);
            assert_eq!(millis(text), Millis::new(n));
        }
        assert_eq!(Millis::from(Seconds::new(3)), Millis::new(3000));
    }

    #[test]
    fn millis_rejections_suggest_a_fix() {
        for (bad, hint, fix) in [
            ("0.5ms", "whole milliseconds", "1ms"),
            ("1.0005s", "whole milliseconds", "1001ms"),
            ("2.5", "must be whole", "3ms"),
            ("500 ms", "spaces are not allowed", "500ms"),
            ("2secs", "unknown unit \"secs\"", "2s"),
            ("100MS", "unknown unit \"MS\"", "100ms"),
        ] {
            let e = Millis::parse(bad).unwrap_err();
            assert!(e.contains(hint), "{bad}: {e}");
            assert!(e.ends_with(&format!("did you mean {fix:?}?")), "{bad}: {e}");
        }
        assert!(Millis::parse("-1ms").unwrap_err().contains("must not be negative"));
        assert!(Millis::parse("10us").unwrap_err().contains("unknown unit \"us\""));
    }

    #[test]
    fn arithmetic() {
        assert_eq!(secs("1m") + secs("30s"), secs("90s"));
        let total: Seconds = [secs("5s"), secs("10s")].iter().sum();
        assert_eq!(total, secs("15s"));
        assert_eq!(Seconds::new(u32::MAX) + Seconds::new(1), Seconds::new(u32::MAX));
        let total: Millis = vec![millis("1s"), millis("500ms")].into_iter().sum();
        assert_eq!(total, millis("1.5s"));
        assert!(secs("59s") < secs("1m"));
    }

    #[derive(Debug, Deserialize)]
    struct Probe {
        #[allow(dead_code)]
        path: String,
        timeout: Seconds,
        latency: Millis,
    }

    fn yaml(timeout: &str, latency: &str) -> Result<Probe, serde_saphyr::Error> {
        serde_saphyr::from_str(&format!("path: /healthz\ntimeout: {timeout}\nlatency: {latency}\n"))
    }

    #[test]
    fn deserializes_strings_and_numbers() {
        let p = yaml("30s", "250ms").unwrap();
        assert_eq!((p.timeout, p.latency), (secs("30s"), millis("250ms")));
        let p = yaml("5", "250").unwrap();
        assert_eq!((p.timeout, p.latency), (Seconds::new(5), Millis::new(250)));
        let p = yaml("1h30m", "\"1.5s\"").unwrap();
        assert_eq!((p.timeout, p.latency), (secs("90m"), millis("1500ms")));
    }

    #[test]
    fn bad_values_carry_their_position() {
        let e = yaml("500ms", "1s").unwrap_err();
        let loc = e.location().expect("a location");
        assert_eq!((loc.line(), loc.column()), (2, 10));
        assert!(e.to_string().contains("did you mean \"1s\"?"), "{e}");

        let e = yaml("5s", "2secs").unwrap_err();
        let loc = e.location().expect("a location");
        assert_eq!((loc.line(), loc.column()), (3, 10));
        assert!(e.to_string().contains("did you mean \"2s\"?"), "{e}");

        let e = yaml("-5", "1s").unwrap_err();
        assert!(e.to_string().contains("must not be negative"), "{e}");
        assert_eq!(e.location().map(|l| l.line()), Some(2));

        let e = yaml("1.5", "1s").unwrap_err();
        assert!(e.to_string().contains("did you mean \"2s\"?"), "{e}");
    }

    #[test]
    fn serializes_canonically() {
        assert_eq!(serde_json::to_string(&Seconds::new(5400)).unwrap(), "\"90m\"");
        assert_eq!(serde_json::to_string(&Millis::new(1500)).unwrap(), "\"1500ms\"");
    }

    #[test]
    fn schema_allows_string_or_integer() {
        for s in [schemars::schema_for!(Seconds), schemars::schema_for!(Millis)] {
            let s = serde_json::to_value(s).unwrap();
            assert_eq!(s["type"], serde_json::json!(["string", "integer"]));
            assert!(s["pattern"].is_string() && s["description"].is_string());
        }
    }
}
