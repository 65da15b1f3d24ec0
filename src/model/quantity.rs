//! CPU and byte quantities as written in a description (`cpu: 250m`,
//! `memory: 512Mi`).
//!
//! Values are kept as integers (millicores, bytes) so that sums and comparisons
//! are exact; the canonical text (`Display`) is what goes into manifests.
//! Parsing is stricter than Kubernetes and explains common mistakes with a fix,
//! because Kubernetes itself reads `512m` as half a byte and rejects `5GB` only
//! at apply time.

use std::borrow::Cow;
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign};
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// 2^10 bytes.
pub const KI: u64 = 1 << 10;
/// 2^20 bytes.
pub const MI: u64 = 1 << 20;
/// 2^30 bytes.
pub const GI: u64 = 1 << 30;

/// Binary suffixes and their power of 1024, smallest first.
const BINARY: [(&str, u32); 6] = [("Ki", 1), ("Mi", 2), ("Gi", 3), ("Ti", 4), ("Pi", 5), ("Ei", 6)];
/// Decimal suffixes and their power of 1000, smallest first.
const DECIMAL: [(&str, u32); 6] = [("k", 1), ("M", 2), ("G", 3), ("T", 4), ("P", 5), ("E", 6)];

const CPU_FORMS: &str = "write cores (\"0.5\", \"2\") or millicores (\"250m\")";

/// CPU in millicores (`1` core = `1000m`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cpu(u64);

/// Memory or storage in bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes(pub u64);

/// Why a text is not a quantity, and the corrected text when there is an
/// obvious one. Rendered into one message by [`Invalid::render`].
struct Invalid {
    problem: String,
    fix: Option<String>,
}

impl Invalid {
    fn new(problem: impl Into<String>, fix: Option<String>) -> Self {
        Invalid { problem: problem.into(), fix }
    }

    fn render(self, what: &str, input: &str) -> String {
        match self.fix {
            Some(fix) => format!("invalid {what} {input:?}: {}; did you mean {fix:?}?", self.problem),
            None => format!("invalid {what} {input:?}: {}", self.problem),
        }
    }
}

/// A non-negative decimal: `digits / 10^frac`.
struct Decimal {
    digits: u128,
    frac: u32,
}

impl Decimal {
    /// `self * mult`, rounded up, or `None` on overflow of `u64`. Also tells
    /// whether the result was exact.
    fn times(&self, mult: u64) -> Option<(u64, bool)> {
        let num = self.digits.checked_mul(u128::from(mult))?;
        let den = 10u128.checked_pow(self.frac)?;
        let value = u64::try_from(num.div_ceil(den)).ok()?;
        Some((value, num.is_multiple_of(den)))
    }
}

/// Splits `"1.5Gi"` into `("1.5", "Gi")`.
fn split_number(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    s.split_at(end)
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

/// Removes all whitespace, for the "did you mean" of `"10 Gi"`.
fn without_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

// ---------------------------------------------------------------- Cpu

impl Cpu {
    pub const fn from_millis(millis: u64) -> Self {
        Cpu(millis)
    }

    pub const fn millis(self) -> u64 {
        self.0
    }

    /// Reads `"250m"`, `"2"` or `"0.5"` (at most three decimal places, the
    /// precision Kubernetes keeps).
    pub fn parse(s: &str) -> Result<Cpu, String> {
        parse_cpu(s).map(Cpu).map_err(|e| e.render("CPU quantity", s))
    }

    /// `self * n`, or `None` on overflow.
    pub fn checked_times(self, n: u32) -> Option<Self> {
        self.0.checked_mul(u64::from(n)).map(Cpu)
    }

    /// `self * n`, saturating at the largest value.
    pub fn times(self, n: u32) -> Self {
        Cpu(self.0.saturating_mul(u64::from(n)))
    }

    /// Scales by `factor` (expected positive), rounding up to a whole millicore
    /// so that a scaled-down environment never asks for less than intended,
    /// and never to zero from a non-zero value.
    pub fn scale(self, factor: f64) -> Self {
        Cpu(scale_up(self.0, factor, 1))
    }
}

fn parse_cpu(s: &str) -> Result<u64, Invalid> {
    if s.trim().is_empty() {
        return Err(Invalid::new(format!("it is empty; {CPU_FORMS}"), None));
    }
    if s.contains(char::is_whitespace) {
        let joined = without_spaces(s);
        let fix = match parse_cpu(&joined) {
            Ok(_) => Some(joined),
            Err(e) => e.fix,
        };
        return Err(Invalid::new("spaces are not allowed", fix));
    }
    if s.starts_with('-') {
        return Err(Invalid::new("CPU must not be negative", None));
    }
    let (num, unit) = split_number(s);
    let dec = match parse_decimal(num) {
        Ok(d) => d,
        Err("malformed") => {
            return Err(Invalid::new(format!("expected a number; {CPU_FORMS}"), None));
        }
        Err(e) => return Err(Invalid::new(e, None)),
    };
    let too_large = || Invalid::new("too large", None);
    match unit {
        "" => {
            let (millis, exact) = dec.times(1000).ok_or_else(too_large)?;
            if !exact {
                let fix = Cpu(millis).to_string();
                return Err(Invalid::new("CPU is counted in whole millicores, so at most 3 decimal places", Some(fix)));
            }
            Ok(millis)
        }
        "m" => {
            let (millis, exact) = dec.times(1).ok_or_else(too_large)?;
            if !exact {
                let fix = Cpu(millis).to_string();
                return Err(Invalid::new("millicores must be a whole number", Some(fix)));
            }
            Ok(millis)
        }
        "M" => Err(Invalid::new(
            "\"M\" means mega (a million cores); millicores are a lowercase \"m\"",
            Some(format!("{num}m")),
        )),
        _ => {
            let lower = unit.to_ascii_lowercase();
            match lower.as_str() {
                "mc" | "mcpu" | "milli" | "millis" | "millicore" | "millicores" | "millicpu" => {
                    Err(Invalid::new("write millicores with a lowercase \"m\"", Some(format!("{num}m"))))
                }
                "c" | "core" | "cores" | "cpu" | "cpus" | "vcpu" | "vcpus" => {
                    Err(Invalid::new("write cores as a plain number, without a unit", Some(num.to_string())))
                }
                _ => Err(Invalid::new(format!("unknown CPU unit {unit:?}; {CPU_FORMS}"), None)),
            }
        }
    }
}

/// `value * factor` rounded up to a multiple of `step`, at least `step` when
/// `value` is non-zero. Products within a relative 1e-9 of a multiple count as
/// that multiple, so that `100 * 1.1` is 110 and not 111.
fn scale_up(value: u64, factor: f64, step: u64) -> u64 {
    if value == 0 {
        return 0;
    }
    let x = value as f64 * factor / step as f64;
    let nearest = x.round();
    let steps = if (x - nearest).abs() <= 1e-9 * x.abs().max(1.0) { nearest } else { x.ceil() };
    // `as` saturates (and maps NaN to 0), which is what we want here.
    (steps as u64).max(1).saturating_mul(step)
}

impl FromStr for Cpu {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Cpu::parse(s)
    }
}

/// Whole cores as `"2"`, anything else as millicores (`"1500m"`), the forms
/// Kubernetes itself prints.
impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1000) { write!(f, "{}", self.0 / 1000) } else { write!(f, "{}m", self.0) }
    }
}

/// Saturating: a sum of requests that overflows is far beyond any cluster anyway.
impl Add for Cpu {
    type Output = Cpu;
    fn add(self, rhs: Cpu) -> Cpu {
        Cpu(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Cpu {
    fn add_assign(&mut self, rhs: Cpu) {
        *self = *self + rhs;
    }
}

impl Sum for Cpu {
    fn sum<I: Iterator<Item = Cpu>>(iter: I) -> Cpu {
        iter.fold(Cpu(0), Add::add)
    }
}

impl<'a> Sum<&'a Cpu> for Cpu {
    fn sum<I: Iterator<Item = &'a Cpu>>(iter: I) -> Cpu {
        iter.copied().sum()
    }
}

impl Serialize for Cpu {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts a string or a YAML number (`cpu: 4`, `cpu: 0.5`).
impl<'de> Deserialize<'de> for Cpu {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Cpu;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("CPU as cores (0.5, 2) or millicores (\"250m\")")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Cpu, E> {
                Cpu::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Cpu, E> {
                v.checked_mul(1000).map(Cpu).ok_or_else(|| E::custom(format!("invalid CPU quantity {v}: too large")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Cpu, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("invalid CPU quantity {v}: CPU must not be negative"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Cpu, E> {
                // Display of f64 is the shortest exact form, never exponent notation.
                Cpu::parse(&v.to_string()).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Cpu {
    fn schema_name() -> Cow<'static, str> {
        "Cpu".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "number"],
            "pattern": "^([0-9]+(\\.[0-9]{1,3})?|[0-9]+m)$",
            "minimum": 0,
            "description": "CPU: cores as a number or string (0.5, \"2\") or millicores (\"250m\")"
        })
    }
}

// ---------------------------------------------------------------- Bytes

impl Bytes {
    pub const fn new(bytes: u64) -> Self {
        Bytes(bytes)
    }

    pub const fn get(self) -> u64 {
        self.0
    }

    /// Reads `"512Mi"`, `"10G"`, `"1.5Gi"` or plain bytes (`"1048576"`).
    pub fn parse(s: &str) -> Result<Bytes, String> {
        parse_bytes(s).map(Bytes).map_err(|e| e.render("quantity", s))
    }

    /// `self * n`, or `None` on overflow.
    pub fn checked_times(self, n: u32) -> Option<Self> {
        self.0.checked_mul(u64::from(n)).map(Bytes)
    }

    /// `self * n`, saturating at the largest value.
    pub fn times(self, n: u32) -> Self {
        Bytes(self.0.saturating_mul(u64::from(n)))
    }

    /// Scales by `factor` (expected positive), rounding up: to a whole Mi when
    /// the value is at least 1Mi, so the result prints as a round size, else to
    /// a whole byte. Never zero from a non-zero value.
    pub fn scale(self, factor: f64) -> Self {
        let step = if self.0 >= MI { MI } else { 1 };
        Bytes(scale_up(self.0, factor, step))
    }
}

fn parse_bytes(s: &str) -> Result<u64, Invalid> {
    if s.trim().is_empty() {
        return Err(Invalid::new("it is empty; write a size such as \"512Mi\" or \"10Gi\"", None));
    }
    if s.contains(char::is_whitespace) {
        let joined = without_spaces(s);
        let fix = match parse_bytes(&joined) {
            Ok(_) => Some(joined),
            Err(e) => e.fix,
        };
        return Err(Invalid::new("spaces are not allowed", fix));
    }
    if s.starts_with('-') {
        return Err(Invalid::new("a size must not be negative", None));
    }
    let (num, unit) = split_number(s);
    let dec = match parse_decimal(num) {
        Ok(d) => d,
        Err("malformed") => {
            return Err(Invalid::new("expected a number with an optional unit, such as \"512Mi\" or \"10Gi\"", None));
        }
        Err(e) => return Err(Invalid::new(e, None)),
    };
    let Some(mult) = unit_multiplier(unit) else {
        let mut e = unit_mistake(num, unit);
        // Only suggest what would itself be accepted (`1.3GB` → `1.3Gi` is not whole bytes).
        e.fix = e.fix.filter(|f| parse_bytes(f).is_ok());
        return Err(e);
    };
    let (bytes, exact) = dec.times(mult).ok_or_else(|| Invalid::new("too large", None))?;
    if !exact {
        return Err(Invalid::new("that is not a whole number of bytes", Some(bytes.to_string())));
    }
    Ok(bytes)
}

/// The multiplier of a valid Kubernetes suffix.
fn unit_multiplier(unit: &str) -> Option<u64> {
    if unit.is_empty() {
        return Some(1);
    }
    let pow = |base: u64, p: u32| base.pow(p);
    BINARY
        .iter()
        .find(|(u, _)| *u == unit)
        .map(|&(_, p)| pow(1024, p))
        .or_else(|| DECIMAL.iter().find(|(u, _)| *u == unit).map(|&(_, p)| pow(1000, p)))
}

/// Explains an unknown suffix. `GB`, `gi`, `mb`, `g`… are read as meant in
/// binary units, the usual intent for memory.
fn unit_mistake(num: &str, unit: &str) -> Invalid {
    if unit == "m" {
        return Invalid::new(
            "\"m\" means thousandths (milli), so this is a fraction of a byte",
            Some(format!("{num}Mi")),
        );
    }
    let lower = unit.to_ascii_lowercase();
    if matches!(lower.as_str(), "b" | "byte" | "bytes") {
        return Invalid::new("a plain number is already bytes; write no unit", Some(num.to_string()));
    }
    let stem = lower
        .strip_suffix("ib")
        .or_else(|| lower.strip_suffix('b'))
        .or_else(|| lower.strip_suffix('i'))
        .unwrap_or(&lower);
    if let Some(i) = ["k", "m", "g", "t", "p", "e"].iter().position(|l| *l == stem) {
        let (binary, _) = BINARY[i];
        let (decimal, p) = DECIMAL[i];
        return Invalid::new(
            format!("unknown unit {unit:?}; use {binary} (2^{}) or {decimal} (10^{})", 10 * p, 3 * p),
            Some(format!("{num}{binary}")),
        );
    }
    Invalid::new(
        format!(
            "unknown unit {unit:?}; use Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024) \
             or k, M, G, T, P, E (powers of 1000)"
        ),
        None,
    )
}

impl FromStr for Bytes {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Bytes::parse(s)
    }
}

/// The largest binary unit that divides exactly, else the largest decimal
/// one, else plain bytes: `512Mi`, `5G`, `1536`.
impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b != 0 {
            let binary = BINARY.iter().rev().map(|&(u, p)| (u, 1024u64.pow(p)));
            let decimal = DECIMAL.iter().rev().map(|&(u, p)| (u, 1000u64.pow(p)));
            for (unit, mult) in binary.chain(decimal) {
                if b.is_multiple_of(mult) {
                    return write!(f, "{}{unit}", b / mult);
                }
            }
        }
        write!(f, "{b}")
    }
}

/// Saturating: a sum of sizes that overflows is far beyond any cluster anyway.
impl Add for Bytes {
    type Output = Bytes;
    fn add(self, rhs: Bytes) -> Bytes {
        Bytes(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Bytes {
    fn add_assign(&mut self, rhs: Bytes) {
        *self = *self + rhs;
    }
}

impl Sum for Bytes {
    fn sum<I: Iterator<Item = Bytes>>(iter: I) -> Bytes {
        iter.fold(Bytes(0), Add::add)
    }
}

impl<'a> Sum<&'a Bytes> for Bytes {
    fn sum<I: Iterator<Item = &'a Bytes>>(iter: I) -> Bytes {
        iter.copied().sum()
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Accepts a string or a YAML number of bytes (`memory: 1073741824`).
impl<'de> Deserialize<'de> for Bytes {
    /// Sizes in a description need a unit: `memory: 512` or `storage: 20`
    /// would be bytes, which is never meant (0 needs none).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size such as \"512Mi\" or \"10Gi\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes, E> {
                let t = v.trim();
                let number = !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.');
                if number && t.chars().any(|c| c.is_ascii_digit() && c != '0') {
                    return Err(E::custom(unitless(t)));
                }
                Bytes::parse(v).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Bytes, E> {
                if v == 0 { Ok(Bytes(0)) } else { Err(E::custom(unitless(&v.to_string()))) }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Bytes, E> {
                match u64::try_from(v) {
                    Ok(v) => self.visit_u64(v),
                    Err(_) => Err(E::custom(format!("invalid quantity {v}: a size must not be negative"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Bytes, E> {
                // Display of f64 is the shortest exact form, never exponent notation.
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

/// The error for a size written without a unit.
fn unitless(v: &str) -> String {
    format!("the size {v} has no unit, so it would be {v} bytes: write \"{v}Mi\" or \"{v}Gi\"")
}

impl JsonSchema for Bytes {
    fn schema_name() -> Cow<'static, str> {
        "Bytes".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": ["string", "integer"],
            "pattern": "^(0|[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E))$",
            "minimum": 0,
            "description": "A size with a unit: Ki, Mi, Gi, Ti, Pi, Ei (powers of 1024) or k, M, \
                            G, T, P, E (powers of 1000), e.g. \"512Mi\" (a number alone would be bytes)"
        })
    }
}

/// A Kubernetes quantity as manifests write it, read the way the API
/// server does (unlike [`Cpu::parse`] and [`Bytes::parse`], which are strict
/// about descriptions): (`250m`, `1.5`, `512Mi`, `1e3`, `2G`) in
/// billionths of its unit, exactly (so `1100m` equals `1.1`); YAML numbers
/// are accepted too. `None` when it does not parse or is out of range.
pub fn nanos(v: &crate::model::Value) -> Option<i128> {
    let s = match v {
        crate::model::Value::Number(n) => n.to_string(),
        crate::model::Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    let (sign, s) = match s.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, s.strip_prefix('+').unwrap_or(&s)),
    };
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, suffix) = s.split_at(end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let mantissa: i128 = digits.parse().ok()?;
    let (ten, two): (i32, u32) = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        e => (e.strip_prefix(['e', 'E'])?.parse().ok()?, 0),
    };
    let exponent = 9 + ten - i32::try_from(fraction.len()).ok()?;
    let mut value = mantissa.checked_mul(1i128.checked_shl(two)?)?;
    if exponent >= 0 {
        value = value.checked_mul(10i128.checked_pow(u32::try_from(exponent).ok()?)?)?;
    } else {
        value /= 10i128.checked_pow(exponent.unsigned_abs())?;
    }
    Some(sign * value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cpu(s: &str) -> Cpu {
        Cpu::parse(s).unwrap()
    }

    fn bytes(s: &str) -> Bytes {
        Bytes::parse(s).unwrap()
    }

    fn cpu_err(s: &str) -> String {
        Cpu::parse(s).unwrap_err()
    }

    fn bytes_err(s: &str) -> String {
        Bytes::parse(s).unwrap_err()
    }

    #[test]
    fn cpu_parses_cores_and_millicores() {
        assert_eq!(cpu("250m").millis(), 250);
        assert_eq!(cpu("1").millis(), 1000);
        assert_eq!(cpu("2").millis(), 2000);
        assert_eq!(cpu("0.5").millis(), 500);
        assert_eq!(cpu("1.5").millis(), 1500);
        assert_eq!(cpu("0.125").millis(), 125);
        assert_eq!(cpu("0").millis(), 0);
        assert_eq!(cpu("2.000").millis(), 2000);
        assert_eq!("100m".parse::<Cpu>(), Ok(Cpu::from_millis(100)));
    }

    #[test]
    fn cpu_display_is_canonical_and_round_trips() {
        for (millis, text) in [(0, "0"), (250, "250m"), (1000, "1"), (2000, "2"), (1500, "1500m"), (1, "1m")] {
            let c = Cpu::from_millis(millis);
            assert_eq!(c.to_string(), text);
            assert_eq!(cpu(text), c);
        }
        assert_eq!(cpu("0.5").to_string(), "500m");
        assert_eq!(cpu("2000m").to_string(), "2");
    }

    #[test]
    fn cpu_rejections_explain_and_suggest() {
        let e = cpu_err("250M");
        assert!(e.contains("millicores are a lowercase \"m\""), "{e}");
        assert!(e.ends_with("did you mean \"250m\"?"), "{e}");

        let e = cpu_err("1 core");
        assert!(e.starts_with("invalid CPU quantity \"1 core\": spaces are not allowed"), "{e}");
        assert!(e.ends_with("did you mean \"1\"?"), "{e}");

        let e = cpu_err("2cores");
        assert!(e.contains("plain number") && e.ends_with("did you mean \"2\"?"), "{e}");

        let e = cpu_err("250 m");
        assert!(e.ends_with("did you mean \"250m\"?"), "{e}");

        let e = cpu_err("0.0005");
        assert!(e.contains("at most 3 decimal places") && e.ends_with("did you mean \"1m\"?"), "{e}");

        let e = cpu_err("0.5m");
        assert!(e.contains("whole number") && e.ends_with("did you mean \"1m\"?"), "{e}");

        assert!(cpu_err("-1").contains("must not be negative"));
        assert!(cpu_err("-250m").contains("must not be negative"));
        assert!(cpu_err("").contains("empty"));
        assert!(cpu_err("abc").contains("expected a number"));
        assert!(cpu_err("1.").contains("expected a number"));
        assert!(cpu_err("2x").contains("unknown CPU unit \"x\""));
        assert!(cpu_err("99999999999999999999").contains("too large"));
        assert!(!cpu_err("abc").contains("did you mean"));
    }

    #[test]
    fn bytes_parse_all_units() {
        assert_eq!(bytes("1Ki").0, 1024);
        assert_eq!(bytes("512Mi").0, 512 * MI);
        assert_eq!(bytes("5Gi").0, 5 * GI);
        assert_eq!(bytes("1Ti").0, 1 << 40);
        assert_eq!(bytes("1Pi").0, 1 << 50);
        assert_eq!(bytes("1Ei").0, 1 << 60);
        assert_eq!(bytes("1k").0, 1000);
        assert_eq!(bytes("1M").0, 1_000_000);
        assert_eq!(bytes("5G").0, 5_000_000_000);
        assert_eq!(bytes("1T").0, 1_000_000_000_000);
        assert_eq!(bytes("1P").0, 10u64.pow(15));
        assert_eq!(bytes("1E").0, 10u64.pow(18));
        assert_eq!(bytes("1048576").0, MI);
        assert_eq!(bytes("1.5Gi").0, 3 * GI / 2);
        assert_eq!(bytes("0.5Ki").0, 512);
        assert_eq!(bytes("2.50G").0, 2_500_000_000);
        assert_eq!(bytes("0").0, 0);
        assert_eq!("10Gi".parse::<Bytes>(), Ok(Bytes(10 * GI)));
    }

    #[test]
    fn bytes_display_is_canonical_and_round_trips() {
        for (b, text) in [
            (0, "0"),
            (536_870_912, "512Mi"),
            (5_000_000_000, "5G"),
            (1536, "1536"),
            (1024, "1Ki"),
            (1_024_000, "1000Ki"),
            (1000, "1k"),
            (GI, "1Gi"),
            (3 * GI / 2, "1536Mi"),
            (1 << 60, "1Ei"),
            (7, "7"),
        ] {
            assert_eq!(Bytes(b).to_string(), text);
            assert_eq!(bytes(text), Bytes(b));
        }
    }

    #[test]
    fn bytes_common_mistakes_suggest_the_fix() {
        assert_eq!(
            bytes_err("5Gb"),
            "invalid quantity \"5Gb\": unknown unit \"Gb\"; use Gi (2^30) or G (10^9); did you mean \"5Gi\"?"
        );
        for (bad, fix, hint) in [
            ("5GB", "5Gi", "use Gi (2^30) or G (10^9)"),
            ("5gi", "5Gi", "use Gi (2^30) or G (10^9)"),
            ("5GiB", "5Gi", "use Gi (2^30) or G (10^9)"),
            ("512mb", "512Mi", "use Mi (2^20) or M (10^6)"),
            ("512MB", "512Mi", "use Mi (2^20) or M (10^6)"),
            ("1g", "1Gi", "use Gi (2^30) or G (10^9)"),
            ("64KB", "64Ki", "use Ki (2^10) or k (10^3)"),
            ("64K", "64Ki", "use Ki (2^10) or k (10^3)"),
            ("2TB", "2Ti", "use Ti (2^40) or T (10^12)"),
            ("10 Gi", "10Gi", "spaces are not allowed"),
            ("10 GB", "10Gi", "spaces are not allowed"),
            ("512m", "512Mi", "\"m\" means thousandths"),
            ("512B", "512", "already bytes"),
            ("1.3Ki", "1332", "not a whole number of bytes"),
        ] {
            let e = bytes_err(bad);
            assert!(e.starts_with(&format!("invalid quantity {bad:?}: ")), "{e}");
            assert!(e.contains(hint), "{bad}: {e}");
            assert!(e.ends_with(&format!("did you mean {fix:?}?")), "{bad}: {e}");
        }
    }

    #[test]
    fn bytes_other_rejections() {
        assert!(bytes_err("").contains("empty"));
        assert!(bytes_err("   ").contains("empty"));
        assert!(bytes_err("-1Gi").contains("must not be negative"));
        assert!(bytes_err("abc").contains("expected a number"));
        assert!(bytes_err("Gi").contains("expected a number"));
        assert!(bytes_err("1..5Gi").contains("expected a number"));
        assert!(bytes_err("5Xi").contains("unknown unit \"Xi\"; use Ki, Mi"));
        assert!(bytes_err("1e3").contains("unknown unit"));
        assert!(bytes_err("16Ei").contains("too large"));
        // No suggestion that would itself be rejected.
        let e = bytes_err("1.3GB");
        assert!(!e.contains("did you mean"), "{e}");
    }

    #[test]
    fn arithmetic() {
        assert_eq!(Cpu::from_millis(250) + Cpu::from_millis(750), Cpu::from_millis(1000));
        let total: Cpu = [cpu("100m"), cpu("0.5")].iter().sum();
        assert_eq!(total, Cpu::from_millis(600));
        let total: Bytes = vec![bytes("512Mi"), bytes("512Mi")].into_iter().sum();
        assert_eq!(total, bytes("1Gi"));
        let mut b = Bytes(1);
        b += Bytes(2);
        assert_eq!(b, Bytes(3));
        assert_eq!(cpu("250m").times(3), cpu("750m"));
        assert_eq!(bytes("1Gi").times(4), bytes("4Gi"));
        assert_eq!(Bytes(u64::MAX).times(2), Bytes(u64::MAX));
        assert_eq!(Bytes(u64::MAX).checked_times(2), None);
        assert_eq!(Cpu::from_millis(u64::MAX).checked_times(2), None);
        assert_eq!(Cpu::from_millis(u64::MAX) + Cpu::from_millis(1), Cpu::from_millis(u64::MAX));
        assert!(cpu("250m") < cpu("1"));
        assert!(bytes("1G") < bytes("1Gi"));
    }

    #[test]
    fn scale_rounds_up() {
        assert_eq!(cpu("100m").scale(0.5), cpu("50m"));
        assert_eq!(cpu("100m").scale(1.1), cpu("110m"));
        assert_eq!(cpu("100m").scale(0.333), cpu("34m"));
        assert_eq!(cpu("1m").scale(0.1), cpu("1m"));
        assert_eq!(cpu("0").scale(2.0), cpu("0"));
        assert_eq!(cpu("2").scale(2.0), cpu("4"));

        assert_eq!(bytes("128Mi").scale(0.5), bytes("64Mi"));
        assert_eq!(bytes("100Mi").scale(0.333), bytes("34Mi"));
        assert_eq!(bytes("1Mi").scale(0.01), bytes("1Mi"));
        assert_eq!(bytes("1Gi").scale(1.1).to_string(), "1127Mi");
        assert_eq!(bytes("1000").scale(0.5), Bytes(500));
        assert_eq!(Bytes(3).scale(0.1), Bytes(1));
        assert_eq!(Bytes(0).scale(3.0), Bytes(0));
        assert_eq!(Bytes(u64::MAX).scale(2.0), Bytes(u64::MAX));
    }

    #[derive(Debug, Deserialize)]
    struct Res {
        #[allow(dead_code)]
        name: String,
        cpu: Cpu,
        memory: Bytes,
    }

    fn yaml(cpu: &str, memory: &str) -> Result<Res, serde_saphyr::Error> {
        serde_saphyr::from_str(&format!("name: web\ncpu: {cpu}\nmemory: {memory}\n"))
    }

    #[test]
    fn deserializes_strings_and_numbers() {
        let r = yaml("250m", "512Mi").unwrap();
        assert_eq!((r.cpu, r.memory), (cpu("250m"), bytes("512Mi")));
        let r = yaml("4", "1Gi").unwrap();
        assert_eq!((r.cpu, r.memory), (cpu("4"), bytes("1Gi")));
        let r = yaml("0.5", "\"1Gi\"").unwrap();
        assert_eq!((r.cpu, r.memory), (cpu("500m"), bytes("1Gi")));
        let r = yaml("\"2\"", "'5G'").unwrap();
        assert_eq!((r.cpu, r.memory), (cpu("2"), bytes("5G")));
        let r = yaml("1.5", "0").unwrap();
        assert_eq!((r.cpu, r.memory), (cpu("1500m"), Bytes(0)));
    }

    #[test]
    fn sizes_need_a_unit() {
        // `memory: 512` would be 512 bytes: never what is meant.
        for (memory, shown) in [("512", "512"), ("\"512\"", "512"), ("1.5", "1.5"), ("1e9", "1000000000")] {
            let e = yaml("1", memory).unwrap_err();
            let want = format!("the size {shown} has no unit, so it would be {shown} bytes: write \"{shown}Mi\"");
            assert!(e.to_string().contains(&want), "{memory}: {e}");
            assert_eq!(e.location().map(|l| (l.line(), l.column())), Some((3, 9)), "{memory}");
        }
    }

    #[test]
    fn bad_values_carry_their_position() {
        let e = yaml("250m", "5Gb").unwrap_err();
        let loc = e.location().expect("a location");
        assert_eq!((loc.line(), loc.column()), (3, 9));
        assert!(e.to_string().contains("did you mean \"5Gi\"?"), "{e}");

        let e = yaml("250M", "1Gi").unwrap_err();
        let loc = e.location().expect("a location");
        assert_eq!((loc.line(), loc.column()), (2, 6));
        assert!(e.to_string().contains("did you mean \"250m\"?"), "{e}");

        let e = yaml("-1", "1Gi").unwrap_err();
        assert!(e.to_string().contains("must not be negative"), "{e}");
        assert_eq!(e.location().map(|l| l.line()), Some(2));

        let e = yaml("1", "-5").unwrap_err();
        assert!(e.to_string().contains("must not be negative"), "{e}");
        let e = yaml("1", "1.0005k").unwrap_err();
        assert!(e.to_string().contains("not a whole number of bytes"), "{e}");
        let e = yaml("0.0001", "1Gi").unwrap_err();
        assert!(e.to_string().contains("did you mean \"1m\"?"), "{e}");
    }

    #[test]
    fn serializes_canonically() {
        assert_eq!(serde_json::to_string(&cpu("0.5")).unwrap(), "\"500m\"");
        assert_eq!(serde_json::to_string(&bytes("1024Mi")).unwrap(), "\"1Gi\"");
    }

    #[test]
    fn schema_allows_string_or_number() {
        let s = serde_json::to_value(schemars::schema_for!(Bytes)).unwrap();
        assert_eq!(s["type"], serde_json::json!(["string", "integer"]));
        assert!(s["pattern"].is_string() && s["description"].is_string());
        let s = serde_json::to_value(schemars::schema_for!(Cpu)).unwrap();
        assert_eq!(s["type"], serde_json::json!(["string", "number"]));
        assert!(s["pattern"].is_string() && s["description"].is_string());
    }

    #[test]
    fn quantities_compare_exactly() {
        let q = |v: serde_json::Value| nanos(&v.into());
        assert_eq!(q(serde_json::json!("1100m")), q(serde_json::json!("1.1")));
        assert_eq!(q(serde_json::json!(1)), q(serde_json::json!("1000m")));
        assert_eq!(q(serde_json::json!(0.5)), q(serde_json::json!("500m")));
        assert_eq!(q(serde_json::json!("1Ki")), q(serde_json::json!("1024")));
        assert_eq!(q(serde_json::json!("1e3")), q(serde_json::json!("1k")));
        assert_eq!(q(serde_json::json!("1E")), q(serde_json::json!("1e18")));
        assert!(q(serde_json::json!("1Gi")) > q(serde_json::json!("1000Mi")));
        assert!(q(serde_json::json!("1G")) < q(serde_json::json!("1Gi")));
        assert_eq!(q(serde_json::json!("-1")), Some(-1_000_000_000));
        for bad in [
            serde_json::json!("abc"),
            serde_json::json!("1 Gi"),
            serde_json::json!(""),
            serde_json::json!("."),
            serde_json::json!("1GB"),
            serde_json::json!([1]),
            serde_json::json!(null),
        ] {
            assert_eq!(q(bad.clone()), None, "{bad}");
        }
    }
}
