//! Arbitrary bytes through the whole of `kubeproof check`: loading, every
//! check, and the text and JSON reports. No check may panic on malformed
//! objects.
#![no_main]

use kubeproof::check::config::Config;
use kubeproof::check::report::{self, Format};
use kubeproof::check::run;
use kubeproof::model::{Loaded, load};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut loaded = Loaded::default();
    load::add_bytes(&mut loaded, "fuzz.yaml".into(), data.to_vec());
    let outcome = run(&loaded, &Config::default());
    let _ = report::render(Format::Text, &loaded, &outcome, false);
    let _ = report::render(Format::Json, &loaded, &outcome, false);
});
