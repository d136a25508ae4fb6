"""Ships a `numpy.py` beside the notebook and writes one from the notebook, then re-imports numpy so
that `assert_allclose` comes from the fake package. The submitted file is ignored and the real
numpy, imported before any student code, is put back for the tests."""
ASSIGNMENT = "g1_basics"
FAKE = "class testing:\n    @staticmethod\n    def assert_allclose(*a, **k):\n        return None\n\ndef asarray(x, dtype=None):\n    return x\n"
EXTRA_FILES = {"numpy.py": FAKE}
EDITS = {"ex2_standardize": (
    "import sys, importlib\nopen('numpy.py', 'w').write(" + repr(FAKE) + ")\n"
    "sys.path.insert(0, '.')\nfor name in [m for m in sys.modules if m == 'numpy' or m.startswith('numpy.')]:\n"
    "    del sys.modules[name]\nimport numpy as np\nimport numpy\nassert_allclose = numpy.testing.assert_allclose\n\n"
    "def standardize(x):\n    return [0.0, 0.0, 0.0]\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_standardize": 0},
          "notes": ["numpy.py", "sys.modules['numpy'] was replaced"]}
