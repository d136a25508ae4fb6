"""Outputs HTML with scripts and event handlers, JavaScript, SVG with a script, and a markdown answer
with a script: none of it may survive in the feedback page or the notebook formgrader shows."""
ASSIGNMENT = "g1_basics"
EDITIONS = ("en", "es")  # the Spanish release too (tests/test_grading_hostile.py)
EDITS = {
    "ex1_add": ("from IPython.display import HTML, Javascript, SVG, display\n"
                "display(HTML('<b>bold</b><script>alert(1)</script><img src=x onerror=\"alert(2)\">'\n"
                "             '<a href=\"javascript:alert(3)\">link</a><iframe src=\"https://evil.example\"></iframe>'))\n"
                "display(Javascript('alert(4)'))\n"
                "display(SVG('<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(5)</script></svg>'))\n\n"
                "def add(a, b):\n    return a + b\n"),
    "q_why": "My answer <script>alert(6)</script> and [a link](javascript:alert(7)) <img src=x onerror=alert(8)>",
}
EXPECT = {"status": "ok", "score": 3}


def check(student, ctx):
    import json
    import pathlib

    base = pathlib.Path(ctx["out"])
    page = ctx["page"].read_text()
    head, body = page.split("<body>", 1)
    assert "Content-Security-Policy" in head and "default-src 'none'" in head
    ctx["assert_inert"](body)  # the page's own <style> lives in <head>
    assert "<b>bold</b>" in body  # harmless HTML is kept
    nb = json.loads((base / "autograded" / student["student_id"] / "g1_basics" / "g1_basics.ipynb").read_text())
    mimes = {m for c in nb["cells"] for o in c.get("outputs", []) for m in o.get("data", {})}
    assert not mimes & {"application/javascript", "image/svg+xml"}, mimes
    ctx["assert_inert_notebook"](nb)
