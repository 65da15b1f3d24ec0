//! Hostile input and safe output (issue 14), through the binary: every case
//! asserts its exit code, its message, its peak memory (at most [`MAX_RSS_KIB`],
//! measured by `/usr/bin/time`) and a time bound ([`LIMIT`]) generous enough
//! for a loaded CI machine yet short enough to catch quadratic behaviour.
//! Inputs are generated here, never committed as blobs.
//!
//! One test binary with a module per area (CI links each binary once).

mod files;
mod genmem;
mod harness;
mod linear;
mod network;
mod parse;
mod promql;
mod report;
mod secrets;
mod txn;
