"""Reads the environment, hoping for the grader's variables (tokens, paths): it sees only its own."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "import os\nprint(sorted(os.environ.items()))\n\ndef add(a, b):\n    return a + b\n"}
EXPECT = {"status": "ok", "score": 3}


def check(student, ctx):
    text = ctx["outputs"](student["student_id"])
    assert "DLCOURSE_GRADER_SECRET" not in text and "HOME', '/home/student'" in text, text[:3000]
