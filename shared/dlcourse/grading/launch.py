"""Tiny exec wrapper used to start a sandboxed kernel (runs *outside* the sandbox).

``python -m dlcourse.grading.launch [--cgroup PROCS_FILE]... [--rlimit NAME=SOFT]... -- CMD...``
moves itself into the given cgroups (every process the command starts inherits them), sets
resource limits, then replaces itself with ``CMD`` (``bwrap ...``). It imports nothing heavy:
it runs once per graded notebook.
"""
from __future__ import annotations

import os
import resource
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if "--" not in args:
        print("usage: python -m dlcourse.grading.launch [--cgroup FILE]... [--rlimit NAME=N]... -- CMD...",
              file=sys.stderr)
        return 2
    cut = args.index("--")
    opts, cmd = args[:cut], args[cut + 1:]
    if not cmd:
        print("launch: no command after --", file=sys.stderr)
        return 2
    it = iter(opts)
    for opt in it:
        value = next(it, None)
        if value is None:
            print(f"launch: {opt} needs a value", file=sys.stderr)
            return 2
        if opt == "--cgroup":
            # Failing to enter a cgroup must not silently run the command without its limits.
            with open(value, "w") as fh:
                fh.write(str(os.getpid()))
        elif opt == "--rlimit":
            name, _, n = value.partition("=")
            res = getattr(resource, "RLIMIT_" + name.upper(), None)
            if res is None:
                print(f"launch: unknown resource limit {name!r}", file=sys.stderr)
                return 2
            soft = int(n)
            _, hard = resource.getrlimit(res)
            if hard != resource.RLIM_INFINITY and soft > hard:
                soft = hard
            # The hard limit is lowered too, so the sandboxed code cannot raise it again.
            resource.setrlimit(res, (soft, soft))
        elif opt == "--nice":
            os.nice(int(value))
        else:
            print(f"launch: unknown option {opt}", file=sys.stderr)
            return 2
    os.execvp(cmd[0], cmd)
    return 127  # not reached


if __name__ == "__main__":
    sys.exit(main())
