"""A Spanish-edition student writes markdown that is, word for word, a paragraph of the English course
(an added cell, and the written answer). The grader shows the course's own cells in Spanish, but the
student's text is the student's: it must stay as written, never be replaced by the catalog's Spanish."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("es",)
COPIED = ("Three autograded exercises that run in well under a second, and one written answer.\n\n"
          "## 1. Addition\nWrite `add(a, b)` returning the sum of two ints.")
ANSWER = "## 3. In your own words\nWhy do we standardize inputs?\n\nSo that every feature has the same scale."
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n", "q_why": ANSWER}
EXPECT = {"status": "ok", "score": 3, "cells": {"test_add_visible": 1, "test_add_hidden": 2}}


def make(nb, ctx):
    at = next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == "intro")
    nb["cells"].insert(at + 1, {"cell_type": "markdown", "id": "my-notes", "metadata": {}, "source": COPIED})
    return nb


def check(student, ctx):
    import json
    import pathlib

    nb = json.loads((pathlib.Path(ctx["out"]) / "autograded" / student["student_id"] / "g1_basics"
                     / "g1_basics.ipynb").read_text())
    md = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert COPIED in md and ANSWER in md, md  # the student's cells, unchanged
    assert any(s.startswith("## 1. Suma") for s in md), md  # the course's cell, in Spanish
    page = ctx["page"].read_text()
    assert "Write <code>add(a, b)</code> returning the sum" in page and "Escribe <code>add(a, b)</code>" in page
    assert "So that every feature has the same scale." in page
