"""Writes 1 GB straight to file descriptors 1 and 2 (bypassing Jupyter's output capture).

Those descriptors lead nowhere: nothing reaches the grader's pipes or memory; the correct
add earns its 3 points.
"""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": ("import os\n\ndef add(a, b):\n    return a + b\n\nblock = b'y' * (1 << 20)\n"
                     "for _ in range(512):\n    os.write(1, block)\n    os.write(2, block)\n")}
EXPECT = {"status": "ok", "score": 3}
