//! What one rotation group holds while it runs: what was issued for each credential until it
//! is deployed, the change records, and the certificates it replaced. Filled by
//! [`super::rotation`] as steps run, and by [`super::resume`] from the journal after an
//! interruption.

use super::deploy::NewKey;
use super::issuers::Issued;
use crate::audit::Change;
use std::collections::BTreeMap;

/// What was issued for one credential of the group, kept until it is deployed.
pub(super) struct Fresh {
    pub(super) key: Option<NewKey>,
    pub(super) issued: Issued,
}

/// What one group holds while it runs.
#[derive(Default)]
pub(super) struct Group {
    pub(super) fresh: BTreeMap<String, Fresh>,
    pub(super) changes: BTreeMap<String, Change>,
    /// What the certificate files held before this group issued (public PEM): the certificate
    /// a revoke step revokes is among them (ACME revokes by contents). Journaled with the issue
    /// step, so it survives an interruption.
    pub(super) replaced: Vec<String>,
}
