#!/usr/bin/env bash
# The web UI's browser test: a real keel-master serving webui/ and a real
# keel-agent on 127.0.0.1, driven by Debian's headless Chromium through
# playwright-core (webui_test.mjs). Exits 77 (skipped) without chromium or
# node.
#
#   tests/webui/run.sh <build dir> <source dir>
#
# Leaves <build>/test-artifacts/webui.png (and webui-failure.png when it fails).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 <build dir> <source dir>" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
source=$(cd "$2" && pwd)
here="$source/tests/webui"
chromium=${KEEL_CHROMIUM:-/usr/bin/chromium}

if [ ! -x "$chromium" ]; then
  echo "webui: skipped: no $chromium (scripts/setup.sh installs Debian's chromium)"
  exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "webui: skipped: node and npm are needed"
  exit 77
fi
if [ "$(node -p 'process.versions.node.split(".")[0]')" -lt 18 ]; then
  echo "webui: skipped: node $(node --version) is older than 18"
  exit 77
fi
for bin in keel-master keel-agent keelctl; do
  if [ ! -x "$build/bin/$bin" ]; then
    echo "webui: $build/bin/$bin is missing" >&2
    exit 1
  fi
done

# playwright-core in a copy under the build tree, so that the source tree
# stays clean; reinstalled only when package-lock.json changed.
deps="$build/tests/webui-node"
mkdir -p "$deps"
if ! cmp -s "$here/package-lock.json" "$deps/package-lock.json" || [ ! -d "$deps/node_modules/playwright-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$deps/"
  (cd "$deps" && npm ci --no-audit --no-fund --loglevel=error)
fi
cp "$here"/*.mjs "$deps/"

tmp=$(mktemp -d /tmp/keel-webui-test.XXXXXX)
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $rc -ne 0 ]; then
    for log in master agent; do
      echo "---- last lines of keel-$log's log ----"
      tail -n 40 "$tmp/$log.log" 2>/dev/null || true
    done
  fi
  rm -rf "$tmp"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}
master_port=$(free_port)
agent_port=$(free_port)
while [ "$agent_port" = "$master_port" ]; do agent_port=$(free_port); done

"$build/bin/keel-master" --ip=127.0.0.1 --port="$master_port" --work_dir="$tmp/master" \
  --webui_dir="$source/webui" >"$tmp/master.log" 2>&1 &
pids+=($!)
"$build/bin/keel-agent" --master="127.0.0.1:$master_port" --ip=127.0.0.1 --port="$agent_port" \
  --work_dir="$tmp/agent" '--resources=cpus:2;mem:1024;disk:1024' >"$tmp/agent.log" 2>&1 &
pids+=($!)

mkdir -p "$build/test-artifacts"
start=$(date +%s)
KEEL_MASTER="127.0.0.1:$master_port" KEEL_KEELCTL="$build/bin/keelctl" KEEL_CHROMIUM="$chromium" \
  KEEL_ARTIFACTS="$build/test-artifacts" node "$deps/webui_test.mjs"
echo "webui: passed in $(( $(date +%s) - start )) s"
