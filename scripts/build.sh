#!/usr/bin/env bash
# Configures (once) and builds a preset: default (RelWithDebInfo) or asan.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
bash scripts/setup.sh
# Compiler caches keyed by paths relative to the checkout, so that a fresh
# clone elsewhere (CI) reuses what any earlier build compiled.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
dir=build
[ "$preset" = default ] || dir=build-$preset
if [ ! -f "$dir/build.ninja" ]; then
  cmake --preset "$preset"
fi
cmake --build --preset "$preset"
