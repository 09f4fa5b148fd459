#!/usr/bin/env bash
# Packs one release archive as the release workflow publishes it, and adds its line to the
# checksum list the installer verifies:
#
#   ci/release/package.sh TARGET BINARY OUT_DIR
#
# OUT_DIR/trustops-VERSION-TARGET.tar.gz holds trustops-VERSION-TARGET/ with the binary
# (stripped when `strip` reads it), LICENSE, README.md and CHANGELOG.md; OUT_DIR/SHA256SUMS
# gets (or replaces) its `sha256sum` line. VERSION is Cargo.toml's.
set -euo pipefail
target=${1:?usage: package.sh TARGET BINARY OUT_DIR}
binary=${2:?usage: package.sh TARGET BINARY OUT_DIR}
out=${3:?usage: package.sh TARGET BINARY OUT_DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
name="trustops-$version-$target"
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
install -m 0755 "$binary" "$stage/$name/trustops"
strip "$stage/$name/trustops" 2>/dev/null || true
cp "$root/LICENSE" "$root/README.md" "$root/CHANGELOG.md" "$stage/$name/"
# Reproducible: fixed owner, order and times, so a rebuild of a tag gives the same checksum.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='@0' -C "$stage" -cf - "$name" \
  | gzip -n -9 > "$out/$name.tar.gz"
sums="$out/SHA256SUMS"
touch "$sums"
grep -v "  $name.tar.gz\$" "$sums" > "$stage/sums" || true
(cd "$out" && sha256sum "$name.tar.gz") >> "$stage/sums"
sort -k 2 "$stage/sums" > "$sums"
echo "$out/$name.tar.gz"
