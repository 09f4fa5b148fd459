#!/bin/sh
# Installs a released trustops: downloads the archive for this machine and the release's
# SHA256SUMS, refuses an archive whose checksum does not match, and puts `trustops` in BIN_DIR.
#
#   sh install.sh VERSION [BIN_DIR]        (BIN_DIR default: $HOME/.local/bin)
#
# TRUSTOPS_RELEASES is where releases are served from, one folder per tag `vVERSION`
# (default: GitHub's release downloads of the trustops repository). What the CI templates and
# the GitHub Action run; POSIX sh, curl or wget, tar, gzip and sha256sum.
set -eu
version=${1:?usage: install.sh VERSION [BIN_DIR]}
version=${version#v}
bin_dir=${2:-$HOME/.local/bin}
releases=${TRUSTOPS_RELEASES:-https://github.com/trustops/trustops/releases/download}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64 | Linux-amd64) target=x86_64-unknown-linux-gnu ;;
  Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-gnu ;;
  *)
    echo "install.sh: no trustops release for $(uname -s) $(uname -m); build it with cargo install --git" >&2
    exit 1
    ;;
esac
name="trustops-$version-$target"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() {
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --retry 3 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$2" "$1"
  else
    echo "install.sh: needs curl or wget" >&2
    return 1
  fi
}

fetch "$releases/v$version/$name.tar.gz" "$work/$name.tar.gz" \
  || { echo "install.sh: cannot download $releases/v$version/$name.tar.gz" >&2; exit 1; }
fetch "$releases/v$version/SHA256SUMS" "$work/SHA256SUMS" \
  || { echo "install.sh: cannot download $releases/v$version/SHA256SUMS" >&2; exit 1; }
grep "  $name.tar.gz\$" "$work/SHA256SUMS" > "$work/expected" \
  || { echo "install.sh: SHA256SUMS of v$version lists no $name.tar.gz" >&2; exit 1; }
(cd "$work" && sha256sum -c --status expected) \
  || { echo "install.sh: $name.tar.gz does not match its SHA-256 in SHA256SUMS; nothing installed" >&2; exit 1; }
tar -xzf "$work/$name.tar.gz" -C "$work"
mkdir -p "$bin_dir"
install -m 0755 "$work/$name/trustops" "$bin_dir/trustops.new"
mv -f "$bin_dir/trustops.new" "$bin_dir/trustops"
"$bin_dir/trustops" --version
