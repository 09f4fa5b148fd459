//! Answering ACME challenges as declared: http-01 from a built-in responder on a declared
//! address or from files in a web root another server serves, dns-01 through a hook command
//! (`COMMAND present|cleanup NAME VALUE`). A [`Session`] lives for one order and undoes
//! everything it set up when it ends, whether the order succeeded or not.

use instant_acme::ChallengeType;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How an issuer answers challenges.
#[derive(Clone, Debug, Default)]
pub struct Solver {
    /// Address of the built-in http-01 responder.
    pub listen: Option<String>,
    /// Web root to write http-01 answers into.
    pub webroot: Option<PathBuf>,
    /// The dns-01 hook.
    pub dns01_command: Option<Vec<String>>,
    /// Folder the hook runs in (the repository).
    pub dir: PathBuf,
}

/// The name of a challenge type, as RFC 8555 spells it.
pub(super) fn name(kind: &ChallengeType) -> &'static str {
    match kind {
        ChallengeType::Http01 => "http-01",
        ChallengeType::Dns01 => "dns-01",
        ChallengeType::TlsAlpn01 => "tls-alpn-01",
        _ => "other",
    }
}

impl Solver {
    /// The challenge to answer for an identifier: http-01 when declared (not for wildcards),
    /// else dns-01.
    pub(super) fn kind_for(&self, wildcard: bool) -> Result<ChallengeType, String> {
        if !wildcard && (self.listen.is_some() || self.webroot.is_some()) {
            return Ok(ChallengeType::Http01);
        }
        if self.dns01_command.is_some() {
            return Ok(ChallengeType::Dns01);
        }
        Err(if wildcard {
            "a wildcard name needs dns01Command".into()
        } else {
            "no challenge solver is declared: set http01 or dns01Command".into()
        })
    }

    /// A session for one order.
    pub(super) fn session(&self) -> Session<'_> {
        Session {
            solver: self,
            responder: None,
            files: Vec::new(),
            records: Vec::new(),
        }
    }
}

/// The challenge answers set up for one order; dropping it takes them all down.
pub(super) struct Session<'s> {
    solver: &'s Solver,
    responder: Option<Responder>,
    files: Vec<PathBuf>,
    records: Vec<(String, String)>,
}

impl Session<'_> {
    /// Publishes the answer `value` to the challenge of `kind` with `token` for `identifier`.
    pub(super) fn present(
        &mut self,
        kind: &ChallengeType,
        identifier: &str,
        token: &str,
        value: &str,
    ) -> Result<(), String> {
        if token.is_empty()
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!("the server sent a malformed {} token", name(kind)));
        }
        match kind {
            ChallengeType::Dns01 => {
                let record = format!("_acme-challenge.{}.", identifier.trim_start_matches("*."));
                self.hook("present", &record, value)?;
                self.records.push((record, value.to_owned()));
                Ok(())
            }
            _ if self.solver.listen.is_some() => {
                if self.responder.is_none() {
                    let listen = self.solver.listen.as_deref().unwrap_or_default();
                    self.responder = Some(Responder::start(listen)?);
                }
                if let Some(responder) = &self.responder {
                    responder.answer(token, value);
                }
                Ok(())
            }
            _ => {
                let root = self.solver.webroot.as_deref().unwrap_or(Path::new("."));
                let folder = root.join(".well-known/acme-challenge");
                let path = folder.join(token);
                std::fs::create_dir_all(&folder)
                    .and_then(|()| std::fs::write(&path, value))
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                self.files.push(path);
                Ok(())
            }
        }
    }

    fn hook(&self, verb: &str, record: &str, value: &str) -> Result<(), String> {
        let mut argv = self.solver.dns01_command.clone().unwrap_or_default();
        argv.extend([verb.to_owned(), record.to_owned(), value.to_owned()]);
        let options = crate::command::Options {
            argv,
            dir: self.solver.dir.clone(),
            stdin: None,
            timeout: Duration::from_secs(120),
            max_output: 1 << 16,
            guard: None,
        };
        let outcome = crate::command::run(&options)
            .map_err(|e| format!("dns-01 hook: {}", crate::command::describe(&e)))?;
        match outcome.code {
            Some(0) => Ok(()),
            code => Err(format!(
                "dns-01 hook {verb} {record} exited with {}: {}",
                code.map_or_else(|| "a signal".to_owned(), |c| c.to_string()),
                String::from_utf8_lossy(&outcome.stderr).trim()
            )),
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        for path in &self.files {
            let _ = std::fs::remove_file(path);
        }
        for (record, value) in std::mem::take(&mut self.records) {
            let _ = self.hook("cleanup", &record, &value);
        }
        if let Some(responder) = self.responder.take() {
            responder.stop();
        }
    }
}

/// The built-in http-01 responder: serves `/.well-known/acme-challenge/TOKEN` and nothing
/// else, from a thread that lives as long as the session.
struct Responder {
    answers: Arc<Mutex<HashMap<String, String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Responder {
    fn start(listen: &str) -> Result<Self, String> {
        let listener = TcpListener::bind(listen)
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| format!("the http-01 responder cannot listen on {listen}: {e}"))?;
        let answers = Arc::new(Mutex::new(HashMap::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let answers = Arc::clone(&answers);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => serve(stream, &answers),
                        Err(_) => std::thread::sleep(Duration::from_millis(20)),
                    }
                }
            })
        };
        Ok(Responder {
            answers,
            stop,
            thread: Some(thread),
        })
    }

    fn answer(&self, token: &str, value: &str) {
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(token.to_owned(), value.to_owned());
        }
    }

    fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers one request.
fn serve(mut stream: TcpStream, answers: &Mutex<HashMap<String, String>>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split_whitespace().nth(1).unwrap_or_default();
    let answer = path
        .strip_prefix("/.well-known/acme-challenge/")
        .and_then(|token| answers.lock().ok()?.get(token).cloned());
    let response = match answer {
        Some(body) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
    };
    let _ = stream.write_all(response.as_bytes());
}
