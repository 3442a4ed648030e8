#!/usr/bin/env bash
# Installs every Debian package diskcache-cpp needs to build, test, run the
# monitor and benchmark. Idempotent: re-running it installs nothing new.
# The CUDA toolkit is not a Debian package; CMake uses it where present
# (/usr/local/cuda) and builds without it otherwise.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libsqlite3-dev sqlite3
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev libqt6opengl6-dev libgl-dev
  qt6-qpa-plugins libxkbcommon-dev
  python3 python3-diskcache
  clang-14 libclang-rt-14-dev
  xvfb xauth
  redis-server libhiredis-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
