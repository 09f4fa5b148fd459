#!/usr/bin/env python3
"""A trustops exec inventory plugin: the secrets in dotenv files.

Usage (in a Source):

    apiVersion: trustops.dev/v1alpha1
    kind: Source
    metadata: {name: dotenv}
    spec:
      exec:
        command: [python3, examples/exec-plugins/dotenv-inventory.py, services/]

Every `KEY=value` line of every `.env` or `*.env` file under the folders given becomes one
credential: `token` when the name says TOKEN, `api-key` when it says API_KEY or APIKEY, else
`secret`. The value itself is never printed: only its SHA-256, so trustops sees a rotation as a
new fingerprint. `last_rotated` is the file's modification time. The output follows
schemas/exec-inventory.schema.json.
"""
import datetime
import hashlib
import json
import os
import sys

SKIP = {".git", "node_modules", ".venv", "target"}


def kind_of(name: str) -> str:
    upper = name.upper()
    if "TOKEN" in upper:
        return "token"
    if "API_KEY" in upper or "APIKEY" in upper:
        return "api-key"
    return "secret"


def entries(path: str):
    modified = datetime.datetime.fromtimestamp(os.stat(path).st_mtime, datetime.timezone.utc)
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, 1):
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            name, value = line.split("=", 1)
            name = name.removeprefix("export ").strip()
            value = value.strip().strip("'\"")
            yield {
                "kind": kind_of(name),
                "id": f"{path}:{name}",
                "fingerprint": hashlib.sha256(value.encode()).hexdigest(),
                "last_rotated": modified.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "location": f"{path}:{number}",
                "metadata": {"variable": name, "file": path},
            }


def main() -> int:
    credentials = []
    for root in sys.argv[1:] or ["."]:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in SKIP)
            for name in sorted(files):
                if name == ".env" or name.endswith(".env"):
                    credentials.extend(entries(os.path.join(folder, name)))
    json.dump({"format_version": 1, "credentials": credentials}, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
