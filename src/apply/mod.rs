//! Apply: carry out a plan's actions through issuers, deploy what they issue, and record
//! what was done. Only this module touches issuers.
//!
//! Built so far: the issuers (`issuers/`, behind one trait) and the deploy side (`deploy.rs`:
//! keys generated where they are deployed, files written atomically with their modes). The
//! engine that runs rotation groups from a plan file builds on them.

pub mod deploy;
pub mod issuers;
