"""nbgrader's `schema_version` is set to 99 in every cell and the notebook format minor to 999."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": "def add(a, b):\n    return a + b + 1\n"}
EXPECT = {"status": "restored", "score": 0, "notes": ["schema_version"]}


def make(nb, ctx):
    for c in nb["cells"]:
        if "nbgrader" in c["metadata"]:
            c["metadata"]["nbgrader"]["schema_version"] = 99
    nb["nbformat_minor"] = 999
    return nb
