//! gzip for plan files (`plan --out plan.json.gz`): written as independent members, each
//! compressed on its own core, and read back member by member with a bound on the inflated
//! size. gzip readers (`gzip -d`, `zcat`, Python's `gzip`) read the concatenated members as
//! one file (RFC 1952, 2.2). The compressor is zlib-rs, already compiled in for Git objects.

use std::io::{self, Write};

/// The first two bytes of every gzip member.
pub(crate) const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bytes compressed into one member. Each member starts with an empty 32 KiB window, so the
/// size lost to splitting is well under 1%.
const MEMBER: usize = 4 << 20;

/// zlib's window bits for a gzip wrapper (16 + 15).
const GZIP_WINDOW: i32 = 31;

/// Why gzip bytes cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Not a deflate stream in a gzip wrapper, or its checksum does not match.
    #[error("invalid gzip data at byte {0}")]
    Corrupt(usize),
    /// The bytes end inside a member.
    #[error("the gzip data is truncated")]
    Truncated,
    /// More than the limit once inflated.
    #[error("the gzip data inflates to more than {0} bytes")]
    TooLarge(usize),
}

/// A writer that gzips what it is given: it keeps up to one member per core, then compresses
/// them on every core and writes them in order. [`Writer::finish`] writes the rest; dropping
/// the writer without it loses what is pending.
pub(crate) struct Writer<W: Write> {
    inner: W,
    pending: Vec<u8>,
    batch: usize,
    members: usize,
}

impl<W: Write> Writer<W> {
    /// A writer into `inner`.
    pub(crate) fn new(inner: W) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Writer {
            inner,
            pending: Vec::new(),
            batch: MEMBER * cores,
            members: 0,
        }
    }

    /// Compresses and writes what is pending, and flushes `inner`.
    pub(crate) fn finish(mut self) -> io::Result<W> {
        self.compress(true)?;
        if self.members == 0 {
            // An empty file is not gzip; an empty member is.
            self.inner.write_all(&member(&[])?)?;
        }
        self.inner.flush()?;
        Ok(self.inner)
    }

    /// Compresses the whole members pending (and the partial last one when `all`).
    fn compress(&mut self, all: bool) -> io::Result<()> {
        let whole = if all {
            self.pending.len()
        } else {
            self.pending.len() / MEMBER * MEMBER
        };
        let chunks: Vec<&[u8]> = self.pending[..whole].chunks(MEMBER).collect();
        let compressed = crate::parallel::ranges_of(chunks.len(), 1, |range| {
            chunks[range].iter().map(|c| member(c)).collect::<Vec<_>>()
        });
        for member in compressed.into_iter().flatten() {
            self.inner.write_all(&member?)?;
            self.members += 1;
        }
        self.pending.drain(..whole);
        Ok(())
    }
}

impl<W: Write> Writer<W> {
    /// Writes `member`, compressed elsewhere ([`member`]) from the bytes that come next, after
    /// what is pending.
    pub(crate) fn write_member(&mut self, member: &[u8]) -> io::Result<()> {
        self.compress(true)?;
        self.inner.write_all(member)?;
        self.members += 1;
        Ok(())
    }
}

impl<W: Write> Write for Writer<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= self.batch {
            self.compress(false)?;
        }
        Ok(bytes.len())
    }

    /// Members end only at [`Writer::finish`]: a flush passes nothing on.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `bytes` as one gzip member, at level 1 (zlib-rs's quick strategy: a quarter of the size of
/// JSON at about 400 MB/s per core).
pub(crate) fn member(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut config = zlib_rs::DeflateConfig::new(1);
    config.window_bits = GZIP_WINDOW;
    // compress_bound counts a zlib wrapper; gzip's header and trailer are 12 bytes longer.
    let mut out = vec![0; zlib_rs::compress_bound(bytes.len()) + 32];
    let (written, code) = zlib_rs::compress_slice(&mut out, bytes, config);
    if code != zlib_rs::ReturnCode::Ok {
        return Err(io::Error::other(format!(
            "gzip compression failed: {code:?}"
        )));
    }
    let len = written.len();
    out.truncate(len);
    Ok(out)
}

/// Inflates every member of `bytes`, refusing more than `limit` bytes of output (a small file
/// may inflate a thousandfold).
pub(crate) fn inflate(bytes: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut input = bytes;
    while !input.is_empty() {
        let mut stream = zlib_rs::Inflate::new(true, GZIP_WINDOW as u8);
        loop {
            let filled = out.len();
            let room = (input.len() * 4).clamp(64 << 10, 64 << 20);
            if filled + room > limit.saturating_add(1) {
                out.resize(limit.saturating_add(1).max(filled + 1), 0);
            } else {
                out.resize(filled + room, 0);
            }
            let (read, wrote) = (stream.total_in(), stream.total_out());
            let status =
                stream.decompress(input, &mut out[filled..], zlib_rs::InflateFlush::NoFlush);
            let consumed = (stream.total_in() - read) as usize;
            let produced = (stream.total_out() - wrote) as usize;
            out.truncate(filled + produced);
            let at = bytes.len() - input.len();
            input = &input[consumed..];
            if out.len() > limit {
                return Err(Error::TooLarge(limit));
            }
            match status {
                Ok(zlib_rs::Status::StreamEnd) => break,
                Ok(_) if consumed == 0 && produced == 0 => {
                    return Err(if input.is_empty() {
                        Error::Truncated
                    } else {
                        Error::Corrupt(at)
                    });
                }
                Ok(_) => {}
                Err(_) => return Err(Error::Corrupt(at)),
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut writer = Writer::new(Vec::new());
        // In uneven pieces, as serde_json writes.
        for piece in bytes.chunks(7_777) {
            writer.write_all(piece).unwrap();
        }
        writer.finish().unwrap()
    }

    /// Text of `len` bytes that compresses like JSON, not like zeros.
    fn text(len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut n = 0u64;
        while out.len() < len {
            n = n
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            out.extend_from_slice(
                format!("{{\"id\":\"svc-{}\",\"n\":{}}},", n >> 48, n >> 40).as_bytes(),
            );
        }
        out.truncate(len);
        out
    }

    #[test]
    fn members_written_on_every_core_inflate_back_to_the_input() {
        for len in [0, 1, MEMBER - 1, MEMBER, 3 * MEMBER + 12_345] {
            let plain = text(len);
            let compressed = gzip(&plain);
            assert!(compressed.starts_with(&MAGIC));
            if len > 1_000 {
                assert!(
                    compressed.len() < plain.len() / 2,
                    "{len}: {}",
                    compressed.len()
                );
            }
            assert_eq!(inflate(&compressed, usize::MAX).unwrap(), plain, "{len}");
        }
    }

    #[test]
    fn truncated_corrupt_and_oversized_input_is_refused() {
        let plain = text(2 * MEMBER + 99);
        let compressed = gzip(&plain);
        for cut in [1, 10, compressed.len() / 2, compressed.len() - 1] {
            assert!(
                matches!(
                    inflate(&compressed[..cut], usize::MAX),
                    Err(Error::Truncated | Error::Corrupt(_))
                ),
                "cut at {cut}"
            );
        }
        let mut flipped = compressed.clone();
        let middle = flipped.len() / 3;
        flipped[middle] ^= 0x55;
        assert!(inflate(&flipped, usize::MAX).is_err());
        let mut trailing = compressed.clone();
        trailing.extend_from_slice(b"garbage");
        assert!(matches!(
            inflate(&trailing, usize::MAX),
            Err(Error::Corrupt(_))
        ));
        assert!(matches!(
            inflate(&compressed, plain.len() - 1),
            Err(Error::TooLarge(_))
        ));
        assert_eq!(inflate(&compressed, plain.len()).unwrap(), plain);
        // A bomb: 64 MiB of zeros is 64 KiB of gzip.
        let bomb = gzip(&vec![0; 64 << 20]);
        assert!(matches!(inflate(&bomb, 1 << 20), Err(Error::TooLarge(_))));
    }
}
