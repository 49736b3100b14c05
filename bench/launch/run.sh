#!/bin/bash
# Builds and runs the launch benchmark (as root): bare fork+exec, fork+exec
# into cgroups, the native containerizer, bare runc and the oci containerizer,
# on a busybox image made from Debian's busybox-static. Arguments go to the
# bench (--launches=N, ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KEEL_BUILD_DIR:-$root/build}
[ -f "$build/build.ninja" ] || cmake --preset default -S "$root" >/dev/null
cmake --build "$build" --target keel-bench-launch keelctl >/dev/null
work=$(mktemp -d /dev/shm/keel-bench-launch.XXXXXX)
trap 'rm -rf "$work"' EXIT
bash "$root/bench/launch/make_busybox_image.sh" "$work/image"
"$build/bin/keelctl" image import "$work/image/oci" --name=busybox:latest \
  --work_dir="$work/run/agent" >/dev/null
"$build/bin/keel-bench-launch" --work="$work/run" --rootfs="$work/image/rootfs" \
  --image=busybox:latest "$@"
