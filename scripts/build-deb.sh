#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build-deb.sh - build the Debian package, check it with lintian, and
# optionally install it and clone with the installed binary.
#
# Usage:
#   scripts/build-deb.sh [--install] [OUTDIR]
#
# Copies the source tree (the files git knows, or every file outside a git
# checkout) to a scratch directory, runs "dpkg-buildpackage -us -uc -b"
# there (so this tree stays as it was, build directories included), copies
# domclone_*.deb into OUTDIR (default ./build-deb) and runs lintian on it:
# any error or warning fails. With --install (root only): "apt-get install
# --no-install-recommends ./domclone_VERSION_ARCH.deb", then a clone made by /usr/bin/domclone
# against a private libvirtd (tests/with-libvirtd.sh), whose disk must hold
# the bytes of its source's.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

msg() { printf 'build-deb: %s\n' "$*" >&2; }
die() { msg "$*"; exit 1; }

# --- inside the private daemon: clone with the installed binary ------------
if [[ ${1:-} == --smoke-inner ]]; then
    state=$DOMCLONE_TEST_STATE
    images=$state/images
    mkdir -p "$images"
    virsh -q pool-define-as default dir --target "$images" >/dev/null
    virsh -q pool-start default >/dev/null
    head -c 4M /dev/urandom >"$state/data.raw"
    qemu-img convert -q -f raw -O qcow2 "$state/data.raw" "$images/pkg-src.qcow2"
    virsh -q pool-refresh default >/dev/null
    cat >"$state/pkg-src.xml" <<XML
<domain type='qemu'>
  <name>pkg-src</name>
  <memory unit='MiB'>128</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$images/pkg-src.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
    virsh -q define "$state/pkg-src.xml" >/dev/null
    /usr/bin/domclone --name pkg-clone pkg-src
    clone_disk=$(virsh -q domblklist pkg-clone | awk '$1 == "vda" { print $2 }')
    [[ -n $clone_disk && $clone_disk != "$images/pkg-src.qcow2" ]] ||
        die "the clone has no disk of its own (vda: '$clone_disk')"
    qemu-img compare -q "$images/pkg-src.qcow2" "$clone_disk" ||
        die "the clone's disk '$clone_disk' does not hold its source's bytes"
    msg "/usr/bin/domclone cloned pkg-src to pkg-clone, disk identical"
    exit 0
fi

install=0
if [[ ${1:-} == --install ]]; then
    install=1
    shift
fi
outdir=${1:-$top/build-deb}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)

for t in dpkg-buildpackage dh lintian; do
    command -v "$t" >/dev/null || die "$t not found (run scripts/install-deps.sh)"
done

scratch=$(mktemp -d "${TMPDIR:-/var/tmp}/build-deb.XXXXXX")
trap 'rm -rf -- "$scratch"' EXIT
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$scratch/domclone-$version
mkdir -p "$src"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked and new files, not what .gitignore leaves out (build trees)
    git -C "$top" ls-files -z --cached --others --exclude-standard |
        (cd "$top" && xargs -0 cp --parents -a -t "$src" --)
else
    cp -a "$top/." "$src"
fi

msg "dpkg-buildpackage -us -uc -b in $src"
(cd "$src" && dpkg-buildpackage -us -uc -b)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=domclone_${version}_${arch}.deb
cp -- "$scratch/$deb" "$outdir/"
msg "built $outdir/$deb"

# Errors and warnings fail; an override must say why (debian/*.lintian-overrides).
lintian --fail-on error,warning "$outdir/$deb"
msg "lintian: no error, no warning"

if ((install)); then
    ((EUID == 0)) || die "--install needs root"
    # Without the Recommends: libvirt-daemon-system would start the
    # machine's own libvirtd; the clone below runs against a private one.
    (cd "$outdir" && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "./$deb")
    # the installed binary, not a build tree's
    "$top/tests/with-libvirtd.sh" "$0" --smoke-inner
fi
