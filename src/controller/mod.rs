//! The controller: a long-running reconciler that loops over pipeline cycles — sync the
//! governance repository from its remote, plan, apply what policy auto-approves, push the
//! audit branch — and serves `/metrics`, `/healthz` and `/readyz`.
//!
//! Entry point: [`run`]. One cycle is `cycle.rs`; the HTTP endpoints are `http.rs`. The loop
//! sleeps until the next interval (with jitter) or the next instant something becomes due,
//! whichever is first, and stops between steps when `stop` is raised (SIGTERM, SIGINT): the
//! current apply finishes and is journaled, so a restart resumes it. Time is read through
//! `clock`, so tests and callers decide what "now" is.

mod cycle;
mod http;

pub use cycle::{Cycle, Memory, cycle};

use crate::git::Signer;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How the controller runs.
#[derive(Debug)]
pub struct Options {
    /// What each cycle plans with: the governance repository (a clone with a work tree),
    /// saved inventories to plan from instead of discovering live (re-read every cycle), the
    /// audit branch, the environment; its `now` is replaced by the clock's each cycle.
    pub pipeline: crate::pipeline::Options,
    /// The remote to fetch declarations from and push the audit branch to; `None`: the work
    /// tree as it is, nothing pushed.
    pub remote: Option<String>,
    /// The longest sleep between cycles.
    pub interval: Duration,
    /// How long after a notice the same owner may be told again.
    pub renotify: Duration,
    /// Where to serve the endpoints; `None`: no server.
    pub listen: Option<SocketAddr>,
    /// Signs audit commits.
    pub signer: Signer,
    /// Author e-mail of audit commits.
    pub email: String,
    /// Stop after this many cycles (`None`: run until stopped).
    pub cycles: Option<u64>,
    /// Most rotations applied per identity in 24 hours: a runaway loop (a certificate that
    /// never verifies, a clock gone wrong) stops there and says so.
    pub max_issuances_per_day: usize,
    /// Also serve x509-certificate-exporter's metric names and labels.
    pub x509_exporter: bool,
}

/// What the endpoints report, updated by the loop.
#[derive(Debug, Default)]
pub struct Status {
    /// When the loop last showed it is alive.
    pub heartbeat: Option<Instant>,
    /// When the last cycle that succeeded ended.
    pub last_success: Option<Instant>,
    /// Its wall-clock time.
    pub last_success_at: Option<jiff::Timestamp>,
    /// The last cycle's outcome.
    pub last: Option<Cycle>,
    /// Cycles run, and those that failed.
    pub cycles: u64,
    /// Cycles that failed.
    pub failures: u64,
    /// Applies made, and rotations applied.
    pub applies: u64,
    /// Rotations applied.
    pub rotations: u64,
    /// Issue failures per issuer since the start.
    pub issuer_errors: std::collections::BTreeMap<String, u64>,
    /// The interval, for readiness.
    pub interval: Duration,
    /// Whether /metrics also carries x509-certificate-exporter's names and labels.
    pub x509_exporter: bool,
}

impl Status {
    /// Ready: the last cycle succeeded within three intervals.
    pub fn ready(&self) -> bool {
        self.last_success
            .is_some_and(|t| t.elapsed() <= self.interval * 3 + Duration::from_secs(1))
            && self.last.as_ref().is_some_and(|c| c.error.is_none())
    }

    /// Alive: the loop showed itself within ten intervals (or ten minutes).
    pub fn healthy(&self) -> bool {
        let limit = (self.interval * 10).max(Duration::from_secs(600));
        self.heartbeat.is_some_and(|t| t.elapsed() <= limit)
    }
}

/// Runs cycles until `stop` is raised (or `options.cycles` ran); `clock` gives "now". Returns
/// the number of cycles that failed.
pub fn run(
    options: &Options,
    clock: &dyn Fn() -> jiff::Timestamp,
    stop: &Arc<AtomicBool>,
    log: &mut dyn std::io::Write,
) -> std::io::Result<u64> {
    let status = Arc::new(Mutex::new(Status {
        interval: options.interval,
        x509_exporter: options.x509_exporter,
        heartbeat: Some(Instant::now()),
        ..Status::default()
    }));
    if let Some(address) = options.listen {
        http::serve(address, Arc::clone(&status), Arc::clone(stop))?;
    }
    let mut done = 0;
    let mut failed = 0;
    let mut memory = Memory::default();
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let outcome = cycle(options, clock(), stop, &mut memory);
        let _ = writeln!(log, "{}", outcome.summary());
        for line in &outcome.notes {
            let _ = writeln!(log, "  {line}");
        }
        let wake = outcome.next_due;
        if let Ok(mut s) = status.lock() {
            s.heartbeat = Some(Instant::now());
            s.cycles += 1;
            if outcome.error.is_some() {
                s.failures += 1;
                failed += 1;
            } else {
                s.last_success = Some(Instant::now());
                s.last_success_at = Some(clock());
            }
            s.applies += u64::from(outcome.commit.is_some());
            s.rotations += outcome.rotations;
            for issuer in &outcome.issuer_errors {
                *s.issuer_errors.entry(issuer.clone()).or_insert(0) += 1;
            }
            s.last = Some(outcome.with_duration(started.elapsed()));
        }
        done += 1;
        if options.cycles.is_some_and(|n| done >= n) {
            break;
        }
        let sleep = next_sleep(options.interval, wake, clock());
        let until = Instant::now() + sleep;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50));
            if let Ok(mut s) = status.lock() {
                s.heartbeat = Some(Instant::now());
            }
        }
    }
    Ok(failed)
}

/// The interval with ±10 % jitter (so replicas and neighbours spread out), or less when
/// something becomes due sooner; at least a second. A zero interval runs cycles back to back
/// (for benchmarks).
fn next_sleep(interval: Duration, due: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Duration {
    if interval.is_zero() {
        return Duration::ZERO;
    }
    let nanos = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos()),
    );
    let spread = interval.as_millis() as u64 / 10;
    let jitter = if spread == 0 {
        0
    } else {
        nanos % (2 * spread + 1)
    };
    let jittered = (interval.as_millis() as u64 + jitter).saturating_sub(spread);
    let mut sleep = Duration::from_millis(jittered);
    if let Some(due) = due {
        let until = due.as_second().saturating_sub(now.as_second()).max(0);
        sleep = sleep.min(Duration::from_secs(u64::try_from(until).unwrap_or(0)));
    }
    sleep.max(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_wakes_for_the_next_due_instant_within_the_jittered_interval() {
        let now: jiff::Timestamp = "2026-06-01T00:00:00Z".parse().unwrap();
        let five_minutes = Duration::from_secs(300);
        let due = |s: i64| Some(jiff::Timestamp::from_second(now.as_second() + s).unwrap());
        // Nothing due: the interval, ±10 %.
        let idle = next_sleep(five_minutes, None, now);
        assert!((270..=330).contains(&idle.as_secs()), "{idle:?}");
        // A renewal in 10 s: woken then, not at the interval.
        assert_eq!(
            next_sleep(five_minutes, due(10), now),
            Duration::from_secs(10)
        );
        // Already due (a clock step): at least a second, never a busy loop.
        assert_eq!(
            next_sleep(five_minutes, due(-60), now),
            Duration::from_secs(1)
        );
        // A zero interval runs cycles back to back (benchmarks).
        assert_eq!(next_sleep(Duration::ZERO, due(10), now), Duration::ZERO);
    }
}
