#!/usr/bin/env bash
# A real third-party Mesos client drives Keel: installs the npm package
# mesos-framework (pinned in package-lock.json) with `npm ci`, starts a real
# keel-master and keel-agent on loopback, and runs driver.js against them
# (subscribe, launch `echo keel-npm-marker`, TASK_FINISHED, acknowledge,
# teardown). Then checks the master's /master/state and the task's sandbox.
#
#   bash run.sh BUILD_DIR SOURCE_DIR
#
# Exits 77 (skipped) when node or npm is missing.
set -euo pipefail
build_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)
here=$source_dir/tests/mesos_client
marker=keel-npm-marker

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "SKIP: node and npm are needed for the mesos-framework client test"
  exit 77
fi

# --- the client package, installed from the lock, reinstalled only when it changed
node_dir=$build_dir/tests/mesos-client-node
mkdir -p "$node_dir"
if ! cmp -s "$here/package-lock.json" "$node_dir/package-lock.json" ||
   ! cmp -s "$here/package.json" "$node_dir/package.json" ||
   [ ! -f "$node_dir/node_modules/mesos-framework/package.json" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
  echo "installing mesos-framework with npm ci into $node_dir"
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
fi
test "$(node -p "require('$node_dir/node_modules/mesos-framework/package.json').version")" = 0.5.3

tmp=$(mktemp -d)
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

show_logs() {
  local f
  for f in "$tmp"/master.log "$tmp"/agent.log "$tmp"/driver.log "$tmp"/work/logs/*; do
    [ -f "$f" ] || continue
    echo "----- $f (last 80 lines)"
    tail -n 80 "$f"
  done
}

die() {
  echo "FAIL: $*" >&2
  show_logs >&2
  exit 1
}

wait_health() {  # NAME PORT PID
  local _
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$2/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$3" 2>/dev/null || die "$1 exited before it was healthy"
    sleep 0.1
  done
  die "$1 did not answer /health on port $2"
}

master_port=$(free_port)
agent_port=$(free_port)
while [ "$agent_port" = "$master_port" ]; do agent_port=$(free_port); done
mkdir -p "$tmp/master" "$tmp/agent" "$tmp/work/logs"

"$build_dir/bin/keel-master" --ip=127.0.0.1 --port="$master_port" \
  --work_dir="$tmp/master" --allocation_interval=100ms >"$tmp/master.log" 2>&1 &
pids+=($!)
wait_health keel-master "$master_port" "${pids[-1]}"

"$build_dir/bin/keel-agent" --master="127.0.0.1:$master_port" --ip=127.0.0.1 \
  --port="$agent_port" --work_dir="$tmp/agent" \
  --resources='cpus:2;mem:1024;disk:1024' >"$tmp/agent.log" 2>&1 &
pids+=($!)
wait_health keel-agent "$agent_port" "${pids[-1]}"

# --- the driver, in a working dir of its own that has the logs/ folder the
# package writes to
start=$(date +%s)
if ! (cd "$tmp/work" && NODE_PATH="$node_dir/node_modules" \
      node "$here/driver.js" --master "127.0.0.1:$master_port" --timeout 60) \
      >"$tmp/driver.log" 2>&1; then
  cat "$tmp/driver.log"
  die "driver.js failed"
fi
grep '^driver:' "$tmp/driver.log"
echo "driver finished in $(( $(date +%s) - start )) s"

# --- what the master recorded
curl -fsS "http://127.0.0.1:$master_port/master/state" >"$tmp/state.json" ||
  die "GET /master/state failed"
node -e '
  const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const fws = (s.completed_frameworks || []).filter(f => f.name === "keel-npm-mesos-framework");
  if (fws.length !== 1) { console.error("completed_frameworks has " + fws.length + " keel-npm-mesos-framework"); process.exit(1); }
  const tasks = fws[0].completed_tasks || [];
  const done = tasks.filter(t => t.state === "TASK_FINISHED");
  if (done.length !== 1) { console.error("completed_tasks: " + JSON.stringify(tasks)); process.exit(1); }
  console.log("master state: framework " + fws[0].id + " completed, task " + done[0].id + " TASK_FINISHED");
' "$tmp/state.json" || { cat "$tmp/state.json"; echo; die "/master/state does not show the finished task"; }

# --- the task's own output, in its sandbox under the agent's work dir
stdout_files=$(find "$tmp/agent" -type f -name stdout 2>/dev/null)
[ -n "$stdout_files" ] || die "no sandbox stdout under $tmp/agent"
# shellcheck disable=SC2086
grep -lx "$marker" $stdout_files >/dev/null ||
  die "no sandbox stdout holds '$marker' (looked in: $stdout_files)"
echo "sandbox stdout holds $marker"
echo "PASS: mesos-framework 0.5.3 subscribed, launched, finished, acknowledged and tore down"
