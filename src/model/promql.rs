//! PromQL bounded before it is parsed. promql-parser builds a tree as deep
//! as the expression's chains of operators and brackets, then recurses over
//! it: dropping it, and its type check, which asks every new operator node
//! for the type of its operands by walking down them again (quadratic in a
//! chain's length). 150,000 `up ^ up ^ …` overflow the main thread's stack,
//! 40,000 a worker's; 40,000 `up + up + …` take 44 s. [`bound`] refuses
//! what could, in one linear pass over the text, so every caller parses
//! only expressions whose tree is at most [`MAX_OPERATORS`] deep.
//!
//! The limits are far above real expressions: the longest of the corpus
//! and of the examples' generated rules is 720 bytes, with 11 operators and
//! brackets nested 6 deep.

use promql_parser::parser::Expr;

/// The longest expression parsed, in bytes.
pub const MAX_BYTES: usize = 16 * 1024;

/// The deepest nesting of brackets parsed.
pub const MAX_NESTING: usize = 128;

/// The most operators and opening brackets parsed: every node of the tree
/// with children (operator, parenthesis, call, aggregation, range or
/// subquery) comes from one of them, so this bounds the tree's depth.
pub const MAX_OPERATORS: usize = 1024;

/// Why an expression is not parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooComplex {
    /// Its length in bytes.
    Long(usize),
    /// Its deepest nesting of brackets.
    Nested(usize),
    /// Its operators and opening brackets.
    Operators(usize),
}

impl std::fmt::Display for TooComplex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooComplex::Long(n) => write!(f, "is {n} bytes long (at most {MAX_BYTES} are parsed)"),
            TooComplex::Nested(n) => write!(f, "nests brackets {n} deep (at most {MAX_NESTING} are parsed)"),
            TooComplex::Operators(n) => {
                write!(f, "has {n} operators and brackets (at most {MAX_OPERATORS} are parsed)")
            }
        }
    }
}

/// Parses `expr` when it is within the bounds. `holt_winters` (Prometheus
/// 2, renamed in 3) is read as `double_exponential_smoothing`.
pub fn parse(expr: &str) -> Result<Result<Expr, String>, TooComplex> {
    bound(expr)?;
    if let Some(n) = huge_duration(expr.as_bytes()) {
        return Ok(Err(format!("the duration `{n}` is out of range (seconds up to 2^64)")));
    }
    if expr.contains("holt_winters") {
        return Ok(promql_parser::parser::parse(&expr.replace("holt_winters(", "double_exponential_smoothing(")));
    }
    Ok(promql_parser::parser::parse(expr))
}

/// An expression as [`parse`] reads it: `None` past the bounds.
pub type Parsed = std::sync::Arc<Option<Result<Expr, String>>>;

/// The expressions parsed in this process, each once while the memo has
/// room: `gen` reads its alerts' expressions to write their unit tests, and
/// five checks of each environment's proof read them again (PromQL's
/// parser is table-driven and allocates every token; a label matcher's
/// regex is compiled).
pub fn parsed_memo() -> std::sync::Arc<super::memo::TextMemo<Parsed>> {
    static SHARED: std::sync::OnceLock<std::sync::Arc<super::memo::TextMemo<Parsed>>> = std::sync::OnceLock::new();
    std::sync::Arc::clone(SHARED.get_or_init(Default::default))
}

/// `expr` parsed ([`parse`]) once while `memo` has room.
pub fn parsed_in(memo: &super::memo::TextMemo<Parsed>, expr: &str) -> Parsed {
    memo.get_or(expr, |e| std::sync::Arc::new(parse(e).ok()))
}

/// The longest expression [`error_offset`] searches: it lexes every prefix,
/// 24 ms for 1 KB in a debug build (the longest real expression seen is
/// 720 bytes).
pub const OFFSET_MAX: usize = 1024;

/// Where in `expr` promql-parser stopped with `message`, as a byte offset,
/// when it can be told: promql-parser gives no position, so this finds the
/// shortest prefix its lexer refuses with the same message (the lexer stops
/// at the bad character, or at the bracket left open), then the token the
/// message quotes (`'x'`, or `: 5x` at its end) where it ends there. Errors
/// of the grammar (`invalid promql query`) have no place: `None`.
pub fn error_offset(expr: &str, message: &str) -> Option<usize> {
    if expr.len() > OFFSET_MAX {
        return None;
    }
    if promql_parser::parser::lexer(expr).err().as_deref() != Some(message) {
        return call_named(expr, message);
    }
    // Every prefix inside a bracket ends "unclosed": the one left open is the
    // last opener the whole text never closes, not the first of the prefix.
    if message.starts_with("unclosed") {
        return unclosed(expr.as_bytes());
    }
    let end = expr
        .char_indices()
        .map(|(i, c)| i + c.len_utf8())
        .find(|&k| promql_parser::parser::lexer(&expr[..k]).err().as_deref() == Some(message))?;
    let quoted = message.rsplit_once(": ").map(|(_, t)| t.trim_matches('\'')).filter(|t| !t.is_empty());
    match quoted.and_then(|t| expr[..end].rfind(t)) {
        Some(at) => Some(at),
        // The last character read.
        None => expr[..end].char_indices().last().map(|(i, _)| i),
    }
}

/// Where a call names the function a parser error quotes (`unknown function
/// with name 'foo'`, `expected type matrix in call to function 'rate'`):
/// the first `foo(`. Other grammar errors carry no place.
fn call_named(expr: &str, message: &str) -> Option<usize> {
    let name = message.split('\'').nth(1).filter(|n| !n.is_empty() && message.contains("function"))?;
    let mut from = 0;
    while let Some(at) = expr[from..].find(name).map(|i| from + i) {
        let before = expr[..at].chars().next_back();
        let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
        if before.is_none_or(|c| !ident(c)) && expr[at + name.len()..].trim_start().starts_with('(') {
            return Some(at);
        }
        from = at + name.len();
    }
    None
}

/// A unitless number where promql-parser reads a duration (`[N]`,
/// `[…:N]`, `offset N`) that it would turn into a `Duration` with a panic:
/// infinite, NaN, or 2^64 seconds and more (the description fuzzer's
/// `rate(x[111…116])`). Strings and comments are skipped.
fn huge_duration(text: &[u8]) -> Option<String> {
    let (mut i, mut brackets, mut after) = (0, 0usize, false);
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'"' | b'\'' | b'`' => i = string_end(text, i, b),
            b'#' => i = text[i..].iter().position(|&c| c == b'\n').map_or(text.len(), |p| i + p),
            b'[' => (brackets, after) = (brackets + 1, true),
            b']' => (brackets, after) = (brackets.saturating_sub(1), false),
            b':' if brackets > 0 => after = true,
            b' ' | b'\t' | b'\n' | b'\r' | b'+' | b'-' if after => {}
            c if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' => {
                let mut end = i + text[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'.' || *c == b'_'))
                    .unwrap_or(text.len() - i);
                // The sign of an exponent (`1e+30`) belongs to the number.
                if c.is_ascii_digit()
                    && matches!(text[end - 1], b'e' | b'E')
                    && matches!(text.get(end), Some(b'+' | b'-'))
                    && text.get(end + 1).is_some_and(u8::is_ascii_digit)
                {
                    end += 2 + text[end + 2..].iter().position(|c| !c.is_ascii_digit()).unwrap_or(text.len() - end - 2);
                }
                let word = std::str::from_utf8(&text[i - 1..end]).unwrap_or("");
                i = end;
                if after && too_long(word) {
                    return Some(word.to_string());
                }
                // `offset` is followed by a duration; a word ends the place of one.
                after = word.eq_ignore_ascii_case("offset");
            }
            _ => after = false,
        }
    }
    None
}

/// Whether a number promql-parser would read as seconds is past `Duration`.
fn too_long(word: &str) -> bool {
    let w = word.to_ascii_lowercase().replace('_', "");
    let value = match w.strip_prefix("0x") {
        Some(hex) => u128::from_str_radix(hex, 16).map_or(f64::INFINITY, |v| v as f64),
        None => match w.as_str() {
            "inf" | "nan" => f64::INFINITY,
            // A duration with a unit (`5m`) is not a bare number.
            _ => w.parse::<f64>().unwrap_or(0.0),
        },
    };
    !value.is_finite() || value >= 1.8e19
}

/// The opening bracket the text leaves open (the innermost one, as the
/// lexer sees it at the end), outside strings and comments.
fn unclosed(text: &[u8]) -> Option<usize> {
    let mut open = Vec::new();
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'"' | b'\'' | b'`' => i = string_end(text, i, b),
            b'#' => i = text[i..].iter().position(|&c| c == b'\n').map_or(text.len(), |p| i + p),
            b'(' | b'[' | b'{' => open.push(i - 1),
            b')' | b']' | b'}' => {
                open.pop();
            }
            _ => {}
        }
    }
    open.last().copied()
}

/// Whether `expr` is within the bounds: a lexical pass that skips strings
/// and comments and counts over rather than under (a `-` of an exponent
/// or an `and` used as a label name counts as an operator).
pub fn bound(expr: &str) -> Result<(), TooComplex> {
    if expr.len() > MAX_BYTES {
        return Err(TooComplex::Long(expr.len()));
    }
    let (nesting, operators) = measure(expr.as_bytes());
    if nesting > MAX_NESTING {
        return Err(TooComplex::Nested(nesting));
    }
    if operators > MAX_OPERATORS {
        return Err(TooComplex::Operators(operators));
    }
    Ok(())
}

/// The deepest bracket nesting and the count of operators and opening
/// brackets of `text`, outside strings and comments.
fn measure(text: &[u8]) -> (usize, usize) {
    let (mut depth, mut deepest, mut operators) = (0usize, 0usize, 0usize);
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        i += 1;
        match b {
            b'"' | b'\'' | b'`' => i = string_end(text, i, b),
            b'#' => i = text[i..].iter().position(|&c| c == b'\n').map_or(text.len(), |p| i + p),
            b'(' | b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                operators += usize::from(b != b'{');
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'^' | b'<' | b'>' => operators += 1,
            // `==` and `!=` (`!~`, `=~` and `=` only match labels).
            b'=' | b'!' if text.get(i) == Some(&b'=') => {
                operators += 1;
                i += 1;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let end = text[i..].iter().position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c == b':'));
                let end = end.map_or(text.len(), |p| i + p);
                let word = &text[i - 1..end];
                operators +=
                    usize::from([&b"and"[..], b"or", b"unless", b"atan2"].iter().any(|k| word.eq_ignore_ascii_case(k)));
                i = end;
            }
            _ => {}
        }
    }
    (deepest, operators)
}

/// The index after the string opened by `quote` at `from - 1`: backslash
/// escapes in `"` and `'` strings, none in raw `` ` `` strings.
fn string_end(text: &[u8], mut i: usize, quote: u8) -> usize {
    while let Some(&c) = text.get(i) {
        i += 1;
        if c == quote {
            return i;
        }
        if c == b'\\' && quote != b'`' {
            i += 1;
        }
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexer_errors_are_placed_where_the_lexer_stopped() {
        let at = |e: &str| {
            let Err(m) = promql_parser::parser::parse(e) else { panic!("{e} parses") };
            error_offset(e, &m)
        };
        assert_eq!(at("rate(x[5x]) > 1"), Some(7), "the duration");
        assert_eq!(at("rate(x[5m) > 1"), Some(9), "the `)` inside brackets");
        assert_eq!(at("sum(rate(y{job=\"a\"[5m]))"), Some(18), "the `[` inside braces");
        assert_eq!(at("sum(rate(x[5m]) > 1"), Some(3), "the `(` left open");
        // Not the first `(` (any prefix inside it is "unclosed" too) but `on(`.
        let e = "sum by (job) (rate(x_total[5m])) > on(job group_left 1";
        assert_eq!(at(e), e.find("on(").map(|i| i + 2), "the `(` of `on(` left open");
        assert_eq!(at("up == == 1"), None, "a grammar error has no place");
        // A function the parser names: its call.
        assert_eq!(at("sum(irate(x[5m])) + foo(x)"), Some(20), "the unknown function");
        assert_eq!(at("sum(my_rate_total) + rate(x)"), Some(21), "the call, not a metric holding the name");
    }

    #[test]
    fn a_duration_past_what_the_parser_can_hold_is_an_error_not_a_panic() {
        let long = format!("max_over_time(deriv(rate(x_total[{}6])[5m:1m])", "1".repeat(120));
        let cases = [
            long.as_str(),
            "rate(x[1e30])",
            "rate(x[1e+30])",
            "x offset 0xFFFFFFFFFFFFFFFFFFFF",
            "x[5m:Inf]",
            "x offset - NaN",
        ];
        for e in cases {
            let Ok(Err(message)) = parse(e) else { panic!("{e}: not refused") };
            assert!(message.contains("out of range"), "{e}: {message}");
        }
        // Ordinary durations, numbers outside duration places, and strings are untouched.
        for e in ["rate(x[300])", "x[5m:30] offset 1e3", "x[1e-3]", "x > 1e300", r#"x{a="[1e99]"}"#, "sum(x) @ 1e3"] {
            assert!(huge_duration(e.as_bytes()).is_none(), "{e}");
        }
    }

    #[test]
    fn operators_and_brackets_are_counted_outside_strings_and_comments() {
        // `!=` of a label matcher counts too: over, not under.
        assert_eq!(measure(br#"sum(rate(x{code=~"5..", a!="-+*"}[5m])) / 2 > 0.5 and on(job) y"#), (3, 8));
        assert_eq!(measure(b"a # + - * ( ( (\n+ b"), (0, 1));
        // A raw string ends at the next backquote, a backslash escapes nothing.
        assert_eq!(measure(br#"x{a="\"(((", b=`\`} - y == bool 1 + `(`"#), (1, 3));
        assert_eq!(measure(b"-(-x) unless atan2 OR y != z"), (1, 7));
    }

    #[test]
    fn the_bounds_refuse_what_would_crash_or_stall_the_parser() {
        let chain = |op: &str, n: usize| vec!["up"; n].join(op);
        assert_eq!(bound(&chain(" ^ ", 150_000)), Err(TooComplex::Long(749_997)));
        assert_eq!(bound(&chain("^", MAX_OPERATORS + 2)), Err(TooComplex::Operators(MAX_OPERATORS + 1)));
        assert_eq!(bound(&"-".repeat(2000)), Err(TooComplex::Operators(2000)));
        assert_eq!(bound(&"(".repeat(MAX_NESTING + 1)), Err(TooComplex::Nested(MAX_NESTING + 1)));
        assert!(matches!(parse(&chain("^", MAX_OPERATORS + 1)), Ok(Ok(_))));
        assert!(matches!(parse(&format!("{}up", "-".repeat(MAX_OPERATORS))), Ok(Ok(_))));
    }
}
