"""Both test cells of `add` are replaced by `pass` (and `add` is wrong): the course's tests run instead."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {"ex1_add": "def add(a, b):\n    return 0\n", "test_add_visible": "pass", "test_add_hidden": "pass"}
EXPECT = {"status": "restored", "score": 0, "cells": {"test_add_hidden": 0, "test_add_visible": 0},
          "notes": ["'test_add_hidden' was edited"]}
