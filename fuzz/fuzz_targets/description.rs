//! Arbitrary bytes as a platform description, the way `kubeproof gen` reads
//! one: UTF-8, parsing and validation, then resolution for the base and for
//! every environment it names. Nothing may panic, and every error must say
//! something and point inside the text (or nowhere).
#![no_main]

use std::path::Path;

use kubeproof::description::parse;
use kubeproof::description::resolve::resolve;
use kubeproof::diag::Diagnostic;
use libfuzzer_sys::fuzz_target;

fn sound(errors: &[Diagnostic], text: &str) {
    let lines = text.split('\n').count() as u32;
    for d in errors {
        assert!(!d.message.trim().is_empty(), "an empty message at {:?}", d.pos);
        assert!(d.pos.line <= lines, "`{}` at line {} of {lines}", d.message, d.pos.line);
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = Path::new("fuzz.yaml");
    let platform = match parse(text, file) {
        Ok(p) => p,
        Err(errors) => return sound(&errors, text),
    };
    let environments: Vec<String> = platform.environments.keys().map(|k| k.to_string()).collect();
    for env in std::iter::once(None).chain(environments.iter().map(|e| Some(e.as_str()))) {
        if let Err(errors) = resolve(&platform, env, file) {
            sound(&errors, text);
        }
    }
});
