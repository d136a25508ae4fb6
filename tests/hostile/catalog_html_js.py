"""The course's Spanish catalog is trusted, yet one of its entries carries HTML and JavaScript (the
fixture's translation of ``q_text``: an ``onclick``, a ``<script>``, a ``javascript:`` link). The grader
inserts the translated course text into the graded notebook and the feedback page: both must come out
as inert as any student output, the harmless text kept."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("es",)
EDITS = {"ex1_add": "def add(a, b):\n    return a + b\n"}
EXPECT = {"status": "ok", "score": 3}


def check(student, ctx):
    import json
    import pathlib

    from dlcourse.course import i18n

    po = pathlib.Path(ctx["course"]) / "translations" / "es" / "assignments" / "g1_basics" / "g1_basics.po"
    carried = [m.string for m in i18n.load_catalog(po) if m.id and "<script>" in m.string]
    assert carried, "the fixture's catalog no longer carries the HTML this case is about"
    page = ctx["page"].read_text()
    body = page.split("<body>", 1)[1]
    ctx["assert_inert"](body)
    assert "(pista)" in body and "En tus propias palabras" in body
    nb = json.loads((pathlib.Path(ctx["out"]) / "autograded" / student["student_id"] / "g1_basics"
                     / "g1_basics.ipynb").read_text())
    ctx["assert_inert_notebook"](nb)
    assert any("(pista)" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
