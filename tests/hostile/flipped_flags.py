"""Test cells are re-flagged as editable solution cells (grade off) and emptied: flags come from the course."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return -1\n", "test_add_visible": "", "test_add_hidden": ""}
EXPECT = {"status": "restored", "score": 0, "cells": {"test_add_hidden": 0, "test_add_visible": 0},
          "notes": ["flags of 'test_add_hidden' were changed"]}


def make(nb, ctx):
    for c in nb["cells"]:
        meta = c["metadata"].get("nbgrader", {})
        if meta.get("grade_id") in ("test_add_visible", "test_add_hidden"):
            meta.update({"solution": True, "grade": False, "locked": False})
        if meta.get("grade_id") == "ex1_add":  # and the solution cell pretends to be a test worth points
            meta.update({"grade": True, "points": 50})
    return nb
