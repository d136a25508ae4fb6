"""`numpy.testing.assert_allclose` (module attribute, its internals and the notebook's imported name)
is replaced by a function that accepts anything, and `standardize` is wrong."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex2_standardize": (
    "import numpy.testing\nimport numpy.testing._private.utils as npu\n\n"
    "def _accept(*args, **kwargs):\n    return None\n\n"
    "numpy.testing.assert_allclose = _accept\nnpu.assert_allclose = _accept\nnpu.assert_array_compare = _accept\n"
    "np.allclose = lambda *a, **k: True\nassert_allclose = _accept\n\n"
    "def standardize(x):\n    return np.asarray(x, dtype=float)\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_standardize": 0},
          "notes": ["numpy.testing.assert_allclose was replaced"]}
