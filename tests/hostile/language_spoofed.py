"""``metadata.language`` is not a language of the course: a made-up code, a path that would lead the
grader's catalog lookup out of ``translations/``, a huge string, a list. The submission is graded and
shown in English with a note saying so; never a grader error, never a file outside the course read."""
ASSIGNMENT = "g1_basics"
VARIANTS = {"unknown": "tlh", "path": "../../../../../../etc/passwd", "huge": "es" * 400_000, "list": ["es"]}
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n"}
EXPECT = {"status": "ok", "score": 3, "cells": {"test_add_visible": 1, "test_add_hidden": 2},
          "notes": ["is not a language of the course (en, es): graded and shown in English"]}


def make(nb, ctx):
    nb["metadata"]["language"] = ctx["variant"]
    return nb


def check(student, ctx):
    page = ctx["page"].read_text()
    assert '<html lang="en">' in page and "<h1>Feedback: " in page
    assert max(len(n) for n in student["notes"]) < 300, student["notes"]  # the huge value is not copied around
    assert len(page) < 200_000, len(page)
