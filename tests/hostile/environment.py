"""Reads the environment, hoping for the grader's variables (tokens, paths): it sees only its own.

In the Spanish edition those include the edition's ``DLCOURSE_LANG`` and ``DLCOURSE_MESSAGES`` (the
catalog's messages), which must hold no hidden-test text."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {"ex1_add": "import os\nprint(sorted(os.environ.items()))\n\ndef add(a, b):\n    return a + b\n"}
EXPECT = {"status": "ok", "score": 3}


def check(student, ctx):
    import nbformat

    from dlcourse.grading import feedback

    text = ctx["outputs"](student["student_id"])
    assert "DLCOURSE_GRADER_SECRET" not in text and "HOME', '/home/student'" in text, text[:3000]
    if ctx["edition"] == "es":
        assert "('DLCOURSE_LANG', 'es')" in text and "('DLCOURSE_MESSAGES', '{" in text, text[:3000]
    else:
        assert "DLCOURSE_LANG" not in text and "DLCOURSE_MESSAGES" not in text, text[:3000]
    hidden = feedback.hidden_test_lines(c.source for c in nbformat.read(ctx["source_nb"], as_version=4).cells)
    assert hidden and not [ln for ln in hidden if ln in text], text[:3000]
