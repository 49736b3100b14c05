#!/usr/bin/env bash
# Installs every Debian package Keel's build and tests need. Does nothing when
# they are all present, so it is cheap to call before every build.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.74-dev            # Boost.DLL, Asio, Beast (headers only)
  libprotobuf-dev protobuf-compiler
  libzmq3-dev cppzmq-dev
  libgoogle-glog-dev libgflags-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsystemd-dev libsodium-dev libcrypt-dev
  libjemalloc-dev              # keel-master's allocator (kernel/master/CMakeLists.txt)
  musl-tools                   # keel-container-init is built static against musl (modules/containerizer/native)
  tcpdump                      # the transport-encryption test captures loopback
  clang libclang-rt-14-dev     # libFuzzer targets
  curl python3 procps iproute2
  chromium                     # tests/webui/: the web UI browser test (node and npm come with the machine)
  dpkg-dev fakeroot file lintian rpm debootstrap   # packaging/: cpack DEB/RPM, lintian, test-install.sh
  runc busybox-static          # modules/containerizer/oci/: runs tasks from images; tests build a busybox image
  libarchive-dev zlib1g-dev    # oci: reads image layers (tar, gzip)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "setup: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
