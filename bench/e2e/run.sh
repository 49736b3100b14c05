#!/bin/bash
# Builds and runs the end-to-end task benchmark; arguments go to it (--quick, ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KEEL_BUILD_DIR:-$root/build}
[ -f "$build/build.ninja" ] || cmake --preset default -S "$root" >/dev/null
cmake --build "$build" --target keel-bench-e2e >/dev/null
exec "$build/bin/keel-bench-e2e" "$@"
