#!/usr/bin/env bash
# Sets up, builds and starts a master and an agent on localhost with the
# default modules, shows that both are healthy, runs five tasks through the
# example framework, and keeps the daemons running until Ctrl-C (which stops
# both cleanly).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default

work=${KEEL_WORK_DIR:-/tmp/keel-quickstart}
mkdir -p "$work/master" "$work/agent"
build/bin/keel-master --ip=127.0.0.1 --work_dir="$work/master" 2> "$work/master.log" &
master=$!
build/bin/keel-agent --master=127.0.0.1:5050 --ip=127.0.0.1 --work_dir="$work/agent" \
  2> "$work/agent.log" &
agent=$!
trap 'kill -TERM $master $agent 2>/dev/null; wait $master $agent 2>/dev/null; echo "stopped"' EXIT
trap 'exit 0' INT TERM

healthy() {  # name port
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$2/health" 2>/dev/null; then
      echo "$1 healthy on 127.0.0.1:$2: $(curl -fsS "http://127.0.0.1:$2/version")"
      return 0
    fi
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  echo "$1 did not become healthy; its log:" >&2
  cat "$work/$1.log" >&2
  return 1
}
healthy master 5050 $master
healthy agent 5051 $agent
echo "running 5 tasks: build/bin/keel-example-framework --master=127.0.0.1:5050 --tasks=5"
# A failed run is reported, not fatal: the daemons stay up to look into it.
build/bin/keel-example-framework --master=127.0.0.1:5050 --tasks=5 ||
  echo "keel-example-framework exited with status $?" >&2
echo "logs in $work/{master,agent}.log; Ctrl-C stops both"
wait $master $agent
