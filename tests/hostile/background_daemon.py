"""A double-forked, setsid daemon meant to outlive grading: it must be gone when the batch ends.

The daemon runs `sleep @MARKER@` so the test can look for it among the host's processes.
"""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": ("import os, subprocess\n\ndef add(a, b):\n    return a + b\n\n"
                     "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                     "        os.execvp('sleep', ['sleep', '@MARKER@'])\n    os._exit(0)\n"
                     "os.wait()\n")}
# The daemon itself does not cheat: the correct add earns its 3 points, nothing more.
EXPECT = {"status": "ok", "score": 3}


def check(student, ctx):
    import pathlib

    marker = ctx["marker"]
    left = []
    for p in pathlib.Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if marker.encode() in (p / "cmdline").read_bytes():
                    left.append(p.name)
            except OSError:
                pass
    assert not left, f"daemon processes left running: {left}"
