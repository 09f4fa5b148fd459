//! Discovery whose memory stays flat however many distinct credentials it finds. A collector
//! that holds [`Spill::keep`] of them writes them, in inventory order, to an unnamed temporary
//! file (a run) and starts again; the inventory is then written by merging the runs with what
//! is left in memory, duplicates joined as a collector joins them.
//!
//! A run's file is removed from its folder as soon as it is created, so nothing is left behind
//! however discovery ends; it holds compact JSON, one credential per line, which holds no
//! secret (an inventory never does).

use super::inventory::{Credential, merge_into};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::PathBuf;
use std::sync::Mutex;

/// Where and when collectors write runs.
#[derive(Debug)]
pub struct Spill {
    keep: usize,
    folder: PathBuf,
    runs: Mutex<Vec<File>>,
}

impl Spill {
    /// Collectors keep at most `keep` distinct credentials in memory each, and write runs into
    /// the system's temporary folder (`TMPDIR`).
    pub fn new(keep: usize) -> Spill {
        Spill {
            keep: keep.max(1),
            folder: std::env::temp_dir(),
            runs: Mutex::new(Vec::new()),
        }
    }

    /// How many credentials a collector keeps before it writes a run.
    pub(super) fn keep(&self) -> usize {
        self.keep
    }

    /// Writes `credentials` (in inventory order, each fingerprint once) as a run.
    pub(super) fn write(&self, credentials: &[Credential]) -> io::Result<()> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = self
            .folder
            .join(format!(".trustops-discover-{}-{n}.run", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Unnamed from here on: the kernel frees it when the last handle closes.
        std::fs::remove_file(&path)?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        for credential in credentials {
            serde_json::to_writer(&mut out, credential)?;
            out.write_all(b"\n")?;
        }
        let mut file = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.rewind()?;
        self.runs
            .lock()
            .map_err(|_| io::Error::other("a discovery worker stopped"))?
            .push(file);
        Ok(())
    }

    /// Every credential, in inventory order: the runs written and `rest` (in inventory order
    /// too) merged, each fingerprint once.
    pub(super) fn merged(&self, rest: Vec<Credential>) -> Merged {
        let runs = self
            .runs
            .lock()
            .map(|mut runs| std::mem::take(&mut *runs))
            .unwrap_or_default();
        Merged::new(runs, rest)
    }
}

/// Where [`Merged`] reads credentials from.
enum Source {
    Run(BufReader<File>, Vec<u8>),
    Memory(std::vec::IntoIter<Credential>),
}

impl Source {
    fn next(&mut self) -> io::Result<Option<Credential>> {
        match self {
            Source::Memory(rest) => Ok(rest.next()),
            Source::Run(file, line) => {
                line.clear();
                if file.read_until(b'\n', line)? == 0 {
                    return Ok(None);
                }
                serde_json::from_slice(line).map(Some).map_err(|e| {
                    io::Error::new(io::ErrorKind::InvalidData, format!("a run reads back: {e}"))
                })
            }
        }
    }
}

/// The credentials of runs and memory merged in inventory order
/// ([`super::Outcome::credentials`]).
pub struct Merged {
    sources: Vec<Source>,
    heads: Vec<Option<Credential>>,
    started: bool,
}

impl Merged {
    /// The credentials of `runs` and `rest` merged (no runs: `rest` as it is).
    pub(super) fn new(runs: Vec<File>, rest: Vec<Credential>) -> Merged {
        let mut sources: Vec<Source> = runs
            .into_iter()
            .map(|file| Source::Run(BufReader::with_capacity(1 << 20, file), Vec::new()))
            .collect();
        sources.push(Source::Memory(rest.into_iter()));
        let heads = sources.iter().map(|_| None).collect();
        Merged {
            sources,
            heads,
            started: false,
        }
    }

    fn next_merged(&mut self) -> io::Result<Option<Credential>> {
        if !self.started {
            self.started = true;
            for (head, source) in self.heads.iter_mut().zip(&mut self.sources) {
                *head = source.next()?;
            }
        }
        // Runs are few (a million credentials make tens): a scan finds the least.
        let least = self
            .heads
            .iter()
            .enumerate()
            .filter_map(|(i, h)| h.as_ref().map(|c| (i, (c.kind, &c.sha256))))
            .min_by(|a, b| a.1.cmp(&b.1))
            .map(|(i, _)| i);
        let Some(least) = least else {
            return Ok(None);
        };
        let mut credential = self.take(least)?;
        // The same credential in other runs (found by another worker, or after a run was
        // written): joined as a collector joins them, in the order the runs were written.
        for i in 0..self.heads.len() {
            while self.heads[i]
                .as_ref()
                .is_some_and(|c| c.kind == credential.kind && c.sha256 == credential.sha256)
            {
                let same = self.take(i)?;
                merge_into(&mut credential, same);
            }
        }
        credential.locations.sort();
        credential.locations.dedup();
        Ok(Some(credential))
    }

    /// The head of source `i`, replaced by its next.
    fn take(&mut self, i: usize) -> io::Result<Credential> {
        let next = self.sources[i].next()?;
        Ok(std::mem::replace(&mut self.heads[i], next).unwrap_or_default())
    }
}

impl Iterator for Merged {
    type Item = io::Result<Credential>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_merged().transpose()
    }
}

#[cfg(test)]
mod tests {
    use crate::discover::{Context, Options, discover};

    /// Files of certificates and keys where the same certificate is found in several files
    /// and by both workers: discovery that writes runs of at most 7 credentials writes the
    /// same inventory, byte for byte, as discovery that keeps everything in memory.
    #[test]
    fn an_inventory_merged_from_runs_is_the_one_kept_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        certificates(dir.path());
        let options = Options {
            paths: vec![dir.path().to_owned()],
            ..Options::default()
        };
        let context = || {
            let mut context = Context::new(dir.path().to_owned());
            context.threads = 2;
            context
        };
        let whole = discover(&options, &context()).inventory;
        assert_eq!(whole.credentials.len(), 80, "40 certificates and 40 keys");
        let mut expected = Vec::new();
        crate::render::inventory_json(&mut expected, &whole).unwrap();

        let spilling = context().with_spill(14);
        let mut outcome = discover(&options, &spilling);
        let spill = spilling.spill.as_ref().unwrap();
        let runs = spill.runs.lock().unwrap().len();
        assert!(runs >= 80 / 7 - 2, "{runs} runs written");
        assert!(outcome.inventory.credentials.len() < 14);
        let mut written = Vec::new();
        let credentials = outcome.credentials();
        crate::render::inventory_json_from(&mut written, &outcome.inventory, credentials).unwrap();
        assert_eq!(
            String::from_utf8(written).unwrap(),
            String::from_utf8(expected).unwrap()
        );
    }

    /// 40 certificates with their keys in three folders, some found again in bundles with
    /// the next, and a file that is no certificate.
    fn certificates(dir: &std::path::Path) {
        let mut certificates = Vec::new();
        for i in 0..40 {
            let key = rcgen::KeyPair::generate().unwrap();
            let mut params = rcgen::CertificateParams::new(vec![format!("h{i}.example")]).unwrap();
            params.serial_number = Some(rcgen::SerialNumber::from(i as u64 + 1));
            let cert = params.self_signed(&key).unwrap();
            certificates.push((cert.pem(), key.serialize_pem()));
        }
        for (i, (cert, key)) in certificates.iter().enumerate() {
            let folder = dir.join(format!("d{}", i % 3));
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join(format!("{i}.pem")), format!("{cert}{key}")).unwrap();
            // Copies, some in a bundle with the next: found again in other files and runs.
            if i % 4 == 0 {
                let next = &certificates[(i + 1) % certificates.len()].0;
                std::fs::write(
                    folder.join(format!("{i}-copy.pem")),
                    format!("{next}{cert}"),
                )
                .unwrap();
            }
        }
        std::fs::write(dir.join("junk.pem"), "-----BEGIN CERTIFICATE-----\nxx\n").unwrap();
    }

    /// Where no run can be written, discovery keeps everything in memory and says so: the
    /// inventory is whole.
    #[test]
    fn a_run_that_cannot_be_written_keeps_the_credentials_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        certificates(dir.path());
        let mut context = Context::new(dir.path().to_owned());
        context.threads = 2;
        context.spill = Some(std::sync::Arc::new(super::Spill {
            keep: 7,
            folder: dir.path().join("not-there"),
            runs: std::sync::Mutex::new(Vec::new()),
        }));
        let options = Options {
            paths: vec![dir.path().to_owned()],
            ..Options::default()
        };
        let mut outcome = discover(&options, &context);
        let all: Vec<_> = outcome.credentials().collect::<Result<_, _>>().unwrap();
        assert_eq!(all.len(), 80);
        assert!(
            outcome
                .inventory
                .diagnostics
                .iter()
                .any(|p| p.message.starts_with("cannot write a temporary file")),
            "{:?}",
            outcome.inventory.diagnostics
        );
    }
}
