"""A solution cell that never returns: the cell/notebook time limit stops it; later tests score 0."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n\nwhile True:\n    pass\n"}
EXPECT = {"status": "timeout", "score": 0}
