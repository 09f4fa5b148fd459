//! placeholder
use super::Exit;
/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {}
pub(super) fn run(_: &Args, _: &mut dyn std::io::Write) -> anyhow::Result<Exit> {
    Ok(Exit::Ok)
}
