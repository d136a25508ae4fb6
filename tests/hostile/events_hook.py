"""A `post_run_cell` callback that marks every cell as successful, and a `pre_run_cell` one that
re-patches numpy before each cell (so a single restore would not be enough)."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex2_standardize": (
    "def _pass(result):\n    result.error_in_exec = None\n    result.error_before_exec = None\n\n"
    "def _repatch(info):\n    import numpy.testing\n    numpy.testing.assert_allclose = lambda *a, **k: None\n\n"
    "get_ipython().events.register('post_run_cell', _pass)\nget_ipython().events.register('pre_run_cell', _repatch)\n\n"
    "def standardize(x):\n    return np.zeros(3)\n")}
EXPECT = {"score": 0, "cells": {"test_standardize": 0}}
