"""Valid JSON that is not a notebook (a list, and cells that are numbers): status malformed."""
ASSIGNMENT = "g1_basics"
EDITS = {}
EXPECT = {"status": "malformed", "score": 0}


def make(nb, ctx):
    return '{"cells": [1, 2, {"cell_type": 7}], "metadata": []}'
