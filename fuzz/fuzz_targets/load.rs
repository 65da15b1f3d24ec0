//! Arbitrary bytes through the loader, as a file's bytes go: the UTF-8 check,
//! then `add_source`. It must never panic, and what it returns must hold
//! together: every object has a kind and an apiVersion, and its positions
//! fall inside its source.
#![no_main]

use kubeproof::model::{Loaded, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut loaded = Loaded::default();
    load::add_bytes(&mut loaded, "fuzz.yaml".into(), data.to_vec());
    for o in &loaded.objects {
        assert!(!o.kind.is_empty() && !o.api_version.is_empty());
        let text = &loaded.sources[o.source].text;
        let lines = text.split('\n').count() as u32;
        let pos = o.pos("");
        assert!(pos.line >= 1 && pos.line <= lines, "object at line {} of {lines}", pos.line);
        let meta = o.pos("/metadata/name");
        assert!(meta.line >= pos.line && meta.line <= lines, "name at line {} of {lines}", meta.line);
    }
    for e in &loaded.errors {
        assert!(!e.message.is_empty());
    }
});
