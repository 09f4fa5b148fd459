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
    /// A file naming the running program (pid, start time, boot id) while it runs. A program a
    /// killed earlier run left behind under the same guard (plugins run in their own process
    /// group and outlive trustops) is waited for, up to `timeout`, then stopped, before this
    /// one starts: a resumed apply never races the plugin call it is retrying.
    pub guard: Option<PathBuf>,
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
    if let Some(guard) = &options.guard {
        wait_for_earlier(guard, options.timeout);
    }
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
    if let Some(guard) = &options.guard {
        let me = crate::apply::journal::Holder::of(child.id(), jiff::Timestamp::UNIX_EPOCH);
        let _ = crate::durable::write(
            guard,
            serde_json::to_string(&me).unwrap_or_default().as_bytes(),
            0o600,
        );
    }
    let result = supervise(&mut child, options);
    if let Some(guard) = &options.guard {
        let _ = std::fs::remove_file(guard);
    }
    let (status, (stdout, overflow), (stderr, _)) = result;
    if overflow {
        return Err(Error::TooMuchOutput {
            program: program.clone(),
            limit: options.max_output,
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

/// Feeds the program its input, reads its output, and waits for it and for its output to end,
/// all within the timeout: a program that exits but leaves a child holding its output open is
/// stopped at the deadline with its whole process group. Returns the exit status (`None`: it
/// was stopped), standard output (and whether it overflowed) and standard error.
#[allow(clippy::type_complexity)] // Private, and named by its one caller's destructuring.
fn supervise(
    child: &mut std::process::Child,
    options: &Options,
) -> (
    Option<std::process::ExitStatus>,
    (Vec<u8>, bool),
    (Vec<u8>, bool),
) {
    let stdin = child.stdin.take();
    let input = options.stdin.clone();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let limit = options.max_output;
    let too_much = std::sync::Arc::new(AtomicBool::new(false));
    // Owned threads, not scoped: a pipe held open by a process that left the group must not
    // hold this call past its deadline (the thread is then left to end with the pipe).
    std::thread::spawn(move || {
        if let (Some(mut pipe), Some(bytes)) = (stdin, input) {
            // A program that does not read its input closes the pipe: not our failure.
            let _ = pipe.write_all(&bytes);
        }
    });
    let flag = std::sync::Arc::clone(&too_much);
    let out = std::thread::spawn(move || read_at_most(stdout, limit, &flag));
    let err = std::thread::spawn(move || read_at_most(stderr, 64 << 10, &AtomicBool::new(false)));
    let deadline = Instant::now() + options.timeout;
    let mut status = None;
    let mut stopped = false;
    loop {
        let over = too_much.load(Ordering::Relaxed);
        if status.is_none() {
            status = child.try_wait().ok().flatten();
        }
        let pipes_open = !(out.is_finished() && err.is_finished());
        if status.is_some() && !pipes_open {
            break;
        }
        if Instant::now() >= deadline || over {
            kill_group(child.id());
            let _ = child.kill();
            let _ = child.wait();
            stopped = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Once the group is gone its pipes close; a process that left the group is not waited for.
    let grace = Instant::now() + Duration::from_secs(1);
    while !(out.is_finished() && err.is_finished()) && Instant::now() < grace {
        std::thread::sleep(Duration::from_millis(10));
    }
    let join = |handle: std::thread::JoinHandle<(Vec<u8>, bool)>| {
        if handle.is_finished() {
            handle.join().unwrap_or_default()
        } else {
            (Vec::new(), false)
        }
    };
    let (stdout, stderr) = (join(out), join(err));
    let status = if stopped { None } else { status };
    (status, stdout, stderr)
}

/// Waits for the program an earlier (killed) run started under `guard`, if it still runs, up
/// to `timeout`; then stops its process group.
fn wait_for_earlier(guard: &Path, timeout: Duration) {
    let Ok(text) = std::fs::read_to_string(guard) else {
        return;
    };
    let Ok(earlier) = serde_json::from_str::<crate::apply::journal::Holder>(&text) else {
        let _ = std::fs::remove_file(guard);
        return;
    };
    let deadline = Instant::now() + timeout;
    while earlier.alive() == Some(true) {
        if Instant::now() >= deadline {
            kill_group(earlier.pid);
            let settle = Instant::now() + Duration::from_secs(5);
            while earlier.alive() == Some(true) && Instant::now() < settle {
                std::thread::sleep(Duration::from_millis(20));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_file(guard);
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
fn read_at_most(pipe: Option<impl Read>, limit: usize, too_much: &AtomicBool) -> (Vec<u8>, bool) {
    let Some(mut pipe) = pipe else {
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
            guard: None,
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

    #[test]
    fn a_program_that_exits_but_leaves_a_child_holding_its_output_is_stopped_at_the_deadline() {
        let start = Instant::now();
        assert!(matches!(
            sh("echo started; sleep 30 & exit 0", 1),
            Err(Error::Timeout { .. })
        ));
        // The timeout plus the grace for the pipes to close, not the child's 30 s.
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_program_left_running_by_an_earlier_run_is_waited_for_then_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let guard = dir.path().join("guard.json");
        let marker = dir.path().join("marker");
        let first = Options {
            argv: vec![
                "sh".into(),
                "-c".into(),
                format!("sleep 30; echo late > {}", marker.display()),
            ],
            dir: dir.path().to_owned(),
            timeout: Duration::from_secs(60),
            guard: Some(guard.clone()),
            ..Options::default()
        };
        // The first call is abandoned mid-way, as a killed apply abandons its plugin: run it on
        // a thread and, once its guard names it, call again under the same guard.
        std::thread::spawn(move || run(&first));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !guard.exists() {
            assert!(Instant::now() < deadline, "the first call never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        let start = Instant::now();
        let second = run(&Options {
            argv: vec!["sh".into(), "-c".into(), "echo second".into()],
            dir: dir.path().to_owned(),
            timeout: Duration::from_secs(1),
            max_output: 1024,
            guard: Some(dir.path().join("guard.json")),
            ..Options::default()
        })
        .unwrap();
        assert_eq!(second.stdout, b"second\n");
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(900),
            "it waited: {waited:?}"
        );
        assert!(
            waited < Duration::from_secs(8),
            "then stopped it: {waited:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
        assert!(!marker.exists(), "the earlier program was stopped");
    }
}
