//! The `trustops` binary: parse, dispatch, map the outcome to an exit code.

// mimalloc rather than the C library's allocator: a million credentials read from an
// inventory are millions of small blocks allocated on two threads, where glibc's per-thread
// arenas left `plan` at 100,000 identities 0.2 GB more resident and `validate` 10% slower
// (README, Performance).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    trustops::cli::run(std::env::args_os())
}
