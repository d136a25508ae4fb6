"""The hidden-test cell is deleted (and `add` is wrong): the course's test is put back and run."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {"ex1_add": "def add(a, b):\n    return 0\n"}
EXPECT = {"status": "restored", "score": 0, "cells": {"test_add_hidden": 0, "test_add_visible": 0},
          "notes": ["'test_add_hidden' was missing"]}


def make(nb, ctx):
    nb["cells"] = [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "test_add_hidden"]
    return nb
