"""The points of a test cell are raised to 100: the course's points (1) are used, max stays 5."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n"}
EXPECT = {"status": "restored", "score": 3, "max_score": 5, "cells": {"test_add_visible": 1},
          "notes": ["points of 'test_add_visible' were changed"]}


def make(nb, ctx):
    for c in nb["cells"]:
        meta = c["metadata"].get("nbgrader", {})
        if meta.get("grade_id") == "test_add_visible":
            meta["points"] = 100
    return nb


def check(student, ctx):
    assert student["cells"]["test_add_visible"]["max_score"] == 1
