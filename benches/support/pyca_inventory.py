"""The anchor of `cargo bench --bench discover`: one Python process using pyca/cryptography
reading every certificate file under a folder and writing, as JSON, the facts `trustops
discover` reports for each certificate (fingerprint, subject, issuer, serial, validity, DNS
names, public-key hash, path). `--minimal` reads only the fingerprint and notAfter.
"""
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

DER = serialization.Encoding.DER
SPKI = serialization.PublicFormat.SubjectPublicKeyInfo


def facts(cert, path):
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        dns = []
    return {
        "sha256": hashlib.sha256(cert.public_bytes(DER)).hexdigest(),
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "dns_names": dns,
        "public_key_sha256": hashlib.sha256(cert.public_key().public_bytes(DER, SPKI)).hexdigest(),
        "path": path,
    }


def main():
    minimal = "--minimal" in sys.argv
    root = [a for a in sys.argv[1:] if not a.startswith("--")][0]
    out = []
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                data = f.read()
            for cert in x509.load_pem_x509_certificates(data):
                if minimal:
                    out.append((hashlib.sha256(cert.public_bytes(DER)).hexdigest(),
                                cert.not_valid_after_utc.isoformat()))
                else:
                    out.append(facts(cert, path))
    json.dump({"credentials": out}, sys.stdout)


main()
