//! Signing commits in-process with an SSH key (SSHSIG, namespace `git`), the format
//! `git verify-commit` checks with `gpg.format=ssh` and an `allowed_signers` file.

use super::Error;

/// An SSH private key that signs commits. The key never leaves this value: it is not
/// printed (`Debug` shows the public key only), logged or written anywhere.
pub struct Signer {
    key: ssh_key::PrivateKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Signer({})", self.public_line())
    }
}

/// What a key that is not an OpenSSH private key is instead, and what to do: a public key
/// (the `.pub` half), a PEM private key (PKCS#1, SEC1, PKCS#8), or something else.
fn not_an_openssh_private_key(text: &str) -> Option<String> {
    const PUBLIC: [&str; 5] = [
        "ssh-",
        "ecdsa-sha2-",
        "sk-ssh-",
        "sk-ecdsa-",
        "---- BEGIN SSH2 PUBLIC KEY",
    ];
    if PUBLIC.iter().any(|p| text.starts_with(p)) || text.contains("PUBLIC KEY-----") {
        return Some(
            "this is a public key; the signing key is its private half (e.g. ~/.ssh/id_ed25519, not id_ed25519.pub)"
                .into(),
        );
    }
    // The label of the first PEM block, e.g. `RSA PRIVATE KEY`.
    let label = text
        .strip_prefix("-----BEGIN ")
        .and_then(|rest| rest.split_once("-----"))
        .map(|(label, _)| label);
    match label {
        Some("OPENSSH PRIVATE KEY") => None,
        Some(label) if label.ends_with("PRIVATE KEY") => Some(format!(
            "a PEM private key (BEGIN {label}); trustops reads OpenSSH's format: `ssh-keygen -p -f COPY` rewrites a copy of it in that format"
        )),
        _ => Some(
            "not an OpenSSH private key: expected the `OPENSSH PRIVATE KEY` block `ssh-keygen -t ed25519` writes"
                .into(),
        ),
    }
}

impl Signer {
    /// Reads an OpenSSH private key (as `ssh-keygen` writes it), decrypting it with
    /// `passphrase` when it is protected.
    pub fn from_openssh(text: &str, passphrase: Option<&str>) -> Result<Self, Error> {
        let text = text.trim();
        if let Some(what) = not_an_openssh_private_key(text) {
            return Err(Error::Key(what));
        }
        let key = ssh_key::PrivateKey::from_openssh(text)
            .map_err(|e| Error::Key(format!("not an OpenSSH private key: {e}")))?;
        let key = if key.is_encrypted() {
            let passphrase = passphrase.ok_or(Error::Passphrase)?;
            key.decrypt(passphrase)
                .map_err(|_| Error::Key("the passphrase does not decrypt the signing key".into()))?
        } else {
            key
        };
        Ok(Signer { key })
    }

    /// A new Ed25519 key (from the operating system's random source), and its OpenSSH private
    /// key text for the caller to store where it belongs (outside any repository).
    pub fn generate(comment: &str) -> Result<(Signer, String), Error> {
        use ring::rand::SecureRandom;
        let mut seed = [0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| Error::Key("no randomness available".into()))?;
        let pair = ssh_key::private::Ed25519Keypair::from_seed(&seed);
        let mut key = ssh_key::PrivateKey::from(pair);
        key.set_comment(comment);
        let text = key
            .to_openssh(ssh_key::LineEnding::LF)
            .map_err(|e| Error::Key(e.to_string()))?
            .to_string();
        Ok((Signer { key }, text))
    }

    /// The public key as an `allowed_signers` / `authorized_keys` line: `ssh-ed25519 AAAA…`.
    pub fn public_line(&self) -> String {
        self.key
            .public_key()
            .to_openssh()
            .unwrap_or_else(|_| "(unprintable key)".into())
    }

    /// The SHA-256 fingerprint, as `ssh-keygen -l` prints it (`SHA256:…`).
    pub fn fingerprint(&self) -> String {
        self.key
            .public_key()
            .fingerprint(ssh_key::HashAlg::Sha256)
            .to_string()
    }

    /// An armored SSHSIG signature of `payload` in namespace `git`.
    pub fn sign(&self, payload: &[u8]) -> Result<String, Error> {
        self.sign_as(payload, "git")
    }

    /// An armored SSHSIG signature of `payload` in `namespace` (`trustops-plan` for plan files:
    /// a signature made for one purpose never passes for another).
    pub fn sign_as(&self, payload: &[u8], namespace: &str) -> Result<String, Error> {
        ssh_key::SshSig::sign(&self.key, namespace, ssh_key::HashAlg::Sha512, payload)
            .and_then(|sig| sig.to_pem(ssh_key::LineEnding::LF))
            .map_err(|e| Error::Key(format!("cannot sign: {e}")))
    }
}
