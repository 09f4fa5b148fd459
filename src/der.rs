//! A minimal, panic-free DER reader and writer: enough to walk PKCS#7 bundles and private keys,
//! to rebuild a key's SubjectPublicKeyInfo, and to ask and read OCSP. Definite lengths and
//! one-byte tags only.

/// One tag-length-value element.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    /// The tag byte.
    pub tag: u8,
    /// The value.
    pub content: &'a [u8],
    /// The whole element, tag and length included.
    pub raw: &'a [u8],
}

pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const SEQUENCE: u8 = 0x30;

/// Reads one element from the front of `input`; returns it and the rest.
pub(crate) fn read(input: &[u8]) -> Option<(Tlv<'_>, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    if tag & 0x1f == 0x1f {
        return None; // multi-byte tags do not occur in what we read
    }
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None; // indefinite (BER) or absurd lengths
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some((
        Tlv {
            tag,
            content: &rest[..len],
            raw: &input[..header + len],
        },
        &rest[len..],
    ))
}

/// Reads exactly one element filling all of `input`.
pub(crate) fn read_all(input: &[u8]) -> Option<Tlv<'_>> {
    match read(input)? {
        (tlv, []) => Some(tlv),
        _ => None,
    }
}

/// The elements inside a constructed value, stopping at the first malformed one.
pub(crate) fn children(content: &[u8]) -> impl Iterator<Item = Tlv<'_>> {
    let mut rest = content;
    std::iter::from_fn(move || {
        let (tlv, next) = read(rest)?;
        rest = next;
        Some(tlv)
    })
}

/// Encodes one element.
pub(crate) fn write(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// Dotted form of an OBJECT IDENTIFIER's content, written straight into one string (this runs
/// for every attribute of every certificate).
pub(crate) fn oid_string(content: &[u8]) -> Option<String> {
    use std::fmt::Write;
    let (&first, rest) = content.split_first()?;
    let top = (first / 40).min(2);
    let mut out = String::with_capacity(content.len() * 3 + 4);
    let _ = write!(out, "{top}.{}", u64::from(first) - 40 * u64::from(top));
    let mut value: u64 = 0;
    for b in rest {
        value = value.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            let _ = write!(out, ".{value}");
            value = 0;
        }
    }
    Some(out)
}

/// An AlgorithmIdentifier's content: its OID (dotted, empty when missing) and parameters.
pub(crate) fn algorithm(content: &[u8]) -> (String, Option<Tlv<'_>>) {
    let mut parts = children(content);
    let oid = parts
        .next()
        .and_then(|o| oid_string(o.content))
        .unwrap_or_default();
    (oid, parts.next())
}

/// Bits in an unsigned big-endian INTEGER content (leading zero bytes ignored).
pub(crate) fn integer_bits(content: &[u8]) -> u32 {
    let trimmed: &[u8] = {
        let start = content
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(content.len());
        &content[start..]
    };
    match trimmed.first() {
        None => 0,
        Some(first) => (trimmed.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

/// A hex number (a certificate serial as trustops records it) in decimal digits, as CFSSL's
/// database and x509-certificate-exporter's labels want it; `None` when it is not hex.
pub(crate) fn decimal(hex: &str) -> Option<String> {
    let mut digits: Vec<u8> = vec![0]; // little-endian base 10
    for c in hex.chars() {
        let mut carry = c.to_digit(16)?;
        for d in &mut digits {
            let v = u32::from(*d) * 16 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    Some(digits.iter().rev().map(|d| char::from(b'0' + d)).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn serials_in_decimal() {
        assert_eq!(
            super::decimal("0F5175DD889EEB50908E2A0FCEEDE2181977C8FA").as_deref(),
            Some("87451489444895841893864260024669709317252303098")
        );
        // 20 bytes, the most RFC 5280 allows.
        assert_eq!(
            super::decimal("ffffffffffffffffffffffffffffffffffffffff").as_deref(),
            Some("1461501637330902918203684832716283019655932542975")
        );
        assert_eq!(super::decimal("0").as_deref(), Some("0"));
        assert_eq!(super::decimal("ff").as_deref(), Some("255"));
        assert_eq!(super::decimal("xyz"), None);
    }

    use super::*;

    #[test]
    fn reads_writes_and_refuses_garbage() {
        let inner = write(INTEGER, &[0x01, 0x00]);
        let seq = write(SEQUENCE, &inner);
        let tlv = read_all(&seq).unwrap();
        assert_eq!(tlv.tag, SEQUENCE);
        assert_eq!(children(tlv.content).count(), 1);
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        let long = write(OCTET_STRING, &[7u8; 300]);
        assert_eq!(read_all(&long).unwrap().content.len(), 300);
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]).as_deref(),
            Some("1.2.840.10045.2.1")
        );
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x80, 0, 0],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
            &[0x30, 0x05, 1],
            &[0x1f, 1, 1],
        ] {
            assert!(read_all(bad).is_none(), "{bad:?}");
        }
    }
}
