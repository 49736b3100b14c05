#!/bin/bash
# Builds and runs the allocator benchmark; arguments go to Google Benchmark
# (e.g. --benchmark_filter='full/drf').
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KEEL_BUILD_DIR:-$root/build}
[ -f "$build/build.ninja" ] || cmake --preset default -S "$root" >/dev/null
cmake --build "$build" --target keel-bench-allocator >/dev/null
exec "$build/bin/keel-bench-allocator" "$@"
