"""Prints 1 GB (1024 x 1 MB, flushed): the grader keeps a capped amount of output and grades correctly.

The add is correct: it earns exactly its 3 points; the output flood neither breaks grading nor
fills the grader's memory or the feedback page. (Without the flushes the kernel's own output
buffer grows past the memory cap first: see memory_bomb for that outcome.)
"""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "import sys\n\ndef add(a, b):\n    return a + b\n\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n    sys.stdout.flush()\n"}
EXPECT = {"status": "output_truncated", "score": 3}


def check(student, ctx):
    import pathlib

    for f in (pathlib.Path(ctx["out"]) / "feedback" / student["student_id"]).rglob("*.html"):
        assert f.stat().st_size < 2 << 20, f"{f} is {f.stat().st_size} bytes"
    for f in (pathlib.Path(ctx["out"]) / "autograded" / student["student_id"]).rglob("*.ipynb"):
        assert f.stat().st_size < 2 << 20, f"{f} is {f.stat().st_size} bytes"
