"""`exit()` (IPython's autocall) asks the kernel to shut down: the cells after its death cannot run
and score 0; a cell that still ran before it (IPython shuts down a moment after the cell that
asked, so the next request may be served) keeps what the correct `add` earned there, never more."""
import re

ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n\nexit()\n"}
EXPECT = {"status": ("kernel_died", "ok"), "score": (0, 1, 3), "cells": {"test_standardize": 0}}
CELL_INDEX = {"test_add_visible": 4, "test_add_hidden": 5, "test_standardize": 8}  # in the g1_basics notebook


def check(student, ctx):
    cells = student["cells"]
    assert student["score"] == cells["test_add_visible"]["score"] + cells["test_add_hidden"]["score"]
    if student["status"] == "kernel_died":
        died = [int(m.group(1)) for n in student["notes"] if (m := re.search(r"kernel exited during cell (\d+)", n))]
        assert died, student["notes"]
        for gid, index in CELL_INDEX.items():
            if index >= died[0]:
                assert cells[gid]["score"] == 0, f"{gid} (cell {index}) scored after the kernel died in cell {died[0]}"
