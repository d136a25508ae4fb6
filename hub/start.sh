#!/usr/bin/env bash
# Start the course's local JupyterHub (demo: instructor + students, nbgrader exchange in a
# temporary folder, everything on 127.0.0.1). Options: hub/start.sh --help
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "hub/start.sh: $root/.venv is missing: run 'make venv' (or 'make test') first" >&2
  exit 1
fi
if [ ! -x "$root/hub/node_modules/.bin/configurable-http-proxy" ] && ! command -v configurable-http-proxy >/dev/null; then
  bash "$root/tools/sysdeps-browser.sh"
fi
exec "$py" "$root/hub/course_hub.py" start "$@"
