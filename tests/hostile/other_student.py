"""Reads and overwrites another student's submitted notebook (its host path is known), and looks
for other students' work under /tmp and the home folder."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": r'''import glob, os
victim = "@VICTIM_NB@"
result = {}
try:
    result["read"] = len(open(victim).read())
except OSError as e:
    result["read"] = type(e).__name__
try:
    with open(victim, "w") as fh:
        fh.write("{}")
    result["write"] = "written"
except OSError as e:
    result["write"] = type(e).__name__
result["elsewhere"] = [p for p in glob.glob("/tmp/**/*.ipynb", recursive=True) + glob.glob("/home/**/*.ipynb", recursive=True)]
print(result)

def add(a, b):
    return 0
'''}
EXPECT = {"status": "ok", "score": 0}


def check(student, ctx):
    text = ctx["outputs"](student["student_id"])
    assert "'read': 'FileNotFoundError'" in text and "'elsewhere': []" in text, text[:2000]
