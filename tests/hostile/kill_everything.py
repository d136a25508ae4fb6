"""`os.kill(-1, SIGKILL)`: kill every process it can see (inside the sandbox that is only itself)."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "import os, signal\n\ndef add(a, b):\n    return a + b\n\nos.kill(-1, signal.SIGKILL)\n"}
EXPECT = {"status": ("kernel_died", "ok"), "score": (0, 3)}
