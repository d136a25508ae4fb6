"""Sanitize graded notebooks and render per-student feedback as static HTML.

Student outputs are untrusted HTML. nbgrader's formgrader and nbconvert render them as
they are, so a ``<script>`` printed by a submission runs in the grader's (or another
student's) browser session. Here:

* :func:`sanitize_notebook` keeps only inert output types (text, PNG/JPEG/GIF images,
  HTML cleaned with bleach: no scripts, styles, frames, forms, event handlers or
  ``javascript:`` links) and escapes HTML in the student's markdown; it is applied to the
  autograded notebooks that formgrader shows;
* :func:`render_feedback` writes a self-contained page with a Content-Security-Policy that
  forbids every script, shows test cells *without their hidden tests* (the release version)
  and no traceback for them, and redacts any line of hidden-test text that a submission
  might have printed. Images load from the page itself only (``data:``): the Colab badge is
  left out and any other external image is shown as its alt text, never as a broken image.
"""
from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Iterable

from ..course import regions

__all__ = ["sanitize_html", "sanitize_markdown", "sanitize_notebook", "hidden_test_lines", "redact",
           "render_feedback", "CSP"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl", "dt",
         "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s",
         "samp", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
         "tt", "u", "ul", "var"}
_ATTRS = {"a": ["href", "title"], "img": ["src", "alt", "title", "width", "height"], "td": ["colspan", "rowspan",
          "align"], "th": ["colspan", "rowspan", "align", "scope"], "*": ["class"]}
_IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_MAX_TEXT = 20_000


def _img_src_ok(tag: str, name: str, value: str) -> bool:
    if name == "src":
        return bool(re.fullmatch(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]+", value))
    return name in _ATTRS.get(tag, []) or name in _ATTRS["*"]


def _attr_filter(tag: str, name: str, value: str) -> bool:
    if tag == "img":
        return _img_src_ok(tag, name, value)
    return name in _ATTRS.get(tag, []) or name in _ATTRS["*"]


def sanitize_html(text: str) -> str:
    """HTML with only inert tags and attributes (scripts and handlers are escaped, not run)."""
    import bleach

    return bleach.clean(text, tags=_TAGS, attributes=_attr_filter, protocols={"http", "https", "mailto", "data"},
                        strip=True, strip_comments=True)


def sanitize_markdown(text: str) -> str:
    """Markdown source whose embedded HTML is inert (for notebooks rendered by formgrader)."""
    text = sanitize_html(text)
    return re.sub(r"\]\(\s*(?:javascript|vbscript|data)\s*:[^)]*\)", "](#)", text, flags=re.I)


def _valid_b64(data) -> bool:
    if not isinstance(data, str) or len(data) > 8 * 2**20:
        return False
    try:
        base64.b64decode(data.replace("\n", ""), validate=True)
        return True
    except (binascii.Error, ValueError):
        return False


def _clean_data(data: dict) -> tuple[dict, int]:
    out, dropped = {}, 0
    for mime, value in (data or {}).items():
        if mime == "text/plain":
            out[mime] = value if isinstance(value, str) else "".join(map(str, value)) if isinstance(value, list) else str(value)
        elif mime in _IMAGE_TYPES and _valid_b64(value if isinstance(value, str) else "".join(value)):
            out[mime] = value if isinstance(value, str) else "".join(value)
        elif mime == "text/html":
            out[mime] = sanitize_html(value if isinstance(value, str) else "".join(map(str, value)))
        elif mime in ("text/markdown", "text/latex"):
            out[mime] = sanitize_markdown(value if isinstance(value, str) else "".join(map(str, value)))
        else:
            dropped += 1  # javascript, svg, widgets, vendor types: anything that could run code
    return out, dropped


def sanitize_notebook(nb) -> int:
    """Sanitize all outputs and markdown of ``nb`` in place; return how many outputs were removed."""
    removed = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = sanitize_markdown(cell.source)
            cell.pop("attachments", None)
            continue
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind in ("display_data", "execute_result"):
                data, dropped = _clean_data(out.get("data", {}))
                removed += dropped
                if not data:
                    removed += 0 if dropped else 1
                    continue
                out["data"] = data
                out["metadata"] = {}
                kept.append(out)
            elif kind in ("stream", "error"):
                kept.append(out)
            else:
                removed += 1
        cell["outputs"] = kept
    return removed


def hidden_test_lines(test_sources: Iterable[str], min_len: int = 12) -> set[str]:
    """Lines of the hidden-test regions of ``test_sources`` (stripped, at least ``min_len`` characters)."""
    return regions.region_lines(test_sources, regions.HIDDEN, min_len=min_len)


def redact(text: str, hidden: set[str]) -> str:
    """Replace any hidden-test line found in ``text``."""
    for ln in hidden:
        if ln in text:
            text = text.replace(ln, "[hidden test redacted]")
    return text


def _text(s: str, hidden: set[str], limit: int = _MAX_TEXT) -> str:
    s = redact(_ANSI.sub("", s), hidden)
    if len(s) > limit:
        s = s[:limit] + f"\n[... {len(s) - limit} more characters not shown]"
    return html.escape(s)


#: The course's "Open in Colab" badge (see dlcourse.course.conventions): pointless in a feedback page, whose CSP
#: would block its image anyway.
_BADGE = re.compile(r"\[!\[[^\]]*\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]\([^)]*\)[ \t]*\n?")
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r"""\balt=("[^"]*"|'[^']*')""", re.I)


def _inline_images_only(html_text: str) -> str:
    """Replace every ``<img>`` that is not an inline ``data:`` image (the page's CSP blocks the others,
    which would show as broken images) by its alt text."""
    def repl(m: re.Match) -> str:
        tag = m.group(0)
        if re.search(r"""\bsrc=["']data:image/""", tag, re.I):
            return tag
        alt = _ALT.search(tag)
        text = alt.group(1)[1:-1] if alt else ""
        return f'<span class="ext-img">[image{": " + text if text else ""}]</span>'
    return _IMG_TAG.sub(repl, html_text)


def _markdown(src: str) -> str:
    import mistune

    return _inline_images_only(sanitize_html(mistune.html(_BADGE.sub("", src))))


def _outputs(outputs, hidden: set[str], *, traceback: bool) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            cls = "stderr" if out.get("name") == "stderr" else "stdout"
            parts.append(f'<pre class="out {cls}">{_text(str(out.get("text", "")), hidden)}</pre>')
        elif kind == "error":
            head = f'{out.get("ename", "")}: {out.get("evalue", "")}'
            body = "\n".join(map(str, out.get("traceback", []))) if traceback else head
            parts.append(f'<pre class="out error">{_text(body, hidden, 8000)}</pre>')
        elif kind in ("display_data", "execute_result"):
            data, _ = _clean_data(out.get("data", {}))
            img = next((m for m in _IMAGE_TYPES if m in data), None)
            if img:
                b64 = data[img].replace("\n", "")
                parts.append(f'<img class="out" alt="figure" src="data:{img};base64,{b64}">')
            elif "text/html" in data:
                parts.append(f'<div class="out html">{_inline_images_only(redact(data["text/html"], hidden))}</div>')
            elif "text/plain" in data:
                parts.append(f'<pre class="out">{_text(data["text/plain"], hidden)}</pre>')
    return "\n".join(parts)


_STYLE = """body{font-family:system-ui,sans-serif;max-width:60em;margin:1.5em auto;padding:0 1em;color:#222}
pre{background:#f6f8fa;padding:.5em;overflow-x:auto;white-space:pre-wrap}
pre.out{background:#fff;border-left:3px solid #ccc}pre.error,pre.stderr{border-left-color:#c33;background:#fff5f5}
.cell{margin:1em 0}.test{border:1px solid #ccd;padding:.3em .8em;border-radius:4px}
.pass{color:#176f2c;font-weight:bold}.fail{color:#b00020;font-weight:bold}
table.scores td,table.scores th{padding:.2em .8em;text-align:left;border-bottom:1px solid #eee}
.notes li{color:#7a4b00}img.out{max-width:100%}"""


def render_feedback(nb, *, student: str, assignment: str, notebook: str, cells: dict[str, dict],
                    test_release_sources: dict[str, str], hidden: set[str], status: str, notes: list[str],
                    roles: list[str], score: float, max_score: float, manual: dict[str, dict] | None = None,
                    score_label: str = "autograded score") -> str:
    """Feedback page of one graded notebook.

    Args:
        nb: the executed, rebuilt notebook (hidden tests included: they are not shown).
        cells: grade_id -> {"score", "max_score", "verdict", "message"} for graded cells.
        test_release_sources: grade_id -> the release (student-visible) source of each test cell.
        hidden: lines of hidden tests to redact wherever they appear.
        roles: role of every cell of ``nb`` (see :func:`dlcourse.grading.rebuild.build`).
        manual: grade_id -> {"score", "max_score", "comment"} from manual grading, if any.
        student, assignment, notebook: who and what, for the page's title.
        status, notes: the run's status and what the grader noted (shown to the student).
        score, max_score, score_label: the score line.

    Returns:
        The HTML page (self-contained, with a Content-Security-Policy that forbids scripts).
    """
    e = html.escape
    rows = []
    for gid, c in cells.items():
        verdict = c.get("verdict", "")
        cls = "pass" if (c.get("score") or 0) >= c.get("max_score", 0) > 0 else "fail"
        score_txt = "pending" if c.get("score") is None else f'{c["score"]:g}'
        rows.append(f'<tr><td>{e(gid)}</td><td class="{cls}">{score_txt} / {c.get("max_score", 0):g}</td>'
                    f'<td>{e(verdict)}</td></tr>')
    for gid, m in (manual or {}).items():
        if gid in cells:
            continue
        sc = "pending" if m.get("score") is None else f'{m["score"]:g}'
        rows.append(f'<tr><td>{e(gid)}</td><td>{sc} / {m.get("max_score", 0):g}</td>'
                    f'<td>{e(m.get("comment") or "manually graded")}</td></tr>')
    body = []
    for i, cell in enumerate(nb.cells):
        gid = (cell.get("metadata", {}).get("nbgrader", {}) or {}).get("grade_id")
        if cell.cell_type == "markdown":
            body.append(f'<div class="cell md">{_markdown(redact(cell.source, hidden))}</div>')
            continue
        if cell.cell_type != "code":
            continue
        role = roles[i] if i < len(roles) else "student"
        if role == "test":
            src = (test_release_sources[gid] if gid in test_release_sources
                   else regions.without_region(cell.source, regions.HIDDEN))
            c = cells.get(gid, {})
            ok = (c.get("score") or 0) >= c.get("max_score", 0) > 0
            verdict = (f'<span class="{"pass" if ok else "fail"}">{e(gid or "")}: '
                       f'{c.get("score") or 0:g} / {c.get("max_score", 0):g} - {e(c.get("verdict", ""))}</span>')
            msg = c.get("message")
            body.append(f'<div class="cell test"><pre>{_text(src, hidden)}</pre><p>{verdict}</p>'
                        + (f'<pre class="out error">{_text(msg, hidden, 1000)}</pre>' if msg else "") + "</div>")
            continue
        body.append(f'<div class="cell code"><pre>{_text(cell.source, hidden)}</pre>'
                    f'{_outputs(cell.get("outputs", []), hidden, traceback=True)}</div>')
    notes_html = "".join(f"<li>{e(n)}</li>" for n in notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="referrer" content="no-referrer">
<title>Feedback: {e(assignment)} / {e(notebook)} - {e(student)}</title><style>{_STYLE}</style></head>
<body><h1>Feedback: {e(assignment)} / {e(notebook)}</h1>
<p>Student: <b>{e(student)}</b> - {e(score_label)}: <b>{score:g} / {max_score:g}</b> - status: <b>{e(status)}</b></p>
{'<ul class="notes">' + notes_html + '</ul>' if notes else ''}
<table class="scores"><tr><th>cell</th><th>points</th><th>result</th></tr>{''.join(rows)}</table>
<hr>
{chr(10).join(body)}
</body></html>
"""
