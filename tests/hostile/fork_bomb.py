"""A fork loop (bounded: stops by itself at 400 children that sleep): the process cap refuses forks.

The wrong `add` scores 0; the cap shows up as a flag; no child outlives the grading.
"""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": ("import os, time\n\ndef add(a, b):\n    return a * b\n\nkids = 0\nrefused = 0\n"
                     "for _ in range(400):\n    try:\n        pid = os.fork()\n    except OSError:\n        refused += 1\n        continue\n"
                     "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    kids += 1\nprint('children', kids, 'refused', refused)\n")}
EXPECT = {"status": "pids_limit", "score": 0}


def check(student, ctx):
    assert any("process limit" in n for n in student["notes"]), student["notes"]
