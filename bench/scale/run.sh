#!/bin/bash
# Runs keel-bench-scale (already built: scripts/build.sh) for N agents in
# {1,000, 10,000, 50,000} and M frameworks in {10, 100}, a fresh keel-master
# each, and prints the table and the headline keys as key=value.
#   bench/scale/run.sh            # the full table, about 5 minutes
#   bench/scale/run.sh --quick    # one small case (200 agents, 1 framework)
# Other arguments go to every case (--seconds=S, --connections=C, ...).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${KEEL_BUILD_DIR:-$root/build}
bench=$build/bin/keel-bench-scale
if [ ! -x "$bench" ]; then
  echo "run.sh: no $bench; build first (bash scripts/build.sh default)" >&2
  exit 1
fi

agents=(1000 10000 50000)
frameworks=(10 100)
args=()
for a in "$@"; do
  if [ "$a" = --quick ]; then
    agents=(200)
    frameworks=(1)
    args+=(--hold_seconds=3 --warmup_seconds=1 --seconds=3)
  else
    args+=("$a")
  fi
done

declare -A fig
keys=(register_s hold_master_cores master_bytes_per_agent launches_per_s run_master_cores
  run_generator_cores
  offer_p50_ms offer_p99_ms master_bytes_per_task updates_unacked agents_unreachable)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for n in "${agents[@]}"; do
  for m in "${frameworks[@]}"; do
    echo "== $n agents, $m frameworks" >&2
    if ! "$bench" --agents="$n" --frameworks="$m" "${args[@]}" >"$out"; then
      echo "run.sh: the case of $n agents and $m frameworks failed" >&2
      exit 1
    fi
    sed "s/^/  /" "$out" >&2  # every figure of the case, for the record
    for k in "${keys[@]}"; do
      fig[$k,$n,$m]=$(sed -n "s/^$k=//p" "$out")
    done
  done
done

printf '| agents | frameworks | register s | held: master cores | B/agent | launches/s | run: master cores | generator cores | offer p50 ms | p99 ms | B/task | unacked | unreachable |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in "${agents[@]}"; do
  for m in "${frameworks[@]}"; do
    printf '| %s | %s |' "$n" "$m"
    for k in "${keys[@]}"; do printf ' %s |' "${fig[$k,$n,$m]}"; done
    printf '\n'
  done
done

# Headline keys: the largest case's registration, offers and memory per
# agent; launches and memory per task at 10,000 agents (the smallest
# framework count of the run, which is what the targets name).
big=${agents[-1]}
mid=${agents[-1]}
for n in "${agents[@]}"; do [ "$n" = 10000 ] && mid=10000; done
m0=${frameworks[0]}
worst_p99=0
for m in "${frameworks[@]}"; do
  worst_p99=$(awk -v a="$worst_p99" -v b="${fig[offer_p99_ms,$big,$m]}" 'BEGIN{print (b>a)?b:a}')
done
echo "register_s_$big=${fig[register_s,$big,$m0]}"
echo "launches_per_s_$mid=${fig[launches_per_s,$mid,$m0]}"
echo "offer_p99_ms_$big=$worst_p99"
echo "master_bytes_per_agent=${fig[master_bytes_per_agent,$big,$m0]}"
echo "master_bytes_per_task=${fig[master_bytes_per_task,$mid,$m0]}"
