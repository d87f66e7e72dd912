#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A demo of domclone against a real libvirtd: install what is missing,
# build, start a private daemon (tests/with-libvirtd.sh: nothing of the
# host's libvirt is seen or touched), make a UEFI VM with two disks and a
# CD-ROM, clone it twice, delete the first clone, clone again, and show
# the result with virsh. Set DOMCLONE_KEEP_STATE=1 to keep the daemon's
# files for a look afterwards.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-$top/build}

if [[ -z "${DOMCLONE_TEST_URI:-}" ]]; then
    "$top/scripts/install-deps.sh"
    "$top/scripts/build.sh" "$builddir" >/dev/null
    export PATH="$builddir:$PATH"
    exec "$top/tests/with-libvirtd.sh" "$0" "$@"
fi

# --- inside the private daemon --------------------------------------------
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
state=$DOMCLONE_TEST_STATE
images=$state/images
nvram=$state/nvram
mkdir -p "$images" "$nvram"

echo "domclone demo: private libvirt at $LIBVIRT_DEFAULT_URI, files under $state"

# A pool, a 1 GiB qcow2 system disk and a 256 MiB sparse raw data disk,
# each holding a little data, an ISO for the CD-ROM, and NVRAM.
virsh -q pool-define-as default dir --target "$images" >/dev/null
virsh -q pool-start default >/dev/null
head -c 8M /dev/urandom > "$state/seed.raw"
qemu-img convert -q -f raw -O qcow2 "$state/seed.raw" "$images/natty-nilgai.qcow2"
qemu-img resize -q "$images/natty-nilgai.qcow2" 1G
truncate -s 256M "$images/natty-nilgai-data.raw"
dd if=/dev/urandom of="$images/natty-nilgai-data.raw" bs=1M count=4 seek=100 conv=notrunc status=none
truncate -s 2M "$images/debian-12-netinst.iso"
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$nvram/natty-nilgai_VARS.fd"
virsh -q pool-refresh default >/dev/null

cat > "$state/natty-nilgai.xml" <<XML
<domain type='qemu'>
  <name>natty-nilgai</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>
    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>$nvram/natty-nilgai_VARS.fd</nvram>
  </os>
  <features><acpi/></features>
  <sysinfo type='smbios'>
    <system><entry name='serial'>ds=nocloud;i=natty-nilgai;h=natty-nilgai</entry></system>
  </sysinfo>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$images/natty-nilgai.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$images/natty-nilgai-data.raw'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$images/debian-12-netinst.iso'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
    <interface type='user'><model type='virtio'/></interface>
    <serial type='pty'/>
  </devices>
</domain>
XML
step virsh define "$state/natty-nilgai.xml"

step domclone natty-nilgai
step domclone natty-nilgai
# --storage names the disks to delete: --remove-all-storage would also
# delete the CD-ROM image the clone shares with its source.
step virsh undefine --nvram natty-nilgai-clone1 --storage vda,vdb
step domclone natty-nilgai
step domclone --name natty-blue natty-nilgai
step virsh list --all
step virsh vol-list default --details
step ls -ls "$nvram"
step virsh metadata natty-nilgai http://domclone.org/xmlns/domclone/1.0
step virsh metadata natty-nilgai-clone3 http://domclone.org/xmlns/domclone/1.0
printf '\n\033[1m$ diff <(virsh dumpxml natty-nilgai) <(virsh dumpxml natty-nilgai-clone3)\033[0m\n'
diff <(virsh dumpxml natty-nilgai) <(virsh dumpxml natty-nilgai-clone3) || true
printf '\n\033[1m$ qemu-img compare natty-nilgai.qcow2 natty-nilgai-clone3.qcow2\033[0m\n'
qemu-img compare "$images/natty-nilgai.qcow2" "$images/natty-nilgai-clone3.qcow2"
step virsh start natty-nilgai
step virsh start natty-nilgai-clone3
step virsh list
virsh -q destroy natty-nilgai-clone3 >/dev/null
virsh -q destroy natty-nilgai >/dev/null
printf '\n\033[1m$ domclone --name natty..nilgai natty-nilgai; domclone natty-nilgai   # a bad name, then a running source\033[0m\n'
domclone --name 'natty..nilgai' natty-nilgai || echo "(exit status $?)"
virsh -q start natty-nilgai >/dev/null
domclone natty-nilgai || echo "(exit status $?)"
virsh -q destroy natty-nilgai >/dev/null
echo
echo "demo done: the private daemon and everything it made are removed now."
