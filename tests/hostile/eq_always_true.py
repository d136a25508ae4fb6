"""`add` returns an object whose `__eq__` is always True and that claims to be an int.

The tests check `type(out) is int` before comparing (DESIGN.md rule 7): no point.
"""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {"ex1_add": ("class Liar(int):\n    pass\n\nclass Anything:\n    __class__ = property(lambda self: int)\n"
                     "    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\n\n"
                     "def add(a, b):\n    return Anything()\n")}
EXPECT = {"status": "ok", "score": 0, "cells": {"test_add_visible": 0, "test_add_hidden": 0}}
