//! trustops: GitOps for machine identities.
//!
//! Identities, owners and policies are declared as YAML in a Git repository. The pipeline
//! (see `DESIGN.md`) is a chain of plain functions, one module each:
//!
//! ```text
//! declarations ──load──▶ Model ──reconcile──▶ Findings ──plan──▶ Plan ──apply──▶ audit commit
//! ```
//!
//! [`pipeline`] is the one composition of the stages (plan, apply under the lock, revoke) that
//! the CLI, the demo and the controller call; [`load`] reads and validates a governance repository into a [`model::Model`], reporting every
//! problem as a [`diag::Diagnostic`]; [`render`] prints diagnostics for people and machines;
//! [`diff`] says what a change to the declarations means between two revisions;
//! [`git`] is the only module that writes repositories; [`demo`] builds a runnable demo repo.

pub mod apply;
pub mod ari;
pub mod audit;
pub mod cli;
pub mod command;
pub mod controller;
pub mod demo;
pub(crate) mod der;
pub mod diag;
pub mod diff;
pub mod discover;
pub mod durable;
pub mod environment;
pub(crate) mod fast_map;
pub mod fault;
pub mod git;
pub mod gzip;
pub mod http;
pub mod intern;
pub mod load;
pub mod model;
pub mod parallel;
pub mod pipeline;
pub mod plan;
pub mod reconcile;
pub mod remote;
pub mod render;
pub mod revocation;
pub mod schemas;
pub mod signature;
pub(crate) mod vault;
