#!/usr/bin/env bash
# System packages the course tooling needs beyond the Python lock: bubblewrap (`bwrap`),
# the sandbox that `python -m dlcourse.grading autograde` runs every student's kernel in.
#
# Idempotent, quiet and fast when everything is already there. It installs only when it
# can (root + apt-get); otherwise it explains what to do and exits 0: the build goes on,
# and the grading tool itself refuses to grade untrusted notebooks without a sandbox
# (unless told --unsafe), saying so loudly.
set -u

if command -v bwrap >/dev/null 2>&1; then
  exit 0
fi

warn() { echo "sysdeps: $*" >&2; }

if [ "$(id -u)" != "0" ]; then
  warn "bubblewrap (bwrap) is not installed and this is not root: cannot install it."
  warn "Ask an administrator for: apt-get install bubblewrap  (or dnf install bubblewrap)."
  warn "Without it 'dlcourse.grading autograde' has no sandbox and refuses to grade."
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  warn "bubblewrap (bwrap) is not installed and apt-get is not available: install it with"
  warn "your system's package manager (dnf/yum/zypper/pacman install bubblewrap)."
  warn "Without it 'dlcourse.grading autograde' has no sandbox and refuses to grade."
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! apt-get install -y -qq --no-install-recommends bubblewrap >"$log" 2>&1; then
  # A fresh machine may have no package lists yet.
  apt-get update -qq >>"$log" 2>&1 || true
  apt-get install -y -qq --no-install-recommends bubblewrap >>"$log" 2>&1 || true
fi
if command -v bwrap >/dev/null 2>&1; then
  echo "sysdeps: installed bubblewrap ($(bwrap --version 2>/dev/null))"
else
  warn "could not install bubblewrap; last lines of apt-get:"
  tail -n 5 "$log" >&2
  warn "Without it 'dlcourse.grading autograde' has no sandbox and refuses to grade."
fi
rm -f "$log"
exit 0
