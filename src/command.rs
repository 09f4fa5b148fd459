//! Running external programs (plugins, hooks, reload commands) with a timeout, bounded
//! output, and no shell in between.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Program and arguments. A program with a `/` is relative to `dir`; others are looked up
    /// on `PATH`.
    pub argv: Vec<String>,
    /// Working folder.
    pub dir: PathBuf,
    /// Bytes for standard input (closed when `None`).
    pub stdin: Option<Vec<u8>>,
    /// How long the program may run before it is killed.
    pub timeout: Duration,
    /// Most bytes kept from standard output; more is an error.
    pub max_output: usize,
}

/// What a finished program returned.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Its exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error (at most 64 KiB).
    pub stderr: Vec<u8>,
}

/// Why a program could not be run to the end.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No program was given.
    #[error("the command is empty")]
    Empty,
    /// The program could not be started.
    #[error("cannot start {program}")]
    Start {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// It ran longer than allowed and was killed.
    #[error("{program} did not finish within {seconds}s and was stopped")]
    Timeout {
        /// The program.
        program: String,
        /// The limit.
        seconds: u64,
    },
    /// It printed more than allowed.
    #[error("{program} printed more than {limit} bytes")]
    TooMuchOutput {
        /// The program.
        program: String,
        /// The limit.
        limit: usize,
    },
}

/// An error and its causes on one line (`cannot start x: No such file or directory`), for
/// messages that end up in diagnostics rather than on stderr.
pub fn describe(error: &Error) -> String {
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Runs `options.argv` to completion or timeout.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let (program, args) = options.argv.split_first().ok_or(Error::Empty)?;
    let path = if program.contains('/') && !Path::new(program).is_absolute() {
        options.dir.join(program)
    } else {
        PathBuf::from(program)
    };
    let mut command = Command::new(&path);
    // Its own process group, so a timeout stops the children it started too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .args(args)
        .current_dir(&options.dir)
        .stdin(if options.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| Error::Start {
            program: program.clone(),
            source,
        })?;
    let stdin = child.stdin.take();
    let input = options.stdin.clone();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let limit = options.max_output;
    let too_much = AtomicBool::new(false);
    let (status, (stdout, overflow), (stderr, _)) = std::thread::scope(|scope| {
        scope.spawn(move || {
            if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
                // A program that does not read its input closes the pipe: not our failure.
                let _ = pipe.write_all(&bytes);
            }
        });
        let out = scope.spawn(|| read_at_most(stdout.as_mut(), limit, &too_much));
        let err = scope.spawn(|| read_at_most(stderr.as_mut(), 64 << 10, &AtomicBool::new(false)));
        let deadline = Instant::now() + options.timeout;
        let status = loop {
            let over = too_much.load(Ordering::Relaxed);
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline && !over => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                _ => {
                    kill_group(child.id());
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        (
            status,
            out.join().unwrap_or_default(),
            err.join().unwrap_or_default(),
        )
    });
    if overflow {
        return Err(Error::TooMuchOutput {
            program: program.clone(),
            limit,
        });
    }
    let Some(status) = status else {
        return Err(Error::Timeout {
            program: program.clone(),
            seconds: options.timeout.as_secs(),
        });
    };
    Ok(Outcome {
        code: status.code(),
        stdout,
        stderr,
    })
}

/// Kills the process group `pid` leads (no `unsafe` here, so through kill(1)).
fn kill_group(pid: u32) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    #[cfg(not(unix))]
    let _ = pid;
}

/// Reads a pipe to its end, keeping at most `limit` bytes; the flag says whether more came
/// (and is also raised in `too_much`, so the program can be stopped at once).
fn read_at_most(
    pipe: Option<&mut impl Read>,
    limit: usize,
    too_much: &AtomicBool,
) -> (Vec<u8>, bool) {
    let Some(pipe) = pipe else {
        return (Vec::new(), false);
    };
    let mut kept = Vec::new();
    let mut buffer = [0u8; 64 << 10];
    let mut overflow = false;
    while let Ok(n) = pipe.read(&mut buffer) {
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
        if n > room {
            overflow = true;
            too_much.store(true, Ordering::Relaxed);
            break;
        }
    }
    (kept, overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: u64) -> Result<Outcome, Error> {
        run(&Options {
            argv: vec!["sh".into(), "-c".into(), script.into()],
            dir: std::env::temp_dir(),
            stdin: Some(b"input".to_vec()),
            timeout: Duration::from_secs(timeout),
            max_output: 1024,
        })
    }

    #[test]
    fn runs_reads_and_reports() {
        let out = sh("cat; echo err >&2; exit 3", 5).unwrap();
        assert_eq!(
            (out.code, out.stdout.as_slice(), out.stderr.as_slice()),
            (Some(3), &b"input"[..], &b"err\n"[..])
        );
        assert!(matches!(sh("yes", 5), Err(Error::TooMuchOutput { .. })));
        assert!(matches!(run(&Options::default()), Err(Error::Empty)));
    }

    #[test]
    fn a_timeout_stops_the_program_and_its_children() {
        let start = Instant::now();
        assert!(matches!(
            sh("sleep 30 & sleep 30", 1),
            Err(Error::Timeout { .. })
        ));
        assert!(start.elapsed() < Duration::from_secs(10));
    }
}
