"""`showtraceback` (and the kernel's `_showtraceback`) are replaced so errors produce no output."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {"ex1_add": ("ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\n"
                     "ip._showtraceback = lambda *a, **k: None\ntype(ip).showtraceback = lambda *a, **k: None\n\n"
                     "def add(a, b):\n    return 0\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_add_visible": 0, "test_add_hidden": 0},
          "notes": ["showtraceback"]}
