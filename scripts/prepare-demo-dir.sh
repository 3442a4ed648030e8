#!/usr/bin/env bash
# Makes DIR a fresh, empty demo directory: removes it first only when the
# demo made it (it holds the marker file .diskcache-demo); refuses (exit 2)
# when DIR exists without the marker, since it may be a real cache.
#   bash scripts/prepare-demo-dir.sh DIR
set -euo pipefail
dir="${1:?usage: bash scripts/prepare-demo-dir.sh DIR}"
marker=".diskcache-demo"
if [ -e "$dir" ]; then
  if [ -f "$dir/$marker" ]; then
    rm -rf "$dir"
  else
    echo "prepare-demo-dir: $dir exists and was not made by the demo; refusing to remove it." >&2
    echo "prepare-demo-dir: choose another DISKCACHE_DEMO_DIR, or remove it yourself." >&2
    exit 2
  fi
fi
mkdir -p "$dir"
touch "$dir/$marker"
