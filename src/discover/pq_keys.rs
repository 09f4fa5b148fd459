//! The public half of a post-quantum private key, so that it pairs with its certificate the way
//! an RSA or EC key does:
//! - ML-DSA by key generation from its seed (FIPS 204 `KeyGen_internal`), or from its expanded
//!   key, whose `tr` must be the hash of the public key found;
//! - ML-KEM by key generation from its seed (FIPS 203), or read from the encapsulation key its
//!   expanded form embeds (checked against the hash beside it);
//! - SLH-DSA from the `PK.seed ‖ PK.root` that end its private key (RFC 9909);
//! - composite ML-DSA from both components: the ML-DSA seed, and an RSA, EC (when the key
//!   carries its public point) or Ed25519 key.
//!
//! A key holding both a seed and an expanded key (RFC 9881's `both`) must agree with itself.
//! Key bytes never leave this module; what does is the public key.

use super::algorithms::ParameterSet;
use super::keys;
use crate::der;

/// How an ML-DSA or ML-KEM private key is held in PKCS#8 (RFC 9881 §6; ML-KEM alike in
/// draft-ietf-lamps-kyber-certificates).
#[derive(Clone, Copy)]
enum Form<'a> {
    Seed(&'a [u8]),
    Expanded(&'a [u8]),
    Both { seed: &'a [u8], expanded: &'a [u8] },
}

impl<'a> Form<'a> {
    fn parse(private_key: &'a [u8]) -> Option<Form<'a>> {
        let choice = der::read_all(private_key)?;
        match choice.tag {
            0x80 => Some(Form::Seed(choice.content)),
            der::OCTET_STRING => Some(Form::Expanded(choice.content)),
            der::SEQUENCE => {
                let mut parts = der::children(choice.content);
                let seed = parts.next().filter(|p| p.tag == der::OCTET_STRING)?;
                let expanded = parts.next().filter(|p| p.tag == der::OCTET_STRING)?;
                Some(Form::Both {
                    seed: seed.content,
                    expanded: expanded.content,
                })
            }
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Form::Seed(_) => "seed",
            Form::Expanded(_) => "expanded",
            Form::Both { .. } => "both",
        }
    }
}

/// How an ML-DSA or ML-KEM private key is encoded: `seed`, `expanded` or `both`. Only the tag
/// is looked at. SLH-DSA and composite keys have one encoding and no name for it.
pub(super) fn encoding(set: &ParameterSet, private_key: &[u8]) -> Option<&'static str> {
    match set.key_type {
        "ml-dsa" | "ml-kem" => Form::parse(private_key).map(Form::name),
        _ => None,
    }
}

/// ML-KEM's encapsulation key, for one parameter set (a macro: the crate's bound on its
/// parameter sets is not public).
macro_rules! ml_kem {
    ($set:ty, $form:expr) => {{
        #[allow(deprecated)] // the expanded form is read, never written
        use ml_kem::ExpandedKeyEncoding;
        use ml_kem::{DecapsulationKey, KeyExport, Seed};
        type Key = DecapsulationKey<$set>;
        let form = $form;
        let from_seed = |seed: &[u8]| Some(Key::from_seed(Seed::try_from(seed).ok()?));
        let public = |key: &Key| key.encapsulation_key().to_bytes().to_vec();
        #[allow(deprecated)]
        let public = (|| {
            Some(match form {
                Form::Seed(seed) => Ok(public(&from_seed(seed)?)),
                // The expanded key checks the hash of the encapsulation key it embeds.
                Form::Expanded(expanded) => Ok(public(
                    &Key::from_expanded_bytes(&expanded.try_into().ok()?).ok()?,
                )),
                Form::Both { seed, expanded } => {
                    let key = from_seed(seed)?;
                    match key.to_expanded_bytes().as_slice() == expanded {
                        true => Ok(public(&key)),
                        false => Err(Disagree),
                    }
                }
            })
        })();
        public
    }};
}

/// The raw public key (the SubjectPublicKeyInfo's BIT STRING, less its unused-bits byte) of
/// `private_key`, the content of a PKCS#8 `privateKey` of parameter set `set`. `Ok(None)`
/// when it cannot be derived here: a composite ML-KEM key, and a composite whose traditional
/// half is Ed448 or an EC key without its public point. `Err` for a malformed key, or one that
/// disagrees with itself.
///
/// Key generation holds whole matrices on the stack (about 1 MiB for ML-DSA-87, twice that in
/// a debug build), more than a discovery worker may have left, so it runs on a thread of its
/// own; a panic there, on a key no test foresaw, is an error for that key, not a crash.
pub(super) fn public_key(
    set: &ParameterSet,
    private_key: &[u8],
) -> Result<Option<Vec<u8>>, String> {
    const STACK: usize = 8 << 20;
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn_scoped(scope, || derive(set, private_key))
            .map_err(|e| format!("{} private key: cannot start a thread: {e}", set.name))?;
        worker
            .join()
            .map_err(|_| format!("malformed {} private key", set.name))?
    })
}

fn derive(set: &ParameterSet, private_key: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let malformed = || format!("malformed {} private key", set.name);
    let public = match set.name {
        "ML-DSA-44" => ml_dsa::<ml_dsa::MlDsa44>(form(private_key, set)?, 2),
        "ML-DSA-65" => ml_dsa::<ml_dsa::MlDsa65>(form(private_key, set)?, 4),
        "ML-DSA-87" => ml_dsa::<ml_dsa::MlDsa87>(form(private_key, set)?, 2),
        "ML-KEM-512" => ml_kem!(ml_kem::MlKem512, form(private_key, set)?),
        "ML-KEM-768" => ml_kem!(ml_kem::MlKem768, form(private_key, set)?),
        "ML-KEM-1024" => ml_kem!(ml_kem::MlKem1024, form(private_key, set)?),
        _ => match set.key_type {
            "slh-dsa" => slh_dsa(set, private_key),
            "composite-ml-dsa" => return composite_ml_dsa(set, private_key),
            _ => return Ok(None),
        },
    };
    match public {
        Some(Ok(public)) => Ok(Some(public)),
        Some(Err(Disagree)) => Err(format!(
            "{} private key: its seed and expanded key belong to different keys",
            set.name
        )),
        None => Err(malformed()),
    }
}

/// A `both` key whose halves are two different keys.
struct Disagree;

fn form<'a>(private_key: &'a [u8], set: &ParameterSet) -> Result<Form<'a>, String> {
    Form::parse(private_key).ok_or_else(|| format!("malformed {} private key", set.name))
}

/// ML-DSA's public key (FIPS 204 `pkEncode`). `eta` is the parameter set's bound on the
/// secret vectors' coefficients, checked before the expanded key is decoded, since decoding
/// an out-of-range coefficient would panic.
fn ml_dsa<P: ml_dsa::MlDsaParams>(form: Form<'_>, eta: u8) -> Option<Result<Vec<u8>, Disagree>> {
    use ml_dsa::{ExpandedSigningKey, ExpandedSigningKeyBytes, Seed};
    let from_seed = |seed: &[u8]| -> Option<ExpandedSigningKey<P>> {
        Some(ExpandedSigningKey::<P>::from_seed(
            &Seed::try_from(seed).ok()?,
        ))
    };
    let from_expanded = |expanded: &[u8]| -> Option<ExpandedSigningKey<P>> {
        let bytes = ExpandedSigningKeyBytes::<P>::try_from(expanded).ok()?;
        secrets_in_range::<P>(expanded, eta).then_some(())?;
        #[allow(deprecated)] // the expanded form is read, never written
        Some(ExpandedSigningKey::<P>::from_expanded(&bytes))
    };
    let public = |key: &ExpandedSigningKey<P>| key.verifying_key().encode().to_vec();
    Some(match form {
        Form::Seed(seed) => Ok(public(&from_seed(seed)?)),
        Form::Expanded(expanded) => {
            let key = from_expanded(expanded)?;
            let public = public(&key);
            // `tr`, bytes 64..128, is SHAKE256 of the public key.
            match tr(&public) == expanded[64..128] {
                true => Ok(public),
                false => Err(Disagree),
            }
        }
        Form::Both { seed, expanded } => {
            let key = from_seed(seed)?;
            #[allow(deprecated)]
            let same = key.to_expanded().as_slice() == expanded;
            match same {
                true => Ok(public(&key)),
                false => Err(Disagree),
            }
        }
    })
}

/// Whether every coefficient of an expanded ML-DSA key's `s1` and `s2` lies in [−η, η], that
/// is its packed value in [0, 2η] (FIPS 204 `skDecode`; 3 bits each for η = 2, 4 for η = 4).
fn secrets_in_range<P: ml_dsa::MlDsaParams>(expanded: &[u8], eta: u8) -> bool {
    use ml_dsa::common::typenum::Unsigned;
    let (k, l) = (P::K::USIZE, P::L::USIZE);
    let bits = if eta == 2 { 3 } else { 4 };
    let count = (k + l) * 256;
    let Some(packed) = expanded.get(128..128 + count * bits / 8) else {
        return false;
    };
    (0..count).all(|i| {
        let bit = i * bits;
        let pair =
            u16::from(packed[bit / 8]) | u16::from(*packed.get(bit / 8 + 1).unwrap_or(&0)) << 8;
        (pair >> (bit % 8)) & ((1 << bits) - 1) <= u16::from(2 * eta)
    })
}

/// SHAKE256 of `public`, 64 bytes: ML-DSA's `tr`.
fn tr(public: &[u8]) -> [u8; 64] {
    use shake::digest::{ExtendableOutput, Update, XofReader};
    let mut hasher = shake::Shake256::default();
    hasher.update(public);
    let mut out = [0u8; 64];
    hasher.finalize_xof().read(&mut out);
    out
}

/// SLH-DSA: the private key is `SK.seed ‖ SK.prf ‖ PK.seed ‖ PK.root`, `n` bytes each, and
/// the public key its second half.
fn slh_dsa(set: &ParameterSet, private_key: &[u8]) -> Option<Result<Vec<u8>, Disagree>> {
    let n = match set.identifier().get(..3)? {
        "128" => 16,
        "192" => 24,
        "256" => 32,
        _ => return None,
    };
    (private_key.len() == 4 * n).then(|| Ok(private_key[2 * n..].to_vec()))
}

/// A composite ML-DSA key is `mldsaSeed ‖ tradSK` and its public key `mldsaPK ‖ tradPK`
/// (draft-ietf-lamps-pq-composite-sigs §5).
fn composite_ml_dsa(set: &ParameterSet, private_key: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let malformed = || format!("malformed {} private key", set.name);
    let (seed, traditional) = private_key.split_at_checked(32).ok_or_else(malformed)?;
    let mut public = match set.identifier() {
        "44" => ml_dsa::<ml_dsa::MlDsa44>(Form::Seed(seed), 2),
        "65" => ml_dsa::<ml_dsa::MlDsa65>(Form::Seed(seed), 4),
        _ => ml_dsa::<ml_dsa::MlDsa87>(Form::Seed(seed), 2),
    }
    .and_then(Result::ok)
    .ok_or_else(malformed)?;
    let family = set.traditional().unwrap_or_default();
    let traditional_public = if family.starts_with("RSA") {
        keys::rsa_public_key(traditional).ok_or_else(malformed)?
    } else if family == "Ed25519" {
        keys::ed25519_public_key(traditional).ok_or_else(malformed)?
    } else if family.starts_with("ECDSA") {
        // Without the point in the key, it is not computed here.
        match keys::ec_public_point(traditional) {
            Some(point) => point,
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    public.extend(traditional_public);
    Ok(Some(public))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::algorithms::by_name;

    #[test]
    fn an_expanded_key_with_an_out_of_range_secret_is_malformed_not_a_panic() {
        let set = by_name("ML-DSA-44").unwrap();
        let mut expanded = vec![0u8; 2560];
        // Every coefficient 0 is in range; a packed 7 (> 2η = 4) is not.
        assert!(secrets_in_range::<ml_dsa::MlDsa44>(&expanded, 2));
        expanded[128] = 0b0000_0111;
        assert!(!secrets_in_range::<ml_dsa::MlDsa44>(&expanded, 2));
        let key = der::write(der::OCTET_STRING, &expanded);
        assert_eq!(
            public_key(set, &key),
            Err("malformed ML-DSA-44 private key".into())
        );
    }

    #[test]
    fn random_keys_of_every_size_and_form_never_panic() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut random = |len: usize| -> Vec<u8> {
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect()
        };
        // Expanded sizes: ML-DSA-44/65/87, ML-KEM-512/768/1024.
        let sizes = [32, 64, 2560, 4032, 4896, 1632, 2400, 3168];
        for set in crate::discover::algorithms::PARAMETER_SETS {
            for &len in &sizes {
                {
                    let bytes = random(len);
                    let mut both = der::write(der::OCTET_STRING, &bytes[..32.min(len)]);
                    both.extend(der::write(der::OCTET_STRING, &bytes));
                    for key in [
                        der::write(0x80, &bytes),
                        der::write(der::OCTET_STRING, &bytes),
                        der::write(der::SEQUENCE, &both),
                        bytes.clone(),
                    ] {
                        let _ = public_key(set, &key);
                    }
                }
            }
        }
    }

    #[test]
    fn wrong_lengths_are_malformed() {
        for name in ["ML-DSA-65", "ML-KEM-768"] {
            let set = by_name(name).unwrap();
            for key in [
                der::write(0x80, &[1; 31]),
                der::write(der::OCTET_STRING, &[1; 100]),
                vec![0x05, 0x00],
            ] {
                assert!(public_key(set, &key).is_err(), "{name}");
            }
        }
        let slh = by_name("SLH-DSA-SHA2-128s").unwrap();
        assert!(public_key(slh, &[0; 63]).is_err());
        assert_eq!(public_key(slh, &[7; 64]), Ok(Some(vec![7; 32])));
    }
}
