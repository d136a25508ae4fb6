"""Passes the visible test and fails the hidden one, whose failure message is a ``tr()`` message of the
course's private catalog (``translations/es/hidden/``): it names the hidden test's input and expected value.
The student's code prints the kernel's environment hoping for such messages: they are not there, in either
edition (the kernel runs the student's code too); the grader translates the failure message outside the
kernel, so a Spanish-edition student still reads it in Spanish."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")
EDITS = {"ex1_add": ("import os\nprint('MESSAGES', os.environ.get('DLCOURSE_MESSAGES'))\n\n"
                     "def add(a, b):\n    return abs(a) + abs(b)\n")}
EXPECT = {"status": "ok", "score": 1, "cells": {"test_add_visible": 1, "test_add_hidden": 0}}
SHOWN = {"en": "add(-7, 7) should be 0: negative numbers too",
         "es": "add(-7, 7) debería dar 0: también con números negativos"}


def check(student, ctx):
    import html

    text = ctx["outputs"](student["student_id"])
    assert "MESSAGES" in text and "add(-7, 7)" not in text, text[:2000]
    message = student["cells"]["test_add_hidden"]["message"] or ""
    assert SHOWN[ctx["edition"]] in message and "[en]" not in message, message
    assert html.escape(SHOWN[ctx["edition"]]) in ctx["page"].read_text()
