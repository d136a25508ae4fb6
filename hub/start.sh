#!/usr/bin/env bash
# The course's local JupyterHub (a demo on this machine: instructor + students, the nbgrader
# exchange in a temporary folder, everything on 127.0.0.1).
#   hub/start.sh [--port 8000] [--students ana,ben] [--fast]     start it (prints URL and passwords)
#   hub/start.sh release ASSIGNMENT --state DIR                  instructor: release to the exchange
#   hub/start.sh grade ASSIGNMENT --state DIR [--uploads DIR --roster CSV]
#                                    instructor: collect (hub + Colab uploads), autograde, feedback
#   hub/start.sh link --hub-url URL [PATH]                       the nbgitpuller link for a real hub
# All options: hub/start.sh --help  (docs/hub.md explains the whole flow)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="$root/.venv/bin/python"
if [ ! -x "$py" ]; then
  echo "hub/start.sh: $root/.venv is missing: run 'make venv' (or 'make test') first" >&2
  exit 1
fi
if ! command -v bwrap >/dev/null; then
  bash "$root/tools/sysdeps.sh"   # bubblewrap, the grading sandbox (installs it as root; else says what to do)
fi
if [ ! -x "$root/hub/node_modules/.bin/configurable-http-proxy" ] && ! command -v configurable-http-proxy >/dev/null; then
  bash "$root/tools/sysdeps-browser.sh"
fi
exec "$py" "$root/hub/course_hub.py" "$@"
