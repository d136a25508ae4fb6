"""`exit()` (IPython's autocall) asks the kernel to shut down: later cells cannot run, score 0 for them."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n\nexit()\n"}
EXPECT = {"status": ("kernel_died", "ok"), "score": (0, 3)}


def check(student, ctx):
    # Either the kernel went away (nothing after it scored) or IPython ignored the request
    # and the correct add earned exactly its 3 points: never more.
    if student["status"] == "kernel_died":
        assert student["score"] == 0
