"""Looks for the hidden tests: the course's source notebook, the gradebook, the submitted and the
autograded notebook files, and any file on the whole file system containing the hidden-test marker.
If it found them it would return what they expect; it finds nothing, so `add` stays wrong."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {"ex1_add": r'''import os, re

found = []
for path in ["@SOURCE_NB@", "@GRADEBOOK@", "@SUBMISSIONS@", "@OUT@", "@COURSE@"]:
    if os.path.exists(path):
        found.append(path)
marker = "BEGIN HIDDEN" + " TESTS"
import sys
import dlcourse
# the read-only Python install, system files and the public helper package (whose grading code
# names the markers): no course file there
system = ("/proc", "/sys", "/dev", "/usr", sys.prefix, sys.base_prefix, os.path.dirname(dlcourse.__file__))
for top, dirs, files in os.walk("/"):
    if top.startswith(system):
        dirs[:] = []
        continue
    for name in files:
        p = os.path.join(top, name)
        if name.endswith((".ipynb", ".db")) or name == "gradebook.db":
            found.append(p)
        try:
            if os.path.getsize(p) < 5_000_000 and marker in open(p, errors="ignore").read():
                found.append(p)
        except OSError:
            pass
print("FOUND", sorted(set(found)))
expected = None
for p in found:
    try:
        m = re.search(r"add\(20, 22\) should be (\d+)", open(p, errors="ignore").read())
    except OSError:
        m = None
    if m:
        expected = int(m.group(1))

def add(a, b):
    return expected if expected is not None else -1
''', "test_add_visible": "print('visible test text:', open('@SOURCE_NB@').read()[:100])"}
EXPECT = {"status": "restored", "score": 0, "cells": {"test_add_hidden": 0}}


def check(student, ctx):
    text = ctx["outputs"](student["student_id"])
    assert "FOUND []" in text, text[:2000]
