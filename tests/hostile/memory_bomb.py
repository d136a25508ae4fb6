"""Allocates (and touches) memory 64 MB at a time, up to a bounded 3 GB: the memory cap kills it.

Bounded on purpose (DESIGN.md section 7): if the cap failed, the machine would survive it.
"""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n\nhog = []\nfor _ in range(48):\n    hog.append(b'x' * (64 << 20))\n"}
EXPECT = {"status": "memory_limit", "score": 0}
