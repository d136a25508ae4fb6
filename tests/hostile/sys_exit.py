"""`sys.exit()` in a solution cell: IPython turns it into an error of that cell; grading goes on.

The wrong `add` still fails its tests; the exit earns nothing.
"""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "import sys\n\ndef add(a, b):\n    return a - b\n\nsys.exit(0)\n"}
EXPECT = {"status": "ok", "score": 0, "cells": {"test_add_visible": 0, "test_add_hidden": 0}}
