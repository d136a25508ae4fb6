"""A thread that keeps replacing `numpy.testing.assert_allclose` while the tests run."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex2_standardize": (
    "import threading, time, numpy.testing\n\n"
    "def _keep_patching():\n    while True:\n        numpy.testing.assert_allclose = lambda *a, **k: None\n"
    "        globals()['assert_allclose'] = numpy.testing.assert_allclose\n        time.sleep(0.0005)\n\n"
    "threading.Thread(target=_keep_patching, daemon=True).start()\n\n"
    "def standardize(x):\n    return np.zeros(3)\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_standardize": 0}}
