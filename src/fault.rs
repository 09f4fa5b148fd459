//! Fault injection for the crash and race tests: named points in the code that writes keys,
//! files, journals and refs, where a test can kill the process or make it wait.
//!
//! Test-only: nothing happens unless `TRUSTOPS_TEST_FAULT` is set, as a comma-separated list of
//! `kill@POINT`, `kill@POINT#N` (at the N-th time the point is reached, from 1) or
//! `delay@POINT=MS` (sleep that many milliseconds each time). A kill is a real `SIGKILL` of
//! this process, so no destructor, buffer flush or lock release in this process runs — exactly
//! what an OOM kill or `kill -9` does. The points are listed in `docs/apply.md`.
//!
//! The hit counts are the one piece of process-wide state in the crate; they exist only to
//! name "the third journal append" and are read by nothing else.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The environment variable that arms the points.
pub const VARIABLE: &str = "TRUSTOPS_TEST_FAULT";

static HITS: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());

/// Marks `name` as reached: kills or delays the process when a test asked for it.
pub fn point(name: &str) {
    let Ok(spec) = std::env::var(VARIABLE) else {
        return;
    };
    let hit = {
        let Ok(mut hits) = HITS.lock() else { return };
        let count = hits.entry(name.to_owned()).or_insert(0);
        *count += 1;
        *count
    };
    for item in spec.split(',').map(str::trim) {
        if let Some(rest) = item.strip_prefix("kill@") {
            let (at, nth) = rest
                .split_once('#')
                .map_or((rest, 1), |(p, n)| (p, n.parse().unwrap_or(1)));
            if at == name && nth == hit {
                kill_self();
            }
        } else if let Some(rest) = item.strip_prefix("delay@")
            && let Some((at, ms)) = rest.split_once('=')
            && at == name
        {
            std::thread::sleep(std::time::Duration::from_millis(ms.parse().unwrap_or(0)));
        }
    }
}

/// SIGKILL to this process (through kill(1): the crate has no `unsafe`), then wait for it.
fn kill_self() -> ! {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &std::process::id().to_string()])
        .status();
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}
