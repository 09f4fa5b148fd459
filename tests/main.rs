//! Integration tests: trustops driven the way a user drives it, from one test binary.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    reason = "test helpers fail loudly, and nothing here is a public API"
)]

mod apply;
mod audit;
mod ci_templates;
mod cli;
mod code_scanning;
mod controller;
mod demo;
mod deploy;
mod diff;
mod discover;
mod editor;
mod email;
mod examples;
mod faults;
mod git;
mod image;
mod issuers;
mod plan;
mod post_quantum;
mod release;
mod report;
mod revocation;
mod robustness;
mod schema;
mod support;
mod trust;
mod validate;

/// The first 12 hex digits of a digest.
fn hex12(bytes: &[u8]) -> String {
    bytes.iter().take(6).map(|b| format!("{b:02x}")).collect()
}
