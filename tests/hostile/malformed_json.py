"""A file that is not JSON at all (a truncated download): status malformed, zero, batch goes on."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {}
EXPECT = {"status": "malformed", "score": 0}


def make(nb, ctx):
    import json

    return json.dumps(nb)[:1000]
