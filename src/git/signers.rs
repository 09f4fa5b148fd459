//! Checking SSH commit signatures as `git verify-commit` does with
//! `gpg.ssh.allowedSignersFile`: the signature must be an SSHSIG in namespace `git` over the
//! commit, by a key listed in the allowed-signers file for namespace `git`, valid at the
//! commit's time (`valid-after`, `valid-before`), so a signing key is rotated by adding a line.

use super::Signed;
use ssh_key::{PublicKey, SshSig};

/// One line of an allowed-signers file.
#[derive(Clone, Debug)]
struct Entry {
    principals: String,
    key: PublicKey,
    namespaces: Option<Vec<String>>,
    valid_after: Option<i64>,
    valid_before: Option<i64>,
}

/// An allowed-signers file (`ssh-keygen(1)`, ALLOWED SIGNERS).
#[derive(Clone, Debug, Default)]
pub struct AllowedSigners {
    entries: Vec<Entry>,
}

/// Who signed a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signer {
    /// The principals the key is listed for.
    pub principals: String,
    /// The key's SHA-256 fingerprint.
    pub fingerprint: String,
}

impl AllowedSigners {
    /// Parses the file's text; a line that cannot be read is an error naming its number.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            entries.push(entry(line).map_err(|e| format!("line {}: {e}", n + 1))?);
        }
        Ok(AllowedSigners { entries })
    }

    /// Checks `signed` for a commit made at `time` (seconds since the epoch).
    pub fn check(&self, signed: &Signed, time: i64) -> Result<Signer, String> {
        self.check_as(signed, time, "git", &["git"])
    }

    /// Checks a signature made in `namespace` by a key listed for one of `listed_for` (a line
    /// without `namespaces=` allows every namespace), valid at `time`.
    pub fn check_as(
        &self,
        signed: &Signed,
        time: i64,
        namespace: &str,
        listed_for: &[&str],
    ) -> Result<Signer, String> {
        let signature = SshSig::from_pem(signed.armored.trim())
            .map_err(|_| "the signature is not an SSH signature (SSHSIG)".to_owned())?;
        if signature.namespace() != namespace {
            return Err(format!(
                "the signature is for namespace {:?}, not {namespace:?}",
                signature.namespace()
            ));
        }
        let key = PublicKey::from(signature.public_key().clone());
        let fingerprint = key.fingerprint(ssh_key::HashAlg::Sha256).to_string();
        let listed: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.key.key_data() == key.key_data())
            .filter(|e| {
                e.namespaces
                    .as_ref()
                    .is_none_or(|ns| ns.iter().any(|n| listed_for.contains(&n.as_str())))
            })
            .collect();
        if listed.is_empty() {
            return Err(format!(
                "signed by {fingerprint}, a key not in allowed_signers for namespace {}",
                listed_for.join(" or ")
            ));
        }
        let valid = listed.iter().find(|e| {
            e.valid_after.is_none_or(|t| time >= t) && e.valid_before.is_none_or(|t| time < t)
        });
        let Some(entry) = valid else {
            return Err(format!(
                "signed by {fingerprint} ({}) outside the validity allowed_signers gives it",
                listed[0].principals
            ));
        };
        key.verify(namespace, &signed.payload, &signature)
            .map_err(|_| format!("the signature by {fingerprint} does not match the commit"))?;
        Ok(Signer {
            principals: entry.principals.clone(),
            fingerprint,
        })
    }
}

fn entry(line: &str) -> Result<Entry, String> {
    let (principals, rest) = line
        .split_once(char::is_whitespace)
        .ok_or("expected principals, options and a public key")?;
    let rest = rest.trim_start();
    let key_start =
        |s: &str| s.starts_with("ssh-") || s.starts_with("ecdsa-") || s.starts_with("sk-");
    let (options, key) = if key_start(rest) {
        ("", rest)
    } else {
        split_options(rest)
    };
    let key = PublicKey::from_openssh(key.trim()).map_err(|e| format!("the public key: {e}"))?;
    let mut entry = Entry {
        principals: principals.to_owned(),
        key,
        namespaces: None,
        valid_after: None,
        valid_before: None,
    };
    for option in options_list(options) {
        let (name, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
        let value = value.trim_matches('"');
        match name.to_ascii_lowercase().as_str() {
            "namespaces" => entry.namespaces = Some(value.split(',').map(str::to_owned).collect()),
            "valid-after" => entry.valid_after = Some(time(value)?),
            "valid-before" => entry.valid_before = Some(time(value)?),
            "cert-authority" => return Err("cert-authority lines are not supported".into()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(entry)
}

/// Splits `options key...` where options may hold quoted spaces.
fn split_options(text: &str) -> (&str, &str) {
    let mut quoted = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => return (&text[..i], &text[i..]),
            _ => {}
        }
    }
    (text, "")
}

/// Comma-separated options, commas inside quotes kept.
fn options_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `YYYYMMDD[HHMM[SS]][Z]` as seconds since the epoch (UTC).
fn time(text: &str) -> Result<i64, String> {
    let digits = text.trim_end_matches(['Z', 'z']);
    let bad = || format!("{text:?} is not YYYYMMDD[HHMM[SS]][Z]");
    if !digits.bytes().all(|b| b.is_ascii_digit()) || ![8, 12, 14].contains(&digits.len()) {
        return Err(bad());
    }
    let field = |range: std::ops::Range<usize>| -> Result<i16, String> {
        digits.get(range).unwrap_or("0").parse().map_err(|_| bad())
    };
    let (hour, minute, second) = if digits.len() >= 12 {
        (
            field(8..10)?,
            field(10..12)?,
            if digits.len() == 14 {
                field(12..14)?
            } else {
                0
            },
        )
    } else {
        (0, 0, 0)
    };
    let at: jiff::Timestamp = format!(
        "{:04}-{:02}-{:02}T{hour:02}:{minute:02}:{second:02}Z",
        field(0..4)?,
        field(4..6)?,
        field(6..8)?
    )
    .parse()
    .map_err(|_| bad())?;
    Ok(at.as_second())
}
