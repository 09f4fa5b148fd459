#!/usr/bin/env bash
# Builds the trustops container image with no registry pull: a root file system assembled from
# the trustops binary and this Debian system's own packages (git, openssh-client,
# ca-certificates) with exactly the shared libraries they load, a non-root user (10001), and
# the list of the Debian packages every file came from; then an OCI image archive of it that
# `podman load`, `skopeo` or `docker load` reads.
#
#   deploy/image/build.sh OUT_DIR [TRUSTOPS_BINARY]     (default: target/release/trustops)
#
# OUT_DIR/rootfs is the file system; OUT_DIR/trustops-image.tar the OCI archive (tag
# trustops:VERSION). Runs as any user; `ldd`, `dpkg`, `strip` and python3 are needed.
set -euo pipefail
out=${1:?usage: build.sh OUT_DIR [TRUSTOPS_BINARY]}
here=$(cd "$(dirname "$0")" && pwd)
binary=${2:-$here/../../target/release/trustops}
root=$out/rootfs
rm -rf "$root"
mkdir -p "$root"/usr/local/bin "$root"/usr/bin "$root"/usr/lib/git-core "$root"/etc/ssl/certs \
  "$root"/tmp "$root"/work "$root"/dev "$root"/usr/share/doc/trustops-image
chmod 1777 "$root/tmp"

# The programs: trustops (stripped), Debian's git with the helpers fetch and push over HTTPS
# need (every other git command is built in), ssh for SSH remotes.
install -m 0755 "$binary" "$root/usr/local/bin/trustops"
strip "$root/usr/local/bin/trustops"
install -m 0755 /usr/bin/git "$root/usr/bin/git"
cp -P /usr/lib/git-core/git-remote-http /usr/lib/git-core/git-remote-https "$root/usr/lib/git-core/"
for builtin in git git-upload-pack git-receive-pack; do
  ln -s ../../bin/git "$root/usr/lib/git-core/$builtin"
done
install -m 0755 /usr/bin/ssh "$root/usr/bin/ssh"
# git runs local and some ssh transports through /bin/sh: Debian's dash, merged-usr layout.
install -m 0755 /usr/bin/dash "$root/usr/bin/dash"
ln -s dash "$root/usr/bin/sh"
ln -s usr/bin "$root/bin"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"

# Their shared libraries, as the loader resolves them here.
for exe in usr/local/bin/trustops usr/bin/git usr/lib/git-core/git-remote-http usr/bin/ssh usr/bin/dash; do
  ldd "$root/$exe" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
done | sort -u | while read -r lib; do
  cp -L --parents "$lib" "$root/"
done

# Users, name lookup, and where each file came from.
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ntrustops:x:10001:10001:trustops:/work:/usr/sbin/nologin\n' > "$root/etc/passwd"
printf 'root:x:0:\ntrustops:x:10001:\n' > "$root/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
(cd "$root" && find . -type f ! -path ./usr/local/bin/trustops ! -path './etc/*' ! -path './usr/share/doc/*' \
  | sed 's|^\.||' | while read -r f; do dpkg -S "$f" 2>/dev/null || dpkg -S "$(readlink -f "$f")" 2>/dev/null || true; done \
  | cut -d: -f1 | sort -u | while read -r p; do dpkg-query -W -f='${Package} ${Version}\n' "$p"; done) \
  > "$root/usr/share/doc/trustops-image/debian-packages.txt"

version=$("$root/usr/local/bin/trustops" --version | awk '{print $2}')
python3 "$here/oci.py" "$root" "$out/trustops-image.tar" "trustops:$version"
echo "built $out/trustops-image.tar (trustops:$version) from $(wc -l < "$root/usr/share/doc/trustops-image/debian-packages.txt") Debian packages"
