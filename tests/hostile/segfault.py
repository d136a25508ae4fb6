"""A segmentation fault (reading address 0 with ctypes): the kernel dies, no core dump, batch goes on."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "import ctypes\n\ndef add(a, b):\n    return a + b\n\nctypes.string_at(0)\n"}
EXPECT = {"status": "kernel_died", "score": 0}
