"""`os._exit(0)` kills the kernel process: a status, zero for the tests that did not run."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "import os\n\ndef add(a, b):\n    return a + b\n\nos._exit(0)\n"}
EXPECT = {"status": "kernel_died", "score": 0}
