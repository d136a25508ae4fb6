"""A copy of the hidden-test cell with the same grade_id and cell id, emptied, placed first.

The copy runs as an ordinary cell; the course's test is graded (nbgrader itself aborts on
duplicate ids, jupyter/nbgrader#1083).
"""
import copy

ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return 1\n"}
EXPECT = {"status": "restored", "score": 0, "cells": {"test_add_hidden": 0},
          "notes": ["'test_add_hidden' appears 2 times"]}


def make(nb, ctx):
    idx = next(i for i, c in enumerate(nb["cells"])
               if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_add_hidden")
    dup = copy.deepcopy(nb["cells"][idx])
    dup["source"] = "pass"
    nb["cells"].insert(idx - 2, dup)
    return nb
