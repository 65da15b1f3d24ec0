//! Whether output is coloured, decided once per run and passed down.
//!
//! `--color always` and `--color never` decide alone (a flag given for one
//! run overrides the environment, as no-color.org asks). `--color auto`, the
//! default, colours a stream when it is a terminal and `NO_COLOR` is unset or
//! empty.

use std::ffi::{OsStr, OsString};
use std::io::IsTerminal;

/// The `--color` flag. (Its values carry no doc comments: clap would then
/// print every option's help in the long layout.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// The same choice for clap's own output (help, usage errors); clap's
    /// `auto` also honours NO_COLOR.
    pub fn clap(self) -> clap::ColorChoice {
        match self {
            ColorChoice::Auto => clap::ColorChoice::Auto,
            ColorChoice::Always => clap::ColorChoice::Always,
            ColorChoice::Never => clap::ColorChoice::Never,
        }
    }

    /// The `--color` among raw arguments, before clap has parsed them: clap
    /// prints help and usage errors while parsing. The last one before `--`
    /// counts; a value clap would refuse counts as `auto`.
    pub fn among(args: &[OsString]) -> ColorChoice {
        let mut choice = ColorChoice::Auto;
        let mut args = args.iter().map(OsString::as_os_str);
        while let Some(a) = args.next() {
            let value: Option<&OsStr> = match a.to_str() {
                Some("--") => break,
                Some("--color") => args.next(),
                Some(s) => s.strip_prefix("--color=").map(OsStr::new),
                None => None,
            };
            if let Some(v) = value {
                choice = match v.to_str() {
                    Some("always") => ColorChoice::Always,
                    Some("never") => ColorChoice::Never,
                    _ => ColorChoice::Auto,
                };
            }
        }
        choice
    }
}

/// Whether to colour each output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub stdout: bool,
    pub stderr: bool,
}

impl Style {
    /// The decision for this process: its streams and its environment.
    pub fn decide(choice: ColorChoice) -> Style {
        Style::of(
            choice,
            std::env::var_os("NO_COLOR").as_deref(),
            std::io::stdout().is_terminal(),
            std::io::stderr().is_terminal(),
        )
    }

    fn of(choice: ColorChoice, no_color: Option<&OsStr>, stdout_terminal: bool, stderr_terminal: bool) -> Style {
        match choice {
            ColorChoice::Always => Style { stdout: true, stderr: true },
            ColorChoice::Never => Style::default(),
            ColorChoice::Auto => {
                // no-color.org: set to any non-empty value, it disables colour.
                let allowed = no_color.is_none_or(OsStr::is_empty);
                Style { stdout: allowed && stdout_terminal, stderr: allowed && stderr_terminal }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_terminals_unless_no_color_is_set_and_not_empty() {
        let auto = |no_color: Option<&str>, out, err| Style::of(ColorChoice::Auto, no_color.map(OsStr::new), out, err);
        assert_eq!(auto(None, true, false), Style { stdout: true, stderr: false });
        assert_eq!(auto(None, false, true), Style { stdout: false, stderr: true });
        assert_eq!(auto(Some(""), true, true), Style { stdout: true, stderr: true });
        assert_eq!(auto(Some("1"), true, true), Style::default());
        assert_eq!(auto(Some("0"), true, true), Style::default(), "any non-empty value disables");
    }

    #[test]
    fn the_flag_overrides_the_terminal_and_no_color() {
        let all = Style { stdout: true, stderr: true };
        assert_eq!(Style::of(ColorChoice::Always, Some(OsStr::new("1")), false, false), all);
        assert_eq!(Style::of(ColorChoice::Never, None, true, true), Style::default());
    }

    #[test]
    fn the_flag_is_found_before_clap_parses() {
        let among = |args: &[&str]| ColorChoice::among(&args.iter().map(OsString::from).collect::<Vec<_>>());
        assert_eq!(among(&["kubeproof", "check", "x"]), ColorChoice::Auto);
        assert_eq!(among(&["kubeproof", "--color", "never", "check"]), ColorChoice::Never);
        assert_eq!(among(&["kubeproof", "check", "--color=always", "--help"]), ColorChoice::Always);
        assert_eq!(among(&["kubeproof", "--color=never", "--color", "always"]), ColorChoice::Always);
        assert_eq!(among(&["kubeproof", "--color", "blue"]), ColorChoice::Auto);
        assert_eq!(among(&["kubeproof", "check", "--", "--color=never"]), ColorChoice::Auto);
    }
}
