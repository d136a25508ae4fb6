"""Tries to write full marks into the gradebook (path and sqlite) and to drop files in the course
and output folders; none of them exists in the sandbox."""
ASSIGNMENT = "g1_basics"
EDITS = {"ex1_add": r'''import os, sqlite3
attempts = {}
for target in ["@GRADEBOOK@", "@OUT@/grades.csv", "@COURSE@/pwned.txt", "@SUBMISSIONS@/pwned.txt"]:
    try:
        with open(target, "a") as fh:
            fh.write("pwned")
        attempts[target] = "written"
    except OSError as e:
        attempts[target] = type(e).__name__
try:
    con = sqlite3.connect("file:@GRADEBOOK@?mode=rw", uri=True)
    con.execute("update grade set auto_score = 100")
    con.commit()
    attempts["sqlite"] = "written"
except Exception as e:
    attempts["sqlite"] = type(e).__name__
print(attempts)

def add(a, b):
    return 0
'''}
EXPECT = {"status": "ok", "score": 0}


def check(student, ctx):
    import pathlib

    for p in (pathlib.Path(ctx["course"]) / "pwned.txt", pathlib.Path(ctx["submissions"]) / "pwned.txt"):
        assert not p.exists(), p
