#!/usr/bin/env bash
# The main job on a fresh Debian machine, in one command:
#   bash scripts/run-demo.sh [--seconds N] [--screenshot FILE.png]
# Installs the packages, builds, starts the demo workload on a cache
# directory (DISKCACHE_DEMO_DIR, default /tmp/diskcache-demo) and opens the
# monitor on it. Without a display it says so and shows the CLI's live
# `watch` view instead. --screenshot renders the monitor offscreen after a
# few seconds of the demo and writes a PNG (for headless machines).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
screenshot=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --screenshot) screenshot="$2"; shift 2 ;;
    [0-9]*) seconds="$1"; shift ;;
    *) echo "usage: bash scripts/run-demo.sh [--seconds N] [--screenshot FILE.png]" >&2; exit 2 ;;
  esac
done
dir="${DISKCACHE_DEMO_DIR:-/tmp/diskcache-demo}"

bash scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j2 --target diskcache_cli diskcache_demo diskcache_monitor

# A fresh directory, never one the demo did not make (DISKCACHE_DEMO_DIR
# may point at a real cache).
bash scripts/prepare-demo-dir.sh "$dir"
build/app/diskcache-demo "$dir" --seconds "$seconds" &
demo=$!
trap 'kill $demo 2>/dev/null || true' EXIT
sleep 1

if [ -n "$screenshot" ]; then
  QT_QPA_PLATFORM=offscreen build/app/diskcache-monitor "$dir" --tab Locks --screenshot "$screenshot" --delay 6000
elif [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "Opening diskcache-monitor on $dir (the demo runs $seconds s; close the window to stop)."
  build/app/diskcache-monitor "$dir"
else
  echo "No display (DISPLAY/WAYLAND_DISPLAY unset): showing the CLI watch view of $dir instead."
  echo "(bash scripts/run-demo.sh --screenshot monitor.png writes a PNG of the monitor offscreen.)"
  build/app/diskcache watch "$dir" --interval 1 --iterations "$((seconds - 2))"
fi
kill $demo 2>/dev/null || true
wait $demo 2>/dev/null || true
build/app/diskcache locks "$dir"
