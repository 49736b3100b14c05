#!/usr/bin/env bash
# Installs the SDK into a temporary prefix, builds sdk/template against it
# alone, installs that module into the prefix, and has keel-master accept a
# config that names it.
set -euo pipefail
build_dir=$1
source_dir=$2
umask 022  # the loader refuses module directories writable by group or others
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build_dir" --prefix "$prefix" --component sdk >/dev/null
cmake --install "$build_dir" --prefix "$prefix" --component runtime >/dev/null

cmake -S "$source_dir/sdk/template" -B "$tmp/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_INSTALL_PREFIX="$prefix" >/dev/null
cmake --build "$tmp/build"
cmake --install "$tmp/build" >/dev/null

module_dir=$(dirname "$(find "$prefix" -name 'round-robin.json' | head -n 1)")
echo "installed module in $module_dir"
test -f "$module_dir/libkeel-allocator-round-robin.so"

cat > "$tmp/master.json" <<JSON
{"allocator": {"name": "round-robin", "parameters": {"max_offers_per_step": 10}}}
JSON
# The built-in modules the default config names (the transport) come from the
# build tree; the allocator only from the prefix.
"$build_dir/bin/keel-master" --config="$tmp/master.json" \
  --module_path="$module_dir:$build_dir/lib/keel/modules" --check-config
"$build_dir/bin/keelctl" modules list --module_path="$tmp/build/modules" | grep -q round-robin

# A parameter of the wrong type is refused with the module's own manifest.
echo '{"allocator": {"name": "round-robin", "parameters": {"max_offers_per_step": "ten"}}}' \
  > "$tmp/bad.json"
if "$build_dir/bin/keel-master" --config="$tmp/bad.json" \
     --module_path="$module_dir:$build_dir/lib/keel/modules" \
     --check-config 2> "$tmp/err"; then
  echo "bad parameter was accepted" >&2
  exit 1
fi
grep -q "allocator.parameters.max_offers_per_step" "$tmp/err"
echo "sdk template: OK"
