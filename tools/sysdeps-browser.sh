#!/usr/bin/env bash
# System packages of the browser and hub tests (tests/browser, tests/hub):
#   * Debian's `chromium` (Playwright drives it; we never download Playwright's own browser build);
#   * Node.js, and configurable-http-proxy from npm, pinned by hub/package-lock.json and
#     installed project-locally into hub/node_modules (the JupyterHub proxy).
#
# Idempotent, quiet and fast when everything is already there. It installs only when it can
# (root + apt-get / npm); otherwise it says what is missing and exits 0: the build goes on.
# The tests then skip with that reason, except in CI (CI=true), where a missing browser fails.
set -u

here="$(cd "$(dirname "$0")/.." && pwd)"
hub="$here/hub"
warn() { echo "sysdeps-browser: $*" >&2; }

find_chromium() {
  for c in "${DLCOURSE_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [ -n "$c" ] && [ -x "$c" ]; then echo "$c"; return 0; fi
  done
  return 1
}

apt_updated=0
apt_install() {  # apt_install PKG... ; returns apt-get's status
  local log
  log=$(mktemp)
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "$@" >"$log" 2>&1; then
    if [ "$apt_updated" = 0 ]; then
      apt_updated=1
      apt-get update -qq >>"$log" 2>&1 || true   # a fresh machine may have no package lists yet
    fi
    if ! apt-get install -y -qq --no-install-recommends "$@" >>"$log" 2>&1; then
      warn "apt-get install $* failed; last lines:"
      tail -n 5 "$log" >&2
      rm -f "$log"
      return 1
    fi
  fi
  rm -f "$log"
  return 0
}

can_apt=0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  can_apt=1
fi

# 1. Chromium (and a font, so that screenshots show text).
if ! find_chromium >/dev/null; then
  if [ "$can_apt" = 1 ]; then
    if apt_install chromium fonts-dejavu-core && find_chromium >/dev/null; then
      echo "sysdeps-browser: installed $($(find_chromium) --version 2>/dev/null | head -n 1)"
    fi
  else
    warn "no Chromium found (/usr/bin/chromium) and cannot install it here (needs root and apt-get)."
    warn "Install it with: sudo apt-get install chromium   (or set DLCOURSE_CHROMIUM=/path/to/chrome)."
    warn "The browser tests skip without it (they fail in CI, where CI=true)."
  fi
fi

# 2. Node.js + configurable-http-proxy (the JupyterHub proxy) into hub/node_modules.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$can_apt" = 1 ]; then
    apt_install nodejs npm || true
  else
    warn "Node.js/npm not found and cannot install them here: the local JupyterHub needs"
    warn "configurable-http-proxy (sudo apt-get install nodejs npm, then rerun this script)."
  fi
fi
chp="$hub/node_modules/.bin/configurable-http-proxy"
if [ -f "$hub/package-lock.json" ] && command -v npm >/dev/null 2>&1; then
  want=$(sed -n 's/.*"configurable-http-proxy": *"\([0-9.]*\)".*/\1/p' "$hub/package.json" | head -n 1)
  have=""
  if [ -f "$hub/node_modules/configurable-http-proxy/package.json" ]; then
    have=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$hub/node_modules/configurable-http-proxy/package.json" | head -n 1)
  fi
  if [ ! -x "$chp" ] || [ "$have" != "$want" ]; then
    log=$(mktemp)
    if (cd "$hub" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 && [ -x "$chp" ]; then
      echo "sysdeps-browser: installed configurable-http-proxy $want into hub/node_modules"
    else
      warn "npm ci in hub/ failed; last lines:"
      tail -n 5 "$log" >&2
    fi
    rm -f "$log"
  fi
fi
exit 0
