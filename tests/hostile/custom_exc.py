"""`set_custom_exc` swallows every exception, so failing tests would print nothing."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": ("def add(a, b):\n    return 0\n\n"
                     "get_ipython().set_custom_exc((BaseException,), lambda shell, etype, evalue, tb, tb_offset=None: None)\n")}
EXPECT = {"status": "tampered", "score": 0, "cells": {"test_add_visible": 0, "test_add_hidden": 0},
          "notes": ["custom_exceptions"]}
