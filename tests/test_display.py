"""What a student sees: every figure once, no stray matplotlib reprs (executed with nbclient)."""
from __future__ import annotations

import os

import nbformat
import pytest
from nbclient import NotebookClient

from dlcourse.course.conventions import output_problems


def _run(*sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    backend = os.environ.pop("MPLBACKEND", None)  # the kernel uses Jupyter's inline backend, as a student's
    try:
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
    return nb


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.outputs)


@pytest.fixture(scope="module")
def executed():
    return _run(
        # 0-2: dlcourse figures as the cell's value
        "import numpy as np, torch\nfrom dlcourse import plotting, rf_explorer\n"
        "fig = plotting.plot_image_grid(np.random.rand(4, 8, 8), ['a', 'b', 'c', 'd'], title='grid')\nfig",
        "plotting.plot_waveform(torch.randn(800), 8000)",
        "rf_explorer.explorer(static=True)",
        # 3: a dlcourse figure passed to display() and then another cell value
        "from IPython.display import display\ndisplay(plotting.plot_bars(['x', 'y'], [1.0, 2.0], title='t'))\n1 + 1",
        # 4: the classic mistake: a pyplot figure that is also the cell's value
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.plot([1, 2])\nfig",
        # 5: a cell that ends with a Legend object
        "fig, ax = plt.subplots()\nax.plot([1, 2], label='line')\nax.legend()",
        # 6: the fix for both: plt.show()
        "fig, ax = plt.subplots()\nax.plot([1, 2], label='line')\nax.legend()\nplt.show()",
        # 7: plotting.subplots is detached: shown once as the value
        "fig, ax = plotting.subplots()\nax.plot([3, 1])\nfig",
    )


def test_dlcourse_figures_are_shown_once(executed):
    assert [_images(executed.cells[i]) for i in (0, 1, 2, 3)] == [1, 1, 1, 1]
    assert [_images(executed.cells[i]) for i in (6, 7)] == [1, 1]


def test_output_problems_flags_double_figures_and_stray_reprs(executed):
    problems = output_problems(executed)
    assert _images(executed.cells[4]) == 2
    assert any(p.startswith("cell 4:") and "twice" in p for p in problems)
    assert any(p.startswith("cell 5:") and "Legend" in p for p in problems)
    assert not [p for p in problems if not p.startswith(("cell 4:", "cell 5:"))], problems
