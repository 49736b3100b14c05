#!/usr/bin/env bash
# packaging/test-install.sh BUILD_DIR SOURCE_DIR
#
# Builds the deb and rpm packages from a release build, installs the debs
# into a fresh Debian root (debootstrap --variant=minbase, cached as a
# tarball in /var/cache/keel-test) and checks them there:
#   * the daemons start from the installed config, run as the units say
#     (ExecStart, User and UMask read from the installed units), answer
#     /health, and run a task (keelctl run) through the installed modules;
#   * `keelctl modules list` shows the installed modules;
#   * libkeel-sdk-dev alone builds the module template out of tree
#     (find_package(KeelSDK)) and the installed master loads it and runs a
#     task with it;
#   * `apt-get purge` removes everything but /var/lib/keel;
#   * the rpms hold the same files as the debs (rpm -qlp).
# Exits 77 (skipped) unless root on Debian with debootstrap, and for a
# sanitizer build (packages come from the release build only).
#
# The packages come from BUILD_DIR when it is configured for /usr, else from
# ${KEEL_PKG_BUILD_DIR:-BUILD_DIR-pkg} (configured here if missing: a sibling
# of BUILD_DIR, so ccache's relative paths match and it compiles little).
set -euo pipefail

skip() {
  echo "test-install: SKIP: $*"
  exit 77
}
log() { printf '[test-install %s +%3ss] %s\n' "$(date +%T)" "$((SECONDS - start))" "$*"; }
fail() {
  echo "test-install: FAIL: $*" >&2
  exit 1
}
start=$SECONDS

[ $# -eq 2 ] || { echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2; exit 2; }
build_dir=$(realpath "$1")
source_dir=$(realpath "$2")
cache_var() { sed -n "s/^$1:[A-Z]*=//p" "$2/CMakeCache.txt"; }

[ "$(id -u)" -eq 0 ] || skip "not root"
[ -f /etc/debian_version ] && [ -r /etc/os-release ] || skip "not Debian"
command -v debootstrap >/dev/null || skip "no debootstrap (scripts/setup.sh installs it)"
for tool in dpkg-shlibdeps rpmbuild curl python3; do
  command -v $tool >/dev/null || skip "no $tool (scripts/setup.sh installs it)"
done
case "$(cache_var KEEL_SANITIZE "$build_dir")" in
  ON | TRUE | 1) skip "sanitizer build: packages come from the release build" ;;
esac
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$suite" ] || skip "no VERSION_CODENAME in /etc/os-release"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
arch=$(dpkg --print-architecture)

# --- 1. packages --------------------------------------------------------------

if [ "$(cache_var CMAKE_INSTALL_PREFIX "$build_dir")" = /usr ]; then
  pkg_dir=$build_dir
else
  pkg_dir=${KEEL_PKG_BUILD_DIR:-$build_dir-pkg}
fi
mkdir -p "$pkg_dir"
exec 8>"$pkg_dir/.test-install.lock"
flock 8  # one run at a time per build directory
export CCACHE_BASEDIR=$source_dir CCACHE_NOHASHDIR=true
if [ ! -f "$pkg_dir/CMakeCache.txt" ]; then
  log "configuring a release build for /usr in $pkg_dir"
  cmake -S "$source_dir" -B "$pkg_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_INSTALL_PREFIX=/usr -DKEEL_BUILD_TESTS=OFF -DKEEL_BUILD_BENCH=OFF >/dev/null ||
    fail "configuring $pkg_dir"
fi
[ "$(cache_var CMAKE_INSTALL_PREFIX "$pkg_dir")" = /usr ] ||
  fail "$pkg_dir is not configured with CMAKE_INSTALL_PREFIX=/usr"
case "$(cache_var KEEL_SANITIZE "$pkg_dir")" in ON | TRUE | 1) fail "$pkg_dir is a sanitizer build" ;; esac
log "building $pkg_dir"
build_log=$pkg_dir/test-install-build.log
cmake --build "$pkg_dir" -j2 --target keel_packaged >"$build_log" 2>&1 ||
  { tail -n 40 "$build_log"; fail "building $pkg_dir"; }

work=$(mktemp -d /var/tmp/keel-test-install.XXXXXX)
root=$work/root
mounts=()
pids=()
cleanup() {
  local rc=$? pid m i
  set +e
  # Only daemons still running (stop_daemon takes the ones it reaped off the
  # list: their pids may belong to another process by now).
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null; done
  log "daemons stopped"
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    m=${mounts[$i]}
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  log "unmounted"
  if grep -q " $work/" /proc/mounts; then
    echo "test-install: something is still mounted under $work; not removing it" >&2
  elif [ $rc -ne 0 ] && [ -n "${KEEL_TEST_KEEP:-}" ]; then
    echo "test-install: kept $work" >&2
  else
    rm -rf "$work"
  fi
  log "cleaned up"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "cpack -G DEB, -G RPM"
debs=$work/debs
mkdir -p "$debs" "$work/rpms"
(cd "$pkg_dir" && cpack -G DEB -B "$work/cpack-deb" >"$work/cpack-deb.log" 2>&1) ||
  { cat "$work/cpack-deb.log"; fail "cpack -G DEB"; }
(cd "$pkg_dir" && cpack -G RPM -B "$work/cpack-rpm" >"$work/cpack-rpm.log" 2>&1) ||
  { cat "$work/cpack-rpm.log"; fail "cpack -G RPM"; }
mv "$work"/cpack-deb/*.deb "$debs/"
mv "$work"/cpack-rpm/*.rpm "$work/rpms/"
packages=(keel-master keel-agent keel-modules keelctl libkeel-sdk0 libkeel-sdk-dev)
version=$(cache_var CMAKE_PROJECT_VERSION "$pkg_dir")
for p in "${packages[@]}"; do
  [ -f "$debs/${p}_${version}_${arch}.deb" ] || fail "no $debs/${p}_${version}_${arch}.deb"
done

if command -v lintian >/dev/null; then
  # No errors, no warnings: what remains (info, pedantic) is in README.md.
  log "lintian"
  lintian --fail-on error,warning "$debs"/*.deb >"$work/lintian.txt" 2>&1 ||
    { cat "$work/lintian.txt"; fail "lintian found errors or warnings"; }
fi

# --- 2. the RPMs hold the debs' files ------------------------------------------

log "rpm -qlp: same file layout as the debs"
for p in "${packages[@]}"; do
  rpm_file=$(ls "$work/rpms/$p-$version"-*.rpm)
  # Every file and symlink of the deb is in the rpm, and the rpm has nothing
  # else but directories the deb has too (rpm lists only the directories it
  # owns, not /usr and the like).
  dpkg-deb --fsys-tarfile "$debs/${p}_${version}_${arch}.deb" | tar -t | sed 's|^\./|/|' |
    sort >"$work/$p.deb.all"
  sed -n 's|/$||p' "$work/$p.deb.all" >"$work/$p.deb.dirs"
  grep -v '/$' "$work/$p.deb.all" >"$work/$p.deb.files"
  rpm -qlp --nosignature --nodigest "$rpm_file" | sort >"$work/$p.rpm.all"
  missing=$(comm -23 "$work/$p.deb.files" "$work/$p.rpm.all")
  [ -z "$missing" ] || fail "$p: in the deb, not in the rpm: $missing"
  extra=$(comm -23 "$work/$p.rpm.all" "$work/$p.deb.files" | comm -23 - "$work/$p.deb.dirs")
  [ -z "$extra" ] || fail "$p: in the rpm, not in the deb: $extra"
done
rpm -qpc --nosignature --nodigest "$work"/rpms/keel-master-*.rpm | grep -x /etc/keel/master.json >/dev/null ||
  fail "keel-master rpm: /etc/keel/master.json is not %config"
rpm -qpc --nosignature --nodigest "$work"/rpms/keel-agent-*.rpm | grep -x /etc/keel/agent.json >/dev/null ||
  fail "keel-agent rpm: /etc/keel/agent.json is not %config"

# --- 3. a fresh Debian root ------------------------------------------------------

cache=/var/cache/keel-test
mkdir -p "$cache/apt-archives/partial"
base=$cache/$suite-minbase.tar.gz
sources=/etc/apt/sources.list.d/debian.sources
if [ -f "$sources" ]; then
  mirror=$(awk '/^URIs:/ {print $2; exit}' "$sources")
else
  sources=/etc/apt/sources.list
  mirror=$(awk '$1 == "deb" {print $2; exit}' "$sources")
fi
[ -n "$mirror" ] || fail "no mirror in $sources"
(
  flock 9
  if [ ! -f "$base" ]; then
    log "debootstrap --variant=minbase $suite from $mirror (cached as $base)"
    debootstrap --variant=minbase "$suite" "$work/base" "$mirror" >"$work/debootstrap.log" 2>&1 ||
      { tail -n 30 "$work/debootstrap.log"; exit 1; }
    rm -f "$work/base/etc/apt/sources.list"
    cp "$sources" "$work/base/etc/apt/${sources#/etc/apt/}"
    printf 'APT::Install-Recommends "false";\nAcquire::Languages "none";\n' \
      >"$work/base/etc/apt/apt.conf.d/90keel-test"
    rm -rf "$work/base/var/cache/apt/archives/"*.deb
    tar -C "$work/base" -czf "$base.tmp" . && mv "$base.tmp" "$base"
    rm -rf "$work/base"
  fi
) 9>"$cache/lock" || fail "debootstrap"
log "unpacking $base"
mkdir "$root"
tar -C "$root" -xzf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount_into() {  # mount_into TARGET MOUNT-ARGS...
  local target=$root$1
  shift
  mount "$@" "$target"
  mounts+=("$target")
}
mount_into /proc -t proc proc
mount_into /sys -t sysfs -o ro sysfs
mount_into /dev --bind /dev
mount_into /var/cache/apt/archives --bind "$cache/apt-archives"  # downloads survive runs

in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
apt_in_root() {
  in_root apt-get -y -q -o Dpkg::Use-Pty=0 "$@" >>"$work/apt.log" 2>&1 ||
    { tail -n 40 "$work/apt.log"; fail "apt-get $*"; }
}
log "apt-get update in the root"
apt_in_root update
mkdir -p "$root/tmp/debs"
cp "$debs"/*.deb "$root/tmp/debs/"
chmod -R a+rX "$root/tmp/debs"

# --- 4. the runtime packages: install, check, run -----------------------------------

log "apt-get install keel-master keel-agent keel-modules keelctl libkeel-sdk0"
apt_in_root install /tmp/debs/{keel-master,keel-agent,keel-modules,keelctl,libkeel-sdk0}_"$version"_${arch}.deb

moddir=/usr/lib/$multiarch/keel/modules
in_root getent passwd keel >/dev/null || fail "no keel user"
[ "$(in_root stat -c '%U %a' /var/lib/keel/master)" = "keel 750" ] ||
  fail "/var/lib/keel/master: $(in_root stat -c '%U %a' /var/lib/keel/master), want keel 750"
[ -d "$root/var/lib/keel/agent" ] || fail "no /var/lib/keel/agent"
for d in master agent; do
  [ -d "$root/etc/keel/conf.d/$d" ] || fail "no /etc/keel/conf.d/$d"
  in_root dpkg-query -W -f='${Conffiles}\n' keel-$d | grep " /etc/keel/$d.json " >/dev/null ||
    fail "/etc/keel/$d.json is not a conffile of keel-$d"
done
[ -L "$root/etc/systemd/system/multi-user.target.wants/keel-master.service" ] ||
  fail "keel-master.service is not enabled"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/keel-agent.service" ] ||
  fail "keel-agent.service is enabled on installation"
for f in "$root"/usr/sbin/keel-master "$root"/usr/sbin/keel-agent "$root"/usr/bin/keelctl "$root$moddir"/*.so; do
  f=${f#"$root"}
  if in_root ldd "$f" | grep "not found"; then fail "$f: a library is missing"; fi
done

if command -v systemd-analyze >/dev/null; then
  # The installed units, with ExecStart pointing into the root (verify wants
  # the binary; the root has no systemd for --root=).
  log "systemd-analyze verify (and security, for the record)"
  mkdir "$work/units"
  for d in master agent; do
    sed "s|^ExecStart=/|ExecStart=$root/|" "$root/lib/systemd/system/keel-$d.service" \
      >"$work/units/keel-$d.service"
    (cd "$work/units" && systemd-analyze verify --man=no "keel-$d.service") ||
      fail "systemd-analyze verify keel-$d.service"
    (cd "$work/units" && systemd-analyze security --offline=yes "keel-$d.service" 2>/dev/null) |
      tail -n 1 | sed "s/^/  /"
  done
fi

log "keelctl modules list"
in_root keelctl modules list >"$work/modules.txt" || { cat "$work/modules.txt"; fail "keelctl modules list"; }
cat "$work/modules.txt"
for m in drf binpack native posix/usage basic curve zmq tcp; do
  grep -Eq "^[a-z]+ +$m +[^ ]+ +$moddir/lib[^ ]+\.so " "$work/modules.txt" ||
    fail "keelctl modules list: no $m in $moddir"
done
for d in master agent; do
  in_root keelctl config check /etc/keel/$d.json >/dev/null || fail "keelctl config check /etc/keel/$d.json"
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
master_port=$(free_port)
agent_port=$(free_port)
# The installed configs as they are, plus one drop-in each (the conf.d
# layout): ports that are free on this machine (the root shares its network).
echo "{\"port\": $master_port}" >"$root/etc/keel/conf.d/master/50-test.json"
echo "{\"port\": $agent_port, \"master\": \"127.0.0.1:$master_port\"}" \
  >"$root/etc/keel/conf.d/agent/50-test.json"

# shellcheck disable=SC2034 # set by start_daemon, read by indirection
master_pid='' agent_pid=''
unit_value() { sed -n "s/^$2=//p" "$root/lib/systemd/system/keel-$1.service" | tail -n 1; }
# start_daemon NAME EXTRA-FLAGS...: as systemd would start the unit: its
# ExecStart, User, Group and UMask (no systemd runs in the root).
start_daemon() {
  local name=$1 exec_start user group umask_value
  shift
  exec_start=$(unit_value "$name" ExecStart)
  user=$(unit_value "$name" User)
  group=$(unit_value "$name" Group)
  umask_value=$(unit_value "$name" UMask)
  local -a as_user=()
  if [ -n "$user" ]; then
    as_user=(setpriv --reuid="$user" --regid="${group:-$user}" --init-groups)
  fi
  # shellcheck disable=SC2086 # ExecStart is a command line
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    /bin/sh -c 'umask "$0"; exec "$@"' "${umask_value:-0022}" "${as_user[@]}" $exec_start "$@" \
    >>"$work/$name.log" 2>&1 &
  pids+=($!)
  eval "${name}_pid=$!"
}
wait_health() {  # wait_health NAME PORT
  local pid_var=${1}_pid
  for _ in $(seq 1 100); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$2/health" 2>/dev/null; then return 0; fi
    kill -0 "${!pid_var}" 2>/dev/null || { cat "$work/$1.log"; fail "keel-$1 exited"; }
    sleep 0.2
  done
  cat "$work/$1.log"
  fail "keel-$1: no /health on port $2"
}
stop_daemon() {  # stop_daemon NAME: SIGTERM, as systemctl stop; a clean exit
  local pid_var=${1}_pid rc=0 pid
  kill -TERM "${!pid_var}"
  wait "${!pid_var}" || rc=$?
  local -a running=()
  for pid in "${pids[@]}"; do [ "$pid" = "${!pid_var}" ] || running+=("$pid"); done
  pids=("${running[@]}")
  [ $rc -eq 0 ] || { cat "$work/$1.log"; fail "keel-$1 exited $rc on SIGTERM"; }
}
run_task() {  # run_task WORD: one task through the master, agent and modules
  local out
  out=$(in_root timeout 120 keelctl run --master="127.0.0.1:$master_port" --cpus=0.1 --mem=32 \
    -- echo "$1" 2>"$work/run.err") || { cat "$work/run.err"; fail "keelctl run"; }
  [ "$out" = "$1" ] || { cat "$work/run.err"; fail "keelctl run printed '$out', not '$1'"; }
}

log "starting keel-master and keel-agent as their units do"
start_daemon master
wait_health master "$master_port"
[ "$(stat -c %u "/proc/$master_pid")" = "$(in_root id -u keel)" ] || fail "keel-master does not run as keel"
start_daemon agent
wait_health agent "$agent_port"
curl -fsS "http://127.0.0.1:$master_port/version" | grep "\"library\":\"$moddir/libkeel-allocator-drf.so\"" >/dev/null ||
  fail "master /version: drf not loaded from $moddir"
if [ -f "$root/usr/share/keel/webui/index.html" ]; then
  curl -fsS -o /dev/null "http://127.0.0.1:$master_port/" || fail "master: no web UI at /"
fi
log "keelctl run (a task through the installed daemons and modules)"
run_task hello-from-the-package
stop_daemon agent
stop_daemon master
grep -q "keel-master stopped" "$work/master.log" || fail "keel-master did not log its stop"
[ "$(in_root stat -c %U /var/lib/keel/master/registry.json 2>/dev/null || echo keel)" = keel ] ||
  fail "the master's registry is not owned by keel"

# --- 5. the SDK package alone builds the template; the master loads it -------------

log "apt-get install libkeel-sdk-dev cmake g++ ninja-build"
apt_in_root install "/tmp/debs/libkeel-sdk-dev_${version}_${arch}.deb" cmake g++ ninja-build
log "building /usr/share/keel/sdk-template out of tree"
in_root /bin/sh -c 'umask 022 && cp -r /usr/share/keel/sdk-template /tmp/template &&
  cmake -S /tmp/template -B /tmp/template/build -G Ninja &&
  cmake --build /tmp/template/build' >"$work/template.log" 2>&1 ||
  { cat "$work/template.log"; fail "building the template with libkeel-sdk-dev"; }
in_root keelctl modules list --module_path=/tmp/template/build/modules | grep "round-robin" >/dev/null ||
  fail "keelctl modules list: no round-robin in the template's build"

log "the installed master with the template's allocator"
# The template's directory first, then the installed one (the transport).
start_daemon master --module_path="/tmp/template/build/modules:$moddir" --allocator=round-robin
wait_health master "$master_port"
curl -fsS "http://127.0.0.1:$master_port/version" | grep '"round-robin"' >/dev/null ||
  fail "master /version: round-robin not loaded"
start_daemon agent
wait_health agent "$agent_port"
run_task offered-by-round-robin
stop_daemon agent
stop_daemon master

# --- 6. purge ------------------------------------------------------------------------

log "apt-get purge"
rm -f "$root/etc/keel/conf.d/master/50-test.json" "$root/etc/keel/conf.d/agent/50-test.json"
apt_in_root purge "${packages[@]}"
for p in "${packages[@]}"; do
  if in_root dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep . >/dev/null; then
    fail "$p is still known to dpkg after purge"
  fi
done
for path in /etc/keel /usr/lib/$multiarch/keel /usr/share/keel /usr/include/keel \
  /usr/lib/$multiarch/cmake/KeelSDK /usr/share/doc/keel-master /usr/sbin/keel-master \
  /lib/systemd/system/keel-master.service /lib/systemd/system/keel-agent.service; do
  [ ! -e "$root$path" ] || fail "$path is still there after purge"
done
if find "$root/etc/systemd" "$root/var/lib/systemd" -name '*keel*' 2>/dev/null | grep .; then
  fail "systemd state left after purge"
fi
[ -d "$root/var/lib/keel/master" ] && [ -d "$root/var/lib/keel/agent" ] ||
  fail "/var/lib/keel did not survive purge"

log "OK ($((SECONDS - start)) s)"
