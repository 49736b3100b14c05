#!/bin/bash
# Builds and runs the transport benchmark; arguments go to it (--quick, ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KEEL_BUILD_DIR:-$root/build}
[ -f "$build/build.ninja" ] || cmake --preset default -S "$root" >/dev/null
cmake --build "$build" --target keel-bench-transport >/dev/null
exec "$build/bin/keel-bench-transport" "$@"
