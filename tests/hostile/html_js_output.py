"""Outputs HTML with scripts and event handlers, JavaScript, SVG with a script, and a markdown answer
with a script: none of it may survive in the feedback page or the notebook formgrader shows."""
ASSIGNMENT = "g1_basics"
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
    from html.parser import HTMLParser

    class Tags(HTMLParser):
        def __init__(self):
            super().__init__()
            self.bad = []

        def handle_starttag(self, tag, attrs):
            if tag in ("script", "iframe", "svg", "object", "embed", "form", "meta", "link", "style", "base"):
                self.bad.append(tag)
            for k, v in attrs:
                if k.startswith("on") or (k in ("href", "src") and (v or "").strip().lower().startswith("javascript")):
                    self.bad.append(f"{tag} {k}={v}")

    base = pathlib.Path(ctx["out"])
    page = (base / "feedback" / student["student_id"] / "g1_basics" / "g1_basics.html").read_text()
    head, body = page.split("<body>", 1)
    assert "Content-Security-Policy" in head and "default-src 'none'" in head
    parser = Tags()
    parser.feed(body)
    assert not parser.bad, parser.bad  # the page's own <style> lives in <head>
    assert "<b>bold</b>" in body  # harmless HTML is kept
    nb = json.loads((base / "autograded" / student["student_id"] / "g1_basics" / "g1_basics.ipynb").read_text())
    mimes = {m for c in nb["cells"] for o in c.get("outputs", []) for m in o.get("data", {})}
    assert not mimes & {"application/javascript", "image/svg+xml"}, mimes
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            for o in c.get("outputs", []):
                parser = Tags()
                html_out = o.get("data", {}).get("text/html", "")
                parser.feed("".join(html_out) if isinstance(html_out, list) else html_out)
                assert not parser.bad, parser.bad
        elif c["cell_type"] == "markdown":
            src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            parser = Tags()
            parser.feed(src)
            assert not parser.bad and "javascript:" not in src.lower(), (parser.bad, src)
