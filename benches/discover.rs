//! Discovery throughput on a generated tree of certificate files, against a baseline measured
//! in the same run: reading the same files with the same walk and threads, without parsing.
//!
//! ```sh
//! cargo bench --bench discover                 # 100,000 files
//! cargo bench --bench discover -- --files 20000
//! ```
//!
//! Reports files per second for both, the ratio (target: discovery under 2× the read-only
//! baseline), the cores used, and discovery's peak RSS (measured in a child process that does
//! nothing else). Then the whole command as a user runs it against a Python process using
//! pyca/cryptography on the same files (`benches/support/pyca_inventory.py`; target: ≥ 5×).

#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    missing_docs,
    reason = "a benchmark report"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use trustops::discover::{Context, Options, discover};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        return child(Path::new(&args[i + 1]));
    }
    let files: usize = args
        .iter()
        .position(|a| a == "--files")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(100_000);
    // `--dir DIR` keeps the tree (generated once) for profiling; default: a temp folder.
    let temp = tempfile::tempdir().unwrap();
    let kept = args
        .iter()
        .position(|a| a == "--dir")
        .map(|i| PathBuf::from(&args[i + 1]));
    let dir = kept.as_deref().unwrap_or(temp.path());
    if std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none()) {
        let started = Instant::now();
        generate(dir, files);
        println!(
            "generated {files} certificate files in {:.1}s",
            started.elapsed().as_secs_f64()
        );
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    read_only(dir, threads); // warm the page cache, so both sides read from memory
    let mut baseline = Vec::new();
    let mut ours = Vec::new();
    for _ in 0..3 {
        baseline.push(read_only(dir, threads));
        ours.push(discover_once(dir, threads, files));
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (base, disc) = (median(&mut baseline), median(&mut ours));
    let rate = |d: Duration| files as f64 / d.as_secs_f64();
    println!(
        "baseline  read only (walk + read, {threads} threads): {:>9.0} files/s  ({:.2}s)",
        rate(base),
        base.as_secs_f64()
    );
    println!(
        "trustops  discover  (walk + read + parse):           {:>9.0} files/s  ({:.2}s)",
        rate(disc),
        disc.as_secs_f64()
    );
    println!(
        "ratio     discover / read-only (warm page cache): {:.2}x",
        disc.as_secs_f64() / base.as_secs_f64()
    );
    // Cold caches, as a scan of a real disk meets them: each side starts with the page cache
    // dropped (needs root; skipped, and said, where the kernel refuses).
    if drop_caches() {
        let (mut cold_base, mut cold_ours) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            drop_caches();
            cold_base.push(read_only(dir, threads));
            drop_caches();
            cold_ours.push(discover_once(dir, threads, files));
        }
        let (base, disc) = (median(&mut cold_base), median(&mut cold_ours));
        println!(
            "cold      read only: {:>9.0} files/s   discover: {:>9.0} files/s   ratio {:.2}x",
            rate(base),
            rate(disc),
            disc.as_secs_f64() / base.as_secs_f64()
        );
    } else {
        println!("cold      skipped: cannot drop the page cache here (needs root)");
    }
    whole_commands(dir);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--child", &dir.to_string_lossy()])
        .output()
        .unwrap();
    print!("{}", String::from_utf8_lossy(&out.stdout));
}

/// The whole command as a user runs it (`trustops discover --path DIR --format json`, process
/// start and JSON output included) against one Python process using pyca/cryptography that
/// writes the same facts as JSON, and one that reads only fingerprint and notAfter; warm page
/// cache, the median of three, wall time and peak RSS from GNU time.
fn whole_commands(dir: &Path) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/support/pyca_inventory.py"
    );
    let folder = dir.to_string_lossy().into_owned();
    let ours = [
        "discover".to_owned(),
        "--path".to_owned(),
        folder.clone(),
        "--format".to_owned(),
        "json".to_owned(),
    ];
    let sides: [(&str, &str, Vec<String>); 3] = [
        (
            "trustops discover --format json",
            env!("CARGO_BIN_EXE_trustops"),
            ours.to_vec(),
        ),
        (
            "python pyca, the same facts",
            "python3",
            vec![script.to_owned(), folder.clone()],
        ),
        (
            "python pyca, fingerprint + notAfter",
            "python3",
            vec![script.to_owned(), folder, "--minimal".to_owned()],
        ),
    ];
    let mut results = Vec::new();
    for (name, program, args) in &sides {
        let mut runs: Vec<(f64, f64)> = (0..3).map(|_| timed(program, args)).collect();
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (seconds, mib) = runs[1];
        println!("whole     {name:<38} {seconds:>6.2}s  peak RSS {mib:>5.0} MiB");
        results.push(seconds);
    }
    println!(
        "ratio     pyca (same facts) / trustops: {:.1}x; pyca (fingerprint + notAfter) / trustops: {:.1}x (target ≥ 5x)",
        results[1] / results[0],
        results[2] / results[0]
    );
}

/// Wall seconds and peak RSS (MiB) of `program args`, output discarded, through GNU time;
/// a missing pyca/cryptography names its install step.
fn timed(program: &str, args: &[String]) -> (f64, f64) {
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "%e %M", "--"])
        .arg(program)
        .args(args)
        .stdout(std::process::Stdio::null())
        .output()
        .expect("GNU time (apt-get install time)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{program} {args:?} failed (pyca/cryptography: pip install cryptography): {stderr}"
    );
    let last = stderr.lines().last().unwrap_or_default();
    let mut fields = last.split_whitespace();
    let seconds: f64 = fields.next().unwrap().parse().unwrap();
    let kib: f64 = fields.next().unwrap().parse().unwrap();
    (seconds, kib / 1024.0)
}

/// Mints `count` distinct certificates (one CA, one leaf key; distinct names and serials) into
/// 1,000-file folders.
fn generate(dir: &Path, count: usize) {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = DistinguishedName::new();
    ca.distinguished_name.push(DnType::CommonName, "bench CA");
    let issuer = Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for t in 0..threads {
            let (issuer, leaf_key) = (&issuer, &leaf_key);
            scope.spawn(move || {
                for i in (t..count).step_by(threads) {
                    let name = format!("host-{i}.bench.example");
                    let mut params = CertificateParams::new(vec![name.clone()]).unwrap();
                    params.distinguished_name.push(DnType::CommonName, name);
                    let pem = params.signed_by(leaf_key, issuer).unwrap().pem();
                    let folder = dir.join(format!("d{:03}", i / 1000));
                    std::fs::create_dir_all(&folder).unwrap();
                    std::fs::write(folder.join(format!("c{i}.pem")), pem).unwrap();
                }
            });
        }
    });
}

/// The baseline: the same walk, the same reads, the same threads, no parsing.
fn read_only(dir: &Path, threads: usize) -> Duration {
    let started = Instant::now();
    let paths: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .flatten()
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    let total: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(paths.len().div_ceil(threads).max(1))
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| std::fs::read(p).map_or(0, |b| std::hint::black_box(b).len()))
                        .sum::<usize>()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    std::hint::black_box(total);
    started.elapsed()
}

fn discover_once(dir: &Path, threads: usize, expected: usize) -> Duration {
    let started = Instant::now();
    let outcome = discover_path(dir, threads);
    let elapsed = started.elapsed();
    assert_eq!(
        outcome.inventory.credentials.len(),
        expected,
        "every certificate once"
    );
    elapsed
}

/// `trustops discover --path DIR`, as a library call.
fn discover_path(dir: &Path, threads: usize) -> trustops::discover::Outcome {
    let options = Options {
        paths: vec![dir.to_owned()],
        ..Options::default()
    };
    let context = Context {
        threads,
        ..Context::new(dir.to_owned())
    };
    discover(&options, &context)
}

/// Empties the page cache; false when not allowed.
fn drop_caches() -> bool {
    let _ = std::process::Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "3").is_ok()
}

/// In a fresh process: one discovery, then its peak RSS and CPU time from /proc.
fn child(dir: &Path) {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let outcome = discover_path(dir, threads);
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .unwrap_or("VmHWM: ? kB")
        .trim_start_matches("VmHWM:")
        .trim()
        .to_owned();
    println!(
        "discover  {} credentials: peak RSS {peak}, {:.2} cores busy (CPU {cpu:.2}s / wall {wall:.2}s)",
        outcome.inventory.credentials.len(),
        cpu / wall
    );
}

/// User + system CPU seconds of this process (Linux /proc; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
