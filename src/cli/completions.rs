//! `trustops completions SHELL` and `trustops man`: shell completions and a man page, generated
//! from the same clap definitions as the help, so they never drift from the CLI.

use super::Exit;
use clap::CommandFactory;
use std::io::Write;

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
pub(super) struct Args {
    /// The shell: bash, zsh, fish, elvish or powershell.
    #[arg(value_name = "SHELL")]
    shell: clap_complete::Shell,
}

pub(super) fn completions(args: &Args, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let mut command = super::Cli::command();
    // clap_complete panics when its writer fails (a closed pipe): it writes to memory here,
    // and the caller's writer reports a closed pipe as main expects.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "trustops", &mut script);
    out.write_all(&script)?;
    Ok(Exit::Ok)
}

/// `trustops man`: the man page (roff) of trustops and every subcommand, on stdout.
pub(super) fn man(out: &mut dyn Write) -> anyhow::Result<Exit> {
    let command = super::Cli::command();
    clap_mangen::Man::new(command.clone()).render(out)?;
    for sub in command.get_subcommands() {
        clap_mangen::Man::new(sub.clone())
            .title(format!("trustops-{}", sub.get_name()))
            .render(out)?;
    }
    Ok(Exit::Ok)
}
