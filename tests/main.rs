//! Integration tests: trustops driven the way a user drives it, from one test binary.

mod cli;
mod demo;
mod robustness;
mod schema;
mod support;
mod validate;
