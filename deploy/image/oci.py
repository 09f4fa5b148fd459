#!/usr/bin/env python3
"""Packs a root file system as a single-layer OCI image archive (image-spec 1.0 layout in a tar):
reproducible (sorted entries, zero times, root-owned but for /work and /tmp), running as
10001:10001 with trustops as its entrypoint.

Usage: oci.py ROOTFS OUT.tar NAME:TAG
"""
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile


def layer(root: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        paths = []
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(dirs + files):
                paths.append(os.path.join(folder, name))
        for path in sorted(paths):
            rel = os.path.relpath(path, root)
            info = tar.gettarinfo(path, arcname=rel)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if rel == "work":
                info.uid = info.gid = 10001
            if info.isfile():
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
            else:
                tar.addfile(info)
    return buffer.getvalue()


def blob(out: tarfile.TarFile, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    info = tarfile.TarInfo(f"blobs/sha256/{digest}")
    info.size = len(data)
    out.addfile(info, io.BytesIO(data))
    return digest


def main() -> int:
    root, target, name = sys.argv[1:4]
    raw = layer(root)
    compressed = gzip.compress(raw, mtime=0)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {
            "User": "10001:10001",
            "Entrypoint": ["/usr/local/bin/trustops"],
            "Cmd": ["--help"],
            "WorkingDir": "/work",
            "Env": [
                "PATH=/usr/local/bin:/usr/bin",
                "HOME=/work",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
                "GIT_EXEC_PATH=/usr/lib/git-core",
            ],
            "ExposedPorts": {"9469/tcp": {}},
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]},
    }
    with tarfile.open(target, "w") as out:
        config_bytes = json.dumps(config, sort_keys=True).encode()
        layer_digest = blob(out, compressed)
        config_digest = blob(out, config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": "sha256:" + config_digest, "size": len(config_bytes)},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                        "digest": "sha256:" + layer_digest, "size": len(compressed)}],
        }
        manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
        manifest_digest = blob(out, manifest_bytes)
        index = {
            "schemaVersion": 2,
            "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "digest": "sha256:" + manifest_digest, "size": len(manifest_bytes),
                           "annotations": {"org.opencontainers.image.ref.name": name}}],
        }
        for file_name, data in (("oci-layout", json.dumps({"imageLayoutVersion": "1.0.0"}).encode()),
                                ("index.json", json.dumps(index, sort_keys=True).encode())):
            info = tarfile.TarInfo(file_name)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
