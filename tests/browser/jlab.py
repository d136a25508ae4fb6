"""Drive a real JupyterLab in Debian's Chromium with Playwright (used by tests/browser and tests/hub).

* :func:`chromium_path` finds the browser, or says why there is none; :func:`require_chromium`
  turns that into a pytest skip, or a failure in CI (``CI=true``), where the browser must be there.
* :class:`LabServer` starts ``jupyter lab`` on a free loopback port with a random token, an
  isolated config/runtime/settings/workspace folder and ``window.jupyterapp`` exposed, and stops it.
* :func:`launch_browser` starts Chromium (never Playwright's own browser download) with a fresh
  user-data directory.
* :class:`Notebook` wraps a notebook page: run all cells through the Run menu, wait until the
  kernel is done, read the outputs of the in-browser model, report error outputs.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

__all__ = [
    "ROOT",
    "SCREENSHOTS",
    "chromium_path",
    "require_chromium",
    "free_port",
    "wait_http",
    "LabServer",
    "launch_browser",
    "Notebook",
    "CellOutcome",
    "NotebookErrors",
    "screenshot",
    "in_ci",
    "fill_solutions",
    "visible_test_cells",
    "widget_cells",
    "output_signature",
    "move_slider",
]


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def chromium_path() -> tuple[str | None, str]:
    """Return ``(path, "")`` of a usable Chromium, or ``(None, reason)``.

    ``DLCOURSE_CHROMIUM`` overrides the search (a path to a Chromium/Chrome binary).
    """
    cands = [os.environ["DLCOURSE_CHROMIUM"]] if os.environ.get("DLCOURSE_CHROMIUM") else list(CHROMIUM_CANDIDATES)
    for c in cands:
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c, ""
    return None, (f"no Chromium at {', '.join(cands)}: install Debian's browser with "
                  "`bash tools/sysdeps-browser.sh` (root) or `sudo apt-get install chromium`, "
                  "or set DLCOURSE_CHROMIUM=/path/to/chromium")


def require_chromium() -> str:
    """The Chromium path; skips the calling test when no browser can be had, fails in CI."""
    import pytest

    path, reason = chromium_path()
    if path is not None:
        try:
            import playwright  # noqa: F401
        except ImportError:
            path, reason = None, "the Python package 'playwright' is not installed (pip install -r requirements-lock.txt)"
    if path is None:
        if in_ci():
            pytest.fail(f"CI=true, so the browser tests must run, but no browser can be had: {reason}",
                        pytrace=False)
        pytest.skip(f"no browser can be had: {reason}")
    return path


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, *, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None,
              headers: Mapping[str, str] | None = None) -> None:
    """Wait until ``url`` answers (any HTTP status below 500); raise with the log tail if not."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"the server exited with code {proc.returncode} before {url} answered:\n{tail}")
        try:
            req = urllib.request.Request(url, headers=dict(headers or {}))
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status < 500:
                    return
        except urllib.error.HTTPError as e:
            if e.code < 500:
                return
            last = f"HTTP {e.code}"
        except (urllib.error.URLError, OSError) as e:
            last = str(e)
        time.sleep(0.3)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last}):\n{tail}")


# JupyterLab user settings that make a page deterministic for a test: every cell in the DOM
# (no virtual scrolling), no news/update toasts over the notebook.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


def _stop_process_group(proc: subprocess.Popen, timeout: float = 10) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


@dataclass
class LabServer:
    """A JupyterLab server on 127.0.0.1 serving ``root_dir``, isolated in ``state_dir``.

    Use as a context manager. ``env`` adds variables for the server and its kernels (e.g.
    ``DLCOURSE_FAST``); ``nbgrader_config`` is written as ``nbgrader_config.py`` into the
    server's Jupyter config folder (where the nbgrader extensions read it).
    """

    root_dir: Path
    state_dir: Path
    env: Mapping[str, str] | None = None
    nbgrader_config: str | None = None
    startup_timeout: float = 120.0

    def __post_init__(self) -> None:
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(self.state_dir) / "jupyterlab.log"

    def start(self) -> LabServer:
        state = Path(self.state_dir)
        cfg, run, settings, ws = (state / n for n in ("config", "runtime", "settings", "workspaces"))
        for d in (cfg, run, settings, ws):
            d.mkdir(parents=True, exist_ok=True)
        for name, value in LAB_SETTINGS.items():
            plugin_dir, _, fname = name.rpartition("/")
            (settings / plugin_dir).mkdir(parents=True, exist_ok=True)
            (settings / plugin_dir / fname).write_text(json.dumps(value))
        if self.nbgrader_config:
            (cfg / "nbgrader_config.py").write_text(self.nbgrader_config)
        env = dict(os.environ)
        # Kernels must use the inline backend (figures in the page), not a test's Agg.
        env.pop("MPLBACKEND", None)
        env.update({"JUPYTER_CONFIG_DIR": str(cfg), "JUPYTER_RUNTIME_DIR": str(run),
                    "JUPYTER_PLATFORM_DIRS": "1", "PYTHONUNBUFFERED": "1"})
        env.update(self.env or {})
        bindir = str(Path(sys.executable).parent)
        env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
        cmd = [
            sys.executable, "-m", "jupyterlab",
            "--no-browser", "--ip=127.0.0.1", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
            "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={settings}",
            f"--LabApp.workspaces_dir={ws}", "--LabApp.news_url=", "--ServerApp.terminals_enabled=False",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # CI and the course's test machines run as root
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.root_dir, env=env, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        try:
            wait_http(f"{self.url}/api/status?token={self.token}", timeout=self.startup_timeout,
                      proc=self.proc, log=self.log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None:
            _stop_process_group(self.proc)
            self.proc = None

    def __enter__(self) -> LabServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def lab_url(self, path: str = "") -> str:
        """URL opening ``path`` (relative to ``root_dir``) in JupyterLab, logged in by the token."""
        tree = f"/tree/{path}" if path else ""
        return f"{self.url}/lab{tree}?reset&token={self.token}"

    def log_tail(self, n: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-n:] if self.log_path.exists() else ""


_PLAYWRIGHT = None


def _playwright():
    """One Playwright driver per process (the sync API cannot run two at once), stopped at exit."""
    global _PLAYWRIGHT
    if _PLAYWRIGHT is None:
        import atexit

        from playwright.sync_api import sync_playwright

        _PLAYWRIGHT = sync_playwright().start()
        atexit.register(_PLAYWRIGHT.stop)
    return _PLAYWRIGHT


@contextlib.contextmanager
def launch_browser(executable: str, *, viewport: tuple[int, int] = (1400, 1000)) -> Iterator:
    """Yield a Playwright browser context of Debian's Chromium with a fresh user-data folder.

    Each call starts its own Chromium (own profile, own cookies); they share the driver.
    """
    user_data = tempfile.mkdtemp(prefix="dlcourse-chromium-")
    try:
        ctx = _playwright().chromium.launch_persistent_context(
            user_data, executable_path=executable, headless=True, args=list(CHROMIUM_FLAGS),
            viewport={"width": viewport[0], "height": viewport[1]},
        )
        ctx.set_default_timeout(60_000)
        try:
            yield ctx
        finally:
            ctx.close()
    finally:
        shutil.rmtree(user_data, ignore_errors=True)


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as ``build/screenshots/<name>.png`` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass
class CellOutcome:
    """What one code cell of the notebook open in the page holds after a run."""

    index: int
    source: str
    execution_count: int | None
    errors: list[str]


class NotebookErrors(AssertionError):
    """A notebook run in the browser left error outputs, or cells that never ran."""


# JavaScript run in the page: the current notebook panel of the exposed JupyterLab app.
_JS_PANEL = """() => { const a = window.jupyterapp; const w = a && a.shell ? a.shell.currentWidget : null;
  return !!(w && w.content && w.content.model && w.sessionContext); }"""
_JS_CELLS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const out = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i).toJSON();
    if (c.cell_type !== 'code') continue;
    const src = Array.isArray(c.source) ? c.source.join('') : c.source;
    const errors = (c.outputs || []).filter(o => o.output_type === 'error')
      .map(o => o.ename + ': ' + o.evalue);
    out.push({index: i, source: src, execution_count: c.execution_count, errors: errors});
  }
  return out;
}"""
_JS_IDLE = """() => { const w = window.jupyterapp?.shell?.currentWidget;
  const k = w?.sessionContext?.session?.kernel; return !!k && k.status === 'idle'; }"""
_JS_BUSY = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const status = kernel ? kernel.status : 'none';
  const running = Array.from(panel.node.querySelectorAll('.jp-InputArea-prompt'))
      .some(p => p.textContent.includes('*'));
  return {status: status, running: running};
}"""


class Notebook:
    """A notebook opened in JupyterLab in ``page`` (``page.goto(server.lab_url(path))``)."""

    def __init__(self, page, server: LabServer, path: str, *, timeout: float = 120.0):
        self.page, self.server, self.path = page, server, path
        page.goto(server.lab_url(path))
        page.wait_for_function(_JS_PANEL, timeout=timeout * 1000)
        page.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=timeout * 1000)
        # Wait for the kernel to be started and idle; a notebook without kernel metadata first
        # asks which kernel to use: take the default, as a student would.
        deadline = time.monotonic() + timeout
        while True:
            dialog = page.locator(".jp-Dialog .jp-mod-accept")
            if dialog.count() and dialog.first.is_visible():
                dialog.first.click()
            if page.evaluate(_JS_IDLE):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path}: the kernel was not idle after {timeout:.0f} s:\n{server.log_tail()}")
            page.wait_for_timeout(250)

    def run_all(self, *, timeout: float = 180.0) -> list[CellOutcome]:
        """Run All Cells through the Run menu and wait until the kernel is done; return the cells."""
        page = self.page
        page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        # The run starts asynchronously: wait until the kernel has been idle, with no cell
        # running or queued, for a moment.
        self.wait_idle(timeout=timeout)
        return self.cells()

    def wait_idle(self, *, timeout: float = 180.0) -> None:
        """Wait until the kernel is idle and no cell is running or queued."""
        deadline = time.monotonic() + timeout
        idle_since = None
        while time.monotonic() < deadline:
            state = self.page.evaluate(_JS_BUSY)
            if state["status"] == "idle" and not state["running"]:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > 1.5:
                    return
            else:
                idle_since = None
            self.page.wait_for_timeout(250)
        raise TimeoutError(f"{self.path}: cells still running after {timeout:.0f} s")

    def kernel_execute(self, code: str) -> None:
        """Run ``code`` in the notebook's kernel without touching the notebook (silent request)."""
        self.page.evaluate(
            "async (code) => { const k = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;"
            " await k.requestExecute({code: code, silent: true, store_history: false}).done; }", code)

    def run_cell(self, index: int, *, timeout: float = 180.0) -> CellOutcome:
        """Select cell ``index`` (notebook order, all cells counted) and run it with Shift+Enter."""
        cell = self.page.locator(".jp-Notebook .jp-Cell").nth(index)
        cell.scroll_into_view_if_needed()
        cell.locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Escape")  # command mode: Shift+Enter runs the active cell
        self.page.keyboard.press("Shift+Enter")
        self.page.wait_for_timeout(500)
        self.wait_idle(timeout=timeout)
        return next(c for c in self.cells() if c.index == index)

    def cells(self) -> list[CellOutcome]:
        return [CellOutcome(**c) for c in self.page.evaluate(_JS_CELLS)]

    def assert_ran_cleanly(self, cells: list[CellOutcome] | None = None) -> None:
        """Raise :class:`NotebookErrors` naming the cells with error outputs or that never ran."""
        cells = self.cells() if cells is None else cells
        problems = []
        for c in cells:
            first = c.source.strip().splitlines()[0] if c.source.strip() else ""
            if c.errors:
                problems.append(f"cell {c.index} ({first!r}) raised {'; '.join(c.errors)}")
            elif c.execution_count is None and c.source.strip():
                problems.append(f"cell {c.index} ({first!r}) never ran")
        if problems:
            raise NotebookErrors(f"{self.path}:\n  " + "\n  ".join(problems))


# --- course notebooks --------------------------------------------------------------------------
_MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def _solution_text(source: str) -> str:
    """The student's answer: the source cell's text without nbgrader's solution markers."""
    return "\n".join(ln for ln in source.splitlines() if ln.strip() not in _MARKERS)


def fill_solutions(release_nb: Path, source_nb: Path):
    """The student release ``release_nb`` with every solution cell answered from ``source_nb``.

    Cells are matched by their nbgrader ``grade_id``; hidden tests of the source are not copied
    (only solution cells are). Returns the filled ``nbformat`` notebook.
    """
    import nbformat

    release = nbformat.read(release_nb, as_version=4)
    source = nbformat.read(source_nb, as_version=4)
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
               if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    filled = 0
    for cell in release.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            gid = meta.get("grade_id")
            if gid not in answers:
                raise KeyError(f"{source_nb} has no solution cell {gid!r} for {release_nb}")
            cell.source = _solution_text(answers[gid])
            filled += 1
    if not filled:
        raise ValueError(f"{release_nb} has no solution cells to fill")
    return release


def visible_test_cells(nb) -> set[int]:
    """Indices of the autograded test cells a student sees (graded code cells, not solutions)."""
    out = set()
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            out.add(i)
    return out


# --- ipywidgets ---------------------------------------------------------------------------------
_JS_SIGNATURE = """(cell) => {
  // What a widget's reaction changes: images (figures) and the text of Output/HTML/Label widgets,
  // not the slider's own position or readout.
  const imgs = Array.from(cell.querySelectorAll('.jp-Cell-outputArea img')).map(i => i.src);
  const texts = Array.from(cell.querySelectorAll(
      '.jp-Cell-outputArea .widget-output, .jp-Cell-outputArea .widget-html-content, ' +
      '.jp-Cell-outputArea .widget-label-basic, .jp-Cell-outputArea .jp-RenderedText'))
    .map(e => e.innerText);
  return JSON.stringify([imgs, texts]);
}"""


def widget_cells(page):
    """Locator of the notebook cells whose outputs hold an ipywidgets slider."""
    return page.locator(".jp-Notebook .jp-CodeCell").filter(
        has=page.locator(".jp-Cell-outputArea .jupyter-widgets [role='slider']"))


def output_signature(cell) -> str:
    """A fingerprint of what the widget outputs of ``cell`` (a Playwright locator) show."""
    return cell.evaluate(_JS_SIGNATURE)


def move_slider(page, handle) -> tuple[str, str]:
    """Move a slider handle one step to the right (left when at its maximum), as a user does
    with the keyboard after clicking it; return its value before and after."""
    handle.scroll_into_view_if_needed()
    before = handle.get_attribute("aria-valuenow")
    at_max = before == handle.get_attribute("aria-valuemax")
    handle.click()
    page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
    try:
        page.wait_for_function("([h, v]) => h.getAttribute('aria-valuenow') !== v",
                               arg=[handle.element_handle(), before], timeout=5000)
    except Exception:
        # Fall back to dragging the handle by a tenth of the track.
        box = handle.bounding_box()
        track = handle.locator("xpath=ancestor::div[contains(@class,'noUi-target')]").bounding_box()
        dx = (track["width"] / 10) * (-1 if at_max else 1)
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + dx, y, steps=5)
        page.mouse.up()
    return before, handle.get_attribute("aria-valuenow")
