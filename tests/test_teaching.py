"""Teaching rules that can be checked on the source notebooks (DESIGN.md §5).

* "Check yourself" questions: each question's answer sits in an HTML ``<details>`` block
  (with a ``<summary>``) so it stays hidden until the student opens it. At least ten per
  lecture, and every ``## `` section of a lecture ends with at least one, except the
  framing sections named in ``FRAMING`` (setup, summary, references, what comes next).
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from dlcourse.course.conventions import QUESTION_RE, count_questions, lectures

ROOT = Path(__file__).resolve().parents[1]
FRAMING = re.compile(r"^##\s+(\d+\.\s*)?(setup|summary|recap|references|further reading|what comes next|what's next|next)\b",
                     re.IGNORECASE)
DETAILS = QUESTION_RE


def _sections(nb) -> list[tuple[str, str]]:
    """(heading, all markdown text of the section) for each ``## `` section, in order."""
    out: list[tuple[str, list[str]]] = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            if line.startswith("## "):
                out.append((line.strip(), []))
        if out:
            out[-1][1].append(cell.source)
    return [(h, "\n".join(parts)) for h, parts in out]


@pytest.mark.parametrize("path", lectures(ROOT), ids=lambda p: p.name)
def test_lecture_has_ten_check_yourself_questions(path):
    nb = nbformat.read(path, as_version=4)
    n = count_questions(nb)
    assert n >= 10, f"{path.name}: {n} 'check yourself' questions (<details><summary>…</summary>…</details>), need at least 10"


@pytest.mark.parametrize("path", lectures(ROOT), ids=lambda p: p.name)
def test_every_section_ends_with_a_question(path):
    nb = nbformat.read(path, as_version=4)
    missing = [h for h, text in _sections(nb) if not FRAMING.match(h) and not DETAILS.search(text)]
    assert not missing, f"{path.name}: sections without a 'check yourself' question: {missing}"


def test_details_blocks_are_well_formed():
    """An unclosed <details> hides the rest of the notebook in JupyterLab and on the site."""
    bad = []
    for path in lectures(ROOT):
        nb = nbformat.read(path, as_version=4)
        for i, c in enumerate(nb.cells):
            if c.cell_type != "markdown":
                continue
            opened = len(re.findall(r"<details>", c.source, re.IGNORECASE))
            closed = len(re.findall(r"</details>", c.source, re.IGNORECASE))
            if opened != closed or opened != len(DETAILS.findall(c.source)):
                bad.append(f"{path.name} cell {i}")
    assert not bad, f"unbalanced <details>/<summary> blocks: {bad}"


def test_counters_on_a_made_notebook():
    """count_questions counts closed <details> answers only; count_figures counts shown images."""
    from dlcourse.course.conventions import count_figures
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("Q1 <details><summary>Answer</summary>7×7</details>\n"
                                      "Q2 <details><summary>Answer</summary>18</details>"),
        nbformat.v4.new_markdown_cell("<details>an unclosed block"),
        nbformat.v4.new_code_cell("fig"),
    ]
    nb.cells[2].outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"}),
        nbformat.v4.new_output("stream", name="stdout", text="image/png\n"),
        nbformat.v4.new_output("execute_result", data={"text/plain": "3"}, execution_count=1),
    ]
    assert count_questions(nb) == 2
    assert count_figures(nb) == 1
