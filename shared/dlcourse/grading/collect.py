"""Collect submissions into ``submitted/<student_id>/<assignment_id>/<notebook>.ipynb``.

Two sources:

* the **nbgrader exchange** (``<exchange>/<course_id>/inbound/<student>+<assignment>+<timestamp>[+<random>]/``):
  the latest submission of each student and assignment is taken, with its ``timestamp.txt``;
* a **folder of uploads** (students on Colab download the ``.ipynb`` and upload it to the
  LMS): the student comes from ``--pattern`` (a regex with a ``student`` group), from a
  sub-folder per student, or from the file name matched against a ``--roster``; the
  assignment from the notebook's nbgrader cell ids (compared with ``solutions/``), else from
  the file name, else ``--assignment``. Several files for the same notebook: the newest wins.

Every file ends up in the report (``collected``, ``superseded``, ``skipped`` or ``unmatched``
with the reason), printed and written as CSV. Symbolic links are never followed.

Hub (exchange) submissions keep nbgrader's ``timestamp.txt`` and ``submission_secret.txt``:
``nbgrader release_feedback`` needs both, and ``autograde`` files the feedback of a submission
with a secret under ``feedback/`` (released through the exchange), that of an upload under
``feedback_uploads/`` (handed back through the LMS). An upload never replaces a hub submission
of the same student and assignment already in the output folder (it is ``skipped``).
"""
from __future__ import annotations

import csv
import json
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["Item", "course_cells", "collect_exchange", "collect_uploads", "write_collected", "cli_collect"]

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


@dataclass
class Item:
    """One file seen by collect and what became of it."""

    path: Path
    status: str = "unmatched"  # collected | superseded | skipped | unmatched
    student: str = ""
    assignment: str = ""
    notebook: str = ""
    reason: str = ""
    mtime: float = 0.0
    timestamp: str = ""
    secret: str = ""  # nbgrader's submission_secret.txt (exchange submissions only)


def course_cells(root: Path) -> dict[str, dict[str, set[str]]]:
    """assignment -> notebook stem -> grade_ids, from ``root/solutions``."""
    out: dict[str, dict[str, set[str]]] = {}
    sol = root / "solutions"
    for d in sorted(p for p in sol.iterdir() if p.is_dir()) if sol.is_dir() else []:
        for nb_path in sorted(d.glob("*.ipynb")):
            nb = nbformat.read(nb_path, as_version=4)
            ids = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
            out.setdefault(d.name, {})[nb_path.stem] = {i for i in ids if i}
    return out


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _roster(path: Path) -> dict[str, str]:
    """alias (normalized) -> student_id, from a CSV with student_id and optional name/email/aliases."""
    aliases: dict[str, str] = {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "student_id" not in rows[0]:
        raise ValueError(f"{path}: the roster needs a 'student_id' column (optional: name, email, aliases)")
    for r in rows:
        sid = (r.get("student_id") or "").strip()
        if not _ID_RE.match(sid):
            raise ValueError(f"{path}: invalid student_id {sid!r}")
        names = [sid, r.get("email", ""), (r.get("email") or "").split("@")[0], r.get("name", "")]
        name = (r.get("name") or "").split()
        if len(name) >= 2:
            names += [" ".join(reversed(name)), name[0] + name[-1], name[-1] + name[0]]
        names += [a for a in re.split(r"[;|]", r.get("aliases") or "")]
        for n in names:
            key = _norm(n)
            if key:
                if aliases.get(key, sid) != sid:
                    aliases[key] = ""  # ambiguous alias: used by two students
                else:
                    aliases[key] = sid
    return aliases


def _notebook_ids(path: Path) -> set[str] | None:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
        cells = data.get("cells") if isinstance(data, dict) else None
        if not isinstance(cells, list):
            return None
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    ids = set()
    for c in cells:
        if isinstance(c, dict) and isinstance(c.get("metadata"), dict):
            nbg = c["metadata"].get("nbgrader")
            if isinstance(nbg, dict) and isinstance(nbg.get("grade_id"), str):
                ids.add(nbg["grade_id"])
    return ids


def _which_assignment(item: Item, cells: dict[str, dict[str, set[str]]], stem_text: str,
                      forced: str | None) -> str | None:
    ids = _notebook_ids(item.path)
    if ids is None:
        item.reason = "not a readable notebook (graded as malformed)"
    best = []
    if ids:
        scores = {(a, n): len(ids & g) for a, nbs in cells.items() for n, g in nbs.items()}
        top = max(scores.values(), default=0)
        best = [k for k, v in scores.items() if v == top and v > 0]
    if len(best) == 1:
        a, n = best[0]
        if forced and a != forced:
            item.reason = f"its cells are those of {a}, not {forced}"
            return None
        item.notebook = n
        return a
    key = _norm(stem_text)
    by_name = [a for a in cells if _norm(a) in key] or [a for a, nbs in cells.items() if any(_norm(n) in key for n in nbs)]
    if forced:
        if by_name and forced not in by_name:
            item.reason = f"its name says {by_name[0]}, not {forced}"
            return None
        return forced
    if len(by_name) == 1:
        return by_name[0]
    item.reason = "cannot tell which assignment it is (no nbgrader cell ids, no assignment id in its name)"
    return None


def _which_notebook(item: Item, cells: dict[str, dict[str, set[str]]], stem_text: str) -> str | None:
    nbs = cells[item.assignment]
    if item.notebook in nbs:
        return item.notebook
    if len(nbs) == 1:
        return next(iter(nbs))
    key = _norm(stem_text)
    hits = [n for n in nbs if _norm(n) in key]
    if len(hits) == 1:
        return hits[0]
    item.reason = f"cannot tell which notebook of {item.assignment} it is ({', '.join(sorted(nbs))})"
    return None


def collect_uploads(uploads: Path, root: Path, *, roster: Path | None = None, pattern: str | None = None,
                    assignment: str | None = None) -> list[Item]:
    """Match every ``.ipynb`` under ``uploads`` to (student, assignment, notebook).

    Args:
        uploads: the folder of uploaded notebooks (e.g. downloaded from Colab or an LMS).
        root: the course root (its assignments and notebook names).
        roster: CSV with a ``student_id`` column (and optional name/email/aliases) to match names on.
        pattern: a regex with ``(?P<student>...)`` [and ``(?P<assignment>...)``] matched on file names.
        assignment: what the files are when they do not say.

    Returns:
        One item per file: matched, or with the reason it was not.

    Raises:
        ValueError: ``uploads`` does not exist, ``assignment`` is not one of the course's, or
            ``pattern`` has no ``(?P<student>...)`` group.
    """
    if not uploads.is_dir():
        raise ValueError(f"uploads folder {uploads} does not exist")
    cells = course_cells(root)
    if assignment and assignment not in cells:
        raise ValueError(f"unknown assignment {assignment!r}: the course has {', '.join(cells) or 'none'}")
    aliases = _roster(roster) if roster else None
    rx = re.compile(pattern) if pattern else None
    if rx and "student" not in rx.groupindex:
        raise ValueError("--pattern needs a named group (?P<student>...)")
    items: list[Item] = []
    for path in sorted(uploads.rglob("*")):
        rel = path.relative_to(uploads)
        if ".ipynb_checkpoints" in rel.parts or any(p.startswith(".") for p in rel.parts) or path.is_dir():
            continue
        item = Item(path)
        items.append(item)
        if path.is_symlink() or not path.is_file():
            item.reason = "not a regular file (symbolic link?)"
            continue
        if path.suffix.lower() != ".ipynb":
            item.reason = "not a .ipynb file"
            continue
        item.mtime = path.stat().st_mtime
        sid = None
        if rx:
            m = rx.search(rel.as_posix())
            if not m:
                item.reason = "the file name does not match --pattern"
                continue
            sid = m.group("student")
            if "assignment" in rx.groupindex and m.group("assignment"):
                if m.group("assignment") not in cells:
                    item.reason = f"--pattern found assignment {m.group('assignment')!r}, which the course does not have"
                    continue
                item.assignment = m.group("assignment")
        elif len(rel.parts) > 1:
            sid = rel.parts[0]
        if aliases is not None:
            if sid is not None and (aliases.get(_norm(sid)) or sid in aliases.values()):
                sid = aliases.get(_norm(sid)) or sid
            elif sid is not None and rx:
                item.reason = f"student {sid!r} is not in the roster"
                continue
            else:  # the LMS's names: "Jane Doe_1234_assignsubmission_file_/a1.ipynb", "doejane_1234_a1.ipynb"
                where = " ".join([*rel.parts[:-1], path.stem])
                tokens = [t for t in re.split(r"[^A-Za-z0-9@.]+", where) if t]
                cands = {aliases[_norm(t)] for t in tokens if aliases.get(_norm(t))}
                for i in range(len(tokens) - 1):  # "Jane Doe", "doe_jane"
                    pair = aliases.get(_norm(tokens[i] + tokens[i + 1]))
                    if pair:
                        cands.add(pair)
                if len(cands) != 1:
                    item.reason = ("no roster entry (student id, name, e-mail or alias) in the file or folder name"
                                   if not cands else
                                   f"the file name matches several students: {', '.join(sorted(cands))}")
                    continue
                sid = cands.pop()
        if sid is None:
            item.reason = ("cannot tell whose it is (Colab names every download after the notebook): "
                           "give --roster (the LMS puts the student's name in the file name), "
                           "a folder per student, or --pattern")
            continue
        if not _ID_RE.match(sid):
            item.reason = f"{sid!r} is not a valid student id"
            continue
        item.student = sid
        stem_text = rel.as_posix()
        if not item.assignment:
            a = _which_assignment(item, cells, stem_text, assignment)
            if a is None:
                continue
            item.assignment = a
        nb = _which_notebook(item, cells, stem_text)
        if nb is None:
            continue
        item.notebook = nb
        item.status = "collected"
    _resolve_duplicates(items)
    return items


def _resolve_duplicates(items: list[Item]) -> None:
    groups: dict[tuple[str, str, str], list[Item]] = {}
    for it in items:
        if it.status == "collected":
            groups.setdefault((it.student, it.assignment, it.notebook), []).append(it)
    for group in groups.values():
        if len(group) > 1:
            group.sort(key=lambda it: (it.timestamp, it.mtime, str(it.path)))
            for it in group[:-1]:
                it.status = "superseded"
                it.reason = f"a newer file for the same notebook was taken: {group[-1].path.name}"


def collect_exchange(exchange: Path, course_id: str | None, root: Path, *, assignment: str | None = None) -> list[Item]:
    """The latest exchange submission of each student and assignment.

    Args:
        exchange: the nbgrader exchange root (holds ``<course_id>/inbound/``).
        course_id: the nbgrader course id (default: the only course in the exchange).
        root: the course root.
        assignment: only this assignment.

    Returns:
        One item per notebook of each latest submission.

    Raises:
        ValueError: the exchange has no inbound folder for the course.
    """
    inbound = exchange / course_id / "inbound" if course_id else exchange
    if not inbound.is_dir():
        raise ValueError(f"no inbound folder {inbound} (give --exchange ROOT --course-id ID)")
    cells = course_cells(root)
    items: list[Item] = []
    for sub in sorted(inbound.iterdir()):
        parts = sub.name.split("+")
        if sub.is_symlink() or not sub.is_dir() or len(parts) < 3:
            it = Item(sub, reason="not an nbgrader submission folder (student+assignment+timestamp)")
            items.append(it)
            continue
        sid, aid, ts = parts[0], parts[1], parts[2]
        if assignment and aid != assignment:
            continue
        tsf = sub / "timestamp.txt"
        if tsf.is_file() and not tsf.is_symlink():
            ts = tsf.read_text(errors="replace").strip()[:100] or ts
        secret = ""
        sf = sub / "submission_secret.txt"
        if sf.is_file() and not sf.is_symlink() and sf.stat().st_size < 4096:
            secret = sf.read_text(errors="replace").strip()
        for nb_path in sorted(sub.glob("*.ipynb")):
            it = Item(nb_path, student=sid, assignment=aid, timestamp=ts, mtime=nb_path.lstat().st_mtime,
                      secret=secret)
            items.append(it)
            if not _ID_RE.match(sid):
                it.reason = f"{sid!r} is not a valid student id"
            elif aid not in cells:
                it.reason = f"unknown assignment {aid!r}"
            elif nb_path.is_symlink() or not nb_path.is_file():
                it.reason = "not a regular file (symbolic link?)"
            elif nb_path.stem not in cells[aid]:
                it.reason = f"{nb_path.name} is not a notebook of {aid}"
            else:
                it.notebook = nb_path.stem
                it.status = "collected"
    _resolve_duplicates(items)
    return items


def write_collected(items: list[Item], out: Path, report: Path) -> dict[str, int]:
    """Copy collected files to ``out/<student>/<assignment>/<notebook>.ipynb``; write the CSV report.

    An upload (an item without nbgrader's submission secret) is ``skipped`` when the folder
    already holds a hub submission of that student (its ``submission_secret.txt``): the hub's is
    graded and its feedback released through the exchange.

    Args:
        items: what :func:`collect_uploads` or :func:`collect_exchange` found.
        out: the submissions folder to fill.
        report: the CSV report to write (one row per item and what became of it).

    Returns:
        How many items ended in each state (the report's status column).
    """
    out.mkdir(parents=True, exist_ok=True)
    for it in items:
        if it.status != "collected":
            continue
        dst = out / it.student / it.assignment
        if not it.secret and (dst / "submission_secret.txt").exists():
            it.status = "skipped"
            it.reason = (f"{dst} holds {it.student}'s hub submission (from the exchange): that one is graded; "
                         f"remove the folder to grade this upload instead")
            continue
        dst.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(it.path, dst / f"{it.notebook}.ipynb")
        if it.timestamp:
            (dst / "timestamp.txt").write_text(it.timestamp + "\n")
        if it.secret:
            (dst / "submission_secret.txt").write_text(it.secret)
    report.parent.mkdir(parents=True, exist_ok=True)
    with report.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["file", "status", "student_id", "assignment", "notebook", "reason"])
        for it in items:
            w.writerow([str(it.path), it.status, it.student, it.assignment, it.notebook, it.reason])
    counts: dict[str, int] = {}
    for it in items:
        counts[it.status] = counts.get(it.status, 0) + 1
    return counts


def cli_collect(args, root: Path) -> int:
    if args.exchange:
        items = collect_exchange(args.exchange, args.course_id, root, assignment=args.assignment)
    else:
        items = collect_uploads(args.uploads, root, roster=args.roster, pattern=args.pattern,
                                assignment=args.assignment)
    report = args.out / ".collect-report.csv"
    counts = write_collected(items, args.out, report)
    for it in items:
        if it.status != "collected":
            print(f"{it.status.upper():<10} {it.path}: {it.reason}")
    print(f"collected {counts.get('collected', 0)}, superseded {counts.get('superseded', 0)}, "
          f"skipped {counts.get('skipped', 0)}, unmatched {counts.get('unmatched', 0)}; report: {report}")
    if items and not counts.get("collected") and counts.get("unmatched"):
        whose = [it for it in items if it.reason.startswith(("cannot tell whose", "no roster entry"))]
        cause = (f"none of the {len(whose)} notebook(s) says whose it is" if whose else
                 "no file could be matched (reasons above)")
        hint = ("give --roster roster.csv (student_id,name,email) and keep the names the LMS gives the files "
                "(they contain the student's name), or a folder per student" if whose and not args.roster else
                "see the reasons above and " + str(report))
        print(f"error: nothing collected: {cause}. Next step: {hint}", file=sys.stderr)
        return 1
    return 1 if args.strict and counts.get("unmatched") else 0
