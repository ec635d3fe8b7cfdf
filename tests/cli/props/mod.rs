//! Property tests (issue 20): generated inputs checked against a promise
//! or against git itself. Each runs a modest number of cases by default
//! (so `cargo test` stays fast); set `PROPTEST_CASES` for a longer run.

mod diff;
mod manifest;
mod matcher;
mod registry;
mod walk;

use proptest::test_runner::Config;

/// `default` cases unless `PROPTEST_CASES` says otherwise; failures are
/// reported with their minimal case, not written into the source tree.
pub fn config(default: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}
