"""The FSDD figures of the README and of lecture 6 come from bench/results/audio_fsdd.json (no drifting prose).

``bench/audio_fsdd.py --json-out bench/results/audio_fsdd.json`` writes the file (standard split,
leave-one-speaker-out, the ablation); these tests hold the README's rows and lecture 6 to it, and
the file to the current default recipe.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from dlcourse.audio.recipe import Recipe

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "audio_fsdd.json"

#: every lever the issue names, as the ablation rows spell it
LEVERS = ("peak level", "log floor", "utterance norm", "VTLP", "frame shift", "mixup", "SpecAugment", "noise in the cache",
          "speed in the cache", "time shift in the cache", "test-time", "ensemble", "max pool over time",
          "label smoothing", "deltas")


@pytest.fixture(scope="module")
def results() -> dict:
    assert RESULTS.is_file(), f"{RESULTS} is missing: run bench/audio_fsdd.py ... --json-out {RESULTS}"
    return json.loads(RESULTS.read_text())


def _readme_row(start: str) -> str:
    rows = [line for line in (ROOT / "README.md").read_text().splitlines() if line.startswith(start)]
    assert len(rows) == 1, f"README should have one row starting {start!r}, found {len(rows)}"
    return rows[0]


def test_results_are_for_the_current_default_recipe(results, audio_fsdd_bench):
    assert results["recipe"] == json.loads(json.dumps(Recipe().to_dict())), (
        "bench/results/audio_fsdd.json was measured with another default recipe: rerun the bench")
    for name, c in results.get("confirm", {}).items():   # each --confirm row is that row of today's bench, full length
        want = audio_fsdd_bench.confirm_rows(Recipe())[name]
        assert c["recipe"] == json.loads(json.dumps(want.to_dict())), f"confirm row {name!r}: rerun with --confirm"
        assert set(c["over_seeds"]["per_speaker"]) == {"jackson", "nicolas", "theo", "yweweler"}, name
    assert set(results["loso"]["per_speaker"]) == {"jackson", "nicolas", "theo", "yweweler"}
    accs = {s: v["accuracy"] for s, v in results["loso"]["per_speaker"].items()}
    assert results["loso"]["mean"] == pytest.approx(sum(accs.values()) / len(accs))
    assert results["loso"]["worst"] == min(accs.values())


def test_ablation_has_every_lever_both_ways_or_says_which_rows_are_missing(results, audio_fsdd_bench):
    """The bench's table has a row for every lever; the file has each row, or lists it as not measured."""
    ab = results["ablation"]
    planned = list(audio_fsdd_bench.ablation_rows(Recipe(), ab["epochs"]))
    for lever in LEVERS:
        assert any(lever in name for name in planned), f"bench/audio_fsdd.py has no ablation row for {lever!r}"
    rows = ab["rows"]
    assert "old baseline" in rows and "default recipe" in rows
    assert ab.get("missing", []) == [n for n in planned if n not in rows], "the file's 'missing' list is stale"
    if ab.get("missing"):
        readme = _readme_row("| FSDD ablation")
        for name in ab["missing"]:
            assert name in readme.split("not measured")[-1], f"README must say that {name!r} was not measured"
    for name, row in rows.items():
        assert set(row["per_speaker"]) == {"jackson", "nicolas", "theo", "yweweler"}, name
        assert row["worst"] == min(row["per_speaker"].values()), name
        assert row["recipe"]["max_epochs"] == results["ablation"]["epochs"], name


def test_readme_rows_match_the_results_file(results):
    std, loso = results["standard"], results["loso"]
    row = _readme_row("| FSDD spoken digits, standard split")
    assert f"{100 * std['accuracy']:.2f} %" in row, f"README standard split should say {100 * std['accuracy']:.2f} %"
    assert f"{std['n_params']:,} parameters" in row
    row = _readme_row("| FSDD leave-one-speaker-out")
    assert f"mean {100 * loso['mean']:.2f} %" in row, f"README LOSO mean should be {100 * loso['mean']:.2f} %"
    assert f"worst speaker {loso['worst_speaker']} {100 * loso['worst']:.1f} %" in row
    for spk, v in loso["per_speaker"].items():
        assert f"{spk} {100 * v['accuracy']:.1f} %" in row, f"README LOSO row: {spk} should be {100 * v['accuracy']:.1f} %"
    seeds = results.get("loso_over_seeds")
    if seeds:   # bench --extra-seeds: the README gives the seed-averaged figures and says whether the target holds
        w = seeds["per_speaker"][seeds["worst_speaker"]]["by_seed"]
        assert f"{seeds['worst_speaker']} " + " / ".join(f"{100 * a:.1f}" for a in w.values()) + " %" in row
        assert f"seed-averaged {100 * seeds['worst']:.1f} %" in row
        assert f"seed-averaged LOSO mean {100 * seeds['mean']:.2f} %" in row
        assert ("worst-speaker target is not met" in row) == (seeds["worst"] < 0.88), \
            "the README must say whether the seed-averaged worst speaker meets its 88 % target"
        for name, c in results.get("confirm", {}).items():   # bench --confirm: an ablation row at full length
            o = c["over_seeds"]
            assert o["seeds"] == seeds["seeds"], f"confirm row {name!r} ran with other seeds than the LOSO section"
            text = (f"{name} (trained as long as the default, same seeds): seed-averaged mean {100 * o['mean']:.2f} %, "
                    f"worst {o['worst_speaker']} {100 * o['worst']:.1f} %")
            assert text in row, f"README LOSO row should say: {text}"
    row = _readme_row("| FSDD ablation")
    found = 0
    for name, r in results["ablation"]["rows"].items():
        m = re.search(re.escape(name) + r" (\d+\.\d) / (\d+\.\d) %", row)
        if m:
            assert (float(m.group(1)), float(m.group(2))) == (round(100 * r["mean"], 1), round(100 * r["worst"], 1)), \
                f"README ablation: {name} should be {100 * r['mean']:.1f} / {100 * r['worst']:.1f} %"
            found += 1
    assert found >= 2, "the README ablation row should give at least the old baseline and the default recipe"


def test_lecture_6_shows_the_results_file_and_types_no_fsdd_number():
    nb = nbformat.read(ROOT / "lectures" / "06_audio_spectrograms.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert '"audio_fsdd.json"' in code and 'fsdd["ablation"]["rows"]' in code
    if RESULTS.is_file():
        r = json.loads(RESULTS.read_text())
        prose = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        for value in [r["loso"]["mean"], r["loso"]["worst"], r["standard"]["accuracy"]]:
            for text in (f"{100 * value:.1f} %", f"{100 * value:.1f}%", f"{100 * value:.2f}"):
                assert text not in prose, f"lecture 6 types the FSDD figure {text} in prose: print it from the file"
