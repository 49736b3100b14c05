#!/bin/bash
# Makes a busybox root file system and an OCI image layout of it from
# Debian's busybox-static, for bench/launch (and anyone who wants a tiny
# image to try the oci containerizer with):
#   make_busybox_image.sh DIR   ->  DIR/rootfs/  and  DIR/oci/ (OCI image layout)
set -euo pipefail
dir=${1:?usage: make_busybox_image.sh DIR}
busybox=/bin/busybox
[ -x "$busybox" ] || { echo "no $busybox: apt-get install busybox-static" >&2; exit 1; }
rm -rf "$dir/rootfs" "$dir/oci"
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/proc" \
  "$dir/rootfs/dev" "$dir/rootfs/mnt/mesos/sandbox" "$dir/oci/blobs/sha256"
cp "$busybox" "$dir/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ -e "$dir/rootfs/bin/$applet" ] || ln -s busybox "$dir/rootfs/bin/$applet"
done
echo 'NAME="busybox for Keel"' > "$dir/rootfs/etc/os-release"
chmod 1777 "$dir/rootfs/tmp"

blob() {  # FILE -> prints its digest and moves it into the layout
  local sum
  sum=$(sha256sum "$1" | cut -d' ' -f1)
  mv "$1" "$dir/oci/blobs/sha256/$sum"
  echo "$sum"
}
tar --numeric-owner --owner=0 --group=0 -C "$dir/rootfs" -cf "$dir/layer.tar" .
layer_size=$(stat -c %s "$dir/layer.tar")
layer=$(blob "$dir/layer.tar")
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["/bin/sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
  "$layer" > "$dir/config.json"
config_size=$(stat -c %s "$dir/config.json")
config=$(blob "$dir/config.json")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" > "$dir/manifest.json"
manifest_size=$(stat -c %s "$dir/manifest.json")
manifest=$(blob "$dir/manifest.json")
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$manifest" "$manifest_size" > "$dir/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci/oci-layout"
