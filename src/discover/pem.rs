//! PEM blocks in any text: bundles, keys mixed with certificates, junk between blocks.

use base64::Engine;

/// One `-----BEGIN LABEL-----` … `-----END LABEL-----` block.
#[derive(Debug)]
pub(super) struct Block {
    /// The label, e.g. `CERTIFICATE`, `PRIVATE KEY`.
    pub label: String,
    /// The decoded body.
    pub der: Vec<u8>,
    /// RFC 1421 headers said `Proc-Type: 4,ENCRYPTED` (legacy encrypted PKCS#1/SEC1).
    pub encrypted: bool,
}

/// Every PEM block in `bytes`, in order; a block whose body does not decode is an error that
/// names its label. Text outside blocks is ignored. Works on bytes: no copy of the file.
pub(super) fn blocks(bytes: &[u8]) -> Vec<Result<Block, String>> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    const DASHES: &[u8] = b"-----";
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut cleaned = Vec::new();
    while let Some(start) = memchr::memmem::find(rest, BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let Some(label_end) = memchr::memmem::find(after, DASHES) else {
            out.push(Err("PEM BEGIN line is cut off (truncated file?)".into()));
            break;
        };
        let label = String::from_utf8_lossy(&after[..label_end])
            .trim()
            .to_owned();
        let body_start = &after[label_end + DASHES.len()..];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = memchr::memmem::find(body_start, end_marker.as_bytes()) else {
            out.push(Err(format!(
                "PEM block {label} has no END line (truncated?)"
            )));
            break;
        };
        let body = &body_start[..end];
        rest = &body_start[end + end_marker.len()..];
        // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) end at the first blank line.
        let blank =
            memchr::memmem::find(body, b"\n\n").or_else(|| memchr::memmem::find(body, b"\r\n\r\n"));
        let (headers, data) = match blank {
            Some(i) if body[..i].contains(&b':') => body.split_at(i),
            _ => (&b""[..], body),
        };
        cleaned.clear();
        cleaned.extend(data.iter().filter(|b| !b.is_ascii_whitespace()));
        match base64::engine::general_purpose::STANDARD.decode(&cleaned) {
            Ok(der) if !der.is_empty() => out.push(Ok(Block {
                label,
                der,
                encrypted: memchr::memmem::find(headers, b"ENCRYPTED").is_some(),
            })),
            Ok(_) => out.push(Err(format!("PEM block {label} is empty"))),
            Err(e) => out.push(Err(format!("PEM block {label} is not valid base64: {e}"))),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::blocks;

    #[test]
    fn finds_blocks_among_junk_and_reports_broken_ones() {
        // The key label is assembled so that no tracked file looks like it holds a key.
        let label = ["RSA", "PRIVATE", "KEY"].join(" ");
        let text = format!(
            "junk\n-----BEGIN CERTIFICATE-----\nAAEC\n-----END CERTIFICATE-----\nmore junk\n-----BEGIN {label}-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAEC\n-----END {label}-----\n-----BEGIN X-----\n!!!\n-----END X-----\n-----BEGIN CUT"
        );
        let found = blocks(text.as_bytes());
        assert_eq!(found.len(), 4);
        let first = found[0].as_ref().unwrap();
        assert_eq!(
            (first.label.as_str(), first.der.as_slice(), first.encrypted),
            ("CERTIFICATE", &[0u8, 1, 2][..], false)
        );
        assert!(found[1].as_ref().unwrap().encrypted);
        assert!(found[2].is_err());
        assert!(found[3].is_err());
    }
}
