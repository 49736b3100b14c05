#!/usr/bin/env bash
# Builds a libFuzzer target with clang and runs it for a while.
#   run_fuzzer.sh NAME SOURCE_DIR BUILD_DIR SECONDS
# The suite runs each target for a few seconds; for a real campaign:
#   tests/fuzz/run_fuzzer.sh envelope . build 3600
#   tests/fuzz/run_fuzzer.sh frame . build 3600
# Exits 77 (ctest: skipped) where clang++ is missing.
set -euo pipefail
name=$1 src=$2 build=$3 seconds=${4:-10}
if ! command -v clang++ >/dev/null; then
  echo "clang++ not found: fuzz target $name skipped"
  exit 77
fi
out=$build/fuzz
mkdir -p "$out/corpus-$name"
case $name in
  envelope)
    sources=("$src/tests/fuzz/envelope_fuzzer.cpp" "$src/sdk/src/envelope.cpp"
             "$build/sdk/gen/keel/wire/envelope.pb.cc")
    ;;
  frame)
    sources=("$src/tests/fuzz/frame_fuzzer.cpp" "$src/modules/transport/tcp/frame_codec.cpp"
             "$src/sdk/src/envelope.cpp" "$build/sdk/gen/keel/wire/envelope.pb.cc")
    ;;
  batch)
    sources=("$src/tests/fuzz/batch_fuzzer.cpp" "$src/modules/transport/zmq/envelope_batch.cpp"
             "$src/sdk/src/envelope.cpp" "$build/sdk/gen/keel/wire/envelope.pb.cc")
    ;;
  *)
    sources=("$src/tests/fuzz/${name}_fuzzer.cpp")
    ;;
esac
clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined \
  -I"$src" -I"$src/sdk/include" -I"$build/sdk/gen" "${sources[@]}" -lprotobuf \
  -o "$out/${name}_fuzzer"
"$out/${name}_fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
  "$out/corpus-$name"
