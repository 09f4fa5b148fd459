//! A CycloneDX 1.6 cryptography bill of materials (CBOM) of what was discovered: each
//! certificate, key and secret as a `cryptographic-asset` component, each algorithm they use
//! with its primitive, parameter set and NIST quantum security level (0: quantum-vulnerable),
//! and dependencies from certificates to their keys, algorithms and issuers. With a plan, each
//! declared credential carries its identity, owner, policy and trust domain as properties.
//! Values of keys and secrets are never written: only their facts and fingerprints.

use crate::discover::algorithms::{self, QuantumSafety};
use crate::discover::{Credential, CredentialKind, Inventory};
use crate::plan::Plan;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

/// Writes the BOM of `inventory` (and, when given, what `plan` says of each credential) made at
/// `now`.
pub fn write(
    out: &mut dyn Write,
    inventory: &Inventory,
    plan: Option<&Plan>,
    now: jiff::Timestamp,
) -> io::Result<()> {
    let bom = bom(inventory, plan, now);
    serde_json::to_writer_pretty(&mut *out, &bom)?;
    out.write_all(b"\n")
}

/// What a plan says of a discovered credential.
struct Declared<'a> {
    identity: &'a str,
    credential: &'a str,
    owner: Option<&'a str>,
    policy: Option<&'a str>,
    trust_domain: Option<&'a str>,
    state: &'static str,
}

fn bom(inventory: &Inventory, plan: Option<&Plan>, now: jiff::Timestamp) -> Value {
    let mut declared: HashMap<&str, Declared<'_>> = HashMap::new();
    for c in plan.map(|p| p.credentials.as_slice()).unwrap_or_default() {
        let facts = c.superseded.iter().map(|f| (f, "superseded"));
        for (facts, state) in facts.chain(c.current.iter().map(|f| (f, "current"))) {
            declared.insert(
                &facts.sha256,
                Declared {
                    identity: &c.identity,
                    credential: &c.credential,
                    owner: c.owner.as_deref(),
                    policy: c.policy.as_deref(),
                    trust_domain: c.trust_domain.as_deref(),
                    state,
                },
            );
        }
    }
    let mut algorithms: BTreeMap<String, Value> = BTreeMap::new();
    let mut components = Vec::new();
    let mut dependencies = Vec::new();
    let mut public_keys: BTreeMap<String, Value> = BTreeMap::new();
    // A CA's subject → its certificate, for the issued-by dependency.
    let cas: HashMap<&str, &str> = inventory
        .credentials
        .iter()
        .filter(|c| c.is_ca == Some(true))
        .filter_map(|c| Some((c.subject.as_deref()?, c.sha256.as_str())))
        .collect();
    for c in &inventory.credentials {
        let key_algorithm = key_algorithm(c, &mut algorithms);
        let mut properties = vec![
            property("trustops:fingerprint", &c.sha256),
            property("trustops:kind", c.kind.as_str()),
        ];
        if let Some(class) = c.quantum_safety {
            properties.push(property("trustops:quantum-safety", class.as_str()));
        }
        for location in c.locations.iter().take(10) {
            properties.push(property("trustops:location", &location.display()));
        }
        if let Some(d) = declared.get(c.sha256.as_str()) {
            properties.push(property("trustops:identity", d.identity));
            properties.push(property("trustops:credential", d.credential));
            properties.push(property("trustops:state", d.state));
            for (name, value) in [
                ("trustops:owner", d.owner),
                ("trustops:policy", d.policy),
                ("trustops:trust-domain", d.trust_domain),
            ] {
                if let Some(value) = value {
                    properties.push(property(name, value));
                }
            }
        }
        match c.kind {
            CredentialKind::X509Certificate => {
                let reference = format!("certificate:{}", c.sha256);
                let signature = c
                    .signature_algorithm
                    .as_deref()
                    .map(|name| signature_algorithm(name, &mut algorithms));
                let public_key = c.public_key_sha256.as_ref().map(|sha| {
                    let reference = format!("public-key:{sha}");
                    public_keys.entry(reference.clone()).or_insert_with(|| {
                        material(
                            &reference,
                            "public-key",
                            c,
                            key_algorithm.as_deref(),
                            vec![property("trustops:fingerprint", sha)],
                        )
                    });
                    reference
                });
                let mut certificate = serde_json::Map::new();
                insert(&mut certificate, "subjectName", c.subject.as_deref());
                insert(&mut certificate, "issuerName", c.issuer.as_deref());
                insert(
                    &mut certificate,
                    "notValidBefore",
                    c.not_before.map(|t| time(t.0)).as_deref(),
                );
                insert(
                    &mut certificate,
                    "notValidAfter",
                    c.not_after.map(|t| time(t.0)).as_deref(),
                );
                insert(
                    &mut certificate,
                    "signatureAlgorithmRef",
                    signature.as_deref(),
                );
                insert(
                    &mut certificate,
                    "subjectPublicKeyRef",
                    public_key.as_deref(),
                );
                certificate.insert("certificateFormat".into(), "X.509".into());
                if let Some(serial) = &c.serial {
                    properties.push(property("trustops:serial", serial));
                }
                components.push(json!({
                    "type": "cryptographic-asset",
                    "bom-ref": reference,
                    "name": c.subject.as_deref().map_or_else(|| crate::discover::short(&c.sha256, 16).to_owned(), str::to_owned),
                    "cryptoProperties": {
                        "assetType": "certificate",
                        "certificateProperties": certificate,
                    },
                    "properties": properties,
                }));
                let issuer = c
                    .issuer
                    .as_deref()
                    .and_then(|i| cas.get(i))
                    .filter(|sha| **sha != c.sha256)
                    .map(|sha| format!("certificate:{sha}"));
                let depends: Vec<String> = [public_key, signature, issuer]
                    .into_iter()
                    .flatten()
                    .collect();
                dependencies.push(json!({"ref": reference, "dependsOn": depends}));
            }
            kind => {
                let (prefix, material_type) = match kind {
                    CredentialKind::PrivateKey => ("private-key", "private-key"),
                    CredentialKind::SshPublicKey | CredentialKind::PublicKey => {
                        ("public-key", "public-key")
                    }
                    CredentialKind::Token => ("token", "token"),
                    CredentialKind::ApiKey => ("credential", "credential"),
                    _ => ("secret", "secret-key"),
                };
                let reference = format!("{prefix}:{}", c.sha256);
                let component = material(
                    &reference,
                    material_type,
                    c,
                    key_algorithm.as_deref(),
                    properties,
                );
                if prefix == "public-key" {
                    // One component per public key: a certificate's subject key found on its
                    // own too is that same component, with where it was found.
                    public_keys.insert(reference, component);
                    continue;
                }
                components.push(component);
                let mut depends: Vec<String> = key_algorithm.into_iter().collect();
                // A private key whose public half is known depends on it.
                if let Some(public) = c
                    .public_key_sha256
                    .as_ref()
                    .filter(|_| kind == CredentialKind::PrivateKey)
                    .map(|sha| format!("public-key:{sha}"))
                    .filter(|r| public_keys.contains_key(r))
                {
                    depends.push(public);
                }
                dependencies.push(json!({"ref": reference, "dependsOn": depends}));
            }
        }
    }
    for (reference, key) in &public_keys {
        let algorithm = key["cryptoProperties"]["relatedCryptoMaterialProperties"]["algorithmRef"]
            .as_str()
            .map(str::to_owned);
        components.push(key.clone());
        dependencies.push(
            json!({"ref": reference, "dependsOn": algorithm.into_iter().collect::<Vec<_>>()}),
        );
    }
    components.extend(algorithms.into_values());
    json!({
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": serial_number(),
        "version": 1,
        "metadata": {
            "timestamp": time(now),
            "tools": {"components": [{
                "type": "application",
                "name": "trustops",
                "version": env!("CARGO_PKG_VERSION"),
            }]},
        },
        "components": components,
        "dependencies": dependencies,
    })
}

fn property(name: &str, value: &str) -> Value {
    json!({"name": name, "value": value})
}

fn insert(map: &mut serde_json::Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        map.insert(key.into(), value.into());
    }
}

fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A key, secret or token as related crypto material: its type, algorithm, size and format,
/// never its value.
fn material(
    reference: &str,
    material_type: &str,
    c: &Credential,
    algorithm: Option<&str>,
    properties: Vec<Value>,
) -> Value {
    let mut facts = serde_json::Map::new();
    facts.insert("type".into(), material_type.into());
    insert(&mut facts, "id", c.id.as_deref());
    insert(&mut facts, "algorithmRef", algorithm);
    if let Some(bits) = c.key_bits {
        facts.insert("size".into(), bits.into());
    }
    insert(&mut facts, "format", c.format.as_deref());
    insert(
        &mut facts,
        "creationDate",
        c.created.map(|t| time(t.0)).as_deref(),
    );
    insert(
        &mut facts,
        "updateDate",
        c.last_rotated.map(|t| time(t.0)).as_deref(),
    );
    insert(
        &mut facts,
        "expirationDate",
        c.expires.map(|t| time(t.0)).as_deref(),
    );
    let name = match (material_type, &c.parameter_set, &c.key_type) {
        (_, Some(set), _) => format!("{set} {material_type}"),
        (_, None, Some(key_type)) => format!("{key_type} {material_type}"),
        _ => c.id.as_deref().unwrap_or(material_type).to_owned(),
    };
    json!({
        "type": "cryptographic-asset",
        "bom-ref": reference,
        "name": name,
        "cryptoProperties": {
            "assetType": "related-crypto-material",
            "relatedCryptoMaterialProperties": facts,
        },
        "properties": properties,
    })
}

/// The algorithm of `c`'s key, added to `algorithms` once; its bom-ref.
fn key_algorithm(c: &Credential, algorithms: &mut BTreeMap<String, Value>) -> Option<String> {
    let key_type = c.key_type.as_deref()?;
    let (name, parameter, curve) = match (key_type, &c.parameter_set) {
        (_, Some(set)) => (
            set.to_string(),
            algorithms::by_name(set).map(|p| p.identifier().to_owned()),
            None,
        ),
        ("ec", _) => (
            format!("EC-{}", c.curve.as_deref().unwrap_or("unknown")),
            None,
            c.curve.as_deref().map(str::to_owned),
        ),
        (t, _) => match c.key_bits {
            Some(bits) if t == "rsa" || t == "dsa" => (
                format!("{}-{bits}", t.to_uppercase()),
                Some(bits.to_string()),
                None,
            ),
            _ => (t.to_uppercase(), None, None),
        },
    };
    let primitive = match key_type {
        "ml-kem" | "composite-ml-kem" => "kem",
        "rsa" | "ec" | "ed25519" | "ed448" | "dsa" | "ml-dsa" | "slh-dsa" | "composite-ml-dsa" => {
            "signature"
        }
        _ => "unknown",
    };
    let level = level(QuantumSafety::of_key_type(key_type), c.security_category);
    Some(algorithm(
        algorithms,
        &name,
        primitive,
        parameter.as_deref(),
        curve.as_deref(),
        level,
        None,
    ))
}

/// A certificate's signature algorithm (OpenSSL's name), added once; its bom-ref.
fn signature_algorithm(name: &str, algorithms: &mut BTreeMap<String, Value>) -> String {
    let set = algorithms::by_name(name);
    let (level, oid) = match set {
        Some(p) => (Some(p.category), Some(p.oid)),
        // Every other signature a certificate carries is RSA, ECDSA, EdDSA or DSA.
        None => (Some(0), None),
    };
    let parameter = set.map(|p| p.identifier());
    algorithm(algorithms, name, "signature", parameter, None, level, oid)
}

/// NIST quantum security level: a post-quantum key's category, 0 for a quantum-vulnerable one.
fn level(class: Option<QuantumSafety>, category: Option<u8>) -> Option<u8> {
    match class {
        Some(QuantumSafety::Vulnerable) => Some(0),
        Some(_) => category,
        None => None,
    }
}

fn algorithm(
    algorithms: &mut BTreeMap<String, Value>,
    name: &str,
    primitive: &str,
    parameter: Option<&str>,
    curve: Option<&str>,
    level: Option<u8>,
    oid: Option<&str>,
) -> String {
    let reference = format!("algorithm:{name}");
    algorithms.entry(reference.clone()).or_insert_with(|| {
        let mut properties = serde_json::Map::new();
        properties.insert("primitive".into(), primitive.into());
        insert(&mut properties, "parameterSetIdentifier", parameter);
        insert(&mut properties, "curve", curve);
        let functions = match primitive {
            "kem" => json!(["keygen", "encapsulate", "decapsulate"]),
            "signature" => json!(["keygen", "sign", "verify"]),
            _ => json!(["unknown"]),
        };
        properties.insert("cryptoFunctions".into(), functions);
        if let Some(level) = level {
            properties.insert("nistQuantumSecurityLevel".into(), level.into());
        }
        let oid = oid.or_else(|| algorithms::by_name(name).map(|p| p.oid));
        let mut crypto = json!({"assetType": "algorithm", "algorithmProperties": properties});
        if let Some(oid) = oid {
            crypto["oid"] = oid.into();
        }
        json!({
            "type": "cryptographic-asset",
            "bom-ref": reference,
            "name": name,
            "cryptoProperties": crypto,
        })
    });
    reference
}

/// A random (version 4) UUID URN: a BOM's serial number differs on every run, as CycloneDX
/// asks, even when its content does not.
fn serial_number() -> String {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
