"""Sets ``DLCOURSE_LANG`` / ``DLCOURSE_MESSAGES`` itself at run time, to forge the messages of the tests
(a failing test that reads as passed) and to switch its feedback to the other edition, and looks for the
course's catalogs (Spanish text of the hidden tests, other notebooks' messages). Its variables act only in
its own kernel: the failing tests still score 0, the feedback page stays in the submission's edition
(the grader reads it from the submitted file, not from the kernel), and no catalog or source is reachable."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")
EDITS = {"ex1_add": r'''import json, os
print("SEEN", os.environ.get("DLCOURSE_LANG"), os.environ.get("DLCOURSE_MESSAGES"))
os.environ["DLCOURSE_LANG"] = "en" if os.environ.get("DLCOURSE_LANG") == "es" else "es"
os.environ["DLCOURSE_MESSAGES"] = json.dumps({"add(1, 2) should be 3, got {out}": "all tests passed",
                                              "add(20, 22) should be 42": "all tests passed"})
from dlcourse import lang
print("FORGED", lang.tr("add(1, 2) should be 3, got {out}", out=0))
found = [p for p in ("@COURSE@/translations", "@COURSE@/translations/es/assignments/g1_basics/g1_basics.po",
                     "@COURSE@/assignments/es", "@SOURCE_NB@", "@OUT@") if os.path.exists(p)]
print("FOUND", found)

def add(a, b):
    return 0
'''}
EXPECT = {"status": "ok", "score": 0, "cells": {"test_add_visible": 0, "test_add_hidden": 0}}


def check(student, ctx):
    text = ctx["outputs"](student["student_id"])
    assert "FOUND []" in text, text[:2000]
    assert ("SEEN es {" if ctx["edition"] == "es" else "SEEN None None") in text, text[:2000]
    page = ctx["page"].read_text()
    assert f'<html lang="{ctx["edition"]}">' in page
