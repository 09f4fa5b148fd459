//! The `trustops` binary: parse, dispatch, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    trustops::cli::run(std::env::args_os())
}
