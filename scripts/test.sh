#!/usr/bin/env bash
# Sets up, builds and runs every test. Extra arguments go to ctest
# (e.g. -R Loader). KEEL_PRESET=asan runs the sanitizer build instead.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${KEEL_PRESET:-default}
bash scripts/build.sh "$preset"
ctest --preset "$preset" "$@"
